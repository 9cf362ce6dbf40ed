#!/usr/bin/env bash
# The main job: a real model, compressed, run on the simulated accelerator,
# with the report. Called by `make demo` after deps and the build.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/fetch-models.sh
MODEL=$( [ -f models/stories260K.bin ] && echo models || echo ../shared/models )
set -x
build/sparq generate --model $MODEL/stories260K.bin --tokenizer $MODEL/tok512.bin \
  --recipe w8a8 --steps 200 --temperature 0
build/sparq eval --model $MODEL/stories260K.bin --tokenizer $MODEL/tok512.bin \
  --recipe w8a8 --text ../shared/data/tinystories_sample.txt
