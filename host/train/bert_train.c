#include "train/bert_train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sparq/numerics.h"
#include "train/train.h"
#include "util/err.h"

/* ---------------------------------------------------------------------------
 * Copies */

/* Floats from storage to the end of the last array (ln2_b, see bert.c). */
static size_t storage_len(const sq_bert_t *m)
{
    return (size_t)(m->w.ln2_b - m->storage) + (size_t)m->cfg.n_layers * (size_t)m->cfg.dim;
}

static float *rebase(const sq_bert_t *from, float *p, sq_bert_t *to)
{
    return to->storage + (p - from->storage);
}

int sq_bert_train_copy(const sq_bert_t *m, sq_bert_t *out)
{
    *out = *m;
    size_t len = storage_len(m);
    if (!(out->storage = malloc(len * sizeof *out->storage)))
        return sq_err(SQ_ERR_MEM, "out of memory copying the encoder");
    memcpy(out->storage, m->storage, len * sizeof *out->storage);
    float **dst[] = {&out->w.word_emb, &out->w.pos_emb, &out->w.type_emb, &out->w.emb_ln_w,
                     &out->w.emb_ln_b, &out->w.wq, &out->w.wk, &out->w.wv, &out->w.wo,
                     &out->w.bq, &out->w.bk, &out->w.bv, &out->w.bo, &out->w.ln1_w,
                     &out->w.ln1_b, &out->w.w1, &out->w.b1, &out->w.w2, &out->w.b2,
                     &out->w.ln2_w, &out->w.ln2_b};
    for (size_t i = 0; i < sizeof dst / sizeof dst[0]; i++)
        *dst[i] = rebase(m, *dst[i], out);
    return 0;
}

void sq_bert_train_free_copy(sq_bert_t *m)
{
    free(m->storage);
    memset(m, 0, sizeof *m);
}

/* ---------------------------------------------------------------------------
 * Forward with every activation the backward pass needs */

typedef struct {
    float *xin, *xq;       /* (n, D) layer input; as Q/K/V see it */
    float *q, *k, *v;      /* (n, D) */
    float *p;              /* (nh, n, n) */
    float *ctx, *ctxq;     /* (n, D) */
    float *xh1, *inv1, *x1, *x1q;
    float *a, *g, *gq;     /* (n, H) */
    float *xh2, *inv2, *x2;
} act_t;

typedef struct {
    size_t n, D, H, nh, L;
    act_t *l;
    float *buf;
} cache_t;

static int cache_build(cache_t *c, const sq_bert_config_t *cfg, size_t n)
{
    c->n = n;
    c->D = (size_t)cfg->dim;
    c->H = (size_t)cfg->hidden_dim;
    c->nh = (size_t)cfg->n_heads;
    c->L = (size_t)cfg->n_layers;
    size_t nD = n * c->D, nH = n * c->H;
    size_t per = 12 * nD + 3 * nH + c->nh * n * n + 2 * n;
    c->l = calloc(c->L, sizeof *c->l);
    c->buf = malloc(c->L * per * sizeof *c->buf);
    if (!c->l || !c->buf) {
        free(c->l);
        free(c->buf);
        return sq_err(SQ_ERR_MEM, "out of memory for %zu tokens", n);
    }
    float *p = c->buf;
    for (size_t l = 0; l < c->L; l++) {
        act_t *a = &c->l[l];
        float **d[] = {&a->xin, &a->xq, &a->q, &a->k, &a->v, &a->ctx, &a->ctxq,
                       &a->xh1, &a->x1, &a->x1q, &a->xh2, &a->x2};
        for (size_t i = 0; i < 12; i++, p += nD)
            *d[i] = p;
        a->a = p, p += nH;
        a->g = p, p += nH;
        a->gq = p, p += nH;
        a->p = p, p += c->nh * n * n;
        a->inv1 = p, p += n;
        a->inv2 = p, p += n;
    }
    return 0;
}

static void cache_free(cache_t *c)
{
    free(c->l);
    free(c->buf);
}

static const sq_wkind_t KINDS[] = {SQ_W_Q, SQ_W_K, SQ_W_V, SQ_W_O, SQ_W_1, SQ_W_2};

