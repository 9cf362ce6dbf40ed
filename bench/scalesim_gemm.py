#!/usr/bin/env python3
"""SCALE-Sim 3.0.0 compute cycles for sparq GEMM shapes, for comparison with the RTL.

Usage (from the project root):
    .venv/bin/python bench/scalesim_gemm.py [--array 16x16] [--dataflow os,ws]
        [--shapes 64x64x64,1x172x64,...] [--format csv|json] [--exact [--check]]

Prints one row (CSV) or one object (JSON list) per shape and dataflow with
SCALE-Sim's compute cycles, to stdout. Without --shapes, the preset list below
(squares, stories260K layers at M=1 and M=128, MiniLM layers at M=128).

Dimension mapping. SCALE-Sim's GEMM topology rows are `name, M, N, K,` and
topology_utils.load_arrays_gemm turns each into a convolution with an M x K
input map, a 1 x K filter and N filters: its ifmap operand matrix is M x K,
its filter operand matrix K x N and its ofmap M x N. sparq's GEMM is
C[M][N] = A[M][K] . W[N][K]^T, so SCALE-Sim's M, N, K are exactly sparq's M, N,
K (A = ifmap, W^T = filter, C = ofmap). On the array: output stationary ('os')
maps M to the R array rows and N to the C columns and streams K; weight
stationary ('ws') maps K to the rows and N to the columns and streams M.

What is counted. The cycle count is SCALE-Sim's compute model: the number of
rows of its demand matrices (one row per cycle; skew fill and drain included,
every fold padded to the full array), built by SCALE-Sim's own operand_matrix
and systolic_compute_os / systolic_compute_ws from a .cfg and a GEMM topology
CSV that this script writes and SCALE-Sim's parsers read. It excludes memory
stalls. SCALE-Sim's memory model (the whole simulator, `Total Cycles` in
COMPUTE_REPORT.csv) is not run: it is a per-cycle Python loop (hours for a
1024^3 GEMM), and in 3.0.0 with the pinned numpy 2.4 it fails at the end
(double_buffered_scratchpad_mem.py:307, int() of a 1-element array).

Fold extrapolation. SCALE-Sim builds its demand matrix by concatenating folds
one at a time (quadratic in the number of folds), yet every fold of a layer
has the same length because partial folds are padded. So by default each
shape is simulated on one fold along the folded dimensions (os: min(M,R) x
min(N,C) x K; ws: M x min(N,C) x min(K,R)) and multiplied by the fold count.
--exact simulates the full shape instead; `--exact --check` compares the two.
"""

import argparse
import json
import math
import os
import sys
import tempfile

from scalesim.compute.operand_matrix import operand_matrix
from scalesim.compute.systolic_compute_os import systolic_compute_os
from scalesim.compute.systolic_compute_ws import systolic_compute_ws
from scalesim.layout_utils import layouts
from scalesim.scale_config import scale_config
from scalesim.topology_utils import topologies

# (name, M, N, K). stories260K: dim 64, hidden 172, 4 of 8 heads for k/v
# (32 = 4 * 8), vocab 512. all-MiniLM-L6-v2: hidden 384, intermediate 1536.
PRESET = (
    [("square%d" % s, s, s, s) for s in (64, 128, 256, 512, 1024)]
    + [
        ("stories260K.%s.m%d" % (name, m), m, n, k)
        for m in (1, 128)
        for name, n, k in (
            ("q", 64, 64),
            ("k", 32, 64),
            ("v", 32, 64),
            ("o", 64, 64),
            ("w1", 172, 64),
            ("w3", 172, 64),
            ("w2", 64, 172),
            ("cls", 512, 64),
        )
    ]
    + [
        ("minilm.qkvo.m128", 128, 384, 384),
        ("minilm.ffn_up.m128", 128, 1536, 384),
        ("minilm.ffn_down.m128", 128, 384, 1536),
    ]
)

CFG = """[general]
run_name = sparq_{df}

[architecture_presets]
ArrayHeight : {rows}
ArrayWidth : {cols}
IfmapSramSzkB : 1024
FilterSramSzkB : 1024
OfmapSramSzkB : 1024
IfmapOffset : 0
FilterOffset : 10000000
OfmapOffset : 20000000
Dataflow : {df}
Bandwidth : 10
ReadRequestBuffer : 32
WriteRequestBuffer : 32

[layout]
IfmapCustomLayout : False
FilterCustomLayout : False
IfmapSRAMBankBandwidth : 10
IfmapSRAMBankNum : 10
IfmapSRAMBankPort : 2
FilterSRAMBankBandwidth : 10
FilterSRAMBankNum : 10
FilterSRAMBankPort : 2

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth : CALC
UseRamulatorTrace : False
"""


