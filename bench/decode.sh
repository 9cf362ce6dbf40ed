#!/usr/bin/env bash
# Decode tokens/s per target, recipe and batch against the memory roofline,
# SmolLM2-135M (real weights) and Llama-2-7B (dummy), on the model level:
# writes bench/results/decode.md and decode_batch.svg (about 20 minutes of
# CPU). Run from the project root after `make`.
set -euo pipefail
cd "$(dirname "$0")/.."
make -j2 build/sparq >/dev/null
.venv/bin/python bench/decode_bench.py
echo "bench/results/decode.md written"
