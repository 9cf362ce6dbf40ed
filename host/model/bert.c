/* BERT encoder and sentence embeddings (bert.h). */
#include "model/bert.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/safetensors.h"
#include "util/bytes.h"
#include "util/err.h"

/* sentence-transformers' max_seq_length for all-MiniLM-L6-v2 */
#define DEFAULT_MAX_TOKENS 256

/* ---------------------------------------------------------------------------
 * Loading */

static int cfg_int(const cJSON *j, const char *key, int lo, int hi, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo ||
        v->valuedouble > hi)
        return sq_err(SQ_ERR_FMT, "config.json: %s must be an integer in [%d, %d]", key, lo, hi);
    *out = (int)v->valuedouble;
    return 0;
}

static int cfg_str_is(const cJSON *j, const char *key, const char *want, int required)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    if (!v && !required)
        return 0;
    if (!cJSON_IsString(v) || strcmp(v->valuestring, want))
        return sq_err(SQ_ERR_FMT, "config.json: %s must be \"%s\"", key, want);
    return 0;
}

static int read_config(const char *path, sq_bert_config_t *c)
{
    uint8_t *data;
    size_t n;
    int rc = sq_file_read(path, &data, &n);
    if (rc)
        return rc;
    cJSON *j = cJSON_ParseWithLength((const char *)data, n);
    free(data);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return sq_err(SQ_ERR_FMT, "%s is not a JSON object", path);
    }
    const cJSON *eps = cJSON_GetObjectItemCaseSensitive(j, "layer_norm_eps");
    if ((rc = cfg_str_is(j, "model_type", "bert", 1)) ||
        (rc = cfg_str_is(j, "hidden_act", "gelu", 1)) ||
        (rc = cfg_str_is(j, "position_embedding_type", "absolute", 0)) ||
        (rc = cfg_int(j, "vocab_size", 1, 1 << 22, &c->vocab_size)) ||
        (rc = cfg_int(j, "hidden_size", 1, 1 << 14, &c->dim)) ||
        (rc = cfg_int(j, "num_hidden_layers", 1, 256, &c->n_layers)) ||
        (rc = cfg_int(j, "num_attention_heads", 1, 1024, &c->n_heads)) ||
        (rc = cfg_int(j, "intermediate_size", 1, 1 << 16, &c->hidden_dim)) ||
        (rc = cfg_int(j, "max_position_embeddings", 2, 1 << 16, &c->max_pos)) ||
        (rc = cfg_int(j, "type_vocab_size", 1, 1024, &c->n_types))) {
        cJSON_Delete(j);
        return rc;
    }
    if (!cJSON_IsNumber(eps) || !(eps->valuedouble > 0) || eps->valuedouble > 1) {
        cJSON_Delete(j);
        return sq_err(SQ_ERR_FMT, "config.json: layer_norm_eps must be a number in (0, 1]");
    }
    c->norm_eps = (float)eps->valuedouble;
    cJSON_Delete(j);
    if (c->dim % c->n_heads)
        return sq_err(SQ_ERR_FMT, "config.json: hidden_size %d is not a multiple of %d heads",
                      c->dim, c->n_heads);
    return 0;
}

/* One named tensor of the checkpoint into dst, shape checked. */
typedef struct {
    const sq_st_t *st;
    char name[160];
} ld_t;

static int take(ld_t *ld, float *dst, uint64_t d0, uint64_t d1, const char *fmt, int layer)
{
    snprintf(ld->name, sizeof ld->name, fmt, layer);
    uint64_t shape[2] = {d0, d1};
    return sq_st_read_f32(ld->st, ld->name, d1 ? 2 : 1, shape, dst);
}

