/* Llama forward pass in fp32 and the llama2.c checkpoint loader. */
#include "model/llama.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

const char *const sq_wkind_name[SQ_W_COUNT] = {"q", "k", "v", "o", "w1", "w2", "w3", "cls"};

/* ---------------------------------------------------------------------------
 * Config and weights */

/* Bounds that no real checkpoint reaches and that keep every size below in
 * 64-bit range without overflow checks at each use. */
#define MAX_DIM (1 << 16)
#define MAX_LAYERS 1024
#define MAX_VOCAB (1 << 22)
#define MAX_SEQ (1 << 20)

int sq_llama_config_check(const sq_llama_config_t *c)
{
    if (c->dim <= 0 || c->dim > MAX_DIM)
        return sq_err(SQ_ERR_FMT, "dim %d out of range [1, %d]", c->dim, MAX_DIM);
    if (c->hidden_dim <= 0 || c->hidden_dim > 8 * MAX_DIM)
        return sq_err(SQ_ERR_FMT, "hidden_dim %d out of range [1, %d]", c->hidden_dim, 8 * MAX_DIM);
    if (c->n_layers <= 0 || c->n_layers > MAX_LAYERS)
        return sq_err(SQ_ERR_FMT, "n_layers %d out of range [1, %d]", c->n_layers, MAX_LAYERS);
    if (c->n_heads <= 0 || c->n_heads > c->dim || c->dim % c->n_heads)
        return sq_err(SQ_ERR_FMT, "n_heads %d does not divide dim %d", c->n_heads, c->dim);
    if ((c->dim / c->n_heads) % 2)
        return sq_err(SQ_ERR_FMT, "head size %d is odd (RoPE rotates pairs)", c->dim / c->n_heads);
    if (c->n_kv_heads <= 0 || c->n_kv_heads > c->n_heads || c->n_heads % c->n_kv_heads)
        return sq_err(SQ_ERR_FMT, "n_kv_heads %d does not divide n_heads %d", c->n_kv_heads,
                      c->n_heads);
    if (c->vocab_size <= 0 || c->vocab_size > MAX_VOCAB)
        return sq_err(SQ_ERR_FMT, "vocab_size %d out of range [1, %d]", c->vocab_size, MAX_VOCAB);
    if (c->seq_len <= 0 || c->seq_len > MAX_SEQ)
        return sq_err(SQ_ERR_FMT, "seq_len %d out of range [1, %d]", c->seq_len, MAX_SEQ);
    if (!(c->rope_theta > 0) || !isfinite(c->rope_theta))
        return sq_err(SQ_ERR_FMT, "rope_theta %g is not positive", c->rope_theta);
    if (!(c->norm_eps > 0) || !isfinite(c->norm_eps))
        return sq_err(SQ_ERR_FMT, "norm_eps %g is not positive", c->norm_eps);
    return 0;
}

static size_t kv_dim(const sq_llama_config_t *c)
{
    return (size_t)c->dim / (size_t)c->n_heads * (size_t)c->n_kv_heads;
}

void sq_llama_wshape(const sq_llama_config_t *c, sq_wkind_t kind, size_t *n, size_t *k)
{
    size_t d = (size_t)c->dim, h = (size_t)c->hidden_dim;
    switch (kind) {
    case SQ_W_Q: case SQ_W_O: *n = d; *k = d; break;
    case SQ_W_K: case SQ_W_V: *n = kv_dim(c); *k = d; break;
    case SQ_W_1: case SQ_W_3: *n = h; *k = d; break;
    case SQ_W_2: *n = d; *k = h; break;
    default: *n = (size_t)c->vocab_size; *k = d; break;
    }
}

const float *sq_llama_wptr(const sq_llama_t *m, int layer, sq_wkind_t kind)
{
    size_t n, k;
    sq_llama_wshape(&m->cfg, kind, &n, &k);
    size_t off = (size_t)layer * n * k;
    switch (kind) {
    case SQ_W_Q: return m->w.wq + off;
    case SQ_W_K: return m->w.wk + off;
    case SQ_W_V: return m->w.wv + off;
    case SQ_W_O: return m->w.wo + off;
    case SQ_W_1: return m->w.w1 + off;
    case SQ_W_2: return m->w.w2 + off;
    case SQ_W_3: return m->w.w3 + off;
    default: return m->w.wcls;
    }
}

/* Lays out the weight arrays in llama2.c's file order inside one block; with
 * base == NULL only counts floats. Returns the number of floats. */
