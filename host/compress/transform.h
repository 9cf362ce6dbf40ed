/* Equivalence transforms of an fp32 Llama model: rewrites that leave its
 * function unchanged (up to float rounding) but make its weights and
 * activations easier to quantize. They run before calibration and the
 * per-matrix passes (recipe passes rot, :awq, :smooth).
 *
 * - Folding the RMSNorm weights into the linears that read the norm's output
 *   (the classifier is then its own matrix, no longer the embedding).
 * - Rotation (QuaRot, Ashkboos et al. 2024): with weightless norms,
 *   RMSNorm(Q x) = Q RMSNorm(x) for an orthogonal Q, so the residual stream
 *   can carry Q x: the embedding rows become Q e, every matrix that reads the
 *   stream W Q^T, every matrix that writes it Q W. Q = H D / sqrt(n) is the
 *   Hadamard matrix of include/sparq/hadamard.h with random signs D. Each
 *   value head is rotated the same way by H_hs (W_v's rows of the head, W_o's
 *   columns of every query head reading it). Outliers of single channels are
 *   spread over all of them. W2's input (after SwiGLU) cannot be rotated
 *   offline: its layer rotates it online (compress/qlinear.h).
 * - Input scaling (AWQ, SmoothQuant): dividing a linear's input channel j by
 *   s_j and multiplying its weight column j by s_j, the division folded into
 *   the op before: the norm weight (Q/K/V, W1/W3, classifier), W3's rows
 *   (W2, since SwiGLU is linear in W3's output) or W_v's rows (W_o, when
 *   every query head has its own value head). */
#ifndef SQ_TRANSFORM_H
#define SQ_TRANSFORM_H

#include <stddef.h>
#include <stdint.h>

#include "compress/calib.h"
#include "compress/recipe.h"
#include "model/llama.h"

/* A copy of m; with untie, a tied classifier becomes its own matrix. */
int sq_llama_copy(const sq_llama_t *m, sq_llama_t *out, int untie);

/* The rotation by the normalized Hadamard matrix of order n >= k (see
 * sparq/hadamard.h), optionally with random signs first. */
typedef struct {
    size_t n, m;
    int8_t *tab;
    double *buf, *buf2, *tmp;
    signed char *sign; /* NULL: no signs */
} sq_rot_t;

/* SQ_ERR_ARG when no order >= k exists. */
int sq_rot_init(sq_rot_t *r, size_t k, uint64_t sign_seed);
void sq_rot_free(sq_rot_t *r);
/* v (count <= n values at stride apart) <- the first count values of
 * (H D / sqrt(n)) v zero-padded to n, or with transpose of the inverse
 * (D H^T / sqrt(n)) v. */
void sq_rot_apply(const sq_rot_t *r, float *v, size_t count, size_t stride, int transpose);
void sq_rot_apply_f64(const sq_rot_t *r, double *v, size_t count, size_t stride, int transpose);

/* What r asks for before calibration: fold the norms (rot, awq, smooth) and
 * rotate (rot). m is replaced by the transformed model. */
int sq_xform_prepare(sq_llama_t *m, const sq_recipe_t *r);

/* Divides the input of (layer, kind)'s linears by s (k positive values) as
 * above; SQ_ERR_ARG for an input with no op to fold into (W_o with grouped
 * value heads). */
int sq_xform_scale_input(sq_llama_t *m, int layer, sq_wkind_t kind, const double *s);

/* The inputs scaling can apply to: Q (Q/K/V), O (when n_heads ==
 * n_kv_heads), W1 (W1/W3), W2 and, in layer 0, the classifier. */
int sq_xform_can_scale(const sq_llama_config_t *c, int layer, sq_wkind_t kind);

#endif
