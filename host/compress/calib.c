#include "compress/calib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/eval.h"
#include "util/err.h"

/* Linears that read the same vector share one Hessian. */
sq_wkind_t sq_calib_input_of(sq_wkind_t kind)
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
    c->cmax = calloc(slots, sizeof *c->cmax);
    c->cabs = calloc(slots, sizeof *c->cabs);
    c->amax = calloc(slots, sizeof *c->amax);
    c->head_score = calloc((size_t)n_layers * n_heads, sizeof *c->head_score);
    int rc = !c->h || !c->cmax || !c->cabs || !c->amax || !c->head_score;
    for (int l = 0; l < n_layers && !rc; l++)
        for (int kd = 0; kd < SQ_W_COUNT && !rc; kd++) {
            if (!k[kd] || (int)sq_calib_input_of((sq_wkind_t)kd) != kd || (kd == SQ_W_CLS && l > 0))
                continue;
            size_t slot = (size_t)l * SQ_W_COUNT + kd;
            rc = !(c->h[slot] = calloc(k[kd] * k[kd], sizeof(double))) ||
                 !(c->cmax[slot] = calloc(k[kd], sizeof(float))) ||
                 !(c->cabs[slot] = calloc(k[kd], sizeof(double)));
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
    if (sq_calib_input_of(kind) == kind) {
        float *cm = c->cmax[slot];
        double *ca = c->cabs[slot];
        for (size_t t = 0; t < k; t++) {
            cm[t] = fmaxf(cm[t], fabsf(x[t]));
            ca[t] += fabsf(x[t]);
        }
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
    const sq_llama_exec_t *run; /* computes y; NULL: fp32 */
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
    if (ctx->run)
        return ctx->run->linear(ctx->run->ctx, layer, kind, x, y);
    sq_llama_linear_f32(ctx->m, layer, kind, x, y);
    return 0;
}

int sq_calib_collect(sq_calib_t *c, const sq_llama_t *m, const sq_tokenizer_t *t, const char *text)
{
    sq_story_enc_t e;
    sq_story_enc_llama2(&e, t);
    return sq_calib_collect_stories(c, m, &e, text, NULL);
}

int sq_calib_collect_stories(sq_calib_t *c, const sq_llama_t *m, const sq_story_enc_t *e,
                             const char *text, sq_eval_progress_fn progress)
{
    return sq_calib_collect_exec(c, m, NULL, e, text, progress);
}

int sq_calib_collect_exec(sq_calib_t *c, const sq_llama_t *m, const sq_llama_exec_t *run,
                          const sq_story_enc_t *e, const char *text, sq_eval_progress_fn progress)
{
    const sq_llama_config_t *cfg = &m->cfg;
    size_t k[SQ_W_COUNT], n;
    for (int kd = 0; kd < SQ_W_COUNT; kd++)
        sq_llama_wshape(cfg, (sq_wkind_t)kd, &n, &k[kd]);
    int rc = sq_calib_init(c, cfg->n_layers, cfg->n_heads, k);
    if (rc)
        return rc;
    ctx_t ctx = {c, m, run};
    sq_llama_exec_t ex = {.linear = observe, .ctx = &ctx};
    sq_eval_result_t r;
    rc = sq_eval_stories(m, e, text, &ex, progress, &r);
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
    for (size_t s = 0; s < (size_t)c->n_layers * SQ_W_COUNT; s++) {
        if (c->h)
            free(c->h[s]);
        if (c->cmax)
            free(c->cmax[s]);
        if (c->cabs)
            free(c->cabs[s]);
    }
    free(c->h);
    free(c->cmax);
    free(c->cabs);
    free(c->amax);
    free(c->head_score);
    memset(c, 0, sizeof *c);
}

const double *sq_calib_hessian(const sq_calib_t *c, int layer, sq_wkind_t kind)
{
    return c->h[(size_t)layer * SQ_W_COUNT + sq_calib_input_of(kind)];
}

float sq_calib_amax(const sq_calib_t *c, int layer, sq_wkind_t kind)
{
    return c->amax[(size_t)layer * SQ_W_COUNT + kind];
}

const float *sq_calib_cmax(const sq_calib_t *c, int layer, sq_wkind_t kind)
{
    return c->cmax[(size_t)layer * SQ_W_COUNT + sq_calib_input_of(kind)];
}

const double *sq_calib_cabs(const sq_calib_t *c, int layer, sq_wkind_t kind)
{
    return c->cabs[(size_t)layer * SQ_W_COUNT + sq_calib_input_of(kind)];
}

void sq_calib_scale_input(sq_calib_t *c, int layer, sq_wkind_t kind, const double *s)
{
    sq_wkind_t in = sq_calib_input_of(kind);
    size_t slot = (size_t)layer * SQ_W_COUNT + in, k = c->k[in];
    double *h = c->h[slot];
    float amax = 0.0f;
    for (size_t i = 0; i < k; i++) {
        for (size_t j = 0; j < k; j++)
            h[i * k + j] /= s[i] * s[j];
        c->cmax[slot][i] = (float)(c->cmax[slot][i] / s[i]);
        c->cabs[slot][i] /= s[i];
        amax = fmaxf(amax, c->cmax[slot][i]);
    }
    /* every linear reading this input shares the new range */
    for (int kd = 0; kd < SQ_W_COUNT; kd++)
        if (sq_calib_input_of((sq_wkind_t)kd) == in)
            c->amax[(size_t)layer * SQ_W_COUNT + kd] = amax;
}
