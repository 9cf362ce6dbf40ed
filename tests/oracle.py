#!/usr/bin/env python3
"""The independent oracle: sparq's integer semantics written a second time, in
numpy, from the rules as include/sparq/spec.h, numerics.h and attn.h state
them, with no code shared with host/numerics or the HLS kernels (whose element
helpers the golden reference shares). It reads a case file (the format is in
host/runtime/case_file.h; `sparq regress --dump FILE` writes one), recomputes
every output from the inputs and checks:

  - golden == the oracle's answer (the golden reference is right), and
  - out == golden (the level that ran the case agrees),

element by element. Any disagreement is printed (the first few, with the
record, the index and both values) and the exit status is 1.

Ops are checked by the functions in CHECKS, one per record op; a new unit adds
its writer to case_file.h and one function here.

Usage: oracle.py CASE_FILE [--quiet]
"""
import json
import struct
import sys

import numpy as np

# spec.h
GEMM_W4, GEMM_SP24, GEMM_RELU, GEMM_OUT32, GEMM_BIAS, GEMM_GSCALE = 1, 2, 4, 8, 16, 32
ATTN_CAUSAL, ATTN_WINDOW, ATTN_GLOBAL, ATTN_BLOCK, ATTN_TOPK = 1, 2, 4, 8, 16
ATTN_BLK = 32
SHIFT_MAX = 62

DTYPES = {"int8": "<i1", "uint8": "<u1", "uint16": "<u2", "int32": "<i4", "uint32": "<u4"}


class Disagreement(Exception):
    pass


# ---------------------------------------------------------------------------
# Integer rules (numerics.h), on int64 arrays


def wrap32(x):
    """Two's complement wrap to int32 (accumulation and bias wrap mod 2^32)."""
    x = np.asarray(x, dtype=np.int64)
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def rshift_round(x, s):
    """(x + 2^(s-1)) >> s with an arithmetic shift; x itself for s = 0.
    s may be an array (one per output channel)."""
    x = np.asarray(x, dtype=np.int64)
    s = np.asarray(s, dtype=np.int64)
    half = np.where(s > 0, np.left_shift(np.int64(1), np.maximum(s - 1, 0)), 0)
    return np.right_shift(x + half, s)


def sat8(x):
    return np.clip(x, -128, 127)


def requant(acc, mult, shift):
    return sat8(rshift_round(np.asarray(acc, np.int64) * np.asarray(mult, np.int64), shift))


# ---------------------------------------------------------------------------
# GEMM (spec.h: C = epilogue(A . W^T + bias); numerics.h: formats)