static int load_weights(sq_bert_t *m, const sq_st_t *st)
{
    const sq_bert_config_t *c = &m->cfg;
    size_t D = (size_t)c->dim, H = (size_t)c->hidden_dim, L = (size_t)c->n_layers;
    size_t total = ((size_t)c->vocab_size + (size_t)c->max_pos + (size_t)c->n_types + 2) * D +
                   L * (4 * D * D + 4 * D + 4 * D + 2 * H * D + H + D);
    float *p = m->storage = malloc(total * sizeof *p);
    if (!p)
        return sq_err(SQ_ERR_MEM, "out of memory for %zu weights", total);
    sq_bert_weights_t *w = &m->w;
    float **slots[] = {&w->word_emb, &w->pos_emb, &w->type_emb, &w->emb_ln_w, &w->emb_ln_b,
                       &w->wq, &w->wk, &w->wv, &w->wo, &w->bq, &w->bk, &w->bv, &w->bo,
                       &w->ln1_w, &w->ln1_b, &w->w1, &w->b1, &w->w2, &w->b2, &w->ln2_w,
                       &w->ln2_b};
    size_t sizes[] = {(size_t)c->vocab_size * D, (size_t)c->max_pos * D, (size_t)c->n_types * D,
                      D, D, L * D * D, L * D * D, L * D * D, L * D * D, L * D, L * D, L * D,
                      L * D, L * D, L * D, L * H * D, L * H, L * D * H, L * D, L * D, L * D};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        *slots[i] = p;
        p += sizes[i];
    }
    ld_t ld = {.st = st};
    int rc;
    if ((rc = take(&ld, w->word_emb, (uint64_t)c->vocab_size, D, "embeddings.word_embeddings.weight", 0)) ||
        (rc = take(&ld, w->pos_emb, (uint64_t)c->max_pos, D, "embeddings.position_embeddings.weight", 0)) ||
        (rc = take(&ld, w->type_emb, (uint64_t)c->n_types, D, "embeddings.token_type_embeddings.weight", 0)) ||
        (rc = take(&ld, w->emb_ln_w, D, 0, "embeddings.LayerNorm.weight", 0)) ||
        (rc = take(&ld, w->emb_ln_b, D, 0, "embeddings.LayerNorm.bias", 0)))
        return rc;
    for (int l = 0; l < c->n_layers; l++) {
        size_t dd = (size_t)l * D * D, hd = (size_t)l * H * D;
        if ((rc = take(&ld, w->wq + dd, D, D, "encoder.layer.%d.attention.self.query.weight", l)) ||
            (rc = take(&ld, w->bq + l * D, D, 0, "encoder.layer.%d.attention.self.query.bias", l)) ||
            (rc = take(&ld, w->wk + dd, D, D, "encoder.layer.%d.attention.self.key.weight", l)) ||
            (rc = take(&ld, w->bk + l * D, D, 0, "encoder.layer.%d.attention.self.key.bias", l)) ||
            (rc = take(&ld, w->wv + dd, D, D, "encoder.layer.%d.attention.self.value.weight", l)) ||
            (rc = take(&ld, w->bv + l * D, D, 0, "encoder.layer.%d.attention.self.value.bias", l)) ||
            (rc = take(&ld, w->wo + dd, D, D, "encoder.layer.%d.attention.output.dense.weight", l)) ||
            (rc = take(&ld, w->bo + l * D, D, 0, "encoder.layer.%d.attention.output.dense.bias", l)) ||
            (rc = take(&ld, w->ln1_w + l * D, D, 0, "encoder.layer.%d.attention.output.LayerNorm.weight", l)) ||
            (rc = take(&ld, w->ln1_b + l * D, D, 0, "encoder.layer.%d.attention.output.LayerNorm.bias", l)) ||
            (rc = take(&ld, w->w1 + hd, H, D, "encoder.layer.%d.intermediate.dense.weight", l)) ||
            (rc = take(&ld, w->b1 + l * H, H, 0, "encoder.layer.%d.intermediate.dense.bias", l)) ||
            (rc = take(&ld, w->w2 + hd, D, H, "encoder.layer.%d.output.dense.weight", l)) ||
            (rc = take(&ld, w->b2 + l * D, D, 0, "encoder.layer.%d.output.dense.bias", l)) ||
            (rc = take(&ld, w->ln2_w + l * D, D, 0, "encoder.layer.%d.output.LayerNorm.weight", l)) ||
            (rc = take(&ld, w->ln2_b + l * D, D, 0, "encoder.layer.%d.output.LayerNorm.bias", l)))
            return rc;
    }
    return 0;
}

