#!/usr/bin/env bash
# Puts stories260K.bin and tok512.bin (karpathy/tinyllamas, MIT) in models/
# unless they are already there or in ../shared/models/, and checks their
# sha256 against the known-good files either way.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=https://huggingface.co/karpathy/tinyllamas/resolve/main/stories260K
declare -A SHA=(
  [stories260K.bin]=b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696
  [tok512.bin]=037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312
)

mkdir -p models
for f in stories260K.bin tok512.bin; do
  if [ -f "models/$f" ]; then src="models/$f"
  elif [ -f "../shared/models/$f" ]; then src="../shared/models/$f"
  else
    echo "fetch-models: downloading $f" >&2
    tmp=$(mktemp "models/$f.XXXXXX")
    if ! curl -fsSL --retry 3 -o "$tmp" "$BASE/$f"; then
      rm -f "$tmp"
      echo "fetch-models: cannot download $BASE/$f (no network?); put $f in models/" >&2
      exit 1
    fi
    mv "$tmp" "models/$f"
    src="models/$f"
  fi
  have=$(sha256sum "$src" | cut -d' ' -f1)
  if [ "$have" != "${SHA[$f]}" ]; then
    echo "fetch-models: $src has sha256 $have, expected ${SHA[$f]}" >&2
    exit 1
  fi
  echo "fetch-models: $src ok" >&2
done
