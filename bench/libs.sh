#!/usr/bin/env bash
# Hand-written code against the Debian libraries that replaced it (issue 15),
# measured side by side in one run; writes bench/results/libs.md.
#  - CRC-32 of a 100 MB file: host/util/crc32.c (byte table) vs zlib's crc32_z
#  - GPTQ on SmolLM2-135M layers: host/compress/linalg.c (hand-written
#    Cholesky, SPD inverse, Jacobi SVD) vs LAPACKE with OpenBLAS
# The replaced files are taken from git as of LIBS_OLD (the last commit that
# had them). Run under `nice` on a shared machine: timings are wall clock.
set -euo pipefail
cd "$(dirname "$0")/.."
LIBS_OLD=${LIBS_OLD:-ac4ca7f}
OLD=build/bench/old
mkdir -p "$OLD/util" "$OLD/compress" bench/results
git show "$LIBS_OLD:host/util/crc32.c" > "$OLD/crc32.c"
git show "$LIBS_OLD:host/util/crc32.h" > "$OLD/util/crc32.h"
git show "$LIBS_OLD:host/compress/linalg.c" > "$OLD/linalg.c"
make -j2 build/bench_crc build/bench_gptq build/bench_gptq_old >/dev/null
DATA=build/bench/crc_100MB.bin
[ -f "$DATA" ] || head -c 100000000 /dev/urandom > "$DATA"
crc=$(build/bench_crc "$DATA")
gptq_old=$(build/bench_gptq_old)
gptq_new=$(build/bench_gptq)
threads=${OPENBLAS_NUM_THREADS:-default (one per core)}
{
  echo "# Hand-written code vs the libraries that replaced it"
  echo
  echo "Reproduce: \`bench/libs.sh\` ($(date +%Y-%m-%d), $(nproc) cores, \`make\` build -O2;"
  echo "the replaced code from git as of $LIBS_OLD). Wall-clock on a machine shared with"
  echo "other jobs: ratios measured in one run, absolute times are upper bounds."
  echo
  echo "## CRC-32 of a 100 MB file (in memory, best of 5)"
  echo
  echo "| implementation | MB | seconds | MB/s | CRC |"
  echo "|---|---:|---:|---:|---|"
  while IFS=$'\t' read -r name mb s rate c; do
    echo "| $name | $mb | $s | $rate | $c |"
  done <<<"$crc"
  echo
  echo "## GPTQ (w4g32) on SmolLM2-135M-Instruct layers"
  echo
  echo "Synthetic calibration Hessian (256 samples), act order; OpenBLAS threads: $threads."
  echo "The checksum over the int4 codes shows both builds quantized alike."
  echo
  echo "| layer | n x k | hand-written linalg (s) | LAPACKE + OpenBLAS (s) | checksum old / new |"
  echo "|---|---|---:|---:|---|"
  paste <(echo "$gptq_old") <(echo "$gptq_new") |
    while IFS=$'\t' read -r name n k s_old sum_old _ _ _ s_new sum_new; do
      echo "| $name | $n x $k | $s_old | $s_new | $sum_old / $sum_new |"
    done
} > bench/results/libs.md
echo "wrote bench/results/libs.md"
