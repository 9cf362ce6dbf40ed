/* The integer encoder (contract in sched/bert_int.h; numerics in
 * include/sparq/vec.h; the design and accuracy in docs/integer_layer.md). */
#include "sched/bert_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sched/istream.h"
#include "sparq/desc.h"
#include "sparq/vec.h"
#include "util/err.h"

/* Fractional bits of Q, K and V (in units of their int8 scale) between the
 * requantization and the rounding to int8 (rule 4). */
#define QKV_FRAC 16u

/* ---------------------------------------------------------------------------
 * Calibration: static ranges from the fp32 encoder. */

typedef struct {
    const sq_bert_t *m;
    const float *x;           /* the residual the current block started from */
    double res;               /* embeddings, LayerNorm inputs and outputs */
    double gelu;              /* W1 x + b1 */
    double *q, *k, *v, *o;    /* (layers, heads) x3 after their bias; (layers) */
} calib_t;

static double dmax(double a, double b)
{
    return a > b ? a : b;
}

/* Sees each linear with the residual around it: Q's input is the block's
 * residual (a LayerNorm output), O's output plus bias plus that residual is
 * the first LayerNorm's input, W1's input the second block's residual and
 * W2's output plus bias plus it the second LayerNorm's input. */
static int calib_linear(void *ctx, int layer, sq_wkind_t kind, const float *x, size_t rows,
                        float *y)
{
    calib_t *c = ctx;
    const sq_bert_config_t *cf = &c->m->cfg;
    const sq_bert_weights_t *w = &c->m->w;
    size_t n, k, d = (size_t)cf->dim, hd = d / (size_t)cf->n_heads, l = (size_t)layer;
    sq_bert_wshape(cf, kind, &n, &k);
    sq_bert_linear_f32(c->m, layer, kind, x, rows, y);
    const float *b = kind == SQ_W_Q ? w->bq : kind == SQ_W_K ? w->bk : kind == SQ_W_V ? w->bv
                     : kind == SQ_W_O ? w->bo : kind == SQ_W_1 ? w->b1 : w->b2;
    b += l * n;
    if (kind == SQ_W_Q || kind == SQ_W_1) {
        c->x = x;
        c->res = dmax(c->res, sq_istream_amax(x, rows * k));
    }
    for (size_t t = 0; t < rows; t++)
        for (size_t j = 0; j < n; j++) {
            double v = fabs((double)y[t * n + j] + b[j]);
            size_t at = l * (size_t)cf->n_heads + j / hd;
            switch (kind) {
            case SQ_W_Q: c->q[at] = dmax(c->q[at], v); break;
            case SQ_W_K: c->k[at] = dmax(c->k[at], v); break;
            case SQ_W_V: c->v[at] = dmax(c->v[at], v); break;
            case SQ_W_1: c->gelu = dmax(c->gelu, v); break;
            default: /* O and W2: the LayerNorm input */
                c->res = dmax(c->res, fabs((double)c->x[t * d + j] + y[t * n + j] + b[j]));
                break;
            }
        }
    if (kind == SQ_W_O)
        c->o[layer] = dmax(c->o[layer], sq_istream_amax(x, rows * k));
    return 0;
}

static void calib_free(calib_t *c)
{
    free(c->q);
    free(c->k);
    free(c->v);
    free(c->o);
}