/* Bias of (layer, kind) in a model laid out as m (also a gradient copy). */
static float *bias(const sq_bert_t *m, int l, sq_wkind_t kind)
{
    size_t D = (size_t)m->cfg.dim, H = (size_t)m->cfg.hidden_dim, lu = (size_t)l;
    switch (kind) {
    case SQ_W_Q: return m->w.bq + lu * D;
    case SQ_W_K: return m->w.bk + lu * D;
    case SQ_W_V: return m->w.bv + lu * D;
    case SQ_W_O: return m->w.bo + lu * D;
    case SQ_W_1: return m->w.b1 + lu * H;
    default: return m->w.b2 + lu * D;
    }
}

/* y (n, out) = x (n, in) W^T + b: sq_bert_linear_f32's product plus the
 * bias. */
static void mm(const sq_bert_t *m, int l, sq_wkind_t kind, const float *x, size_t n, float *y)
{
    size_t out, in;
    sq_bert_wshape(&m->cfg, kind, &out, &in);
    sq_bert_linear_f32(m, l, kind, x, n, y);
    const float *b = bias(m, l, kind);
    for (size_t t = 0; t < n; t++)
        for (size_t o = 0; o < out; o++)
            y[t * out + o] += b[o];
}

/* dx (n, in) += dy W, dW (out, in) += dy^T x, db (out) += sum dy. */
static void mm_back(const float *dy, const float *x, size_t n, const float *w, size_t in,
                    size_t out, float *dx, float *dw, float *db)
{
    for (size_t t = 0; t < n; t++)
        for (size_t o = 0; o < out; o++) {
            float d = dy[t * out + o];
            if (d == 0.0f)
                continue;
            const float *xt = x + t * in, *wo = w + o * in;
            float *dwo = dw + o * in, *dxt = dx ? dx + t * in : NULL;
            for (size_t i = 0; i < in; i++)
                dwo[i] += d * xt[i];
            for (size_t i = 0; dxt && i < in; i++)
                dxt[i] += d * wo[i];
            db[o] += d;
        }
}

/* The linear's view of x: x itself, or rounded to int8 per row. */
static void act_in(const float *x, size_t n, size_t k, int act8, float *out, int8_t *tmp)
{
    if (!act8) {
        memcpy(out, x, n * k * sizeof *out);
        return;
    }
    for (size_t t = 0; t < n; t++) {
        float s = sq_quant_i8(x + t * k, k, tmp);
        for (size_t i = 0; i < k; i++)
            out[t * k + i] = (float)tmp[i] * s;
    }
}

/* x = LayerNorm(u) with the normalized values xh and 1/std kept. */
static void ln(const float *u, size_t n, size_t d, const float *g, const float *b, float eps,
               float *xh, float *inv, float *x)
{
    for (size_t t = 0; t < n; t++) {
        const float *ut = u + t * d;
        double mean = 0, var = 0;
        for (size_t i = 0; i < d; i++)
            mean += ut[i];
        mean /= (double)d;
        for (size_t i = 0; i < d; i++)
            var += (ut[i] - mean) * (ut[i] - mean);
        inv[t] = (float)(1.0 / sqrt(var / (double)d + eps));
        for (size_t i = 0; i < d; i++) {
            xh[t * d + i] = (float)(ut[i] - mean) * inv[t];
            x[t * d + i] = xh[t * d + i] * g[i] + b[i];
        }
    }
}

/* du = d LayerNorm^T dx; dg, db accumulated. */
static void ln_back(const float *dx, const float *xh, const float *inv, size_t n, size_t d,
                    const float *g, float *du, float *dg, float *db)
{
    for (size_t t = 0; t < n; t++) {
        const float *dxt = dx + t * d, *xt = xh + t * d;
        double m1 = 0, m2 = 0;
        for (size_t i = 0; i < d; i++) {
            float dh = dxt[i] * g[i];
            m1 += dh;
            m2 += dh * xt[i];
            dg[i] += dxt[i] * xt[i];
            db[i] += dxt[i];
        }
        m1 /= (double)d;
        m2 /= (double)d;
        for (size_t i = 0; i < d; i++)
            du[t * d + i] = inv[t] * (float)(dxt[i] * g[i] - m1 - xt[i] * m2);
    }
}

