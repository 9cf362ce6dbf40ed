#include "compress/quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compress/linalg.h"
#include "sparq/numerics.h"
#include "util/err.h"

/* Columns per SparseGPT mask decision for unstructured sparsity. */
#define SPARSE_BLOCK 64
/* GPTQ's dampening: a fraction of the mean diagonal added to H. 0.1, not the
 * reference's 0.01: with the 1k-token calibration half of the sample it gave
 * lower perplexity on 8k held-out teacher-sampled tokens for w4, w4g32 and
 * w4g128 on stories260K (docs/compression.md). */
#define DAMP 0.1

size_t sq_quant_groups(size_t k, size_t group)
{
    return (k + group - 1) / group;
}

static int qmax_of(int bits)
{
    return bits == 8 ? 127 : 7;
}

static int qmin_of(int bits)
{
    return bits == 8 ? -127 : -8;
}

static float scale_of(float amax, int bits)
{
    return amax > 0.0f ? amax / (float)qmax_of(bits) : 1.0f;
}

static int8_t quant_one(float w, float s, int bits)
{
    float r = roundf(w / s);
    float hi = (float)qmax_of(bits), lo = (float)qmin_of(bits);
    return (int8_t)(r > hi ? hi : r < lo ? lo : r);
}

static float clip_scale(const double *row, size_t t0, size_t t1, const double *h, size_t k,
                        int bits);

static int rtn(const float *w, size_t n, size_t k, const sq_quant_opts_t *o, int8_t *q,
               float *scale)
{
    size_t ng = sq_quant_groups(k, o->group);
    double *drow = o->clip_h ? malloc(k * sizeof *drow) : NULL;
    if (o->clip_h && !drow)
        return sq_err(SQ_ERR_MEM, "quantize: out of memory");
    for (size_t i = 0; i < n; i++) {
        const float *row = w + i * k;
        if (o->bits == 8 && o->group >= k && !o->clip_h) {
            scale[i * ng] = sq_quant_i8(row, k, q + i * k);
            continue;
        }
        for (size_t t = 0; drow && t < k; t++)
            drow[t] = row[t];
        for (size_t g = 0; g < ng; g++) {
            size_t t0 = g * o->group, t1 = t0 + o->group < k ? t0 + o->group : k;
            float amax = 0.0f, s;
            if (drow) {
                s = clip_scale(drow, t0, t1, o->clip_h, k, o->bits);
            } else {
                for (size_t t = t0; t < t1; t++)
                    amax = fmaxf(amax, fabsf(row[t]));
                s = scale_of(amax, o->bits);
            }
            scale[i * ng + g] = s;
            for (size_t t = t0; t < t1; t++)
                q[i * k + t] = quant_one(row[t], s, o->bits);
        }
    }
    free(drow);
    return 0;
}

/* U with H^-1 = U^T.U (upper triangular) for the dampened Hessian; zero
 * diagonal entries (inputs never active) become 1 so H stays definite. */
static int hinv_upper(const double *h, size_t k, double *u)
{
    double *hd = malloc(k * k * sizeof *hd);
    double *inv = malloc(k * k * sizeof *inv);
    if (!hd || !inv) {
        free(hd);
        free(inv);
        return sq_err(SQ_ERR_MEM, "gptq: out of memory for a %zu-input Hessian", k);
    }
    double mean = 0;
    for (size_t i = 0; i < k; i++)
        mean += h[i * k + i];
    mean /= (double)k;
    if (!(mean > 0))
        mean = 1;
    int rc = -1;
    for (double damp = DAMP; damp < 1e3 && rc; damp *= 10) {
        memcpy(hd, h, k * k * sizeof *hd);
        for (size_t i = 0; i < k; i++) {
            if (hd[i * k + i] == 0)
                hd[i * k + i] = 1;
            hd[i * k + i] += damp * mean;
        }
        rc = sq_spd_inverse(hd, k, inv);
        if (!rc)
            rc = sq_chol_factor(inv, k);
    }
    if (!rc)
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < k; j++)
                u[i * k + j] = j >= i ? inv[j * k + i] : 0;
    free(hd);
    free(inv);
    return rc ? sq_err(SQ_ERR_ARG, "gptq: the calibration Hessian is not positive definite") : 0;
}

/* Scale of the inputs [t0, t1) of a row: max|w| / qmax shrunk by the factor
 * in CLIP_STEPS steps down to CLIP_MIN that minimises the rounding error
 * weighted by the Hessian's diagonal (how strongly each input fires). */
#define CLIP_STEPS 20
#define CLIP_MIN 0.6
static float clip_scale(const double *row, size_t t0, size_t t1, const double *h, size_t k,
                        int bits)
{
    float amax = 0.0f;
    for (size_t c = t0; c < t1; c++)
        amax = fmaxf(amax, (float)fabs(row[c]));
    float best = scale_of(amax, bits);
    if (!(amax > 0))
        return best;
    double best_err = INFINITY;
    for (int step = 0; step <= CLIP_STEPS; step++) {
        float f = (float)(1.0 - (1.0 - CLIP_MIN) * step / CLIP_STEPS);
        float s = scale_of(amax * f, bits);
        double err = 0;
        for (size_t c = t0; c < t1; c++) {
            double d = row[c] - (double)quant_one((float)row[c], s, bits) * s;
            err += d * d * h[c * k + c];
        }
        if (err < best_err) {
            best_err = err;
            best = s;
        }
    }
    return best;
}

typedef struct {
    double m;
    size_t i;
} metric_t;

static int metric_asc(const void *a, const void *b)
{
    const metric_t *x = a, *y = b;
    return x->m < y->m ? -1 : x->m > y->m ? 1 : (x->i > y->i) - (x->i < y->i);
}