static int calibrate(calib_t *c, const sq_bert_t *m, char *const *s, size_t n)
{
    const sq_bert_config_t *cf = &m->cfg;
    size_t lh = (size_t)cf->n_layers * cf->n_heads, d = (size_t)cf->dim;
    memset(c, 0, sizeof *c);
    c->m = m;
    c->q = calloc(lh, sizeof *c->q);
    c->k = calloc(lh, sizeof *c->k);
    c->v = calloc(lh, sizeof *c->v);
    c->o = calloc((size_t)cf->n_layers, sizeof *c->o);
    int32_t *ids = malloc(m->max_tokens * sizeof *ids);
    float *x = malloc(m->max_tokens * d * sizeof *x);
    int rc = c->q && c->k && c->v && c->o && ids && x ? 0
             : sq_err(SQ_ERR_MEM, "integer encoder: out of memory calibrating");
    if (!rc && !n)
        rc = sq_err(SQ_ERR_ARG, "integer encoder: no calibration sentences");
    sq_bert_exec_t ex = {.linear = calib_linear, .ctx = c};
    for (size_t i = 0; !rc && i < n; i++) {
        size_t t;
        rc = sq_wp_encode(m->tok, s[i], m->max_tokens, ids, &t);
        /* the embeddings' sum before their LayerNorm */
        for (size_t r = 0; !rc && r < t; r++)
            for (size_t j = 0; j < d; j++)
                c->res = dmax(c->res, fabs((double)m->w.word_emb[(size_t)ids[r] * d + j] +
                                           m->w.pos_emb[r * d + j] + m->w.type_emb[j]));
        if (!rc)
            rc = sq_bert_forward(m, ids, t, x, &ex);
        if (!rc) /* the last LayerNorm's output */
            c->res = dmax(c->res, sq_istream_amax(x, t * d));
    }
    free(ids);
    free(x);
    return rc;
}

/* ---------------------------------------------------------------------------
 * The program */

typedef struct {
    sq_ilin_t qkv, o, w1, w2;
    uint64_t bqkv;          /* Q|K|V biases in their int8 units times 2^QKV_FRAC */
    uint64_t bo, b2, b1;    /* O and W2 biases at F_res, W1's at F_gelu */
    uint64_t g1, be1, g2, be2; /* LayerNorm gains and biases */
    int fg1, fg2;
    uint64_t aq, rec_o;     /* attention quant entries; the output's record per row */
} layer_t;

struct sq_bert_int {
    const sq_bert_qmodel_t *q;
    sq_dev_t *dev;
    sq_report_t *rep;
    int dim, hidden, hd, heads, layers, rows;
    int f_res, f_gelu;
    uint64_t eps;
    layer_t *L;
    uint64_t word, wordq, pos, posq, type, ge, bee; /* embeddings, their LayerNorm */
    int fge;
    uint64_t pos_ids, tok, x[3], a8, rec_a, rec_b, acc, q8, k8, v8, o8, oc;
    sq_istream_t *streams; /* per sentence length (index n - 1), written when first run */
    uint32_t last;         /* length of the last run */
    int32_t *xbuf;
};

static int oom(void)
{
    return sq_err(SQ_ERR_MEM, "integer encoder: out of memory");
}

static int put(sq_bert_int_t *p, const void *src, size_t bytes, uint64_t *addr)
{
    return sq_dev_put(p->dev, src, bytes, addr);
}

/* n values times 2^frac as int32 in device memory (biases). */
static int put_fixed(sq_bert_int_t *p, const float *v, size_t n, const double *unit, int frac,
                     uint64_t *addr)
{
    int32_t *b = malloc(n * sizeof *b);
    if (!b)
        return oom();
    int rc = 0;
    for (size_t j = 0; j < n; j++) {
        double x = ldexp((double)v[j] / (unit ? unit[j] : 1.0), frac);
        if (!(fabs(x) < 2147483647.0))
            rc = sq_err(SQ_ERR_ARG, "integer encoder: a bias does not fit int32");
        b[j] = rc ? 0 : (int32_t)lround(x);
    }
    if (!rc)
        rc = put(p, b, n * sizeof *b, addr);
    free(b);
    return rc;
}

/* An int8 table with one {mult, shift} per row: its exact maximum times
 * 2^F_res (rule 10). */
