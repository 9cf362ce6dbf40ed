/* Calibration statistics from running the fp32 model over text: what GPTQ,
 * static activation scales and head pruning need from real inputs. */
#ifndef SQ_CALIB_H
#define SQ_CALIB_H

#include <stddef.h>

#include "model/eval.h"
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
    float **cmax;       /* per channel max |x_j| (k) of each distinct input, as h */
    double **cabs;      /* per channel sum |x_j| (k) of each distinct input, as h */
    double *head_score; /* (n_layers, n_heads) sum over tokens of ||Wo[:, head] . x_head||^2 */
} sq_calib_t;

/* Runs m (fp32) over text, split and scored as sq_eval_text does. */
int sq_calib_collect(sq_calib_t *c, const sq_llama_t *m, const sq_tokenizer_t *t, const char *text);
/* The same with any story encoding (sq_eval_stories); progress may be NULL. */
int sq_calib_collect_stories(sq_calib_t *c, const sq_llama_t *m, const sq_story_enc_t *e,
                             const char *text, sq_eval_progress_fn progress);
/* The same where run's linear (not fp32) computes every layer's output, so
 * the statistics are of the inputs a compressed model sees (GPTQ's
 * sequential mode); run->ctx must not depend on the observer. */
int sq_calib_collect_exec(sq_calib_t *c, const sq_llama_t *m, const sq_llama_exec_t *run,
                          const sq_story_enc_t *e, const char *text, sq_eval_progress_fn progress);

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
/* Per-channel max |x_j| and sum |x_j| of the input of (layer, kind). */
const float *sq_calib_cmax(const sq_calib_t *c, int layer, sq_wkind_t kind);
const double *sq_calib_cabs(const sq_calib_t *c, int layer, sq_wkind_t kind);
/* The kind whose slot holds the statistics of kind's input (K, V -> Q;
 * W3 -> W1). */
sq_wkind_t sq_calib_input_of(sq_wkind_t kind);
/* Rescales the statistics of (layer, kind)'s input for the input x_j / s_j
 * (s: k positive values): Hessian, per-channel and overall maxima, sums. */
void sq_calib_scale_input(sq_calib_t *c, int layer, sq_wkind_t kind, const double *s);

#endif
