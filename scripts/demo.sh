#!/usr/bin/env bash
# The main job (`make demo`): stories260K compressed to w8a8, 200 greedy tokens
# generated on the rtl level (the SystemVerilog under Verilator), and the
# report: per-op cycles, MAC utilization, bytes, stalls, modeled latency and a
# roofline plot. Outputs go to build/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/fetch-models.sh
MODEL=$( [ -f models/stories260K.bin ] && echo models || echo ../shared/models )
DATA=$( [ -f data/tinystories_sample.txt ] && echo data || echo ../shared/data )
OUT=build/demo
mkdir -p "$OUT"
step() { printf '\n== %s\n' "$*" >&2; }

step "compress stories260K with the w8a8 recipe"
build/sparq compress --model $MODEL/stories260K.bin --tokenizer $MODEL/tok512.bin \
  --recipe w8a8 --calib $DATA/tinystories_sample.txt --out $OUT/stories260K-w8a8.sqm --report
build/sparq info $OUT/stories260K-w8a8.sqm

step "generate 200 tokens on the rtl level (Verilated RTL, modeled DDR4 memory)"
build/sparq generate --model $OUT/stories260K-w8a8.sqm --tokenizer $MODEL/tok512.bin \
  --steps 200 --temperature 0 --offload linears --backend rtl --report $OUT/report.json | tee $OUT/rtl.txt

step "the same on the golden reference: the text must be identical"
build/sparq generate --model $OUT/stories260K-w8a8.sqm --tokenizer $MODEL/tok512.bin \
  --steps 200 --temperature 0 --offload linears --backend ref > $OUT/ref.txt
cmp $OUT/rtl.txt $OUT/ref.txt && echo "rtl and ref texts are byte-identical" >&2
echo "report: $OUT/report.json, roofline: $OUT/report.svg" >&2
