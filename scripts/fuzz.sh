#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz/ and runs each for FUZZ_SECONDS
# (default 60). Fails on the first crash, sanitizer report, leak or timeout, and says which input.
# Before fuzzing, each target replays its regression inputs (fuzz/regressions/TARGET/: inputs that
# once found a bug). Seeds: ../shared/corpus and tests/data/detectors.
# Usage: scripts/fuzz.sh [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
targets=(fuzz_request fuzz_header_memo fuzz_body fuzz_raw_stream fuzz_url fuzz_base64 fuzz_hex fuzz_json fuzz_form fuzz_multipart
         fuzz_xml fuzz_compression fuzz_protobuf tls_client_hello_fuzz)
if [ $# -gt 0 ]; then targets=("$@"); fi

CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLEAKGUARD_FUZZ=ON \
  -DLEAKGUARD_TESTS=OFF -DLEAKGUARD_BENCH=OFF -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ > /dev/null
cmake --build build-fuzz -j"${FUZZ_JOBS:-2}" --target "${targets[@]}"

seeds=()
for dir in ../shared/corpus/cases tests/data/detectors/cases tests/data/protobuf/cases; do
  [ -d "$dir" ] && seeds+=("$dir")
done
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for target in "${targets[@]}"; do
  binary=build-fuzz/fuzz/$target
  work=build-fuzz/corpus/$target
  artifacts=build-fuzz/artifacts/$target/
  mkdir -p "$work" "$artifacts"
  if compgen -G "fuzz/regressions/$target/*" > /dev/null; then
    echo "== $target: regression inputs"
    "$binary" -runs=1 fuzz/regressions/"$target"/*
  fi
  echo "== $target: ${seconds}s"
  if ! "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="$artifacts" -print_final_stats=1 "$work" "${seeds[@]}" > "build-fuzz/$target.log" 2>&1; then
    tail -n 60 "build-fuzz/$target.log" >&2
    echo "fuzz.sh: $target failed; the input is in $artifacts (copy it to fuzz/regressions/$target/)" >&2
    exit 1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "build-fuzz/$target.log" | tr '\n' ' '
  echo
done
echo "fuzz.sh: ${#targets[@]} targets, ${seconds}s each, no failures"
