/* The compression passes' dense linear algebra on LAPACK (LAPACKE's C
 * interface over OpenBLAS, Debian liblapacke-dev and libopenblas-dev):
 * dpotrf for Cholesky, dpotri for the SPD inverse, dgesdd for the SVD. */
#include "compress/linalg.h"

#include <lapacke.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

int sq_chol_factor(double *a, size_t n)
{
    if (n == 0)
        return 0;
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', (lapack_int)n, a, (lapack_int)n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        memset(a + i * n + i + 1, 0, (n - i - 1) * sizeof *a);
    return 0;
}

int sq_spd_inverse(const double *a, size_t n, double *inv)
{
    if (n == 0)
        return 0;
    memcpy(inv, a, n * n * sizeof *inv);
    lapack_int ln = (lapack_int)n;
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', ln, inv, ln) != 0 ||
        LAPACKE_dpotri(LAPACK_ROW_MAJOR, 'L', ln, inv, ln) != 0)
        return -1;
    /* dpotri leaves the lower triangle: mirror it */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            inv[i * n + j] = inv[j * n + i];
    return 0;
}

int sq_svd(const float *a, size_t m, size_t n, double *u, double *s, double *vt)
{
    size_t p = m < n ? m : n;
    double *x = malloc(m * n * sizeof *x);
    if (!x)
        return sq_err(SQ_ERR_MEM, "svd: out of memory for a %zux%zu matrix", m, n);
    for (size_t i = 0; i < m * n; i++)
        x[i] = a[i];
    /* 'S': the thin factors, u (m, p) and vt (p, n), singular values descending */
    lapack_int info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'S', (lapack_int)m, (lapack_int)n, x,
                                     (lapack_int)n, s, u, (lapack_int)p, vt, (lapack_int)n);
    free(x);
    if (info == LAPACK_WORK_MEMORY_ERROR)
        return sq_err(SQ_ERR_MEM, "svd: out of memory for a %zux%zu matrix", m, n);
    /* LAPACKE's own input check refuses NaN (info < 0); > 0: no convergence */
    if (info != 0)
        return sq_err(SQ_ERR_ARG, "svd: LAPACK dgesdd failed (info %d) on a %zux%zu matrix",
                      (int)info, m, n);
    return 0;
}