static int put_table(sq_bert_int_t *p, const float *t, size_t rows, uint64_t *tab, uint64_t *q)
{
    size_t d = (size_t)p->dim;
    int8_t *e = malloc(rows * d);
    sq_quant_t *s = malloc(rows * sizeof *s);
    int rc = e && s ? 0 : oom();
    for (size_t r = 0; !rc && r < rows; r++) {
        double sc = sq_istream_scale(sq_istream_amax(t + r * d, d));
        for (size_t j = 0; j < d; j++)
            e[r * d + j] = (int8_t)lround(t[r * d + j] / sc);
        if (sq_scale_to_fixed(ldexp(sc, p->f_res), &s[r].mult, &s[r].shift))
            rc = sq_err(SQ_ERR_ARG, "integer encoder: embedding scale of row %zu not "
                        "representable", r);
    }
    if (!rc)
        rc = put(p, e, rows * d, tab);
    if (!rc)
        rc = put(p, s, rows * sizeof *s, q);
    free(e);
    free(s);
    return rc;
}

static const sq_qlinear_t *leaf(const sq_bert_qmodel_t *q, int l, sq_wkind_t kind)
{
    return &q->layers[(size_t)l * SQ_W_COUNT + kind].f[0];
}

static int place_layer(sq_bert_int_t *p, const calib_t *cal, int l)
{
    const sq_bert_weights_t *w = &p->q->model->w;
    layer_t *L = &p->L[l];
    size_t d = (size_t)p->dim, hd = (size_t)p->hd, lu = (size_t)l;
    double sq[SQ_ATTN_MAX_HEADS], sk[SQ_ATTN_MAX_HEADS], sv[SQ_ATTN_MAX_HEADS];
    double so = sq_istream_scale(cal->o[l]);
    for (int h = 0; h < p->heads; h++) {
        sq[h] = sq_istream_scale(cal->q[lu * p->heads + h]);
        sk[h] = sq_istream_scale(cal->k[lu * p->heads + h]);
        sv[h] = sq_istream_scale(cal->v[lu * p->heads + h]);
    }
    double *unit = malloc(3 * d * sizeof *unit);
    float *bias = malloc(3 * d * sizeof *bias);
    sq_attn_quant_t *aq = malloc((size_t)p->heads * sizeof *aq);
    sq_vec_rec_t *rec = malloc((size_t)p->rows * sizeof *rec);
    int rc = unit && bias && aq && rec ? 0 : oom();
    for (size_t j = 0; !rc && j < 3 * d; j++) {
        const double *s = j < d ? sq : j < 2 * d ? sk : sv;
        unit[j] = s[(j % d) / hd];
        bias[j] = (j < d ? w->bq : j < 2 * d ? w->bk : w->bv)[lu * d + j % d];
    }
    for (int h = 0; !rc && h < p->heads; h++)
        if (sq_attn_quant_make(sq[h], sk[h], sv[h], so, (uint32_t)hd, &aq[h]))
            rc = sq_err(SQ_ERR_ARG, "integer encoder: attention scales of layer %d head %d "
                        "not representable", l, h);
    sq_quant_t fo;
    if (!rc && sq_scale_to_fixed(so, &fo.mult, &fo.shift))
        rc = sq_err(SQ_ERR_ARG, "integer encoder: attention output scale not representable");
    for (int r = 0; !rc && r < p->rows; r++)
        rec[r] = (sq_vec_rec_t){fo.mult, (int32_t)fo.shift};
    const sq_qlinear_t *qkv[3] = {leaf(p->q, l, SQ_W_Q), leaf(p->q, l, SQ_W_K),
                                  leaf(p->q, l, SQ_W_V)};
    const sq_qlinear_t *o = leaf(p->q, l, SQ_W_O), *w1 = leaf(p->q, l, SQ_W_1);
    const sq_qlinear_t *w2 = leaf(p->q, l, SQ_W_2);
    double *inv = unit ? malloc(3 * d * sizeof *inv) : NULL;
    if (!rc && !inv)
        rc = oom();
    for (size_t j = 0; !rc && j < 3 * d; j++)
        inv[j] = 1.0 / unit[j];
    if (!rc)
        rc = sq_ilin_place(p->dev, qkv, 3, inv, &L->qkv);
    if (!rc)
        rc = sq_ilin_place(p->dev, &o, 1, NULL, &L->o);
    if (!rc)
        rc = sq_ilin_place(p->dev, &w1, 1, NULL, &L->w1);
    if (!rc)
        rc = sq_ilin_place(p->dev, &w2, 1, NULL, &L->w2);
    if (!rc)
        rc = put_fixed(p, bias, 3 * d, unit, (int)QKV_FRAC, &L->bqkv);
    if (!rc)
        rc = put_fixed(p, w->bo + lu * d, d, NULL, p->f_res, &L->bo);
    if (!rc)
        rc = put_fixed(p, w->b2 + lu * d, d, NULL, p->f_res, &L->b2);
    if (!rc)
        rc = put_fixed(p, w->b1 + lu * (size_t)p->hidden, (size_t)p->hidden, NULL, p->f_gelu,
                       &L->b1);
    if (!rc)
        rc = sq_istream_gains(p->dev, w->ln1_w + lu * d, p->dim, &L->g1, &L->fg1);
    if (!rc)
        rc = put_fixed(p, w->ln1_b + lu * d, d, NULL, p->f_res, &L->be1);
    if (!rc)
        rc = sq_istream_gains(p->dev, w->ln2_w + lu * d, p->dim, &L->g2, &L->fg2);
    if (!rc)
        rc = put_fixed(p, w->ln2_b + lu * d, d, NULL, p->f_res, &L->be2);
    if (!rc)
        rc = put(p, aq, (size_t)p->heads * sizeof *aq, &L->aq);
    if (!rc)
        rc = put(p, rec, (size_t)p->rows * sizeof *rec, &L->rec_o);
    free(unit);
    free(inv);
    free(bias);
    free(aq);
    free(rec);
    return rc;
}

