#!/usr/bin/env bash
# yosys synth_xilinx (UltraScale+, -family xcup) of the attention unit; prints
# LUT/LUTRAM/FF/DSP/BRAM per module and for the whole unit from yosys' stat.
# The full log goes to OUTDIR/synth_attn.log, the stat to OUTDIR/stat_attn.txt.
# Usage: SQ_OPCODE=n bitstreams/yosys/synth_attn.sh OUTDIR rtl-files...
# (n: the attention opcode, the Opcode of sq_unit_top; `make synth-attn` sets it)
# About a minute and 0.8 GB here. The hierarchy is kept (no -flatten) so the
# stat breaks down by module; the module boundaries are registers and RAM
# ports, so flattening would save little.
set -euo pipefail
if [ $# -lt 2 ] || [ -z "${SQ_OPCODE:-}" ]; then
  echo "usage: SQ_OPCODE=n $0 OUTDIR rtl-files..." >&2
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
  hierarchy -top sq_unit_top -chparam Opcode $SQ_OPCODE; \
  synth_xilinx -family xcup -top sq_unit_top; \
  tee -o $OUT/stat_attn.txt stat" >/dev/null
secs=$(( $(date +%s) - start ))
# A RAM module ($paramod ... sq_attn_ram / sq_attn_lutram) is counted in the
# module that instantiates it, another parameterized one (sq_div) in a row of
# its own, so the rows add up to the total.
awk -v s="$secs" '
  function cls(c) {
    if (c ~ /^(LUT[1-6]|LUT6_2)$/) return "lut"
    if (c ~ /^(RAM32M16|RAM64M8|RAM32M|RAM64M|RAM32X1D|RAM64X1D|RAM128X1D|RAM256X1D)$/) return "lutram"
    if (c ~ /^(FDRE|FDSE|FDCE|FDPE)$/) return "ff"
    if (c == "DSP48E2") return "dsp"
    if (c == "RAMB36E2") return "b36"
    if (c == "RAMB18E2") return "b18"
    if (c == "INV") return "inv"
    return ""
  }
  # LUTs a distributed RAM primitive occupies
  function lutw(c) {
    if (c ~ /^(RAM32M16|RAM64M8|RAM256X1D)$/) return 8
    if (c ~ /^(RAM32M|RAM64M|RAM128X1D)$/) return 4
    return 2
  }
  function add(m, k, n) { own[m, k] += n }
  function isram(m) { return m ~ /^\$paramod/ && m ~ /ram(\\|$)/ }
  # the module name inside a $paramod name
  function base(m) { sub(/^\$paramod(\$[0-9a-f]+)?\\/, "", m); sub(/\\.*/, "", m); return m }
  # own cells plus those of RAM submodules, recursively
  function tot(m, k,    t, i) {
    t = own[m, k]
    for (i = 1; i <= nkid[m]; i++) {
      if (isram(kid[m, i])) t += kidn[m, i] * tot(kid[m, i], k)
    }
    return t
  }
  function row(name, m) {
    printf "  %-14s %7d %7d (%4d) %7d %4d %6.1f %6d\n", name, tot(m, "lut"), tot(m, "lrl"),
           tot(m, "lutram"), tot(m, "ff"), tot(m, "dsp"), tot(m, "b36") + tot(m, "b18") / 2,
           tot(m, "inv")
    for (k in keys) sum[k] += tot(m, k)
  }
  /^=== design hierarchy ===/ { mod = ""; next }
  /^=== .* ===$/ { mod = $2; order[++nmod] = mod; next }
  mod != "" && NF == 2 && $2 ~ /^[0-9]+$/ && $1 !~ /^Number/ {
    k = cls($1)
    if (k != "") { add(mod, k, $2); keys[k] = 1 }
    if (k == "lutram") { add(mod, "lrl", $2 * lutw($1)); keys["lrl"] = 1 }
    if ($1 ~ /^(\$paramod|sq_)/) { nkid[mod]++; kid[mod, nkid[mod]] = $1; kidn[mod, nkid[mod]] = $2 }
  }
  END {
    printf "synth_xilinx -family xcup, sq_unit_top of the attention unit (%ss):\n", s
    printf "  %-14s %7s %14s %7s %4s %6s %6s\n", "module", "LUT", "LUTRAM (cells)", "FF", "DSP",
           "BRAM36", "INV"
    for (i = 1; i <= nmod; i++) if (!isram(order[i]) && order[i] != "sq_unit_top") row(base(order[i]), order[i])
    row("top (I/O)", "sq_unit_top")
    printf "  %-14s %7d %7d (%4d) %7d %4d %6.1f %6d\n", "total", sum["lut"], sum["lrl"], sum["lutram"],
           sum["ff"], sum["dsp"], sum["b36"] + sum["b18"] / 2, sum["inv"]
    printf "  LUT: logic LUTs; LUTRAM: LUTs holding distributed RAM (RAM32M16 etc. cells);\n"
    printf "  BRAM36: RAMB36E2 + RAMB18E2 / 2 (%d + %d / 2); INV: inverter cells, counted apart\n", sum["b36"], sum["b18"]
    printf "  (yosys leaves about one per async-reset flip-flop; a vendor flow folds them in)\n"
  }' "$OUT/stat_attn.txt"
# A memory yosys could not infer silently becomes a register file (the slow,
# large result the RAM modules exist to avoid): fail rather than report it.
if grep -q "with list of registers" "$OUT/synth_attn.log"; then
  echo "synth-attn: yosys turned memories into registers ($OUT/synth_attn.log):" >&2
  grep "with list of registers" "$OUT/synth_attn.log" >&2
  exit 1
fi
