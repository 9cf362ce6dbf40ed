/* Pruning passes on fp32 weights (n rows of k inputs, row-major). */
#ifndef SQ_PRUNE_H
#define SQ_PRUNE_H

#include <stddef.h>

/* Zeroes the floor(sparsity * count) smallest-magnitude values of w (count
 * values; ties broken by position so the count is exact). */
int sq_prune_magnitude(float *w, size_t count, double sparsity);

/* Keeps the 2 largest |w| of every 4 consecutive inputs of each row (the
 * lower position wins ties, as sq_sp24_encode_row), zeroing the others. */
void sq_prune_24(float *w, size_t n, size_t k);

/* Wanda (Sun et al., 2023): the importance of w_ij is |w_ij| * ||x_j||, with
 * xnorm (k) the input norms over calibration tokens. sq_prune_wanda zeroes
 * the floor(sparsity * k) least important weights of each row (ties by
 * position); sq_prune_wanda_24 keeps the 2 most important of every 4. */
int sq_prune_wanda(float *w, size_t n, size_t k, const double *xnorm, double sparsity);
void sq_prune_wanda_24(float *w, size_t n, size_t k, const double *xnorm);

/* Marks the `drop` heads with the lowest score (ties: the lower index stays)
 * in removed (n_heads). */
void sq_prune_heads_pick(const double *score, int n_heads, int drop, int *removed);

#endif
