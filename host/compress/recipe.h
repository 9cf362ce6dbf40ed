/* Compression recipes applied to a Llama model, and the quantized linear
 * layers they produce. A recipe is a comma-separated list of passes; this
 * file knows "fp32" (no pass) and "w8a8": int8 weights per output channel
 * (symmetric), int8 activations per token (dynamic, symmetric), int32
 * accumulation through the golden GEMM (sq_gemm_ref), fp32 between layers. */
#ifndef SQ_RECIPE_H
#define SQ_RECIPE_H

#include <stddef.h>
#include <stdint.h>

#include "model/llama.h"

typedef struct {
    int w8a8; /* int8 weights x int8 activations */
} sq_recipe_t;

/* Parses a recipe string; an unknown pass is an SQ_ERR_ARG error naming it. */
int sq_recipe_parse(const char *spec, sq_recipe_t *r);

/* One int8 linear layer: W (n, k) as int8 with a scale per output channel. */
typedef struct {
    size_t n, k;
    int8_t *w;    /* (n, k) */
    float *scale; /* (n) */
} sq_qlinear_t;

int sq_qlinear_build(sq_qlinear_t *q, const float *w, size_t n, size_t k);
void sq_qlinear_free(sq_qlinear_t *q);

/* A model with a recipe applied: quantized copies of every linear layer. */
typedef struct {
    const sq_llama_t *model;
    sq_recipe_t recipe;
    sq_qlinear_t *layers; /* (n_layers * SQ_W_COUNT), index layer * SQ_W_COUNT + kind */
    int8_t *act;          /* scratch (max k) */
    int32_t *acc;         /* scratch (max n) */
} sq_qmodel_t;

/* Quantizes m's weights per recipe r (m must outlive q). */
int sq_qmodel_build(sq_qmodel_t *q, const sq_llama_t *m, const sq_recipe_t *r);
void sq_qmodel_free(sq_qmodel_t *q);
/* The quantized layer for (layer, kind); the classifier lives at layer 0. */
const sq_qlinear_t *sq_qmodel_layer(const sq_qmodel_t *q, int layer, sq_wkind_t kind);
/* Fills ex so sq_llama_forward runs q's linear layers on the golden reference;
 * with no quantizing pass, ex runs fp32. */
void sq_qmodel_exec(sq_qmodel_t *q, sq_llama_exec_t *ex);

#endif
