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
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_pml=ob1 OMPI_MCA_oob_tcp_if_include=lo
MPIRUN="mpirun --oversubscribe --bind-to none"
# the campaign of bench/regress.sh, cut to $CASES cases per unit
REGRESS="regress --unit all --cases $CASES --seed $SEED --max-work 4096 --backend $BACKEND"

timed() { # label, then the command; appends "label|wall|cpu|busiest|load" to $TMP/t
  local label=$1; shift
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  rm -f "$TMP"/rank.*
  /usr/bin/time -f "%e %U %S" -o "$TMP/time" nice -n 10 "$@" > "$TMP/out" 2> "$TMP/err" || {
    cat "$TMP/err" >&2; exit 1; }
  read -r wall user sys < "$TMP/time"
  local busiest=-
  if ls "$TMP"/rank.* > /dev/null 2>&1; then
    busiest=$(cat "$TMP"/rank.* | awk '{t = $1 + $2; if (t > m) m = t} END {printf "%.2f", m}')
  fi
  echo "$label|$wall|$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.2f", u + s}')|$busiest|$load" >> "$TMP/t"
  # the summary without its rates, for the comparison
  sed 's/, [0-9.]* cases\/s//' "$TMP/out" > "$TMP/norate"
}
RANK_TIME=(sh -c '/usr/bin/time -f "%U %S" -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' "$TMP/rank")

: > "$TMP/t"
for round in $(seq "$ROUNDS"); do
  timed "1 process" $SPARQ $REGRESS
  cp "$TMP/norate" "$TMP/ref"
  cp "$TMP/out" "$TMP/summary"
  for np in 1 2; do
    timed "mpirun -np $np" $MPIRUN -np $np "${RANK_TIME[@]}" $SPARQ $REGRESS
    cmp -s "$TMP/norate" "$TMP/ref" || { echo "regress_mpi.sh: -np $np output differs" >&2; exit 1; }
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
