/* Model configs without weights (compress/qmodel.h, "Dummy models"): the
 * compressed model built straight in its integer format from a seeded
 * generator, for performance studies of models whose weights are not here. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress/qmodel.h"
#include "compress/quant.h"
#include "util/err.h"

/* Shapes as published in each model's config.json (Hugging Face). */
static const struct {
    const char *name;
    sq_llama_config_t c;
} presets[] = {
    {"llama2-7b", {4096, 11008, 32, 32, 32, 32000, 4096, 0, 10000.0f, 1e-5f}},
    {"llama2-13b", {5120, 13824, 40, 40, 40, 32000, 4096, 0, 10000.0f, 1e-5f}},
    {"tinyllama-1.1b", {2048, 5632, 22, 32, 4, 32000, 2048, 0, 10000.0f, 1e-5f}},
    {"smollm2-135m", {576, 1536, 30, 9, 3, 49152, 8192, 1, 100000.0f, 1e-5f}},
};

static int key_value(sq_llama_config_t *c, const char *kv, size_t len)
{
    static const struct {
        const char *key;
        size_t off;
    } keys[] = {
        {"dim", offsetof(sq_llama_config_t, dim)},
        {"hidden", offsetof(sq_llama_config_t, hidden_dim)},
        {"layers", offsetof(sq_llama_config_t, n_layers)},
        {"heads", offsetof(sq_llama_config_t, n_heads)},
        {"kv_heads", offsetof(sq_llama_config_t, n_kv_heads)},
        {"vocab", offsetof(sq_llama_config_t, vocab_size)},
        {"seq", offsetof(sq_llama_config_t, seq_len)},
    };
    const char *eq = memchr(kv, '=', len);
    for (size_t i = 0; eq && i < sizeof keys / sizeof keys[0]; i++) {
        if (strlen(keys[i].key) != (size_t)(eq - kv) || strncmp(kv, keys[i].key, (size_t)(eq - kv)))
            continue;
        char num[24];
        size_t nl = len - (size_t)(eq + 1 - kv);
        char *end;
        if (nl == 0 || nl >= sizeof num)
            break;
        memcpy(num, eq + 1, nl);
        num[nl] = 0;
        long v = strtol(num, &end, 10);
        if (*end || v < 1 || v > (1L << 20))
            break;
        *(int *)((char *)c + keys[i].off) = (int)v;
        return 0;
    }
    return sq_err(SQ_ERR_ARG, "dummy model: bad entry '%.*s' (want a preset (llama2-7b, "
                  "llama2-13b, tinyllama-1.1b, smollm2-135m) or dim=, hidden=, layers=, heads=, "
                  "kv_heads=, vocab=, seq= with values 1..2^20)", (int)len, kv);
}

int sq_dummy_config(const char *spec, sq_llama_config_t *c)
{
    if (strncmp(spec, SQ_DUMMY_PREFIX, strlen(SQ_DUMMY_PREFIX)))
        return 1;
    const char *p = spec + strlen(SQ_DUMMY_PREFIX);
    /* without a preset: llama2.c's defaults apart from the shape */
    *c = (sq_llama_config_t){0, 0, 0, 0, 0, 0, 0, 0, 10000.0f, 1e-5f};
    int first = 1;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int preset = 0;
        for (size_t i = 0; first && i < sizeof presets / sizeof presets[0]; i++)
            if (strlen(presets[i].name) == len && !strncmp(p, presets[i].name, len)) {
                *c = presets[i].c;
                preset = 1;
            }
        if (!preset && key_value(c, p, len))
            return SQ_ERR_ARG;
        first = 0;
        p += len + (end != NULL);
    }
    if (!c->n_kv_heads)
        c->n_kv_heads = c->n_heads;
    if (!c->dim || !c->hidden_dim || !c->n_layers || !c->n_heads || !c->vocab_size || !c->seq_len)
        return sq_err(SQ_ERR_ARG, "dummy model '%s': give a preset or all of dim, hidden, layers, "
                      "heads, vocab and seq", spec);
    return sq_llama_config_check(c) ? SQ_ERR_ARG : 0; /* usage, not a corrupt file */
}

/* The recipes a dummy is built in: one integer leaf per linear with per-token
 * int8 activations. */
static int recipe_ok(const sq_recipe_t *r)
{
    return (r->wbits == 8 || r->wbits == 4) && r->act == SQ_ACT_DYNAMIC &&
           r->solver == SQ_SOLVE_RTN && !r->sparsity && !r->heads && !r->rank && !r->energy &&
           !r->share && !r->distill_steps;
}

static uint64_t bytes_of(const sq_llama_config_t *c, const sq_recipe_t *r, sq_wkind_t kind)
{
    size_t n, k;
    sq_llama_wshape(c, kind, &n, &k);
    uint32_t flags = (r->wbits == 4 ? SQ_GEMM_W4 : 0) | (r->sp24 && kind != SQ_W_CLS ? SQ_GEMM_SP24 : 0);
    size_t g = r->wbits == 4 && r->group ? r->group : k;
    uint64_t w = (uint64_t)n * sq_w_row_bytes(flags, k);
    if (flags & SQ_GEMM_SP24)
        w += (uint64_t)n * sq_meta_row_bytes(k);
    w += (uint64_t)n * sq_quant_groups(k, g) * sizeof(float);
    return g < k ? 2 * w : w; /* grouped layers keep their per-group operands too */
}

