/* Whole-sequence forward and backward pass of the Llama architecture, AdamW.
 *
 * Every matmul sums scaled rows of its right operand (gemm below), which gcc
 * vectorizes without reassociating float sums; the forward therefore runs on
 * transposed copies of the weights, made once per sq_train_load. */
#include "train/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sparq/numerics.h"
#include "util/err.h"

/* ---------------------------------------------------------------------------
 * Weight arrays */

int sq_train_params(const sq_llama_t *m, float *p[12], size_t n[12])
{
    const sq_llama_config_t *c = &m->cfg;
    size_t d = (size_t)c->dim, h = (size_t)c->hidden_dim, l = (size_t)c->n_layers;
    size_t v = (size_t)c->vocab_size, kv = d / (size_t)c->n_heads * (size_t)c->n_kv_heads;
    int i = 0;
#define PUT(field, count)                                                                          \
    do {                                                                                           \
        p[i] = m->w.field;                                                                         \
        n[i++] = (count);                                                                          \
    } while (0)
    PUT(token_embedding, v * d);
    PUT(rms_att, l * d);
    PUT(wq, l * d * d);
    PUT(wk, l * kv * d);
    PUT(wv, l * kv * d);
    PUT(wo, l * d * d);
    PUT(rms_ffn, l * d);
    PUT(w1, l * h * d);
    PUT(w2, l * d * h);
    PUT(w3, l * h * d);
    PUT(rms_final, d);
    if (!c->shared_classifier)
        PUT(wcls, v * d);
#undef PUT
    return i;
}

int sq_train_clone(sq_llama_t *dst, const sq_llama_t *src)
{
    int rc = sq_llama_alloc(dst, &src->cfg);
    if (rc)
        return rc;
    sq_train_copy(dst, src);
    return 0;
}

void sq_train_copy(sq_llama_t *dst, const sq_llama_t *src)
{
    float *pd[12], *ps[12];
    size_t nd[12], ns[12];
    int cnt = sq_train_params(dst, pd, nd);
    sq_train_params(src, ps, ns);
    for (int i = 0; i < cnt; i++)
        memcpy(pd[i], ps[i], nd[i] * sizeof(float));
}

void sq_train_zero(sq_llama_t *m)
{
    float *p[12];
    size_t n[12];
    int cnt = sq_train_params(m, p, n);
    for (int i = 0; i < cnt; i++)
        memset(p[i], 0, n[i] * sizeof(float));
}

/* ---------------------------------------------------------------------------
 * Kernels */

static inline void axpy(float *restrict y, float a, const float *restrict x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] += a * x[i];
}

/* c (M, N) = [c +] a b over T: a(m, t) = a[m * sam + t * sat], b (T, N) with
 * row stride ldb. A 4 x 8 tile of c stays in registers while t runs, so each
 * b row segment loaded feeds 4 output rows and nothing is stored until the
 * tile is done; the strides let one kernel serve the forward (a = x), the
 * input gradient (a = dy) and the weight gradient (a = dy transposed). The
 * tile uses gcc's vector extension (SSE2, in the x86-64 baseline): left to
 * itself the vectorizer picks the t loop and shuffles. */
#define MR 4
#define NR 8
typedef float v4f __attribute__((vector_size(16)));

/* What a causal attention product lets gemm skip (whole tiles only, so the
 * zero entries must really be zero in a, and c may get a few entries past
 * the diagonal in C_LOWER). */
typedef enum {
    FULL,
    A_LOWER, /* a(m, t) = 0 for t > m */
    A_UPPER, /* a(m, t) = 0 for t < m */
    C_LOWER, /* only c(m, n) with n <= m is wanted */
} causal_t;

