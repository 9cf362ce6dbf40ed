#include "train/constraint.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compress/quant.h"
#include "sparq/numerics.h"
#include "util/err.h"

int sq_constraints_build(sq_constraints_t *c, const sq_llama_config_t *cfg)
{
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    c->w = calloc((size_t)cfg->n_layers * SQ_W_COUNT, sizeof *c->w);
    if (!c->w)
        return sq_err(SQ_ERR_MEM, "out of memory for constraints");
    return 0;
}

void sq_constraints_free(sq_constraints_t *c)
{
    if (!c)
        return;
    if (c->w)
        for (size_t i = 0; i < (size_t)c->cfg.n_layers * SQ_W_COUNT; i++)
            free(c->w[i].mask);
    free(c->w);
    memset(c, 0, sizeof *c);
}

sq_wconstraint_t *sq_constraints_at(sq_constraints_t *c, int layer, sq_wkind_t kind)
{
    return &c->w[(size_t)(kind == SQ_W_CLS ? 0 : layer) * SQ_W_COUNT + kind];
}

static int mask_alloc(sq_wconstraint_t *wc, size_t n, size_t k)
{
    free(wc->mask);
    wc->mask = malloc(n * k);
    if (!wc->mask)
        return sq_err(SQ_ERR_MEM, "out of memory for a %zux%zu mask", n, k);
    return 0;
}

int sq_wconstraint_mask_sp24(sq_wconstraint_t *wc, const float *w, size_t n, size_t k)
{
    int rc = mask_alloc(wc, n, k);
    if (rc)
        return rc;
    size_t groups = (k + 3) / 4;
    int8_t *q = malloc(k), *vals = malloc(2 * groups);
    uint8_t *meta = malloc(sq_meta_row_bytes(k));
    if (!q || !vals || !meta) {
        free(q);
        free(vals);
        free(meta);
        return sq_err(SQ_ERR_MEM, "out of memory for a 2:4 mask");
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t *mr = wc->mask + i * k;
        memset(mr, 0, k);
        sq_quant_i8(w + i * k, k, q);
        sq_sp24_encode_row(q, k, vals, meta);
        for (size_t g = 0; g < groups; g++) {
            uint8_t code = sq_sp24_code(meta, g);
            size_t p0 = g * 4 + (code & 3), p1 = g * 4 + (code >> 2);
            if (p0 < k)
                mr[p0] = 1;
            if (p1 < k)
                mr[p1] = 1;
        }
    }
    free(q);
    free(vals);
    free(meta);
    return 0;
}

int sq_wconstraint_mask_nonzero(sq_wconstraint_t *wc, const float *w, size_t n, size_t k)
{
    int rc = mask_alloc(wc, n, k);
    if (rc)
        return rc;
    for (size_t i = 0; i < n * k; i++)
        wc->mask[i] = w[i] != 0.0f;
    return 0;
}

int sq_wconstraint_grid(sq_wconstraint_t *wc, int bits, size_t group)
{
    if (bits != 0 && bits != 8 && bits != 4)
        return sq_err(SQ_ERR_ARG, "weight grid of %d bits (known: 0, 8, 4)", bits);
    wc->bits = bits;
    wc->group = group;
    return 0;
}

int sq_wconstraint_apply(const sq_wconstraint_t *wc, const float *w, float *out, size_t n,
                         size_t k)
{
    if (out != w)
        memcpy(out, w, n * k * sizeof *out);
    if (wc->mask)
        for (size_t i = 0; i < n * k; i++)
            if (!wc->mask[i])
                out[i] = 0.0f;
    if (!wc->bits)
        return 0;
    /* the compression passes' round-to-nearest quantizer, so the grid is
     * theirs by construction */
    sq_quant_opts_t qo = {.bits = wc->bits,
                          .group = wc->bits == 4 && wc->group && wc->group < k ? wc->group : k};
    size_t ng = sq_quant_groups(k, qo.group);
    int8_t *q = malloc(n * k);
    float *scale = malloc(n * ng * sizeof *scale);
    int rc = q && scale ? sq_quant_weights(out, n, k, &qo, q, scale)
                        : sq_err(SQ_ERR_MEM, "out of memory rounding a %zux%zu matrix", n, k);
    for (size_t i = 0; i < n && !rc; i++)
        for (size_t j = 0; j < k; j++)
            out[i * k + j] = (float)q[i * k + j] * scale[i * ng + j / qo.group];
    free(q);
    free(scale);
    return rc;
}

int sq_constraints_keep(sq_constraints_t *c, const sq_llama_t *m, int bits, size_t group)
{
    for (int l = 0; l < c->cfg.n_layers; l++) {
        for (int kd = 0; kd < SQ_W_COUNT; kd++) {
            if (kd == SQ_W_CLS && l > 0)
                continue;
            size_t n, k;
            sq_llama_wshape(&c->cfg, (sq_wkind_t)kd, &n, &k);
            const float *w = sq_llama_wptr(m, l, (sq_wkind_t)kd);
            sq_wconstraint_t *wc = sq_constraints_at(c, l, (sq_wkind_t)kd);
            size_t zeros = 0;
            for (size_t i = 0; i < n * k; i++)
                zeros += w[i] == 0.0f;
            int rc = zeros ? sq_wconstraint_mask_nonzero(wc, w, n, k) : 0;
            if (!rc)
                rc = sq_wconstraint_grid(wc, bits, group);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int sq_constraints_apply(const sq_constraints_t *c, sq_llama_t *m)
{
    for (int l = 0; l < c->cfg.n_layers; l++) {
        for (int kd = 0; kd < SQ_W_COUNT; kd++) {
            if (kd == SQ_W_CLS && l > 0)
                continue;
            size_t n, k;
            sq_llama_wshape(&c->cfg, (sq_wkind_t)kd, &n, &k);
            float *w = (float *)sq_llama_wptr(m, l, (sq_wkind_t)kd);
            int rc = sq_wconstraint_apply(&c->w[(size_t)l * SQ_W_COUNT + kd], w, w, n, k);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int hook_fake(void *ctx, int layer, sq_wkind_t kind, const float *w, float *out, size_t n,
                     size_t k)
{
    return sq_wconstraint_apply(sq_constraints_at(ctx, layer, kind), w, out, n, k);
}

static int hook_project(void *ctx, int layer, sq_wkind_t kind, float *w, size_t n, size_t k)
{
    const sq_wconstraint_t *wc = sq_constraints_at(ctx, layer, kind);
    if (wc->mask)
        for (size_t i = 0; i < n * k; i++)
            if (!wc->mask[i])
                w[i] = 0.0f;
    return 0;
}

void sq_constraints_hook(sq_constraints_t *c, sq_distill_hook_t *h)
{
    h->fake = hook_fake;
    h->project = hook_project;
    h->ctx = c;
}
