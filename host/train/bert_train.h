/* Distilling a compressed BERT encoder (all-MiniLM-L6-v2) from its fp32
 * self: a training forward and backward pass of host/model/bert.h's encoder
 * over one sentence, and a loop that pulls the student's hidden states
 * towards the teacher's.
 *
 * Objective (TinyBERT's intermediate-layer distillation, Jiao et al. 2020):
 * the mean over layers of the mean squared difference between the student's
 * and the teacher's hidden state after that layer, over every token and
 * channel. A sentence embedding is the mean of the last hidden states, so the
 * last term pulls the embedding towards the teacher's and the others give
 * every layer its own signal.
 *
 * Trained: the six matrices of every layer (through their constraints: mask
 * and grid, as the Llama student, straight-through), their biases and both
 * LayerNorms; the embeddings stay the teacher's. With act8 every linear input
 * is rounded to int8 per token as the w8a8 recipe does (straight-through). */
#ifndef SQ_BERT_TRAIN_H
#define SQ_BERT_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "model/bert.h"
#include "train/constraint.h"
#include "train/distill.h"

/* A copy of m's weights sharing its tokenizer (free with
 * sq_bert_train_free_copy, not sq_bert_free). */
int sq_bert_train_copy(const sq_bert_t *m, sq_bert_t *out);
void sq_bert_train_free_copy(sq_bert_t *m);

/* The objective for one sentence of n token ids: loss, and with g (a copy
 * of m's layout from sq_bert_train_copy, zeroed by the caller) the gradient
 * of scale * loss added into g's six matrices, biases and LayerNorms. The
 * teacher's hidden states t (n_layers, n, dim) come from
 * sq_bert_train_states. */
int sq_bert_train_step(const sq_bert_t *m, const int32_t *ids, size_t n, const float *t,
                       int act8, float scale, sq_bert_t *g, double *loss);

/* Hidden state after every layer (n_layers, n, dim) of m (fp32). */
int sq_bert_train_states(const sq_bert_t *m, const int32_t *ids, size_t n, float *out);

/* Trains student against teacher on sentences (token ids seq[i] of len[i]).
 * cons (n_layers * SQ_W_COUNT, the six BERT kinds) are the student's masks
 * and grids. Uses o's steps, batch, lr, warmup, weight_decay, clip, act8,
 * seed and progress (the KL terms are the Llama loss's). On return the
 * student holds the constrained weights it ran with. */
int sq_bert_distill(const sq_bert_t *teacher, sq_bert_t *student, const sq_wconstraint_t *cons,
                    int32_t *const *seq, const size_t *len, size_t count,
                    const sq_distill_opts_t *o, sq_distill_stats_t *stats);

#endif
