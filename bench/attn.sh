#!/usr/bin/env bash
# Attention unit benchmark: integer attention against fp32 (random data and
# real stories260K activations), stories260K perplexity per sparsity pattern,
# and rtl cycles against density for L = 512, 1024, 2048; writes
# bench/results/attn.md and attn_cycles.svg (a few minutes). Run as
# `make bench-attn` (or bench/attn.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
make -j2 build/sparq >/dev/null
.venv/bin/python bench/attn_bench.py
echo "bench/results/attn.md written"
