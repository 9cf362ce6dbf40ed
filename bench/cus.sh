#!/usr/bin/env bash
# GEMM compute units (docs/accelerator.md, "GEMM compute units") on the cycle
# model at --target u280 (a 14.4 GB/s HBM2 pseudo-channel per port): a
# 1x4096x4096 int8 decode GEMM and a stories260K w8a8 decode (the whole
# token on the device) at U = 1, 2 and 4 GEMM units; writes
# bench/results/cus.md (about a minute of CPU). Run from the project root.
set -euo pipefail
cd "$(dirname "$0")/.."
make -j2 build/sparq >/dev/null
out=bench/results/cus.md
steps=32
{
    echo "# GEMM compute units on u280 (cycle model, 300 MHz)"
    echo
    echo "Written by \`bench/cus.sh\` on $(date -u +%Y-%m-%d). Each GEMM unit has its own AXI"
    echo "port on its own 14.4 GB/s HBM2 pseudo-channel; every GEMM is split along N across"
    echo "the units (M = 1). The model's cycles equal the rtl level's (tests/test_cp.c)."
    echo
    echo "| workload | U=1 cycles | U=2 cycles | U=4 cycles | U=1/U=2 | U=1/U=4 |"
    echo "|---|---|---|---|---|---|"
    row() { # name, then the three cycle counts
        printf '| %s | %s | %s | %s | %.2f | %.2f |\n' "$1" "$2" "$3" "$4" \
            "$(echo "$2 / $3" | bc -l)" "$(echo "$2 / $4" | bc -l)"
    }
    g=()
    for u in 1 2 4; do
        g+=("$(build/sparq gemm --backend model --target u280 --cus "$u" --shape 1x4096x4096 \
               | awk '$1 == "cycles" {print $2}')")
    done
    row "gemm 1x4096x4096 int8: cycles" "${g[@]}"
    t=()
    for u in 1 2 4; do
        build/sparq generate --recipe w8a8 --backend model --target u280 --cus "$u" \
            --steps "$steps" --temperature 0 --report /tmp/sq_cus_$u.json >/dev/null 2>&1
        t+=("$(.venv/bin/python -c "import json,sys; r=json.load(open(sys.argv[1])); \
p=r['phases']['decode']; print(round(p['cycles']/p['steps']))" /tmp/sq_cus_$u.json)")
    done
    row "stories260K w8a8 decode: device cycles per token" "${t[@]}"
    echo
    echo "Commands: \`build/sparq gemm --backend model --target u280 --cus U --shape 1x4096x4096\`;"
    echo "\`build/sparq generate --recipe w8a8 --backend model --target u280 --cus U --steps $steps"
    echo "--temperature 0 --report r.json\` (decode cycles per step from the report)."
} >"$out"
cat "$out"
