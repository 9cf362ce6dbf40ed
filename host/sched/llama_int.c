/* The integer layer compiler and its decode step (contract in
 * sched/llama_int.h; numerics in include/sparq/vec.h; the design and the
 * accuracy in docs/integer_layer.md). */
#include "sched/llama_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compress/quant.h"
#include "model/eval.h"
#include "runtime/desc.h"
#include "sparq/desc.h"
#include "sparq/vec.h"
#include "util/err.h"

/* Calibrated maxima times HEADROOM stay below 2^30: a token whose values are
 * up to 8x the calibration maximum still fits the int32 range unsaturated. */
#define HEADROOM 4.0
/* Fractional bits of Q, K and V (in units of their int8 scale) between the
 * requantization and the rounding to int8 (rule 4). */
#define QKV_FRAC 16u

/* ---------------------------------------------------------------------------
 * Calibration: static ranges from the fp32 model on calibration text. */

typedef struct {
    const sq_llama_t *m;
    sq_llama_state_t s;
    int pos;
    double res, ffn, logits;
    double *q, *k, *v, *o; /* (layers, heads), (layers, kv_heads) x2, (layers) */
} calib_t;

static double amax(const float *x, size_t n)
{
    double a = 0;
    for (size_t i = 0; i < n; i++)
        a = fabs(x[i]) > a ? fabs(x[i]) : a;
    return a;
}

static double dmax(double a, double b)
{
    return a > b ? a : b;
}

/* Sees every linear of the fp32 forward with the state around it: the
 * residual stream, Q after RoPE, the new K/V rows, the attention output (the
 * O projection's input) and the feed-forward's gate and up outputs. */
static int calib_linear(void *ctx, int layer, sq_wkind_t kind, const float *x, float *y)
{
    calib_t *c = ctx;
    const sq_llama_config_t *cf = &c->m->cfg;
    size_t n, k;
    sq_llama_wshape(cf, kind, &n, &k);
    sq_llama_linear_f32(c->m, layer, kind, x, y);
    int hs = cf->dim / cf->n_heads, kvd = hs * cf->n_kv_heads;
    switch (kind) {
    case SQ_W_Q:
    case SQ_W_1:
        c->res = dmax(c->res, amax(c->s.x, (size_t)cf->dim));
        if (kind == SQ_W_1)
            c->ffn = dmax(c->ffn, amax(y, n));
        break;
    case SQ_W_3:
        c->ffn = dmax(c->ffn, amax(y, n));
        break;
    case SQ_W_O: {
        size_t row = ((size_t)layer * cf->seq_len + (size_t)c->pos) * kvd;
        for (int h = 0; h < cf->n_heads; h++) {
            double *q = &c->q[(size_t)layer * cf->n_heads + h];
            *q = dmax(*q, amax(c->s.q + (size_t)h * hs, (size_t)hs));
        }
        for (int g = 0; g < cf->n_kv_heads; g++) {
            size_t at = (size_t)layer * cf->n_kv_heads + g;
            c->k[at] = dmax(c->k[at], amax(c->s.key_cache + row + (size_t)g * hs, (size_t)hs));
            c->v[at] = dmax(c->v[at], amax(c->s.value_cache + row + (size_t)g * hs, (size_t)hs));
        }
        c->o[layer] = dmax(c->o[layer], amax(x, k));
        break;
    }
    case SQ_W_2:
        if (layer == cf->n_layers - 1)
            for (int i = 0; i < cf->dim; i++)
                c->res = dmax(c->res, fabs((double)c->s.x[i] + y[i]));
        break;
    default:
        break;
    }
    return 0;
}

static int calibrate(calib_t *c, const sq_llama_t *m, const sq_tokenizer_t *tok, const char *text,
                     size_t *tokens)
{
    const sq_llama_config_t *cf = &m->cfg;
    memset(c, 0, sizeof *c);
    c->m = m;
    size_t lh = (size_t)cf->n_layers * cf->n_heads, lk = (size_t)cf->n_layers * cf->n_kv_heads;
    c->q = calloc(lh, sizeof *c->q);
    c->k = calloc(lk, sizeof *c->k);
    c->v = calloc(lk, sizeof *c->v);
    c->o = calloc((size_t)cf->n_layers, sizeof *c->o);
    char *copy = text ? strdup(text) : NULL;
    int *ids = copy ? malloc((strlen(copy) + 3) * sizeof *ids) : NULL;
    if (!c->q || !c->k || !c->v || !c->o || !copy || !ids) {
        free(copy);
        free(ids);
        return sq_err(SQ_ERR_MEM, "integer layer: out of memory calibrating");
    }
    int rc = sq_llama_state_build(&c->s, cf);
    sq_llama_exec_t ex = {.linear = calib_linear, .ctx = c};
    *tokens = 0;
    char *cursor = copy, *story;
    while (!rc && (story = sq_story_next(&cursor))) {
        int n = 0;
        if (!*story || (rc = sq_tokenizer_encode(tok, story, 0, 0, ids, &n)))
            continue;
        n = n > cf->seq_len - 1 ? cf->seq_len - 1 : n;
        int prev = SQ_TOK_BOS;
        for (int pos = 0; !rc && pos < n; pos++) {
            c->pos = pos;
            rc = sq_llama_forward(m, &c->s, prev, pos, &ex);
            c->logits = dmax(c->logits, amax(c->s.logits, (size_t)cf->vocab_size));
            prev = ids[pos];
            ++*tokens;
        }
    }
    free(copy);
    free(ids);
    sq_llama_state_free(&c->s);
    if (!rc && !*tokens)
        rc = sq_err(SQ_ERR_ARG, "integer layer: the calibration text has no tokens");
    return rc;
}

