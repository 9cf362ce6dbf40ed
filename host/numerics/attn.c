/* Golden attention: whole-call reference, top-k selection, quant constants
 * and the fp32 yardstick. The rules are in include/sparq/attn.h. */
#include "sparq/attn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int sq_attn_check_shape(const sq_attn_t *a)
{
    if (a->flags & ~SQ_ATTN_FLAGS_ALL)
        return -1;
    if (a->seq < 1 || a->seq > SQ_ATTN_MAX_SEQ || a->queries < 1 || a->queries > a->seq ||
        a->kv_cap < a->seq || a->kv_cap > SQ_ATTN_MAX_SEQ)
        return -1;
    if (a->head_dim < 1 || a->head_dim > SQ_ATTN_MAX_DIM)
        return -1;
    if (a->kv_heads < 1 || a->heads < a->kv_heads || a->heads > SQ_ATTN_MAX_HEADS ||
        a->heads % a->kv_heads)
        return -1;
    if (((a->flags & SQ_ATTN_WINDOW) && a->window < 1) || ((a->flags & SQ_ATTN_TOPK) && a->topk < 1))
        return -1;
    return 0;
}

int sq_attn_check(const sq_attn_t *a)
{
    if (sq_attn_check_shape(a) != 0 || !a->quant)
        return -1;
    for (uint32_t h = 0; h < a->heads; h++) {
        const sq_attn_quant_t *q = &a->quant[h];
        if (q->s_mult < 1 || q->s_shift > SQ_SHIFT_MAX || q->o_mult < 1 ||
            q->o_shift > SQ_SHIFT_MAX)
            return -1;
    }
    return 0;
}

void sq_attn_row(const sq_attn_t *a, uint32_t h, uint32_t i, sq_attn_row_t *r)
{
    uint32_t L = a->seq, D = a->head_dim, p = a->seq - a->queries + i;
    uint32_t g = h / (a->heads / a->kv_heads);
    const int8_t *q = a->q + ((size_t)h * a->queries + i) * D;
    const int8_t *kbase = a->k + (size_t)g * a->kv_cap * D;
    const sq_attn_quant_t qt = a->quant[h];

    r->n_cand = 0;
    for (uint32_t j = 0; j < L; j++) {
        int bbit = (a->flags & SQ_ATTN_BLOCK)
                       ? sq_attn_mask_bit(a->mask, p >> SQ_ATTN_BLK_LOG2, j >> SQ_ATTN_BLK_LOG2)
                       : 0;
        r->cand[j] = (uint8_t)sq_attn_cand(a->flags, a->window, a->n_global, p, j, bbit);
        if (!r->cand[j])
            continue;
        int32_t acc = 0;
        for (uint32_t d = 0; d < D; d++)
            acc = sq_mac(acc, q[d], kbase[(size_t)j * D + d]);
        r->s[j] = acc;
        r->n_cand++;
    }
    r->n_sel = r->n_cand;
    if ((a->flags & SQ_ATTN_TOPK) && r->n_cand)
        r->n_sel = sq_attn_topk_select(r->s, r->cand, L, a->topk, r->sel);
    else
        memcpy(r->sel, r->cand, L);
    r->sum = 0;
    if (!r->n_sel)
        return;
    int32_t m = INT32_MIN;
    for (uint32_t j = 0; j < L; j++)
        if (r->sel[j] && r->s[j] > m)
            m = r->s[j];
    for (uint32_t j = 0; j < L; j++) {
        r->e[j] = r->sel[j] ? sq_attn_exp(sq_attn_u(r->s[j] - m, qt.s_mult, qt.s_shift)) : 0;
        r->sum += r->e[j];
    }
}

/* Scratch for one query row. */
typedef struct {
    sq_attn_row_t w;
    int32_t acc[SQ_ATTN_MAX_DIM];
} row_t;

static void ref_row(const sq_attn_t *a, uint32_t h, uint32_t i, row_t *r, sq_attn_work_t *work)
{
    uint32_t L = a->seq, D = a->head_dim;
    uint32_t g = h / (a->heads / a->kv_heads);
    const int8_t *vbase = a->v + (size_t)g * a->kv_cap * D;
    const sq_attn_quant_t qt = a->quant[h];
    int8_t *o = a->o + ((size_t)h * a->queries + i) * D;

    sq_attn_row(a, h, i, &r->w);
    if (work) {
        work->scored += r->w.n_cand;
        work->selected += r->w.n_sel;
    }
    memset(r->acc, 0, sizeof r->acc);
    if (r->w.n_sel) {
        uint32_t recip = sq_attn_recip(r->w.sum);
        for (uint32_t j = 0; j < L; j++) {
            if (!r->w.sel[j])
                continue;
            uint32_t pj = sq_attn_prob(r->w.e[j], recip);
            for (uint32_t d = 0; d < D; d++)
                r->acc[d] = sq_attn_pv_mac(r->acc[d], pj, vbase[(size_t)j * D + d]);
        }
    }
    for (uint32_t d = 0; d < D; d++)
        o[d] = sq_requant(r->acc[d], qt.o_mult, qt.o_shift);
}

