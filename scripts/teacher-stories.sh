#!/bin/sh
# Prints N stories sampled from the fp32 model (seeds 1..N, temperature 1,
# 256 positions), separated by <|endoftext|>: calibration text that is not the
# evaluation text. Usage: scripts/teacher-stories.sh N > calib.txt
set -eu
SPARQ=${SPARQ:-build/sparq}
n=${1:-32}
i=1
while [ "$i" -le "$n" ]; do
    "$SPARQ" generate --temperature 1 --steps 256 --seed "$i"
    printf '\n<|endoftext|>\n'
    i=$((i + 1))
done
