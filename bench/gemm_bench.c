/* GEMM benchmark on the rtl level: cycles, MAC utilization, memory stalls and
 * Verilator simulation speed for the shapes in bench/gemm.sh. Every result is
 * also checked against sq_gemm_ref. Prints one tab-separated line per run:
 *   name mode M N K cycles stall_cycles macs bytes_read bytes_written
 *   wall_seconds cpu_seconds (of the simulated run alone)
 * Usage: bench_gemm name:MxNxK[:sp24|:w4] ... */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/device.h"
#include "sparq/numerics.h"
#include "sparq/spec.h"
#include "util/err.h"

extern const sq_level_ops_t sq_level_rtl;

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static int8_t rand_i8(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (int8_t)((rng * 0x2545F4914F6CDD1DULL) >> 56);
}

static double now(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t put(void *st, uint64_t *next, const void *p, size_t n)
{
    uint64_t a = *next;
    *next = (a + n + 63) & ~(uint64_t)63;
    if (p && sq_level_rtl.write(st, a, p, n) != 0) {
        fprintf(stderr, "bench_gemm: %s\n", sq_err_msg());
        exit(1);
    }
    return a;
}

static int run(void *st, const char *name, size_t m, size_t n, size_t k, uint32_t flags)
{
    size_t wb = sq_w_row_bytes(flags, k), mb = sq_meta_row_bytes(k);
    int8_t *a = malloc(m * k), *dense = malloc(k), *c = malloc(m * n), *cref = malloc(m * n);
    uint8_t *w = calloc(n, wb), *meta = calloc(n, mb);
    sq_quant_t *q = malloc(n * sizeof *q);
    for (size_t i = 0; i < m * k; i++)
        a[i] = rand_i8();
    for (size_t j = 0; j < n; j++) {
        for (size_t t = 0; t < k; t++)
            dense[t] = (flags & SQ_GEMM_W4) ? (int8_t)(rand_i8() >> 4) : rand_i8();
        if (flags & SQ_GEMM_W4)
            sq_i4_pack_row(dense, k, w + j * wb);
        else if (flags & SQ_GEMM_SP24)
            sq_sp24_encode_row(dense, k, (int8_t *)w + j * wb, meta + j * mb);
        else
            memcpy(w + j * wb, dense, k);
        q[j] = (sq_quant_t){SQ_MULT_MIN + (int32_t)(j * 7919u % (1u << 30)), 30};
    }
    uint64_t next = 0, cmd = put(st, &next, NULL, SQ_DESC_BYTES);
    uint64_t da = put(st, &next, a, m * k), dw = put(st, &next, w, n * wb);
    uint64_t dm = put(st, &next, meta, n * mb), dq = put(st, &next, q, n * sizeof *q);
    uint64_t dc = put(st, &next, NULL, m * n);
    uint32_t d[SQ_DESC_WORDS] = {0};
    d[SQ_GEMM_W_OPCODE] = SQ_OP_GEMM;
    d[SQ_GEMM_W_FLAGS] = flags;
    d[SQ_GEMM_W_M] = (uint32_t)m;
    d[SQ_GEMM_W_N] = (uint32_t)n;
    d[SQ_GEMM_W_K] = (uint32_t)k;
    d[SQ_GEMM_W_A_LO] = (uint32_t)da;
    d[SQ_GEMM_W_W_LO] = (uint32_t)dw;
    d[SQ_GEMM_W_META_LO] = (uint32_t)dm;
    d[SQ_GEMM_W_QUANT_LO] = (uint32_t)dq;
    d[SQ_GEMM_W_C_LO] = (uint32_t)dc;
    put(st, &(uint64_t){cmd}, d, sizeof d);
    sq_dev_stats_t s = {0};
    double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    int rc = sq_level_rtl.run(st, cmd, 1, 0, &s);
    double secs = now(CLOCK_MONOTONIC) - t0, cpu = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    if (rc != 0) {
        fprintf(stderr, "bench_gemm: %s: %s\n", name, sq_err_msg());
        return 1;
    }
    sq_level_rtl.read(st, dc, c, m * n);
    sq_gemm_t g = {.m = m, .n = n, .k = k, .flags = flags, .a = a, .w = w, .meta = meta,
                   .quant = q, .c = cref};
    sq_gemm_ref(&g);
    for (size_t i = 0; i < m * n; i++)
        if (c[i] != cref[i]) {
            fprintf(stderr, "bench_gemm: %s: mismatch at %zu: %d != %d\n", name, i, c[i], cref[i]);
            return 1;
        }
    const char *mode = (flags & SQ_GEMM_SP24) ? "2:4" : (flags & SQ_GEMM_W4) ? "int4" : "int8";
    printf("%s\t%s\t%zu\t%zu\t%zu\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
           "\t%.3f\t%.3f\n",
           name, mode, m, n, k, s.cycles, s.stall_cycles, s.macs, s.bytes_read, s.bytes_written,
           secs, cpu);
    fflush(stdout);
    free(a);
    free(dense);
    free(c);
    free(cref);
    free(w);
    free(meta);
    free(q);
    return 0;
}

int main(int argc, char **argv)
{
    sq_dev_config_t cfg = {.level = "rtl", .mem_bytes = 64u << 20, .mem_gbps = 19.2,
                           .mem_latency_ns = 100, .clock_mhz = 300};
    void *st = NULL;
    if (sq_level_rtl.open(&cfg, NULL, &st) != 0) {
        fprintf(stderr, "bench_gemm: %s\n", sq_err_msg());
        return 1;
    }
    int rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        char name[64];
        size_t m, n, k;
        char mode[8] = "";
        if (sscanf(argv[i], "%63[^:]:%zux%zux%zu:%7s", name, &m, &n, &k, mode) < 4) {
            fprintf(stderr, "bench_gemm: bad shape '%s' (want name:MxNxK[:sp24|:w4])\n", argv[i]);
            rc = 2;
            break;
        }
        uint32_t flags = !strcmp(mode, "sp24") ? SQ_GEMM_SP24 : !strcmp(mode, "w4") ? SQ_GEMM_W4 : 0;
        rc = run(st, name, m, n, k, flags);
    }
    sq_level_rtl.close(st);
    return rc;
}
