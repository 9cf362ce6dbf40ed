#!/usr/bin/env bash
# yosys synth_xilinx (UltraScale+, -family xcup) of the GEMM unit for an
# R x C array; prints the resources as a Markdown table (also written to
# OUTDIR/synth_RxC.md). The full log goes to OUTDIR/synth_RxC.log.
# Usage: bitstreams/yosys/synth_gemm.sh R C OUTDIR rtl-files...
# Caveat (yosys 0.23 on xcup): accumulators are not packed into the DSP48E2s,
# so LUT/FF counts are pessimistic against Vivado.
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: $0 R C OUTDIR rtl-files..." >&2
  exit 2
fi
R=$1 C=$2 OUT=$3
shift 3
if ! command -v yosys >/dev/null; then
  echo "synth: yosys not found (scripts/deps.sh installs yosys 0.23)" >&2
  exit 1
fi
mkdir -p "$OUT"
LOG="$OUT/synth_${R}x${C}.log"
start=$(date +%s)
yosys -q -l "$LOG" -p "read_verilog -sv $*; \
  hierarchy -top sq_gemm_top -chparam R $R -chparam C $C; \
  synth_xilinx -family xcup -top sq_gemm_top -flatten; \
  tee -o $OUT/stat_${R}x${C}.txt stat" >/dev/null
secs=$(( $(date +%s) - start ))
# yosys' own CPU and peak memory, from the log's last summary line
usage=$(grep -o 'CPU: user [0-9.]*s system [0-9.]*s, MEM: [0-9.]* MB peak' "$LOG" | tail -1)
title=$(printf 'yosys 0.23 synth_xilinx -family xcup, %sx%s array, %s s wall (%s)' "$R" "$C" \
  "$secs" "$usage")
awk -v title="$title" -f "$(dirname "$0")/xcup_table.awk" "$OUT/stat_${R}x${C}.txt" | tee "$OUT/synth_${R}x${C}.md"
