#!/bin/sh
# Accuracy of the integer encoder (docs/integer_layer.md, "The integer
# encoder"): all-MiniLM-L6-v2 sentence embeddings against fp32 on the 78
# sentences of tinystories_sample.txt that the MiniLM tables of
# docs/compression.md score, for the host path (integer linears, the rest
# fp32) and the whole encoder in integer arithmetic on the golden reference
# (--backend ref). The integer encoder's static ranges are calibrated on the
# 11 sentences of stories260K_greedy200.txt, none of them scored. Writes
# bench/results/minilm_int.md.
set -eu
cd "$(dirname "$0")/.."
SPARQ=build/sparq
DATA=../shared/data
OUT=bench/results/minilm_int.md
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# sentences as sq_bert_sentences splits them: at . ! ? and newlines, leading
# spaces dropped, pieces of at least 12 bytes without a story separator
sentences() {
  python3 -c '
import re, sys
t = open(sys.argv[1]).read()
ps = [p.lstrip(" ") for p in re.split(r"[.!?\n]", t)]
print("\n".join(p for p in ps if len(p) >= 12 and "<|" not in p))' "$1"
}
sentences "$DATA/tinystories_sample.txt" > "$TMP/scored.txt"
sentences "$DATA/stories260K_greedy200.txt" > "$TMP/calib.txt"
n=$(wc -l < "$TMP/scored.txt")
nc=$(wc -l < "$TMP/calib.txt")

cosines() { # fp32 file, other file -> "mean min"
  python3 -c '
import math, sys
def load(p): return [[float(x) for x in l.split()] for l in open(p) if l.strip()]
cs = []
for u, v in zip(load(sys.argv[1]), load(sys.argv[2])):
    cs.append(sum(x * y for x, y in zip(u, v)) /
              math.sqrt(sum(x * x for x in u) * sum(y * y for y in v)))
print(f"{sum(cs) / len(cs):.6f} | {min(cs):.6f}")' "$1" "$2"
}

"$SPARQ" embed --file "$TMP/scored.txt" > "$TMP/fp32.txt"
{
  echo "# Integer encoder accuracy (all-MiniLM-L6-v2)"
  echo
  echo "Reproduce: \`bench/minilm_int.sh\`, $(date -u +%Y-%m-%d). Cosine similarity of each"
  echo "sentence embedding (mean-pooled, L2-normalised) to the fp32 encoder's, over the $n"
  echo "sentences of tinystories_sample.txt (the MiniLM tables' sentences). *host*: the"
  echo "recipe's integer linears, everything else fp32 (\`embed --recipe R\`); *integer*: the"
  echo "whole encoder on the golden reference (\`embed --recipe R --backend ref\`: int8"
  echo "embeddings, integer LayerNorm, biases in the vector unit, bidirectional integer"
  echo "attention on the attention unit, integer GELU, int32 residuals), calibrated on the"
  echo "$nc sentences of stories260K_greedy200.txt (\`--calib\`, the default); mean pooling"
  echo "and the final normalisation run on the host."
  echo
  echo "| recipe | path | mean cosine | min cosine | runs/sentence | PCIe B/sentence |"
  echo "|---|---|---|---|---|---|"
  for r in w8a8 w4g32; do
    "$SPARQ" embed --file "$TMP/scored.txt" --recipe "$r" > "$TMP/host.txt"
    echo "| $r | host | $(cosines "$TMP/fp32.txt" "$TMP/host.txt") | - | - |"
    "$SPARQ" embed --file "$TMP/scored.txt" --recipe "$r" --backend ref \
      --report "$TMP/r.json" > "$TMP/int.txt" 2>/dev/null
    rp=$(python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))["phases"]["prefill"]
print("%.0f | %.0f" % (p["runs_per_step"], p["pcie_bytes_per_step"]))' "$TMP/r.json")
    echo "| $r | integer | $(cosines "$TMP/fp32.txt" "$TMP/int.txt") | $rp |"
  done
  echo
  echo "Runs per sentence: level ref has no command processor, so the host starts each"
  echo "unit's run (one launch per maximal run of one unit); with one it is one run."
  echo "PCIe bytes per sentence: the token ids in, the last hidden states (tokens x 384"
  echo "int32) out, and a sentence length's stream (99 descriptors, 12.7 KB) the first time"
  echo "that length runs."
} > "$OUT"
cat "$OUT"
