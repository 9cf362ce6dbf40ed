#!/usr/bin/env bash
# `sparq regress` over MPI ranks (issue 13, point 5): the same campaign as one
# process and under mpirun -np 1 and 2 on this machine, every output compared
# with the single-process one (the rates aside); wall time, CPU time and the
# busiest rank's CPU time, and cases per second from each. Writes
# bench/results/regress_mpi.md. Run from the project root after `make`.
set -euo pipefail
cd "$(dirname "$0")/.."
SPARQ=build/sparq
SEED=20261207
CASES=${REGRESS_CASES:-300}
BACKEND=${REGRESS_BACKEND:-rtl}
ROUNDS=${ROUNDS:-2}
OUT=bench/results/regress_mpi.md
. bench/mpi_common.sh
# the output without its rates, for the comparison
norate() { sed 's/, [0-9.]* cases\/s//' "$TMP/out"; }
# the campaign of bench/regress.sh, cut to $CASES cases per unit
REGRESS="regress --unit all --cases $CASES --seed $SEED --max-work 4096 --backend $BACKEND"

: > "$TMP/t"
for round in $(seq "$ROUNDS"); do
  timed "1 process" $SPARQ $REGRESS
  norate > "$TMP/ref"
  cp "$TMP/out" "$TMP/summary"
  for np in 1 2; do
    timed "mpirun -np $np" $MPIRUN -np $np "${RANK_TIME[@]}" $SPARQ $REGRESS
    norate | cmp -s - "$TMP/ref" || { echo "regress_mpi.sh: -np $np output differs" >&2; exit 1; }
  done
done

total=$((2 * CASES))
{
  echo "# regress over MPI ranks"
  echo
  echo "Reproduce: \`bench/regress_mpi.sh\` (\`ROUNDS=$ROUNDS REGRESS_CASES=$CASES\`), $(date -u +%Y-%m-%d),"
  echo "Open MPI $(mpirun --version | head -1 | sed 's/.*) //'), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')),"
  echo "shared with other jobs (*load*: the 1-minute load average when the run started). Every"
  echo "run is niced; its output was compared with the single-process output, the rates aside"
  echo "(all equal). The campaign, the one of \`bench/regress.sh\` cut to $CASES cases a unit:"
  echo
  echo '```'
  echo "build/sparq $REGRESS"
  cat "$TMP/summary"
  echo '```'
  echo
  echo "*cases/s* divides the $total cases by the wall time; *cases/s a free core each* by the"
  echo "busiest rank's CPU time (user + system), the wall time the run would take with a core"
  echo "per rank and nothing else running."
  echo
  echo "| run | wall s | CPU s | busiest rank CPU s | load | cases/s | cases/s a free core each |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  awk -F'|' -v n="$total" '{
      free = ($4 == "-") ? $3 : $4;
      printf "| %s | %s | %s | %s | %s | %.1f | %.1f |\n", $1, $2, $3, $4, $5, n / $2, n / free }' "$TMP/t"
} > "$OUT"
echo "wrote $OUT"
