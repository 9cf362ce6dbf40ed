#include "compress/transform.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sparq/hadamard.h"
#include "util/err.h"

/* The seed of the residual rotation's signs (any fixed value: reruns and
 * the .sqm it writes are reproducible). */
#define ROT_SEED 0x5eed5eedull

int sq_llama_copy(const sq_llama_t *m, sq_llama_t *out, int untie)
{
    sq_llama_config_t c = m->cfg;
    if (untie)
        c.shared_classifier = 0;
    int rc = sq_llama_alloc(out, &c);
    if (rc)
        return rc;
    const sq_llama_config_t *mc = &m->cfg;
    size_t d = (size_t)mc->dim, l = (size_t)mc->n_layers;
    memcpy(out->w.token_embedding, m->w.token_embedding, (size_t)mc->vocab_size * d * sizeof(float));
    memcpy(out->w.rms_att, m->w.rms_att, l * d * sizeof(float));
    memcpy(out->w.rms_ffn, m->w.rms_ffn, l * d * sizeof(float));
    memcpy(out->w.rms_final, m->w.rms_final, d * sizeof(float));
    for (int kd = 0; kd < SQ_W_COUNT; kd++) {
        size_t n, k;
        sq_llama_wshape(mc, (sq_wkind_t)kd, &n, &k);
        for (int layer = 0; layer < (kd == SQ_W_CLS ? 1 : mc->n_layers); layer++)
            memcpy((float *)sq_llama_wptr(out, layer, (sq_wkind_t)kd),
                   sq_llama_wptr(m, layer, (sq_wkind_t)kd), n * k * sizeof(float));
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * Rotations */

int sq_rot_init(sq_rot_t *r, size_t k, uint64_t sign_seed)
{
    memset(r, 0, sizeof *r);
    if (!(r->n = sq_had_order(k, &r->m)))
        return sq_err(SQ_ERR_ARG, "rot: no Hadamard order for width %zu", k);
    r->tab = malloc(r->m * r->m);
    r->buf = malloc(r->n * sizeof *r->buf);
    r->buf2 = malloc(r->n * sizeof *r->buf2);
    r->tmp = malloc(r->n * sizeof *r->tmp);
    if (sign_seed)
        r->sign = malloc(r->n);
    if (!r->tab || !r->buf || !r->buf2 || !r->tmp || (sign_seed && !r->sign)) {
        sq_rot_free(r);
        return sq_err(SQ_ERR_MEM, "rot: out of memory");
    }
    sq_had_base(r->m, r->tab);
    uint64_t x = sign_seed;
    for (size_t i = 0; r->sign && i < r->n; i++) {
        /* xorshift64: any fixed sequence of signs will do */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        r->sign[i] = (x >> 32) & 1 ? -1 : 1;
    }
    return 0;
}

void sq_rot_free(sq_rot_t *r)
{
    free(r->tab);
    free(r->buf);
    free(r->buf2);
    free(r->tmp);
    free(r->sign);
    memset(r, 0, sizeof *r);
}

/* v <- H v, or H^T v: the Sylvester factor S is symmetric and the Paley
 * factor P = I + C with C skew, so P^T = 2 I - P and H^T = 2 (I x S) - H. */
static void had_f64(const sq_rot_t *r, double *v, int transpose)
{
    if (!transpose || r->m == 1) {
        sq_had_f64(v, r->n, r->m, r->tab, r->tmp);
        return;
    }
    size_t p = r->n / r->m;
    const int8_t one = 1;
    memcpy(r->buf2, v, r->n * sizeof *v);
    for (size_t b = 0; b < r->m; b++)
        sq_had_f64(r->buf2 + b * p, p, 1, &one, r->tmp);
    sq_had_f64(v, r->n, r->m, r->tab, r->tmp);
    for (size_t i = 0; i < r->n; i++)
        v[i] = 2.0 * r->buf2[i] - v[i];
}

/* r->buf (n) <- Q r->buf or Q^T r->buf. */
static void apply_buf(const sq_rot_t *r, int transpose)
{
    double *b = r->buf, norm = 1.0 / sqrt((double)r->n);
    if (r->sign && !transpose)
        for (size_t i = 0; i < r->n; i++)
            b[i] *= r->sign[i];
    had_f64(r, b, transpose);
    for (size_t i = 0; i < r->n; i++)
        b[i] *= norm * (r->sign && transpose ? r->sign[i] : 1);
}

void sq_rot_apply_f64(const sq_rot_t *r, double *v, size_t count, size_t stride, int transpose)
{
    for (size_t i = 0; i < r->n; i++)
        r->buf[i] = i < count ? v[i * stride] : 0.0;
    apply_buf(r, transpose);
    for (size_t i = 0; i < count; i++)
        v[i * stride] = r->buf[i];
}

void sq_rot_apply(const sq_rot_t *r, float *v, size_t count, size_t stride, int transpose)
{
    for (size_t i = 0; i < r->n; i++)
        r->buf[i] = i < count ? (double)v[i * stride] : 0.0;
    apply_buf(r, transpose);
    for (size_t i = 0; i < count; i++)
        v[i * stride] = (float)r->buf[i];
}

/* ---------------------------------------------------------------------------
 * Model transforms */

static float *wmut(sq_llama_t *m, int layer, sq_wkind_t kind)
{
    return (float *)sq_llama_wptr(m, layer, kind);
}

/* Multiplies column j of every reader of a norm's output by g_j, g <- 1. */
static void fold_norm(sq_llama_t *m, int layer, float *g, const sq_wkind_t *kinds, int nk)
{
    for (int t = 0; t < nk; t++) {
        size_t n, k;
        sq_llama_wshape(&m->cfg, kinds[t], &n, &k);
        float *w = wmut(m, layer, kinds[t]);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < k; j++)
                w[i * k + j] *= g[j];
    }
    for (size_t j = 0; j < (size_t)m->cfg.dim; j++)
        g[j] = 1.0f;
}

static const sq_wkind_t ATT_IN[] = {SQ_W_Q, SQ_W_K, SQ_W_V};
static const sq_wkind_t FFN_IN[] = {SQ_W_1, SQ_W_3};
static const sq_wkind_t CLS_IN[] = {SQ_W_CLS};

static void fold_norms(sq_llama_t *m)
{
    size_t d = (size_t)m->cfg.dim;
    for (int l = 0; l < m->cfg.n_layers; l++) {
        fold_norm(m, l, m->w.rms_att + l * d, ATT_IN, 3);
        fold_norm(m, l, m->w.rms_ffn + l * d, FFN_IN, 2);
    }
    fold_norm(m, 0, m->w.rms_final, CLS_IN, 1);
}

/* Rows (readers) or columns (writers) of a matrix by r. */
static void rot_rows(const sq_rot_t *r, float *w, size_t n, size_t k)
{
    for (size_t i = 0; i < n; i++)
        sq_rot_apply(r, w + i * k, k, 1, 0);
}

static void rot_cols(const sq_rot_t *r, float *w, size_t n, size_t k)
{
    for (size_t j = 0; j < k; j++)
        sq_rot_apply(r, w + j, n, k, 0);
}

static int rotate(sq_llama_t *m)
{
    const sq_llama_config_t *c = &m->cfg;
    size_t d = (size_t)c->dim, hs = d / (size_t)c->n_heads, kvd = hs * (size_t)c->n_kv_heads;
    size_t mm;
    if (sq_had_order(d, &mm) != d)
        return sq_err(SQ_ERR_ARG, "rot: the model width %zu has no Hadamard order", d);
    sq_rot_t res, head;
    int rc = sq_rot_init(&res, d, ROT_SEED);
    /* a head width without an exact order keeps its value heads unrotated */
    int heads = !rc && sq_had_order(hs, &mm) == hs;
    if (heads && (rc = sq_rot_init(&head, hs, 0)))
        sq_rot_free(&res);
    if (rc)
        return rc;
    rot_rows(&res, m->w.token_embedding, (size_t)c->vocab_size, d);
    for (int l = 0; l < c->n_layers; l++) {
        for (int kd = 0; kd < SQ_W_COUNT; kd++) {
            size_t n, k;
            sq_llama_wshape(c, (sq_wkind_t)kd, &n, &k);
            float *w = wmut(m, l, (sq_wkind_t)kd);
            if (kd == SQ_W_O || kd == SQ_W_2)
                rot_cols(&res, w, n, k);
            else if (kd != SQ_W_CLS)
                rot_rows(&res, w, n, k);
        }
        if (!heads)
            continue;
        /* value head g's rows of W_v, and W_o's columns of each head */
        float *wv = wmut(m, l, SQ_W_V), *wo = wmut(m, l, SQ_W_O);
        for (size_t g = 0; g < kvd / hs; g++)
            rot_cols(&head, wv + g * hs * d, hs, d);
        for (size_t i = 0; i < d; i++)
            for (size_t h = 0; h < (size_t)c->n_heads; h++)
                sq_rot_apply(&head, wo + i * d + h * hs, hs, 1, 0);
    }
    size_t n, k;
    sq_llama_wshape(c, SQ_W_CLS, &n, &k);
    rot_rows(&res, wmut(m, 0, SQ_W_CLS), n, k);
    sq_rot_free(&res);
    if (heads)
        sq_rot_free(&head);
    return 0;
}

int sq_xform_prepare(sq_llama_t *m, const sq_recipe_t *r)
{
    if (!sq_recipe_transforms(r))
        return 0;
    sq_llama_t t;
    int rc = sq_llama_copy(m, &t, 1);
    if (rc)
        return rc;
    fold_norms(&t);
    if (r->rot && (rc = rotate(&t))) {
        sq_llama_free(&t);
        return rc;
    }
    sq_llama_free(m);
    *m = t;
    return 0;
}

int sq_xform_can_scale(const sq_llama_config_t *c, int layer, sq_wkind_t kind)
{
    switch (kind) {
    case SQ_W_Q:
    case SQ_W_1:
    case SQ_W_2:
        return 1;
    case SQ_W_O:
        return c->n_heads == c->n_kv_heads;
    case SQ_W_CLS:
        return layer == 0 && !c->shared_classifier;
    default:
        return 0;
    }
}

/* Multiplies (or divides) row i of w (n, k) by s[i]. */
static void scale_rows(float *w, size_t n, size_t k, const double *s, int divide)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++)
            w[i * k + j] = (float)(divide ? w[i * k + j] / s[i] : w[i * k + j] * s[i]);
}

