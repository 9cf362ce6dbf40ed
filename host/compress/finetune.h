/* The distill:steps=N pass: fine-tunes a compressed model against its fp32
 * teacher with the training loop of host/train, keeping what the other passes
 * decided (the zero pattern of pruning, 2:4 and head removal, and the weight
 * grid), then rebuilds the compressed layers from the trained weights. */
#ifndef SQ_FINETUNE_H
#define SQ_FINETUNE_H

#include <stddef.h>
#include <stdint.h>

#include "compress/calib.h"
#include "compress/qmodel.h"
#include "compress/recipe.h"
#include "model/llama.h"
#include "model/tokenizer.h"

typedef struct {
    int steps;      /* optimizer steps (the recipe's distill:steps=N) */
    int batch;      /* sequences per step */
    size_t samples; /* stories sampled from the teacher to train on */
    int len;        /* tokens per training sequence, BOS included */
    uint64_t seed;
    /* Called after every step with its mean loss (may be NULL). */
    void (*progress)(void *ctx, int step, int steps, double loss);
    void *progress_ctx;
} sq_finetune_opts_t;

/* steps from r, batch 8, 256 samples of 256 tokens, seed 1 (as sparq distill). */
void sq_finetune_opts_default(sq_finetune_opts_t *o, const sq_recipe_t *r);

typedef struct {
    double first_loss, last_loss;
    double seconds;
    size_t train_tokens;
} sq_finetune_stats_t;

/* m is the fp32 teacher and q its one-shot compression by r (cal as q was
 * built with). The student starts from q's layers dequantized (a compressed
 * classifier is untied from the token embedding, which trains in fp32),
 * trains on teacher samples plus text (may be NULL) and keeps q's zeros and
 * weight grid. On success *m holds the student and q its layers, rebuilt by
 * round to nearest on the grid they trained on (so the integers are the ones
 * the student ran with). Low-rank and shared layers are refused. */
int sq_finetune_run(sq_llama_t *m, sq_qmodel_t *q, const sq_recipe_t *r, const sq_calib_t *cal,
                    const sq_tokenizer_t *t, const char *text, const sq_finetune_opts_t *o,
                    sq_finetune_stats_t *stats);

#endif