static void calib_free(calib_t *c)
{
    free(c->q);
    free(c->k);
    free(c->v);
    free(c->o);
}

/* Fractional bits that keep max * HEADROOM below 2^30, within [0, cap]. */
static int frac_bits(double max, int cap)
{
    if (!(max > 0))
        return cap;
    int f = (int)floor(log2((double)(1u << 30) / (max * HEADROOM)));
    return f < 0 ? 0 : f > cap ? cap : f;
}

/* An int8 scale from a calibrated maximum. */
static double scale_of(double max)
{
    return max > 0 ? max / 127.0 : 1.0 / 127.0;
}

/* ---------------------------------------------------------------------------
 * The program */

typedef struct {
    int layer;
    const char *op;
} tag_t;

struct sq_intlayer {
    const sq_qmodel_t *q;
    sq_dev_t *dev;
    sq_report_t *rep;
    int dim, hidden, hd, heads, kvh, kvd, vocab, seq, layers;
    int f_res, f_ffn, f_log;
    double res_max, ffn_max, log_max;
    size_t calib_tokens;
    /* device addresses of the activations */
    uint64_t tok, x[2], a8, rec_a, rec_b, acc, q8, o8, logits, argmax, cmd;
    uint8_t *cmds; /* host copy of the stream */
    tag_t *tags;
    uint32_t n, cap;
    sq_dev_stats_t *per;
    int32_t *lbuf;
};

static int put(sq_intlayer_t *p, const void *src, size_t bytes, uint64_t *addr)
{
    return sq_dev_put(p->dev, src, bytes, addr);
}

static uint8_t *emit(sq_intlayer_t *p, int layer, const char *op)
{
    if (p->n == p->cap) {
        uint32_t cap = p->cap ? 2 * p->cap : 128;
        uint8_t *c = realloc(p->cmds, (size_t)cap * SQ_DESC_BYTES);
        if (c)
            p->cmds = c;
        tag_t *t = c ? realloc(p->tags, cap * sizeof *t) : NULL;
        if (!t)
            return NULL;
        p->tags = t;
        p->cap = cap;
    }
    p->tags[p->n] = (tag_t){layer, op};
    return p->cmds + (size_t)p->n++ * SQ_DESC_BYTES;
}

/* A linear (or several fused along n) in device memory: weights in the GEMM
 * format, the per-channel requantization table of rule 1 and its Fi. */
typedef struct {
    uint32_t flags, n, k, group;
    uint64_t w, meta, gscale, chan;
    int fi;
} lin_t;

/* Uploads leaves l[0..nl) fused along n. f(j) is an extra real factor of
 * output channel j folded into the channel stage (1 / the int8 scale of Q, K
 * and V; 1 elsewhere). Grouped int4 becomes SQ_GEMM_GSCALE: each channel's
 * largest group scale s_j is its channel scale and the groups keep
 * round(2^15 s_jg / s_j). Fi is the largest with |t| < 2^30 for any int8
 * input, from the bound 128 sum_k |w_jk| (sq_vec_requant2). */