static int place_activations(sq_bert_int_t *p)
{
    size_t r = (size_t)p->rows, d = (size_t)p->dim, h = (size_t)p->hidden;
    int32_t *ids = malloc(r * sizeof *ids);
    if (!ids)
        return oom();
    for (size_t i = 0; i < r; i++)
        ids[i] = (int32_t)i;
    int rc = put(p, ids, r * sizeof *ids, &p->pos_ids);
    free(ids);
    if (!rc)
        rc = put(p, NULL, 4 * r, &p->tok);
    for (int i = 0; !rc && i < 3; i++)
        rc = put(p, NULL, 4 * r * d, &p->x[i]);
    if (!rc)
        rc = put(p, NULL, r * (h > d ? h : d), &p->a8);
    if (!rc)
        rc = put(p, NULL, r * SQ_VEC_REC_BYTES, &p->rec_a);
    if (!rc)
        rc = put(p, NULL, r * SQ_VEC_REC_BYTES, &p->rec_b);
    if (!rc)
        rc = put(p, NULL, 4 * r * (h > 3 * d ? h : 3 * d), &p->acc);
    uint64_t *buf[] = {&p->q8, &p->k8, &p->v8, &p->o8, &p->oc};
    for (size_t i = 0; !rc && i < sizeof buf / sizeof buf[0]; i++)
        rc = put(p, NULL, r * d, buf[i]);
    return rc;
}

static int vec(sq_istream_t *s, int layer, const char *op, const sq_vec_desc_t *v)
{
    return sq_istream_vec(s, layer, op, v) ? 0 : SQ_ERR_MEM;
}

/* LayerNorm of m rows at in into out (int32 at F_res, rule 3 with LN). */
static int layernorm(sq_bert_int_t *p, sq_istream_t *s, int layer, const char *op, uint64_t in,
                     uint64_t out, uint32_t m, uint64_t gain, int fg, uint64_t beta)
{
    uint32_t d = (uint32_t)p->dim;
    sq_vec_desc_t v = {.func = SQ_VEC_NORM, .flags = SQ_VEC_LN | SQ_VEC_BIAS, .m = m, .n = d,
                       .in = in, .in_stride = 4 * d, .out = out, .out_stride = 4 * d, .chan = gain,
                       .tab = beta,
                       .p = {(uint32_t)p->eps, (uint32_t)(p->eps >> 32),
                             (uint32_t)(fg - p->f_res - 15), (uint32_t)p->f_res}};
    return vec(s, layer, op, &v);
}

