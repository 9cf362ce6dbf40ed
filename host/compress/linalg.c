#include "compress/linalg.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

int sq_chol_factor(double *a, size_t n)
{
    for (size_t j = 0; j < n; j++) {
        double d = a[j * n + j];
        for (size_t t = 0; t < j; t++)
            d -= a[j * n + t] * a[j * n + t];
        if (!(d > 0))
            return -1;
        d = sqrt(d);
        a[j * n + j] = d;
        for (size_t i = j + 1; i < n; i++) {
            double v = a[i * n + j];
            for (size_t t = 0; t < j; t++)
                v -= a[i * n + t] * a[j * n + t];
            a[i * n + j] = v / d;
        }
        for (size_t i = j + 1; i < n; i++)
            a[j * n + i] = 0;
    }
    return 0;
}

int sq_spd_inverse(const double *a, size_t n, double *inv)
{
    double *l = malloc(n * n * sizeof *l);
    if (!l)
        return -1;
    memcpy(l, a, n * n * sizeof *l);
    if (sq_chol_factor(l, n)) {
        free(l);
        return -1;
    }
    /* Column c of the inverse solves L.L^T x = e_c. */
    double *x = inv;
    for (size_t c = 0; c < n; c++) {
        double *y = malloc(n * sizeof *y);
        if (!y) {
            free(l);
            return -1;
        }
        for (size_t i = 0; i < n; i++) {
            double v = i == c ? 1.0 : 0.0;
            for (size_t t = 0; t < i; t++)
                v -= l[i * n + t] * y[t];
            y[i] = v / l[i * n + i];
        }
        for (size_t ii = n; ii-- > 0;) {
            double v = y[ii];
            for (size_t t = ii + 1; t < n; t++)
                v -= l[t * n + ii] * x[t * n + c];
            x[ii * n + c] = v / l[ii * n + ii];
        }
        free(y);
    }
    free(l);
    return 0;
}

typedef struct {
    double s;
    size_t i;
} sv_t;

static int sv_desc(const void *a, const void *b)
{
    double x = ((const sv_t *)a)->s, y = ((const sv_t *)b)->s;
    return x < y ? 1 : x > y ? -1 : 0;
}

int sq_svd(const float *a, size_t m, size_t n, double *u, double *s, double *vt)
{
    /* Work on x (rows, p) with rows >= p: a itself, or a^T when m < n, so the
     * rotations orthogonalise the fewer, longer columns. */
    int tr = m < n;
    size_t rows = tr ? n : m, p = tr ? m : n;
    double *x = malloc(rows * p * sizeof *x); /* column-major: column c at x + c*rows */
    double *v = calloc(p * p, sizeof *v);     /* column-major */
    sv_t *order = malloc(p * sizeof *order);
    if (!x || !v || !order) {
        free(x);
        free(v);
        free(order);
        return sq_err(SQ_ERR_MEM, "svd: out of memory for a %zux%zu matrix", m, n);
    }
    for (size_t r = 0; r < rows; r++)
        for (size_t c = 0; c < p; c++)
            x[c * rows + r] = tr ? a[c * n + r] : a[r * n + c];
    for (size_t c = 0; c < p; c++)
        v[c * p + c] = 1;
    for (int sweep = 0; sweep < 80; sweep++) {
        int rotated = 0;
        for (size_t i = 0; i + 1 < p; i++) {
            double *xi = x + i * rows;
            for (size_t j = i + 1; j < p; j++) {
                double *xj = x + j * rows;
                double al = 0, be = 0, ga = 0;
                for (size_t r = 0; r < rows; r++) {
                    al += xi[r] * xi[r];
                    be += xj[r] * xj[r];
                    ga += xi[r] * xj[r];
                }
                if (fabs(ga) <= 1e-15 * sqrt(al * be) || ga == 0)
                    continue;
                rotated = 1;
                double zeta = (be - al) / (2 * ga);
                double t = (zeta >= 0 ? 1.0 : -1.0) / (fabs(zeta) + sqrt(1 + zeta * zeta));
                double cs = 1 / sqrt(1 + t * t), sn = cs * t;
                for (size_t r = 0; r < rows; r++) {
                    double p0 = xi[r], p1 = xj[r];
                    xi[r] = cs * p0 - sn * p1;
                    xj[r] = sn * p0 + cs * p1;
                }
                double *vi = v + i * p, *vj = v + j * p;
                for (size_t r = 0; r < p; r++) {
                    double p0 = vi[r], p1 = vj[r];
                    vi[r] = cs * p0 - sn * p1;
                    vj[r] = sn * p0 + cs * p1;
                }
            }
        }
        if (!rotated)
            break;
    }
    for (size_t c = 0; c < p; c++) {
        double nrm = 0;
        for (size_t r = 0; r < rows; r++)
            nrm += x[c * rows + r] * x[c * rows + r];
        order[c] = (sv_t){sqrt(nrm), c};
    }
    qsort(order, p, sizeof *order, sv_desc);
    /* x = U_x.S and a = x.V^T (or a^T): U_x pairs with rows, V with p. */
    for (size_t o = 0; o < p; o++) {
        size_t c = order[o].i;
        double sv = order[o].s;
        s[o] = sv;
        for (size_t r = 0; r < rows; r++) {
            double ux = sv > 0 ? x[c * rows + r] / sv : 0;
            if (tr)
                vt[o * n + r] = ux; /* a = V_x.S.U_x^T */
            else
                u[r * p + o] = ux;
        }
        for (size_t r = 0; r < p; r++) {
            if (tr)
                u[r * p + o] = v[c * p + r];
            else
                vt[o * n + r] = v[c * p + r];
        }
    }
    free(x);
    free(v);
    free(order);
    return 0;
}
