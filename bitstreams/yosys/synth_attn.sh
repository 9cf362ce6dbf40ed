#!/usr/bin/env bash
# yosys synth_xilinx (UltraScale+, -family xcup) of the attention unit; prints
# LUT/FF/DSP/BRAM from yosys' stat. The full log goes to OUTDIR/synth_attn.log.
# Usage: bitstreams/yosys/synth_attn.sh OUTDIR rtl-files...
# Takes tens of minutes on this machine (the byte-select muxes of the fetch
# and store paths dominate): not part of `make test`.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 OUTDIR rtl-files..." >&2
  exit 2
fi
OUT=$1
shift
if ! command -v yosys >/dev/null; then
  echo "synth-attn: yosys not found (scripts/deps.sh installs yosys 0.23)" >&2
  exit 1
fi
mkdir -p "$OUT"
start=$(date +%s)
yosys -q -l "$OUT/synth_attn.log" -p "read_verilog -sv $*; \
  hierarchy -top sq_attn_top; \
  synth_xilinx -family xcup -top sq_attn_top -flatten; \
  tee -o $OUT/stat_attn.txt stat" >/dev/null
secs=$(( $(date +%s) - start ))
awk -v s="$secs" '
  $1 ~ /^(LUT[1-6]|LUT6_2)$/           { lut += $2 }
  $1 ~ /^(RAM32M|RAM64M|RAM32X1D|RAM64X1D|RAM128X1D|RAM256X1D|RAM32M16|RAM64M8)$/ { lutram += $2 }
  $1 ~ /^(FDRE|FDSE|FDCE|FDPE)$/       { ff += $2 }
  $1 ~ /^DSP48E2$/                     { dsp += $2 }
  $1 ~ /^RAMB36E2$/                    { b36 += $2 }
  $1 ~ /^RAMB18E2$/                    { b18 += $2 }
  END {
    printf "synth_xilinx xcup, sq_attn_top (%ss):\n", s
    printf "  LUT      %d\n  LUTRAM   %d\n  FF       %d\n", lut, lutram, ff
    printf "  DSP48E2  %d\n  RAMB36E2 %d\n  RAMB18E2 %d (BRAM36 equivalent %.1f)\n", dsp, b36, b18, b36 + b18 / 2
  }' "$OUT/stat_attn.txt"
