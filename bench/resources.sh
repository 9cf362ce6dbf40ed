#!/usr/bin/env bash
# Resource estimates of every RTL unit against the Alveo U250, U280 and AWS F2
# budgets: yosys 0.23 synth_xilinx -family xcup of the GEMM unit at 8x8, 16x16
# and 32x32 and of the attention unit (one configuration), each niced, under a
# timeout and a memory cap; writes bench/results/resources.md (logs and yosys
# stats in build/resources/, kept between runs: the table has every run whose
# stat is there). Usage: bench/resources.sh [RUN...], runs among gemm8 gemm16
# gemm32 attn (default all, smallest first).
#
# The hierarchy is kept (no -flatten): yosys synthesizes each distinct module
# once (one PE for the whole array), so 32x32 finishes in minutes where the
# flattened run of `make synth` needs 12 minutes and 5.3 GB at 16x16; stat
# then multiplies every module by its instance count. Without flattening no
# optimisation crosses a module boundary, so the figures are upper bounds
# next to the flattened ones (bench/results/gemm_synth.md compares the two at
# 16x16).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=("$@")
[ ${#RUNS[@]} -gt 0 ] || RUNS=(gemm8 attn gemm16 gemm32)
SIZES=(8 16 32)
OUT=build/resources
TIMEOUT=${RES_TIMEOUT:-3600}
# kB of address space per yosys run: the machine is shared
MEMCAP=${RES_MEMCAP:-12000000}
mkdir -p "$OUT" bench/results
command -v yosys >/dev/null || { echo "resources: yosys not found (scripts/deps.sh)" >&2; exit 1; }

GEMM_RTL="rtl/common/sq_spec_pkg.sv rtl/gemm/sq_gemm_pkg.sv $(ls rtl/common/*.sv rtl/gemm/*.sv |
  grep -v -e sq_spec_pkg -e sq_gemm_pkg | tr '\n' ' ')"
ATTN_RTL=$(make -s -f - print-attn <<'EOF'
include rtl/attn/attn.mk
print-attn: ; @echo $(ATTN_RTL)
EOF
)

# the attention unit's kernel is sq_unit_top with the attention opcode
ATTN_OP=$(sed -n 's/.*SqOpAttn = 32.d\([0-9]*\);/\1/p' rtl/common/sq_spec_pkg.sv)

# synth NAME TOP CHPARAMS FILES: yosys run, stat of the whole hierarchy
synth() {
  local name=$1 top=$2 chp=$3 files=$4 start rc=0
  start=$(date +%s)
  ( ulimit -v "$MEMCAP"
    nice -n 10 timeout "$TIMEOUT" yosys -q -l "$OUT/$name.log" -p "read_verilog -sv $files; \
      hierarchy -top $top $chp; synth_xilinx -family xcup -top $top; \
      tee -o $OUT/$name.stat stat -top $top" >/dev/null ) || rc=$?
  echo $(( $(date +%s) - start )) > "$OUT/$name.secs"
  if [ $rc -ne 0 ]; then
    echo "resources: $name did not finish (exit $rc; timeout ${TIMEOUT}s, cap ${MEMCAP} kB)" >&2
    rm -f "$OUT/$name.stat"
  fi
}

# Totals of the design hierarchy section: LUT, LUTRAM (in LUTs), SRL, FF, DSP, BRAM36.
totals() {
  awk '
    /=== design hierarchy ===/ { h = 1; next }
    !h || NF != 2 || $2 !~ /^[0-9]+$/ { next }
    $1 ~ /^(LUT[1-6]|LUT6_2)$/            { lut += $2 }
    $1 ~ /^(RAM64M8|RAM32M16|RAM256X1D)$/ { lr += 8 * $2 }
    $1 ~ /^(RAM64M|RAM32M|RAM128X1D)$/    { lr += 4 * $2 }
    $1 ~ /^(RAM32X1D|RAM64X1D|RAM32X1S|RAM64X1S)$/ { lr += 2 * $2 }
    $1 ~ /^(SRL16E|SRLC32E)$/             { srl += $2 }
    $1 ~ /^(FDRE|FDSE|FDCE|FDPE)$/        { ff += $2 }
    $1 == "DSP48E2"                       { dsp += $2 }
    $1 == "RAMB36E2"                      { b += $2 }
    $1 == "RAMB18E2"                      { b += $2 / 2 }
    $1 == "URAM288"                       { u += $2 }
    END { printf "%d %d %d %d %d %.1f %d\n", lut, lr, srl, ff, dsp, b, u }' "$1"
}

# RES_RENDER=1: only rewrite the table from the stats already in build/resources/
[ "${RES_RENDER:-0}" = 1 ] || {
for r in "${RUNS[@]}"; do
  case $r in
    gemm[0-9]*)
      s=${r#gemm}
      echo "resources: GEMM ${s}x${s}" >&2
      synth "gemm_${s}x${s}" sq_gemm_top "-chparam R $s -chparam C $s" "$GEMM_RTL" ;;
    attn)
      echo "resources: attention" >&2
      synth attn sq_unit_top "-chparam Opcode $ATTN_OP" "$ATTN_RTL" ;;
    *) echo "resources: unknown run '$r' (gemm8 gemm16 gemm32 attn)" >&2; exit 2 ;;
  esac
