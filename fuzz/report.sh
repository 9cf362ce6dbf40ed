#!/usr/bin/env bash
# Writes bench/results/fuzz.md from the AFL++ campaigns in build/fuzz/<target>/
# (fuzz/run.sh). Usage: fuzz/report.sh TARGET...
set -euo pipefail
cd "$(dirname "$0")/.."
stat() { sed -n "s/^$2 *: *//p" "build/fuzz/$1/default/fuzzer_stats"; }
{
  echo "# Fuzzing: AFL++ campaigns on every loader"
  echo
  echo "Reproduce: \`make fuzz FUZZ_EXECS=N\` (or \`FUZZ_S=seconds\`), one campaign per target"
  echo "after another under \`nice -n 10\`; AFL++ $(afl-fuzz -h 2>&1 | sed -n 's/.*afl-fuzz++\([0-9a-z.]*\).*/\1/p' | head -1)"
  echo "from Debian with afl-clang-fast (clang 14), the targets built with ASan + UBSan (a report"
  echo "aborts: a crash to AFL++), persistent mode. Seeds: \`fuzz/corpus/<target>/seed-*\`"
  echo "(\`make fuzz-seeds\`); targets and inputs: fuzz/README.md. $(date +%Y-%m-%d), $(nproc) cores"
  echo "shared with other jobs. \"code\" is the commit the campaign's binary was built from."
  echo "What earlier campaigns found, and the fixes, are listed in fuzz/README.md; each"
  echo "finding's input is replayed by \`make test\` from fuzz/crashes/."
  echo
  echo "| target | code | executions | execs/s | corpus (paths) | edges found | crashes | hangs | wall s |"
  echo "|---|---|---:|---:|---:|---|---:|---:|---:|"
  for t in "$@"; do
    f=build/fuzz/$t/default/fuzzer_stats
    [ -f "$f" ] || continue
    start=$(stat "$t" start_time); last=$(stat "$t" last_update)
    echo "| $t | $(cat "build/fuzz/$t.commit" 2>/dev/null || echo '?') | $(stat "$t" execs_done) | $(stat "$t" execs_per_sec) | $(stat "$t" corpus_count) |" \
         "$(stat "$t" bitmap_cvg) | $(stat "$t" saved_crashes) | $(stat "$t" saved_hangs) |" \
         "$((last - start)) |"
  done
} > bench/results/fuzz.md
echo "wrote bench/results/fuzz.md"
for t in "$@"; do
  for kind in crashes hangs; do
    d=build/fuzz/$t/default/$kind
    [ -d "$d" ] && ls "$d" | grep -qv README && echo "fuzz: $t: $kind in $d" >&2
  done
done
exit 0