/* The residual rows at in as the next GEMM's int8 input and records. */
static int quant(sq_bert_int_t *p, sq_istream_t *s, int layer, uint64_t in, uint32_t m)
{
    uint32_t d = (uint32_t)p->dim;
    sq_vec_desc_t v = {.func = SQ_VEC_QUANT, .flags = SQ_VEC_Q8, .m = m, .n = d, .in = in,
                       .in_stride = 4 * d, .out = p->a8, .out_stride = d, .rec_out = p->rec_a,
                       .p = {0, (uint32_t)p->f_res}};
    return vec(s, layer, "quant", &v);
}

/* Q, K or V (columns [c0, c0 + d) of the fused accumulator) plus its bias, as
 * int8 (heads, m, head_dim) at out. */
static int qkv_op(sq_bert_int_t *p, sq_istream_t *s, int l, const char *op, uint32_t c0,
                  uint32_t m, uint64_t out)
{
    const sq_ilin_t *q = &p->L[l].qkv;
    uint32_t d = (uint32_t)p->dim, hd = (uint32_t)p->hd;
    sq_vec_desc_t v = {.func = SQ_VEC_ROPE, .flags = SQ_VEC_ACC | SQ_VEC_BIAS, .m = m, .n = d,
                       .seg = hd, .in = p->acc + 4ull * c0, .in_stride = 4 * q->n,
                       .in_seg_stride = 4 * hd, .out = out, .out_stride = hd,
                       .out_seg_stride = m * hd, .chan = q->chan + sizeof(sq_quant_t) * c0,
                       .rec_in = p->rec_a, .tab = p->L[l].bqkv + 4ull * c0,
                       .p = {(uint32_t)(q->fi - (int)QKV_FRAC), QKV_FRAC, 0, 0}};
    return vec(s, l, op, &v);
}

/* x_out = x_in + rule 1 of l's accumulator + bias (the LayerNorm's input). */
static int residual(sq_bert_int_t *p, sq_istream_t *s, int l, const char *op,
                    const sq_ilin_t *lin, uint64_t bias, uint64_t rec, uint32_t m, uint64_t in,
                    uint64_t out)
{
    uint32_t d = (uint32_t)p->dim;
    sq_vec_desc_t v = {.func = SQ_VEC_ADD, .flags = SQ_VEC_ACC | SQ_VEC_BIAS, .m = m, .n = d,
                       .in = p->acc, .in_stride = 4 * lin->n, .in2 = in, .in2_stride = 4 * d,
                       .out = out, .out_stride = 4 * d, .chan = lin->chan, .rec_in = rec,
                       .tab = bias, .p = {(uint32_t)(lin->fi - p->f_res)}};
    return vec(s, l, op, &v);
}

