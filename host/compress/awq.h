/* Per-input-channel scales chosen from calibration statistics and folded into
 * the model (sq_xform_scale_input), each input's linears then quantized as
 * usual: y = W x = (W diag(s)) (x / s).
 *
 * AWQ (Lin et al., 2024): s_j = mean|x_j|^a / sqrt(max_j * min_j of the
 * same), with a in {0, 1/20, ..., 19/20} chosen per input (the linears that
 * read it together) to minimise sum over their rows of d^T H d, d the
 * round-to-nearest error of the scaled row mapped back (Q(w s) / s - w) and H
 * the calibration Hessian of the input (a = 0 is no scaling, so the search
 * never loses on this loss). Rows are sampled evenly when the loss would cost
 * more than 2^24 multiply-adds per row set. Inputs: Q/K/V, W_o (one value
 * head per query head only), W1/W3, W2 (not with rot: its input is rotated
 * online) and the classifier.
 *
 * SmoothQuant (Xiao et al., 2023): s_j = max|x_j|^a / max|w_j|^(1 - a) for a
 * given a, max|w_j| over the column j of every linear reading the input; on
 * the inputs of Q/K/V and W1/W3, as the reference implementation does.
 *
 * Both work on one layer at a time (layer n_layers: the classifier), after
 * its calibration, and rescale its calibration statistics with the model (cal
 * stays the statistics of the model's inputs). */
#ifndef SQ_AWQ_H
#define SQ_AWQ_H

#include "compress/calib.h"
#include "compress/recipe.h"
#include "model/llama.h"

int sq_awq_layer(sq_llama_t *m, sq_calib_t *cal, const sq_recipe_t *r, int layer);
int sq_smooth_layer(sq_llama_t *m, sq_calib_t *cal, const sq_recipe_t *r, int layer);

#endif
