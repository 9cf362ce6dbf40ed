/* Weight quantization and the masks chosen with it.
 *
 * Weights (n, k) are quantized per output row, symmetric, with one scale per
 * `group` consecutive inputs (group = k: one scale per channel):
 *   int8: s = max|w| / 127, q in [-127, 127] (sq_quant_i8, the golden rule)
 *   int4: s = max|w| / 7,   q = clamp(round_half_away(w / s), -8, 7)
 * and the layer computes y_i = sum_g s_ig * sum_{t in g} q_it * x_t.
 *
 * Round to nearest quantizes each weight alone. GPTQ (Frantar et al., 2022)
 * quantizes one input column at a time and spreads the error of each column
 * over the columns not yet quantized, weighted by the inverse of the
 * calibration Hessian H = sum x.x^T, which minimises ||W x - Q x||^2 over the
 * calibration inputs to second order. Columns go in act order (the most
 * active inputs first) with the group scales fixed beforehand, each chosen by
 * a small clipping search weighted by the Hessian's diagonal. With a pruning
 * target the columns keep their order, and the same sweep chooses which
 * weights to drop by w^2 / [H^-1]_jj^2 and compensates for them (SparseGPT,
 * Frantar & Alistarh, 2023). */
#ifndef SQ_QUANT_H
#define SQ_QUANT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int bits;          /* 8 or 4 */
    size_t group;      /* inputs per scale, 1..k (k: one scale per row) */
    const double *h;   /* (k, k) sum of x.x^T over calibration inputs; NULL: round to nearest */
    int sp24;          /* with h: keep 2 of every 4 inputs per row */
    double sparsity;   /* with h: unstructured fraction of weights to drop */
    const double *clip_h; /* without h: round to nearest with each group's scale
                           * clipped as GPTQ's are (weighted by diag clip_h) */
} sq_quant_opts_t;

/* Number of scales per row. */
size_t sq_quant_groups(size_t k, size_t group);

/* Quantizes w (n, k) into q (n, k) integer values and scale (n,
 * sq_quant_groups(k, group)). Returns 0 or an SQ_ERR_* code. */
int sq_quant_weights(const float *w, size_t n, size_t k, const sq_quant_opts_t *o, int8_t *q,
                     float *scale);

#endif
