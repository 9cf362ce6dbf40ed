#!/usr/bin/env python3
"""Independent oracle for the vector unit's golden reference.

Recomputes every op of a case file written by tests/test_vec.c from the rules
as docs/integer_layer.md and include/sparq/vec.h state them, in Python's
unbounded integers (so an overflow in the C code shows up as a difference),
and compares every output element and record. It shares no code with
host/numerics: the exp table is rebuilt from its definition, divisions and
square roots use Python's exact integer operations.

usage: vec_oracle.py CASES.json   (exit 0: all equal; 1: the first difference)
"""
import json
import math
import sys

GATHER, NORM, ADD, DEQ, ROPE, SWIGLU, GELU, QUANT, ARGMAX, COPY = range(10)
ACC, Q8, BIAS, LN, ROT = 1, 2, 4, 8, 16

EXP2 = [round(2**15 * 2 ** (-f / 256)) for f in range(256)]
INV127 = round(2**37 / 127)
LOG2E = round(math.log2(math.e) * 2**30)
C1 = round(2 * math.sqrt(2 / math.pi) * 2**24)
C2 = round(2 * 0.044715 * math.sqrt(2 / math.pi) * 2**24)


def rsr(x, s):
    """round half up of x / 2^s (s >= 0)"""
    return x if s == 0 else (x + (1 << (s - 1))) >> s


def sat(x, bits):
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return max(lo, min(hi, x))


def clamp_shift(s):
    return max(0, min(62, s))


def scale2(v, sh):
    return rsr(v, sh) if sh > 0 else v << -sh


def normalize(p, s):
    """record {m, s'} of p * 2^-s, m in [2^30, 2^31)"""
    b = p.bit_length() - 31
    m = scale2(p, b)
    if m == 1 << 31:
        m, b = 1 << 30, b + 1
    return [m, s - b]


def requant2(acc, ch, rec, adj):
    t = sat(rsr(acc * ch[0], ch[1]), 32)
    return sat(rsr(t * rec[0], clamp_shift(rec[1] + adj)), 32)


def dq(row, frac):
    z = max(abs(y) for y in row)
    if z == 0:
        return [0] * len(row), [0, 0]
    sh = z.bit_length() - 31
    zn = scale2(z, sh)
    r = (127 << 46) // zn
    q = [sat(rsr(scale2(y, sh) * r, 46), 8) for y in row]
    return q, normalize(zn * INV127, frac + 37 - sh)


