#include "model/gguf_llama.h"

#include <stdio.h>
#include <string.h>

#include "util/err.h"

static int cfg_int(const sq_gguf_t *g, const char *key, int *out)
{
    uint64_t v;
    int rc = sq_gguf_get_u64(g, key, &v);
    if (rc)
        return rc;
    if (v > 0x7fffffff)
        return sq_err(SQ_ERR_FMT, "%s = %llu is absurd", key, (unsigned long long)v);
    *out = (int)v;
    return 0;
}

/* Dequantizes tensor `name`, which must be ne = {k, n} (or {k} when n == 0),
 * into dst; with dst NULL only checks that it is there with that shape. */
static int take(const sq_gguf_t *g, const char *name, uint64_t k, uint64_t n, float *dst)
{
    const sq_gguf_tensor_t *t = sq_gguf_find_tensor(g, name);
    if (!t)
        return sq_err(SQ_ERR_FMT, "tensor '%s' is missing", name);
    uint32_t nd = n ? 2 : 1;
    if (t->n_dims != nd || t->ne[0] != k || (n && t->ne[1] != n))
        return sq_err(SQ_ERR_FMT, "tensor '%s' has ne [%llu, %llu], expected [%llu, %llu]", name,
                      (unsigned long long)t->ne[0], (unsigned long long)t->ne[1],
                      (unsigned long long)k, (unsigned long long)(n ? n : 1));
    return dst ? sq_gguf_dequant(t, dst) : 0;
}

/* Every tensor of config c into m's weights, or with m NULL only the check
 * that each is there with its shape. */
static int tensors(const sq_gguf_t *g, const sq_llama_config_t *c, sq_llama_t *m)
{
    size_t d = (size_t)c->dim, h = (size_t)c->hidden_dim;
    size_t kv = d / (size_t)c->n_heads * (size_t)c->n_kv_heads;
    sq_llama_weights_t *w = m ? &m->w : NULL;
#define AT(field, off) (w ? w->field + (off) : NULL)
    int rc = take(g, "token_embd.weight", d, (uint64_t)c->vocab_size, AT(token_embedding, 0));
    if (!rc)
        rc = take(g, "output_norm.weight", d, 0, AT(rms_final, 0));
    if (!rc && !c->shared_classifier)
        rc = take(g, "output.weight", d, (uint64_t)c->vocab_size, AT(wcls, 0));
    char name[96];
#define LAYER(fmt, k, n, field, off)                                                               \
    do {                                                                                           \
        snprintf(name, sizeof name, fmt, l);                                                       \
        if (!rc)                                                                                   \
            rc = take(g, name, k, n, AT(field, off));                                              \
    } while (0)
    for (int l = 0; !rc && l < c->n_layers; l++) {
        size_t L = (size_t)l;
        LAYER("blk.%d.attn_norm.weight", d, 0, rms_att, L * d);
        LAYER("blk.%d.attn_q.weight", d, d, wq, L * d * d);
        LAYER("blk.%d.attn_k.weight", d, kv, wk, L * kv * d);
        LAYER("blk.%d.attn_v.weight", d, kv, wv, L * kv * d);
        LAYER("blk.%d.attn_output.weight", d, d, wo, L * d * d);
        LAYER("blk.%d.ffn_norm.weight", d, 0, rms_ffn, L * d);
        LAYER("blk.%d.ffn_gate.weight", d, h, w1, L * h * d);
        LAYER("blk.%d.ffn_down.weight", h, d, w2, L * d * h);
        LAYER("blk.%d.ffn_up.weight", d, h, w3, L * h * d);
    }
#undef LAYER
#undef AT
    return rc;
}

int sq_gguf_load_llama(const sq_gguf_t *g, int max_seq, sq_llama_t *m)
{
    memset(m, 0, sizeof *m);
    sq_gguf_str_t arch;
    int rc = sq_gguf_get_str(g, "general.architecture", &arch);
    if (rc)
        return rc;
    if (arch.len != 5 || memcmp(arch.p, "llama", 5))
        return sq_err(SQ_ERR_FMT, "architecture '%.*s' is not supported (llama only)",
                      (int)(arch.len > 40 ? 40 : arch.len), arch.p);
    sq_llama_config_t c = {0};
    const sq_gguf_kv_t *tokens;
    if ((rc = cfg_int(g, "llama.embedding_length", &c.dim)) ||
        (rc = cfg_int(g, "llama.feed_forward_length", &c.hidden_dim)) ||
        (rc = cfg_int(g, "llama.block_count", &c.n_layers)) ||
        (rc = cfg_int(g, "llama.attention.head_count", &c.n_heads)) ||
        (rc = cfg_int(g, "llama.context_length", &c.seq_len)) ||
        (rc = sq_gguf_get_f32(g, "llama.attention.layer_norm_rms_epsilon", &c.norm_eps)) ||
        (rc = sq_gguf_get_arr(g, "tokenizer.ggml.tokens", SQ_GGUF_STRING, &tokens)))
        return rc;
    c.n_kv_heads = c.n_heads;
    if (sq_gguf_find_kv(g, "llama.attention.head_count_kv") &&
        (rc = cfg_int(g, "llama.attention.head_count_kv", &c.n_kv_heads)))
        return rc;
    c.rope_theta = 10000.0f;
    if (sq_gguf_find_kv(g, "llama.rope.freq_base") &&
        (rc = sq_gguf_get_f32(g, "llama.rope.freq_base", &c.rope_theta)))
        return rc;
    if (tokens->v.arr.n > 0x7fffffff)
        return sq_err(SQ_ERR_FMT, "absurd vocabulary size");
    c.vocab_size = (int)tokens->v.arr.n;
    if (sq_gguf_find_kv(g, "llama.vocab_size")) {
        int v;
        if ((rc = cfg_int(g, "llama.vocab_size", &v)))
            return rc;
        if (v != c.vocab_size)
            return sq_err(SQ_ERR_FMT, "llama.vocab_size %d but %d tokens", v, c.vocab_size);
    }
    if (c.n_heads > 0 && c.dim % c.n_heads == 0 && sq_gguf_find_kv(g, "llama.rope.dimension_count")) {
        int rd;
        if ((rc = cfg_int(g, "llama.rope.dimension_count", &rd)))
            return rc;
        if (rd != c.dim / c.n_heads)
            return sq_err(SQ_ERR_FMT, "partial RoPE (%d of %d dims) is not supported", rd,
                          c.dim / c.n_heads);
    }
    if (max_seq > 0 && c.seq_len > max_seq)
        c.seq_len = max_seq;
    c.shared_classifier = sq_gguf_find_tensor(g, "output.weight") == NULL;
    /* every tensor the config names is checked before the weights are
     * allocated: the metadata alone could claim any size */
    if ((rc = sq_llama_config_check(&c)) || (rc = tensors(g, &c, NULL)) ||
        (rc = sq_llama_alloc(m, &c)))
        return rc;
    if ((rc = tensors(g, &c, m)))
        sq_llama_free(m);
    return rc;
}

int sq_gguf_is_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char magic[4];
    int yes = f && fread(magic, 1, 4, f) == 4 && !memcmp(magic, "GGUF", 4);
    if (f)
        fclose(f);
    return yes;
}
