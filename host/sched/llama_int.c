/* The integer layer compiler and its runs (contract in
 * sched/llama_int.h; numerics in include/sparq/vec.h; the design and the
 * accuracy in docs/integer_layer.md). */
#include "sched/llama_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compress/quant.h"
#include "model/eval.h"
#include "sched/istream.h"
#include "sparq/desc.h"
#include "sparq/vec.h"
#include "util/err.h"

/* Fractional bits of Q, K and V (in units of their int8 scale) between the
 * requantization and the rounding to int8 (rule 4). */
#define QKV_FRAC 16u

/* ---------------------------------------------------------------------------
 * Calibration: static ranges from the fp32 model on calibration text. */

typedef struct {
    const sq_llama_t *m;
    const sq_qmodel_t *qm; /* the model's own linears when it has no fp32 ones */
    sq_llama_state_t s;
    int pos;
    double res, ffn, logits;
    double *q, *k, *v, *o; /* (layers, heads), (layers, kv_heads) x2, (layers) */
} calib_t;

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
    int rc = 0;
    if (c->m->w.wq)
        sq_llama_linear_f32(c->m, layer, kind, x, y);
    else
        rc = sq_clinear_run(sq_qmodel_layer(c->qm, layer, kind), x, y, c->qm->mid,
                            &c->qm->scratch);
    if (rc)
        return rc;
    int hs = cf->dim / cf->n_heads, kvd = hs * cf->n_kv_heads;
    switch (kind) {
    case SQ_W_Q:
    case SQ_W_1:
        c->res = dmax(c->res, sq_istream_amax(c->s.x, (size_t)cf->dim));
        if (kind == SQ_W_1)
            c->ffn = dmax(c->ffn, sq_istream_amax(y, n));
        break;
    case SQ_W_3:
        c->ffn = dmax(c->ffn, sq_istream_amax(y, n));
        break;
    case SQ_W_O: {
        size_t row = ((size_t)layer * cf->seq_len + (size_t)c->pos) * kvd;
        for (int h = 0; h < cf->n_heads; h++) {
            double *q = &c->q[(size_t)layer * cf->n_heads + h];
            *q = dmax(*q, sq_istream_amax(c->s.q + (size_t)h * hs, (size_t)hs));
        }
        for (int g = 0; g < cf->n_kv_heads; g++) {
            size_t at = (size_t)layer * cf->n_kv_heads + g;
            const float *kr = c->s.key_cache + row + (size_t)g * hs;
            const float *vr = c->s.value_cache + row + (size_t)g * hs;
            c->k[at] = dmax(c->k[at], sq_istream_amax(kr, (size_t)hs));
            c->v[at] = dmax(c->v[at], sq_istream_amax(vr, (size_t)hs));
        }
        c->o[layer] = dmax(c->o[layer], sq_istream_amax(x, k));
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

/* Calibration ids of a model without a tokenizer (a dummy model, whose
 * weights are random): a fixed pseudo-random sequence. */
#define CALIB_IDS 32

/* c for qm with its per-layer range arrays allocated (zero). */
static int calib_alloc(calib_t *c, const sq_qmodel_t *qm)
{
    const sq_llama_config_t *cf = &qm->model->cfg;
    size_t lh = (size_t)cf->n_layers * cf->n_heads, lk = (size_t)cf->n_layers * cf->n_kv_heads;
    memset(c, 0, sizeof *c);
    c->m = qm->model;
    c->qm = qm;
    c->q = calloc(lh, sizeof *c->q);
    c->k = calloc(lk, sizeof *c->k);
    c->v = calloc(lk, sizeof *c->v);
    c->o = calloc((size_t)cf->n_layers, sizeof *c->o);
    return c->q && c->k && c->v && c->o ? 0 : sq_err(SQ_ERR_MEM, "integer layer: out of memory");
}

/* The ranges of a timing-only build: 1 everywhere (nothing is computed). */
static int unit_ranges(calib_t *c, const sq_qmodel_t *qm)
{
    int rc = calib_alloc(c, qm);
    const sq_llama_config_t *cf = &qm->model->cfg;
    size_t lh = (size_t)cf->n_layers * cf->n_heads, lk = (size_t)cf->n_layers * cf->n_kv_heads;
    for (size_t i = 0; !rc && i < lh; i++)
        c->q[i] = 1;
    for (size_t i = 0; !rc && i < lk; i++)
        c->k[i] = c->v[i] = 1;
    for (int l = 0; !rc && l < cf->n_layers; l++)
        c->o[l] = 1;
    c->res = c->ffn = c->logits = 1;
    return rc;
}

static int calibrate(calib_t *c, const sq_qmodel_t *qm, const sq_story_enc_t *enc,
                     const char *text, size_t *tokens)
{
    const sq_llama_t *m = qm->model;
    const sq_llama_config_t *cf = &m->cfg;
    char ids_only[] = "ids";
    if (!enc)
        text = ids_only;
    int rc = calib_alloc(c, qm);
    if (rc)
        return rc;
    char *copy = text ? strdup(text) : NULL;
    size_t cap = copy ? strlen(copy) + 3 : 0;
    int *ids = copy ? malloc(cap * sizeof *ids) : NULL;
    if (!copy || !ids) {
        free(copy);
        free(ids);
        return sq_err(SQ_ERR_MEM, "integer layer: out of memory calibrating");
    }
    rc = sq_llama_state_build(&c->s, cf);
    sq_llama_exec_t ex = {.linear = calib_linear, .ctx = c};
    *tokens = 0;
    char *cursor = copy, *story;
    while (!rc && (story = sq_story_next(&cursor))) {
        int n = 0;
        if (!enc) {
            ids = realloc(ids, CALIB_IDS * sizeof *ids);
            for (n = 0; ids && n < CALIB_IDS; n++)
                ids[n] = (int)(((uint64_t)n * 2654435761u + 12345u) % (uint64_t)cf->vocab_size);
            if (!ids)
                rc = sq_err(SQ_ERR_MEM, "integer layer: out of memory calibrating");
        } else if (!*story || (rc = enc->encode(enc->ctx, story, ids, cap, &n))) {
            continue;
        }
        n = n > cf->seq_len - 1 ? cf->seq_len - 1 : n;
        int prev = enc ? enc->start : SQ_TOK_BOS;
        for (int pos = 0; !rc && pos < n; pos++) {
            c->pos = pos;
            rc = sq_llama_forward(m, &c->s, prev, pos, &ex);
            c->logits = dmax(c->logits, sq_istream_amax(c->s.logits, (size_t)cf->vocab_size));
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


/* ---------------------------------------------------------------------------
 * The program */

/* One layer's device-resident constants. */
typedef struct {
    sq_ilin_t qkv, o, w13, w2;
    uint64_t g_att, g_ffn; /* RMSNorm gains (int32, dim) */
    int fg_att, fg_ffn;    /* their fractional bits */
    uint64_t aq;           /* attention quant entries (heads) */
    uint64_t rec_o;        /* the attention output's record, one per row (rows) */
    uint64_t kc, vc;       /* KV caches (seqs, kv_heads, seq_len, head_dim) */
} layer_t;

struct sq_intlayer {
    const sq_qmodel_t *q;
    sq_dev_t *dev;
    sq_report_t *rep;
    int dim, hidden, hd, heads, kvh, kvd, vocab, seq, layers;
    int rows, seqs;
    int f_res, f_ffn, f_log;
    double res_max, ffn_max, log_max;
    size_t calib_tokens;
    uint64_t eps; /* the norms' epsilon term (rule 3's E) */
    layer_t *L;
    sq_ilin_t cls;
    uint64_t g_fin;
    int fg_fin;
    uint64_t rope, emb, embq, mask;
    uint32_t aflags, window, n_global, topk;
    /* activations, `rows` rows each (logits and argmax: rows or seqs) */
    uint64_t tok, x[2], a8, rec_a, rec_b, acc, q8, o8, oc, logits, argmax;
    sq_istream_t dec, pre, *s; /* decode and prefill streams; s: the one being written */
    int pre_m, pre_seq;        /* what pre holds (pre_m 0: nothing yet) */
    int32_t *lbuf;             /* logits read back (seqs, vocab) */
};

static int oom(void)
{
    return sq_err(SQ_ERR_MEM, "integer layer: out of memory");
}

static int put(sq_intlayer_t *p, const void *src, size_t bytes, uint64_t *addr)
{
    return sq_dev_put(p->dev, src, bytes, addr);
}

static int vec(sq_intlayer_t *p, int layer, const char *op, const sq_vec_desc_t *v)
{
    return sq_istream_vec(p->s, layer, op, v) ? 0 : SQ_ERR_MEM;
}

static int place_gains(sq_intlayer_t *p, const float *gain, uint64_t *addr, int *fg)
{
    return sq_istream_gains(p->dev, gain, p->dim, addr, fg);
}

/* An RMSNorm of m residual rows at x into the int8 GEMM input and its
 * records (rule 3), Y with one bit of headroom below the gains' FG. */
static int norm(sq_intlayer_t *p, int layer, const char *op, uint64_t gain, int fg, uint64_t x,
                uint32_t m, uint64_t rec)
{
    int fy = fg - 1;
    sq_vec_desc_t v = {.func = SQ_VEC_NORM, .flags = SQ_VEC_Q8, .m = m, .n = (uint32_t)p->dim,
                       .in = x, .in_stride = 4u * p->dim, .out = p->a8,
                       .out_stride = (uint32_t)p->dim, .chan = gain, .rec_out = rec,
                       .p = {(uint32_t)p->eps, (uint32_t)(p->eps >> 32), (uint32_t)(fg - fy - 15),
                             (uint32_t)fy}};
    return vec(p, layer, op, &v);
}

/* Q, K or V of rows [r0, r0 + m) from the fused projection's accumulator
 * columns [c0, c0 + n): rule 1 (1 / scale folded into the channel stage),
 * RoPE for Q and K with the table rows from position argument `arg` on, int8
 * into out (heads laid out by out_stride and out_seg_stride); K and V move
 * with the position too (rows of a KV cache). */
static int qkv_op(sq_intlayer_t *p, int layer, const char *op, uint32_t c0, uint32_t n,
                  uint32_t r0, uint32_t m, uint64_t out, uint32_t out_stride,
                  uint32_t out_seg_stride, int rot, int to_cache, uint32_t arg)
{
    const sq_ilin_t *l = &p->L[layer].qkv;
    uint32_t hd = (uint32_t)p->hd;
    sq_vec_desc_t v = {.func = SQ_VEC_ROPE, .flags = SQ_VEC_ACC | (rot ? SQ_VEC_ROT : 0u),
                       .m = m, .n = n, .seg = hd,
                       .in = p->acc + 4ull * ((uint64_t)r0 * l->n + c0), .in_stride = 4u * l->n,
                       .in_seg_stride = 4u * hd, .out = out, .out_stride = out_stride,
                       .out_seg_stride = out_seg_stride,
                       .chan = l->chan + sizeof(sq_quant_t) * c0,
                       .rec_in = p->rec_a + (uint64_t)r0 * SQ_VEC_REC_BYTES,
                       .tab = rot ? p->rope : 0, .tab_stride = rot ? 2u * hd : 0,
                       .p = {(uint32_t)(l->fi - (int)QKV_FRAC), QKV_FRAC, 0, 0}};
    uint8_t *d = sq_istream_vec(p->s, layer, op, &v);
    if (!d)
        return SQ_ERR_MEM;
    unsigned slot = 0;
    if (rot)
        sq_desc_set_patch(d, slot++, sq_desc_patch_word(SQ_VEC_W_TAB_LO, 1, arg, 2u * hd));
    if (to_cache)
        sq_desc_set_patch(d, slot, sq_desc_patch_word(SQ_VEC_W_OUT_LO, 1, arg, hd));
    return 0;
}

/* Attention of `queries` queries of heads [h0, h0 + heads) ((heads,
 * queries, head_dim) at q, out to o) over the KV caches kc/vc of one
 * sequence and kv_heads of its KV heads, keys 0 .. queries + pos[arg] - 1. */
static int attn_op(sq_intlayer_t *p, int layer, uint32_t queries, uint32_t h0, uint32_t heads,
                   uint32_t kv_heads, uint64_t q, uint64_t kc, uint64_t vc, uint64_t o,
                   uint32_t arg)
{
    uint8_t *d = sq_istream_emit(p->s, layer, "attn");
    if (!d)
        return SQ_ERR_MEM;
    sq_attn_desc_t a = {.flags = p->aflags, .seq = queries, .queries = queries,
                        .heads = heads, .kv_heads = kv_heads,
                        .head_dim = (uint32_t)p->hd, .kv_cap = (uint32_t)p->seq,
                        .window = p->window, .n_global = p->n_global, .topk = p->topk, .q = q,
                        .k = kc, .v = vc, .mask = p->mask,
                        .quant = p->L[layer].aq + (uint64_t)h0 * SQ_ATTN_QUANT_BYTES, .o = o};
    sq_attn_desc_encode(&a, d);
    sq_desc_set_patch(d, 0, sq_desc_patch_word(SQ_ATTN_W_SEQ, 0, arg, 1));
    return 0;
}

/* Slice j of `slices` of layer l's fused projection of m rows (slices 1:
 * all of it, at any m). */
static int qkv_gemm(sq_intlayer_t *p, int l, uint32_t m, uint32_t slices, uint32_t j)
{
    uint32_t n0, n;
    if (slices == 1)
        return sq_istream_gemm(p->s, l, "qkv", &p->L[l].qkv, m, p->a8, p->acc);
    return sq_istream_gemm_cols(p->s, l, "qkv", &p->L[l].qkv, p->a8, p->acc, slices, j, &n0, &n);
}

/* The accumulator of l (m rows) into the residual: x_out = x_in + rule 1. */
static int residual(sq_intlayer_t *p, int layer, const char *op, const sq_ilin_t *l, uint32_t m,
                    uint64_t rec, int *cur)
{
    sq_vec_desc_t v = {.func = SQ_VEC_ADD, .flags = SQ_VEC_ACC, .m = m, .n = (uint32_t)p->dim,
                       .in = p->acc, .in_stride = 4u * l->n, .in2 = p->x[*cur],
                       .in2_stride = 4u * p->dim, .out = p->x[!*cur],
                       .out_stride = 4u * p->dim, .chan = l->chan, .rec_in = rec,
                       .p = {(uint32_t)(l->fi - p->f_res)}};
    *cur = !*cur;
    return vec(p, layer, op, &v);
}

/* Bytes of one sequence's KV cache of one layer. */
static uint64_t cache_bytes(const sq_intlayer_t *p)
{
    return (uint64_t)p->kvh * (uint64_t)p->seq * (uint64_t)p->hd;
}

/* The position argument of sequence b in a decode run. */
static uint32_t seq_arg(const sq_intlayer_t *p, int b)
{
    return p->seqs <= (int)SQ_RUN_POS ? (uint32_t)b : 0u;
}

/* Writes a stream into p->s: the decode step of every sequence (prefill 0:
 * m = seqs rows, row b sequence b at position argument b), or a prompt of m
 * tokens of sequence seq at positions pos[0] .. pos[0] + m - 1. */
static int write_stream(sq_intlayer_t *p, int prefill, uint32_t m, int seq)
{
    uint32_t hd = (uint32_t)p->hd, dim = (uint32_t)p->dim;
    uint64_t cb = cache_bytes(p);
    int cur = 0, rc = 0;
    sq_vec_desc_t g = {.func = SQ_VEC_GATHER, .m = m, .n = dim, .in = p->tok, .in_stride = 4,
                       .out = p->x[0], .out_stride = 4u * dim, .chan = p->embq, .tab = p->emb,
                       .tab_stride = dim, .p = {(uint32_t)p->vocab}};
    rc = vec(p, -1, "gather", &g);
    for (int l = 0; !rc && l < p->layers; l++) {
        const layer_t *L = &p->L[l];
        /* attention block */
        rc = norm(p, l, "norm_att", L->g_att, L->fg_att, p->x[cur], m, p->rec_a);
        /* The fused projection's columns are KV head groups (place_layer).
         * A decode step of one sequence runs it in column slices of a group,
         * the next group's slice ahead of this group's Q, K, V and attention:
         * the vector and attention units work on one group while the GEMM
         * unit streams the next one's weights. */
        uint32_t hpg = (uint32_t)(p->heads / p->kvh), gw = (hpg + 2) * hd;
        uint32_t slices = !prefill && m == 1 ? (uint32_t)p->kvh : 1;
        uint64_t kvb = (uint64_t)p->seq * hd;
        if (!rc)
            rc = qkv_gemm(p, l, m, slices, 0);
        for (uint32_t b = 0; !rc && b < (prefill ? 1 : m); b++) {
            /* a prompt: its m rows at once; a decode step: each sequence with
             * its own position, KV cache and attention, a group at a time */
            uint32_t r0 = prefill ? 0 : b, rows = prefill ? m : 1;
            uint32_t arg = prefill ? 0 : seq_arg(p, (int)b);
            uint64_t sb = prefill ? (uint64_t)seq : b, kc = L->kc + sb * cb, vc = L->vc + sb * cb;
            uint64_t qb = p->q8 + (prefill ? 0 : (uint64_t)b * dim);
            uint64_t ob = p->o8 + (prefill ? 0 : (uint64_t)b * dim);
            for (uint32_t g = 0; !rc && g < (uint32_t)p->kvh; g++) {
                uint32_t h0 = g * hpg, c = g * gw;
                if (g + 1 < slices)
                    rc = qkv_gemm(p, l, m, slices, g + 1);
                if (!rc)
                    rc = qkv_op(p, l, "rope_k", c + hpg * hd, hd, r0, rows, kc + g * kvb, hd,
                                (uint32_t)kvb, 1, 1, arg);
                if (!rc)
                    rc = qkv_op(p, l, "v", c + (hpg + 1) * hd, hd, r0, rows, vc + g * kvb, hd,
                                (uint32_t)kvb, 0, 1, arg);
                /* Q as (heads, rows, head_dim) */
                if (!rc)
                    rc = qkv_op(p, l, "rope_q", c, hpg * hd, r0, rows,
                                qb + (uint64_t)h0 * rows * hd, hd, rows * hd, 1, 0, arg);
                if (!rc && !prefill)
                    rc = attn_op(p, l, 1, h0, hpg, 1, qb + h0 * hd, kc + g * kvb, vc + g * kvb,
                                 ob + h0 * hd, arg);
            }
            if (!rc && prefill)
                rc = attn_op(p, l, m, 0, (uint32_t)p->heads, (uint32_t)p->kvh, p->q8, kc, vc,
                             p->o8, 0);
            /* (heads, m, head_dim) -> (m, dim) for the output projection */
            sq_vec_desc_t c = {.func = SQ_VEC_COPY, .m = m, .n = dim, .seg = hd, .in = p->o8,
                               .in_stride = hd, .in_seg_stride = m * hd, .out = p->oc,
                               .out_stride = dim, .out_seg_stride = hd};
            if (!rc && prefill)
                rc = vec(p, l, "copy", &c);
        }
        if (!rc)
            rc = sq_istream_gemm(p->s, l, "o", &L->o, m, prefill ? p->oc : p->o8, p->acc);
        if (!rc)
            rc = residual(p, l, "res_att", &L->o, m, L->rec_o, &cur);
        /* feed-forward block */
        if (!rc)
            rc = norm(p, l, "norm_ffn", L->g_ffn, L->fg_ffn, p->x[cur], m, p->rec_a);
        if (!rc)
            rc = sq_istream_gemm(p->s, l, "w13", &L->w13, m, p->a8, p->acc);
        if (!rc) {
            sq_vec_desc_t v = {.func = SQ_VEC_SWIGLU, .flags = SQ_VEC_ACC | SQ_VEC_Q8, .m = m,
                               .n = (uint32_t)p->hidden, .in = p->acc,
                               .in_stride = 4u * L->w13.n, .in2 = p->acc + 4ull * p->hidden,
                               .in2_stride = 4u * L->w13.n, .out = p->a8,
                               .out_stride = (uint32_t)p->hidden, .chan = L->w13.chan,
                               .rec_in = p->rec_a, .rec_out = p->rec_b,
                               .p = {(uint32_t)(L->w13.fi - p->f_ffn), (uint32_t)p->f_ffn}};
            rc = vec(p, l, "swiglu", &v);
        }
        if (!rc)
            rc = sq_istream_gemm(p->s, l, "w2", &L->w2, m, p->a8, p->acc);
        if (!rc)
            rc = residual(p, l, "res_ffn", &L->w2, m, p->rec_b, &cur);
    }
    /* a prompt needs the logits of its last token only */
    uint32_t mo = prefill ? 1 : m;
    uint64_t xo = p->x[cur] + (prefill ? 4ull * dim * (m - 1) : 0);
    if (!rc)
        rc = norm(p, -1, "norm", p->g_fin, p->fg_fin, xo, mo, p->rec_a);
    /* at one row the classifier goes in column slices, each slice's logits
     * made on the vector unit while the next slice's weights stream */
    uint32_t parts = mo == 1 ? SQ_INTLAYER_CLS_SLICES : 1;
    for (uint32_t j = 0; !rc && j < parts; j++) {
        uint32_t n0 = 0, nn = (uint32_t)p->vocab;
        rc = mo == 1 ? sq_istream_gemm_cols(p->s, -1, "cls", &p->cls, p->a8, p->acc, parts, j,
                                            &n0, &nn)
                     : sq_istream_gemm(p->s, -1, "cls", &p->cls, mo, p->a8, p->acc);
        sq_vec_desc_t v = {.func = SQ_VEC_DEQ, .flags = SQ_VEC_ACC, .m = mo, .n = nn,
                           .in = p->acc + 4ull * n0, .in_stride = 4u * p->cls.n,
                           .out = p->logits + 4ull * n0, .out_stride = 4u * p->vocab,
                           .chan = p->cls.chan + sizeof(sq_quant_t) * n0, .rec_in = p->rec_a,
                           .p = {(uint32_t)(p->cls.fi - p->f_log)}};
        if (!rc && nn)
            rc = vec(p, -1, "logits", &v);
    }
    sq_vec_desc_t am = {.func = SQ_VEC_ARGMAX, .m = mo, .n = (uint32_t)p->vocab,
                        .in = p->logits, .in_stride = 4u * p->vocab, .out = p->argmax,
                        .out_stride = 4};
    if (!rc)
        rc = vec(p, -1, "argmax", &am);
    if (!rc)
        rc = sq_istream_finish(p->s);
    return rc;
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

/* The tables every layer shares: RoPE (Q14 cos/sin per position and pair)
 * and the int8 embedding with one {mult, shift} per row (its exact row
 * maximum: clipping an embedding row costs far more than its resolution). */
static int place_tables(sq_intlayer_t *p)
{
    const sq_llama_t *m = p->q->model;
    uint32_t hd = (uint32_t)p->hd;
    size_t rope_n = (size_t)p->seq * hd / 2 * 2;
    int16_t *rope = malloc(rope_n * sizeof *rope);
    int8_t *emb = malloc((size_t)p->vocab * p->dim);
    sq_quant_t *embq = malloc((size_t)p->vocab * sizeof *embq);
    int rc = rope && emb && embq ? 0 : oom();
    for (int t = 0; !rc && t < p->seq; t++)
        for (uint32_t i = 0; i < hd / 2; i++) {
            double freq = pow((double)m->cfg.rope_theta, -(double)(2 * i) / hd), a = t * freq;
            rope[((size_t)t * (hd / 2) + i) * 2] = (int16_t)lround(ldexp(cos(a), 14));
            rope[((size_t)t * (hd / 2) + i) * 2 + 1] = (int16_t)lround(ldexp(sin(a), 14));
        }
    for (int t = 0; !rc && t < p->vocab; t++) {
        const float *e = m->w.token_embedding + (size_t)t * p->dim;
        double s = sq_istream_scale(sq_istream_amax(e, (size_t)p->dim));
        for (int j = 0; j < p->dim; j++)
            emb[(size_t)t * p->dim + j] = (int8_t)lround(e[j] / s);
        if (sq_scale_to_fixed(ldexp(s, p->f_res), &embq[t].mult, &embq[t].shift))
            rc = sq_err(SQ_ERR_ARG, "integer layer: embedding scale of row %d not representable", t);
    }
    if (!rc)
        rc = put(p, rope, rope_n * sizeof *rope, &p->rope);
    if (!rc)
        rc = put(p, emb, (size_t)p->vocab * p->dim, &p->emb);
    if (!rc)
        rc = put(p, embq, (size_t)p->vocab * sizeof *embq, &p->embq);
    free(rope);
    free(emb);
    free(embq);
    return rc;
}

/* Layer l's constants: fused weights with 1 / the int8 scales of Q, K and V
 * folded into their channels, gains, attention quant entries, the attention
 * output's constant record, the KV caches. The Q|K|V projection's columns go
 * by KV head: for each, the Q of its heads, its K, its V (write_stream
 * slices the projection by them). */
static int place_layer(sq_intlayer_t *p, const calib_t *cal, int l)
{
    const sq_llama_t *m = p->q->model;
    layer_t *L = &p->L[l];
    uint32_t hd = (uint32_t)p->hd, n_qkv = (uint32_t)(p->dim + 2 * p->kvd);
    const sq_qlinear_t *w13[2], *wo, *w2;
    sq_qlinear_t part[3 * SQ_ATTN_MAX_HEADS];
    const sq_qlinear_t *qkv[3 * SQ_ATTN_MAX_HEADS];
    uint32_t hpg = (uint32_t)(p->heads / p->kvh);
    for (int g = 0; g < p->kvh; g++)
        for (int i = 0; i < 3; i++) {
            /* rows [r0, r0 + n) of Q, K or V */
            const sq_qlinear_t *w = &sq_qmodel_layer(p->q, l, (sq_wkind_t)(SQ_W_Q + i))->f[0];
            size_t n = i ? hd : hpg * hd, r0 = (size_t)g * n;
            sq_qlinear_t *v = &part[3 * g + i];
            *v = *w;
            v->n = n;
            v->w = w->w + r0 * sq_w_row_bytes(w->flags, w->k);
            v->meta = w->meta ? w->meta + r0 * sq_meta_row_bytes(w->k) : NULL;
            v->scale = w->scale + r0 * sq_quant_groups(w->k, w->group);
            qkv[3 * g + i] = v;
        }
    w13[0] = &sq_qmodel_layer(p->q, l, SQ_W_1)->f[0];
    w13[1] = &sq_qmodel_layer(p->q, l, SQ_W_3)->f[0];
    wo = &sq_qmodel_layer(p->q, l, SQ_W_O)->f[0];
    w2 = &sq_qmodel_layer(p->q, l, SQ_W_2)->f[0];
    double sq[SQ_ATTN_MAX_HEADS], sk[SQ_ATTN_MAX_HEADS], sv[SQ_ATTN_MAX_HEADS];
    for (int h = 0; h < p->heads; h++)
        sq[h] = sq_istream_scale(cal->q[(size_t)l * p->heads + h]);
    for (int g = 0; g < p->kvh; g++) {
        sk[g] = sq_istream_scale(cal->k[(size_t)l * p->kvh + g]);
        sv[g] = sq_istream_scale(cal->v[(size_t)l * p->kvh + g]);
    }
    double so = sq_istream_scale(cal->o[l]);
    double *f = malloc(n_qkv * sizeof *f);
    sq_attn_quant_t *aq = malloc((size_t)p->heads * sizeof *aq);
    sq_vec_rec_t *rec_o = malloc((size_t)p->rows * sizeof *rec_o);
    int rc = f && aq && rec_o ? 0 : oom();
    for (uint32_t j = 0, gw = (hpg + 2) * hd; !rc && j < n_qkv; j++) {
        uint32_t g = j / gw, c = j % gw;
        f[j] = 1.0 / (c < hpg * hd ? sq[g * hpg + c / hd] : c < (hpg + 1) * hd ? sk[g] : sv[g]);
    }
    for (int h = 0; !rc && h < p->heads; h++) {
        int g = h / (p->heads / p->kvh);
        if (sq_attn_quant_make(sq[h], sk[g], sv[g], so, hd, &aq[h]))
            rc = sq_err(SQ_ERR_ARG, "integer layer: attention scales of layer %d head %d "
                        "not representable", l, h);
    }
    sq_quant_t fo;
    if (!rc && sq_scale_to_fixed(so, &fo.mult, &fo.shift))
        rc = sq_err(SQ_ERR_ARG, "integer layer: attention output scale not representable");
    for (int r = 0; !rc && r < p->rows; r++)
        rec_o[r] = (sq_vec_rec_t){fo.mult, (int32_t)fo.shift};
    if (!rc)
        rc = sq_ilin_place(p->dev, qkv, 3 * p->kvh, f, &L->qkv);
    if (!rc)
        rc = sq_ilin_place(p->dev, &wo, 1, NULL, &L->o);
    if (!rc)
        rc = sq_ilin_place(p->dev, w13, 2, NULL, &L->w13);
    if (!rc)
        rc = sq_ilin_place(p->dev, &w2, 1, NULL, &L->w2);
    if (!rc)
        rc = place_gains(p, m->w.rms_att + (size_t)l * p->dim, &L->g_att, &L->fg_att);
    if (!rc)
        rc = place_gains(p, m->w.rms_ffn + (size_t)l * p->dim, &L->g_ffn, &L->fg_ffn);
    if (!rc)
        rc = put(p, aq, (size_t)p->heads * sizeof *aq, &L->aq);
    if (!rc)
        rc = put(p, rec_o, (size_t)p->rows * sizeof *rec_o, &L->rec_o);
    if (!rc)
        rc = put(p, NULL, cache_bytes(p) * (uint64_t)p->seqs, &L->kc);
    if (!rc)
        rc = put(p, NULL, cache_bytes(p) * (uint64_t)p->seqs, &L->vc);
    free(f);
    free(aq);
    free(rec_o);
    return rc;
}

/* Activations for `rows` rows, shared by every layer and stream. */
static int place_activations(sq_intlayer_t *p)
{
    size_t r = (size_t)p->rows, n_qkv = (size_t)(p->dim + 2 * p->kvd);
    size_t acc_n = n_qkv > 2u * (size_t)p->hidden ? n_qkv : 2u * (size_t)p->hidden;
    acc_n = acc_n > (size_t)p->vocab ? acc_n : (size_t)p->vocab;
    size_t a8_n = p->dim > p->hidden ? (size_t)p->dim : (size_t)p->hidden;
    size_t qo = (size_t)p->heads * p->hd;
    int rc = put(p, NULL, 4 * r, &p->tok);
    for (int i = 0; !rc && i < 2; i++)
        rc = put(p, NULL, 4u * r * p->dim, &p->x[i]);
    if (!rc)
        rc = put(p, NULL, r * a8_n, &p->a8);
    if (!rc)
        rc = put(p, NULL, r * SQ_VEC_REC_BYTES, &p->rec_a);
    if (!rc)
        rc = put(p, NULL, r * SQ_VEC_REC_BYTES, &p->rec_b);
    if (!rc)
        rc = put(p, NULL, 4 * r * acc_n, &p->acc);
    if (!rc)
        rc = put(p, NULL, r * qo, &p->q8);
    if (!rc)
        rc = put(p, NULL, r * qo, &p->o8);
    if (!rc)
        rc = put(p, NULL, r * qo, &p->oc);
    if (!rc)
        rc = put(p, NULL, 4u * (size_t)p->seqs * p->vocab, &p->logits);
    if (!rc)
        rc = put(p, NULL, 4u * (size_t)p->seqs, &p->argmax);
    return rc;
}

static int build(sq_intlayer_t *p, const sq_intlayer_opts_t *o)
{
    const sq_llama_t *m = p->q->model;
    calib_t cal;
    int rc = o->timing_only ? unit_ranges(&cal, p->q)
                            : calibrate(&cal, p->q, o->enc, o->calib_text, &p->calib_tokens);
    if (rc) {
        calib_free(&cal);
        return rc;
    }
    p->res_max = cal.res;
    p->ffn_max = cal.ffn;
    p->log_max = cal.logits;
    p->f_res = sq_istream_frac_bits(cal.res, 30);
    p->f_ffn = sq_istream_frac_bits(cal.ffn, (int)SQ_VEC_FRAC_MAX);
    p->f_log = sq_istream_frac_bits(cal.logits, 30);
    double e = ldexp((double)m->cfg.norm_eps * p->dim, 2 * p->f_res);
    if (!(e < ldexp(1.0, 61)))
        rc = sq_err(SQ_ERR_ARG, "integer layer: norm epsilon out of the unit's range");
    p->eps = rc ? 0 : (uint64_t)llround(e);
    p->L = calloc((size_t)p->layers, sizeof *p->L);
    if (!rc && !p->L)
        rc = oom();
    if (!rc)
        rc = place_tables(p);
    for (int l = 0; !rc && l < p->layers; l++)
        rc = place_layer(p, &cal, l);
    const sq_qlinear_t *cls = &sq_qmodel_layer(p->q, 0, SQ_W_CLS)->f[0];
    if (!rc)
        rc = place_gains(p, m->w.rms_final, &p->g_fin, &p->fg_fin);
    if (!rc)
        rc = sq_ilin_place(p->dev, &cls, 1, NULL, &p->cls);
    calib_free(&cal);
    if (!rc)
        rc = place_activations(p);
    const sq_attn_exec_t *ae = o->ae;
    p->aflags = SQ_ATTN_CAUSAL | (ae ? ae->flags : 0);
    p->window = ae ? ae->window : 0;
    p->n_global = ae ? ae->n_global : 0;
    p->topk = ae ? ae->topk : 0;
    if (!rc && (p->aflags & SQ_ATTN_BLOCK))
        rc = put(p, ae->mask, (size_t)sq_attn_blocks((uint32_t)p->seq) * SQ_ATTN_MASK_ROW_BYTES,
                 &p->mask);
    sq_istream_reset(&p->dec, p->dev);
    sq_istream_reset(&p->pre, p->dev);
    p->s = &p->dec;
    if (!rc)
        rc = write_stream(p, 0, (uint32_t)p->seqs, 0);
    if (!rc && !(p->lbuf = malloc((size_t)p->seqs * p->vocab * sizeof *p->lbuf)))
        rc = oom();
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
    int seqs = opts->seqs > 0 ? opts->seqs : 1, rows = opts->rows > 0 ? opts->rows : 1;
    rows = rows > seqs ? rows : seqs;
    if (c->seq_len > (int)SQ_ATTN_MAX_SEQ || hd > (int)SQ_ATTN_MAX_DIM ||
        c->n_heads > (int)SQ_ATTN_MAX_HEADS || c->vocab_size > (int)SQ_VEC_MAX_N ||
        c->hidden_dim > (int)SQ_VEC_MAX_N)
        return sq_err(SQ_ERR_ARG, "integer layer: the model exceeds the units' limits");
    if (rows > c->seq_len || rows > (int)SQ_VEC_MAX_M)
        return sq_err(SQ_ERR_ARG, "integer layer: %d rows (prompt tokens or sequences) exceed "
                      "the context of %d", rows, c->seq_len);
    sq_intlayer_t *p = calloc(1, sizeof *p);
    if (!p)
        return oom();
    *p = (sq_intlayer_t){.q = q, .dev = dev, .rep = rep, .dim = c->dim, .hidden = c->hidden_dim,
                         .hd = hd, .heads = c->n_heads, .kvh = c->n_kv_heads,
                         .kvd = hd * c->n_kv_heads, .vocab = c->vocab_size, .seq = c->seq_len,
                         .layers = c->n_layers, .rows = rows, .seqs = seqs};
    if (rep)
        rep->sequences = (uint64_t)seqs;
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
    sq_istream_free(&p->dec);
    sq_istream_free(&p->pre);
    free(p->L);
    free(p->lbuf);
    free(p);
}

/* Reads back what a run left: rows of logits (as floats) and argmax. */
static int read_out(sq_intlayer_t *p, int rows, float *logits, int *argmax)
{
    int rc = 0;
    size_t nl = (size_t)rows * p->vocab;
    if (logits) {
        rc = sq_dev_read(p->dev, p->logits, p->lbuf, nl * sizeof *p->lbuf);
        for (size_t i = 0; !rc && i < nl; i++)
            logits[i] = (float)ldexp((double)p->lbuf[i], -p->f_log);
    }
    if (!rc && argmax) {
        rc = sq_dev_read(p->dev, p->argmax, p->lbuf, (size_t)rows * 4);
        for (int b = 0; !rc && b < rows; b++)
            argmax[b] = p->lbuf[b];
    }
    return rc;
}

/* The token ids of a run, written to the device in one transfer. */
static int write_tokens(sq_intlayer_t *p, const int *tokens, int n)
{
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= p->vocab)
            return sq_err(SQ_ERR_ARG, "integer layer: token %d out of range", tokens[i]);
    uint8_t *ids = malloc((size_t)n * 4);
    if (!ids)
        return oom();
    for (int i = 0; i < n; i++)
        sq_st32(ids + 4 * i, (uint32_t)tokens[i]);
    int rc = sq_dev_write(p->dev, p->tok, ids, (size_t)n * 4);
    free(ids);
    return rc;
}

/* A run's CPU time (simulation, transfers through the level, the report's
 * bookkeeping) is kept apart from the host's own work: the report models
 * the transfers and counts the device's cycles instead. */
static int decode(sq_intlayer_t *p, const int *tokens, const int *pos, float *logits,
                  int *argmax)
{
    uint32_t args[SQ_RUN_POS] = {0};
    for (int b = 0; b < p->seqs; b++) {
        if (pos[b] < 0 || pos[b] >= p->seq)
            return sq_err(SQ_ERR_ARG, "integer layer: position %d out of range", pos[b]);
        if (seq_arg(p, b) == 0 && pos[b] != pos[0])
            return sq_err(SQ_ERR_ARG, "integer layer: %d sequences at different positions need "
                          "one run argument each, and a run has %u (SQ_RUN_POS)", p->seqs,
                          SQ_RUN_POS);
        args[seq_arg(p, b)] = (uint32_t)pos[b];
    }
    int rc = write_tokens(p, tokens, p->seqs);
    if (!rc)
        rc = sq_istream_run(&p->dec, args, p->rep);
    if (!rc)
        rc = read_out(p, p->seqs, logits, argmax);
    if (!rc && p->rep)
        p->rep->tokens += (uint64_t)p->seqs;
    return rc;
}

int sq_intlayer_decode(sq_intlayer_t *p, const int *tokens, const int *pos, float *logits,
                       int *argmax)
{
    double t0 = sq_report_cpu_s();
    int rc = decode(p, tokens, pos, logits, argmax);
    sq_report_dev_time(p->rep, sq_report_cpu_s() - t0);
    return rc;
}

int sq_intlayer_step(sq_intlayer_t *p, int token, int pos, float *logits, int *argmax)
{
    if (p->seqs != 1)
        return sq_err(SQ_ERR_ARG, "integer layer: a single step needs a program of one "
                      "sequence (this one decodes %d)", p->seqs);
    return sq_intlayer_decode(p, &token, &pos, logits, argmax);
}

static int prefill(sq_intlayer_t *p, int seq, const int *tokens, int n, int pos, float *logits,
                   int *argmax)
{
    if (n < 1 || n > p->rows || pos < 0 || pos + n > p->seq || seq < 0 || seq >= p->seqs)
        return sq_err(SQ_ERR_ARG, "integer layer: a prompt of %d tokens at position %d of "
                      "sequence %d (at most %d tokens, %d positions, %d sequences)", n, pos, seq,
                      p->rows, p->seq, p->seqs);
    int rc = 0;
    if (p->pre_m != n || p->pre_seq != seq) {
        p->s = &p->pre;
        sq_istream_reset(&p->pre, p->dev);
        rc = write_stream(p, 1, (uint32_t)n, seq);
        p->pre_m = rc ? 0 : n;
        p->pre_seq = seq;
    }
    uint32_t args[SQ_RUN_POS] = {(uint32_t)pos};
    if (!rc)
        rc = write_tokens(p, tokens, n);
    if (!rc)
        rc = sq_istream_run(&p->pre, args, p->rep);
    if (!rc)
        rc = read_out(p, 1, logits, argmax);
    if (!rc && p->rep)
        p->rep->tokens += (uint64_t)n;
    return rc;
}

int sq_intlayer_prefill(sq_intlayer_t *p, int seq, const int *tokens, int n, int pos,
                        float *logits, int *argmax)
{
    double t0 = sq_report_cpu_s();
    int rc = prefill(p, seq, tokens, n, pos, logits, argmax);
    sq_report_dev_time(p->rep, sq_report_cpu_s() - t0);
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
    *n_cmds = p->dec.n;
    *cmd_addr = p->dec.addr;
    return p->dec.cmds;
}

const uint8_t *sq_intlayer_prefill_stream(const sq_intlayer_t *p, uint32_t *n_cmds)
{
    *n_cmds = p->pre_m ? p->pre.n : 0;
    return p->pre_m ? p->pre.cmds : NULL;
}

void sq_intlayer_info(const sq_intlayer_t *p, sq_intlayer_info_t *info)
{
    *info = (sq_intlayer_info_t){.f_res = p->f_res, .f_ffn = p->f_ffn, .f_logits = p->f_log,
                                 .res_max = p->res_max, .ffn_max = p->ffn_max,
                                 .logits_max = p->log_max, .calib_tokens = p->calib_tokens};
}
