#include "compress/share.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

static int float_asc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* Nearest centroid of v among the sorted c[lo..hi) by binary search. */
static int nearest(const float *c, int lo, int hi, float v)
{
    int a = lo, b = hi - 1;
    while (a < b) {
        int mid = (a + b) / 2;
        if (v > 0.5f * (c[mid] + c[mid + 1]))
            a = mid + 1;
        else
            b = mid;
    }
    return a;
}

int sq_share_fit(const float *w, size_t count, int k, int iters, float *codebook, uint8_t *idx,
                 int *used, double *mse)
{
    if (k < 2 || k > 256 || count == 0)
        return sq_err(SQ_ERR_ARG, "share: codebook size %d must be in [2, 256]", k);
    size_t nz = 0;
    for (size_t i = 0; i < count; i++)
        nz += w[i] != 0.0f;
    int zero = nz < count; /* reserve entry 0 for exact zeros */
    int first = zero ? 1 : 0;
    float *sorted = malloc((nz ? nz : 1) * sizeof *sorted);
    double *sum = calloc((size_t)k, sizeof *sum);
    size_t *cnt = calloc((size_t)k, sizeof *cnt);
    if (!sorted || !sum || !cnt) {
        free(sorted);
        free(sum);
        free(cnt);
        return sq_err(SQ_ERR_MEM, "share: out of memory for %zu weights", count);
    }
    size_t j = 0;
    for (size_t i = 0; i < count; i++)
        if (w[i] != 0.0f)
            sorted[j++] = w[i];
    qsort(sorted, nz, sizeof *sorted, float_asc);
    /* Quantile seeds over the distinct nonzero values (fewer distinct values
     * than entries leaves the codebook short). */
    int m = 0;
    int want = k - first;
    codebook[0] = 0.0f;
    for (int c = 0; c < want && nz; c++) {
        float v = sorted[(size_t)(((double)c + 0.5) / want * (double)nz)];
        if (m == 0 || v > codebook[first + m - 1])
            codebook[first + m++] = v;
    }
    int total = first + m;
    for (int it = 0; it < iters; it++) {
        memset(sum, 0, (size_t)k * sizeof *sum);
        memset(cnt, 0, (size_t)k * sizeof *cnt);
        int changed = 0;
        double err = 0;
        for (size_t i = 0; i < count; i++) {
            int c = w[i] == 0.0f && zero ? 0 : nearest(codebook, first, total, w[i]);
            if (it == 0 || idx[i] != c)
                changed = 1;
            idx[i] = (uint8_t)c;
            double d = (double)w[i] - codebook[c];
            err += d * d;
            sum[c] += w[i];
            cnt[c]++;
        }
        if (mse)
            mse[it] = err / (double)count;
        if (!changed) {
            for (int r = it + 1; mse && r < iters; r++)
                mse[r] = mse[it];
            break;
        }
        for (int c = first; c < total; c++)
            if (cnt[c])
                codebook[c] = (float)(sum[c] / (double)cnt[c]);
        /* Means of contiguous 1-D clusters stay sorted, but an empty cluster
         * keeps its old centroid; nearest() needs the order. */
        qsort(codebook + first, (size_t)m, sizeof *codebook, float_asc);
    }
    /* Final assignment against the last centroids. */
    for (size_t i = 0; i < count; i++)
        idx[i] = (uint8_t)(w[i] == 0.0f && zero ? 0 : nearest(codebook, first, total, w[i]));
    *used = total;
    free(sorted);
    free(sum);
    free(cnt);
    return 0;
}
