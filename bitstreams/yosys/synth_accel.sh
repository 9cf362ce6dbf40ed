#!/usr/bin/env bash
# yosys synth_xilinx (UltraScale+, -family xcup) of the accelerator kernel
# sq_accel_top (command processor, GEMM core with an R x C array, attention
# core) flattened, and of the command processor's own modules (sq_cp,
# sq_cp_prefetch) alone; prints Markdown tables (also written to
# OUTDIR/synth_accel_RxC.md). Logs in OUTDIR/synth_accel_*.log.
# Usage: bitstreams/yosys/synth_accel.sh R C OUTDIR rtl-files...
# Caveat (yosys 0.23 on xcup): accumulators are not packed into the DSP48E2s,
# so LUT/FF counts are pessimistic against Vivado. 16x16 takes about as long
# and as much memory as `make synth` (the GEMM alone).
set -euo pipefail
if [ $# -lt 4 ]; then
  echo "usage: $0 R C OUTDIR rtl-files..." >&2
  exit 2
fi
R=$1 C=$2 OUT=$3
shift 3
if ! command -v yosys >/dev/null; then
  echo "synth-accel: yosys not found (scripts/deps.sh installs yosys 0.23)" >&2
  exit 1
fi
mkdir -p "$OUT"
MD="$OUT/synth_accel_${R}x${C}.md"
: > "$MD"
# one flattened synthesis: top and parameters, a name for its files, a title
synth() {
  local top=$1 params=$2 name=$3 what=$4
  local log="$OUT/synth_accel_$name.log" start secs usage
  start=$(date +%s)
  yosys -q -l "$log" -p "read_verilog -sv $FILES; \
    hierarchy -top $top $params; \
    synth_xilinx -family xcup -top $top -flatten; \
    tee -o $OUT/stat_accel_$name.txt stat" >/dev/null
  secs=$(( $(date +%s) - start ))
  usage=$(grep -o 'CPU: user [0-9.]*s system [0-9.]*s, MEM: [0-9.]* MB peak' "$log" | tail -1)
  awk -v title="yosys 0.23 synth_xilinx -family xcup, $what, $secs s wall ($usage)" \
    -f "$(dirname "$0")/xcup_table.awk" "$OUT/stat_accel_$name.txt" | tee -a "$MD"
  echo | tee -a "$MD"
}
FILES="$*"
synth sq_cp "" cp "sq_cp (command processor: fetch, patch, dispatch, queues, records)"
synth sq_cp_prefetch "-chparam C $C" pf "sq_cp_prefetch (GEMM port prefetch buffer, 64 beats)"
synth sq_accel_top "-chparam R $R -chparam C $C" "${R}x${C}" \
  "sq_accel_top with a ${R}x${C} GEMM array (whole kernel)"
