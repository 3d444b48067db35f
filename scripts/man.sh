#!/usr/bin/env bash
# Renders the man pages from the binary's own help (app/help.cpp), the one source of both:
# leakguard(1) from `leakguard --help`, leakguard-COMMAND(1) from `leakguard COMMAND --help`.
# Usage: scripts/man.sh BINARY OUTDIR. LEAKGUARD_RUNNER runs a foreign binary (an arm64 build:
# "qemu-aarch64 -L SYSROOT"). SOURCE_DATE_EPOCH (set by dpkg) makes the dates reproducible.
set -euo pipefail
binary=$(realpath "$1")
out=$2
runner=${LEAKGUARD_RUNNER:-}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

version=$($runner "$binary" --version | head -n1 | cut -d' ' -f2)
commands=$($runner "$binary" help --commands)
# help2man runs one executable with --help/--version; these wrappers present each command as one.
see_also=$(printf '%s\n' "$commands" | cut -f1 | sed 's/.*/.BR leakguard-&(1)/' | paste -sd'\n' | sed 's/$/,/;$ s/,$//')
printf '[SEE ALSO]\n%s\n' "$see_also" > "$work/see-also.h2m"

render() {  # NAME SUMMARY ARGS...
  local name=$1 summary=$2
  shift 2
  cat > "$work/$name" <<WRAPPER
#!/bin/sh
case "\$1" in
  --version) echo "$name (leakguard) $version" ;;
  *) exec $runner "$binary" $* ;;
esac
WRAPPER
  chmod +x "$work/$name"
  help2man --no-info --section=1 --manual="leakguard manual" --name="$summary" \
    --include="$work/see-also.h2m" --output="$out/$name.1" "$work/$name"
}

render leakguard "catch phones leaking their identifiers" --help
while IFS=$'\t' read -r command summary; do
  render "leakguard-$command" "$summary" "$command" --help
done <<< "$commands"
ls "$out"
