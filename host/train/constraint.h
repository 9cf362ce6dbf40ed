/* Compression constraints a student keeps while it is distilled: a fixed
 * mask per linear matrix (2:4, unstructured, pruned heads: any zero pattern)
 * and a quantization grid (int8 per output channel, int4 per group).
 *
 * Grids: round to nearest by the compression passes' quantizer
 * (sq_quant_weights in host/compress/quant.h, no Hessian), taken after
 * masking:
 * - int8: one scale per output row, sq_quant_i8's rule (scale max|w| / 127).
 *   A weight on this grid quantizes back to the same int8 value, so the w8a8
 *   recipe runs exactly the integers the student trained with.
 * - int4: one scale per `group` consecutive inputs of a row (max|w| / 7).
 * sq_constraints_hook turns a set into an sq_distill_hook_t: the forward pass
 * sees mask-then-grid weights, and after every step the master weights'
 * pruned entries are set back to 0. */
#ifndef SQ_CONSTRAINT_H
#define SQ_CONSTRAINT_H

#include <stddef.h>
#include <stdint.h>

#include "model/llama.h"
#include "train/distill.h"

typedef struct {
    uint8_t *mask; /* (n, k) 0 = pruned; NULL = dense */
    int bits;      /* 0 = fp32, 8 = int8 per row, 4 = int4 per group */
    size_t group;  /* int4 inputs per scale; 0 or >= k: one scale per row */
} sq_wconstraint_t;

typedef struct {
    sq_llama_config_t cfg;
    sq_wconstraint_t *w; /* (n_layers * SQ_W_COUNT), the classifier at layer 0 */
} sq_constraints_t;

/* An empty set (every matrix dense fp32) for cfg. */
int sq_constraints_build(sq_constraints_t *c, const sq_llama_config_t *cfg);
void sq_constraints_free(sq_constraints_t *c);
/* The entry of (layer, kind); the classifier is (0, SQ_W_CLS). */
sq_wconstraint_t *sq_constraints_at(sq_constraints_t *c, int layer, sq_wkind_t kind);

/* Sets the 2:4 mask of w (n x k) the matrix unit would store: each row is
 * rounded to int8 with sq_quant_i8 and sq_sp24_encode_row picks the 2 kept
 * positions of every group of 4 (a partial last group is padded with zeros,
 * as the encoder does). */
int sq_wconstraint_mask_sp24(sq_wconstraint_t *wc, const float *w, size_t n, size_t k);
/* Keeps exactly the nonzero entries of w (for weights another pass pruned). */
int sq_wconstraint_mask_nonzero(sq_wconstraint_t *wc, const float *w, size_t n, size_t k);
/* Sets the grid: bits 0, 8 or 4 (group as in sq_wconstraint_t). */
int sq_wconstraint_grid(sq_wconstraint_t *wc, int bits, size_t group);

/* out (n x k) = the grid applied to the masked w. out may equal w. */
int sq_wconstraint_apply(const sq_wconstraint_t *wc, const float *w, float *out, size_t n,
                         size_t k);

/* Sets every matrix of c from an already compressed model m: a matrix with
 * any zero weight keeps exactly its nonzero pattern (whatever pass pruned
 * it: 2:4, unstructured, heads), and every matrix gets the grid (bits 0, 8
 * or 4 with group; group >= k means one scale per row). */
int sq_constraints_keep(sq_constraints_t *c, const sq_llama_t *m, int bits, size_t group);

/* Applies every entry to m's matrices in place. */
int sq_constraints_apply(const sq_constraints_t *c, sq_llama_t *m);
/* A distillation hook that keeps c (c must outlive the hook's use). */
void sq_constraints_hook(sq_constraints_t *c, sq_distill_hook_t *h);

#endif
