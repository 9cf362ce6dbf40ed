/* Recipes on a BERT encoder (all-MiniLM-L6-v2).
 *
 * Every linear layer (Q, K, V, O and both feed-forward matrices of each
 * layer) goes through the per-matrix passes of the Llama path
 * (sq_clinear_build: lowrank, prune or 2:4, share, quantization with RTN or
 * GPTQ) and runs through the encoder's sq_bert_exec_t hook by
 * sq_clinear_run_rows, so quantized weights multiply int8 activations (per
 * token, or with a static per-tensor scale from calibration) in the golden
 * GEMM, one m = tokens GEMM per linear.
 * Biases, LayerNorm, attention, GELU and the embeddings stay fp32. heads is
 * refused (no head scores for the encoder); distill:steps=N trains the
 * compressed encoder against the fp32 one (train/bert_train.h). */
#ifndef SQ_BERT_COMPRESS_H
#define SQ_BERT_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "compress/calib.h"
#include "compress/finetune.h"
#include "compress/qmodel.h"
#include "compress/recipe.h"
#include "model/bert.h"

/* SQ_ERR_ARG when r has a pass the encoder cannot run (checked before any
 * loading). */
int sq_bert_recipe_check(const sq_recipe_t *r);

/* The sentences of a text, as the report scores and calibration reads them:
 * text is split in place at . ! ? and newlines, leading spaces dropped, and
 * the pieces of at least 12 bytes without a story separator ("<|") are kept.
 * *s (malloc'd, pointing into text) receives *n of them. */
int sq_bert_sentences(char *text, char ***s, size_t *n);

/* Token ids of n sentences as the encoder reads them (*seq[i] of (*len)[i]
 * ids); free with sq_bert_free_sentences, also after an error. */
int sq_bert_encode_sentences(const sq_bert_t *m, char *const *s, size_t n, int32_t ***seq,
                             size_t **len);
void sq_bert_free_sentences(int32_t **seq, size_t *len, size_t n);

/* Calibration statistics (Hessians and max |x| of every linear input) from
 * the fp32 encoder over n sentences; c->tokens counts their tokens. */
int sq_bert_calib_collect(sq_calib_t *c, const sq_bert_t *m, char *const *s, size_t n);

typedef struct {
    const sq_bert_t *model;
    sq_recipe_t recipe;
    sq_clinear_t *layers; /* (n_layers * SQ_W_COUNT): kinds Q, K, V, O, 1, 2 */
    float *mid;           /* scratch: a low-rank layer's intermediate */
    sq_qscratch_t scratch; /* sized for the model's max_tokens rows */
} sq_bert_qmodel_t;

/* Compresses m's linear layers per r (m must outlive q); calib may be NULL
 * unless sq_recipe_needs_calib(r). An identity recipe gives q no layers
 * (fp32). */
int sq_bert_qmodel_build(sq_bert_qmodel_t *q, const sq_bert_t *m, const sq_recipe_t *r,
                         const sq_calib_t *calib);
void sq_bert_qmodel_free(sq_bert_qmodel_t *q);
/* Fills ex so sq_bert_forward/sq_bert_embed run q's layers. */
void sq_bert_qmodel_exec(sq_bert_qmodel_t *q, sq_bert_exec_t *ex);

/* Bytes of the fp32 encoder and of the compressed one (compressed linears
 * plus every other parameter in fp32). */
size_t sq_bert_bytes(const sq_bert_t *m);
size_t sq_bert_qmodel_bytes(const sq_bert_qmodel_t *q);

/* Mean and minimum cosine similarity of the embeddings of n sentences by m
 * run through ex against the fp32 encoder ref's (m == ref but for a
 * distilled student, whose biases and LayerNorms changed too). */
int sq_bert_cosines(const sq_bert_t *ref, const sq_bert_t *m, const sq_bert_exec_t *ex,
                    char *const *s, size_t n, double *mean, double *min);

/* distill:steps=N on the encoder: the student starts from q's layers
 * dequantized, keeps their zeros and weight grid, and trains on count
 * sentences (token ids seq[i] of len[i]) against teacher
 * (train/bert_train.h) at learning rate 1e-4 (o: steps, batch, seed,
 * progress). On success *student holds the trained encoder (sharing teacher's
 * tokenizer: free it with sq_bert_train_free_copy) and q its layers rebuilt by
 * round to nearest on that grid, running on *student. Low-rank and shared
 * layers are refused. */
int sq_bert_finetune(const sq_bert_t *teacher, sq_bert_qmodel_t *q, const sq_recipe_t *r,
                     const sq_calib_t *cal, int32_t *const *seq, const size_t *len, size_t count,
                     const sq_finetune_opts_t *o, sq_bert_t *student, sq_finetune_stats_t *stats);

#endif