/* The stream of a sentence of m tokens; the hidden states end in x[1]. */
static int write_stream(sq_bert_int_t *p, sq_istream_t *s, uint32_t m)
{
    uint32_t d = (uint32_t)p->dim, hd = (uint32_t)p->hd, h = (uint32_t)p->hidden;
    sq_vec_desc_t gw = {.func = SQ_VEC_GATHER, .m = m, .n = d, .in = p->tok, .in_stride = 4,
                        .out = p->x[1], .out_stride = 4 * d, .chan = p->wordq, .tab = p->word,
                        .tab_stride = d, .p = {(uint32_t)p->q->model->cfg.vocab_size}};
    sq_vec_desc_t gp = gw;
    gp.in = p->pos_ids;
    gp.out = p->x[2];
    gp.chan = p->posq;
    gp.tab = p->pos;
    gp.p[0] = (uint32_t)p->q->model->cfg.max_pos;
    /* word + position + type 0 */
    sq_vec_desc_t add = {.func = SQ_VEC_ADD, .flags = SQ_VEC_BIAS, .m = m, .n = d, .in = p->x[1],
                         .in_stride = 4 * d, .in2 = p->x[2], .in2_stride = 4 * d, .out = p->x[0],
                         .out_stride = 4 * d, .tab = p->type};
    int rc = vec(s, -1, "word", &gw);
    if (!rc)
        rc = vec(s, -1, "position", &gp);
    if (!rc)
        rc = vec(s, -1, "embed_add", &add);
    if (!rc)
        rc = layernorm(p, s, -1, "embed_ln", p->x[0], p->x[1], m, p->ge, p->fge, p->bee);
    if (!rc)
        rc = quant(p, s, -1, p->x[1], m);
    /* the residual is in x[1]; x[2] takes each LayerNorm's input */
    for (int l = 0; !rc && l < p->layers; l++) {
        const layer_t *L = &p->L[l];
        rc = sq_istream_gemm(s, l, "qkv", &L->qkv, m, p->a8, p->acc);
        if (!rc)
            rc = qkv_op(p, s, l, "q", 0, m, p->q8);
        if (!rc)
            rc = qkv_op(p, s, l, "k", d, m, p->k8);
        if (!rc)
            rc = qkv_op(p, s, l, "v", 2 * d, m, p->v8);
        uint8_t *ad = rc ? NULL : sq_istream_emit(s, l, "attn");
        if (!rc && !ad)
            rc = SQ_ERR_MEM;
        if (!rc) { /* bidirectional: every query sees every key */
            sq_attn_desc_t a = {.flags = 0, .seq = m, .queries = m, .heads = (uint32_t)p->heads,
                                .kv_heads = (uint32_t)p->heads, .head_dim = hd, .kv_cap = m,
                                .q = p->q8, .k = p->k8, .v = p->v8, .quant = L->aq,
                                .o = p->o8};
            sq_attn_desc_encode(&a, ad);
        }
        sq_vec_desc_t c = {.func = SQ_VEC_COPY, .m = m, .n = d, .seg = hd, .in = p->o8,
                           .in_stride = hd, .in_seg_stride = m * hd, .out = p->oc,
                           .out_stride = d, .out_seg_stride = hd};
        if (!rc)
            rc = vec(s, l, "copy", &c);
        if (!rc)
            rc = sq_istream_gemm(s, l, "o", &L->o, m, p->oc, p->acc);
        if (!rc)
            rc = residual(p, s, l, "res_att", &L->o, L->bo, L->rec_o, m, p->x[1], p->x[2]);
        if (!rc)
            rc = layernorm(p, s, l, "ln_att", p->x[2], p->x[1], m, L->g1, L->fg1, L->be1);
        if (!rc)
            rc = quant(p, s, l, p->x[1], m);
        if (!rc)
            rc = sq_istream_gemm(s, l, "w1", &L->w1, m, p->a8, p->acc);
        if (!rc) {
            sq_vec_desc_t g = {.func = SQ_VEC_GELU, .flags = SQ_VEC_ACC | SQ_VEC_BIAS | SQ_VEC_Q8,
                               .m = m, .n = h, .in = p->acc, .in_stride = 4 * h, .out = p->a8,
                               .out_stride = h, .chan = L->w1.chan, .rec_in = p->rec_a,
                               .rec_out = p->rec_b, .tab = L->b1,
                               .p = {(uint32_t)(L->w1.fi - p->f_gelu), (uint32_t)p->f_gelu}};
            rc = vec(s, l, "gelu", &g);
        }
        if (!rc)
            rc = sq_istream_gemm(s, l, "w2", &L->w2, m, p->a8, p->acc);
        if (!rc)
            rc = residual(p, s, l, "res_ffn", &L->w2, L->b2, p->rec_b, m, p->x[1], p->x[2]);
        if (!rc)
            rc = layernorm(p, s, l, "ln_ffn", p->x[2], p->x[1], m, L->g2, L->fg2, L->be2);
        if (!rc && l + 1 < p->layers)
            rc = quant(p, s, l, p->x[1], m);
    }
    if (!rc)
        rc = sq_istream_finish(s);
    return rc;
}

