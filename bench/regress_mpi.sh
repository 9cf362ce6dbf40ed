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
  # CPU ms per case as one process, and the busiest rank's share at 2 ranks
  read -r ms share < <(awk -F'|' -v n="$total" '
      $1 == "1 process" && !one {one = $3}
      $1 == "mpirun -np 1" && !r1 {r1 = $4}
      $1 == "mpirun -np 2" && !r2 {r2 = $4}
      END {printf "%.1f %.2f\n", one * 1000 / n, r2 / r1}' "$TMP/t")
  cat <<EOF2

## Reading

- This machine's 2 cores are shared by several agents' jobs (load 12-15 during the
  runs), so the wall times say little; the CPU times are the ranks' own. A case costs
  $ms ms of CPU on average here (rtl, this campaign's shapes). At 2 ranks the busiest
  rank needs $share of the CPU time one rank needs: round robin deals both units'
  costly and cheap cases evenly, and nothing but one 528-byte record per rank and unit
  (and the failing lines, none here) goes to rank 0.
- Under mpirun the rank that finishes first waits in MPI_Gather; Open MPI polls
  there, which adds CPU time but no wall time when each rank has its own core.

## What to expect on a cluster

T(N) = launch(N) + (cases x cost a case) / N + the costliest single case, where launch
is mpirun, MPI_Init and Finalize (0.8-1.3 s for 1-4 ranks here, \`bench/results/mpi.md\`;
seconds for hundreds of ranks over Slurm) and each rank builds its own Verilator
model. Cases are independent and deterministic in (seed, i), so nothing else limits
the scaling: the 2 x 100,000-case campaign of \`bench/regress.sh\` is about
$(awk -v ms="$ms" 'BEGIN {printf "%.0f", 200000 * ms / 1000}') CPU seconds at this rate, so
$(awk -v ms="$ms" 'BEGIN {printf "%.0f", 200000 * ms / 1000 / 64}') s on 64 ranks (4 nodes x 16 cores) and a 10^7-case campaign
$(awk -v ms="$ms" 'BEGIN {printf "%.1f", 10000000 * ms / 1000 / 64 / 3600}') h there, against
$(awk -v ms="$ms" 'BEGIN {printf "%.0f", 10000000 * ms / 1000 / 3600}') h on one core. A campaign with thousands of failures sends
each failing line once (about 300 bytes), still far below any network's concern.
EOF2
} > "$OUT"
echo "wrote $OUT"