static int place_linear(sq_intlayer_t *p, const sq_qlinear_t *const *l, int nl, const double *f,
                        lin_t *out)
{
    const sq_qlinear_t *l0 = l[0];
    size_t k = l0->k, n = 0, group = l0->group;
    for (int i = 0; i < nl; i++)
        n += l[i]->n;
    int grouped = group < k;
    size_t ng = sq_quant_groups(k, group), rb = sq_w_row_bytes(l0->flags, k);
    size_t mb = sq_meta_row_bytes(k);
    uint8_t *w = malloc(n * rb), *meta = (l0->flags & SQ_GEMM_SP24) ? malloc(n * mb) : NULL;
    uint16_t *gs = grouped ? malloc(n * ng * sizeof *gs) : NULL;
    sq_quant_t *chan = malloc(n * sizeof *chan);
    double *sw = malloc(n * sizeof *sw), *bound = malloc(n * sizeof *bound);
    int8_t *row = malloc(k);
    int rc = 0;
    if (!w || ((l0->flags & SQ_GEMM_SP24) && !meta) || (grouped && !gs) || !chan || !sw ||
        !bound || !row)
        rc = sq_err(SQ_ERR_MEM, "integer layer: out of memory placing a linear");
    double bmax = 0;
    for (int i = 0, j0 = 0; !rc && i < nl; j0 += (int)l[i]->n, i++) {
        memcpy(w + (size_t)j0 * rb, l[i]->w, l[i]->n * rb);
        if (meta)
            memcpy(meta + (size_t)j0 * mb, l[i]->meta, l[i]->n * mb);
        for (size_t r = 0; r < l[i]->n; r++) {
            size_t j = (size_t)j0 + r;
            const float *s = l[i]->scale + r * ng;
            double sc = 0;
            for (size_t g = 0; g < ng; g++)
                sc = dmax(sc, s[g]);
            sq_w_row_decode(l0->flags, l[i]->w + r * rb, meta ? l[i]->meta + r * mb : NULL, k, row);
            double b = 0;
            for (size_t g = 0; g < ng; g++) {
                double gf = 1.0;
                if (grouped) {
                    long v = lround(s[g] / sc * 32768.0);
                    gs[j * ng + g] = (uint16_t)(v > 32768 ? 32768 : v);
                    gf = gs[j * ng + g] / 32768.0;
                }
                double a = 0;
                for (size_t t = g * group; t < k && t < (g + 1) * group; t++)
                    a += abs(row[t]);
                b += 128.0 * a * gf + (grouped ? 0.5 : 0.0);
            }
            sw[j] = sc * (f ? f[j] : 1.0);
            bound[j] = b * sw[j];
            bmax = dmax(bmax, bound[j]);
        }
    }
    int fi = bmax > 0 ? (int)floor(log2((double)(1u << 30) / bmax)) : 30;
    for (size_t j = 0; !rc && j < n; j++) {
        chan[j] = (sq_quant_t){0, 0};
        if (bound[j] > 0 && sq_scale_to_fixed(ldexp(sw[j], fi), &chan[j].mult, &chan[j].shift))
            rc = sq_err(SQ_ERR_ARG, "integer layer: channel scale %g not representable", sw[j]);
    }
    *out = (lin_t){.flags = l0->flags | SQ_GEMM_OUT32 | (grouped ? SQ_GEMM_GSCALE : 0),
                   .n = (uint32_t)n, .k = (uint32_t)k, .group = grouped ? (uint32_t)group : 0,
                   .fi = fi};
    if (!rc)
        rc = put(p, w, n * rb, &out->w);
    if (!rc && meta)
        rc = put(p, meta, n * mb, &out->meta);
    if (!rc && gs)
        rc = put(p, gs, n * ng * sizeof *gs, &out->gscale);
    if (!rc)
        rc = put(p, chan, n * sizeof *chan, &out->chan);
    free(w);
    free(meta);
    free(gs);
    free(chan);
    free(sw);
    free(bound);
    free(row);
    return rc;
}

static int gemm(sq_intlayer_t *p, int layer, const char *op, const lin_t *l, uint64_t a)
{
    uint8_t *d = emit(p, layer, op);
    if (!d)
        return sq_err(SQ_ERR_MEM, "integer layer: out of memory");
    sq_gemm_desc_t g = {.flags = l->flags, .m = 1, .n = l->n, .k = l->k, .a = a, .w = l->w,
                        .meta = l->meta, .c = p->acc, .group = l->group, .gscale = l->gscale};
    sq_gemm_desc_encode(&g, d);
    return 0;
}

static uint8_t *vec(sq_intlayer_t *p, int layer, const char *op, const sq_vec_desc_t *v)
{
    uint8_t *d = emit(p, layer, op);
    if (d)
        sq_vec_desc_encode(v, d);
    return d;
}

/* An RMSNorm of the residual into the int8 GEMM input and its record (rule
 * 3): gains round(g sqrt(N) 2^FG) with the largest FG that fits int32, Y
 * with one bit of headroom below that. */
static int norm(sq_intlayer_t *p, int layer, const char *op, const float *gain, uint64_t x,
                uint64_t rec)
{
    int n = p->dim;
    double gmax = amax(gain, (size_t)n) * sqrt((double)n);
    int fg = gmax > 0 ? (int)floor(log2(2147483647.0 / gmax)) : 30;
    fg = fg > 40 ? 40 : fg;
    int32_t *g = malloc((size_t)n * sizeof *g);
    if (!g)
        return sq_err(SQ_ERR_MEM, "integer layer: out of memory");
    for (int j = 0; j < n; j++)
        g[j] = (int32_t)lround(ldexp(gain[j] * sqrt((double)n), fg));
    uint64_t chan;
    int rc = put(p, g, (size_t)n * sizeof *g, &chan);
    free(g);
    if (rc)
        return rc;
    double e = ldexp((double)p->q->model->cfg.norm_eps * n, 2 * p->f_res);
    if (!(e < ldexp(1.0, 61)))
        return sq_err(SQ_ERR_ARG, "integer layer: norm epsilon out of the unit's range");
    uint64_t eps = (uint64_t)llround(e);
    int fy = fg - 1;
    sq_vec_desc_t v = {.func = SQ_VEC_NORM, .flags = SQ_VEC_Q8, .m = 1, .n = (uint32_t)n,
                       .in = x, .in_stride = 4u * n, .out = p->a8, .out_stride = (uint32_t)n,
                       .chan = chan, .rec_out = rec,
                       .p = {(uint32_t)eps, (uint32_t)(eps >> 32), (uint32_t)(fg - fy - 15),
                             (uint32_t)fy}};
    return vec(p, layer, op, &v) ? 0 : sq_err(SQ_ERR_MEM, "integer layer: out of memory");
}

