#include "sqm/sqm_llama.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

void sq_sqm_llama_name(int kind, int layer, char *buf, size_t cap)
{
    static const char *const fmt[] = {
        [SQ_W_Q] = "layers.%d.attention.wq.weight",
        [SQ_W_K] = "layers.%d.attention.wk.weight",
        [SQ_W_V] = "layers.%d.attention.wv.weight",
        [SQ_W_O] = "layers.%d.attention.wo.weight",
        [SQ_W_1] = "layers.%d.feed_forward.w1.weight",
        [SQ_W_2] = "layers.%d.feed_forward.w2.weight",
        [SQ_W_3] = "layers.%d.feed_forward.w3.weight",
        [SQ_W_CLS] = "output.weight",
        [SQ_SQM_LLAMA_EMBED] = "tok_embeddings.weight",
        [SQ_SQM_LLAMA_ATT_NORM] = "layers.%d.attention_norm.weight",
        [SQ_SQM_LLAMA_FFN_NORM] = "layers.%d.ffn_norm.weight",
        [SQ_SQM_LLAMA_FINAL_NORM] = "norm.weight",
    };
    snprintf(buf, cap, fmt[kind], layer);
}

void sq_sqm_config_from_llama(const sq_llama_config_t *c, sq_sqm_config_t *out)
{
    memset(out, 0, sizeof *out);
    strcpy(out->arch, "llama");
    out->dim = (uint32_t)c->dim;
    out->hidden_dim = (uint32_t)c->hidden_dim;
    out->n_layers = (uint32_t)c->n_layers;
    out->n_heads = (uint32_t)c->n_heads;
    out->n_kv_heads = (uint32_t)c->n_kv_heads;
    out->vocab_size = (uint32_t)c->vocab_size;
    out->seq_len = (uint32_t)c->seq_len;
    out->flags = c->shared_classifier ? SQ_SQM_SHARED_CLASSIFIER : 0;
    out->rope_theta = c->rope_theta;
    out->norm_eps = c->norm_eps;
}

/* The shape of one tensor of a model with config c. */
static void tensor_shape(const sq_llama_config_t *c, int kind, uint32_t *ndim, uint64_t shape[2])
{
    uint64_t d = (uint64_t)c->dim;
    size_t n, k;
    switch (kind) {
    case SQ_SQM_LLAMA_EMBED:
        *ndim = 2, shape[0] = (uint64_t)c->vocab_size, shape[1] = d;
        return;
    case SQ_SQM_LLAMA_ATT_NORM:
    case SQ_SQM_LLAMA_FFN_NORM:
    case SQ_SQM_LLAMA_FINAL_NORM:
        *ndim = 1, shape[0] = d;
        return;
    default:
        sq_llama_wshape(c, (sq_wkind_t)kind, &n, &k);
        *ndim = 2, shape[0] = n, shape[1] = k;
        return;
    }
}

/* The fp32 array of one tensor of m. */
static const float *tensor_of(const sq_llama_t *m, int kind, int layer)
{
    size_t d = (size_t)m->cfg.dim;
    switch (kind) {
    case SQ_SQM_LLAMA_EMBED:
        return m->w.token_embedding;
    case SQ_SQM_LLAMA_ATT_NORM:
        return m->w.rms_att + (size_t)layer * d;
    case SQ_SQM_LLAMA_FFN_NORM:
        return m->w.rms_ffn + (size_t)layer * d;
    case SQ_SQM_LLAMA_FINAL_NORM:
        return m->w.rms_final;
    default:
        return sq_llama_wptr(m, layer, (sq_wkind_t)kind);
    }
}

/* Visits every tensor of the model in file order; stops at the first error. */
typedef int (*visit_fn)(void *ctx, int kind, int layer);

