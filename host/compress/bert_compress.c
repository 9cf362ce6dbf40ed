#include "compress/bert_compress.h"

#include <stdlib.h>
#include <string.h>

#include "compress/qmodel.h"
#include "util/err.h"

int sq_bert_recipe_check(const sq_recipe_t *r)
{
    if (r->act == SQ_ACT_STATIC || r->solver == SQ_SOLVE_GPTQ || r->heads || r->distill_steps)
        return sq_err(SQ_ERR_ARG, "BERT recipes are weights only: a8s, :gptq, heads and distill need "
                                  "the encoder's activations");
    return 0;
}

int sq_bert_compress(sq_bert_t *m, const sq_recipe_t *r, size_t *bytes, size_t *bytes32)
{
    const sq_bert_config_t *c = &m->cfg;
    int rc = sq_bert_recipe_check(r);
    if (rc)
        return rc;
    size_t d = (size_t)c->dim, h = (size_t)c->hidden_dim, L = (size_t)c->n_layers;
    size_t linear = L * (4 * d * d + 2 * h * d);
    size_t other = (size_t)c->vocab_size * d + (size_t)c->max_pos * d + (size_t)c->n_types * d +
                   2 * d + L * (4 * d + 2 * d + h + d + 2 * d);
    *bytes32 = (linear + other) * sizeof(float);
    *bytes = other * sizeof(float);
    struct {
        float *w;
        size_t n, k;
    } mats[6] = {{m->w.wq, d, d}, {m->w.wk, d, d}, {m->w.wv, d, d},
                 {m->w.wo, d, d}, {m->w.w1, h, d}, {m->w.w2, d, h}};
    float *w = malloc(h * d * sizeof *w);
    if (!w)
        return sq_err(SQ_ERR_MEM, "out of memory compressing BERT");
    for (size_t l = 0; l < L && !rc; l++)
        for (size_t i = 0; i < 6 && !rc; i++) {
            size_t n = mats[i].n, k = mats[i].k;
            float *dst = mats[i].w + l * n * k;
            if (sq_recipe_is_identity(r)) {
                *bytes += n * k * sizeof(float);
                continue;
            }
            memcpy(w, dst, n * k * sizeof *w);
            sq_clinear_t cl;
            rc = sq_clinear_build(&cl, w, n, k, NULL, 0.0f, r);
            if (!rc)
                rc = sq_clinear_dequant(&cl, dst, n, k);
            *bytes += sq_clinear_bytes(&cl);
            sq_clinear_free(&cl);
        }
    free(w);
    return rc;
}