/* Q, K or V from the fused projection's accumulator slice [c0, c0 + n):
 * rule 1 (1 / scale folded into the channel stage), RoPE for Q and K, int8
 * out; K and V go to row pos of the layer's cache. */
static int qkv_op(sq_intlayer_t *p, int layer, const char *op, const lin_t *l, uint32_t c0,
                  uint32_t n, uint64_t out, uint32_t out_seg_stride, int rot, int to_cache,
                  uint64_t rope)
{
    uint32_t hd = (uint32_t)p->hd;
    sq_vec_desc_t v = {.func = SQ_VEC_ROPE, .flags = SQ_VEC_ACC | (rot ? SQ_VEC_ROT : 0u),
                       .m = 1, .n = n, .seg = hd, .in = p->acc + 4ull * c0,
                       .in_stride = 4u * l->n, .in_seg_stride = 4u * hd, .out = out,
                       .out_stride = hd, .out_seg_stride = out_seg_stride,
                       .chan = l->chan + sizeof(sq_quant_t) * c0, .rec_in = p->rec_a,
                       .tab = rot ? rope : 0, .tab_stride = rot ? 2u * hd : 0,
                       .p = {(uint32_t)(l->fi - (int)QKV_FRAC), QKV_FRAC, 0, 0}};
    uint8_t *d = vec(p, layer, op, &v);
    if (!d)
        return sq_err(SQ_ERR_MEM, "integer layer: out of memory");
    unsigned slot = 0;
    if (rot)
        sq_desc_set_patch(d, slot++, sq_desc_patch_word(SQ_VEC_W_TAB_LO, 1, 0, 2u * hd));
    if (to_cache)
        sq_desc_set_patch(d, slot, sq_desc_patch_word(SQ_VEC_W_OUT_LO, 1, 0, hd));
    return 0;
}

/* The accumulator of l into the residual: x_out = x_in + rule 1. */
static int residual(sq_intlayer_t *p, int layer, const char *op, const lin_t *l, uint64_t rec,
                    int *cur)
{
    sq_vec_desc_t v = {.func = SQ_VEC_ADD, .flags = SQ_VEC_ACC, .m = 1, .n = (uint32_t)p->dim,
                       .in = p->acc, .in_stride = 4u * l->n, .in2 = p->x[*cur],
                       .in2_stride = 4u * p->dim, .out = p->x[!*cur],
                       .out_stride = 4u * p->dim, .chan = l->chan, .rec_in = rec,
                       .p = {(uint32_t)(l->fi - p->f_res)}};
    *cur = !*cur;
    return vec(p, layer, op, &v) ? 0 : sq_err(SQ_ERR_MEM, "integer layer: out of memory");
}

static int unit_of(const uint8_t *d)
{
    return sq_desc_unit(sq_desc_opcode(d));
}

static int conflict(const uint8_t *a, const uint8_t *b)
{
    sq_operand_t oa[SQ_DESC_MAX_OPERANDS], ob[SQ_DESC_MAX_OPERANDS];
    size_t na = sq_desc_operands(a, oa), nb = sq_desc_operands(b, ob);
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            if ((oa[i].role == SQ_OPND_OUT || ob[j].role == SQ_OPND_OUT) && oa[i].len &&
                ob[j].len && oa[i].addr < ob[j].addr + ob[j].len &&
                ob[j].addr < oa[i].addr + oa[i].len)
                return 1;
    return 0;
}

/* Every descriptor waits for the latest descriptor of each other unit that
 * touches its bytes (one of them writing); its own unit runs in order. */
static int add_deps(sq_intlayer_t *p)
{
    for (uint32_t j = 0; j < p->n; j++) {
        uint8_t *dj = p->cmds + (size_t)j * SQ_DESC_BYTES;
        uint32_t dep[SQ_DESC_DEPS] = {0};
        unsigned nd = 0, seen = 0;
        for (uint32_t i = j; i-- > 0 && nd < SQ_DESC_DEPS;) {
            const uint8_t *di = p->cmds + (size_t)i * SQ_DESC_BYTES;
            int u = unit_of(di);
            if (u == unit_of(dj) || (seen >> u) & 1u || !conflict(di, dj))
                continue;
            if (j - i > 255)
                return sq_err(SQ_ERR_ARG, "integer layer: descriptor %u depends on %u, more than "
                              "255 back", j, i);
            seen |= 1u << u;
            dep[nd++] = j - i;
        }
        sq_desc_set_deps(dj, dep);
    }
    return 0;
}

