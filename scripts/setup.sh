#!/usr/bin/env bash
# Installs what stickyforensics needs on a fresh Debian machine: system tools (tshark; for the test
# suite also tcpdump, haproxy, nginx, chromium) and a virtualenv in .venv with the package and its deps.
# Usage: scripts/setup.sh [run|test]
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-run}"

need=()
command -v tshark >/dev/null 2>&1 || need+=(tshark)
if [ "$mode" = test ]; then
  command -v tcpdump >/dev/null 2>&1 || need+=(tcpdump)
  command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
  command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
  [ -x /usr/bin/chromium ] || need+=(chromium)
  command -v openssl >/dev/null 2>&1 || need+=(openssl)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  command -v ip >/dev/null 2>&1 || need+=(iproute2)
fi
if [ "${#need[@]}" -gt 0 ]; then
  echo "setup: installing Debian packages: ${need[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
extra=""
[ "$mode" = test ] && extra="[test]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extra}"
# An editable install leaves the package uncompiled, and PYTHONDONTWRITEBYTECODE (set on some
# machines) keeps it so: every run would compile ~100 modules again (0.1 s of each start-up).
.venv/bin/python -m compileall -q stickyforensics >/dev/null || true