static void gemm(float *restrict c, size_t ldc, const float *restrict a, size_t sam, size_t sat,
                 const float *restrict b, size_t ldb, size_t M, size_t N, size_t T, int accumulate,
                 causal_t causal)
{
    for (size_t m0 = 0; m0 < M; m0 += MR) {
        size_t mr = M - m0 < MR ? M - m0 : MR;
        size_t t0 = causal == A_UPPER ? m0 : 0;
        size_t t1 = causal == A_LOWER && m0 + mr < T ? m0 + mr : T;
        for (size_t n0 = 0; n0 < N && (causal != C_LOWER || n0 < m0 + mr); n0 += NR) {
            size_t nr = N - n0 < NR ? N - n0 : NR;
            float acc[MR][NR] = {{0}};
            if (mr == MR && nr == NR) {
                v4f c00 = {0}, c01 = {0}, c10 = {0}, c11 = {0}, c20 = {0}, c21 = {0}, c30 = {0},
                    c31 = {0};
                const float *a0 = a + m0 * sam, *a1 = a0 + sam, *a2 = a1 + sam, *a3 = a2 + sam;
                for (size_t t = t0; t < t1; t++) {
                    v4f b0, b1;
                    memcpy(&b0, b + t * ldb + n0, sizeof b0);
                    memcpy(&b1, b + t * ldb + n0 + 4, sizeof b1);
                    float x0 = a0[t * sat], x1 = a1[t * sat], x2 = a2[t * sat], x3 = a3[t * sat];
                    c00 += x0 * b0;
                    c01 += x0 * b1;
                    c10 += x1 * b0;
                    c11 += x1 * b1;
                    c20 += x2 * b0;
                    c21 += x2 * b1;
                    c30 += x3 * b0;
                    c31 += x3 * b1;
                }
                memcpy(&acc[0][0], &c00, 16);
                memcpy(&acc[0][4], &c01, 16);
                memcpy(&acc[1][0], &c10, 16);
                memcpy(&acc[1][4], &c11, 16);
                memcpy(&acc[2][0], &c20, 16);
                memcpy(&acc[2][4], &c21, 16);
                memcpy(&acc[3][0], &c30, 16);
                memcpy(&acc[3][4], &c31, 16);
            } else {
                for (size_t t = t0; t < t1; t++) {
                    const float *bt = b + t * ldb + n0;
                    for (size_t i = 0; i < mr; i++) {
                        float av = a[(m0 + i) * sam + t * sat];
                        for (size_t j = 0; j < nr; j++)
                            acc[i][j] += av * bt[j];
                    }
                }
            }
            for (size_t i = 0; i < mr; i++) {
                float *ci = c + (m0 + i) * ldc + n0;
                for (size_t j = 0; j < nr; j++)
                    ci[j] = (accumulate ? ci[j] : 0.0f) + acc[i][j];
            }
        }
    }
}

/* y (rows, n) = x (rows, k) W^T, with wt = W^T stored (k, n). */
static void mm_fwd(float *y, const float *x, size_t rows, size_t k, const float *wt, size_t n)
{
    gemm(y, n, x, k, 1, wt, n, rows, n, k, 0, FULL);
}

/* dx (rows, k) += dy (rows, n) W, W stored (n, k). */
static void mm_dx(float *dx, const float *dy, size_t rows, size_t n, const float *w, size_t k)
{
    gemm(dx, k, dy, n, 1, w, k, rows, k, n, 1, FULL);
}

/* dw (n, k) += dy (rows, n)^T x (rows, k). */
static void mm_dw(float *dw, const float *dy, const float *x, size_t rows, size_t n, size_t k)
{
    gemm(dw, k, dy, 1, n, x, k, n, k, rows, 1, FULL);
}

/* dst (cols, rows) = src (rows, cols) read with row stride lds. */
static void transpose(float *dst, const float *src, size_t rows, size_t cols, size_t lds)
{
    for (size_t r = 0; r < rows; r++)
        for (size_t j = 0; j < cols; j++)
            dst[j * rows + r] = src[r * lds + j];
}