int sq_attn_ref(const sq_attn_t *a, sq_attn_work_t *work)
{
    if (sq_attn_check(a) != 0)
        return -1;
    row_t *r = malloc(sizeof *r);
    if (!r)
        return -1;
    for (uint32_t h = 0; h < a->heads; h++)
        for (uint32_t i = 0; i < a->queries; i++)
            ref_row(a, h, i, r, work);
    free(r);
    return 0;
}

void sq_attn_pattern_work(const sq_attn_t *a, sq_attn_work_t *work)
{
    uint64_t scored = 0, selected = 0;
    for (uint32_t i = 0; i < a->queries; i++) {
        uint32_t p = a->seq - a->queries + i, n = 0;
        for (uint32_t kb = 0; kb < sq_attn_blocks(a->seq); kb++) {
            int bbit = (a->flags & SQ_ATTN_BLOCK)
                           ? sq_attn_mask_bit(a->mask, p >> SQ_ATTN_BLK_LOG2, kb)
                           : 0;
            uint32_t lo, hi;
            sq_attn_block_range(a->flags, a->window, a->n_global, a->seq, p, kb, bbit, &lo, &hi);
            for (uint32_t j = lo; j < hi; j++)
                n += (uint32_t)sq_attn_cand(a->flags, a->window, a->n_global, p, j, bbit);
        }
        scored += n;
        selected += (a->flags & SQ_ATTN_TOPK) && a->topk < n ? a->topk : n;
    }
    work->scored += scored * a->heads;
    work->selected += selected * a->heads;
}

int sq_attn_quant_make(double scale_q, double scale_k, double scale_v, double scale_o,
                       uint32_t head_dim, sq_attn_quant_t *out)
{
    if (head_dim < 1 || !(scale_o > 0))
        return -1;
    double s = scale_q * scale_k / sqrt((double)head_dim) * (1.0 / log(2.0)) *
               (double)(1u << SQ_ATTN_EXP_FRAC);
    double o = scale_v / scale_o / (double)SQ_ATTN_EXP_ONE;
    if (sq_scale_to_fixed(s, &out->s_mult, &out->s_shift) != 0 ||
        sq_scale_to_fixed(o, &out->o_mult, &out->o_shift) != 0)
        return -1;
    return 0;
}

typedef struct {
    float s;
    uint32_t j;
} fscore_t;

/* Descending score, then ascending index (rule 2's tie order). */
static int fscore_cmp(const void *x, const void *y)
{
    const fscore_t *a = x, *b = y;
    if (a->s != b->s)
        return a->s > b->s ? -1 : 1;
    return a->j < b->j ? -1 : a->j > b->j;
}

int sq_attn_f32(const sq_attn_t *a, const float *q, const float *k, const float *v, float *o)
{
    if (sq_attn_check_shape(a) != 0)
        return -1;
    uint32_t L = a->seq, D = a->head_dim;
    fscore_t *sc = malloc(L * sizeof *sc);
    double *acc = malloc(D * sizeof *acc);
    if (!sc || !acc) {
        free(sc);
        free(acc);
        return -1;
    }
    float inv = 1.0f / sqrtf((float)D);
    for (uint32_t h = 0; h < a->heads; h++) {
        uint32_t g = h / (a->heads / a->kv_heads);
        for (uint32_t i = 0; i < a->queries; i++) {
            uint32_t p = L - a->queries + i, n = 0;
            const float *qr = q + ((size_t)h * a->queries + i) * D;
            for (uint32_t j = 0; j < L; j++) {
                int bbit = (a->flags & SQ_ATTN_BLOCK)
                               ? sq_attn_mask_bit(a->mask, p >> SQ_ATTN_BLK_LOG2,
                                                  j >> SQ_ATTN_BLK_LOG2)
                               : 0;
                if (!sq_attn_cand(a->flags, a->window, a->n_global, p, j, bbit))
                    continue;
                const float *kr = k + ((size_t)g * a->kv_cap + j) * D;
                float dot = 0.0f;
                for (uint32_t d = 0; d < D; d++)
                    dot += qr[d] * kr[d];
                sc[n++] = (fscore_t){dot * inv, j};
            }
            if ((a->flags & SQ_ATTN_TOPK) && a->topk < n) {
                qsort(sc, n, sizeof *sc, fscore_cmp);
                n = a->topk;
            }
            float m = -INFINITY;
            for (uint32_t t = 0; t < n; t++)
                m = sc[t].s > m ? sc[t].s : m;
            double sum = 0.0;
            for (uint32_t d = 0; d < D; d++)
                acc[d] = 0.0;
            for (uint32_t t = 0; t < n; t++) {
                double w = exp((double)sc[t].s - m);
                sum += w;
                const float *vr = v + ((size_t)g * a->kv_cap + sc[t].j) * D;
                for (uint32_t d = 0; d < D; d++)
                    acc[d] += w * vr[d];
            }
            float *orow = o + ((size_t)h * a->queries + i) * D;
            for (uint32_t d = 0; d < D; d++)
                orow[d] = n ? (float)(acc[d] / sum) : 0.0f;
        }
    }
    free(sc);
    free(acc);
    return 0;
}
