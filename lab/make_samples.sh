#!/usr/bin/env bash
# Regenerates samples/ from a fresh lab run: runs the curated scenarios with `python -m lab.run`
# (real HAProxy, nginx, tcpdump, Chromium; needs root), then copies each scenario's inputs and
# expected.json to samples/<scenario>/. samples/README.md is kept.
# Usage: lab/make_samples.sh [LAB_OUT_DIR]      (default: a fresh temporary directory)
set -euo pipefail
cd "$(dirname "$0")/.."

python="${PYTHON:-python3}"
[ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && python=.venv/bin/python
out="${1:-$(mktemp -d)/lab}"

curated=(
  healthy_haproxy
  healthy_netscaler_bigip
  missing_cookie_dotfile
  backend_killed_redispatch
  datacenter_flip
  cached_set_cookie
  idle_maxlife_timeout
  noise
  browser_har
)

args=()
for s in "${curated[@]}"; do args+=(--scenario "$s"); done
"$python" -m lab.run --out "$out" "${args[@]}"

for s in "${curated[@]}"; do
  rm -rf "samples/$s"
  mkdir -p "samples/$s"
  # the files expected.json names (inputs, TLS key log) and expected.json itself
  "$python" - "$out/$s" "samples/$s" <<'PY'
import json, shutil, sys
from pathlib import Path
src, dst = Path(sys.argv[1]), Path(sys.argv[2])
doc = json.loads((src / "expected.json").read_text())
for name in [*doc["inputs"], *([doc["tls_keylog"]] if doc.get("tls_keylog") else []), "expected.json"]:
    shutil.copy2(src / name, dst / name)
PY
done

total=$(du -sb samples | cut -f1)
echo "samples/: $total bytes"
if [ "$total" -ge 3000000 ]; then
  echo "samples/ is larger than 3 MB; trim the curated list" >&2
  exit 1
fi