int sq_dummy_plan(const sq_llama_config_t *c, const sq_recipe_t *r, uint64_t *linears,
                  uint64_t *other)
{
    if (!recipe_ok(r))
        return sq_err(SQ_ERR_ARG, "dummy models are built in an integer format: give a recipe "
                      "such as w8a8, w4g128 or 2:4,w8a8 (no calibration, pruning by magnitude, "
                      "low rank or sharing)");
    uint64_t b = 0;
    for (int kd = 0; kd < SQ_W_COUNT; kd++)
        b += bytes_of(c, r, (sq_wkind_t)kd) * (kd == SQ_W_CLS ? 1 : (uint64_t)c->n_layers);
    *linears = b;
    *other = ((uint64_t)c->vocab_size * c->dim + (uint64_t)c->n_layers * 2 * c->dim + c->dim) *
             sizeof(float);
    return 0;
}

/* splitmix64: a stream per matrix, so a matrix's values do not depend on the
 * order of building. */
static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Values uniform over the format's range (int4 [-8, 7], int8 [-127, 127]),
 * with 2:4 two of each four kept at random places; scales sqrt(3 / k) / max
 * keep a unit-variance input at unit variance through the matrix. */
static int build_leaf(sq_qlinear_t *q, const sq_recipe_t *r, int sparse, size_t n, size_t k,
                      uint64_t seed)
{
    uint32_t flags = (r->wbits == 4 ? SQ_GEMM_W4 : 0) | (sparse ? SQ_GEMM_SP24 : 0);
    size_t group = r->wbits == 4 && r->group ? r->group : k, ng = sq_quant_groups(k, group);
    int lo = r->wbits == 4 ? -8 : -127, span = r->wbits == 4 ? 16 : 255;
    int8_t *v = malloc(n * k);
    float *scale = malloc(n * ng * sizeof *scale);
    if (!v || !scale) {
        free(v);
        free(scale);
        return sq_err(SQ_ERR_MEM, "out of memory building a dummy model");
    }
    uint64_t s = seed;
    for (size_t i = 0; i < n * k; i++)
        v[i] = (int8_t)(lo + (int)(next(&s) % (uint64_t)span));
    for (size_t i = 0; sparse && i < n; i++)
        for (size_t j = 0; j < k; j += 4) {
            uint64_t x = next(&s);
            size_t a = x % 4, b = (a + 1 + (x >> 8) % 3) % 4;
            for (size_t t = 0; t < 4 && j + t < k; t++)
                if (t != a && t != b)
                    v[i * k + j + t] = 0;
        }
    float sc = (float)(sqrt(3.0 / (double)k) / (r->wbits == 4 ? 8.0 : 127.0));
    for (size_t i = 0; i < n * ng; i++)
        scale[i] = sc;
    int rc = sq_qlinear_int(q, flags, v, scale, group, 0.0f, n, k);
    free(v);
    free(scale);
    return rc;
}

int sq_qmodel_dummy(sq_qmodel_t *q, sq_llama_t *m, const sq_llama_config_t *c,
                    const sq_recipe_t *r, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    memset(q, 0, sizeof *q);
    uint64_t lin, other;
    int rc = sq_dummy_plan(c, r, &lin, &other);
    if (rc)
        return rc;
    m->cfg = *c;
    q->model = m;
    q->recipe = *r;
    size_t d = (size_t)c->dim, emb = (size_t)c->vocab_size * d;
    /* the fp32 parameters outside the linears only: embedding and norms */
    float *st = malloc((emb + ((size_t)c->n_layers * 2 + 1) * d) * sizeof *st);
    m->storage = st;
    size_t maxdim = (size_t)c->vocab_size;
    maxdim = (size_t)c->hidden_dim > maxdim ? (size_t)c->hidden_dim : maxdim;
    q->layers = calloc((size_t)c->n_layers * SQ_W_COUNT, sizeof *q->layers);
    q->heads_removed = calloc((size_t)c->n_layers * c->n_heads, sizeof *q->heads_removed);
    q->mid = malloc(maxdim * sizeof *q->mid);
    q->scratch.act = malloc(maxdim);
    q->scratch.acc = malloc(maxdim * sizeof *q->scratch.acc);
    if (!st || !q->layers || !q->heads_removed || !q->mid || !q->scratch.act || !q->scratch.acc)
        rc = sq_err(SQ_ERR_MEM, "out of memory building a dummy model");
    if (!rc) {
        m->w.token_embedding = st;
        m->w.rms_att = st + emb;
        m->w.rms_ffn = m->w.rms_att + (size_t)c->n_layers * d;
        m->w.rms_final = m->w.rms_ffn + (size_t)c->n_layers * d;
        uint64_t s = seed;
        for (size_t i = 0; i < emb; i++) /* uniform [-1, 1) */
            st[i] = (float)((double)(next(&s) >> 11) * 0x1p-52 - 1.0);
        for (size_t i = emb; i < emb + ((size_t)c->n_layers * 2 + 1) * d; i++)
            st[i] = 1.0f;
    }
    for (int l = 0; l < c->n_layers && !rc; l++)
        for (int kd = 0; kd < SQ_W_COUNT && !rc; kd++) {
            if (kd == SQ_W_CLS && l > 0)
                continue; /* one classifier, at layer 0 */
            size_t n, k;
            sq_llama_wshape(c, (sq_wkind_t)kd, &n, &k);
            sq_clinear_t *cl = &q->layers[(size_t)l * SQ_W_COUNT + kd];
            cl->nf = 1;
            /* the classifier is only quantized, as sq_qmodel_build leaves it */
            rc = build_leaf(&cl->f[0], r, r->sp24 && kd != SQ_W_CLS, n, k,
                            seed ^ (((uint64_t)l << 8 | (uint64_t)kd) * 0xD1B54A32D192ED03ull));
            if (rc)
                cl->nf = 0;
        }
    if (rc) {
        sq_qmodel_free(q);
        sq_llama_free(m);
    }
    return rc;
}
