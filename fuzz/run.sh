#!/usr/bin/env bash
# `make fuzz`: one AFL++ campaign per target, one after another, under nice
# (the machine is shared), then bench/results/fuzz.md from the campaigns'
# fuzzer_stats. FUZZ_S seconds per target, or FUZZ_EXECS executions.
# Campaign state is in build/fuzz/<target>/ (fresh each run); crashes and
# hangs AFL++ saves are listed at the end: reproduce one with
#   build/san/sparq-fuzz TARGET FILE
# and, once fixed, keep it in fuzz/crashes/TARGET/ so `make test` replays it.
# Usage: fuzz/run.sh AFL_BINARY TARGET...
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$1
shift
out=build/fuzz
mkdir -p "$out"
# AFL++ without root-only tuning (CPU governor, core_pattern), no curses UI,
# no CPU pinning on a machine others use.
export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1
# ASan + UBSan in the target: abort on a report, so AFL++ sees a crash; an
# allocation above 2 GiB from an input of at most 1 MB is one too (a size
# taken from a header unchecked), as under OSS-Fuzz's malloc limit.
export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0:max_allocation_size_mb=2048
export UBSAN_OPTIONS=abort_on_error=1:symbolize=0
limit=(-V "${FUZZ_S:-60}")
[ -n "${FUZZ_EXECS:-}" ] && limit=(-E "$FUZZ_EXECS")
for t in "$@"; do
  [ -d "fuzz/corpus/$t" ] || { echo "fuzz: no corpus fuzz/corpus/$t" >&2; exit 2; }
  rm -rf "${out:?}/$t"
  # the code a campaign fuzzed, for the record
  echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- host hls include fuzz || echo +changes)" \
    > "$out/$t.commit"
  # one input may do real work (a forward step, up to 8 descriptors): 5 s
  # before AFL++ calls it a hang
  echo "fuzz: $t (${limit[*]})" >&2
  nice -n 10 afl-fuzz -i "fuzz/corpus/$t" -o "$out/$t" "${limit[@]}" -m none -t 5000 \
    -- "$bin" "$t" >"$out/$t.log" 2>&1 || { tail -20 "$out/$t.log"; exit 1; }
done
./fuzz/report.sh "$@"
