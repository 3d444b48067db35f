#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a running proxy: installs the packages, builds,
# and starts leakguard (embedded default configuration unless arguments say otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh release
exec build/leakguard run "$@"