int sq_bert_int_supported(const sq_bert_qmodel_t *q)
{
    if (!q->layers)
        return sq_err(SQ_ERR_ARG, "the integer encoder needs an integer recipe (w8a8, w4gN, ...)");
    static const sq_wkind_t kinds[] = {SQ_W_Q, SQ_W_K, SQ_W_V, SQ_W_O, SQ_W_1, SQ_W_2};
    for (int l = 0; l < q->model->cfg.n_layers; l++)
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
            const sq_clinear_t *cl = &q->layers[(size_t)l * SQ_W_COUNT + kinds[i]];
            if (cl->nf != 1 || cl->f[0].kind != SQ_QL_INT)
                return sq_err(SQ_ERR_ARG, "the integer encoder runs integer linears only (%s of "
                              "layer %d is %s)", sq_wkind_name[kinds[i]], l,
                              cl->nf == 2 ? "low-rank" : cl->nf == 0 ? "fp32" : "not integer");
            if (cl->f[0].act_scale > 0)
                return sq_err(SQ_ERR_ARG, "the integer encoder quantizes activations per token "
                              "(a8), not with static scales (a8s)");
            const sq_qlinear_t *q0 = leaf(q, l, SQ_W_Q);
            if (i < 3 && (cl->f[0].flags != q0->flags || cl->f[0].group != q0->group))
                return sq_err(SQ_ERR_ARG, "the integer encoder fuses Q|K|V, which need one "
                              "weight format");
        }
    return 0;
}

static int build(sq_bert_int_t *p, char *const *s, size_t n)
{
    const sq_bert_t *m = p->q->model;
    calib_t cal;
    int rc = calibrate(&cal, m, s, n);
    p->f_res = sq_istream_frac_bits(cal.res, 30);
    p->f_gelu = sq_istream_frac_bits(cal.gelu, (int)SQ_VEC_FRAC_MAX);
    if (!rc && p->f_gelu < 16)
        rc = sq_err(SQ_ERR_ARG, "integer encoder: GELU inputs up to %g leave fewer than 16 "
                    "fraction bits", cal.gelu);
    double e = ldexp((double)m->cfg.norm_eps * p->dim, 2 * p->f_res);
    if (!rc && !(e < ldexp(1.0, 61)))
        rc = sq_err(SQ_ERR_ARG, "integer encoder: LayerNorm epsilon out of the unit's range");
    p->eps = rc ? 0 : (uint64_t)llround(e);
    p->L = calloc((size_t)p->layers, sizeof *p->L);
    if (!rc && !p->L)
        rc = oom();
    if (!rc)
        rc = put_table(p, m->w.word_emb, (size_t)m->cfg.vocab_size, &p->word, &p->wordq);
    if (!rc)
        rc = put_table(p, m->w.pos_emb, (size_t)m->cfg.max_pos, &p->pos, &p->posq);
    if (!rc)
        rc = put_fixed(p, m->w.type_emb, (size_t)p->dim, NULL, p->f_res, &p->type);
    if (!rc)
        rc = sq_istream_gains(p->dev, m->w.emb_ln_w, p->dim, &p->ge, &p->fge);
    if (!rc)
        rc = put_fixed(p, m->w.emb_ln_b, (size_t)p->dim, NULL, p->f_res, &p->bee);
    for (int l = 0; !rc && l < p->layers; l++)
        rc = place_layer(p, &cal, l);
    calib_free(&cal);
    if (!rc)
        rc = place_activations(p);
    p->streams = calloc((size_t)p->rows, sizeof *p->streams);
    p->xbuf = malloc((size_t)p->rows * p->dim * sizeof *p->xbuf);
    if (!rc && (!p->streams || !p->xbuf))
        rc = oom();
    return rc;
}