int sq_bert_load(const char *path, sq_bert_t *m)
{
    memset(m, 0, sizeof *m);
    m->max_tokens = DEFAULT_MAX_TOKENS;
    struct stat stt;
    if (stat(path, &stt) != 0)
        return sq_err(SQ_ERR_IO, "cannot open %s", path);
    char dir[4096], file[4200];
    if (S_ISDIR(stt.st_mode)) {
        snprintf(dir, sizeof dir, "%s", path);
        snprintf(file, sizeof file, "%s/model.safetensors", dir);
    } else {
        snprintf(file, sizeof file, "%s", path);
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(dir, sizeof dir, ".");
    }
    char cfg[4200], vocab[4200];
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    snprintf(vocab, sizeof vocab, "%s/vocab.txt", dir);
    int rc = read_config(cfg, &m->cfg);
    if (rc)
        return rc;
    if (m->max_tokens > (size_t)m->cfg.max_pos)
        m->max_tokens = (size_t)m->cfg.max_pos;
    if ((rc = sq_wp_load(vocab, &m->tok)))
        return rc;
    if (sq_wp_vocab_size(m->tok) != (size_t)m->cfg.vocab_size) {
        rc = sq_err(SQ_ERR_FMT, "%s has %zu tokens, config.json says %d", vocab,
                    sq_wp_vocab_size(m->tok), m->cfg.vocab_size);
        sq_bert_free(m);
        return rc;
    }
    sq_st_t *st;
    if ((rc = sq_st_read(file, &st))) {
        sq_bert_free(m);
        return rc;
    }
    rc = load_weights(m, st);
    sq_st_free(st);
    if (rc) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", sq_err_msg());
        sq_bert_free(m);
        return sq_err(rc, "%s: %s", file, msg);
    }
    return 0;
}

void sq_bert_free(sq_bert_t *m)
{
    sq_wp_free(m->tok);
    free(m->storage);
    memset(m, 0, sizeof *m);
}

/* ---------------------------------------------------------------------------
 * Forward */

/* y (n, out) = x (n, in) W^T, W (out, in). Eight independent partial sums
 * let the compiler vectorize without -ffast-math. */
static void matmul(const float *x, size_t n, const float *w, size_t in, size_t out, float *y)
{
    for (size_t t = 0; t < n; t++) {
        const float *xt = x + t * in;
        for (size_t o = 0; o < out; o++) {
            const float *wo = w + o * in;
            float lane[8] = {0};
            size_t i = 0;
            for (; i + 8 <= in; i += 8)
                for (size_t j = 0; j < 8; j++)
                    lane[j] += xt[i + j] * wo[i + j];
            float acc = 0.0f;
            for (; i < in; i++)
                acc += xt[i] * wo[i];
            for (size_t j = 0; j < 8; j++)
                acc += lane[j];
            y[t * out + o] = acc;
        }
    }
}

void sq_bert_wshape(const sq_bert_config_t *c, sq_wkind_t kind, size_t *n, size_t *k)
{
    *n = (size_t)(kind == SQ_W_1 ? c->hidden_dim : c->dim);
    *k = (size_t)(kind == SQ_W_2 ? c->hidden_dim : c->dim);
}

const float *sq_bert_wptr(const sq_bert_t *m, int layer, sq_wkind_t kind)
{
    size_t dd = (size_t)layer * (size_t)m->cfg.dim * (size_t)m->cfg.dim;
    size_t hd = (size_t)layer * (size_t)m->cfg.hidden_dim * (size_t)m->cfg.dim;
    switch (kind) {
    case SQ_W_Q: return m->w.wq + dd;
    case SQ_W_K: return m->w.wk + dd;
    case SQ_W_V: return m->w.wv + dd;
    case SQ_W_O: return m->w.wo + dd;
    case SQ_W_1: return m->w.w1 + hd;
    case SQ_W_2: return m->w.w2 + hd;
    default: return NULL;
    }
}