static float *wmut(sq_bert_t *m, int l, sq_wkind_t kind)
{
    return (float *)sq_bert_wptr(m, l, kind);
}

static int forward(const sq_bert_t *m, const int32_t *ids, size_t n, int act8, cache_t *c,
                   int8_t *tmp)
{
    const sq_bert_config_t *cfg = &m->cfg;
    const sq_bert_weights_t *w = &m->w;
    size_t D = c->D, H = c->H, nh = c->nh, hd = D / nh;
    if (n == 0 || n > (size_t)cfg->max_pos)
        return sq_err(SQ_ERR_ARG, "%zu tokens (1..%d)", n, cfg->max_pos);
    float *x = c->l[0].xin;
    for (size_t t = 0; t < n; t++) {
        if (ids[t] < 0 || ids[t] >= cfg->vocab_size)
            return sq_err(SQ_ERR_ARG, "token id %d out of range", ids[t]);
        for (size_t i = 0; i < D; i++)
            x[t * D + i] = w->word_emb[(size_t)ids[t] * D + i] + w->pos_emb[t * D + i] +
                           w->type_emb[i];
    }
    /* the embedding LayerNorm is frozen: its statistics are not kept */
    ln(x, n, D, w->emb_ln_w, w->emb_ln_b, cfg->norm_eps, c->l[0].xh1, c->l[0].inv1, x);
    const float scale = 1.0f / sqrtf((float)hd);
    for (size_t l = 0; l < c->L; l++) {
        act_t *a = &c->l[l];
        int li = (int)l;
        if (l > 0)
            memcpy(a->xin, c->l[l - 1].x2, n * D * sizeof *a->xin);
        act_in(a->xin, n, D, act8, a->xq, tmp);
        mm(m, li, SQ_W_Q, a->xq, n, a->q);
        mm(m, li, SQ_W_K, a->xq, n, a->k);
        mm(m, li, SQ_W_V, a->xq, n, a->v);
        for (size_t h = 0; h < nh; h++)
            for (size_t i = 0; i < n; i++) {
                float *p = a->p + (h * n + i) * n, mx = -INFINITY, sum = 0.0f;
                for (size_t j = 0; j < n; j++) {
                    float s = 0.0f;
                    for (size_t e = 0; e < hd; e++)
                        s += a->q[i * D + h * hd + e] * a->k[j * D + h * hd + e];
                    p[j] = s * scale;
                    mx = p[j] > mx ? p[j] : mx;
                }
                for (size_t j = 0; j < n; j++)
                    sum += (p[j] = expf(p[j] - mx));
                float *ci = a->ctx + i * D + h * hd;
                memset(ci, 0, hd * sizeof *ci);
                for (size_t j = 0; j < n; j++) {
                    p[j] /= sum;
                    for (size_t e = 0; e < hd; e++)
                        ci[e] += p[j] * a->v[j * D + h * hd + e];
                }
            }
        act_in(a->ctx, n, D, act8, a->ctxq, tmp);
        mm(m, li, SQ_W_O, a->ctxq, n, a->x1);
        for (size_t i = 0; i < n * D; i++)
            a->x1[i] += a->xin[i];
        ln(a->x1, n, D, w->ln1_w + l * D, w->ln1_b + l * D, cfg->norm_eps, a->xh1, a->inv1, a->x1);
        act_in(a->x1, n, D, act8, a->x1q, tmp);
        mm(m, li, SQ_W_1, a->x1q, n, a->a);
        for (size_t i = 0; i < n * H; i++)
            a->g[i] = 0.5f * a->a[i] * (1.0f + erff(a->a[i] * 0.70710678118654752f));
        act_in(a->g, n, H, act8, a->gq, tmp);
        mm(m, li, SQ_W_2, a->gq, n, a->x2);
        for (size_t i = 0; i < n * D; i++)
            a->x2[i] += a->x1[i];
        ln(a->x2, n, D, w->ln2_w + l * D, w->ln2_b + l * D, cfg->norm_eps, a->xh2, a->inv2, a->x2);
    }
    return 0;
}

