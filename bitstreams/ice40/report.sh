#!/usr/bin/env bash
# Utilization and Fmax of an iCE40 build from nextpnr's log, as Markdown.
# Usage: bitstreams/ice40/report.sh OUTDIR TARGET_MHZ
set -euo pipefail
OUT=$1 TARGET=$2
LOG=$OUT/nextpnr.log
[ -f "$LOG" ] && [ -f "$OUT/sq_ice40.bin" ] || { echo "report: no build in $OUT" >&2; exit 1; }
echo "| resource | used | available | share |"
echo "|---|---|---|---|"
# the utilisation block nextpnr prints after packing: "ICESTORM_LC:  4444/ 5280    84%"
awk '/Device utilisation:/ { on = 1; next } on && NF < 2 { exit }
     on && $2 ~ /:$/ && $3 ~ /\/$/ && ($3 != "0/" || $2 ~ /^ICESTORM_(LC|RAM|DSP|SPRAM):/) {
       sub(":", "", $2); sub("/", "", $3);
       printf "| %s | %s | %s | %s |\n", $2, $3, $4, $5 }' "$LOG"
# the final timing of sq_ice40_top's clock, the divided clk_q (nextpnr prints
# it after placement and after routing)
fmax=$(grep "Max frequency for clock *'clk_q" "$LOG" | tail -1 | sed 's/.*: \([0-9.]* MHz\).*/\1/')
echo
echo "Fmax (nextpnr, clock of sq_ice40_top): $fmax, target $TARGET MHz;" \
  "bitstream $(stat -c %s "$OUT/sq_ice40.bin") bytes."
