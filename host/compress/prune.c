#include "compress/prune.h"

#include <math.h>
#include <stdlib.h>

#include "util/err.h"

typedef struct {
    float a;
    size_t i;
} mag_t;

static int mag_asc(const void *x, const void *y)
{
    const mag_t *a = x, *b = y;
    return a->a < b->a ? -1 : a->a > b->a ? 1 : (a->i > b->i) - (a->i < b->i);
}

int sq_prune_magnitude(float *w, size_t count, double sparsity)
{
    size_t drop = (size_t)floor(sparsity * (double)count);
    if (!drop)
        return 0;
    mag_t *m = malloc(count * sizeof *m);
    if (!m)
        return sq_err(SQ_ERR_MEM, "prune: out of memory for %zu weights", count);
    for (size_t i = 0; i < count; i++)
        m[i] = (mag_t){fabsf(w[i]), i};
    qsort(m, count, sizeof *m, mag_asc);
    for (size_t i = 0; i < drop; i++)
        w[m[i].i] = 0.0f;
    free(m);
    return 0;
}

/* 2:4 by importance |w_j| * xnorm_j (xnorm NULL: |w_j|). */
static void prune_24(float *w, size_t n, size_t k, const double *xnorm)
{
    for (size_t r = 0; r < n; r++) {
        float *row = w + r * k;
        for (size_t g = 0; g < k; g += 4) {
            size_t width = k - g < 4 ? k - g : 4;
            if (width <= 2)
                continue;
            double imp[4];
            for (size_t j = 0; j < width; j++)
                imp[j] = fabs((double)row[g + j]) * (xnorm ? xnorm[g + j] : 1.0);
            size_t best = 0, second = 1;
            if (imp[1] > imp[0]) {
                best = 1;
                second = 0;
            }
            for (size_t j = 2; j < width; j++) {
                if (imp[j] > imp[best]) {
                    second = best;
                    best = j;
                } else if (imp[j] > imp[second]) {
                    second = j;
                }
            }
            for (size_t j = 0; j < width; j++)
                if (j != best && j != second)
                    row[g + j] = 0.0f;
        }
    }
}

void sq_prune_24(float *w, size_t n, size_t k)
{
    prune_24(w, n, k, NULL);
}

void sq_prune_wanda_24(float *w, size_t n, size_t k, const double *xnorm)
{
    prune_24(w, n, k, xnorm);
}

int sq_prune_wanda(float *w, size_t n, size_t k, const double *xnorm, double sparsity)
{
    size_t drop = (size_t)floor(sparsity * (double)k);
    if (!drop)
        return 0;
    mag_t *m = malloc(k * sizeof *m);
    if (!m)
        return sq_err(SQ_ERR_MEM, "prune: out of memory for %zu weights", k);
    for (size_t r = 0; r < n; r++) {
        float *row = w + r * k;
        for (size_t j = 0; j < k; j++)
            m[j] = (mag_t){(float)(fabs((double)row[j]) * xnorm[j]), j};
        qsort(m, k, sizeof *m, mag_asc);
        for (size_t j = 0; j < drop; j++)
            row[m[j].i] = 0.0f;
    }
    free(m);
    return 0;
}

void sq_prune_heads_pick(const double *score, int n_heads, int drop, int *removed)
{
    for (int h = 0; h < n_heads; h++)
        removed[h] = 0;
    for (int d = 0; d < drop && d < n_heads; d++) {
        int worst = -1;
        for (int h = n_heads - 1; h >= 0; h--)
            if (!removed[h] && (worst < 0 || score[h] <= score[worst]))
                worst = h;
        removed[worst] = 1;
    }
}