def decode_weights(flags, w, meta, k):
    """The (n, k) int8 weights from their stored bytes."""
    n = w.shape[0]
    if flags & GEMM_W4:
        lo = (w & 0x0F).astype(np.int64)
        hi = (w >> 4).astype(np.int64)
        nib = np.stack([lo, hi], axis=2).reshape(n, -1)[:, :k]
        return np.where(nib >= 8, nib - 16, nib)
    if flags & GEMM_SP24:
        groups = (k + 3) // 4
        vals = w.view(np.int8).astype(np.int64).reshape(n, groups, 2)
        g = np.arange(groups)
        code = np.where(g % 2 == 0, meta[:, g // 2] & 0x0F, meta[:, g // 2] >> 4).astype(np.int64)
        p0, p1 = code & 3, (code >> 2) & 3
        if np.any(p0 >= p1):
            raise Disagreement("a 2:4 position code has first >= second; the golden must reject it")
        dense = np.zeros((n, groups, 4), dtype=np.int64)
        rows = np.arange(n)[:, None]
        dense[rows, g[None, :], p0] = vals[:, :, 0]
        dense[rows, g[None, :], p1] = vals[:, :, 1]
        return dense.reshape(n, groups * 4)[:, :k]
    return w.view(np.int8).astype(np.int64)[:, :k]


def gemm(p, a):
    m, n, k, flags = p["m"], p["n"], p["k"], p["flags"]
    w = decode_weights(flags, a["w"], a.get("meta"), k)
    x = a["a"].astype(np.int64)
    if flags & GEMM_GSCALE:
        # spec.h: each group's int32 partial sum times its Q15 factor,
        # rounded half up by 2^15, summed with wrap-around
        group = p["group"]
        if not 1 <= group <= k:
            raise Disagreement(f"group {group} outside [1, k]; the golden must reject it")
        gs = a["gscale"].astype(np.int64)
        acc = np.zeros((m, n), dtype=np.int64)
        for g in range(0, (k + group - 1) // group):
            part = wrap32(x[:, g * group:(g + 1) * group] @ w[:, g * group:(g + 1) * group].T)
            acc = wrap32(acc + rshift_round(part * gs[None, :, g], 15))
    else:
        acc = wrap32(x @ w.T)
    if flags & GEMM_BIAS:
        acc = wrap32(acc + a["bias"].astype(np.int64)[None, :])
    if not flags & GEMM_OUT32:
        mult, shift = a["quant"][:, 0].astype(np.int64), a["quant"][:, 1].astype(np.int64)
        if np.any(mult < 1) or np.any(shift > SHIFT_MAX) or np.any(shift < 0):
            raise Disagreement("a quant entry is out of range; the golden must reject it")
        acc = requant(acc, mult[None, :], shift[None, :])
    if flags & GEMM_RELU:
        acc = np.maximum(acc, 0)
    assert acc.shape == (m, n)
    return acc


# ---------------------------------------------------------------------------
# Attention (attn.h, rules 1-5)

EXP_FRAC, U_ZERO = 8, 16 << 8
# round(2^15 * 2^(-f/256)): computed here, not read from attn.h's table
EXP2 = np.array([int(round(32768.0 * 2.0 ** (-f / 256.0))) for f in range(256)], dtype=np.int64)


def candidates(p, mask, pos):
    """Rule 5: the candidate keys j < seq of the query at position pos."""
    flags, seq = p["flags"], p["seq"]
    j = np.arange(seq)
    if flags & (ATTN_WINDOW | ATTN_BLOCK):
        local = np.zeros(seq, dtype=bool)
        if flags & ATTN_WINDOW:
            local |= np.abs(pos - j) < p["window"]
        if flags & ATTN_BLOCK:
            row = mask[pos // ATTN_BLK]
            kb = j // ATTN_BLK
            local |= ((row[kb // 8] >> (kb % 8)) & 1).astype(bool)
    else:
        local = np.ones(seq, dtype=bool)
    glob = np.zeros(seq, dtype=bool)
    if flags & ATTN_GLOBAL:
        glob = (j < p["n_global"]) | (pos < p["n_global"])
    cand = local | glob
    if flags & ATTN_CAUSAL:
        cand &= j <= pos
    return cand


def softmax_row(p, a, h, i):
    """Rules 1-3 for query i of head h: cand, scores, sel, e, sum, P."""
    seq, heads, kvh = p["seq"], p["heads"], p["kv_heads"]
    g = h // (heads // kvh)
    pos = seq - p["queries"] + i
    cand = candidates(p, a.get("mask"), pos)
    q = a["q"][h, i].astype(np.int64)
    k = a["k"][g, :seq].astype(np.int64)
    s = np.where(cand, wrap32(k @ q), 0)
    idx = np.flatnonzero(cand)
    if p["flags"] & ATTN_TOPK and p["topk"] < len(idx):
        # the topk largest, ties to the lower index: a stable sort, unlike the
        # golden's bitwise threshold search
        order = idx[np.argsort(-s[idx], kind="stable")]
        idx = np.sort(order[: p["topk"]])
    sel = np.zeros(seq, dtype=bool)
    sel[idx] = True
    e = np.zeros(seq, dtype=np.int64)
    total = 0
    prob = np.zeros(seq, dtype=np.int64)
    if len(idx):
        s_mult, s_shift = int(a["quant"][h, 0]), int(a["quant"][h, 1])
        diff = s[idx] - s[idx].max()
        t = rshift_round(diff * s_mult, s_shift)
        u = np.where(t <= -U_ZERO, U_ZERO, -t)
        ev = np.where(u >= U_ZERO, 0, rshift_round(EXP2[u & 255], u >> EXP_FRAC))
        e[idx] = ev
        total = int(ev.sum())
        recip = (1 << 46) // total
        prob[idx] = (ev * recip + (1 << 30)) >> 31
    return cand, s, sel, e, total, prob


def attn(p, a):
    heads, queries, dim, seq = p["heads"], p["queries"], p["head_dim"], p["seq"]
    out = np.zeros((heads, queries, dim), dtype=np.int64)
    for h in range(heads):
        g = h // (heads // p["kv_heads"])
        o_mult, o_shift = int(a["quant"][h, 2]), int(a["quant"][h, 3])
        v = a["v"][g, :seq].astype(np.int64)
        for i in range(queries):
            _, _, _, _, _, prob = softmax_row(p, a, h, i)
            acc = wrap32(prob @ v)
            out[h, i] = requant(acc, o_mult, o_shift)
    return out


def check_softmax(p, a, report):
    cand, s, sel, e, total, prob = softmax_row(p, a, p["head"], p["query"])
    for name, want in (("cand", cand.astype(np.int64)), ("s", s), ("sel", sel.astype(np.int64)),
                       ("e", e), ("sum", np.array([total])), ("p", prob)):
        compare(report, "golden " + name, a[name], want)


def check_output(fn):
    def check(p, a, report):
        want = fn(p, a)
        compare(report, "golden", a["golden"], want)
        compare(report, "level output", a["out"], a["golden"])
    return check


# op -> check(params, arrays, report); the vector unit's ops go here too
CHECKS = {
    "gemm": check_output(gemm),
    "attn": check_output(attn),
    "softmax": check_softmax,
}


# ---------------------------------------------------------------------------


def compare(report, what, got, want):
    got = np.asarray(got, dtype=np.int64)
    want = np.asarray(want, dtype=np.int64)
    if got.shape != want.shape:
        raise Disagreement(f"{what}: shape {got.shape}, oracle {want.shape}")
    bad = np.argwhere(got != want)
    if len(bad):
        first = tuple(int(x) for x in bad[0])
        raise Disagreement(f"{what}: {len(bad)} of {got.size} differ, first at {first}: "
                           f"{int(got[first])} (oracle {int(want[first])})")
    report["values"] += got.size


def records(path):
    with open(path, "rb") as f:
        data = f.read()
    off = 0
    while off < len(data):
        if data[off:off + 4] != b"SQCF":
            raise SystemExit(f"oracle: {path}: no record at byte {off}")
        (hlen,) = struct.unpack_from("<I", data, off + 4)
        head = json.loads(data[off + 8:off + 8 + hlen])
        off += 8 + hlen
        arrays = {}
        for spec in head["arrays"]:
            dt = np.dtype(DTYPES[spec["dtype"]])
            count = int(np.prod(spec["shape"], dtype=np.int64))
            arr = np.frombuffer(data, dtype=dt, count=count, offset=off).reshape(spec["shape"])
            arrays[spec["name"]] = arr
            off += count * dt.itemsize
        yield head["op"], head["params"], arrays


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    quiet = "--quiet" in sys.argv[2:]
    counts, failures, report = {}, [], {"values": 0}
    for n, (op, params, arrays) in enumerate(records(sys.argv[1])):
        if op not in CHECKS:
            raise SystemExit(f"oracle: record {n}: no checker for op '{op}'")
        counts[op] = counts.get(op, 0) + 1
        try:
            CHECKS[op](params, arrays, report)
        except Disagreement as e:
            failures.append(f"record {n} ({op} {json.dumps(params, sort_keys=True)}): {e}")
    for f in failures[:10]:
        print("oracle: DISAGREE " + f)
    summary = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    if not quiet or failures:
        print(f"oracle: {summary} records, {report['values']} values compared, "
              f"{len(failures)} disagreements")
    if not counts:
        print("oracle: no records")
        sys.exit(1)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