static size_t layout(const sq_llama_config_t *c, float *base, sq_llama_weights_t *w)
{
    size_t d = (size_t)c->dim, h = (size_t)c->hidden_dim, l = (size_t)c->n_layers;
    size_t v = (size_t)c->vocab_size, kv = kv_dim(c), hs = d / (size_t)c->n_heads;
    size_t off = 0;
#define TAKE(field, count)                                                                         \
    do {                                                                                           \
        if (base)                                                                                  \
            w->field = base + off;                                                                 \
        off += (count);                                                                            \
    } while (0)
    TAKE(token_embedding, v * d);
    TAKE(rms_att, l * d);
    TAKE(wq, l * d * d);
    TAKE(wk, l * kv * d);
    TAKE(wv, l * kv * d);
    TAKE(wo, l * d * d);
    TAKE(rms_ffn, l * d);
    TAKE(w1, l * h * d);
    TAKE(w2, l * d * h);
    TAKE(w3, l * h * d);
    TAKE(rms_final, d);
    /* llama2.c stores RoPE tables (seq_len * head_size / 2, twice) that the
     * forward pass recomputes; they are skipped, but counted for the size. */
    off += (size_t)c->seq_len * hs;
    if (c->shared_classifier) {
        if (base)
            w->wcls = w->token_embedding;
    } else {
        TAKE(wcls, v * d);
    }
#undef TAKE
    return off;
}

int sq_llama_alloc(sq_llama_t *m, const sq_llama_config_t *cfg)
{
    memset(m, 0, sizeof *m);
    int rc = sq_llama_config_check(cfg);
    if (rc)
        return rc;
    m->cfg = *cfg;
    size_t n = layout(cfg, NULL, NULL);
    m->storage = calloc(n, sizeof(float));
    if (!m->storage)
        return sq_err(SQ_ERR_MEM, "cannot allocate %zu MB of weights", n * sizeof(float) >> 20);
    layout(cfg, m->storage, &m->w);
    return 0;
}

void sq_llama_free(sq_llama_t *m)
{
    if (!m)
        return;
    free(m->storage);
    memset(m, 0, sizeof *m);
}

