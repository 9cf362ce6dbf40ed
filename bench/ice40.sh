#!/usr/bin/env bash
# The iCE40 UP5K bitstream of the GEMM unit: builds it (make -C bitstreams
# ice40: yosys synth_ice40 -dsp -spram, nextpnr-ice40 --up5k, icepack) and
# writes nextpnr's utilization and Fmax with the yosys cell counts to
# bench/results/ice40.md. A few minutes, niced.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=build/ice40
start=$(date +%s)
make -C bitstreams ice40 ICE40_OUT="$PWD/$OUT" >/dev/null
secs=$(( $(date +%s) - start ))
cells() { awk -v c="$1" '$1 == c { n = $2 } END { print n + 0 }' "$OUT/yosys_stat.txt"; }
{
  echo "# iCE40 UP5K bitstream of the GEMM unit"
  echo
  echo "Reproduce: \`nice -n 10 bench/ice40.sh\` (runs \`make -C bitstreams ice40\`; yosys 0.23"
  echo "\`synth_ice40 -dsp -spram\`, nextpnr-ice40 0.4 \`--up5k --package sg48 --freq 6 --seed 1\`,"
  echo "icepack; outputs and logs in \`build/ice40/\`). Generated $(date -u +%Y-%m-%d) at commit"
  echo "$(git rev-parse --short HEAD), ${secs} s for the whole flow on the shared 2-core machine."
  echo
  echo "Configuration (bitstreams/ice40/rtl/sq_ice40_pkg.sv): 2x2 array of the GEMM unit's PEs"
  echo "(rtl/gemm/sq_gemm_pe.sv, two int8 MACs each, packed per column pair), one requant epilogue"
  echo "(rtl/gemm/sq_gemm_epi.sv), 32 KiB SPRAM, UART 115200 8N1; 6 MHz (the 12 MHz oscillator"
  echo "halved). The same files and parameters run under Verilator in \`make test\`"
  echo "(tests/test_ice40.c), bit-exact against sq_gemm_ref."
  echo
  echo "nextpnr placement and routing:"
  echo
  bitstreams/ice40/report.sh "$OUT" 6
  echo
  echo "yosys cells: $(cells SB_LUT4) SB_LUT4, $(cells SB_CARRY) SB_CARRY, $(cells SB_MAC16) SB_MAC16," \
    "$(cells SB_SPRAM256KA) SB_SPRAM256KA, $(cells SB_RAM40_4K) SB_RAM40_4K;" \
    "flip-flops $(awk '$1 ~ /^SB_DFF/ { n += $2 } END { print n + 0 }' "$OUT/yosys_stat.txt")."
  echo
  echo "The critical path, from nextpnr's report (\`build/ice40/nextpnr.log\`):"
  echo
  echo '```'
  grep -A2 "Critical path report for clock 'u_top\|Critical path report for clock 'clk_q" "$OUT/nextpnr.log" |
    head -3 | sed 's/^Info: //'
  grep "ns logic, .* ns routing" "$OUT/nextpnr.log" | head -1 | sed 's/^Info: //'
  echo '```'
} > bench/results/ice40.md
echo "wrote bench/results/ice40.md"
