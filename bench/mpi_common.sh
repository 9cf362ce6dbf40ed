# Sourced by the MPI benchmarks (bench/mpi.sh, regress_mpi.sh, parallel.sh):
# a temporary directory, mpirun's settings for this machine, and timed().
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# as root, more ranks than cores, shared memory between ranks, mpirun's own
# traffic on the loopback interface
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_pml=ob1 OMPI_MCA_oob_tcp_if_include=lo
MPIRUN="mpirun --oversubscribe --bind-to none"

timed() { # label, then the command; appends "label|wall|cpu|busiest|load" to $TMP/t
  local label=$1; shift
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  rm -f "$TMP"/rank.*
  /usr/bin/time -f "%e %U %S" -o "$TMP/time" nice -n 10 "$@" > "$TMP/out" 2> "$TMP/err" || {
    cat "$TMP/err" >&2; exit 1; }
  read -r wall user sys < "$TMP/time"
  # the busiest rank's own CPU time: the wall time if every rank had a free core
  local busiest=-
  if ls "$TMP"/rank.* > /dev/null 2>&1; then
    busiest=$(cat "$TMP"/rank.* | awk '{t = $1 + $2; if (t > m) m = t} END {printf "%.2f", m}')
  fi
  echo "$label|$wall|$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.2f", u + s}')|$busiest|$load" >> "$TMP/t"
}
# each rank under its own /usr/bin/time, into $TMP/rank.<rank>
RANK_TIME=(sh -c '/usr/bin/time -f "%U %S" -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' "$TMP/rank")
