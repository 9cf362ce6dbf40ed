"""Turns bench_gemm's TSV into bench/results/gemm.md, adding SCALE-Sim cycles.

SCALE-Sim's PE does 1 MAC per cycle, ours 2 (two int8 products into one
accumulator), so next to SCALE-Sim at K we also run it at K/2: that is the
same array doing the same number of PE steps, the like-for-like comparison.
"""
import os
import platform
import subprocess
import sys

R = C = 16
PEAK = R * C * 2
SCALESIM_MAX_MACS = 512 ** 3  # larger shapes take SCALE-Sim minutes to hours


def scalesim(shapes):
    if not shapes:
        return {}
    here = os.path.dirname(os.path.abspath(__file__))
    args = [sys.executable, os.path.join(here, "scalesim_gemm.py"), str(R), str(C), "os"]
    args += ["%d,%d,%d" % s for s in shapes]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    res = {}
    for line in out.splitlines():
        m, n, k, cyc, _ = line.split()
        res[(int(m), int(n), int(k))] = int(cyc)
    return res


def main():
    rows = []
    with open(sys.argv[1]) as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            rows.append(dict(name=p[0], mode=p[1], m=int(p[2]), n=int(p[3]), k=int(p[4]),
                             cycles=int(p[5]), stall=int(p[6]), macs=int(p[7]),
                             rd=int(p[8]), wr=int(p[9]), secs=float(p[10])))
    want = set()
    for r in rows:
        if r["mode"] == "int8" and r["m"] * r["n"] * r["k"] <= SCALESIM_MAX_MACS:
            want.add((r["m"], r["n"], r["k"]))
            want.add((r["m"], r["n"], (r["k"] + 1) // 2))
    ss = scalesim(sorted(want))

    def table(sel, title):
        print("### " + title + "\n")
        print("| layer | mode | M | N | K | cycles | MAC util | stall cycles | MB read |"
              " SCALE-Sim K | ours/SS | SCALE-Sim K/2 | ours/SS(K/2) |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            if not sel(r):
                continue
            util = r["macs"] / (r["cycles"] * PEAK)
            s1 = ss.get((r["m"], r["n"], r["k"]))
            s2 = ss.get((r["m"], r["n"], (r["k"] + 1) // 2))
            fmt = lambda s: ("%d" % s) if s else "not run"
            rat = lambda s: ("%.2f" % (r["cycles"] / s)) if s else "-"
            if r["mode"] != "int8":
                s1 = s2 = None
            print("| %s | %s | %d | %d | %d | %d | %.3f | %d | %.2f | %s | %s | %s | %s |" % (
                r["name"], r["mode"], r["m"], r["n"], r["k"], r["cycles"], util, r["stall"],
                r["rd"] / 1e6, fmt(s1), rat(s1), fmt(s2), rat(s2)))
        print()

    print("# GEMM unit on the rtl level\n")
    print("Reproduce: `make bench-gemm` (runs `bench/gemm.sh`: `build/bench_gemm` on the shapes "
          "listed there, then `bench/gemm_report.py`, which calls `bench/scalesim_gemm.py`).\n")
    print("Setup: %dx%d output-stationary array, 2 int8 MACs per PE per cycle (peak %d MACs/cycle); "
          "device memory one DDR4 channel, 19.2 GB/s at 300 MHz = 64 B/cycle, 100 ns = 30 cycles "
          "per read burst; cycles are the kernel's ap_start-to-ap_done counter (descriptor fetch, "
          "loads, drain and final writes included). MAC utilization = useful MACs / (cycles x %d). "
          "Every run is checked bit-exact against sq_gemm_ref. Machine: %s, %s.\n"
          % (R, C, PEAK, PEAK, platform.machine(), platform.platform()))
    print("SCALE-Sim 3.0.0: same %dx%d array, dataflow os, GEMM input mode, CALC bandwidth "
          "(ideal memory); its PE does 1 MAC/cycle, so 'SCALE-Sim K/2' (same number of PE steps "
          "as our 2-MAC PE) is the like-for-like column. Shapes above 512^3 MACs were not run on "
          "SCALE-Sim (its trace generation takes too long).\n" % (R, C))
    table(lambda r: r["name"].startswith("sq"), "Square shapes")
    table(lambda r: r["name"] in ("q", "kv", "o", "w13", "w2", "cls") and r["m"] == 1,
          "stories260K layers, decode (M=1)")
    table(lambda r: r["name"] in ("q", "kv", "o", "w13", "w2", "cls") and r["m"] == 128,
          "stories260K layers, prefill (M=128)")
    table(lambda r: r["name"] in ("attn", "ffn_up", "ffn_down"), "all-MiniLM-L6-v2 (M=128)")

    tot_c = sum(r["cycles"] for r in rows)
    tot_s = sum(r["secs"] for r in rows)
    big = [r for r in rows if r["cycles"] > 200000]
    print("### Verilator simulation speed\n")
    print("All runs: %d cycles in %.1f s = %.0f cycles/s (single-threaded model, -O2, "
          "FST tracing compiled in but off; the C harness and memory model included)."
          % (tot_c, tot_s, tot_c / tot_s))
    if big:
        bc = sum(r["cycles"] for r in big)
        bs = sum(r["secs"] for r in big)
        print(" Runs over 200k cycles: %.0f cycles/s." % (bc / bs))
    print()


if __name__ == "__main__":
    main()
