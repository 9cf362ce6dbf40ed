#!/usr/bin/env bash
# Per-op cycles of a SmolLM2-135M w8a8 decode token against each op's byte
# bound, and tokens/s against the memory roofline on a few configurations
# (model level): writes bench/results/decode_ops.md (about a minute of CPU).
# SPARQ_BASE=<another build/sparq> adds its columns (before / after).
set -euo pipefail
cd "$(dirname "$0")/.."
make -j2 build/sparq >/dev/null
.venv/bin/python bench/decode_ops.py
echo "bench/results/decode_ops.md written"
