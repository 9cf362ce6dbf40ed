#!/usr/bin/env python3
"""Where a SmolLM2-135M decode token's cycles go (bench/decode_ops.sh).

Runs `generate --timing-only` on the model level (cycle-exact against rtl,
docs/cycle_model.md) for 6 and for 16 steps and takes the difference, so that
the prefill run (M = 4) drops out: per op of a decode token, its unit's busy
cycles (units overlap, so they add up to more than the token's device
cycles), its bytes read and written, and their byte bound (bytes / 64, one
DDR4 channel's bytes per cycle at 300 MHz). Then tokens/s end to end (the
report's latency line over the 16-step run) against the memory roofline of
decode_bench.py, for a few configurations. With SPARQ_BASE set to another
build's binary, every figure gets a column for it too (before / after).
Writes bench/results/decode_ops.md.
"""
import collections
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import decode_bench as db  # noqa: E402

OUT = "bench/results/decode_ops.md"
SM = db.MODELS["SmolLM2-135M"]
# (target, batch, GEMM compute units)
CONFIGS = [("ddr4", 1, 1), ("ddr4", 4, 1), ("u250", 1, 4)]


def args(target, batch, cus, steps):
    a = ["--model", SM[0], "--recipe", "w8a8", "--prompt", SM[1], "--batch", str(batch),
         "--steps", str(steps), "--temperature", "0", "--backend", "model", "--target", target,
         "--array", "16x16", "--timing-only"]
    return a + (["--cus", str(cus)] if cus > 1 else [])


def ops(rep):
    d = collections.defaultdict(lambda: [0, 0])
    for o in rep["ops"]:
        d[o["op"]][0] += o["cycles"]
        d[o["op"]][1] += o["bytes_read"] + o["bytes_written"]
    return d


def measure(binary, target, batch, cus):
    db.SPARQ = binary
    a, _, _ = db.run(args(target, batch, cus, 6))
    b, _, _ = db.run(args(target, batch, cus, 16))
    n = b["phases"]["decode"]["steps"] - a["phases"]["decode"]["steps"]
    oa, ob = ops(a), ops(b)
    per = {k: ((ob[k][0] - oa[k][0]) / n, (ob[k][1] - oa[k][1]) / n) for k in ob}
    dev = (b["phases"]["decode"]["cycles"] - a["phases"]["decode"]["cycles"]) / n
    return per, dev, b["phases"]["decode"]["tokens_per_s"]


def main():
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    bins = [("after", db.SPARQ)]
    if os.environ.get("SPARQ_BASE"):
        bins.insert(0, ("before", os.environ["SPARQ_BASE"]))
    res = {(name, c): measure(path, *c) for name, path in bins for c in CONFIGS}
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True).stdout.strip()
    names = [n for n, _ in bins]
    L = ["# Where a decode token's cycles go (SmolLM2-135M w8a8)", ""]
    L.append(f"Reproduce: `bench/decode_ops.sh` ({rev}; `SPARQ_BASE=<an older build/sparq>` adds "
             "its columns). Model level (= rtl cycles), `generate --timing-only --steps 16` minus "
             "`--steps 6`: per op of one decode token, its unit's busy cycles (units overlap: "
             "the ops add up to more than the token's device cycles), bytes read + written, and "
             "x bound = cycles / (bytes / 64), 64 bytes a cycle being one DDR4 channel at 300 MHz.")
    L.append("")
    t, b, u = CONFIGS[0]
    L.append(f"Target {t}, batch {b}, array 16x16, {u} GEMM unit.")
    L.append("")
    cols = " | ".join(f"cycles ({n}) | x bound ({n})" for n in names)
    L.append(f"| op | bytes | {cols} |")
    L.append("|---|---|" + "---|---|" * len(names))
    last = res[names[-1], CONFIGS[0]][0]
    for op in sorted(last, key=lambda k: -last[k][0]):
        if not last[op][0]:
            continue
        cells = []
        for n in names:
            c, by = res[n, CONFIGS[0]][0].get(op, (0, 0))
            cells.append(f"{c:,.0f} | {c / (by / 64) if by else 0:.2f}")
        L.append(f"| {op} | {last[op][1]:,.0f} | {' | '.join(cells)} |")
    cells = " | ".join(f"{res[n, CONFIGS[0]][1]:,.0f} | " for n in names)
    L.append(f"| **device cycles per token** | | {cells}|")
    L.append("")
    L.append("Tokens/s end to end per decode step (device cycles at 300 MHz + 30 us launch + "
             "PCIe at 9 GB/s + host CPU: the report's latency line), aggregate over the batch, "
             "against the memory roofline of `bench/decode_bench.py` (every weight once plus the "
             "KV caches, over all of the target's channels):")
    L.append("")
    hdr = " | ".join(f"tokens/s ({n}) | frac ({n})" for n in names)
    L.append(f"| target | batch | GEMM units | roofline tokens/s | {hdr} |")
    L.append("|---|---|---|---|" + "---|---|" * len(names))
    for c in CONFIGS:
        roof, _ = db.roofline(SM, "w8a8", c[0], c[1])
        cells = " | ".join(f"{res[n, c][2]:.1f} | {res[n, c][2] / roof:.3f}" for n in names)
        L.append(f"| {c[0]} | {c[1]} | {c[2]} | {roof:.1f} | {cells} |")
    L.append("")
    open(OUT, "w").write("\n".join(L))


if __name__ == "__main__":
    main()
