/* Host wall time of one GEMM descriptor on the levels that compute (ref,
 * csim, opencl): the device run alone, after one warm-up run, averaged over
 * reps, and the time sq_dev_open took. Checks C against the golden. Prints one
 * tab-separated line per level:
 *   level M N K open_seconds run_ms gmacs_per_second mismatches
 * Usage: bench_levels MxNxK reps level... (bench/opencl.sh) */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "runtime/device.h"
#include "runtime/gemm_case.h"
#include "util/err.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int bench(const char *level, sq_gemm_case_t *gc, int reps)
{
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, level);
    cfg.mem_bytes = sq_gemm_case_dev_bytes(gc) + 4096;
    sq_dev_t *dev;
    double t0 = now();
    if (sq_dev_open(&cfg, &dev))
        return fprintf(stderr, "bench_levels: %s\n", sq_err_msg()), 1;
    double t_open = now() - t0;
    uint64_t cmd, first;
    int rc = sq_gemm_case_place(dev, gc, &cmd);
    if (rc == 0)
        rc = sq_dev_run(dev, cmd, 1, 0);
    t0 = now();
    for (int i = 0; rc == 0 && i < reps; i++)
        rc = sq_dev_run(dev, cmd, 1, 0);
    double t_run = (now() - t0) / reps;
    void *out = malloc(gc->b.c);
    if (rc == 0 && out)
        rc = sq_gemm_case_read(dev, gc, out);
    if (rc == 0 && out) {
        const sq_gemm_desc_t *d = &gc->d;
        printf("%s\t%" PRIu32 "\t%" PRIu32 "\t%" PRIu32 "\t%.3f\t%.3f\t%.2f\t%" PRIu64 "\n", level,
               d->m, d->n, d->k, t_open, t_run * 1e3, (double)d->m * d->n * d->k / t_run / 1e9,
               sq_gemm_case_mismatches(gc, out, &first));
    } else {
        fprintf(stderr, "bench_levels: %s: %s\n", level, sq_err_msg());
    }
    free(out);
    sq_dev_close(dev);
    return rc != 0;
}

int main(int argc, char **argv)
{
    unsigned m, n, k;
    int reps = argc > 2 ? atoi(argv[2]) : 0;
    if (argc < 4 || sscanf(argv[1], "%ux%ux%u", &m, &n, &k) != 3 || reps < 1) {
        fprintf(stderr, "usage: bench_levels MxNxK reps level...\n");
        return 2;
    }
    sq_gemm_case_t gc;
    if (sq_gemm_case_build(&gc, m, n, k, 0, 1))
        return fprintf(stderr, "bench_levels: %s\n", sq_err_msg()), 2;
    int bad = 0;
    for (int i = 3; i < argc; i++)
        bad |= bench(argv[i], &gc, reps);
    sq_gemm_case_free(&gc);
    return bad;
}
