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
# Sum the cell counts of the flattened top by resource class. LUTRAM is
# counted in LUTs (a RAM64M8 or RAM32M16 takes 8, a RAM64M/RAM32M 4, ...),
# BRAM in RAMB36 equivalents.
awk -v r="$R" -v c="$C" -v s="$secs" -v u="$usage" '
  $1 ~ /^(LUT[1-6]|LUT6_2)$/           { lut += $2 }
  $1 ~ /^(RAM64M8|RAM32M16|RAM256X1D)$/ { lutram += 8 * $2 }
  $1 ~ /^(RAM64M|RAM32M|RAM128X1D)$/   { lutram += 4 * $2 }
  $1 ~ /^(RAM32X1D|RAM64X1D)$/         { lutram += 2 * $2 }
  $1 ~ /^(SRL16E|SRLC32E)$/            { srl += $2 }
  $1 ~ /^(FDRE|FDSE|FDCE|FDPE)$/       { ff += $2 }
  $1 ~ /^DSP48E2$/                     { dsp += $2 }
  $1 ~ /^RAMB36E2$/                    { b36 += $2 }
  $1 ~ /^RAMB18E2$/                    { b18 += $2 }
  $1 ~ /^(CARRY4|CARRY8)$/             { carry += $2 }
  END {
    printf "yosys 0.23 synth_xilinx -family xcup, %sx%s array, %s s wall (%s)\n\n", r, c, s, u
    printf "| resource | count |\n|---|---|\n"
    printf "| LUT (logic) | %d |\n| LUTRAM (in LUTs) | %d |\n| SRL | %d |\n", lut, lutram, srl
    printf "| FF | %d |\n| CARRY4/CARRY8 | %d |\n| DSP48E2 | %d |\n", ff, carry, dsp
    printf "| BRAM (RAMB36E2 %d + RAMB18E2 %d) | %.1f RAMB36 |\n", b36, b18, b36 + b18 / 2
  }' "$OUT/stat_${R}x${C}.txt" | tee "$OUT/synth_${R}x${C}.md"