done
}

# Device totals (UltraScale+ product tables; the Alveo shell's static region
# takes part of them, so a kernel gets less).
#            LUT     FF      DSP    BRAM36 URAM
BUDGET_U250="1728000 3456000 12288 2688 1280"
BUDGET_U280="1304000 2607000 9024 2016 960"
BUDGET_F2="1304000 2607000 9024 2016 960"

{
  echo "# Resources of each unit against the card budgets"
  echo
  echo "Reproduce: \`nice -n 10 bench/resources.sh\` (or some of \`gemm8 attn gemm16 gemm32\`;"
  echo "\`RES_TIMEOUT\` seconds per run, default 3600). yosys 0.23 \`synth_xilinx -family xcup\`"
  echo "with the hierarchy kept, \`stat -top\` over it; logs and stats in \`build/resources/\`."
  echo "Generated $(date -u +%Y-%m-%d) at commit $(git rev-parse --short HEAD)."
  echo
  echo "| unit | LUT (logic) | LUTRAM (LUTs) | SRL | FF | DSP48E2 | BRAM36 | URAM | yosys time |"
  echo "|---|---|---|---|---|---|---|---|---|"
  rows=()
  for s in "${SIZES[@]}"; do rows+=("gemm_${s}x${s}:GEMM ${s}x${s}"); done
  rows+=("attn:attention")
  for r in "${rows[@]}"; do
    n=${r%%:*} label=${r#*:}
    if [ -f "$OUT/$n.stat" ]; then
      read -r lut lr srl ff dsp b u < <(totals "$OUT/$n.stat")
      printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s s |\n" "$label" "$lut" "$lr" "$srl" "$ff" \
        "$dsp" "$b" "$u" "$(cat "$OUT/$n.secs")"
    elif [ -f "$OUT/$n.secs" ]; then
      printf "| %s | not measured: stopped after %s s (timeout %s s, or above the %s kB cap) | | | | | | | |\n" \
        "$label" "$(cat "$OUT/$n.secs")" "$TIMEOUT" "$MEMCAP"
    else
      printf "| %s | not run | | | | | | | |\n" "$label"
    fi
  done
  echo
  echo "Share of each card's device total (LUT = logic + LUTRAM + SRL; the largest share"
  echo "decides how many copies fit):"
  echo
  echo "| unit | U250 LUT / FF / DSP / BRAM | U280 LUT / FF / DSP / BRAM | F2 (VU47P) LUT / FF / DSP / BRAM |"
  echo "|---|---|---|---|"
  for r in "${rows[@]}"; do
    n=${r%%:*} label=${r#*:}
    [ -f "$OUT/$n.stat" ] || continue
    read -r lut lr srl ff dsp b u < <(totals "$OUT/$n.stat")
    line="| $label"
    for bud in "$BUDGET_U250" "$BUDGET_U280" "$BUDGET_F2"; do
      line+=" | $(awk -v l=$((lut + lr + srl)) -v f="$ff" -v d="$dsp" -v b="$b" -v B="$bud" 'BEGIN {
        split(B, x, " ");
        printf "%.1f%% / %.1f%% / %.1f%% / %.1f%%", 100*l/x[1], 100*f/x[2], 100*d/x[3], 100*b/x[4] }')"
    done
    echo "$line |"
  done
  echo
  echo "Notes on the GEMM rows. 32x32 is not a working configuration of the current RTL:"
  echo "\`sq_gemm_out\` takes one 64-byte beat of bias (16 int32) and two of quant per tile, so"
  echo "columns 16..31 read past them (yosys: 'Range select out of bounds' at"
  echo "rtl/gemm/sq_gemm_out.sv:59-61); C <= 16 until the parameter registers widen. The"
  echo "flattened 16x16 run of \`make synth\` (bench/results/gemm_synth.md: 85,623 LUT + 57,720"
  echo "LUTRAM + 474 SRL, 75,125 FF, 581 DSP48E2, 0 BRAM) is 8.3% / 2.2% / 4.7% / 0% of the U250"
  echo "and 11.0% / 2.9% / 6.4% / 0% of the U280 and F2; at 8x8 the hierarchical figures above"
  echo "are 1.4x the flattened ones in logic LUTs (39,916 flattened), the price of no"
  echo "optimisation across module boundaries. The runs here shared 2 cores with a load of"
  echo "about 15, hence the yosys times."
  echo
  echo "Budgets (device totals): U250 (XCU250, VU13P-class) 1,728k LUT, 3,456k FF, 12,288 DSP48E2,"
  echo "2,688 BRAM36, 1,280 URAM; U280 (XCU280, VU37P-class) and F2 (VU47P) 1,304k LUT, 2,607k FF,"
  echo "9,024 DSP48E2, 2,016 BRAM36, 960 URAM. The vector unit has no RTL yet (hls/vec only)."
} > bench/results/resources.md
echo "wrote bench/results/resources.md" >&2
