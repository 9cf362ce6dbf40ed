#include "compress/qmodel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compress/linalg.h"
#include "compress/prune.h"
#include "compress/quant.h"
#include "compress/share.h"
#include "compress/transform.h"
#include "sparq/hadamard.h"
#include "sparq/numerics.h"
#include "util/err.h"

/* Lloyd rounds for weight sharing; 1-D k-means settles well before this. */
#define SHARE_ITERS 50

const sq_clinear_t *sq_qmodel_layer(const sq_qmodel_t *q, int layer, sq_wkind_t kind)
{
    return q->layers ? &q->layers[(size_t)layer * SQ_W_COUNT + kind] : NULL;
}

void sq_qmodel_free(sq_qmodel_t *q)
{
    if (!q)
        return;
    if (q->layers)
        for (size_t s = 0; s < (size_t)q->model->cfg.n_layers * SQ_W_COUNT; s++)
            sq_clinear_free(&q->layers[s]);
    free(q->layers);
    free(q->heads_removed);
    free(q->mid);
    sq_qscratch_free(&q->scratch);
    memset(q, 0, sizeof *q);
}

static int build_leaf(sq_qlinear_t *out, float *w, size_t n, size_t k, const double *h, float amax,
                      const sq_recipe_t *r);

/* A leaf whose input is rotated online: W.H^T / sqrt(n) on the input
 * zero-padded to the Hadamard order n, with the Hessian of the rotated input
 * Q.H.Q^T for GPTQ. */
static int build_rotated(sq_qlinear_t *out, const float *w, size_t rows, size_t k,
                         const double *h, const sq_recipe_t *r)
{
    sq_rot_t rot;
    int rc = sq_rot_init(&rot, k, 0);
    if (rc)
        return rc;
    size_t n = rot.n;
    float *wr = calloc(rows * n, sizeof *wr);
    double *hr = h ? calloc(n * n, sizeof *hr) : NULL;
    if (!wr || (h && !hr))
        rc = sq_err(SQ_ERR_MEM, "rot: out of memory");
    for (size_t i = 0; i < rows && !rc; i++) {
        memcpy(wr + i * n, w + i * k, k * sizeof *wr);
        sq_rot_apply(&rot, wr + i * n, n, 1, 0);
    }
    if (!rc && h) {
        /* rows of h, then columns: Q h Q^T (h symmetric, padded with zeros) */
        for (size_t i = 0; i < k; i++) {
            memcpy(hr + i * n, h + i * k, k * sizeof *hr);
            sq_rot_apply_f64(&rot, hr + i * n, n, 1, 0);
        }
        for (size_t j = 0; j < n; j++)
            sq_rot_apply_f64(&rot, hr + j, n, n, 0);
    }
    sq_recipe_t rl = *r;
    rl.rot = 0;
    if (!rc)
        rc = build_leaf(out, wr, rows, n, hr, 0.0f, &rl);
    if (!rc)
        rc = sq_qlinear_set_input(out, r->abits, k, 1);
    free(wr);
    free(hr);
    sq_rot_free(&rot);
    return rc;
}

/* sqrt(diag h): each input's norm over the calibration tokens (Wanda). */
static double *input_norms(const double *h, size_t k)
{
    double *x = malloc(k * sizeof *x);
    for (size_t j = 0; x && j < k; j++)
        x[j] = sqrt(h[j * k + j]);
    return x;
}

