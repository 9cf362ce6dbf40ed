#include "compress/calib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/eval.h"
#include "util/err.h"

/* Linears that read the same vector share one Hessian. */
static sq_wkind_t input_of(sq_wkind_t kind)
{
    switch (kind) {
    case SQ_W_K:
    case SQ_W_V:
        return SQ_W_Q;
    case SQ_W_3:
        return SQ_W_1;
    default:
        return kind;
    }
}

int sq_calib_init(sq_calib_t *c, int n_layers, int n_heads, const size_t k[SQ_W_COUNT])
{
    memset(c, 0, sizeof *c);
    size_t slots = (size_t)n_layers * SQ_W_COUNT;
    c->n_layers = n_layers;
    c->n_heads = n_heads;
    memcpy(c->k, k, sizeof c->k);
    c->h = calloc(slots, sizeof *c->h);
    c->amax = calloc(slots, sizeof *c->amax);
    c->head_score = calloc((size_t)n_layers * n_heads, sizeof *c->head_score);
    int rc = !c->h || !c->amax || !c->head_score;
    for (int l = 0; l < n_layers && !rc; l++)
        for (int kd = 0; kd < SQ_W_COUNT && !rc; kd++) {
            if (!k[kd] || (int)input_of((sq_wkind_t)kd) != kd || (kd == SQ_W_CLS && l > 0))
                continue;
            rc = !(c->h[(size_t)l * SQ_W_COUNT + kd] = calloc(k[kd] * k[kd], sizeof(double)));
        }
    if (rc) {
        sq_calib_free(c);
        return sq_err(SQ_ERR_MEM, "calibration: out of memory");
    }
    return 0;
}

void sq_calib_observe(sq_calib_t *c, int layer, sq_wkind_t kind, const float *x)
{
    size_t k = c->k[kind], slot = (size_t)layer * SQ_W_COUNT + kind;
    for (size_t t = 0; t < k; t++)
        c->amax[slot] = fmaxf(c->amax[slot], fabsf(x[t]));
    if (input_of(kind) == kind) {
        double *h = c->h[slot];
        for (size_t i = 0; i < k; i++) {
            double xi = x[i];
            for (size_t j = i; j < k; j++)
                h[i * k + j] += xi * x[j];
        }
    }
}

void sq_calib_finish(sq_calib_t *c)
{
    for (size_t s = 0; s < (size_t)c->n_layers * SQ_W_COUNT; s++) {
        if (!c->h[s])
            continue;
        size_t k = c->k[s % SQ_W_COUNT];
        for (size_t i = 0; i < k; i++)
            for (size_t j = 0; j < i; j++)
                c->h[s][i * k + j] = c->h[s][j * k + i];
    }
}

typedef struct {
    sq_calib_t *c;
    const sq_llama_t *m;
} ctx_t;

static int observe(void *vctx, int layer, sq_wkind_t kind, const float *x, float *y)
{
    ctx_t *ctx = vctx;
    sq_calib_t *c = ctx->c;
    const sq_llama_config_t *cfg = &ctx->m->cfg;
    size_t n, k;
    sq_llama_wshape(cfg, kind, &n, &k);
    const float *w = sq_llama_wptr(ctx->m, layer, kind);
    sq_calib_observe(c, layer, kind, x);
    if (kind == SQ_W_O) {
        size_t hs = (size_t)(cfg->dim / cfg->n_heads);
        for (int hd = 0; hd < cfg->n_heads; hd++) {
            double e = 0;
            for (size_t i = 0; i < n; i++) {
                double v = 0;
                for (size_t t = hd * hs; t < (hd + 1) * hs; t++)
                    v += (double)w[i * k + t] * x[t];
                e += v * v;
            }
            c->head_score[(size_t)layer * cfg->n_heads + hd] += e;
        }
    }
    if (kind == SQ_W_CLS)
        c->tokens++;
    sq_llama_linear_f32(ctx->m, layer, kind, x, y);
    return 0;
}

int sq_calib_collect(sq_calib_t *c, const sq_llama_t *m, const sq_tokenizer_t *t, const char *text)
{
    const sq_llama_config_t *cfg = &m->cfg;
    size_t k[SQ_W_COUNT], n;
    for (int kd = 0; kd < SQ_W_COUNT; kd++)
        sq_llama_wshape(cfg, (sq_wkind_t)kd, &n, &k[kd]);
    int rc = sq_calib_init(c, cfg->n_layers, cfg->n_heads, k);
    if (rc)
        return rc;
    ctx_t ctx = {c, m};
    sq_llama_exec_t ex = {.linear = observe, .ctx = &ctx};
    sq_eval_result_t r;
    rc = sq_eval_text(m, t, text, &ex, NULL, &r);
    if (rc) {
        sq_calib_free(c);
        return rc;
    }
    sq_calib_finish(c);
    return 0;
}

void sq_calib_free(sq_calib_t *c)
{
    if (!c)
        return;
    if (c->h)
        for (size_t s = 0; s < (size_t)c->n_layers * SQ_W_COUNT; s++)
            free(c->h[s]);
    free(c->h);
    free(c->amax);
    free(c->head_score);
    memset(c, 0, sizeof *c);
}

const double *sq_calib_hessian(const sq_calib_t *c, int layer, sq_wkind_t kind)
{
    return c->h[(size_t)layer * SQ_W_COUNT + input_of(kind)];
}

float sq_calib_amax(const sq_calib_t *c, int layer, sq_wkind_t kind)
{
    return c->amax[(size_t)layer * SQ_W_COUNT + kind];
}