int sq_intlayer_supported(const sq_qmodel_t *q)
{
    if (!q->layers)
        return sq_err(SQ_ERR_ARG, "the integer layer needs an integer recipe (w8a8, w4gN, 2:4, ...)");
    const sq_llama_config_t *c = &q->model->cfg;
    for (int l = 0; l < c->n_layers; l++)
        for (int kd = 0; kd < SQ_W_COUNT; kd++) {
            if (kd == SQ_W_CLS && l > 0)
                continue;
            const sq_clinear_t *cl = sq_qmodel_layer(q, l, (sq_wkind_t)kd);
            if (cl->nf != 1 || cl->f[0].kind != SQ_QL_INT)
                return sq_err(SQ_ERR_ARG, "the integer layer runs integer linears only (%s of "
                              "layer %d is %s)", sq_wkind_name[kd], l,
                              cl->nf == 2 ? "low-rank" : cl->nf == 0 ? "fp32" : "not integer");
            if (cl->f[0].act_scale > 0)
                return sq_err(SQ_ERR_ARG, "the integer layer quantizes activations per token "
                              "(a8), not with static scales (a8s)");
        }
    for (int l = 0; l < c->n_layers; l++) {
        const sq_qlinear_t *qq = &sq_qmodel_layer(q, l, SQ_W_Q)->f[0];
        const sq_qlinear_t *w1 = &sq_qmodel_layer(q, l, SQ_W_1)->f[0];
        for (int kd = SQ_W_K; kd <= SQ_W_3; kd++) {
            const sq_qlinear_t *x = &sq_qmodel_layer(q, l, (sq_wkind_t)kd)->f[0];
            const sq_qlinear_t *ref = kd == SQ_W_K || kd == SQ_W_V ? qq : kd == SQ_W_3 ? w1 : x;
            if (x->flags != ref->flags || x->group != ref->group)
                return sq_err(SQ_ERR_ARG, "the integer layer fuses Q|K|V and W1|W3, which need "
                              "one weight format each");
        }
    }
    return 0;
}

