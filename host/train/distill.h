/* Knowledge distillation of a compressed student from its fp32 teacher.
 *
 * Training data is a list of token sequences, each starting with BOS at
 * position 0 (as the model sees stories at inference): text split into
 * stories like sq_eval_text, and stories sampled from the teacher. Each step
 * takes `batch` random sequences, runs teacher and student over them
 * (sq_train_forward) and minimises
 *     kl_weight * T^2 * KL(softmax(teacher/T) || softmax(student/T))
 *   + ce_weight * cross-entropy(student, next token)
 * averaged over positions, with AdamW on an fp32 master copy of the student.
 * A hook keeps the compression constraints: before every forward it maps the
 * master weights to the weights the student runs with (masked, rounded to a
 * quantization grid; the backward pass treats that map as identity, i.e. a
 * straight-through estimator), and after every step it may project the
 * master copy (e.g. re-zero pruned weights). */
#ifndef SQ_DISTILL_H
#define SQ_DISTILL_H

#include <stddef.h>
#include <stdint.h>

#include "model/llama.h"
#include "model/tokenizer.h"

/* Token sequences stored back to back; sequence i is tok[off[i] .. off[i+1]),
 * its first token BOS. */
typedef struct {
    int *tok;
    size_t *off;    /* (n + 1) */
    size_t n;       /* sequences */
    size_t cap_tok, cap_seq;
} sq_distill_data_t;

void sq_distill_data_init(sq_distill_data_t *d);
void sq_distill_data_free(sq_distill_data_t *d);
/* Adds every story of text (split on "<|endoftext|>", surrounding newlines
 * trimmed, empty ones skipped) as BOS + its tokens, cut to max_tokens in all. */
int sq_distill_data_add_text(sq_distill_data_t *d, const sq_tokenizer_t *t, const char *text,
                             int max_tokens);
/* Adds n stories sampled from teacher (sq_llama_forward + sq_sampler at
 * temperature/topp, seeded): BOS, then sampled tokens until the teacher
 * samples BOS (kept, as the story's end) or max_tokens tokens in all. */
int sq_distill_data_add_samples(sq_distill_data_t *d, const sq_llama_t *teacher, size_t n,
                                int max_tokens, float temperature, float topp, uint64_t seed);
/* Summed next-token NLL (nats) of m over every sequence of d, through
 * sq_llama_forward and ex (NULL: fp32), so a recipe's exec scores it the way
 * sq_eval_text scores text. *tokens gets the number of scored positions. */
int sq_distill_data_nll(const sq_llama_t *m, const sq_distill_data_t *d, const sq_llama_exec_t *ex,
                        double *nll, size_t *tokens);

/* How the caller keeps its compression while the student trains. Either
 * function may be NULL (identity / nothing). Both see each linear matrix
 * (n outputs x k inputs, row-major) once per call round; with a shared
 * classifier SQ_W_CLS (layer 0) is the token embedding, so the embedding the
 * student looks tokens up in is constrained the same way. */
typedef struct {
    /* out = the weights the student's forward uses, from the master copy w. */
    int (*fake)(void *ctx, int layer, sq_wkind_t kind, const float *w, float *out, size_t n,
                size_t k);
    /* Called on the master copy after every optimizer step. */
    int (*project)(void *ctx, int layer, sq_wkind_t kind, float *w, size_t n, size_t k);
    void *ctx;
} sq_distill_hook_t;

typedef struct {
    int steps;
    int batch;            /* sequences per step */
    float lr;             /* peak; linear warmup, then cosine decay to lr / 10 */
    int warmup;           /* steps */
    float weight_decay;   /* AdamW, on matrices */
    float clip;           /* global gradient-norm clip; 0 = none */
    float temperature;    /* of the KL term */
    float kl_weight;
    float ce_weight;      /* hard-label cross-entropy on the data's next tokens */
    int act8;             /* round every linear input to int8 per token (w8a8) */
    uint64_t seed;        /* batch sampling */
    /* Called after every step with the step's mean loss (may be NULL). */
    void (*progress)(void *ctx, int step, int steps, double loss);
    void *progress_ctx;
} sq_distill_opts_t;

/* steps 200, batch 8, lr 2e-3, warmup 10, weight_decay 0, clip 1,
 * temperature 1, kl_weight 1, ce_weight 0, act8 0, seed 1. */
void sq_distill_opts_default(sq_distill_opts_t *o);

/* The learning rate of a step: linear warmup to lr, then cosine decay to
 * lr / 10 at the last step. */
float sq_distill_lr(const sq_distill_opts_t *o, int step);

typedef struct {
    double first_loss, last_loss; /* mean loss of the first and last step */
    double seconds;                /* wall time of the training loop */
    double cpu_seconds;            /* CPU time of this process in the loop (one
                                    * thread: wall time minus waiting for a core) */
    size_t tokens;                 /* positions trained on, all steps */
} sq_distill_stats_t;

/* The loss above over n positions: student logits zs and teacher logits zt
 * (n, V), next tokens target (n). Writes scale * d loss / d zs into dz and
 * returns the summed (unscaled) loss. */
double sq_distill_loss(const float *zs, const float *zt, const int *target, size_t n, int V,
                       const sq_distill_opts_t *o, float scale, float *dz);

/* Trains student (in place) against teacher on data. On return the student
 * holds hook->fake of the trained master weights, i.e. exactly the weights it
 * ran with (masked and on the grid). teacher and student must have the same
 * config; sequences longer than seq_len + 1 tokens are rejected. */
int sq_distill_run(const sq_llama_t *teacher, sq_llama_t *student, const sq_distill_data_t *data,
                   const sq_distill_hook_t *hook, const sq_distill_opts_t *o,
                   sq_distill_stats_t *stats);

/* Fills out with hook->fake of every linear matrix of w (other weights
 * copied); with a NULL hook, a copy. out has w's config. */
int sq_distill_fake(const sq_distill_hook_t *hook, const sq_llama_t *w, sq_llama_t *out);

#endif