static const float *bias_of(const sq_bert_t *m, int layer, sq_wkind_t kind)
{
    size_t d = (size_t)layer * (size_t)m->cfg.dim, h = (size_t)layer * (size_t)m->cfg.hidden_dim;
    switch (kind) {
    case SQ_W_Q: return m->w.bq + d;
    case SQ_W_K: return m->w.bk + d;
    case SQ_W_V: return m->w.bv + d;
    case SQ_W_O: return m->w.bo + d;
    case SQ_W_1: return m->w.b1 + h;
    default: return m->w.b2 + d;
    }
}

void sq_bert_linear_f32(const sq_bert_t *m, int layer, sq_wkind_t kind, const float *x,
                        size_t rows, float *y)
{
    size_t n, k;
    sq_bert_wshape(&m->cfg, kind, &n, &k);
    matmul(x, rows, sq_bert_wptr(m, layer, kind), k, n, y);
}

/* y (rows, n) = x W^T + b through the exec hook when there is one. */
static int linear(const sq_bert_t *m, const sq_bert_exec_t *ex, int layer, sq_wkind_t kind,
                  const float *x, size_t rows, float *y)
{
    size_t n, k;
    sq_bert_wshape(&m->cfg, kind, &n, &k);
    if (ex && ex->linear) {
        int rc = ex->linear(ex->ctx, layer, kind, x, rows, y);
        if (rc)
            return rc;
    } else {
        sq_bert_linear_f32(m, layer, kind, x, rows, y);
    }
    const float *b = bias_of(m, layer, kind);
    for (size_t t = 0; t < rows; t++)
        for (size_t o = 0; o < n; o++)
            y[t * n + o] += b[o];
    return 0;
}

/* x = LayerNorm(x + r) per row, in place. */
static void add_layernorm(float *x, const float *r, size_t n, size_t d, const float *g,
                          const float *b, float eps)
{
    for (size_t t = 0; t < n; t++) {
        float *xt = x + t * d;
        double mean = 0.0, var = 0.0;
        for (size_t i = 0; i < d; i++) {
            if (r)
                xt[i] += r[t * d + i];
            mean += xt[i];
        }
        mean /= (double)d;
        for (size_t i = 0; i < d; i++)
            var += (xt[i] - mean) * (xt[i] - mean);
        float inv = (float)(1.0 / sqrt(var / (double)d + eps));
        for (size_t i = 0; i < d; i++)
            xt[i] = ((float)(xt[i] - mean)) * inv * g[i] + b[i];
    }
}