static int each_tensor(const sq_llama_config_t *c, visit_fn fn, void *ctx)
{
    int rc = fn(ctx, SQ_SQM_LLAMA_EMBED, 0);
    for (int l = 0; !rc && l < c->n_layers; l++) {
        static const int kinds[] = {SQ_SQM_LLAMA_ATT_NORM, SQ_W_Q, SQ_W_K, SQ_W_V, SQ_W_O,
                                    SQ_SQM_LLAMA_FFN_NORM, SQ_W_1, SQ_W_2, SQ_W_3};
        for (size_t i = 0; !rc && i < sizeof kinds / sizeof kinds[0]; i++)
            rc = fn(ctx, kinds[i], l);
    }
    if (!rc)
        rc = fn(ctx, SQ_SQM_LLAMA_FINAL_NORM, 0);
    if (!rc && !c->shared_classifier)
        rc = fn(ctx, SQ_W_CLS, 0);
    return rc;
}

typedef struct {
    const sq_llama_t *src;
    sq_llama_t *dst;              /* NULL: check the tensors only */
    const sq_llama_config_t *cfg; /* of dst */
    sq_sqm_t *sqm;
    const sq_sqm_t *csqm;
} conv_t;

static int add_one(void *ctx, int kind, int layer)
{
    conv_t *cv = ctx;
    char name[96];
    sq_sqm_llama_name(kind, layer, name, sizeof name);
    sq_sqm_tensor_t t = {.name = name, .dtype = SQ_SQM_F32};
    tensor_shape(&cv->src->cfg, kind, &t.ndim, t.shape);
    t.data = tensor_of(cv->src, kind, layer);
    return sq_sqm_add(cv->sqm, &t);
}

int sq_sqm_from_llama(const sq_llama_t *m, sq_sqm_t **out)
{
    sq_sqm_config_t c;
    sq_sqm_config_from_llama(&m->cfg, &c);
    *out = sq_sqm_create(&c);
    if (!*out)
        return sq_err(SQ_ERR_MEM, "out of memory");
    conv_t cv = {.src = m, .sqm = *out};
    int rc = each_tensor(&m->cfg, add_one, &cv);
    if (rc) {
        sq_sqm_free(*out);
        *out = NULL;
    }
    return rc;
}

static int take_one(void *ctx, int kind, int layer)
{
    conv_t *cv = ctx;
    char name[96];
    sq_sqm_llama_name(kind, layer, name, sizeof name);
    const sq_sqm_tensor_t *t = sq_sqm_find(cv->csqm, name);
    if (!t)
        return sq_err(SQ_ERR_FMT, "tensor '%s' is missing", name);
    uint32_t ndim;
    uint64_t shape[2];
    tensor_shape(cv->cfg, kind, &ndim, shape);
    if (t->ndim != ndim || t->shape[0] != shape[0] || (ndim == 2 && t->shape[1] != shape[1]))
        return sq_err(SQ_ERR_FMT, "tensor '%s' has the wrong shape for the config", name);
    return cv->dst ? sq_sqm_dequant(t, (float *)tensor_of(cv->dst, kind, layer)) : 0;
}

int sq_sqm_to_llama(const sq_sqm_t *s, sq_llama_t *m)
{
    const sq_sqm_config_t *c = sq_sqm_config(s);
    memset(m, 0, sizeof *m);
    if (strcmp(c->arch, "llama"))
        return sq_err(SQ_ERR_FMT, "architecture '%s' is not llama", c->arch);
    sq_llama_config_t lc = {
        .dim = (int)c->dim, .hidden_dim = (int)c->hidden_dim, .n_layers = (int)c->n_layers,
        .n_heads = (int)c->n_heads, .n_kv_heads = (int)c->n_kv_heads,
        .vocab_size = (int)c->vocab_size, .seq_len = (int)c->seq_len,
        .shared_classifier = (c->flags & SQ_SQM_SHARED_CLASSIFIER) != 0,
        .rope_theta = c->rope_theta, .norm_eps = c->norm_eps};
    /* u32 fields above INT_MAX would turn negative and fail the check; every
     * tensor is checked before the weights are allocated, as the config
     * alone could claim any size */
    conv_t check = {.cfg = &lc, .csqm = s};
    int rc = sq_llama_config_check(&lc);
    if (!rc)
        rc = each_tensor(&lc, take_one, &check);
    if (!rc)
        rc = sq_llama_alloc(m, &lc);
    if (rc)
        return rc;
    conv_t cv = {.dst = m, .cfg = &lc, .csqm = s};
    rc = each_tensor(&lc, take_one, &cv);
    if (rc)
        sq_llama_free(m);
    return rc;
}
