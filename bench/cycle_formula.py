#!/usr/bin/env python3
"""First-order closed-form cycle estimate of the GEMM unit, for reading the
schedule (docs/cycle_model.md), compared with the exact cycle model.

Usage (from the project root, after `make`):
    printf -- '--shape 1x64x64\\n--shape 64x64x1024 --sparse 2:4\\n' | \\
        bench/cycle_formula.py [--latency 30]
Each stdin line is a set of `sparq gemm` flags; prints the formula's cycles,
the `model` level's (`build/sparq gemm --backend model ... --json`) and the
error, then the max and mean absolute error. One beat per cycle of bandwidth
(the 512-bit port at 300 MHz on DDR4 or better), operands 64-byte aligned,
and the 16x16 array `sparq gemm` runs (SQ_ARRAY_ROWS x SQ_ARRAY_COLS).
"""
import argparse
import json
import subprocess
import sys

KCH = 2048  # K elements per chunk (rtl/gemm/sq_gemm_pkg.sv KchElems)


def beats(addr, n):
    return (addr % 64 + n - 1) // 64 + 1 if n else 0


def formula(M, N, K, w4, sp, bias, out32, R, C, L):
    """T = L + 5 + finish of the last job + drain/write tail, where the jobs
    follow the recurrence: issue (2 + per row 1 + bursts, or 1 for a row outside
    the operand) waits for a W slot (4) and an A slot (2); the job's data is in
    when its beats (after the latency, serialized with the previous jobs' beats
    and the previous tile's write beats) and its issue plus L are done; its
    steps start after the previous job's, and a tile ends at most every
    max(R, C) + 8 cycles."""
    wrow = (K + 1) // 2 if w4 else ((K + 3) // 4 * 2 if sp else K)
    mrow = ((K + 3) // 4 + 1) // 2
    jobs = []
    for m0 in range(0, M, R):
        for n0 in range(0, N, C):
            for k0 in range(0, K, KCH):
                kl = min(KCH, K - k0)
                need_a = K > KCH or n0 == 0
                wl = (kl + 1) // 2 if w4 else ((kl + 3) // 4 * 2 if sp else kl)
                koff = k0 // 2 if (w4 or sp) else k0
                rows = []
                if need_a:
                    rows += [(m0 + r < M, (m0 + r) * K + k0, kl) for r in range(R)]
                rows += [(n0 + r < N, (n0 + r) * wrow + koff, wl) for r in range(C)]
                if sp:
                    rows += [(n0 + r < N, (n0 + r) * mrow + k0 // 8, ((kl + 3) // 4 + 1) // 2)
                             for r in range(C)]
                nc = min(C, N - n0)
                if bias:
                    rows.append((True, n0 * 4, nc * 4))
                if not out32:
                    rows.append((True, n0 * 8, nc * 8))
                issue, nbeats = 2, 0
                for inside, addr, n in rows:
                    b = beats(addr, n) if inside else 0
                    issue += 1 + (-(-b // 64) if inside else 0)
                    nbeats += b
                last = k0 + KCH >= K
                mr = min(R, M - m0)
                wbeats = mr * beats(0, nc * (4 if out32 else 1)) if last else 0
                jobs.append(dict(issue=issue, beats=nbeats, steps=(kl + 3) // 4 if sp else (kl + 1) // 2,
                                 last=last, wbeats=wbeats, rows=mr, need_a=need_a,
                                 rel_a=K > KCH or n0 + C >= N))
    period = max(R, C) + 8
    iss = ret = 0
    fin, a_rel = [], []
    t_end = -period
    for j, jb in enumerate(jobs):
        st = max(iss, fin[j - 4] if j >= 4 else 0)
        if jb["need_a"] and len(a_rel) >= 2:
            st = max(st, a_rel[-2])
        iss = st + jb["issue"]
        prev_w = jobs[j - 1]["wbeats"] if j else 0
        ret = max(max(ret, st + 2 + L) + jb["beats"] + prev_w, iss + L)
        f = max(fin[-1] if fin else 0, ret + 1) + jb["steps"]
        if jb["last"]:
            f = max(f, t_end + period)
            t_end = f
        fin.append(f)
        if jb["rel_a"]:
            a_rel.append(f)
    mr = jobs[-1]["rows"]
    return L + 5 + fin[-1] + C + 6 + 2 * mr + (R - mr) + L + 2


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency", type=int, default=30, help="memory latency in cycles")
    args = ap.parse_args()
    R, C = 16, 16
    errs = []
    for line in sys.stdin:
        a = line.split()
        if not a:
            continue
        M, N, K = map(int, a[a.index("--shape") + 1].split("x"))
        w4 = "--wbits" in a and a[a.index("--wbits") + 1] == "4"
        f = formula(M, N, K, w4, "--sparse" in a, "--bias" in a,
                    "--out" in a and a[a.index("--out") + 1] == "int32", R, C, args.latency)
        out = subprocess.check_output(["build/sparq", "gemm", "--backend", "model", *a, "--json"])
        m = json.loads(out)["cycles"]
        e = (f - m) / m
        errs.append(abs(e))
        print(f"{' '.join(a):45s} model {m:8d} formula {f:8d} {100 * e:+6.1f}%")
    if errs:
        print(f"max {100 * max(errs):.1f}% mean {100 * sum(errs) / len(errs):.1f}%")


if __name__ == "__main__":
    main()