def rsqrt(v):
    if v == 0:
        return 0, 0
    n = (62 - v.bit_length()) & ~1
    r = math.isqrt(v << n)
    return min((1 << 61) // r, (1 << 31) - 1), 61 - n // 2


def sigmoid(x, frac):
    u = min(rsr(abs(x) * LOG2E, frac + 22), 16 * 256)
    e = 0 if u >= 16 * 256 else rsr(EXP2[u & 255], u >> 8)
    d = 32768 + e
    p = ((1 << 30) + d // 2) // d
    return p if x >= 0 else 32768 - p


def gelu(x, frac):
    xq = max(-(1 << 20), min(1 << 20, rsr(x, frac - 16)))
    x2 = rsr(xq * xq, 16)
    p = C1 + rsr(C2 * x2, 16)
    z = rsr(xq * p, 24)
    return rsr(x * sigmoid(z, 16), 15)


def run(c):
    f, fl, m, n, seg, p = c["func"], c["flags"], c["m"], c["n"], c["seg"] or c["n"], c["p"]
    p = [v - (1 << 32) if v >= 1 << 31 else v for v in p]  # signed params
    up = c["p"]  # unsigned view
    x, chan, tab = c.get("in"), c.get("chan"), c.get("tab")
    out, recs = [], []

    def inp(mi, j, ch):
        v = x[mi][j]
        if fl & ACC:
            v = requant2(v, chan[ch], c["rec_in"][mi], p[0])
        if fl & BIAS:
            v = sat(v + tab[j], 32)
        return v

    for mi in range(m):
        if f == GATHER:
            tid = c["ids"][mi]
            row = c["table"][tid] if tid < up[0] else None
            out.append([0] * n if row is None else
                       [sat(rsr(e * chan[tid][0], chan[tid][1]), 32) for e in row])
        elif f == NORM:
            xs = x[mi]
            mu = (2 * sum(xs) + n) // (2 * n) if fl & LN else 0
            d = [v - mu for v in xs]
            b = max(abs(v) for v in d).bit_length()
            k = max(0, b - 15)
            dk = [rsr(v, k) for v in d]
            eps = up[0] | (up[1] << 32)
            mr, sr = rsqrt(sum(v * v for v in dk) + rsr(eps, 2 * k))
            s = clamp_shift(p[2] + sr)
            y = [sat(rsr(rsr(dk[j] * chan[j], 15) * mr, s), 32) for j in range(n)]
            if fl & BIAS:
                y = [sat(y[j] + tab[j], 32) for j in range(n)]
            if fl & Q8:
                q, r = dq(y, p[3])
                out.append(q)
                recs.append(r)
            else:
                out.append(y)
        elif f in (ADD, DEQ):
            row = [inp(mi, j, j) for j in range(n)]
            if f == ADD:
                row = [sat(row[j] + c["in2"][mi][j], 32) for j in range(n)]
            out.append(row)
        elif f == ROPE:
            y = [inp(mi, j, j) for j in range(n)]
            if fl & ROT:
                q = [0] * n
                for j in range(0, n, 2):
                    i = (j % seg) // 2
                    cs, sn = tab[mi][i]
                    r0 = y[j] * cs - y[j + 1] * sn
                    r1 = y[j] * sn + y[j + 1] * cs
                    q[j], q[j + 1] = sat(rsr(r0, up[1] + 14), 8), sat(rsr(r1, up[1] + 14), 8)
            else:
                q = [sat(rsr(v, up[1]), 8) for v in y]
            out.append(q)
        elif f == SWIGLU:
            h = []
            for j in range(n):
                a = requant2(x[mi][j], chan[j], c["rec_in"][mi], p[0])
                bb = requant2(c["in2"][mi][j], chan[n + j], c["rec_in"][mi], p[0])
                h.append(rsr(a * sigmoid(a, up[1]), 15) * bb)
            q, r = dq(h, 2 * up[1])
            out.append(q)
            recs.append(r)
        elif f == GELU:
            g = [gelu(inp(mi, j, j), up[1]) for j in range(n)]
            if fl & Q8:
                q, r = dq(g, up[1])
                out.append(q)
                recs.append(r)
            else:
                out.append(g)
        elif f == QUANT:
            q, r = dq([inp(mi, j, j) for j in range(n)], p[1])
            out.append(q)
            recs.append(r)
        elif f == ARGMAX:
            row = x[mi]
            out.append([row.index(max(row))])
        elif f == COPY:
            # int8 elements read through IN's own segmented addressing
            mem = c["in_mem"][0]
            st, sst = c["in_stride"], c["in_seg_stride"]
            out.append([mem[mi * st + (j // seg) * sst + j % seg] for j in range(n)])
    return out, recs


def main():
    cases = json.load(open(sys.argv[1]))
    for i, c in enumerate(cases):
        out, recs = run(c)
        if out != c["out"]:
            for mi, (a, b) in enumerate(zip(out, c["out"])):
                for j, (u, v) in enumerate(zip(a, b)):
                    if u != v:
                        print(f"case {i} ({c['name']}): out[{mi}][{j}] oracle {u} golden {v}")
                        return 1
            print(f"case {i} ({c['name']}): output shapes differ")
            return 1
        if c.get("rec_out") is not None and recs != c["rec_out"]:
            print(f"case {i} ({c['name']}): records oracle {recs} golden {c['rec_out']}")
            return 1
    print(f"{len(cases)} cases equal")
    return 0


if __name__ == "__main__":
    sys.exit(main())