static void scale_cols(float *w, size_t n, size_t k, const double *s)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++)
            w[i * k + j] = (float)(w[i * k + j] * s[j]);
}

int sq_xform_scale_input(sq_llama_t *m, int layer, sq_wkind_t kind, const double *s)
{
    const sq_llama_config_t *c = &m->cfg;
    if (!sq_xform_can_scale(c, layer, kind))
        return sq_err(SQ_ERR_ARG, "no op before the input of layer %d %s to fold a scale into",
                      layer, sq_wkind_name[kind]);
    size_t d = (size_t)c->dim, n, k;
    sq_llama_wshape(c, kind, &n, &k);
    float *g = NULL;
    const sq_wkind_t *readers = &kind;
    int nr = 1;
    switch (kind) {
    case SQ_W_Q:
        g = m->w.rms_att + (size_t)layer * d;
        readers = ATT_IN;
        nr = 3;
        break;
    case SQ_W_1:
        g = m->w.rms_ffn + (size_t)layer * d;
        readers = FFN_IN;
        nr = 2;
        break;
    case SQ_W_CLS:
        g = m->w.rms_final;
        break;
    case SQ_W_2:
        scale_rows(wmut(m, layer, SQ_W_3), k, d, s, 1);
        break;
    default: /* SQ_W_O, one value head per query head */
        scale_rows(wmut(m, layer, SQ_W_V), k, d, s, 1);
        break;
    }
    for (size_t j = 0; g && j < k; j++)
        g[j] = (float)(g[j] / s[j]);
    for (int t = 0; t < nr; t++) {
        size_t rn, rk;
        sq_llama_wshape(c, readers[t], &rn, &rk);
        scale_cols(wmut(m, layer, readers[t]), rn, rk, s);
    }
    return 0;
}
