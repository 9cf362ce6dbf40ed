#include "compress/awq.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compress/quant.h"
#include "compress/transform.h"
#include "util/err.h"

#define AWQ_GRID 20
/* Multiply-adds of d^T H d per reader above which rows are sampled. */
#define AWQ_BUDGET ((size_t)1 << 24)
#define AWQ_MIN_ROWS 32
/* Floor of a statistic relative to its largest channel (never-active inputs). */
#define STAT_FLOOR 1e-5

/* The linears that read the input owned by `kind`. */
static int readers_of(sq_wkind_t kind, sq_wkind_t *out)
{
    switch (kind) {
    case SQ_W_Q:
        out[0] = SQ_W_Q;
        out[1] = SQ_W_K;
        out[2] = SQ_W_V;
        return 3;
    case SQ_W_1:
        out[0] = SQ_W_1;
        out[1] = SQ_W_3;
        return 2;
    default:
        out[0] = kind;
        return 1;
    }
}

static const sq_wkind_t INPUTS[] = {SQ_W_Q, SQ_W_O, SQ_W_1, SQ_W_2, SQ_W_CLS};

typedef struct {
    const float *w;
    size_t n, k, step; /* rows 0, step, 2 step, ... */
} reader_t;

/* sum over the sampled rows of d^T H d for scales s; scratch: 3 k doubles
 * and k floats, k int8. */
static double loss(const reader_t *rd, int nr, const double *h, const double *s,
                   const sq_recipe_t *r, float *row, int8_t *q, double *d)
{
    size_t k = rd[0].k, group = r->group && r->group < k ? r->group : k;
    size_t ng = sq_quant_groups(k, group);
    float *scale = malloc(ng * sizeof *scale);
    if (!scale)
        return INFINITY;
    sq_quant_opts_t o = {.bits = r->wbits, .group = group};
    double total = 0;
    for (int t = 0; t < nr; t++)
        for (size_t i = 0; i < rd[t].n; i += rd[t].step) {
            const float *w = rd[t].w + i * k;
            for (size_t j = 0; j < k; j++)
                row[j] = (float)(w[j] * s[j]);
            sq_quant_weights(row, 1, k, &o, q, scale);
            for (size_t j = 0; j < k; j++)
                d[j] = (double)q[j] * scale[j / group] / s[j] - w[j];
            for (size_t a = 0; a < k; a++) {
                if (d[a] == 0)
                    continue;
                const double *ha = h + a * k;
                double v = 0;
                for (size_t b = 0; b < k; b++)
                    v += ha[b] * d[b];
                total += d[a] * v;
            }
        }
    free(scale);
    return total;
}

/* AWQ's search for one input; s receives the best scales. */
static int awq_input(const sq_llama_t *m, const sq_calib_t *cal, int l, sq_wkind_t kind,
                     const sq_recipe_t *r, double *s)
{
    sq_wkind_t kinds[3];
    int nr = readers_of(kind, kinds);
    reader_t rd[3];
    size_t k = 0;
    for (int t = 0; t < nr; t++) {
        size_t n;
        sq_llama_wshape(&m->cfg, kinds[t], &n, &k);
        size_t want = AWQ_BUDGET / (k * k);
        want = want < AWQ_MIN_ROWS ? AWQ_MIN_ROWS : want;
        rd[t] = (reader_t){sq_llama_wptr(m, l, kinds[t]), n, k, want >= n ? 1 : n / want};
    }
    const double *h = sq_calib_hessian(cal, l, kind), *abs = sq_calib_cabs(cal, l, kind);
    double *mean = malloc(k * sizeof *mean), *d = malloc(k * sizeof *d);
    double *cand = malloc(k * sizeof *cand);
    float *row = malloc(k * sizeof *row);
    int8_t *q = malloc(k);
    if (!mean || !d || !cand || !row || !q) {
        free(mean);
        free(d);
        free(cand);
        free(row);
        free(q);
        return sq_err(SQ_ERR_MEM, "awq: out of memory");
    }
    double top = 0;
    for (size_t j = 0; j < k; j++)
        top = fmax(top, abs[j]);
    for (size_t j = 0; j < k; j++)
        mean[j] = fmax(abs[j], STAT_FLOOR * top);
    double best = INFINITY;
    for (int g = 0; g < AWQ_GRID; g++) {
        double a = (double)g / AWQ_GRID, lo = INFINITY, hi = 0;
        for (size_t j = 0; j < k; j++) {
            cand[j] = top > 0 ? pow(mean[j] / top, a) : 1.0;
            lo = fmin(lo, cand[j]);
            hi = fmax(hi, cand[j]);
        }
        for (size_t j = 0; j < k; j++)
            cand[j] /= sqrt(lo * hi);
        double e = loss(rd, nr, h, cand, r, row, q, d);
        if (e < best) {
            best = e;
            memcpy(s, cand, k * sizeof *s);
        }
    }
    free(mean);
    free(d);
    free(cand);
    free(row);
    free(q);
    return isfinite(best) ? 0 : sq_err(SQ_ERR_MEM, "awq: out of memory");
}