/* Prune, share and quantize one leaf; w (n, k) is consumed as scratch. */
static int build_leaf(sq_qlinear_t *out, float *w, size_t n, size_t k, const double *h, float amax,
                      const sq_recipe_t *r)
{
    if (r->rot)
        return build_rotated(out, w, n, k, h, r);
    int gptq = r->wbits && r->solver == SQ_SOLVE_GPTQ;
    int rc = 0;
    if ((gptq || r->wanda) && !h)
        return sq_err(SQ_ERR_ARG, "gptq and wanda need calibration statistics");
    double *xn = r->wanda && (r->sparsity > 0 || r->sp24) ? input_norms(h, k) : NULL;
    if (r->wanda && (r->sparsity > 0 || r->sp24) && !xn)
        return sq_err(SQ_ERR_MEM, "wanda: out of memory");
    if (!gptq && r->sparsity > 0)
        rc = xn ? sq_prune_wanda(w, n, k, xn, r->sparsity) : sq_prune_magnitude(w, n * k, r->sparsity);
    if (!gptq && r->sp24) {
        if (xn)
            sq_prune_wanda_24(w, n, k, xn);
        else
            sq_prune_24(w, n, k);
    }
    free(xn);
    if (!rc && r->share) {
        float cb[256];
        uint8_t *idx = malloc(n * k);
        int used = 0;
        if (!idx)
            return sq_err(SQ_ERR_MEM, "share: out of memory");
        rc = sq_share_fit(w, n * k, r->share, SHARE_ITERS, cb, idx, &used, NULL);
        if (!rc && !r->wbits)
            rc = sq_qlinear_codebook(out, cb, (uint32_t)used, idx, n, k);
        else if (!rc)
            for (size_t i = 0; i < n * k; i++)
                w[i] = cb[idx[i]];
        free(idx);
        if (rc || !r->wbits)
            return rc;
    }
    if (rc)
        return rc;
    if (!r->wbits)
        return sq_qlinear_f32(out, w, n, k);
    size_t group = r->group && r->group < k ? r->group : k;
    sq_quant_opts_t o = {.bits = r->wbits,
                         .group = group,
                         .h = gptq ? h : NULL,
                         .sp24 = gptq && r->sp24,
                         .sparsity = gptq ? r->sparsity : 0,
                         .clip_h = !gptq && r->awq ? h : NULL};
    int8_t *qv = malloc(n * k);
    float *scale = malloc(n * sq_quant_groups(k, group) * sizeof *scale);
    if (!qv || !scale)
        rc = sq_err(SQ_ERR_MEM, "quantize: out of memory");
    if (!rc)
        rc = sq_quant_weights(w, n, k, &o, qv, scale);
    uint32_t flags = r->wbits == 4 ? SQ_GEMM_W4 : r->sp24 ? SQ_GEMM_SP24 : 0;
    float as = r->act == SQ_ACT_STATIC && amax > 0 ? amax / 127.0f : 0.0f;
    if (!rc)
        rc = sq_qlinear_int(out, flags, qv, scale, group, as, n, k);
    if (!rc && r->abits == 4)
        rc = sq_qlinear_set_input(out, 4, k, 0);
    free(qv);
    free(scale);
    return rc;
}

static int lowrank_rank(const sq_recipe_t *r, const double *s, size_t p)
{
    if (r->rank)
        return r->rank;
    double total = 0, acc = 0;
    for (size_t i = 0; i < p; i++)
        total += s[i] * s[i];
    for (size_t i = 0; i < p; i++) {
        acc += s[i] * s[i];
        if (acc >= r->energy * total)
            return (int)i + 1;
    }
    return (int)p;
}

/* Factorizes w (n, k) as U (n, rank).V (rank, k) with the singular values
 * split evenly (sqrt on each side) so both factors quantize alike; the
 * factor V's Hessian is h and U's is V.h.V^T. A layer whose factors would
 * not be smaller than W (rank (n + k) >= n k) stays one dense leaf. */