int sq_bert_forward(const sq_bert_t *m, const int32_t *ids, size_t n, float *x,
                    const sq_bert_exec_t *ex)
{
    const sq_bert_config_t *c = &m->cfg;
    const sq_bert_weights_t *w = &m->w;
    size_t D = (size_t)c->dim, H = (size_t)c->hidden_dim, nh = (size_t)c->n_heads, hd = D / nh;
    if (n == 0 || n > (size_t)c->max_pos)
        return sq_err(SQ_ERR_ARG, "%zu tokens (1..%d)", n, c->max_pos);
    for (size_t t = 0; t < n; t++)
        if (ids[t] < 0 || ids[t] >= c->vocab_size)
            return sq_err(SQ_ERR_ARG, "token id %d out of range", ids[t]);
    if (ex && ex->forward)
        return ex->forward(ex->fwd_ctx, ids, n, x);
    float *q = malloc(n * D * sizeof *q), *k = malloc(n * D * sizeof *k);
    float *v = malloc(n * D * sizeof *v), *ctx = malloc(n * D * sizeof *ctx);
    float *h = malloc(n * H * sizeof *h), *att = malloc(n * sizeof *att);
    if (!q || !k || !v || !ctx || !h || !att) {
        free(q), free(k), free(v), free(ctx), free(h), free(att);
        return sq_err(SQ_ERR_MEM, "out of memory for %zu tokens", n);
    }
    for (size_t t = 0; t < n; t++)
        for (size_t i = 0; i < D; i++)
            x[t * D + i] = w->word_emb[(size_t)ids[t] * D + i] + w->pos_emb[t * D + i] +
                           w->type_emb[i];
    add_layernorm(x, NULL, n, D, w->emb_ln_w, w->emb_ln_b, c->norm_eps);
    const float scale = 1.0f / sqrtf((float)hd);
    int rc = 0;
    for (int l = 0; l < c->n_layers; l++) {
        size_t lu = (size_t)l;
        if ((rc = linear(m, ex, l, SQ_W_Q, x, n, q)) || (rc = linear(m, ex, l, SQ_W_K, x, n, k)) ||
            (rc = linear(m, ex, l, SQ_W_V, x, n, v)))
            break;
        for (size_t hh = 0; hh < nh; hh++) {
            for (size_t i = 0; i < n; i++) {
                const float *qi = q + i * D + hh * hd;
                float mx = -INFINITY;
                for (size_t j = 0; j < n; j++) {
                    const float *kj = k + j * D + hh * hd;
                    float s = 0.0f;
                    for (size_t e = 0; e < hd; e++)
                        s += qi[e] * kj[e];
                    att[j] = s * scale;
                    mx = att[j] > mx ? att[j] : mx;
                }
                float sum = 0.0f;
                for (size_t j = 0; j < n; j++) {
                    att[j] = expf(att[j] - mx);
                    sum += att[j];
                }
                float *ci = ctx + i * D + hh * hd;
                memset(ci, 0, hd * sizeof *ci);
                for (size_t j = 0; j < n; j++) {
                    const float *vj = v + j * D + hh * hd;
                    float a = att[j] / sum;
                    for (size_t e = 0; e < hd; e++)
                        ci[e] += a * vj[e];
                }
            }
        }
        if ((rc = linear(m, ex, l, SQ_W_O, ctx, n, q)))
            break;
        add_layernorm(x, q, n, D, w->ln1_w + lu * D, w->ln1_b + lu * D, c->norm_eps);
        if ((rc = linear(m, ex, l, SQ_W_1, x, n, h)))
            break;
        for (size_t i = 0; i < n * H; i++) /* exact (erf) GELU, as BERT's "gelu" */
            h[i] = 0.5f * h[i] * (1.0f + erff(h[i] * 0.70710678118654752f));
        if ((rc = linear(m, ex, l, SQ_W_2, h, n, q)))
            break;
        add_layernorm(x, q, n, D, w->ln2_w + lu * D, w->ln2_b + lu * D, c->norm_eps);
    }
    free(q), free(k), free(v), free(ctx), free(h), free(att);
    return rc;
}

int sq_bert_embed(const sq_bert_t *m, const char *text, float *emb, size_t *n_tokens,
                  const sq_bert_exec_t *ex)
{
    size_t D = (size_t)m->cfg.dim, n;
    int32_t *ids = malloc(m->max_tokens * sizeof *ids);
    if (!ids)
        return sq_err(SQ_ERR_MEM, "out of memory");
    int rc = sq_wp_encode(m->tok, text, m->max_tokens, ids, &n);
    float *x = rc ? NULL : malloc(n * D * sizeof *x);
    if (!rc && !x)
        rc = sq_err(SQ_ERR_MEM, "out of memory");
    if (!rc)
        rc = sq_bert_forward(m, ids, n, x, ex);
    if (!rc) {
        double norm = 0.0;
        for (size_t i = 0; i < D; i++) {
            double s = 0.0;
            for (size_t t = 0; t < n; t++)
                s += x[t * D + i];
            emb[i] = (float)(s / (double)n);
            norm += (double)emb[i] * emb[i];
        }
        /* sentence-transformers' Normalize: x / max(||x||, 1e-12) */
        double inv = 1.0 / (sqrt(norm) > 1e-12 ? sqrt(norm) : 1e-12);
        for (size_t i = 0; i < D; i++)
            emb[i] = (float)(emb[i] * inv);
        if (n_tokens)
            *n_tokens = n;
    }
    free(x);
    free(ids);
    return rc;
}