static int build(sq_intlayer_t *p, const sq_intlayer_opts_t *o)
{
    const sq_llama_t *m = p->q->model;
    const sq_llama_config_t *c = &m->cfg;
    calib_t cal;
    int rc = calibrate(&cal, m, o->tok, o->calib_text, &p->calib_tokens);
    if (rc) {
        calib_free(&cal);
        return rc;
    }
    p->res_max = cal.res;
    p->ffn_max = cal.ffn;
    p->log_max = cal.logits;
    p->f_res = frac_bits(cal.res, 30);
    p->f_ffn = frac_bits(cal.ffn, (int)SQ_VEC_FRAC_MAX);
    p->f_log = frac_bits(cal.logits, 30);
    uint32_t hd = (uint32_t)p->hd, n_qkv = (uint32_t)(p->dim + 2 * p->kvd);
    size_t acc_n = (size_t)n_qkv;
    acc_n = acc_n > 2u * (size_t)p->hidden ? acc_n : 2u * (size_t)p->hidden;
    acc_n = acc_n > (size_t)p->vocab ? acc_n : (size_t)p->vocab;
    size_t a8_n = p->dim > p->hidden ? (size_t)p->dim : (size_t)p->hidden;

    /* tables shared by every layer: RoPE, embedding */
    size_t rope_n = (size_t)p->seq * hd / 2 * 2;
    int16_t *rope = malloc(rope_n * sizeof *rope);
    int8_t *emb = malloc((size_t)p->vocab * p->dim);
    sq_quant_t *embq = malloc((size_t)p->vocab * sizeof *embq);
    double *f = malloc(acc_n * sizeof *f);
    uint64_t rope_a = 0, emb_a = 0, embq_a = 0;
    if (!rope || !emb || !embq || !f)
        rc = sq_err(SQ_ERR_MEM, "integer layer: out of memory");
    for (int t = 0; !rc && t < p->seq; t++)
        for (uint32_t i = 0; i < hd / 2; i++) {
            double freq = pow((double)c->rope_theta, -(double)(2 * i) / hd), a = t * freq;
            rope[((size_t)t * (hd / 2) + i) * 2] = (int16_t)lround(ldexp(cos(a), 14));
            rope[((size_t)t * (hd / 2) + i) * 2 + 1] = (int16_t)lround(ldexp(sin(a), 14));
        }
    for (int t = 0; !rc && t < p->vocab; t++) {
        const float *e = m->w.token_embedding + (size_t)t * p->dim;
        double s = scale_of(amax(e, (size_t)p->dim));
        for (int j = 0; j < p->dim; j++)
            emb[(size_t)t * p->dim + j] = (int8_t)lround(e[j] / s);
        if (sq_scale_to_fixed(ldexp(s, p->f_res), &embq[t].mult, &embq[t].shift))
            rc = sq_err(SQ_ERR_ARG, "integer layer: embedding scale of row %d not representable", t);
    }
    if (!rc)
        rc = put(p, rope, rope_n * sizeof *rope, &rope_a);
    if (!rc)
        rc = put(p, emb, (size_t)p->vocab * p->dim, &emb_a);
    if (!rc)
        rc = put(p, embq, (size_t)p->vocab * sizeof *embq, &embq_a);
    free(rope);
    free(emb);
    free(embq);

    /* activations */
    uint64_t qo = (uint64_t)p->heads * hd, kv = (uint64_t)p->kvh * p->seq * hd;
    if (!rc)
        rc = put(p, NULL, 4, &p->tok);
    for (int i = 0; !rc && i < 2; i++)
        rc = put(p, NULL, 4u * (size_t)p->dim, &p->x[i]);
    if (!rc)
        rc = put(p, NULL, a8_n, &p->a8);
    if (!rc)
        rc = put(p, NULL, SQ_VEC_REC_BYTES, &p->rec_a);
    if (!rc)
        rc = put(p, NULL, SQ_VEC_REC_BYTES, &p->rec_b);
    if (!rc)
        rc = put(p, NULL, 4 * acc_n, &p->acc);
    if (!rc)
        rc = put(p, NULL, qo, &p->q8);
    if (!rc)
        rc = put(p, NULL, qo, &p->o8);
    if (!rc)
        rc = put(p, NULL, 4u * (size_t)p->vocab, &p->logits);
    if (!rc)
        rc = put(p, NULL, 4, &p->argmax);
    uint64_t mask = 0;
    const sq_attn_exec_t *ae = o->ae;
    uint32_t aflags = SQ_ATTN_CAUSAL | (ae ? ae->flags : 0);
    if (!rc && (aflags & SQ_ATTN_BLOCK))
        rc = put(p, ae->mask, (size_t)sq_attn_blocks((uint32_t)p->seq) * SQ_ATTN_MASK_ROW_BYTES,
                 &mask);

    /* the stream */
    int cur = 0;
    if (!rc) {
        sq_vec_desc_t v = {.func = SQ_VEC_GATHER, .m = 1, .n = (uint32_t)p->dim, .in = p->tok,
                           .in_stride = 4, .out = p->x[0], .out_stride = 4u * p->dim,
                           .chan = embq_a, .tab = emb_a, .tab_stride = (uint32_t)p->dim,
                           .p = {(uint32_t)p->vocab}};
        if (!vec(p, -1, "gather", &v))
            rc = sq_err(SQ_ERR_MEM, "integer layer: out of memory");
    }
    for (int l = 0; !rc && l < p->layers; l++) {
        const sq_qlinear_t *qkv[3], *w13[2], *wo, *w2;
        for (int i = 0; i < 3; i++)
            qkv[i] = &sq_qmodel_layer(p->q, l, (sq_wkind_t)(SQ_W_Q + i))->f[0];
        w13[0] = &sq_qmodel_layer(p->q, l, SQ_W_1)->f[0];
        w13[1] = &sq_qmodel_layer(p->q, l, SQ_W_3)->f[0];
        wo = &sq_qmodel_layer(p->q, l, SQ_W_O)->f[0];
        w2 = &sq_qmodel_layer(p->q, l, SQ_W_2)->f[0];
        double sq[SQ_ATTN_MAX_HEADS], sk[SQ_ATTN_MAX_HEADS], sv[SQ_ATTN_MAX_HEADS];
        for (int h = 0; h < p->heads; h++)
            sq[h] = scale_of(cal.q[(size_t)l * p->heads + h]);
        for (int g = 0; g < p->kvh; g++) {
            sk[g] = scale_of(cal.k[(size_t)l * p->kvh + g]);
            sv[g] = scale_of(cal.v[(size_t)l * p->kvh + g]);
        }
        double so = scale_of(cal.o[l]);
        for (uint32_t j = 0; j < n_qkv; j++)
            f[j] = 1.0 / (j < (uint32_t)p->dim ? sq[j / hd]
                          : j < (uint32_t)(p->dim + p->kvd) ? sk[(j - p->dim) / hd]
                                                             : sv[(j - p->dim - p->kvd) / hd]);
        lin_t lqkv, lo, l13, l2;
        sq_attn_quant_t aq[SQ_ATTN_MAX_HEADS];
        for (int h = 0; !rc && h < p->heads; h++) {
            int g = h / (p->heads / p->kvh);
            if (sq_attn_quant_make(sq[h], sk[g], sv[g], so, hd, &aq[h]))
                rc = sq_err(SQ_ERR_ARG, "integer layer: attention scales of layer %d head %d "
                            "not representable", l, h);
        }
        sq_vec_rec_t rec_o;
        sq_quant_t fo;
        if (!rc && sq_scale_to_fixed(so, &fo.mult, &fo.shift))
            rc = sq_err(SQ_ERR_ARG, "integer layer: attention output scale not representable");
        rec_o = (sq_vec_rec_t){fo.mult, (int32_t)fo.shift};
        uint64_t aq_a = 0, rec_o_a = 0, kc = 0, vc = 0;
        if (!rc)
            rc = place_linear(p, qkv, 3, f, &lqkv);
        if (!rc)
            rc = place_linear(p, &wo, 1, NULL, &lo);
        if (!rc)
            rc = place_linear(p, w13, 2, NULL, &l13);
        if (!rc)
            rc = place_linear(p, &w2, 1, NULL, &l2);
        if (!rc)
            rc = put(p, aq, (size_t)p->heads * sizeof *aq, &aq_a);
        if (!rc)
            rc = put(p, &rec_o, sizeof rec_o, &rec_o_a);
        if (!rc)
            rc = put(p, NULL, kv, &kc);
        if (!rc)
            rc = put(p, NULL, kv, &vc);
        /* attention block */
        if (!rc)
            rc = norm(p, l, "norm_att", m->w.rms_att + (size_t)l * p->dim, p->x[cur], p->rec_a);
        if (!rc)
            rc = gemm(p, l, "qkv", &lqkv, p->a8);
        if (!rc)
            rc = qkv_op(p, l, "rope_q", &lqkv, 0, (uint32_t)p->dim, p->q8, hd, 1, 0, rope_a);
        if (!rc)
            rc = qkv_op(p, l, "rope_k", &lqkv, (uint32_t)p->dim, (uint32_t)p->kvd, kc,
                        (uint32_t)p->seq * hd, 1, 1, rope_a);
        if (!rc)
            rc = qkv_op(p, l, "v", &lqkv, (uint32_t)(p->dim + p->kvd), (uint32_t)p->kvd, vc,
                        (uint32_t)p->seq * hd, 0, 1, rope_a);
        if (!rc) {
            uint8_t *d = emit(p, l, "attn");
            sq_attn_desc_t a = {.flags = aflags, .seq = 1, .queries = 1,
                                .heads = (uint32_t)p->heads, .kv_heads = (uint32_t)p->kvh,
                                .head_dim = hd, .kv_cap = (uint32_t)p->seq,
                                .window = ae ? ae->window : 0, .n_global = ae ? ae->n_global : 0,
                                .topk = ae ? ae->topk : 0, .q = p->q8, .k = kc, .v = vc,
                                .mask = mask, .quant = aq_a, .o = p->o8};
            if (!d)
                rc = sq_err(SQ_ERR_MEM, "integer layer: out of memory");
            else {
                sq_attn_desc_encode(&a, d);
                sq_desc_set_patch(d, 0, sq_desc_patch_word(SQ_ATTN_W_SEQ, 0, 0, 1));
            }
        }
        if (!rc)
            rc = gemm(p, l, "o", &lo, p->o8);
        if (!rc)
            rc = residual(p, l, "res_att", &lo, rec_o_a, &cur);
        /* feed-forward block */
        if (!rc)
            rc = norm(p, l, "norm_ffn", m->w.rms_ffn + (size_t)l * p->dim, p->x[cur], p->rec_a);
        if (!rc)
            rc = gemm(p, l, "w13", &l13, p->a8);
        if (!rc) {
            sq_vec_desc_t v = {.func = SQ_VEC_SWIGLU, .flags = SQ_VEC_ACC | SQ_VEC_Q8, .m = 1,
                               .n = (uint32_t)p->hidden, .in = p->acc, .in_stride = 4u * l13.n,
                               .in2 = p->acc + 4ull * p->hidden, .in2_stride = 4u * l13.n,
                               .out = p->a8, .out_stride = (uint32_t)p->hidden,
                               .chan = l13.chan, .rec_in = p->rec_a, .rec_out = p->rec_b,
                               .p = {(uint32_t)(l13.fi - p->f_ffn), (uint32_t)p->f_ffn}};
            if (!vec(p, l, "swiglu", &v))
                rc = sq_err(SQ_ERR_MEM, "integer layer: out of memory");
        }
        if (!rc)
            rc = gemm(p, l, "w2", &l2, p->a8);
        if (!rc)
            rc = residual(p, l, "res_ffn", &l2, p->rec_b, &cur);
    }
    lin_t lc;
    const sq_qlinear_t *cls = rc ? NULL : &sq_qmodel_layer(p->q, 0, SQ_W_CLS)->f[0];
    if (!rc)
        rc = norm(p, -1, "norm", m->w.rms_final, p->x[cur], p->rec_a);
    if (!rc)
        rc = place_linear(p, &cls, 1, NULL, &lc);
    if (!rc)
        rc = gemm(p, -1, "cls", &lc, p->a8);
    if (!rc) {
        sq_vec_desc_t v = {.func = SQ_VEC_DEQ, .flags = SQ_VEC_ACC, .m = 1,
                           .n = (uint32_t)p->vocab, .in = p->acc, .in_stride = 4u * lc.n,
                           .out = p->logits, .out_stride = 4u * p->vocab, .chan = lc.chan,
                           .rec_in = p->rec_a, .p = {(uint32_t)(lc.fi - p->f_log)}};
        sq_vec_desc_t am = {.func = SQ_VEC_ARGMAX, .m = 1, .n = (uint32_t)p->vocab,
                            .in = p->logits, .in_stride = 4u * p->vocab, .out = p->argmax,
                            .out_stride = 4};
        if (!vec(p, -1, "logits", &v) || !vec(p, -1, "argmax", &am))
            rc = sq_err(SQ_ERR_MEM, "integer layer: out of memory");
    }
    free(f);
    calib_free(&cal);
    if (!rc)
        rc = add_deps(p);
    if (!rc)
        rc = put(p, p->cmds, (size_t)p->n * SQ_DESC_BYTES, &p->cmd);
    if (!rc && !(p->per = calloc(p->n, sizeof *p->per)))
        rc = sq_err(SQ_ERR_MEM, "integer layer: out of memory");
    if (!rc && !(p->lbuf = malloc((size_t)p->vocab * sizeof *p->lbuf)))
        rc = sq_err(SQ_ERR_MEM, "integer layer: out of memory");
    return rc;
}