int sq_awq_layer(sq_llama_t *m, sq_calib_t *cal, const sq_recipe_t *r, int layer)
{
    const sq_llama_config_t *c = &m->cfg;
    size_t wide = (size_t)(c->hidden_dim > c->dim ? c->hidden_dim : c->dim);
    double *s = malloc(wide * sizeof *s);
    if (!s)
        return sq_err(SQ_ERR_MEM, "awq: out of memory");
    int rc = 0, l = layer < c->n_layers ? layer : 0;
    for (size_t i = 0; i < sizeof INPUTS / sizeof INPUTS[0] && !rc; i++) {
        sq_wkind_t kind = INPUTS[i];
        if ((kind == SQ_W_CLS) != (layer == c->n_layers) || !sq_xform_can_scale(c, l, kind) ||
            (kind == SQ_W_2 && r->rot))
            continue;
        rc = awq_input(m, cal, l, kind, r, s);
        if (!rc)
            rc = sq_xform_scale_input(m, l, kind, s);
        if (!rc)
            sq_calib_scale_input(cal, l, kind, s);
    }
    free(s);
    return rc;
}

int sq_smooth_layer(sq_llama_t *m, sq_calib_t *cal, const sq_recipe_t *r, int layer)
{
    const sq_llama_config_t *c = &m->cfg;
    size_t d = (size_t)c->dim;
    double *s = malloc(d * sizeof *s), *wmax = malloc(d * sizeof *wmax);
    int rc = !s || !wmax ? sq_err(SQ_ERR_MEM, "smooth: out of memory") : 0;
    const sq_wkind_t inputs[] = {SQ_W_Q, SQ_W_1};
    for (int l = layer; l == layer && l < c->n_layers && !rc; l++)
        for (size_t i = 0; i < 2 && !rc; i++) {
            sq_wkind_t kinds[3];
            int nr = readers_of(inputs[i], kinds);
            for (size_t j = 0; j < d; j++)
                wmax[j] = 0;
            for (int t = 0; t < nr; t++) {
                size_t n, k;
                sq_llama_wshape(c, kinds[t], &n, &k);
                const float *w = sq_llama_wptr(m, l, kinds[t]);
                for (size_t a = 0; a < n; a++)
                    for (size_t j = 0; j < k; j++)
                        wmax[j] = fmax(wmax[j], fabs((double)w[a * k + j]));
            }
            const float *xmax = sq_calib_cmax(cal, l, inputs[i]);
            double xtop = 0, wtop = 0;
            for (size_t j = 0; j < d; j++) {
                xtop = fmax(xtop, xmax[j]);
                wtop = fmax(wtop, wmax[j]);
            }
            for (size_t j = 0; j < d; j++)
                s[j] = pow(fmax(xmax[j], STAT_FLOOR * xtop), r->smooth) /
                       pow(fmax(wmax[j], STAT_FLOOR * wtop), 1.0 - r->smooth);
            if (!(xtop > 0 && wtop > 0))
                continue;
            rc = sq_xform_scale_input(m, l, inputs[i], s);
            if (!rc)
                sq_calib_scale_input(cal, l, inputs[i], s);
        }
    free(s);
    free(wmax);
    return rc;
}