static int build_lowrank(sq_clinear_t *cl, float *w, size_t n, size_t k, const double *h,
                         float amax, const sq_recipe_t *r)
{
    size_t p = n < k ? n : k;
    double *u = malloc(n * p * sizeof *u), *s = malloc(p * sizeof *s);
    double *vt = malloc(p * k * sizeof *vt);
    float *fu = NULL, *fv = NULL;
    double *h2 = NULL, *tmp = NULL;
    int rc = !u || !s || !vt ? sq_err(SQ_ERR_MEM, "lowrank: out of memory") : 0;
    if (!rc)
        rc = sq_svd(w, n, k, u, s, vt);
    size_t rank = rc ? 0 : (size_t)lowrank_rank(r, s, p);
    if (!rc && rank * (n + k) >= n * k) {
        cl->nf = 1;
        rc = build_leaf(&cl->f[0], w, n, k, h, amax, r);
        goto done;
    }
    fv = malloc(rank * k * sizeof *fv);
    fu = malloc(n * rank * sizeof *fu);
    if (!rc && (!fv || !fu))
        rc = sq_err(SQ_ERR_MEM, "lowrank: out of memory");
    for (size_t i = 0; i < rank && !rc; i++) {
        double rs = sqrt(s[i]);
        for (size_t t = 0; t < k; t++)
            fv[i * k + t] = (float)(vt[i * k + t] * rs);
        for (size_t j = 0; j < n; j++)
            fu[j * rank + i] = (float)(u[j * p + i] * rs);
    }
    if (!rc && h) {
        h2 = calloc(rank * rank, sizeof *h2);
        tmp = calloc(rank * k, sizeof *tmp);
        if (!h2 || !tmp)
            rc = sq_err(SQ_ERR_MEM, "lowrank: out of memory");
        for (size_t i = 0; i < rank && !rc; i++)
            for (size_t a = 0; a < k; a++) {
                double v = fv[i * k + a];
                if (v != 0)
                    for (size_t b = 0; b < k; b++)
                        tmp[i * k + b] += v * h[a * k + b];
            }
        for (size_t i = 0; i < rank && !rc; i++)
            for (size_t j = 0; j < rank; j++) {
                double v = 0;
                for (size_t b = 0; b < k; b++)
                    v += tmp[i * k + b] * fv[j * k + b];
                h2[i * rank + j] = v;
            }
    }
    if (!rc) {
        cl->nf = 1;
        rc = build_leaf(&cl->f[0], fv, rank, k, h, amax, r);
    }
    if (!rc) {
        cl->nf = 2;
        /* The intermediate's range is not calibrated: it is quantized per token. */
        rc = build_leaf(&cl->f[1], fu, n, rank, h2, 0.0f, r);
    }
done:
    free(u);
    free(s);
    free(vt);
    free(fu);
    free(fv);
    free(h2);
    free(tmp);
    return rc;
}

int sq_clinear_build(sq_clinear_t *cl, float *w, size_t n, size_t k, const double *h, float amax,
                     const sq_recipe_t *r)
{
    memset(cl, 0, sizeof *cl);
    int rc;
    if (r->rank || r->energy > 0) {
        rc = build_lowrank(cl, w, n, k, h, amax, r);
    } else {
        cl->nf = 1;
        rc = build_leaf(&cl->f[0], w, n, k, h, amax, r);
    }
    if (rc)
        sq_clinear_free(cl);
    return rc;
}

void sq_clinear_free(sq_clinear_t *cl)
{
    if (!cl)
        return;
    sq_qlinear_free(&cl->f[0]);
    sq_qlinear_free(&cl->f[1]);
    cl->nf = 0;
}

int sq_clinear_run(const sq_clinear_t *cl, const float *x, float *y, float *mid,
                   const sq_qscratch_t *s)
{
    if (cl->nf == 1)
        return sq_qlinear_run(&cl->f[0], x, y, s);
    int rc = sq_qlinear_run(&cl->f[0], x, mid, s);
    return rc ? rc : sq_qlinear_run(&cl->f[1], mid, y, s);
}

