#!/usr/bin/env bash
# Folds what a campaign found into the corpus: afl-cmin.bash keeps the smallest
# set of queue entries (seeds included) that reaches every edge the queue
# reached (the bash version: it runs afl-showmap on each file, as the replay
# mode needs, where afl-cmin hands the inputs over in shared memory), and the
# entries not already in fuzz/corpus/<target>/ are added as
# q-<sha1 prefix>, so `make test` replays them. Run after `make fuzz`.
# Usage: fuzz/minimize.sh TARGET...
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/afl/sparq-fuzz
export AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1
export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0:max_allocation_size_mb=2048
for t in "$@"; do
  q=build/fuzz/$t/default/queue
  [ -d "$q" ] || { echo "minimize: no campaign for $t" >&2; exit 2; }
  min=build/fuzz/$t/min
  rm -rf "$min"
  nice -n 10 afl-cmin.bash -i "$q" -o "$min" -m none -t 5000 -- "$bin" "$t" @@ >"build/fuzz/$t.cmin.log" 2>&1
  added=0
  for f in "$min"/*; do
    sum=$(sha1sum "$f" | cut -c1-12)
    # a seed or an earlier entry with the same bytes is already there
    if ! sha1sum fuzz/corpus/"$t"/* | cut -c1-12 | grep -qx "$sum"; then
      cp "$f" "fuzz/corpus/$t/q-$sum"
      added=$((added + 1))
    fi
  done
  echo "minimize: $t: $(ls "$min" | wc -l) inputs cover the queue, $added added to fuzz/corpus/$t"
done
