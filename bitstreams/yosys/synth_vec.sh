#!/usr/bin/env bash
# yosys synth_xilinx (UltraScale+, -family xcup) of the vector unit kernel
# (sq_unit_top with the vector opcode), flattened; prints a Markdown table
# (xcup_table.awk, also written to OUTDIR/synth_vec.md). Log in OUTDIR/synth_vec.log.
# Usage: SQ_OPCODE=n bitstreams/yosys/synth_vec.sh OUTDIR rtl-files...
# (n: the vector opcode; `make synth-vec` sets it)
set -euo pipefail
if [ $# -lt 2 ] || [ -z "${SQ_OPCODE:-}" ]; then
  echo "usage: SQ_OPCODE=n $0 OUTDIR rtl-files..." >&2
  exit 2
fi
OUT=$1
shift
if ! command -v yosys >/dev/null; then
  echo "synth-vec: yosys not found (scripts/deps.sh installs yosys 0.23)" >&2
  exit 1
fi
mkdir -p "$OUT"
log="$OUT/synth_vec.log"
start=$(date +%s)
yosys -q -l "$log" -p "read_verilog -sv $*; \
  hierarchy -check -top sq_unit_top -chparam Opcode $SQ_OPCODE; \
  synth_xilinx -family xcup -top sq_unit_top -flatten; \
  tee -o $OUT/stat_vec.txt stat" >/dev/null
secs=$(( $(date +%s) - start ))
usage=$(grep -o 'CPU: user [0-9.]*s system [0-9.]*s, MEM: [0-9.]* MB peak' "$log" | tail -1)
awk -v title="yosys 0.23 synth_xilinx -family xcup, sq_unit_top (vector unit kernel), $secs s wall ($usage)" \
  -f "$(dirname "$0")/xcup_table.awk" "$OUT/stat_vec.txt" | tee "$OUT/synth_vec.md"