int sq_clinear_run_rows(const sq_clinear_t *cl, const float *x, size_t rows, float *y,
                        float *mid, const sq_qscratch_t *s)
{
    if (cl->nf == 1)
        return sq_qlinear_run_rows(&cl->f[0], x, rows, y, s);
    int rc = sq_qlinear_run_rows(&cl->f[0], x, rows, mid, s);
    return rc ? rc : sq_qlinear_run_rows(&cl->f[1], mid, rows, y, s);
}

int sq_clinear_dequant(const sq_clinear_t *cl, float *w, size_t n, size_t k)
{
    if (cl->nf == 1)
        return sq_qlinear_dequant(&cl->f[0], w);
    size_t r = cl->f[0].n;
    float *v = malloc(r * k * sizeof *v), *u = malloc(n * r * sizeof *u);
    int rc = !v || !u ? sq_err(SQ_ERR_MEM, "out of memory") : 0;
    if (!rc)
        rc = sq_qlinear_dequant(&cl->f[0], v);
    if (!rc)
        rc = sq_qlinear_dequant(&cl->f[1], u);
    for (size_t i = 0; i < n && !rc; i++)
        for (size_t t = 0; t < k; t++) {
            float acc = 0.0f;
            for (size_t j = 0; j < r; j++)
                acc += u[i * r + j] * v[j * k + t];
            w[i * k + t] = acc;
        }
    free(v);
    free(u);
    return rc;
}

size_t sq_clinear_bytes(const sq_clinear_t *cl)
{
    size_t b = 0;
    for (int f = 0; f < cl->nf; f++)
        b += sq_qlinear_bytes(&cl->f[f]);
    return b;
}

int sq_qmodel_build(sq_qmodel_t *q, const sq_llama_t *m, const sq_recipe_t *r)
{
    return sq_qmodel_build_calib(q, m, r, NULL);
}

static int qmodel_init(sq_qmodel_t *q, const sq_llama_t *m, const sq_recipe_t *r)
{
    memset(q, 0, sizeof *q);
    q->model = m;
    q->recipe = *r;
    if (sq_recipe_is_identity(r))
        return 0;
    const sq_llama_config_t *c = &m->cfg;
    if (r->heads >= c->n_heads)
        return sq_err(SQ_ERR_ARG, "heads:n=%d would remove every one of the %d heads", r->heads,
                      c->n_heads);
    size_t maxdim = (size_t)c->vocab_size;
    if ((size_t)c->hidden_dim > maxdim)
        maxdim = (size_t)c->hidden_dim;
    if ((size_t)c->dim > maxdim)
        maxdim = (size_t)c->dim;
    size_t pm, padded = r->rot ? sq_had_order((size_t)c->hidden_dim, &pm) : 0;
    if (padded > maxdim)
        maxdim = padded;
    q->layers = calloc((size_t)c->n_layers * SQ_W_COUNT, sizeof *q->layers);
    q->heads_removed = calloc((size_t)c->n_layers * c->n_heads, sizeof *q->heads_removed);
    q->mid = malloc(maxdim * sizeof *q->mid);
    int rc = sq_qscratch_alloc(&q->scratch, 1, maxdim);
    if (!rc && (!q->layers || !q->heads_removed || !q->mid))
        rc = sq_err(SQ_ERR_MEM, "out of memory building the compressed model");
    if (rc)
        sq_qmodel_free(q);
    return rc;
}

/* The recipe of one matrix: the model-level rotations are folded in already
 * (W2's input is rotated online), and the classifier (often the embedding
 * table itself) is only quantized: pruning, factorizing and sharing target
 * the blocks, as SparseGPT and Wanda leave the head dense; with int4 weights
 * or activations it stays int8 (w8a8), as GPTQ, AWQ and QuaRot leave the
 * head in 16 bits. */
