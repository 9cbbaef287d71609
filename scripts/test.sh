#!/usr/bin/env bash
# Sets up (first run) and runs every check: ruff, mypy, and the whole pytest suite
# (unit, property, tshark agreement, the real HAProxy/nginx/Chromium lab, HTML in Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
echo "== ruff" && .venv/bin/ruff check stickyforensics tests lab bench && .venv/bin/ruff format --check stickyforensics tests lab bench
echo "== mypy" && .venv/bin/mypy stickyforensics
echo "== pytest" && .venv/bin/python -m pytest -q "$@"