/* Same arithmetic as llama.c's rmsnorm, row by row, keeping 1/rms. */
static void rmsnorm_fwd(float *o, float *rinv, const float *x, const float *w, size_t rows,
                        size_t d, float eps)
{
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * d;
        float ss = 0.0f;
        for (size_t j = 0; j < d; j++)
            ss += xr[j] * xr[j];
        ss = 1.0f / sqrtf(ss / (float)d + eps);
        rinv[r] = ss;
        for (size_t j = 0; j < d; j++)
            o[r * d + j] = w[j] * (ss * xr[j]);
    }
}

/* y = w * x * r with r = (mean(x^2) + eps)^-1/2, so dr/dx_j = -r^3 x_j / d. */
static void rmsnorm_bwd(float *dx, float *dw, const float *dy, const float *x, const float *rinv,
                        const float *w, size_t rows, size_t d)
{
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * d, *dyr = dy + r * d;
        float rr = rinv[r], dot = 0.0f;
        for (size_t j = 0; j < d; j++)
            dot += dyr[j] * w[j] * xr[j];
        float c = rr * rr * rr * dot / (float)d;
        for (size_t j = 0; j < d; j++) {
            dx[r * d + j] += w[j] * rr * dyr[j] - c * xr[j];
            dw[j] += dyr[j] * rr * xr[j];
        }
    }
}

/* Rounds each row to the int8 grid the w8a8 recipe gives it (sq_quant_i8). */
static void act8_rows(float *x, size_t rows, size_t k, int8_t *q)
{
    for (size_t r = 0; r < rows; r++) {
        float s = sq_quant_i8(x + r * k, k, q);
        for (size_t j = 0; j < k; j++)
            x[r * k + j] = (float)q[j] * s;
    }
}

/* Rotates pairs of every head in rows of width w; dir -1 applies the
 * transposed rotation (the backward pass). */
static void rope_rows(const sq_train_t *t, float *x, size_t rows, size_t w, int dir)
{
    size_t hs = (size_t)(t->cfg.dim / t->cfg.n_heads), half = hs / 2;
    for (size_t r = 0; r < rows; r++) {
        const float *cs = t->rope_cos + r * half, *sn = t->rope_sin + r * half;
        for (size_t i = 0; i < w; i += 2) {
            size_t f = (i % hs) / 2;
            float c = cs[f], s = dir > 0 ? sn[f] : -sn[f];
            float v0 = x[r * w + i], v1 = x[r * w + i + 1];
            x[r * w + i] = v0 * c - v1 * s;
            x[r * w + i + 1] = v0 * s + v1 * c;
        }
    }
}

/* ---------------------------------------------------------------------------
 * Build */

typedef struct {
    size_t wt_off[SQ_W_COUNT]; /* offsets of layer 0's transposes; cls last */
    size_t wt_layer;           /* floats per layer of transposes */
    float *dx, *dxn, *dq, *dk, *dv, *dao, *dh1, *dh3, *dhg; /* (max_len, width) */
    float *ds;                 /* (max_len, max_len) one head's score gradient */
    float *kt;                 /* (head_size, max_len) one KV head's K or V, transposed */
    int8_t *qbuf;              /* (max width) act8 rounding */
} bwd_t;

static size_t kvdim(const sq_llama_config_t *c)
{
    return (size_t)c->dim / (size_t)c->n_heads * (size_t)c->n_kv_heads;
}

void sq_train_free(sq_train_t *t)
{
    if (!t)
        return;
    if (t->layers) {
        for (int l = 0; l < t->cfg.n_layers; l++) {
            sq_train_layer_t *L = &t->layers[l];
            float *a[] = {L->x, L->xn1, L->r1, L->q, L->k, L->v, L->p,
                          L->ao, L->xm, L->xn2, L->r2, L->h1, L->h3, L->hg};
            for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
                free(a[i]);
        }
    }
    bwd_t *b = t->scratch;
    if (b) {
        float *a[] = {b->dx,  b->dxn, b->dq,  b->dk, b->dv,
                      b->dao, b->dh1, b->dh3, b->dhg, b->ds, b->kt};
        for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
            free(a[i]);
        free(b->qbuf);
    }
    free(b);
    free(t->layers);
    free(t->wt);
    free(t->rope_cos);
    free(t->rope_sin);
    free(t->tokens);
    free(t->xo);
    free(t->rf);
    free(t->xf);
    free(t->logits);
    free(t->dlogits);
    memset(t, 0, sizeof *t);
}

