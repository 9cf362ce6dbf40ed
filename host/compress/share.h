/* Weight sharing: 1-D k-means of a tensor's values into a small codebook. */
#ifndef SQ_SHARE_H
#define SQ_SHARE_H

#include <stddef.h>
#include <stdint.h>

/* Clusters w (count values) into at most k <= 256 centroids (Lloyd's
 * algorithm from quantile seeds, until no assignment changes or `iters`
 * rounds). Exact zeros (pruned weights) stay zero: when w has any, entry 0 of
 * the codebook is 0 and only the nonzeros are clustered into the other k-1.
 * Writes codebook (k), idx (count) and the number of entries used. mse, when
 * not NULL, receives the mean squared error after each round (iters values,
 * the last repeated once converged). */
int sq_share_fit(const float *w, size_t count, int k, int iters, float *codebook, uint8_t *idx,
                 int *used, double *mse);

#endif