static sq_recipe_t recipe_of(const sq_recipe_t *r, sq_wkind_t kd)
{
    sq_recipe_t rl = *r;
    rl.rot = r->rot && kd == SQ_W_2;
    if (kd == SQ_W_CLS) {
        rl.sparsity = 0;
        rl.sp24 = 0;
        rl.wanda = 0;
        rl.rank = 0;
        rl.energy = 0;
        rl.share = 0;
        if (rl.wbits == 4 || rl.abits == 4) {
            rl.wbits = 8;
            rl.group = 0;
            rl.abits = 8;
        }
    }
    return rl;
}

static int build_kind(sq_qmodel_t *q, int l, sq_wkind_t kd, const sq_calib_t *calib, float *w)
{
    const sq_llama_t *m = q->model;
    const sq_llama_config_t *c = &m->cfg;
    const sq_recipe_t *r = &q->recipe;
    size_t n, k, hs = (size_t)(c->dim / c->n_heads);
    sq_llama_wshape(c, kd, &n, &k);
    memcpy(w, sq_llama_wptr(m, l, kd), n * k * sizeof *w);
    const int *removed = q->heads_removed + (size_t)l * c->n_heads;
    for (int hd = 0; hd < c->n_heads && r->heads; hd++) {
        if (!removed[hd])
            continue;
        for (size_t i = hd * hs; i < (hd + 1) * hs && kd == SQ_W_Q; i++)
            memset(w + i * k, 0, k * sizeof *w);
        for (size_t i = 0; i < n && kd == SQ_W_O; i++)
            memset(w + i * k + hd * hs, 0, hs * sizeof *w);
    }
    const double *h = calib ? sq_calib_hessian(calib, l, kd) : NULL;
    float amax = calib ? sq_calib_amax(calib, l, kd) : 0.0f;
    sq_clinear_t *cl = &q->layers[(size_t)l * SQ_W_COUNT + kd];
    sq_clinear_free(cl);
    sq_recipe_t rl = recipe_of(r, kd);
    if (!rl.wbits && kd == SQ_W_CLS)
        return 0; /* stays the fp32 matrix of the model */
    return sq_clinear_build(cl, w, n, k, h, amax, &rl);
}

/* Largest matrix of the model: build_kind's scratch. */
static size_t max_matrix(const sq_llama_config_t *c)
{
    size_t maxnk = 0;
    for (int kd = 0; kd < SQ_W_COUNT; kd++) {
        size_t n, k;
        sq_llama_wshape(c, (sq_wkind_t)kd, &n, &k);
        maxnk = n * k > maxnk ? n * k : maxnk;
    }
    return maxnk;
}

int sq_qmodel_build_calib(sq_qmodel_t *q, const sq_llama_t *m, const sq_recipe_t *r,
                          const sq_calib_t *calib)
{
    int rc = qmodel_init(q, m, r);
    if (rc || !q->layers)
        return rc;
    const sq_llama_config_t *c = &m->cfg;
    if (sq_recipe_needs_calib(r) && !calib)
        rc = sq_err(SQ_ERR_ARG, "this recipe needs calibration text");
    float *w = rc ? NULL : malloc(max_matrix(c) * sizeof *w);
    if (!rc && !w)
        rc = sq_err(SQ_ERR_MEM, "out of memory building the compressed model");
    for (int l = 0; l < c->n_layers && !rc; l++) {
        if (r->heads)
            sq_prune_heads_pick(calib->head_score + (size_t)l * c->n_heads, c->n_heads, r->heads,
                                q->heads_removed + (size_t)l * c->n_heads);
        /* one classifier, at layer 0 */
        for (int kd = 0; kd < SQ_W_COUNT && !rc; kd++)
            if (kd != SQ_W_CLS || l == 0)
                rc = build_kind(q, l, (sq_wkind_t)kd, calib, w);
    }
    free(w);
    if (rc)
        sq_qmodel_free(q);
    return rc;
}

