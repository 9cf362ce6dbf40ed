#!/usr/bin/env bash
# GEMM benchmark of the rtl level (16x16 array, 64 B/cycle DDR4 model, 30-cycle
# latency at 300 MHz) plus SCALE-Sim on the same shapes; writes
# bench/results/gemm.md. Run as `make bench-gemm` (or bench/gemm.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
make -j2 build/bench_gemm >/dev/null
SHAPES=(
  # square, dense int8, 2:4 and int4
  sq64:64x64x64 sq128:128x128x128 sq256:256x256x256 sq512:512x512x512 sq1024:1024x1024x1024
  sq256:256x256x256:sp24 sq512:512x512x512:sp24 sq1024:1024x1024x1024:sp24
  sq256:256x256x256:w4
  # stories260K layers (NxK), decode M=1 and prefill M=128
  q:1x64x64 kv:1x32x64 o:1x64x64 w13:1x172x64 w2:1x64x172 cls:1x512x64
  q:128x64x64 kv:128x32x64 o:128x64x64 w13:128x172x64 w2:128x64x172 cls:128x512x64
  # all-MiniLM-L6-v2 at M=128 (NxK)
  attn:128x384x384 ffn_up:128x1536x384 ffn_down:128x384x1536
)
mkdir -p build bench/results
# raw measurements, then the table (gemm_report.py alone re-renders from the TSV)
build/bench_gemm "${SHAPES[@]}" > bench/results/gemm.tsv
.venv/bin/python bench/gemm_report.py bench/results/gemm.tsv > bench/results/gemm.md
echo "wrote bench/results/gemm.md"
