#!/usr/bin/env bash
# Sets up (first run) and analyzes the bundled samples/ as a support engineer would.
# Findings are expected on the samples, so exit code 1 (findings) is a success here; 2 is an error.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh run || exit 2
.venv/bin/stickyforensics analyze samples/ "$@"
rc=$?
[ "$rc" -le 1 ] && exit 0
exit "$rc"
