#!/bin/sh
# Accuracy of the integer layer (docs/integer_layer.md): stories260K
# perplexity in fp32, on the host's integer-linears path, and with the whole
# token in integer arithmetic on the golden reference (--backend ref), on the
# whole sample text and on held-out stories. The held-out split is by story:
# stories 1, 3, 5 of tinystories_sample.txt calibrate (the integer layer's
# static ranges, and GPTQ), stories 2 and 4 are scored. Writes
# bench/results/intlayer.md.
set -eu
cd "$(dirname "$0")/.."
SPARQ=build/sparq
MODEL=../shared/models
SAMPLE=../shared/data/tinystories_sample.txt
OUT=bench/results/intlayer.md
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
M="--model $MODEL/stories260K.bin --tokenizer $MODEL/tok512.bin"

# split_stories K A B: the sample's stories into A and B by story number n (from 1):
# K = 0 puts odd n in A, even n in B; K > 0 puts story K in A, the rest in B
split_stories() {
  awk -v RS='<\\|endoftext\\|>' -v k="$1" -v a="$2" -v b="$3" '
    { gsub(/^\n+|\n+$/, ""); if ($0 == "") next; n++
      f = (k ? n == k : n % 2) ? a : b
      if (seen[f]++) printf "\n<|endoftext|>\n" > f
      printf "%s", $0 > f }' "$SAMPLE"
}
split_stories 0 "$TMP/calib.txt" "$TMP/heldout.txt"

ppl() { "$SPARQ" eval $M "$@" | awk '/^ppl/ { printf "%s (%s tokens)", $2, $4 }'; }

{
  echo "# Integer layer accuracy (stories260K)"
  echo
  echo "Perplexity, reproduced by \`bench/intlayer.sh\`. *host* runs the recipe's integer"
  echo "linears with everything else in fp32 on the host (\`eval --recipe R\`); *integer*"
  echo "runs the whole token in integer arithmetic on the golden reference"
  echo "(\`eval --recipe R --backend ref\`: int8 embedding, integer RMSNorm, RoPE,"
  echo "SwiGLU, residual, int8 KV cache, integer attention, int32 logits). *sample*"
  echo "scores all 5 stories of tinystories_sample.txt, calibrated on all of them;"
  echo "*held-out* scores stories 2 and 4, calibrated (static ranges, GPTQ) on"
  echo "stories 1, 3 and 5 only."
  echo
  echo "| recipe | path | sample | vs fp32 | held-out | vs fp32 |"
  echo "|---|---|---|---|---|---|"
  base_s=$(ppl --text "$SAMPLE" | cut -d' ' -f1)
  base_h=$(ppl --text "$TMP/heldout.txt" | cut -d' ' -f1)
  for r in fp32 w8a8 w4g32:gptq 2:4,w8a8; do
    for path in host integer; do
      [ "$r" = fp32 ] && [ "$path" = integer ] && continue
      extra=""
      [ "$path" = integer ] && extra="--backend ref"
      s=$(ppl --recipe "$r" $extra --text "$SAMPLE" --calib "$SAMPLE")
      h=$(ppl --recipe "$r" $extra --text "$TMP/heldout.txt" --calib "$TMP/calib.txt")
      ds=$(echo "$s $base_s" | awk '{ printf "%+.2f%%", ($1 / $NF - 1) * 100 }')
      dh=$(echo "$h $base_h" | awk '{ printf "%+.2f%%", ($1 / $NF - 1) * 100 }')
      echo "| $r | $path | $s | $ds | $h | $dh |"
    done
  done
  echo
  echo "Five-fold by story (each story scored with the static ranges calibrated on the"
  echo "other four; all 1804 tokens pooled), w8a8:"
  echo
  echo "| path | perplexity | vs fp32 |"
  echo "|---|---|---|"
  for path in host "host, int8 attention (--attn dense)" integer; do
    extra=""
    [ "$path" = integer ] && extra="--backend ref"
    [ "$path" = "host, int8 attention (--attn dense)" ] && extra="--attn dense"
    cv=$(for i in 1 2 3 4 5; do
      split_stories "$i" "$TMP/e.txt" "$TMP/c.txt"
      "$SPARQ" eval $M --recipe w8a8 $extra --text "$TMP/e.txt" --calib "$TMP/c.txt" | grep '^ppl'
      rm -f "$TMP/e.txt" "$TMP/c.txt"
    done | awk '{ nll += $4 * log($2); n += $4 } END { printf "%.6f (%d tokens)", exp(nll / n), n }')
    d=$(echo "$cv $base_s" | awk '{ printf "%+.2f%%", ($1 / $NF - 1) * 100 }')
    echo "| $path | $cv | $d |"
  done
  echo
  echo "Where the integer layer's difference comes from (w8a8, held-out): the host path"
  echo "with int8 attention on per-head dynamic scales (\`--attn dense\`) scores"
  echo "$(ppl --recipe w8a8 --attn dense --text "$TMP/heldout.txt" --calib "$TMP/calib.txt"):"
  echo "the int8 Q/K/V and the integer softmax account for most of it; static"
  echo "calibrated Q/K/V/O scales, the int8 embedding and the fixed-point rest for the remainder."
} > "$OUT"
cat "$OUT"