def write_inputs(tmp, rows, cols, df, name, m, n, k):
    """SCALE-Sim's own input files: config, GEMM topology, (empty) layout."""
    cfg = os.path.join(tmp, "sparq_%s.cfg" % df)
    with open(cfg, "w") as f:
        f.write(CFG.format(rows=rows, cols=cols, df=df))
    topo = os.path.join(tmp, "gemm.csv")
    with open(topo, "w") as f:
        f.write("Layer, M, N, K,\n%s, %d, %d, %d,\n" % (name, m, n, k))
    layout = os.path.join(tmp, "layout.csv")
    with open(layout, "w") as f:
        f.write("Layer,\n")
    return cfg, topo, layout


def compute_cycles(tmp, rows, cols, df, m, n, k):
    """Demand-matrix rows of SCALE-Sim's compute model for one GEMM."""
    cfg_path, topo_path, layout_path = write_inputs(tmp, rows, cols, df, "gemm", m, n, k)
    cfg = scale_config()
    cfg.read_conf_file(cfg_path)
    topo = topologies()
    topo.load_arrays(topofile=topo_path, mnk_inputs=True)
    layout = layouts()
    layout.load_arrays(layoutfile=layout_path, mnk_inputs=True)
    ops = operand_matrix()
    ops.set_params(config_obj=cfg, topoutil_obj=topo, layoututil_obj=layout, layer_id=0)
    _, ifmap = ops.get_ifmap_matrix()
    _, filt = ops.get_filter_matrix()
    _, ofmap = ops.get_ofmap_matrix()
    compute = systolic_compute_os() if df == "os" else systolic_compute_ws()
    compute.set_params(config_obj=cfg, ifmap_op_mat=ifmap, filter_op_mat=filt, ofmap_op_mat=ofmap)
    compute.create_demand_matrices()
    return compute.get_ofmap_demand_mat().shape[0]


def folds(rows, cols, df, m, n, k):
    """(fold count, one-fold shape) of SCALE-Sim's mapping."""
    if df == "os":
        return math.ceil(m / rows) * math.ceil(n / cols), (min(m, rows), min(n, cols), k)
    return math.ceil(k / rows) * math.ceil(n / cols), (m, min(n, cols), min(k, rows))


def parse_dims(text, what, count):
    parts = text.lower().split("x")
    if len(parts) != count or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError("%s must be %s positive integers joined by x, got '%s'"
                                         % (what, count, text))
    return tuple(int(p) for p in parts)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--array", default="16x16", help="rows x cols of the PE array (default 16x16)")
    ap.add_argument("--dataflow", default="os,ws", help="os, ws or os,ws (default os,ws)")
    ap.add_argument("--shapes", help="comma-separated MxNxK (default: the preset list)")
    ap.add_argument("--format", choices=("csv", "json"), default="csv")
    ap.add_argument("--exact", action="store_true", help="simulate every fold (slow for big shapes)")
    ap.add_argument("--check", action="store_true", help="with --exact: also extrapolate and compare")
    args = ap.parse_args()
    try:
        rows, cols = parse_dims(args.array, "--array", 2)
        shapes = PRESET
        if args.shapes:
            shapes = [("gemm%d" % i,) + parse_dims(s, "--shapes entry", 3)
                      for i, s in enumerate(args.shapes.split(","))]
    except argparse.ArgumentTypeError as e:
        ap.error(str(e))
    dataflows = args.dataflow.split(",")
    if not dataflows or any(df not in ("os", "ws") for df in dataflows):
        ap.error("--dataflow must be os, ws or os,ws, got '%s'" % args.dataflow)

    results = []
    with tempfile.TemporaryDirectory(prefix="sparq_scalesim_") as tmp:
        for i, (name, m, n, k) in enumerate(shapes):
            if sys.stderr.isatty():
                print("\rscalesim %d/%d" % (i + 1, len(shapes)), end="", file=sys.stderr)
            for df in dataflows:
                count, one = folds(rows, cols, df, m, n, k)
                extrapolated = count * compute_cycles(tmp, rows, cols, df, *one)
                cycles = compute_cycles(tmp, rows, cols, df, m, n, k) if args.exact else extrapolated
                if args.exact and args.check and cycles != extrapolated:
                    sys.exit("scalesim_gemm: %s %s: exact %d != extrapolated %d"
                             % (name, df, cycles, extrapolated))
                r = {
                    "name": name, "m": m, "n": n, "k": k, "dataflow": df,
                    "array_rows": rows, "array_cols": cols, "folds": count,
                    "macs": m * n * k, "cycles": cycles,
                    "utilization": round(m * n * k / (cycles * rows * cols), 4),
                }
                results.append(r)
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr)

    if args.format == "json":
        json.dump(results, sys.stdout, indent=1)
        print()
        return
    keys = list(results[0].keys())
    print(",".join(keys))
    for r in results:
        print(",".join(str(r[key]) for key in keys))


if __name__ == "__main__":
    main()