int sq_train_build(sq_train_t *t, const sq_llama_config_t *cfg, int max_len)
{
    memset(t, 0, sizeof *t);
    int rc = sq_llama_config_check(cfg);
    if (rc)
        return rc;
    if (max_len < 1 || max_len > cfg->seq_len)
        return sq_err(SQ_ERR_ARG, "training length %d out of range [1, %d]", max_len,
                      cfg->seq_len);
    t->cfg = *cfg;
    t->max_len = max_len;
    size_t L = (size_t)max_len, d = (size_t)cfg->dim, h = (size_t)cfg->hidden_dim;
    size_t kv = kvdim(cfg), v = (size_t)cfg->vocab_size, nh = (size_t)cfg->n_heads;
    size_t hs = d / nh, nl = (size_t)cfg->n_layers;
    int ok = 1;
#define ALLOC(ptr, count) ok &= ((ptr) = calloc((count), sizeof *(ptr))) != NULL
    bwd_t *b;
    ALLOC(b, 1);
    t->scratch = b;
    ALLOC(t->layers, nl);
    if (!ok) {
        sq_train_free(t);
        return sq_err(SQ_ERR_MEM, "out of memory for training activations");
    }
    size_t off = 0;
    for (int kd = 0; kd < SQ_W_COUNT; kd++) {
        size_t n, k;
        sq_llama_wshape(cfg, (sq_wkind_t)kd, &n, &k);
        b->wt_off[kd] = off;
        if (kd != SQ_W_CLS)
            off += n * k;
    }
    b->wt_layer = off;
    /* per-layer transposes, then the classifier's after the last layer */
    b->wt_off[SQ_W_CLS] = nl * off;
    ALLOC(t->wt, nl * off + v * d);
    ALLOC(t->rope_cos, L * hs / 2);
    ALLOC(t->rope_sin, L * hs / 2);
    for (size_t l = 0; l < nl; l++) {
        sq_train_layer_t *Y = &t->layers[l];
        ALLOC(Y->x, L * d);
        ALLOC(Y->xn1, L * d);
        ALLOC(Y->r1, L);
        ALLOC(Y->q, L * d);
        ALLOC(Y->k, L * kv);
        ALLOC(Y->v, L * kv);
        ALLOC(Y->p, nh * L * L);
        ALLOC(Y->ao, L * d);
        ALLOC(Y->xm, L * d);
        ALLOC(Y->xn2, L * d);
        ALLOC(Y->r2, L);
        ALLOC(Y->h1, L * h);
        ALLOC(Y->h3, L * h);
        ALLOC(Y->hg, L * h);
    }
    ALLOC(t->tokens, L);
    ALLOC(t->xo, L * d);
    ALLOC(t->rf, L);
    ALLOC(t->xf, L * d);
    ALLOC(t->logits, L * v);
    ALLOC(t->dlogits, L * v);
    ALLOC(b->dx, L * d);
    ALLOC(b->dxn, L * d);
    ALLOC(b->dq, L * d);
    ALLOC(b->dk, L * kv);
    ALLOC(b->dv, L * kv);
    ALLOC(b->dao, L * d);
    ALLOC(b->dh1, L * h);
    ALLOC(b->dh3, L * h);
    ALLOC(b->dhg, L * h);
    ALLOC(b->ds, L * L);
    ALLOC(b->kt, hs * L);
    ALLOC(b->qbuf, (h > d ? h : d));
#undef ALLOC
    if (!ok) {
        sq_train_free(t);
        return sq_err(SQ_ERR_MEM, "out of memory for training activations (%d positions)", max_len);
    }
    /* the same float expressions as llama.c's rope(), so positions match it */
    for (size_t pos = 0; pos < L; pos++) {
        for (size_t i = 0; i < hs; i += 2) {
            float freq = 1.0f / powf(cfg->rope_theta, (float)i / (float)hs);
            float val = (float)pos * freq;
            t->rope_cos[pos * hs / 2 + i / 2] = cosf(val);
            t->rope_sin[pos * hs / 2 + i / 2] = sinf(val);
        }
    }
    return 0;
}

