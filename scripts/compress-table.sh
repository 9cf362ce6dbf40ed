#!/bin/sh
# Runs `sparq compress --report` for each recipe and prints the Markdown table
# of docs/compression.md: perplexity on stories260K (the default), or with
# MODEL=minilm the cosine similarity of all-MiniLM-L6-v2 sentence embeddings
# to fp32. Usage: [MODEL=minilm] scripts/compress-table.sh [recipe...]
set -eu
SPARQ=${SPARQ:-build/sparq}
# CALIB=FILE calibrates on FILE instead of the default (the evaluation text).
CALIB=${CALIB:-}
MODEL=${MODEL:-}
if [ $# -eq 0 ] && [ "$MODEL" = minilm ]; then
    set -- fp32 w8a8 w8a8s w8a8:gptq w4g128 w4g128:gptq w4g32 w4g32:gptq w4g32a8s:gptq \
        prune:s=0.5,w8a8:gptq 2:4 2:4,w8a8:gptq lowrank:e=0.9,w8a8 share:k=16 share:k=16,w8a8
elif [ $# -eq 0 ]; then
    set -- fp32 w8a8 w8a8s w8a8:gptq w4 w4g128 w4g64 w4g32 w4:gptq w4g128:gptq w4g32:gptq \
        w4g32a8s:gptq prune:s=0.5 prune:s=0.5,w8a8:gptq 2:4 2:4,w8a8:gptq heads:n=1 heads:n=2 \
        lowrank:e=0.9 lowrank:r=16 lowrank:r=16,w8a8 share:k=16 share:k=64 share:k=16,w8a8
fi
if [ -n "$MODEL" ]; then
    echo "| recipe | bytes | vs fp32 | mean cosine | min cosine | compress s |"
else
    echo "| recipe | bytes | vs fp32 | perplexity | vs fp32 | compress s |"
fi
echo "|---|---:|---:|---:|---:|---:|"
for r in "$@"; do
    "$SPARQ" compress ${MODEL:+--model "$MODEL"} --recipe "$r" --report ${CALIB:+--calib "$CALIB"} |
        awk -v r="$r" '
        $1 == "bytes"    { b = $2; x = $5 }
        $1 == "compress" { t = $2 }
        $1 == "ppl"      { p = sprintf("%.4f", $2); d = $5; sub(/\)$/, "", d) }
        $1 == "cosine"   { p = $3; d = $5; sub(/,$/, "", p) }
        END { printf "| `%s` | %d | %s | %s | %s | %.2f |\n", r, b, x, p, d, t }'
done
