#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running proxy: installs the packages, builds,
# and starts leakguard (embedded default configuration unless arguments say otherwise).
# Everything but leakguard's own output goes to standard error: standard output carries only the
# JSON Lines events (events.path "-"), so `bash scripts/run.sh | jq` works.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh >&2
bash scripts/build.sh release >&2
exec build/leakguard run "$@"
