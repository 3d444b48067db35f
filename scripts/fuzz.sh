#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz/ and runs them. Fails on the first
# crash, sanitizer report, leak or timeout, and says which input.
#
#   scripts/fuzz.sh [TARGET...]              short runs (CI): FUZZ_SECONDS each (default 60)
#   scripts/fuzz.sh --long RUNS [TARGET...]  long runs: RUNS executions per target (FUZZ_MAX_SECONDS,
#                                            if set, stops a target earlier and the summary says so),
#                                            then the corpus each grew is minimised (-merge=1) into
#                                            fuzz/corpus/TARGET, to be committed
#   FUZZ_SANITIZERS=undefined scripts/fuzz.sh --long RUNS [TARGET...]
#                                            the same, explored by a UBSan-only build (build-fuzz-undefined/,
#                                            about 1.8 times the executions per second); the
#                                            corpus it leaves is then replayed under ASan + UBSan
#
# Before fuzzing, each target replays its regression inputs (fuzz/regressions/TARGET/: inputs that
# once found a bug). Every run starts from the committed corpus (fuzz/corpus/TARGET/, read only in
# short mode: new inputs go to build-fuzz/corpus/TARGET) and the seeds (../shared/corpus and
# tests/data/detectors). Long mode appends one line per target to BUILD/long-runs.txt:
# executions, seconds, corpus files before and after minimising, findings. Record them in fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
long_runs=""
if [ "${1:-}" = "--long" ]; then
  long_runs=${2:?usage: scripts/fuzz.sh --long RUNS [TARGET...]}
  shift 2
fi
seconds=${FUZZ_SECONDS:-60}
targets=(fuzz_request fuzz_header_memo fuzz_body fuzz_raw_stream fuzz_url fuzz_base64 fuzz_hex fuzz_json fuzz_form fuzz_multipart
         fuzz_xml fuzz_compression fuzz_protobuf fuzz_har tls_client_hello_fuzz fuzz_pcap fuzz_dns)
if [ $# -gt 0 ]; then targets=("$@"); fi

sanitizers=${FUZZ_SANITIZERS:-address,undefined}
configure_and_build() {  # BUILD_DIR SANITIZERS
  mkdir -p "$1"
  # Long runs go two at a time, one invocation per core: the lock keeps them from configuring or
  # linking in the same build directory at once.
  (
    flock 9
    CC=clang CXX=clang++ cmake -S . -B "$1" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLEAKGUARD_FUZZ=ON \
      -DLEAKGUARD_FUZZ_SANITIZERS="$2" -DLEAKGUARD_TESTS=OFF -DLEAKGUARD_BENCH=OFF \
      -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ > /dev/null
    cmake --build "$1" -j"${FUZZ_JOBS:-2}" --target "${targets[@]}"
  ) 9> "$1/fuzz-build.lock"
}
build=build-fuzz
configure_and_build build-fuzz address,undefined  # the flavour every input is judged by
if [ "$sanitizers" != address,undefined ]; then
  build=build-fuzz-${sanitizers//,/-}
  configure_and_build "$build" "$sanitizers"
fi

seeds=()
for dir in ../shared/corpus/cases tests/data/detectors/cases tests/data/protobuf/cases; do
  [ -d "$dir" ] && seeds+=("$dir")
done
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
max_len_of() {  # the longest input a target is given
  case "$1" in
    # Percent-decoding looks three bytes ahead: 4 KiB holds every shape, and the harness walks the
    # offset map nine times, so 64 KiB inputs held it to about 1,000 executions a second.
    fuzz_url) echo 4096 ;;
    *) echo 65536 ;;
  esac
}
for target in "${targets[@]}"; do
  options=(-timeout=10 -rss_limit_mb=2048 -max_len="$(max_len_of "$target")")
  binary=$build/fuzz/$target
  work=$build/corpus/$target
  committed=fuzz/corpus/$target
  artifacts=$build/artifacts/$target/
  mkdir -p "$work" "$committed" "$artifacts"
  if compgen -G "fuzz/regressions/$target/*" > /dev/null; then
    echo "== $target: regression inputs"
    "$binary" -runs=1 fuzz/regressions/"$target"/*
  fi
  if [ -n "$long_runs" ]; then
    limit=(-runs="$long_runs")
    [ -n "${FUZZ_MAX_SECONDS:-}" ] && limit+=(-max_total_time="$FUZZ_MAX_SECONDS")
    echo "== $target: $long_runs executions${FUZZ_MAX_SECONDS:+ (at most ${FUZZ_MAX_SECONDS}s)}"
  else
    limit=(-max_total_time="$seconds")
    echo "== $target: ${seconds}s"
  fi
  started=$SECONDS
  if ! "$binary" "${limit[@]}" "${options[@]}" -artifact_prefix="$artifacts" -print_final_stats=1 \
      "$work" "$committed" "${seeds[@]}" > "$build/$target.log" 2>&1; then
    tail -n 60 "$build/$target.log" >&2
    echo "fuzz.sh: $target failed; the input is in $artifacts (copy it to fuzz/regressions/$target/)" >&2
    exit 1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build/$target.log" | tr '\n' ' '
  echo
  if [ -n "$long_runs" ]; then
    # Minimise what this target grew and had into a fresh corpus: the smallest set of inputs that
    # keeps their coverage. The seeds stay out (every run reads them anyway): no copies of test data.
    executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/$target.log")
    before=$(find "$committed" -type f | wc -l)
    merged=$build/merged/$target
    rm -rf "$merged" && mkdir -p "$merged"
    "$binary" -merge=1 "${options[@]}" "$merged" "$committed" "$work" > "$build/$target.merge.log" 2>&1
    rm -rf "$committed" && mv "$merged" "$committed"
    if [ "$build" != build-fuzz ]; then
      # Explored without ASan: every input kept is run once more under ASan + UBSan.
      if ! build-fuzz/fuzz/"$target" -runs=0 "${options[@]}" -artifact_prefix="$artifacts" "$committed" \
          > "$build/$target.replay.log" 2>&1; then
        tail -n 60 "$build/$target.replay.log" >&2
        echo "fuzz.sh: $target failed its ASan replay of $committed" >&2
        exit 1
      fi
    fi
    after=$(find "$committed" -type f | wc -l)
    bytes=$(du -sb "$committed" | cut -f1)
    echo "$target sanitizers=$sanitizers executions=$executions seconds=$((SECONDS - started))" \
         "corpus_before=$before corpus_after=$after corpus_bytes=$bytes findings=0" | tee -a "$build/long-runs.txt"
  fi
done
echo "fuzz.sh: ${#targets[@]} targets${long_runs:+, long mode}, no failures"