int sq_llama_load(const char *path, sq_llama_t *m)
{
    memset(m, 0, sizeof *m);
    FILE *f = fopen(path, "rb");
    if (!f)
        return sq_err(SQ_ERR_IO, "cannot open model '%s': %s", path, strerror(errno));
    int32_t hdr[7];
    if (fread(hdr, sizeof hdr, 1, f) != 1) {
        fclose(f);
        return sq_err(SQ_ERR_FMT, "model '%s': truncated header (need 28 bytes)", path);
    }
    sq_llama_config_t c = {
        .dim = hdr[0], .hidden_dim = hdr[1], .n_layers = hdr[2], .n_heads = hdr[3],
        .n_kv_heads = hdr[4], .vocab_size = hdr[5] < 0 && hdr[5] != INT32_MIN ? -hdr[5] : hdr[5],
        .seq_len = hdr[6], .shared_classifier = hdr[5] > 0, .rope_theta = 10000.0f,
        .norm_eps = 1e-5f,
    };
    int rc = sq_llama_config_check(&c);
    if (rc) {
        fclose(f);
        return sq_err(rc, "model '%s': %s", path, sq_err_msg());
    }
    size_t want = layout(&c, NULL, NULL) * sizeof(float);
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return sq_err(SQ_ERR_IO, "model '%s': cannot seek", path);
    }
    long have = ftell(f) - (long)sizeof hdr;
    if (have < 0 || (size_t)have != want) {
        fclose(f);
        return sq_err(SQ_ERR_FMT,
                      "model '%s': %ld weight bytes, but the header (dim %d, layers %d, vocab %d%s) "
                      "needs %zu",
                      path, have, c.dim, c.n_layers, c.vocab_size,
                      c.shared_classifier ? "" : ", separate classifier", want);
    }
    rc = sq_llama_alloc(m, &c);
    if (rc) {
        fclose(f);
        return rc;
    }
    fseek(f, (long)sizeof hdr, SEEK_SET);
    if (fread(m->storage, 1, want, f) != want) {
        fclose(f);
        sq_llama_free(m);
        return sq_err(SQ_ERR_IO, "model '%s': read failed", path);
    }
    fclose(f);
    for (size_t i = 0, n = layout(&c, NULL, NULL); i < n; i++) {
        if (!isfinite(((float *)m->storage)[i])) {
            sq_llama_free(m);
            return sq_err(SQ_ERR_FMT, "model '%s': weight %zu is not a finite number", path, i);
        }
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * State */

int sq_llama_state_build(sq_llama_state_t *s, const sq_llama_config_t *c)
{
    memset(s, 0, sizeof *s);
    size_t d = (size_t)c->dim, h = (size_t)c->hidden_dim, kv = kv_dim(c);
    size_t cache = (size_t)c->n_layers * (size_t)c->seq_len * kv;
    s->x = calloc(d, sizeof(float));
    s->xb = calloc(d, sizeof(float));
    s->xb2 = calloc(d, sizeof(float));
    s->hb = calloc(h, sizeof(float));
    s->hb2 = calloc(h, sizeof(float));
    s->q = calloc(d, sizeof(float));
    s->att = calloc((size_t)c->n_heads * (size_t)c->seq_len, sizeof(float));
    s->logits = calloc((size_t)c->vocab_size, sizeof(float));
    s->key_cache = calloc(cache, sizeof(float));
    s->value_cache = calloc(cache, sizeof(float));
    if (!s->x || !s->xb || !s->xb2 || !s->hb || !s->hb2 || !s->q || !s->att || !s->logits ||
        !s->key_cache || !s->value_cache) {
        sq_llama_state_free(s);
        return sq_err(SQ_ERR_MEM, "cannot allocate the KV cache (%zu MB)", 2 * cache * 4 >> 20);
    }
    return 0;
}

void sq_llama_state_free(sq_llama_state_t *s)
{
    if (!s)
        return;
    free(s->x);
    free(s->xb);
    free(s->xb2);
    free(s->hb);
    free(s->hb2);
    free(s->q);
    free(s->att);
    free(s->logits);
    free(s->key_cache);
    free(s->value_cache);
    memset(s, 0, sizeof *s);
}

/* ---------------------------------------------------------------------------
 * Forward pass */

static void rmsnorm(float *o, const float *x, const float *weight, int n, float eps)
{
    float ss = 0.0f;
    for (int j = 0; j < n; j++)
        ss += x[j] * x[j];
    ss = 1.0f / sqrtf(ss / (float)n + eps);
    for (int j = 0; j < n; j++)
        o[j] = weight[j] * (ss * x[j]);
}

static void softmax(float *x, int n)
{
    float max = x[0];
    for (int i = 1; i < n; i++)
        if (x[i] > max)
            max = x[i];
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    for (int i = 0; i < n; i++)
        x[i] /= sum;
}

void sq_llama_linear_f32(const sq_llama_t *m, int layer, sq_wkind_t kind, const float *x,
                         float *y)
{
    size_t n, k;
    sq_llama_wshape(&m->cfg, kind, &n, &k);
    const float *w = sq_llama_wptr(m, layer, kind);
    for (size_t i = 0; i < n; i++) {
        float acc = 0.0f;
        for (size_t j = 0; j < k; j++)
            acc += w[i * k + j] * x[j];
        y[i] = acc;
    }
}

static int linear(const sq_llama_t *m, const sq_llama_exec_t *ex, int layer, sq_wkind_t kind,
                  const float *x, float *y)
{
    if (ex && ex->linear)
        return ex->linear(ex->ctx, layer, kind, x, y);
    sq_llama_linear_f32(m, layer, kind, x, y);
    return 0;
}

static void host_op(const sq_llama_exec_t *ex, int layer, const char *op)
{
    if (ex && ex->host_op)
        ex->host_op(ex->host_ctx, layer, op);
}

/* Rotates pairs (2i, 2i+1) of each head of vec (width n) by pos * theta^(-2i/hs). */
static void rope(float *vec, int n, int head_size, int pos, float theta)
{
    for (int i = 0; i < n; i += 2) {
        int hd = i % head_size;
        float freq = 1.0f / powf(theta, (float)hd / (float)head_size);
        float val = (float)pos * freq;
        float fcr = cosf(val), fci = sinf(val);
        float v0 = vec[i], v1 = vec[i + 1];
        vec[i] = v0 * fcr - v1 * fci;
        vec[i + 1] = v0 * fci + v1 * fcr;
    }
}

int sq_llama_forward(const sq_llama_t *m, sq_llama_state_t *s, int token, int pos,
                     const sq_llama_exec_t *ex)
{
    if (ex && ex->forward) {
        const sq_llama_config_t *c = &m->cfg;
        if (token < 0 || token >= c->vocab_size)
            return sq_err(SQ_ERR_ARG, "token %d out of range [0, %d)", token, c->vocab_size);
        if (pos < 0 || pos >= c->seq_len)
            return sq_err(SQ_ERR_ARG, "position %d out of range [0, %d)", pos, c->seq_len);
        return ex->forward(ex->fwd_ctx, token, pos, s->logits);
    }
    return sq_llama_forward_layers(m, s, token, pos, 0, m->cfg.n_layers, ex);
}

int sq_llama_forward_layers(const sq_llama_t *m, sq_llama_state_t *s, int token, int pos,
                            int l0, int l1, const sq_llama_exec_t *ex)
{
    const sq_llama_config_t *c = &m->cfg;
    if (token < 0 || token >= c->vocab_size)
        return sq_err(SQ_ERR_ARG, "token %d out of range [0, %d)", token, c->vocab_size);
    if (pos < 0 || pos >= c->seq_len)
        return sq_err(SQ_ERR_ARG, "position %d out of range [0, %d)", pos, c->seq_len);
    if (l0 < 0 || l1 > c->n_layers || l0 > l1)
        return sq_err(SQ_ERR_ARG, "layers [%d, %d) out of range [0, %d)", l0, l1, c->n_layers);
    int dim = c->dim, hidden = c->hidden_dim, hs = dim / c->n_heads;
    int kvd = (int)kv_dim(c), kv_mul = c->n_heads / c->n_kv_heads;
    float *x = s->x;
    if (l0 == 0) {
        host_op(ex, -1, "embedding");
        memcpy(x, m->w.token_embedding + (size_t)token * dim, (size_t)dim * sizeof(float));
    }
    int rc;

    for (int l = l0; l < l1; l++) {
        /* attention */
        host_op(ex, l, "norm_att");
        rmsnorm(s->xb, x, m->w.rms_att + (size_t)l * dim, dim, c->norm_eps);
        size_t loff = (size_t)l * c->seq_len * kvd;
        float *k = s->key_cache + loff + (size_t)pos * kvd;
        float *v = s->value_cache + loff + (size_t)pos * kvd;
        if ((rc = linear(m, ex, l, SQ_W_Q, s->xb, s->q)) || (rc = linear(m, ex, l, SQ_W_K, s->xb, k)) ||
            (rc = linear(m, ex, l, SQ_W_V, s->xb, v)))
            return rc;
        host_op(ex, l, "rope");
        rope(s->q, dim, hs, pos, c->rope_theta);
        rope(k, kvd, hs, pos, c->rope_theta);

        if (ex && ex->attention) {
            rc = ex->attention(ex->attn_ctx, l, pos, s->q, s->key_cache + loff,
                               s->value_cache + loff, s->xb);
            if (rc)
                return rc;
        } else {
            host_op(ex, l, "attn");
        }
        for (int h = 0; h < c->n_heads && !(ex && ex->attention); h++) {
            const float *q = s->q + h * hs;
            float *att = s->att + (size_t)h * c->seq_len;
            int kvh = h / kv_mul;
            for (int t = 0; t <= pos; t++) {
                const float *kt = s->key_cache + loff + (size_t)t * kvd + kvh * hs;
                float score = 0.0f;
                for (int i = 0; i < hs; i++)
                    score += q[i] * kt[i];
                att[t] = score / sqrtf((float)hs);
            }
            softmax(att, pos + 1);
            float *xb = s->xb + h * hs;
            memset(xb, 0, (size_t)hs * sizeof(float));
            for (int t = 0; t <= pos; t++) {
                const float *vt = s->value_cache + loff + (size_t)t * kvd + kvh * hs;
                for (int i = 0; i < hs; i++)
                    xb[i] += att[t] * vt[i];
            }
        }
        if ((rc = linear(m, ex, l, SQ_W_O, s->xb, s->xb2)))
            return rc;
        host_op(ex, l, "res_att");
        for (int i = 0; i < dim; i++)
            x[i] += s->xb2[i];

        /* feed-forward: w2(silu(w1 x) * w3 x) */
        host_op(ex, l, "norm_ffn");
        rmsnorm(s->xb, x, m->w.rms_ffn + (size_t)l * dim, dim, c->norm_eps);
        if ((rc = linear(m, ex, l, SQ_W_1, s->xb, s->hb)) || (rc = linear(m, ex, l, SQ_W_3, s->xb, s->hb2)))
            return rc;
        host_op(ex, l, "swiglu");
        for (int i = 0; i < hidden; i++) {
            float a = s->hb[i];
            s->hb[i] = a / (1.0f + expf(-a)) * s->hb2[i];
        }
        if ((rc = linear(m, ex, l, SQ_W_2, s->hb, s->xb)))
            return rc;
        host_op(ex, l, "res_ffn");
        for (int i = 0; i < dim; i++)
            x[i] += s->xb[i];
    }
    if (l1 < c->n_layers)
        return 0;
    host_op(ex, -1, "norm");
    rmsnorm(x, x, m->w.rms_final, dim, c->norm_eps);
    return linear(m, ex, 0, SQ_W_CLS, x, s->logits);
}
