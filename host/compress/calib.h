/* Calibration statistics from running the fp32 model over text: what GPTQ,
 * static activation scales and head pruning need from real inputs. */
#ifndef SQ_CALIB_H
#define SQ_CALIB_H

#include <stddef.h>

#include "model/llama.h"
#include "model/tokenizer.h"

typedef struct {
    int n_layers, n_heads;
    size_t k[SQ_W_COUNT]; /* input width of each kind; 0: the model has no such matrix */
    size_t tokens;
    double **h;         /* (n_layers * SQ_W_COUNT) sum of x.x^T (k, k) of each distinct
                         * linear input: at Q (shared by K, V), O, W1 (shared by W3),
                         * W2 and, in layer 0, CLS; NULL elsewhere */
    float *amax;        /* (n_layers * SQ_W_COUNT) max |x| of each linear's input */
    double *head_score; /* (n_layers, n_heads) sum over tokens of ||Wo[:, head] . x_head||^2 */
} sq_calib_t;

/* Runs m (fp32) over text, split and scored as sq_eval_text does. */
int sq_calib_collect(sq_calib_t *c, const sq_llama_t *m, const sq_tokenizer_t *t, const char *text);
void sq_calib_free(sq_calib_t *c);

/* The pieces of a collection, for other models (the BERT encoder): zeroed
 * statistics for inputs of widths k (CLS in layer 0 only); then every linear
 * input x (k[kind]) seen while the fp32 model runs, which adds to the max |x|
 * of (layer, kind) and to the Hessian of the kind that owns the input (its
 * upper triangle); then sq_calib_finish, which mirrors the Hessians. The
 * caller counts tokens and scores heads. */
int sq_calib_init(sq_calib_t *c, int n_layers, int n_heads, const size_t k[SQ_W_COUNT]);
void sq_calib_observe(sq_calib_t *c, int layer, sq_wkind_t kind, const float *x);
void sq_calib_finish(sq_calib_t *c);

/* The Hessian sum x.x^T of the input of (layer, kind). */
const double *sq_calib_hessian(const sq_calib_t *c, int layer, sq_wkind_t kind);
float sq_calib_amax(const sq_calib_t *c, int layer, sq_wkind_t kind);

#endif
