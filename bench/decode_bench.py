#!/usr/bin/env python3
"""Decode throughput against the memory roofline (bench/decode.sh).

For each target (its real memory channels), recipe and batch, runs the whole
token on the model level (cycle-exact: model == rtl, docs/cycle_model.md) and
writes bench/results/decode.md and decode_batch.svg:

- SmolLM2-135M with its real GGUF weights. The table's runs are --timing-only
  (no outputs computed, no calibration). Cycles depend on values only through
  the embedding gather's row alignment (token ids), which one computing run per
  recipe (ddr4, batch 1) bounds: it prints its text and its cycles must be
  within 0.1% of the timing-only run's.
- Llama-2-7B as a dummy model (random weights, same shapes). Its 32 layers do
  not fit this machine's memory twice over, so each point runs 1 and 2 layers;
  the layers of a decode step are identical, so a step of L layers takes
  t(1) + (L - 1) (t(2) - t(1)) (docs/loaders.md checks linearity).

Tokens/s is end to end per decode step as the report models it: device cycles
at 300 MHz + 30 us launch per run + PCIe bytes at 9 GB/s + the host's own CPU
time. The roofline is the card's memory system (all its channels) reading the
step's minimum bytes: every weight once (packed: int8 1 B, int4 g128 0.5 B +
a 2-byte scale per 128, 2:4 0.5 B + 2 bits of position per kept value) plus
the sequences' int8 KV caches at their mean decode position.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

SPARQ = os.environ.get("SPARQ", "build/sparq")
OUT = "bench/results/decode.md"
SVG = "bench/results/decode_batch.svg"
# channels and GB/s per channel (host/report: --target)
TARGETS = {"ddr4": (1, 19.2), "u250": (4, 19.2), "u280": (32, 14.4), "f2": (32, 14.4)}
RECIPES = ["w8a8", "w4g128", "2:4,w8a8"]
BATCHES = [1, 4, 16]
STEPS = 16
# The configuration each target builds: array and GEMM compute units (one
# port, one memory channel each; --cus). U is the most GEMM units that the
# card's channels and DSP48E2s take, at most 8 (sq_accel_top's U): a 16x16
# unit as built takes 837 DSPs (host/report/resources.h, 3RC + 4C + 5 with the
# group scales' products), the attention unit 42 and the vector unit 114
# (bench/results/resources.md). ddr4 is one channel, with no card's budget.
GEMM_DSP, ATTN_DSP, VEC_DSP = 837, 42, 114
GEMM_LUT = 90932 + 57744 + 474  # 16x16, flattened, before the DSP packing (gemm_synth.md)
BUDGET = {"u250": (12288, 1728000), "u280": (9024, 1304000), "f2": (9024, 1304000)}
CONFIG = {"ddr4": ("16x16", 1), "u250": ("16x16", 4), "u280": ("16x16", 8), "f2": ("16x16", 8)}
MODELS = {
    # name: (--model, prompt, layers, dim, hidden, kv_dim, vocab, layers run)
    "SmolLM2-135M": ("smollm2", "Once upon a time", 30, 576, 1536, 192, 49152, None),
    "Llama-2-7B (dummy)": ("dummy:llama2-7b,seq=64", "1 2 3 4", 32, 4096, 11008, 4096,
                           32000, (1, 2)),
}
PROMPT_TOKENS = 4  # both prompts are four tokens (SmolLM2's BPE: "Once upon a time")
WBYTES = {"w8a8": 1.0, "w4g128": 0.5 + 2 / 128, "2:4,w8a8": 0.5 + 0.25 / 2}


def run(args):
    t0 = time.time()
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    try:
        p = subprocess.run([SPARQ, "generate"] + args + ["--report", path],
                           capture_output=True, text=True)
        if p.returncode:
            sys.exit(f"decode_bench: {' '.join(args)}: {p.stderr.strip().splitlines()[-1]}")
        rep = json.load(open(path))
    finally:
        for x in (path, path[:-5] + ".svg"):
            if os.path.exists(x):
                os.unlink(x)
    return rep, p.stdout, time.time() - t0


def base_args(model, prompt, recipe, target, batch, timing):
    array, cus = CONFIG[target]
    a = ["--model", model, "--recipe", recipe, "--prompt", prompt, "--batch", str(batch),
         "--steps", str(STEPS), "--temperature", "0", "--backend", "model", "--target", target,
         "--array", array]
    if cus > 1:
        a += ["--cus", str(cus)]
    return a + (["--timing-only"] if timing else [])


def decode_step(rep):
    """Per decode step: device us, end-to-end us."""
    d = rep["phases"]["decode"]
    return d["device_us"], d["total_us"]


def roofline(m, recipe, target, batch):
    _, _, layers, dim, hidden, kvd, vocab, _ = m
    ch, gbps = TARGETS[target]
    w = (layers * (2 * dim * dim + 2 * dim * kvd + 3 * dim * hidden) + vocab * dim) * WBYTES[recipe]
    mean_pos = (PROMPT_TOKENS + STEPS - 1) / 2
    kv = batch * 2 * layers * kvd * mean_pos
    return batch / ((w + kv) / (ch * gbps * 1e9)), w + kv


def point(name, m, recipe, target, batch, progress):
    model, prompt, layers, *_, run_layers = m
    if run_layers is None:
        rep, _, s = run(base_args(model, prompt, recipe, target, batch, True))
        dev, tot = decode_step(rep)
    else:
        t = []
        s = 0
        for L in run_layers:
            rep, _, si = run(base_args(f"{model},layers={L}", prompt, recipe, target, batch, True))
            t.append(decode_step(rep))
            s += si
        per = t[1][0] - t[0][0]
        dev = t[0][0] + (layers - 1) * per
        tot = t[0][1] + (layers - 1) * per
    progress()
    roof, _ = roofline(m, recipe, target, batch)
    return {"dev_us": dev, "tot_us": tot, "tps": batch / tot * 1e6, "roof": roof, "s": s,
            "runs": rep["runs_per_token"]}


def main():
    os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    total = len(MODELS) * len(TARGETS) * len(RECIPES) * len(BATCHES) + len(RECIPES)
    done = [0]
    tty = sys.stderr.isatty()

    def progress():
        done[0] += 1
        if tty:
            sys.stderr.write(f"\rdecode_bench: {done[0]}/{total} points")
            sys.stderr.flush()

    # the real-weights check: computing run == timing-only run, per recipe
    sm = MODELS["SmolLM2-135M"]
    checks = []
    for r in RECIPES:
        full, text, s = run(base_args(sm[0], sm[1], r, "ddr4", 1, False))
        fast, _, _ = run(base_args(sm[0], sm[1], r, "ddr4", 1, True))
        a, b = full["total"]["cycles"], fast["total"]["cycles"]
        if abs(b - a) > 1e-3 * a:
            sys.exit(f"decode_bench: {r}: timing-only cycles {b} against the computing run's {a}")
        checks.append((r, a, b, text.strip().replace("\n", " "), s))
        progress()
    res = {}
    for name, m in MODELS.items():
        for t in TARGETS:
            for r in RECIPES:
                for b in BATCHES:
                    res[name, t, r, b] = point(name, m, r, t, b, progress)
    if tty:
        sys.stderr.write("\n")
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True).stdout.strip()
    L = []
    L.append("# Decode throughput against the memory roofline")
    L.append("")
    L.append(f"Reproduce: `bench/decode.sh` ({time.strftime('%Y-%m-%d', time.gmtime())}, {rev}). "
             "Every point is `build/sparq generate --backend model --temperature 0 --steps "
             f"{STEPS} --prompt P --batch B --recipe R --target T --timing-only` (the whole token "
             "on the device: one run per step). The model level is cycle-exact against rtl "
             "(`docs/cycle_model.md`).")
    L.append("")
    L.append("- **tokens/s** is end to end per decode step, aggregate over the batch: device "
             "cycles at 300 MHz + 30 us launch per run + PCIe transfers at 9 GB/s + the host's "
             "own CPU time (the report's latency line).")
    L.append("- **roofline** is the card's whole memory system (all channels) reading the step's "
             "minimum bytes: every weight once, packed (int8 1 B; int4 g128 0.5 B + a 2-byte "
             "scale per 128; 2:4 0.5 B + 2 bits of position per kept value), plus each sequence's "
             "int8 KV cache at its mean decode position. **frac** = tokens/s / roofline.")
    L.append("- SmolLM2-135M runs its real GGUF weights. Timing-only runs skip calibration and "
             "outputs; the computing runs at the end bound what that changes (token ids move "
             "the embedding gather's alignment: under 0.1% of the cycles).")
    L.append("- Llama-2-7B is `dummy:llama2-7b,seq=64` (random weights in the compressed format). "
             "Each point runs 1 and 2 layers and extrapolates linearly to 32 (identical layers).")
    L.append("")
    L.append("Configuration per target: GEMM compute units (`--cus U`, each its own port on its "
             "own channel) up to the card's channels, its DSP48E2s and sq_accel_top's 8. DSPs: "
             f"{GEMM_DSP} per 16x16 GEMM unit (group-scale products included; "
             "`host/report/resources.h`), attention "
             f"{ATTN_DSP}, vector {VEC_DSP}. LUTs: {GEMM_LUT:,} per GEMM unit from the flattened "
             "yosys run before the DSP packing (`gemm_synth.md`; yosys counts more than Vivado "
             "would), attention and vector not counted. Nothing here is placed and routed.")
    L.append("")
    L.append("| target | memory | array | GEMM CUs | DSP48E2 (share) | GEMM LUTs (share) |")
    L.append("|---|---|---|---|---|---|")
    for t, (ch, g) in TARGETS.items():
        a, u = CONFIG[t]
        dsp = u * GEMM_DSP + ATTN_DSP + VEC_DSP
        lut = u * GEMM_LUT
        if t in BUDGET:
            bd, bl = BUDGET[t]
            res = f"{dsp:,} ({dsp / bd:.0%}) | {lut:,} ({lut / bl:.0%})"
        else:
            res = f"{dsp:,} | {lut:,}"
        L.append(f"| {t} | {ch} x {g} GB/s = {ch * g:.1f} GB/s | {a} | {u} | {res} |")
    L.append("")
    L.append("With U units a GEMM of M = 1 is split along N, one slice a unit, so the weights "
             "stream over U channels; the roofline counts all the card's channels, so on "
             "u280 and f2 at most 8 of 32 channels work (frac <= 0.25). A GEMM of M > 1 is "
             "split along M (the descriptor has no output row stride for an N slice), so every "
             "unit reads all the weights: batches gain nothing from U yet.")
    L.append("")
    for name in MODELS:
        L.append(f"## {name}")
        L.append("")
        L.append("| target | recipe | batch | device us/step | e2e us/step | tokens/s | "
                 "tokens/s/seq | roofline tokens/s | frac | s |")
        L.append("|---|---|---|---|---|---|---|---|---|---|")
        for t in TARGETS:
            for r in RECIPES:
                for b in BATCHES:
                    p = res[name, t, r, b]
                    L.append(f"| {t} | `{r}` | {b} | {p['dev_us']:,.0f} | {p['tot_us']:,.0f} | "
                             f"{p['tps']:,.1f} | {p['tps'] / b:,.1f} | {p['roof']:,.1f} | "
                             f"{p['tps'] / p['roof']:.3f} | {p['s']:.0f} |")
        L.append("")
    L.append("## Real weights: computing runs against timing-only")
    L.append("")
    L.append("SmolLM2-135M, ddr4, batch 1, calibrated on `tinystories_sample.txt#calib`, all "
             f"{STEPS} positions. Cycles depend on values in one place: the embedding gather "
             "reads a row at an address set by the token id, and a row's alignment to the "
             "vector unit's 128-byte blocks sets how many blocks it reads. A timing-only run "
             "computes no token ids, so it differs by that much (the bench stops above 0.1%).")
    L.append("")
    L.append("| recipe | cycles, computing | cycles, timing-only | difference | text | s |")
    L.append("|---|---|---|---|---|---|")
    for r, a, b, text, s in checks:
        L.append(f"| `{r}` | {a:,} | {b:,} | {(b - a) / a:+.4%} | {text} | {s:.0f} |")
    L.append("")
    L.append(f"Plot: `{os.path.basename(SVG)}` (tokens/s against batch, w8a8, per target).")
    open(OUT, "w").write("\n".join(L) + "\n")
    plot(res)


def plot(res):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(MODELS), figsize=(10, 4))
    for ax, name in zip(axes, MODELS):
        for t in TARGETS:
            ys = [res[name, t, "w8a8", b]["tps"] for b in BATCHES]
            ax.plot(BATCHES, ys, marker="o", label=f"{t}")
            roof = [res[name, t, "w8a8", b]["roof"] for b in BATCHES]
            ax.plot(BATCHES, roof, linestyle=":", color=ax.lines[-1].get_color())
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(BATCHES)
        ax.set_xticklabels([str(b) for b in BATCHES])
        ax.set_xlabel("batch (sequences decoded at once)")
        ax.set_ylabel("tokens/s, aggregate (dotted: memory roofline)")
        ax.set_title(f"{name}, w8a8")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(SVG)


if __name__ == "__main__":
    main()
