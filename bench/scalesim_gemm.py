"""Cycle counts from SCALE-Sim 3.0.0 for GEMM shapes, to compare with the RTL.

Usage: scalesim_gemm.py ROWS COLS DATAFLOW M,N,K [M,N,K ...]
Prints one line per shape: "M N K total_cycles overall_util_percent".
SCALE-Sim's M/N/K: ifmap M x K, filters K x N (its M is our M, its N our N).
Run with the array geometry and dataflow ("os") of the RTL; bandwidth is
SCALE-Sim's CALC mode (it reports the compute cycles of an ideal memory).
"""
import contextlib
import csv
import io
import os
import sys
import tempfile

import numpy as np
from scalesim.memory import double_buffered_scratchpad_mem as dbsp
from scalesim.scale_sim import scalesim

# SCALE-Sim 3.0.0 calls int() on the max of a list of 1-element arrays, an
# error since NumPy 2: give that module a max() that returns a scalar.
dbsp.max = lambda *a: np.max(np.asarray(a[0] if len(a) == 1 else a))

CFG = """[general]
run_name = sparq_gemm

[architecture_presets]
ArrayHeight = {rows}
ArrayWidth = {cols}
IfmapSramSzkB = 1024
FilterSramSzkB = 1024
OfmapSramSzkB = 1024
IfmapOffset = 0
FilterOffset = 10000000
OfmapOffset = 20000000
Dataflow = {df}
Bandwidth = 64
ReadRequestBuffer = 32
WriteRequestBuffer = 32

[layout]
IfmapCustomLayout = False
IfmapSRAMBankBandwidth = 10
IfmapSRAMBankNum = 10
IfmapSRAMBankPort = 2
FilterCustomLayout = False
FilterSRAMBankBandwidth = 10
FilterSRAMBankNum = 10
FilterSRAMBankPort = 2

[sparsity]
SparsitySupport = false
SparseRep = ellpack_block
OptimizedMapping = false
BlockSize = 8
RandomNumberGeneratorSeed = 40

[run_presets]
InterfaceBandwidth = CALC
UseRamulatorTrace = False
"""


def main():
    rows, cols, df = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    shapes = [tuple(int(x) for x in s.split(",")) for s in sys.argv[4:]]
    with tempfile.TemporaryDirectory() as tmp:
        cfg = os.path.join(tmp, "sparq.cfg")
        with open(cfg, "w") as f:
            f.write(CFG.format(rows=rows, cols=cols, df=df))
        layout = os.path.join(tmp, "layout.csv")
        with open(layout, "w") as f:
            f.write("Layer, M, N, K,\n")
        for m, n, k in shapes:
            topo = os.path.join(tmp, "gemm_%d_%d_%d.csv" % (m, n, k))
            with open(topo, "w") as f:
                f.write("Layer, M, N, K,\ngemm, %d, %d, %d,\n" % (m, n, k))
            out = os.path.join(tmp, "out_%d_%d_%d" % (m, n, k))
            sim = scalesim(save_disk_space=True, verbose=False, config=cfg, topology=topo,
                           layout=layout, input_type_gemm=True)
            with contextlib.redirect_stdout(io.StringIO()):
                sim.run_scale(top_path=out)
            report = None
            for root, _, files in os.walk(out):
                if "COMPUTE_REPORT.csv" in files:
                    report = os.path.join(root, "COMPUTE_REPORT.csv")
            with open(report) as f:
                rows_ = list(csv.reader(f))
            hdr = [h.strip() for h in rows_[0]]
            vals = [v.strip() for v in rows_[1]]
            rec = dict(zip(hdr, vals))
            print(m, n, k, rec["Total Cycles"], rec["Overall Util %"], flush=True)


if __name__ == "__main__":
    main()
