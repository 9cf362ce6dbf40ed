#!/usr/bin/env bash
# Host speed of the opencl level (PoCL's CPU device here) against csim (the same
# HLS C compiled by gcc -O2) and ref (the golden C): wall time of one GEMM
# descriptor after a warm-up run, and the cost of PoCL's kernel compile.
# Writes bench/results/opencl.md.
set -euo pipefail
cd "$(dirname "$0")/.."
make -j2 build/sparq build/bench_levels >/dev/null
export POCL_CACHE_DIR=$PWD/build/pocl-cache
cold=$(mktemp -d)
secs() { local t0=$EPOCHREALTIME; "$@" >/dev/null; awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }
# `sparq gemm` end to end: opens the level (PoCL builds both units' programs),
# runs the kernel once (PoCL generates its machine code at the first launch)
cold_s=$(POCL_CACHE_DIR=$cold secs build/sparq gemm --backend opencl --shape 16x16x16)
warm_s=$(POCL_CACHE_DIR=$cold secs build/sparq gemm --backend opencl --shape 16x16x16)
csim_s=$(secs build/sparq gemm --backend csim --shape 16x16x16)
rm -rf "$cold"
{
  echo "# opencl level: host speed"
  echo
  echo "\`bench/opencl.sh\` on $(nproc) cores ($(date -u +%Y-%m-%d)). PoCL $(dpkg-query -W -f='${Version}' pocl-opencl-icd),"
  echo "device \"$(clinfo --raw 2>/dev/null | awk -F'  +' '/CL_DEVICE_NAME/{print $NF; exit}')\"."
  echo
  echo "\`sparq gemm --backend opencl --shape 16x16x16\`, whole process: ${cold_s} s with an"
  echo "empty PoCL cache (LLVM compiles both kernels), ${warm_s} s cached; csim ${csim_s} s."
  echo
  echo "One int8 GEMM descriptor, host wall time of the run alone (after one warm-up run;"
  echo "\`build/bench_levels MxNxK reps ref csim opencl\`), every output checked:"
  echo
  echo "| level | M | N | K | open s | run ms | GMAC/s | mismatches |"
  echo "|---|--:|--:|--:|--:|--:|--:|--:|"
  for s in 1x64x64:200 1x512x512:50 128x172x64:20 64x64x64:50 256x256x256:10 512x512x512:3 1024x1024x1024:1; do
    build/bench_levels "${s%:*}" "${s#*:}" ref csim opencl |
      awk -F'\t' '{printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8}'
  done
} > bench/results/opencl.md
echo "wrote bench/results/opencl.md"
