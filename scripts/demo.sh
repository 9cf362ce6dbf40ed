#!/usr/bin/env bash
# The main job (`make demo`): stories260K compressed to w8a8, 200 greedy tokens
# generated on the rtl level with the whole token on the accelerator (the
# SystemVerilog under Verilator: command processor, GEMM, attention and vector
# units, KV cache in device memory, one launch per token), checked against the
# golden reference's text, and the report: per-op cycles, MAC utilization,
# bytes, stalls, runs and PCIe bytes per token, modeled end-to-end latency and
# a roofline plot. Outputs go to build/demo/.
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

# the integer layer calibrates its activation scales on the sample text
GEN="generate --model $OUT/stories260K-w8a8.sqm --tokenizer $MODEL/tok512.bin --steps 200
  --temperature 0 --calib $DATA/tinystories_sample.txt"

step "generate 200 tokens on the rtl level, one launch of the Verilated accelerator per token"
# shellcheck disable=SC2086
build/sparq $GEN --backend rtl --report $OUT/report.json | tee $OUT/rtl.txt

step "the same on the golden reference: the text must be identical"
# shellcheck disable=SC2086
build/sparq $GEN --backend ref > $OUT/ref.txt
cmp $OUT/rtl.txt $OUT/ref.txt && echo "rtl and ref texts are byte-identical" >&2
echo "report: $OUT/report.json, roofline: $OUT/report.svg" >&2