int sq_intlayer_build(sq_intlayer_t **out, const sq_qmodel_t *q, sq_dev_t *dev, sq_report_t *rep,
                      const sq_intlayer_opts_t *opts)
{
    *out = NULL;
    int rc = sq_intlayer_supported(q);
    if (rc)
        return rc;
    const sq_llama_config_t *c = &q->model->cfg;
    int hd = c->dim / c->n_heads;
    if (c->seq_len > (int)SQ_ATTN_MAX_SEQ || hd > (int)SQ_ATTN_MAX_DIM ||
        c->n_heads > (int)SQ_ATTN_MAX_HEADS || c->vocab_size > (int)SQ_VEC_MAX_N ||
        c->hidden_dim > (int)SQ_VEC_MAX_N)
        return sq_err(SQ_ERR_ARG, "integer layer: the model exceeds the units' limits");
    sq_intlayer_t *p = calloc(1, sizeof *p);
    if (!p)
        return sq_err(SQ_ERR_MEM, "integer layer: out of memory");
    *p = (sq_intlayer_t){.q = q, .dev = dev, .rep = rep, .dim = c->dim, .hidden = c->hidden_dim,
                         .hd = hd, .heads = c->n_heads, .kvh = c->n_kv_heads,
                         .kvd = hd * c->n_kv_heads, .vocab = c->vocab_size, .seq = c->seq_len,
                         .layers = c->n_layers};
    rc = build(p, opts);
    if (rc) {
        sq_intlayer_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void sq_intlayer_free(sq_intlayer_t *p)
{
    if (!p)
        return;
    free(p->cmds);
    free(p->tags);
    free(p->per);
    free(p->lbuf);
    free(p);
}

static const char *unit_name(int u)
{
    return u == SQ_UNIT_GEMM ? "matmul" : u == SQ_UNIT_ATTN ? "attention" : "vector";
}

int sq_intlayer_step(sq_intlayer_t *p, int token, int pos, float *logits, int *argmax)
{
    if (token < 0 || token >= p->vocab || pos < 0 || pos >= p->seq)
        return sq_err(SQ_ERR_ARG, "integer layer: token %d or position %d out of range", token,
                      pos);
    uint8_t id[4];
    sq_st32(id, (uint32_t)token);
    int rc = sq_dev_write(p->dev, p->tok, id, sizeof id);
    sq_run_args_t args = {.pos = {(uint32_t)pos}, .per_desc = p->rep ? p->per : NULL};
    if (!rc)
        rc = sq_dev_run_args(p->dev, p->cmd, p->n, &args, 0);
    if (!rc && logits) {
        rc = sq_dev_read(p->dev, p->logits, p->lbuf, (size_t)p->vocab * sizeof *p->lbuf);
        for (int i = 0; !rc && i < p->vocab; i++)
            logits[i] = (float)ldexp((double)p->lbuf[i], -p->f_log);
    }
    if (!rc && argmax) {
        rc = sq_dev_read(p->dev, p->argmax, id, sizeof id);
        *argmax = (int)sq_ld32(id);
    }
    if (rc || !p->rep)
        return rc;
    p->rep->tokens++;
    for (uint32_t i = 0; !rc && i < p->n; i++)
        rc = sq_report_add(p->rep, p->tags[i].layer, p->tags[i].op,
                           unit_name(unit_of(p->cmds + (size_t)i * SQ_DESC_BYTES)), &p->per[i]);
    return rc;
}

static int forward(void *ctx, int token, int pos, float *logits)
{
    return sq_intlayer_step(ctx, token, pos, logits, NULL);
}

void sq_intlayer_exec(sq_intlayer_t *p, sq_llama_exec_t *ex)
{
    *ex = (sq_llama_exec_t){.forward = forward, .fwd_ctx = p};
}

const uint8_t *sq_intlayer_stream(const sq_intlayer_t *p, uint32_t *n_cmds, uint64_t *cmd_addr)
{
    *n_cmds = p->n;
    *cmd_addr = p->cmd;
    return p->cmds;
}

void sq_intlayer_info(const sq_intlayer_t *p, sq_intlayer_info_t *info)
{
    *info = (sq_intlayer_info_t){.f_res = p->f_res, .f_ffn = p->f_ffn, .f_logits = p->f_log,
                                 .res_max = p->res_max, .ffn_max = p->ffn_max,
                                 .logits_max = p->log_max, .calib_tokens = p->calib_tokens};
}
