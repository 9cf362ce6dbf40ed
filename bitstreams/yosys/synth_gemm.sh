#!/usr/bin/env bash
# yosys synth_xilinx (UltraScale+, -family xcup) of the GEMM unit for an
# R x C array; prints LUT/FF/DSP/BRAM from yosys' stat. The full log goes to
# OUTDIR/synth_RxC.log. Usage: bitstreams/yosys/synth_gemm.sh R C OUTDIR rtl-files...
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
# Sum the cell counts of the flattened top by resource class.
awk -v r="$R" -v c="$C" -v s="$secs" '
  $1 ~ /^(LUT[1-6]|LUT6_2)$/           { lut += $2 }
  $1 ~ /^(RAM32M|RAM64M|RAM32X1D|RAM64X1D|RAM128X1D|RAM256X1D|RAM32M16|RAM64M8)$/ { lutram += $2 }
  $1 ~ /^(SRL16E|SRLC32E)$/            { srl += $2 }
  $1 ~ /^(FDRE|FDSE|FDCE|FDPE)$/       { ff += $2 }
  $1 ~ /^DSP48E2$/                     { dsp += $2 }
  $1 ~ /^RAMB36E2$/                    { b36 += $2 }
  $1 ~ /^RAMB18E2$/                    { b18 += $2 }
  $1 ~ /^CARRY8$/                      { carry += $2 }
  END {
    printf "synth_xilinx xcup, %sx%s array (%ss):\n", r, c, s
    printf "  LUT      %d\n  LUTRAM   %d\n  SRL      %d\n  FF       %d\n  CARRY8   %d\n", lut, lutram, srl, ff, carry
    printf "  DSP48E2  %d\n  RAMB36E2 %d\n  RAMB18E2 %d (BRAM36 equivalent %.1f)\n", dsp, b36, b18, b36 + b18 / 2
  }' "$OUT/stat_${R}x${C}.txt"
