#!/usr/bin/env bash
# Cycle model (level `model`) against the Verilated RTL (level `rtl`): cycles,
# stall cycles and device-memory bytes per op on synthetic GEMMs of every mode
# and on stories260K generation (per-op report) at several memory settings,
# plus the model's wall time for 200 tokens. Writes bench/results/cycle_model.md.
# Run from the project root after `make` (needs the rtl level built in).
set -euo pipefail
cd "$(dirname "$0")/.."
SPARQ=build/sparq
MODEL=$( [ -f models/stories260K.bin ] && echo models || echo ../shared/models )
M="--model $MODEL/stories260K.bin --tokenizer $MODEL/tok512.bin"
OUT=bench/results/cycle_model.md
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
SHAPES=(
  "--shape 1x64x64" "--shape 1x172x64 --relu" "--shape 1x64x172" "--shape 1x512x64 --out int32"
  "--shape 64x64x64" "--shape 128x96x200 --bias" "--shape 256x256x256" "--shape 70x45x301 --relu"
  "--shape 1x1x1" "--shape 3x5x7 --bias --relu" "--shape 1x64x64 --wbits 4"
  "--shape 33x40x100 --wbits 4 --out int32" "--shape 16x16x4096 --wbits 4"
  "--shape 1x64x64 --sparse 2:4" "--shape 64x64x1024 --sparse 2:4 --bias"
  "--shape 40x48x4100 --sparse 2:4" "--shape 17x23x2500 --out int32 --bias"
)

{
  echo "# Cycle model vs RTL"
  echo
  echo "Reproduce: \`bench/cycle_model.sh\`, $(date -u +%Y-%m-%d). Error = (model - rtl) / rtl"
  echo "cycles; 'bytes, stalls equal' compares bytes read, bytes written and stall cycles."
  echo
  echo "## Synthetic GEMMs (\`build/sparq gemm --backend rtl|model ARGS --json\`)"
  echo
  echo "| ARGS | rtl cycles | model cycles | error | bytes, stalls equal |"
  echo "|---|---|---|---|---|"
  for s in "${SHAPES[@]}"; do
    $SPARQ gemm --backend rtl $s --json > "$TMP/r.json"
    $SPARQ gemm --backend model $s --json > "$TMP/m.json"
    python3 - "$s" "$TMP/r.json" "$TMP/m.json" <<'PY'
import json, sys
a, r, m = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
eq = all(r[k] == m[k] for k in ("bytes_read", "bytes_written", "stall_cycles", "macs"))
print(f"| `{a}` | {r['cycles']} | {m['cycles']} | {100 * (m['cycles'] - r['cycles']) / r['cycles']:+.2f}% | {'yes' if eq else 'NO'} |")
PY
  done
  echo
  echo "## First-order formula (\`bench/cycle_formula.py\`, docs/cycle_model.md) on the same shapes"
  echo
  echo '```'
  printf '%s\n' "${SHAPES[@]}" | python3 bench/cycle_formula.py
  echo '```'
  echo
  echo "## stories260K generation, per-op report"
  echo
  echo "\`build/sparq generate $M --recipe R --steps N --temperature 0 --offload linears --backend rtl|model --report FILE.json EXTRA\`"
  echo
  echo "| R, N, EXTRA | ops | per-op error max | mean | total rtl | total model | bytes, stalls equal |"
  echo "|---|---|---|---|---|---|---|"
  for cfg in "w8a8|40|" "w8a8|6|--target u280" "w8a8|6|--clock-mhz 600" "w8a8|6|--clock-mhz 100" \
             "w4g32|6|" "2:4|6|" "w4a8|6|"; do
    IFS='|' read -r rec steps extra <<< "$cfg"
    for b in rtl model; do
      $SPARQ generate $M --recipe "$rec" --steps "$steps" --temperature 0 --offload linears --backend $b \
        --report "$TMP/$b.json" $extra > "$TMP/$b.txt" 2>/dev/null
    done
    cmp -s "$TMP/rtl.txt" "$TMP/model.txt" || { echo "text differs for $cfg" >&2; exit 1; }
    python3 - "$rec, $steps, $extra" "$TMP/rtl.json" "$TMP/model.json" <<'PY'
import json, sys
name, r, m = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
errs = [abs(b["cycles"] - a["cycles"]) / a["cycles"] for a, b in zip(r["ops"], m["ops"]) if a["cycles"]]
eq = all(a[k] == b[k] for a, b in zip(r["ops"], m["ops"])
         for k in ("bytes_read", "bytes_written", "stall_cycles", "macs"))
print(f"| {name} | {len(errs)} | {100 * max(errs):.2f}% | {100 * sum(errs) / len(errs):.2f}% | "
      f"{r['total']['cycles']:.0f} | {m['total']['cycles']:.0f} | {'yes' if eq else 'NO'} |")
PY
  done
  echo
  s0=$(date +%s.%N)
  $SPARQ generate $M --recipe w8a8 --steps 200 --temperature 0 --offload linears --backend model > /dev/null
  s1=$(date +%s.%N)
  printf 'Wall time of a 200-token stories260K w8a8 generation on `model`: %.2f s\n' \
    "$(echo "$s1 - $s0" | bc)"
} > "$OUT"
echo "wrote $OUT"