int sq_bert_train_states(const sq_bert_t *m, const int32_t *ids, size_t n, float *out)
{
    cache_t c;
    int rc = cache_build(&c, &m->cfg, n);
    if (rc)
        return rc;
    rc = forward(m, ids, n, 0, &c, NULL);
    for (size_t l = 0; !rc && l < c.L; l++)
        memcpy(out + l * n * c.D, c.l[l].x2, n * c.D * sizeof *out);
    cache_free(&c);
    return rc;
}

int sq_bert_train_step(const sq_bert_t *m, const int32_t *ids, size_t n, const float *t,
                       int act8, float scale, sq_bert_t *g, double *loss)
{
    cache_t c;
    int rc = cache_build(&c, &m->cfg, n);
    if (rc)
        return rc;
    size_t D = c.D, H = c.H, nh = c.nh, hd = D / nh, nD = n * D;
    int8_t *tmp = malloc(H > D ? H : D);
    float *dx = calloc(nD, sizeof *dx), *du = malloc(nD * sizeof *du);
    float *dq = malloc(nD * sizeof *dq), *dk = malloc(nD * sizeof *dk);
    float *dv = malloc(nD * sizeof *dv), *dctx = malloc(nD * sizeof *dctx);
    float *dg = malloc(n * H * sizeof *dg), *dp = malloc(n * sizeof *dp);
    if (!tmp || !dx || !du || !dq || !dk || !dv || !dctx || !dg || !dp)
        rc = sq_err(SQ_ERR_MEM, "out of memory for %zu tokens", n);
    if (!rc)
        rc = forward(m, ids, n, act8, &c, tmp);
    /* loss = mean over layers of mean (x_l - t_l)^2 */
    double sum = 0, norm = 1.0 / ((double)c.L * (double)nD);
    for (size_t l = 0; !rc && l < c.L; l++)
        for (size_t i = 0; i < nD; i++) {
            double d = (double)c.l[l].x2[i] - t[l * nD + i];
            sum += d * d;
        }
    if (!rc)
        *loss = sum * norm;
    const float scale_attn = 1.0f / sqrtf((float)hd);
    for (size_t l = c.L; !rc && g && l-- > 0;) {
        act_t *a = &c.l[l];
        int li = (int)l;
        /* dx: gradient at this layer's output, from above plus its own term */
        for (size_t i = 0; i < nD; i++)
            dx[i] += (float)(2.0 * norm * ((double)a->x2[i] - t[l * nD + i])) * scale;
        ln_back(dx, a->xh2, a->inv2, n, D, m->w.ln2_w + l * D, du, g->w.ln2_w + l * D,
                g->w.ln2_b + l * D);
        /* du flows to x1 (residual) and into W2's output */
        memset(dg, 0, n * H * sizeof *dg);
        memcpy(dx, du, nD * sizeof *dx);
        mm_back(du, a->gq, n, sq_bert_wptr(m, li, SQ_W_2), H, D, dg, wmut(g, li, SQ_W_2),
                bias(g, li, SQ_W_2));
        for (size_t i = 0; i < n * H; i++) {
            float z = a->a[i];
            float cdf = 0.5f * (1.0f + erff(z * 0.70710678118654752f));
            float pdf = 0.3989422804014327f * expf(-0.5f * z * z);
            dg[i] *= cdf + z * pdf;
        }
        mm_back(dg, a->x1q, n, sq_bert_wptr(m, li, SQ_W_1), D, H, dx, wmut(g, li, SQ_W_1),
                bias(g, li, SQ_W_1));
        ln_back(dx, a->xh1, a->inv1, n, D, m->w.ln1_w + l * D, du, g->w.ln1_w + l * D,
                g->w.ln1_b + l * D);
        memcpy(dx, du, nD * sizeof *dx);
        memset(dctx, 0, nD * sizeof *dctx);
        mm_back(du, a->ctxq, n, sq_bert_wptr(m, li, SQ_W_O), D, D, dctx, wmut(g, li, SQ_W_O),
                bias(g, li, SQ_W_O));
        memset(dq, 0, nD * sizeof *dq);
        memset(dk, 0, nD * sizeof *dk);
        memset(dv, 0, nD * sizeof *dv);
        for (size_t h = 0; h < nh; h++)
            for (size_t i = 0; i < n; i++) {
                const float *p = a->p + (h * n + i) * n, *dci = dctx + i * D + h * hd;
                float dot = 0.0f;
                for (size_t j = 0; j < n; j++) {
                    float s = 0.0f;
                    for (size_t e = 0; e < hd; e++) {
                        s += dci[e] * a->v[j * D + h * hd + e];
                        dv[j * D + h * hd + e] += p[j] * dci[e];
                    }
                    dp[j] = s;
                    dot += p[j] * s;
                }
                for (size_t j = 0; j < n; j++) {
                    float ds = p[j] * (dp[j] - dot) * scale_attn;
                    for (size_t e = 0; e < hd; e++) {
                        dq[i * D + h * hd + e] += ds * a->k[j * D + h * hd + e];
                        dk[j * D + h * hd + e] += ds * a->q[i * D + h * hd + e];
                    }
                }
            }
        const float *dqkv[] = {dq, dk, dv};
        for (int s = 0; s < 3; s++)
            mm_back(dqkv[s], a->xq, n, sq_bert_wptr(m, li, KINDS[s]), D, D, dx,
                    wmut(g, li, KINDS[s]), bias(g, li, KINDS[s]));
    }
    cache_free(&c);
    free(tmp);
    free(dx);
    free(du);
    free(dq);
    free(dk);
    free(dv);
    free(dctx);
    free(dg);
    free(dp);
    return rc;
}