static const float *wt_of(const sq_train_t *t, int layer, sq_wkind_t kind)
{
    const bwd_t *b = t->scratch;
    if (kind == SQ_W_CLS)
        return t->wt + b->wt_off[SQ_W_CLS];
    return t->wt + (size_t)layer * b->wt_layer + b->wt_off[kind];
}

int sq_train_load(sq_train_t *t, const sq_llama_t *m)
{
    const sq_llama_config_t *a = &t->cfg, *c = &m->cfg;
    if (a->dim != c->dim || a->hidden_dim != c->hidden_dim || a->n_layers != c->n_layers ||
        a->n_heads != c->n_heads || a->n_kv_heads != c->n_kv_heads ||
        a->vocab_size != c->vocab_size || a->shared_classifier != c->shared_classifier)
        return sq_err(SQ_ERR_ARG, "training buffers were built for another model config");
    t->m = m;
    for (int l = 0; l < c->n_layers; l++) {
        for (int kd = 0; kd < SQ_W_COUNT; kd++) {
            if (kd == SQ_W_CLS && l > 0)
                continue;
            size_t n, k;
            sq_llama_wshape(c, (sq_wkind_t)kd, &n, &k);
            const float *w = sq_llama_wptr(m, l, (sq_wkind_t)kd);
            float *wt = (float *)wt_of(t, l, (sq_wkind_t)kd);
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < k; j++)
                    wt[j * n + i] = w[i * k + j];
        }
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * Forward */

int sq_train_forward(sq_train_t *t, const int *tokens, int n_tok)
{
    const sq_llama_config_t *c = &t->cfg;
    const sq_llama_t *m = t->m;
    if (!m)
        return sq_err(SQ_ERR_ARG, "sq_train_forward before sq_train_load");
    if (n_tok < 1 || n_tok > t->max_len)
        return sq_err(SQ_ERR_ARG, "sequence of %d tokens out of range [1, %d]", n_tok, t->max_len);
    size_t n = (size_t)n_tok, d = (size_t)c->dim, hd = (size_t)c->hidden_dim, kv = kvdim(c);
    size_t nh = (size_t)c->n_heads, hs = d / nh, kv_mul = nh / (size_t)c->n_kv_heads;
    size_t v = (size_t)c->vocab_size;
    bwd_t *b = t->scratch;
    for (size_t pos = 0; pos < n; pos++) {
        if (tokens[pos] < 0 || tokens[pos] >= c->vocab_size)
            return sq_err(SQ_ERR_ARG, "token %d out of range [0, %d)", tokens[pos], c->vocab_size);
        t->tokens[pos] = tokens[pos];
        memcpy(t->layers[0].x + pos * d, m->w.token_embedding + (size_t)tokens[pos] * d,
               d * sizeof(float));
    }
    t->len = n_tok;
    float rsqhs = 1.0f / sqrtf((float)hs);
    for (int l = 0; l < c->n_layers; l++) {
        sq_train_layer_t *Y = &t->layers[l];
        rmsnorm_fwd(Y->xn1, Y->r1, Y->x, m->w.rms_att + (size_t)l * d, n, d, c->norm_eps);
        if (t->act8)
            act8_rows(Y->xn1, n, d, b->qbuf);
        mm_fwd(Y->q, Y->xn1, n, d, wt_of(t, l, SQ_W_Q), d);
        mm_fwd(Y->k, Y->xn1, n, d, wt_of(t, l, SQ_W_K), kv);
        mm_fwd(Y->v, Y->xn1, n, d, wt_of(t, l, SQ_W_V), kv);
        rope_rows(t, Y->q, n, d, 1);
        rope_rows(t, Y->k, n, kv, 1);
        for (size_t h = 0; h < nh; h++) {
            size_t g = h / kv_mul;
            if (h % kv_mul == 0)
                transpose(b->kt, Y->k + g * hs, n, hs, kv);
            /* scores, then each row's softmax over positions <= tq */
            float *p = Y->p + h * n * n;
            gemm(p, n, Y->q + h * hs, d, 1, b->kt, n, n, n, hs, 0, C_LOWER);
            for (size_t tq = 0; tq < n; tq++) {
                float *pr = p + tq * n, max = -INFINITY, sum = 0.0f;
                for (size_t s = 0; s <= tq; s++) {
                    pr[s] *= rsqhs;
                    max = pr[s] > max ? pr[s] : max;
                }
                for (size_t s = 0; s <= tq; s++) {
                    pr[s] = expf(pr[s] - max);
                    sum += pr[s];
                }
                float rsum = 1.0f / sum;
                for (size_t s = 0; s <= tq; s++)
                    pr[s] *= rsum;
                memset(pr + tq + 1, 0, (n - tq - 1) * sizeof(float));
            }
            gemm(Y->ao + h * hs, d, p, n, 1, Y->v + g * hs, kv, n, hs, n, 0, A_LOWER);
        }
        if (t->act8)
            act8_rows(Y->ao, n, d, b->qbuf);
        mm_fwd(Y->xm, Y->ao, n, d, wt_of(t, l, SQ_W_O), d);
        for (size_t i = 0; i < n * d; i++)
            Y->xm[i] += Y->x[i];
        rmsnorm_fwd(Y->xn2, Y->r2, Y->xm, m->w.rms_ffn + (size_t)l * d, n, d, c->norm_eps);
        if (t->act8)
            act8_rows(Y->xn2, n, d, b->qbuf);
        mm_fwd(Y->h1, Y->xn2, n, d, wt_of(t, l, SQ_W_1), hd);
        mm_fwd(Y->h3, Y->xn2, n, d, wt_of(t, l, SQ_W_3), hd);
        for (size_t i = 0; i < n * hd; i++) {
            float a = Y->h1[i];
            Y->hg[i] = a / (1.0f + expf(-a)) * Y->h3[i];
        }
        if (t->act8)
            act8_rows(Y->hg, n, hd, b->qbuf);
        float *next = l + 1 < c->n_layers ? t->layers[l + 1].x : t->xo;
        mm_fwd(next, Y->hg, n, hd, wt_of(t, l, SQ_W_2), d);
        for (size_t i = 0; i < n * d; i++)
            next[i] += Y->xm[i];
    }
    rmsnorm_fwd(t->xf, t->rf, t->xo, m->w.rms_final, n, d, c->norm_eps);
    if (t->act8)
        act8_rows(t->xf, n, d, b->qbuf);
    mm_fwd(t->logits, t->xf, n, d, wt_of(t, 0, SQ_W_CLS), v);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Backward */

static float *gptr(sq_llama_t *g, int layer, sq_wkind_t kind)
{
    return (float *)sq_llama_wptr(g, layer, kind);
}

int sq_train_backward(sq_train_t *t, sq_llama_t *g)
{
    const sq_llama_config_t *c = &t->cfg;
    const sq_llama_t *m = t->m;
    if (!m || t->len < 1)
        return sq_err(SQ_ERR_ARG, "sq_train_backward without a forward pass");
    if (g->cfg.dim != c->dim || g->cfg.n_layers != c->n_layers ||
        g->cfg.hidden_dim != c->hidden_dim || g->cfg.vocab_size != c->vocab_size ||
        g->cfg.n_kv_heads != c->n_kv_heads || g->cfg.shared_classifier != c->shared_classifier)
        return sq_err(SQ_ERR_ARG, "gradient model has another config");
    size_t n = (size_t)t->len, d = (size_t)c->dim, hd = (size_t)c->hidden_dim, kv = kvdim(c);
    size_t nh = (size_t)c->n_heads, hs = d / nh, kv_mul = nh / (size_t)c->n_kv_heads;
    size_t v = (size_t)c->vocab_size;
    bwd_t *b = t->scratch;
    float rsqhs = 1.0f / sqrtf((float)hs);

    memset(b->dxn, 0, n * d * sizeof(float));
    mm_dx(b->dxn, t->dlogits, n, v, m->w.wcls, d);
    mm_dw(g->w.wcls, t->dlogits, t->xf, n, v, d);
    memset(b->dx, 0, n * d * sizeof(float));
    rmsnorm_bwd(b->dx, g->w.rms_final, b->dxn, t->xo, t->rf, m->w.rms_final, n, d);

    for (int l = c->n_layers - 1; l >= 0; l--) {
        sq_train_layer_t *Y = &t->layers[l];
        /* feed-forward: next = xm + W2 (silu(W1 xn2) * W3 xn2) */
        memset(b->dhg, 0, n * hd * sizeof(float));
        mm_dx(b->dhg, b->dx, n, d, sq_llama_wptr(m, l, SQ_W_2), hd);
        mm_dw(gptr(g, l, SQ_W_2), b->dx, Y->hg, n, d, hd);
        for (size_t i = 0; i < n * hd; i++) {
            float a = Y->h1[i], sig = 1.0f / (1.0f + expf(-a));
            b->dh3[i] = b->dhg[i] * a * sig;
            b->dh1[i] = b->dhg[i] * Y->h3[i] * sig * (1.0f + a * (1.0f - sig));
        }
        memset(b->dxn, 0, n * d * sizeof(float));
        mm_dx(b->dxn, b->dh1, n, hd, sq_llama_wptr(m, l, SQ_W_1), d);
        mm_dx(b->dxn, b->dh3, n, hd, sq_llama_wptr(m, l, SQ_W_3), d);
        mm_dw(gptr(g, l, SQ_W_1), b->dh1, Y->xn2, n, hd, d);
        mm_dw(gptr(g, l, SQ_W_3), b->dh3, Y->xn2, n, hd, d);
        rmsnorm_bwd(b->dx, g->w.rms_ffn + (size_t)l * d, b->dxn, Y->xm, Y->r2,
                    m->w.rms_ffn + (size_t)l * d, n, d);

        /* attention: xm = x + Wo attn(rope(Wq xn1), rope(Wk xn1), Wv xn1) */
        memset(b->dao, 0, n * d * sizeof(float));
        mm_dx(b->dao, b->dx, n, d, sq_llama_wptr(m, l, SQ_W_O), d);
        mm_dw(gptr(g, l, SQ_W_O), b->dx, Y->ao, n, d, d);
        memset(b->dq, 0, n * d * sizeof(float));
        memset(b->dk, 0, n * kv * sizeof(float));
        memset(b->dv, 0, n * kv * sizeof(float));
        for (size_t h = 0; h < nh; h++) {
            size_t g = h / kv_mul;
            if (h % kv_mul == 0)
                transpose(b->kt, Y->v + g * hs, n, hs, kv);
            const float *p = Y->p + h * n * n, *dout = b->dao + h * hs;
            /* dP = dout V^T; dV += P^T dout; dS = P (dP - rowsum(P dP)) / sqrt(hs) */
            gemm(b->ds, n, dout, d, 1, b->kt, n, n, n, hs, 0, C_LOWER);
            gemm(b->dv + g * hs, kv, p, 1, n, dout, d, n, hs, n, 1, A_UPPER);
            for (size_t tq = 0; tq < n; tq++) {
                const float *pr = p + tq * n;
                float *dr = b->ds + tq * n, sum = 0.0f;
                for (size_t s = 0; s <= tq; s++)
                    sum += pr[s] * dr[s];
                for (size_t s = 0; s <= tq; s++)
                    dr[s] = pr[s] * (dr[s] - sum) * rsqhs;
                memset(dr + tq + 1, 0, (n - tq - 1) * sizeof(float));
            }
            /* dQ = dS K; dK += dS^T Q */
            gemm(b->dq + h * hs, d, b->ds, n, 1, Y->k + g * hs, kv, n, hs, n, 1, A_LOWER);
            gemm(b->dk + g * hs, kv, b->ds, 1, n, Y->q + h * hs, d, n, hs, n, 1, A_UPPER);
        }
        rope_rows(t, b->dq, n, d, -1);
        rope_rows(t, b->dk, n, kv, -1);
        memset(b->dxn, 0, n * d * sizeof(float));
        mm_dx(b->dxn, b->dq, n, d, sq_llama_wptr(m, l, SQ_W_Q), d);
        mm_dx(b->dxn, b->dk, n, kv, sq_llama_wptr(m, l, SQ_W_K), d);
        mm_dx(b->dxn, b->dv, n, kv, sq_llama_wptr(m, l, SQ_W_V), d);
        mm_dw(gptr(g, l, SQ_W_Q), b->dq, Y->xn1, n, d, d);
        mm_dw(gptr(g, l, SQ_W_K), b->dk, Y->xn1, n, kv, d);
        mm_dw(gptr(g, l, SQ_W_V), b->dv, Y->xn1, n, kv, d);
        rmsnorm_bwd(b->dx, g->w.rms_att + (size_t)l * d, b->dxn, Y->x, Y->r1,
                    m->w.rms_att + (size_t)l * d, n, d);
    }
    for (size_t pos = 0; pos < n; pos++)
        axpy(g->w.token_embedding + (size_t)t->tokens[pos] * d, 1.0f, b->dx + pos * d, d);
    return 0;
}

/* ---------------------------------------------------------------------------
 * AdamW */

int sq_adamw_build(sq_adamw_t *a, const sq_llama_config_t *cfg, float beta1, float beta2,
                   float eps, float weight_decay)
{
    memset(a, 0, sizeof *a);
    a->beta1 = beta1;
    a->beta2 = beta2;
    a->eps = eps;
    a->weight_decay = weight_decay;
    int rc = sq_llama_alloc(&a->m1, cfg);
    if (!rc)
        rc = sq_llama_alloc(&a->m2, cfg);
    if (rc)
        sq_adamw_free(a);
    return rc;
}

void sq_adamw_free(sq_adamw_t *a)
{
    if (!a)
        return;
    sq_llama_free(&a->m1);
    sq_llama_free(&a->m2);
}

void sq_adamw_update(float *w, const float *g, float *m1, float *m2, size_t n, long step,
                     float lr, float wd, float beta1, float beta2, float eps)
{
    float c1 = 1.0f - powf(beta1, (float)step);
    float c2 = 1.0f - powf(beta2, (float)step);
    for (size_t j = 0; j < n; j++) {
        float gj = g[j];
        m1[j] = beta1 * m1[j] + (1.0f - beta1) * gj;
        m2[j] = beta2 * m2[j] + (1.0f - beta2) * gj * gj;
        float mh = m1[j] / c1, vh = m2[j] / c2;
        w[j] -= lr * (mh / (sqrtf(vh) + eps) + wd * w[j]);
    }
}

void sq_adamw_step(sq_adamw_t *a, sq_llama_t *w, const sq_llama_t *g, float lr)
{
    float *pw[12], *pg[12], *p1[12], *p2[12];
    size_t n[12];
    int cnt = sq_train_params(w, pw, n);
    sq_train_params(g, pg, n);
    sq_train_params(&a->m1, p1, n);
    sq_train_params(&a->m2, p2, n);
    a->step++;
    for (int i = 0; i < cnt; i++) {
        int gain = pw[i] == w->w.rms_att || pw[i] == w->w.rms_ffn || pw[i] == w->w.rms_final;
        sq_adamw_update(pw[i], pg[i], p1[i], p2[i], n[i], a->step, lr,
                        gain ? 0.0f : a->weight_decay, a->beta1, a->beta2, a->eps);
    }
}
