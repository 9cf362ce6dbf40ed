#!/usr/bin/env bash
# Command-processor benchmark on the rtl level (bench/cp_bench.c): a stories260K-
# shaped decode step as one launch of the accelerator kernel against the unit
# kernels launched by the host, the dispatch overhead per descriptor, and the
# Verilator speed of the accelerator kernel against the unit kernels, measured
# side by side in one run; writes bench/results/cp.md. `make bench-cp`.
set -euo pipefail
cd "$(dirname "$0")/.."
make -j2 build/bench_cp >/dev/null
mkdir -p bench/results
{
  echo "# Command processor: one launch per stream"
  echo
  echo "Measured by \`bench/cp.sh\` (\`make bench-cp\`) on $(date -u +%Y-%m-%d), $(nproc) cores"
  echo "shared with other jobs (wall and CPU times are this machine's, cycles are exact)."
  echo
  build/bench_cp
} > bench/results/cp.md.tmp
mv bench/results/cp.md.tmp bench/results/cp.md
echo "wrote bench/results/cp.md"
