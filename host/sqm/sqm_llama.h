/* Llama models in .sqm files: the tensor names and the conversions both
 * ways. A compression pass writes these names with whatever dtype it chose;
 * sq_sqm_to_llama dequantizes every tensor back to fp32.
 *
 * Names (shapes outermost first, weights (out, in)):
 *   tok_embeddings.weight               (vocab, dim)
 *   layers.L.attention_norm.weight      (dim)
 *   layers.L.attention.wq.weight        (dim, dim)
 *   layers.L.attention.wk.weight        (kv_dim, dim)
 *   layers.L.attention.wv.weight        (kv_dim, dim)
 *   layers.L.attention.wo.weight        (dim, dim)
 *   layers.L.ffn_norm.weight            (dim)
 *   layers.L.feed_forward.w1.weight     (hidden, dim)   gate
 *   layers.L.feed_forward.w2.weight     (dim, hidden)   down
 *   layers.L.feed_forward.w3.weight     (hidden, dim)   up
 *   norm.weight                         (dim)
 *   output.weight                       (vocab, dim)    absent when the
 *                                       config's SQ_SQM_SHARED_CLASSIFIER is set
 * The config's arch is "llama". */
#ifndef SQ_SQM_LLAMA_H
#define SQ_SQM_LLAMA_H

#include <stddef.h>

#include "model/llama.h"
#include "sqm/sqm.h"

/* Name of tensor kind (SQ_W_* or one of the SQ_SQM_LLAMA_* below) of layer
 * into buf. */
enum { SQ_SQM_LLAMA_EMBED = SQ_W_COUNT, SQ_SQM_LLAMA_ATT_NORM, SQ_SQM_LLAMA_FFN_NORM,
       SQ_SQM_LLAMA_FINAL_NORM };
void sq_sqm_llama_name(int kind, int layer, char *buf, size_t cap);

void sq_sqm_config_from_llama(const sq_llama_config_t *c, sq_sqm_config_t *out);
/* Every tensor as f32 (the starting point of a compression pass). */
int sq_sqm_from_llama(const sq_llama_t *m, sq_sqm_t **out);
/* Checks the arch, config and every tensor's presence and shape, and
 * dequantizes into a fresh fp32 model. */
int sq_sqm_to_llama(const sq_sqm_t *s, sq_llama_t *m);

#endif
