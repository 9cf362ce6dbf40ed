/* The integer encoder: a compressed BERT encoder (all-MiniLM-L6-v2) compiled
 * onto the device's three units, a sentence as one run (docs/integer_layer.md,
 * "The integer encoder").
 *
 * Build (once): calibrates static ranges with the fp32 encoder on
 * calibration sentences (the residual stream's fixed point, the int8 scales
 * of Q, K, V and the attention output per head and layer, the GELU input's
 * fixed point), places the int8 word and position embeddings, the fused
 * Q|K|V weights (1 / the int8 scales folded into their channels), O, the
 * feed-forward weights, the biases in each op's output units and the
 * LayerNorm gains and biases.
 *
 * Run (per sentence of M tokens): the host writes the token ids; the device
 * gathers and adds the embeddings, LayerNorms, and for each layer projects
 * Q|K|V (M rows, biases added by the vector unit), attends bidirectionally
 * on the attention unit (queries = keys = M), copies the heads into rows,
 * projects O, adds the residual and LayerNorms, and runs W1, GELU, W2, the
 * residual and LayerNorm; the host reads the last hidden states (M, dim)
 * back and mean-pools and L2-normalises them itself. One stream per
 * sentence length, written and uploaded the first time that length runs. */
#ifndef SQ_BERT_INT_H
#define SQ_BERT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "compress/bert_compress.h"
#include "report/report.h"
#include "runtime/device.h"

typedef struct sq_bert_int sq_bert_int_t;

/* 0 when q can run as the integer encoder (every linear one integer leaf
 * with per-token activations, Q/K/V in one format); else SQ_ERR_ARG with the
 * reason. */
int sq_bert_int_supported(const sq_bert_qmodel_t *q);

/* Compiles q for dev, calibrated on the n sentences s. rep (may be NULL)
 * receives every descriptor's counters. q, dev and rep must outlive p. */
int sq_bert_int_build(sq_bert_int_t **out, const sq_bert_qmodel_t *q, sq_dev_t *dev,
                      sq_report_t *rep, char *const *s, size_t n);
void sq_bert_int_free(sq_bert_int_t *p);

/* n token ids (1 <= n <= the model's max_tokens) as one run: the last hidden
 * states (n, dim) dequantized to fp32. */
int sq_bert_int_forward(sq_bert_int_t *p, const int32_t *ids, size_t n, float *hidden);

/* Installs the run as ex's whole forward pass (sq_bert_embed then tokenizes
 * and pools around it). */
void sq_bert_int_exec(sq_bert_int_t *p, sq_bert_exec_t *ex);

/* The stream of the last run (NULL before the first), for tests. */
const uint8_t *sq_bert_int_stream(const sq_bert_int_t *p, uint32_t *n_cmds);

#endif
