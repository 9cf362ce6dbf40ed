#include "compress/recipe.h"

#include <stdlib.h>
#include <string.h>

#include "sparq/numerics.h"
#include "util/err.h"

int sq_recipe_parse(const char *spec, sq_recipe_t *r)
{
    memset(r, 0, sizeof *r);
    char buf[256];
    if (strlen(spec) >= sizeof buf)
        return sq_err(SQ_ERR_ARG, "recipe too long");
    strcpy(buf, spec);
    for (char *save = NULL, *pass = strtok_r(buf, ",", &save); pass;
         pass = strtok_r(NULL, ",", &save)) {
        if (!strcmp(pass, "w8a8"))
            r->w8a8 = 1;
        else if (strcmp(pass, "fp32"))
            return sq_err(SQ_ERR_ARG, "unknown recipe pass '%s' (known: fp32, w8a8)", pass);
    }
    return 0;
}

int sq_qlinear_build(sq_qlinear_t *q, const float *w, size_t n, size_t k)
{
    q->n = n;
    q->k = k;
    q->w = malloc(n * k);
    q->scale = malloc(n * sizeof(float));
    if (!q->w || !q->scale) {
        sq_qlinear_free(q);
        return sq_err(SQ_ERR_MEM, "out of memory quantizing a %zux%zu layer", n, k);
    }
    for (size_t i = 0; i < n; i++)
        q->scale[i] = sq_quant_i8(w + i * k, k, q->w + i * k);
    return 0;
}

void sq_qlinear_free(sq_qlinear_t *q)
{
    if (!q)
        return;
    free(q->w);
    free(q->scale);
    q->w = NULL;
    q->scale = NULL;
}

const sq_qlinear_t *sq_qmodel_layer(const sq_qmodel_t *q, int layer, sq_wkind_t kind)
{
    return &q->layers[(size_t)layer * SQ_W_COUNT + kind];
}

void sq_qmodel_free(sq_qmodel_t *q)
{
    if (!q)
        return;
    if (q->layers)
        for (int l = 0; l < q->model->cfg.n_layers; l++)
            for (int kd = 0; kd < SQ_W_COUNT; kd++)
                sq_qlinear_free(&q->layers[(size_t)l * SQ_W_COUNT + kd]);
    free(q->layers);
    free(q->act);
    free(q->acc);
    memset(q, 0, sizeof *q);
}

int sq_qmodel_build(sq_qmodel_t *q, const sq_llama_t *m, const sq_recipe_t *r)
{
    memset(q, 0, sizeof *q);
    q->model = m;
    q->recipe = *r;
    if (!r->w8a8)
        return 0;
    const sq_llama_config_t *c = &m->cfg;
    size_t maxdim = (size_t)(c->vocab_size > c->hidden_dim ? c->vocab_size : c->hidden_dim);
    if ((size_t)c->dim > maxdim)
        maxdim = (size_t)c->dim;
    q->layers = calloc((size_t)c->n_layers * SQ_W_COUNT, sizeof *q->layers);
    q->act = malloc(maxdim);
    q->acc = malloc(maxdim * sizeof(int32_t));
    if (!q->layers || !q->act || !q->acc) {
        sq_qmodel_free(q);
        return sq_err(SQ_ERR_MEM, "out of memory building the quantized model");
    }
    for (int l = 0; l < c->n_layers; l++) {
        for (int kd = 0; kd < SQ_W_COUNT; kd++) {
            if (kd == SQ_W_CLS && l > 0)
                continue;
            size_t n, k;
            sq_llama_wshape(c, (sq_wkind_t)kd, &n, &k);
            int rc = sq_qlinear_build(&q->layers[(size_t)l * SQ_W_COUNT + kd],
                                      sq_llama_wptr(m, l, (sq_wkind_t)kd), n, k);
            if (rc) {
                sq_qmodel_free(q);
                return rc;
            }
        }
    }
    return 0;
}

static int linear_w8a8(void *ctx, int layer, sq_wkind_t kind, const float *x, float *y)
{
    sq_qmodel_t *q = ctx;
    const sq_qlinear_t *ql = sq_qmodel_layer(q, layer, kind);
    float sa = sq_quant_i8(x, ql->k, q->act);
    sq_gemm_t g = {.m = 1, .n = ql->n, .k = ql->k, .flags = SQ_GEMM_OUT32, .a = q->act,
                   .w = ql->w, .c = q->acc};
    int rc = sq_gemm_ref(&g);
    if (rc)
        return sq_err(SQ_ERR_ARG, "golden GEMM rejected layer %d %s", layer, sq_wkind_name[kind]);
    for (size_t i = 0; i < ql->n; i++)
        y[i] = (float)q->acc[i] * sa * ql->scale[i];
    return 0;
}

void sq_qmodel_exec(sq_qmodel_t *q, sq_llama_exec_t *ex)
{
    ex->ctx = q;
    ex->linear = q->recipe.w8a8 ? linear_w8a8 : NULL;
}
