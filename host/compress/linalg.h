/* Dense linear algebra the compression passes need (double precision,
 * row-major): Cholesky, SPD inverse and SVD, computed by LAPACK (LAPACKE over
 * OpenBLAS). */
#ifndef SQ_LINALG_H
#define SQ_LINALG_H

#include <stddef.h>

/* In-place Cholesky a = L.L^T of a symmetric positive definite (n, n) matrix:
 * L is left in the lower triangle and the strict upper triangle is zeroed.
 * Returns 0, or -1 when a is not positive definite (a is then garbage). */
int sq_chol_factor(double *a, size_t n);

/* inv = a^-1 for symmetric positive definite a (n, n). Returns 0 or -1 as
 * sq_chol_factor. */
int sq_spd_inverse(const double *a, size_t n, double *inv);

/* Thin SVD a (m, n) = U.diag(s).V^T with p = min(m, n) singular values in
 * descending order: u (m, p) and the rows of vt (p, n) orthonormal, s (p).
 * Returns 0, SQ_ERR_MEM, or SQ_ERR_ARG when LAPACK does not converge (a
 * matrix holding NaN or infinity). */
int sq_svd(const float *a, size_t m, size_t n, double *u, double *s, double *vt);

#endif