/* SparseGPT mask for the columns [c0, c1): drops the lowest w^2/d^2. */
static int choose_mask(const double *w, const double *u, size_t n, size_t k, size_t c0, size_t c1,
                       const sq_quant_opts_t *o, uint8_t *mask)
{
    size_t width = c1 - c0;
    if (o->sp24) {
        for (size_t i = 0; i < n; i++) {
            metric_t m[4];
            for (size_t t = 0; t < width; t++) {
                double d = u[(c0 + t) * k + c0 + t], v = w[i * k + c0 + t];
                m[t] = (metric_t){v * v / (d * d), t};
            }
            qsort(m, width, sizeof *m, metric_asc);
            for (size_t t = 0; t + 2 < width; t++)
                mask[i * k + c0 + m[t].i] = 1;
        }
        return 0;
    }
    size_t cnt = n * width, drop = (size_t)floor(o->sparsity * (double)cnt);
    metric_t *m = malloc(cnt * sizeof *m);
    if (!m)
        return sq_err(SQ_ERR_MEM, "sparsegpt: out of memory");
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < width; t++) {
            double d = u[(c0 + t) * k + c0 + t], v = w[i * k + c0 + t];
            m[i * width + t] = (metric_t){v * v / (d * d), i * k + c0 + t};
        }
    qsort(m, cnt, sizeof *m, metric_asc);
    for (size_t j = 0; j < drop; j++)
        mask[m[j].i] = 1;
    free(m);
    return 0;
}

typedef struct {
    double d;
    size_t i;
} diag_t;

static int diag_desc(const void *a, const void *b)
{
    const diag_t *x = a, *y = b;
    return x->d > y->d ? -1 : x->d < y->d ? 1 : (x->i > y->i) - (x->i < y->i);
}

static int gptq(const float *w0, size_t n, size_t k, const sq_quant_opts_t *o, int8_t *q,
                float *scale)
{
    size_t ng = sq_quant_groups(k, o->group);
    /* Act order (the most active inputs first) needs the group scales fixed
     * up front; masks need groups of 4 in the original order. */
    int actorder = !o->sp24 && o->sparsity == 0;
    double *w = malloc(n * k * sizeof *w);
    double *hp = malloc(k * k * sizeof *hp);
    double *u = malloc(k * k * sizeof *u);
    uint8_t *mask = calloc(n * k, 1);
    diag_t *perm = malloc(k * sizeof *perm);
    if (!w || !hp || !u || !mask || !perm) {
        free(w);
        free(hp);
        free(u);
        free(mask);
        free(perm);
        return sq_err(SQ_ERR_MEM, "gptq: out of memory for a %zux%zu layer", n, k);
    }
    for (size_t t = 0; t < k; t++)
        perm[t] = (diag_t){o->h[t * k + t], t};
    if (actorder)
        qsort(perm, k, sizeof *perm, diag_desc);
    for (size_t a = 0; a < k; a++)
        for (size_t b = 0; b < k; b++)
            hp[a * k + b] = o->h[perm[a].i * k + perm[b].i];
    /* An input that never fired carries no information: its weights go. */
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < k; t++)
            w[i * k + t] = perm[t].d == 0 ? 0 : w0[i * k + perm[t].i];
    int rc = hinv_upper(hp, k, u);
    if (actorder && !rc) {
        double *row = malloc(k * sizeof *row);
        if (!row)
            rc = sq_err(SQ_ERR_MEM, "gptq: out of memory");
        for (size_t i = 0; i < n && !rc; i++) {
            for (size_t t = 0; t < k; t++)
                row[t] = o->h[t * k + t] == 0 ? 0 : w0[i * k + t];
            for (size_t g = 0; g < ng; g++)
                scale[i * ng + g] = clip_scale(row, g * o->group,
                                               (g + 1) * o->group < k ? (g + 1) * o->group : k,
                                               o->h, k, o->bits);
        }
        free(row);
    }
    for (size_t t = 0; t < k && !rc; t++) {
        if (!actorder && t % o->group == 0) {
            size_t t1 = t + o->group < k ? t + o->group : k;
            for (size_t i = 0; i < n; i++)
                scale[i * ng + t / o->group] = clip_scale(w + i * k, t, t1, hp, k, o->bits);
        }
        if (o->sp24 && t % 4 == 0)
            rc = choose_mask(w, u, n, k, t, t + 4 < k ? t + 4 : k, o, mask);
        else if (o->sparsity > 0 && t % SPARSE_BLOCK == 0)
            rc = choose_mask(w, u, n, k, t, t + SPARSE_BLOCK < k ? t + SPARSE_BLOCK : k, o, mask);
        double d = u[t * k + t];
        size_t col = perm[t].i, gi = col / o->group;
        for (size_t i = 0; i < n && !rc; i++) {
            float s = scale[i * ng + gi];
            double wv = w[i * k + t];
            int8_t qv = mask[i * k + t] ? 0 : quant_one((float)wv, s, o->bits);
            q[i * k + col] = qv;
            double err = (wv - (double)qv * s) / d;
            const double *ur = u + t * k;
            double *wr = w + i * k;
            for (size_t c = t + 1; c < k; c++)
                wr[c] -= err * ur[c];
        }
    }
    free(w);
    free(hp);
    free(u);
    free(mask);
    free(perm);
    return rc;
}

int sq_quant_weights(const float *w, size_t n, size_t k, const sq_quant_opts_t *o, int8_t *q,
                     float *scale)
{
    if ((o->bits != 8 && o->bits != 4) || o->group == 0 || k == 0)
        return sq_err(SQ_ERR_ARG, "quantize: bits %d group %zu k %zu not supported", o->bits,
                      o->group, k);
    if (!o->h)
        return rtn(w, n, k, o, q, scale);
    return gptq(w, n, k, o, q, scale);
}