/* ---------------------------------------------------------------------------
 * The loop */

/* One trainable array: master values (the model's own for biases and
 * LayerNorms), its gradient and AdamW moments. */
typedef struct {
    float *w, *g, *m1, *m2;
    size_t n;
    int decay;
} param_t;

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static double now(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The student's constrained matrices from the master copy (and the master's
 * pruned entries back to zero). */
static int constrain(const sq_wconstraint_t *cons, sq_bert_t *master, sq_bert_t *student)
{
    const sq_bert_config_t *c = &student->cfg;
    for (int l = 0; l < c->n_layers; l++)
        for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++) {
            size_t n, k;
            sq_bert_wshape(c, KINDS[i], &n, &k);
            const sq_wconstraint_t *wc = &cons[(size_t)l * SQ_W_COUNT + KINDS[i]];
            float *mw = wmut(master, l, KINDS[i]);
            for (size_t j = 0; wc->mask && j < n * k; j++)
                if (!wc->mask[j])
                    mw[j] = 0.0f;
            int rc = sq_wconstraint_apply(wc, mw, wmut(student, l, KINDS[i]), n, k);
            if (rc)
                return rc;
        }
    return 0;
}

int sq_bert_distill(const sq_bert_t *teacher, sq_bert_t *student, const sq_wconstraint_t *cons,
                    int32_t *const *seq, const size_t *len, size_t count,
                    const sq_distill_opts_t *o, sq_distill_stats_t *stats)
{
    memset(stats, 0, sizeof *stats);
    if (!count)
        return sq_err(SQ_ERR_ARG, "distill: no training sentences");
    if (o->steps < 1 || o->batch < 1 || !(o->lr > 0))
        return sq_err(SQ_ERR_ARG, "distill: steps, batch and lr must be positive");
    const sq_bert_config_t *c = &student->cfg;
    size_t D = (size_t)c->dim, L = (size_t)c->n_layers, maxn = 0;
    for (size_t i = 0; i < count; i++)
        maxn = len[i] > maxn ? len[i] : maxn;
    sq_bert_t master = {0}, grad = {0}, m1 = {0}, m2 = {0};
    float *tstate = malloc(L * maxn * D * sizeof *tstate);
    int rc = !tstate ? sq_err(SQ_ERR_MEM, "distill: out of memory") : 0;
    if (!rc)
        rc = sq_bert_train_copy(student, &master);
    if (!rc)
        rc = sq_bert_train_copy(student, &grad);
    if (!rc)
        rc = sq_bert_train_copy(student, &m1);
    if (!rc)
        rc = sq_bert_train_copy(student, &m2);
    /* the trained arrays: matrices (master copy), biases, LayerNorms */
    param_t p[6 + 6 + 4];
    int np = 0;
    if (!rc) {
        size_t LD = L * D, LH = L * (size_t)c->hidden_dim;
        for (size_t i = 0; i < 6; i++) {
            size_t n, k;
            sq_bert_wshape(c, KINDS[i], &n, &k);
            p[np++] = (param_t){wmut(&master, 0, KINDS[i]), wmut(&grad, 0, KINDS[i]),
                                wmut(&m1, 0, KINDS[i]), wmut(&m2, 0, KINDS[i]), L * n * k, 1};
            p[np++] = (param_t){bias(student, 0, KINDS[i]), bias(&grad, 0, KINDS[i]),
                                bias(&m1, 0, KINDS[i]), bias(&m2, 0, KINDS[i]),
                                KINDS[i] == SQ_W_1 ? LH : LD, 0};
        }
        float *sw[] = {student->w.ln1_w, student->w.ln1_b, student->w.ln2_w, student->w.ln2_b};
        float *gw[] = {grad.w.ln1_w, grad.w.ln1_b, grad.w.ln2_w, grad.w.ln2_b};
        float *aw[] = {m1.w.ln1_w, m1.w.ln1_b, m1.w.ln2_w, m1.w.ln2_b};
        float *bw[] = {m2.w.ln1_w, m2.w.ln1_b, m2.w.ln2_w, m2.w.ln2_b};
        for (size_t i = 0; i < 4; i++)
            p[np++] = (param_t){sw[i], gw[i], aw[i], bw[i], LD, 0};
        for (int i = 0; i < np; i++) {
            memset(p[i].m1, 0, p[i].n * sizeof(float));
            memset(p[i].m2, 0, p[i].n * sizeof(float));
        }
        rc = constrain(cons, &master, student);
    }
    uint64_t rng = o->seed ? o->seed : 1;
    double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    for (int step = 0; step < o->steps && !rc; step++) {
        for (int i = 0; i < np; i++)
            memset(p[i].g, 0, p[i].n * sizeof(float));
        double loss = 0;
        for (int b = 0; b < o->batch && !rc; b++) {
            size_t s = (size_t)(rng_next(&rng) % count);
            double l1 = 0;
            rc = sq_bert_train_states(teacher, seq[s], len[s], tstate);
            if (!rc)
                rc = sq_bert_train_step(student, seq[s], len[s], tstate, o->act8,
                                        1.0f / (float)o->batch, &grad, &l1);
            loss += l1 / o->batch;
            stats->tokens += len[s];
        }
        if (rc)
            break;
        double gn = 0;
        for (int i = 0; i < np; i++)
            for (size_t j = 0; j < p[i].n; j++)
                gn += (double)p[i].g[j] * p[i].g[j];
        float clip = o->clip > 0 && sqrt(gn) > o->clip ? (float)(o->clip / sqrt(gn)) : 1.0f;
        float lr = sq_distill_lr(o, step);
        long t = step + 1;
        for (int i = 0; i < np; i++) {
            for (size_t j = 0; clip != 1.0f && j < p[i].n; j++)
                p[i].g[j] *= clip;
            sq_adamw_update(p[i].w, p[i].g, p[i].m1, p[i].m2, p[i].n, t, lr,
                            p[i].decay ? o->weight_decay : 0.0f, 0.9f, 0.95f, 1e-8f);
        }
        rc = constrain(cons, &master, student);
        if (step == 0)
            stats->first_loss = loss;
        stats->last_loss = loss;
        if (o->progress)
            o->progress(o->progress_ctx, step + 1, o->steps, loss);
    }
    stats->seconds = now(CLOCK_MONOTONIC) - t0;
    stats->cpu_seconds = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    free(tstate);
    sq_bert_train_free_copy(&master);
    sq_bert_train_free_copy(&grad);
    sq_bert_train_free_copy(&m1);
    sq_bert_train_free_copy(&m2);
    return rc;
}