int sq_bert_int_build(sq_bert_int_t **out, const sq_bert_qmodel_t *q, sq_dev_t *dev,
                      sq_report_t *rep, char *const *s, size_t n)
{
    *out = NULL;
    int rc = sq_bert_int_supported(q);
    if (rc)
        return rc;
    const sq_bert_config_t *c = &q->model->cfg;
    int hd = c->dim / c->n_heads;
    if (q->model->max_tokens > SQ_ATTN_MAX_SEQ || hd > (int)SQ_ATTN_MAX_DIM ||
        c->n_heads > (int)SQ_ATTN_MAX_HEADS || c->hidden_dim > (int)SQ_VEC_MAX_N)
        return sq_err(SQ_ERR_ARG, "integer encoder: the model exceeds the units' limits");
    sq_bert_int_t *p = calloc(1, sizeof *p);
    if (!p)
        return oom();
    *p = (sq_bert_int_t){.q = q, .dev = dev, .rep = rep, .dim = c->dim, .hidden = c->hidden_dim,
                         .hd = hd, .heads = c->n_heads, .layers = c->n_layers,
                         .rows = (int)q->model->max_tokens};
    rc = build(p, s, n);
    if (rc) {
        sq_bert_int_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void sq_bert_int_free(sq_bert_int_t *p)
{
    if (!p)
        return;
    for (int i = 0; p->streams && i < p->rows; i++)
        sq_istream_free(&p->streams[i]);
    free(p->streams);
    free(p->L);
    free(p->xbuf);
    free(p);
}

static int forward(sq_bert_int_t *p, const int32_t *ids, size_t n, float *hidden)
{
    if (n < 1 || n > (size_t)p->rows)
        return sq_err(SQ_ERR_ARG, "integer encoder: %zu tokens (1..%d)", n, p->rows);
    int vocab = p->q->model->cfg.vocab_size, rc = 0;
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= vocab)
            return sq_err(SQ_ERR_ARG, "integer encoder: token id %d out of range", ids[i]);
    sq_istream_t *s = &p->streams[n - 1];
    if (!s->n) {
        sq_istream_reset(s, p->dev);
        rc = write_stream(p, s, (uint32_t)n);
        if (rc)
            s->n = 0;
    }
    uint8_t *b = (uint8_t *)p->xbuf;
    for (size_t i = 0; !rc && i < n; i++)
        sq_st32(b + 4 * i, (uint32_t)ids[i]);
    if (!rc)
        rc = sq_dev_write(p->dev, p->tok, b, 4 * n);
    uint32_t pos[SQ_RUN_POS] = {0};
    if (!rc)
        rc = sq_istream_run(s, pos, p->rep);
    size_t nd = n * (size_t)p->dim;
    if (!rc)
        rc = sq_dev_read(p->dev, p->x[1], p->xbuf, nd * sizeof *p->xbuf);
    for (size_t i = 0; !rc && i < nd; i++)
        hidden[i] = (float)ldexp((double)p->xbuf[i], -p->f_res);
    if (!rc && p->rep)
        p->rep->tokens += n;
    p->last = rc ? 0 : (uint32_t)n;
    return rc;
}

/* The run's CPU time is the device's (simulation, transfers, bookkeeping),
 * not the host's own work (the pooling around it). */
int sq_bert_int_forward(sq_bert_int_t *p, const int32_t *ids, size_t n, float *hidden)
{
    double t0 = sq_report_cpu_s();
    int rc = forward(p, ids, n, hidden);
    sq_report_dev_time(p->rep, sq_report_cpu_s() - t0);
    return rc;
}

static int exec_forward(void *ctx, const int32_t *ids, size_t n, float *hidden)
{
    return sq_bert_int_forward(ctx, ids, n, hidden);
}

void sq_bert_int_exec(sq_bert_int_t *p, sq_bert_exec_t *ex)
{
    *ex = (sq_bert_exec_t){.forward = exec_forward, .fwd_ctx = p};
}

const uint8_t *sq_bert_int_stream(const sq_bert_int_t *p, uint32_t *n_cmds)
{
    *n_cmds = p->last ? p->streams[p->last - 1].n : 0;
    return p->last ? p->streams[p->last - 1].cmds : NULL;
}