int sq_qmodel_build_seq(sq_qmodel_t *q, const sq_llama_t *m, const sq_recipe_t *r,
                        const sq_story_enc_t *e, const char *text, sq_qmodel_progress_fn progress)
{
    int rc = qmodel_init(q, m, r);
    if (rc || !q->layers)
        return rc;
    const sq_llama_config_t *c = &m->cfg;
    float *w = malloc(max_matrix(c) * sizeof *w);
    if (!w)
        rc = sq_err(SQ_ERR_MEM, "out of memory building the compressed model");
    /* Pass l calibrates on the model whose layers before l are compressed
     * (a layer not built yet runs fp32: sq_qmodel_exec); the last pass, on
     * every layer compressed, is the classifier's. */
    for (int l = 0; l <= c->n_layers && !rc; l++) {
        sq_calib_t cal;
        sq_llama_exec_t ex;
        sq_qmodel_exec(q, &ex);
        rc = sq_calib_collect_exec(&cal, m, &ex, e, text, NULL);
        if (rc)
            break;
        if (l < c->n_layers && r->heads)
            sq_prune_heads_pick(cal.head_score + (size_t)l * c->n_heads, c->n_heads, r->heads,
                                q->heads_removed + (size_t)l * c->n_heads);
        for (int kd = 0; kd < SQ_W_COUNT && !rc; kd++)
            if ((kd == SQ_W_CLS) == (l == c->n_layers))
                rc = build_kind(q, l < c->n_layers ? l : 0, (sq_wkind_t)kd, &cal, w);
        sq_calib_free(&cal);
        if (progress)
            progress("gptq: sequential layer", (size_t)l + 1, (size_t)c->n_layers + 1);
    }
    free(w);
    if (rc)
        sq_qmodel_free(q);
    return rc;
}

static int linear(void *ctx, int layer, sq_wkind_t kind, const float *x, float *y)
{
    sq_qmodel_t *q = ctx;
    const sq_clinear_t *cl = sq_qmodel_layer(q, layer, kind);
    if (cl->nf == 0) {
        sq_llama_linear_f32(q->model, layer, kind, x, y);
        return 0;
    }
    return sq_clinear_run(cl, x, y, q->mid, &q->scratch);
}

void sq_qmodel_exec(sq_qmodel_t *q, sq_llama_exec_t *ex)
{
    *ex = (sq_llama_exec_t){.linear = q->layers ? linear : NULL, .ctx = q};
}

/* fp32 parameters outside the linear layers: embedding and norms. */
static size_t other_bytes(const sq_llama_config_t *c)
{
    size_t f = (size_t)c->vocab_size * c->dim + (size_t)c->n_layers * 2 * c->dim + c->dim;
    return f * sizeof(float);
}

size_t sq_llama_bytes(const sq_llama_t *m)
{
    const sq_llama_config_t *c = &m->cfg;
    size_t b = other_bytes(c);
    for (int kd = 0; kd < SQ_W_COUNT; kd++) {
        size_t n, k;
        sq_llama_wshape(c, (sq_wkind_t)kd, &n, &k);
        if (kd != SQ_W_CLS)
            b += (size_t)c->n_layers * n * k * sizeof(float);
        else if (!c->shared_classifier)
            b += n * k * sizeof(float);
    }
    return b;
}

size_t sq_qmodel_bytes(const sq_qmodel_t *q)
{
    if (!q->layers)
        return sq_llama_bytes(q->model);
    const sq_llama_config_t *c = &q->model->cfg;
    size_t b = other_bytes(c);
    for (int l = 0; l < c->n_layers; l++)
        for (int kd = 0; kd < SQ_W_COUNT; kd++) {
            const sq_clinear_t *cl = sq_qmodel_layer(q, l, (sq_wkind_t)kd);
            b += sq_clinear_bytes(cl);
            if (kd == SQ_W_CLS && l == 0 && cl->nf == 0 && !c->shared_classifier) {
                size_t n, k;
                sq_llama_wshape(c, SQ_W_CLS, &n, &k);
                b += n * k * sizeof(float);
            }
        }
    return b;
}
