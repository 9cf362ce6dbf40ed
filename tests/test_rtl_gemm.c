/* The rtl level (rtl/ under Verilator, sim/ harness) against the golden
 * reference, bit for bit: random shapes in every mode (int8, int4, 2:4;
 * requant or int32 out; ReLU; bias), size-1 and non-multiple-of-array dims,
 * operands at -128/127 and extreme bias/quant values; command streams with
 * chained GEMMs; K beyond the on-chip chunk; bad descriptors and hang bounds;
 * the 2:4 cycle saving. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sim/sq_gemm_vl.h"
#include "../sim/sq_sim.h"
#include "runtime/device.h"
#include "sparq/desc.h"
#include "sparq/numerics.h"
#include "sparq/spec.h"
#include "testutil.h"
#include "util/err.h"

extern const sq_level_ops_t sq_level_rtl;

#define MEM_BYTES (64u << 20)

typedef struct {
    void *st;
    uint64_t next; /* bump allocator */
    uint64_t rng;
} tdev_t;

static void tdev_open(tdev_t *d, const char *fst)
{
    sq_dev_config_t cfg = {.level = "rtl", .mem_bytes = MEM_BYTES, .mem_gbps = 19.2,
                           .mem_latency_ns = 100, .clock_mhz = 300, .fst_path = fst};
    int rc = sq_level_rtl.open(&cfg, NULL, &d->st);
    ck_assert_msg(rc == 0, "open: %s", sq_err_msg());
    d->next = 0;
}

/* Places n bytes at a random byte offset (operands need no alignment). */
static uint64_t tdev_put(tdev_t *d, const void *src, size_t n)
{
    uint64_t addr = d->next + sq_test_rand(&d->rng) % 64;
    d->next = (addr + n + 63) & ~(uint64_t)63;
    ck_assert_uint_le(d->next, MEM_BYTES);
    if (src)
        ck_assert_int_eq(sq_level_rtl.write(d->st, addr, src, n), 0);
    return addr;
}

static uint64_t tdev_align(tdev_t *d, size_t n)
{
    uint64_t addr = d->next;
    d->next = (addr + n + 63) & ~(uint64_t)63;
    return addr;
}

typedef struct {
    sq_gemm_t g;
    size_t wbytes, mbytes;
    int8_t *a;
    uint8_t *w, *meta;
    int32_t *bias;
    sq_quant_t *quant;
    void *c_ref, *c_rtl;
    uint64_t da, dw, dmeta, dbias, dquant, dc;
    int a_from; /* index of an earlier case whose C is this case's A, or -1 */
} gcase_t;

static int8_t rand_i8(uint64_t *r)
{
    uint64_t x = sq_test_rand(r);
    switch (x % 8) {
    case 0: return -128;
    case 1: return 127;
    default: return (int8_t)(x >> 16);
    }
}

static int8_t rand_i4(uint64_t *r)
{
    uint64_t x = sq_test_rand(r);
    switch (x % 6) {
    case 0: return -8;
    case 1: return 7;
    default: return (int8_t)((int)((x >> 16) % 16) - 8);
    }
}

static void case_gen(gcase_t *c, uint64_t *r, size_t m, size_t n, size_t k, uint32_t flags)
{
    memset(c, 0, sizeof *c);
    c->a_from = -1;
    c->g.m = m;
    c->g.n = n;
    c->g.k = k;
    c->g.flags = flags;
    c->wbytes = sq_w_row_bytes(flags, k);
    c->mbytes = sq_meta_row_bytes(k);
    c->a = malloc(m * k);
    for (size_t i = 0; i < m * k; i++)
        c->a[i] = rand_i8(r);
    c->w = calloc(n, c->wbytes);
    int8_t *dense = malloc(k);
    if (flags & SQ_GEMM_SP24)
        c->meta = calloc(n, c->mbytes);
    for (size_t j = 0; j < n; j++) {
        for (size_t t = 0; t < k; t++)
            dense[t] = (flags & SQ_GEMM_W4) ? rand_i4(r) : rand_i8(r);
        if (flags & SQ_GEMM_W4)
            sq_i4_pack_row(dense, k, c->w + j * c->wbytes);
        else if (flags & SQ_GEMM_SP24)
            sq_sp24_encode_row(dense, k, (int8_t *)c->w + j * c->wbytes, c->meta + j * c->mbytes);
        else
            memcpy(c->w + j * c->wbytes, dense, k);
    }
    free(dense);
    c->bias = malloc(n * sizeof *c->bias);
    c->quant = malloc(n * sizeof *c->quant);
    for (size_t j = 0; j < n; j++) {
        uint64_t x = sq_test_rand(r);
        c->bias[j] = x % 8 == 0 ? INT32_MAX : x % 8 == 1 ? INT32_MIN
                                               : (int32_t)((int64_t)(x >> 20) % 2000001 - 1000000);
        x = sq_test_rand(r);
        c->quant[j].mult = x % 10 == 0 ? 1 : x % 10 == 1 ? INT32_MAX
                                          : SQ_MULT_MIN + (int32_t)((x >> 8) % (1u << 30));
        x = sq_test_rand(r);
        c->quant[j].shift = x % 10 == 0 ? 0 : x % 10 == 1 ? SQ_SHIFT_MAX
                                           : 24 + (uint32_t)((x >> 8) % 18);
    }
    size_t esz = (flags & SQ_GEMM_OUT32) ? 4 : 1;
    c->c_ref = malloc(m * n * esz);
    c->c_rtl = malloc(m * n * esz);
}

static void case_free(gcase_t *c)
{
    free(c->a);
    free(c->w);
    free(c->meta);
    free(c->bias);
    free(c->quant);
    free(c->c_ref);
    free(c->c_rtl);
}

static void case_place(tdev_t *d, gcase_t *c, const gcase_t *all)
{
    size_t m = c->g.m, n = c->g.n, k = c->g.k;
    c->da = c->a_from >= 0 ? all[c->a_from].dc : tdev_put(d, c->a, m * k);
    c->dw = tdev_put(d, c->w, n * c->wbytes);
    c->dmeta = c->meta ? tdev_put(d, c->meta, n * c->mbytes) : 0;
    c->dbias = (c->g.flags & SQ_GEMM_BIAS) ? tdev_put(d, c->bias, n * 4) : 0;
    c->dquant = (c->g.flags & SQ_GEMM_OUT32) ? 0 : tdev_put(d, c->quant, n * sizeof(sq_quant_t));
    size_t esz = (c->g.flags & SQ_GEMM_OUT32) ? 4 : 1;
    c->dc = tdev_put(d, NULL, m * n * esz);
    /* results must overwrite, not merge with, whatever was there */
    uint8_t *junk = malloc(m * n * esz);
    memset(junk, 0x5A, m * n * esz);
    ck_assert_int_eq(sq_level_rtl.write(d->st, c->dc, junk, m * n * esz), 0);
    free(junk);
}

static void desc_fill(uint32_t *w, const gcase_t *c)
{
    memset(w, 0, SQ_DESC_BYTES);
    w[SQ_GEMM_W_OPCODE] = SQ_OP_GEMM;
    w[SQ_GEMM_W_FLAGS] = c->g.flags;
    w[SQ_GEMM_W_M] = (uint32_t)c->g.m;
    w[SQ_GEMM_W_N] = (uint32_t)c->g.n;
    w[SQ_GEMM_W_K] = (uint32_t)c->g.k;
    const struct {
        unsigned lo;
        uint64_t v;
    } addrs[] = {{SQ_GEMM_W_A_LO, c->da},       {SQ_GEMM_W_W_LO, c->dw},
                 {SQ_GEMM_W_META_LO, c->dmeta}, {SQ_GEMM_W_BIAS_LO, c->dbias},
                 {SQ_GEMM_W_QUANT_LO, c->dquant}, {SQ_GEMM_W_C_LO, c->dc}};
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        w[addrs[i].lo] = (uint32_t)addrs[i].v;
        w[addrs[i].lo + 1] = (uint32_t)(addrs[i].v >> 32);
    }
}

/* Runs cases[0..n) as one command stream and checks every output buffer. */
static void run_and_check(tdev_t *d, gcase_t *cases, size_t n, sq_dev_stats_t *st)
{
    d->next = 0;
    uint64_t cmd = tdev_align(d, n * SQ_DESC_BYTES);
    uint32_t *descs = malloc(n * SQ_DESC_BYTES);
    for (size_t i = 0; i < n; i++) {
        case_place(d, &cases[i], cases);
        desc_fill(descs + i * SQ_DESC_WORDS, &cases[i]);
    }
    ck_assert_int_eq(sq_level_rtl.write(d->st, cmd, descs, n * SQ_DESC_BYTES), 0);
    free(descs);
    sq_dev_stats_t local = {0};
    int rc = sq_level_rtl.run(d->st, cmd, (uint32_t)n, 0, st ? st : &local);
    ck_assert_msg(rc == 0, "run: %s", sq_err_msg());
    for (size_t i = 0; i < n; i++) {
        gcase_t *c = &cases[i];
        if (c->a_from >= 0)
            c->g.a = cases[c->a_from].c_ref;
        else
            c->g.a = c->a;
        c->g.w = c->w;
        c->g.meta = c->meta;
        c->g.bias = c->bias;
        c->g.quant = c->quant;
        c->g.c = c->c_ref;
        ck_assert_int_eq(sq_gemm_ref(&c->g), 0);
        size_t cnt = c->g.m * c->g.n;
        int out32 = (c->g.flags & SQ_GEMM_OUT32) != 0;
        ck_assert_int_eq(sq_level_rtl.read(d->st, c->dc, c->c_rtl, cnt * (out32 ? 4 : 1)), 0);
        if (out32)
            sq_assert_i32_eq(c->c_rtl, c->c_ref, cnt);
        else
            sq_assert_i8_eq(c->c_rtl, c->c_ref, cnt);
    }
}

static const uint32_t base_modes[3] = {0, SQ_GEMM_W4, SQ_GEMM_SP24};

static uint32_t mode_flags(unsigned i)
{
    uint32_t f = base_modes[i % 3];
    if ((i / 3) & 1)
        f |= SQ_GEMM_OUT32;
    if ((i / 6) & 1)
        f |= SQ_GEMM_RELU;
    if ((i / 12) & 1)
        f |= SQ_GEMM_BIAS;
    return f;
}

static size_t rand_dim(uint64_t *r, size_t max)
{
    uint64_t x = sq_test_rand(r);
    switch (x % 6) {
    case 0: return 1;
    case 1: return 16 * (1 + (x >> 8) % 3) + ((x >> 16) % 2 ? 1 : 0); /* 16,17,32,33,48,49 */
    default: return 1 + (x >> 8) % max;
    }
}

/* 264 random GEMMs, every one of the 24 mode combinations 11 times, in
 * streams of 4 commands. */
START_TEST(test_random_shapes_all_modes)
{
    tdev_t d = {.rng = 0x5eed0001u};
    tdev_open(&d, NULL);
    uint64_t r = 0xC0FFEEu;
    const size_t fixed[][3] = {{1, 1, 1}, {1, 40, 70}, {35, 1, 9}, {20, 33, 1},
                               {16, 16, 16}, {17, 15, 3}, {1, 1, 130}, {2, 3, 4},
                               /* GEMV mode over several 512-element K chunks,
                                * unaligned rows (int8 with OUT32+ReLU, with bias) */
                               {3, 5, 7}, {1, 37, 1100}, {1, 20, 600}, {1, 9, 70},
                               {1, 18, 1500}};
    size_t done = 0;
    for (unsigned batch = 0; batch < 66; batch++) {
        gcase_t cases[4];
        for (unsigned i = 0; i < 4; i++) {
            unsigned idx = batch * 4 + i;
            size_t m, n, k;
            if (idx < sizeof fixed / sizeof fixed[0]) {
                m = fixed[idx][0];
                n = fixed[idx][1];
                k = fixed[idx][2];
            } else {
                m = rand_dim(&r, 60);
                n = rand_dim(&r, 60);
                k = rand_dim(&r, 200);
            }
            case_gen(&cases[i], &r, m, n, k, mode_flags(idx % 24));
        }
        run_and_check(&d, cases, 4, NULL);
        for (unsigned i = 0; i < 4; i++)
            case_free(&cases[i]);
        done += 4;
    }
    ck_assert_uint_ge(done, 200);
    sq_level_rtl.close(d.st);
}
END_TEST

/* A layer's int8 output feeds the next GEMM in the same stream: the kernel
 * must finish writing before the next command reads. */
START_TEST(test_chained_stream)
{
    tdev_t d = {.rng = 7};
    tdev_open(&d, NULL);
    uint64_t r = 99;
    gcase_t cases[3];
    case_gen(&cases[0], &r, 19, 37, 50, SQ_GEMM_BIAS);
    case_gen(&cases[1], &r, 19, 21, 37, SQ_GEMM_SP24 | SQ_GEMM_RELU);
    case_gen(&cases[2], &r, 19, 5, 21, SQ_GEMM_W4 | SQ_GEMM_OUT32);
    cases[1].a_from = 0;
    cases[2].a_from = 1;
    sq_dev_stats_t st = {0};
    run_and_check(&d, cases, 3, &st);
    ck_assert_uint_eq(st.commands, 3);
    ck_assert_uint_gt(st.cycles, 0);
    ck_assert_uint_gt(st.bytes_read, 0);
    ck_assert_uint_eq(st.bytes_written, 19 * 37 + 19 * 21 + 19 * 5 * 4);
    uint64_t sp_macs = 2 * (37 / 4) + 1;
    ck_assert_uint_eq(st.macs, 19 * 37 * 50 + 19 * 21 * sp_macs + 19 * 5 * 21);
    for (int i = 0; i < 3; i++)
        case_free(&cases[i]);
    sq_level_rtl.close(d.st);
}
END_TEST

/* K larger than the on-chip chunk: A is reloaded per chunk and the
 * accumulators carry across chunks. */
START_TEST(test_long_k)
{
    tdev_t d = {.rng = 3};
    tdev_open(&d, NULL);
    uint64_t r = 1234;
    gcase_t cases[3];
    case_gen(&cases[0], &r, 17, 18, 2049, 0);
    case_gen(&cases[1], &r, 3, 20, 4500, SQ_GEMM_SP24 | SQ_GEMM_BIAS);
    case_gen(&cases[2], &r, 18, 3, 4097, SQ_GEMM_W4 | SQ_GEMM_OUT32);
    run_and_check(&d, cases, 3, NULL);
    for (int i = 0; i < 3; i++)
        case_free(&cases[i]);
    sq_level_rtl.close(d.st);
}
END_TEST

static int run_one(tdev_t *d, gcase_t *c, uint64_t max_cycles, sq_dev_stats_t *st)
{
    d->next = 0;
    uint64_t cmd = tdev_align(d, SQ_DESC_BYTES);
    case_place(d, c, c);
    uint32_t desc[SQ_DESC_WORDS];
    desc_fill(desc, c);
    ck_assert_int_eq(sq_level_rtl.write(d->st, cmd, desc, sizeof desc), 0);
    return sq_level_rtl.run(d->st, cmd, 1, max_cycles, st);
}

/* int4 GEMV mode (M = 1: eight nibbles a step on array columns 0 to 3, the
 * four partial sums added at the drain): odd K with the padding nibble set in
 * device memory (it must be masked), K = 1, N = 1, K over the 1024-element
 * chunk, K over the resident activation (8192, reloaded per job), and all
 * weights -8 against activations -128 with bias, so the accumulation wraps
 * and the epilogue saturates. */
START_TEST(test_gemv_int4)
{
    tdev_t d = {.rng = 17};
    tdev_open(&d, NULL);
    uint64_t r = 4242;
    static const struct {
        size_t n, k;
        uint32_t flags;
    } sh[] = {
        {37, 1031, SQ_GEMM_W4 | SQ_GEMM_BIAS}, {20, 1, SQ_GEMM_W4},
        {1, 3001, SQ_GEMM_W4 | SQ_GEMM_OUT32}, {18, 8195, SQ_GEMM_W4 | SQ_GEMM_RELU},
        {33, 2047, SQ_GEMM_W4 | SQ_GEMM_BIAS}, {17, 2048, SQ_GEMM_W4 | SQ_GEMM_BIAS | SQ_GEMM_OUT32},
    };
    enum { NSH = sizeof sh / sizeof sh[0] };
    gcase_t cases[NSH];
    for (size_t i = 0; i < NSH; i++) {
        gcase_t *c = &cases[i];
        case_gen(c, &r, 1, sh[i].n, sh[i].k, sh[i].flags);
        if (sh[i].k % 2) /* padding nibbles: the golden ignores them */
            for (size_t j = 0; j < sh[i].n; j++)
                c->w[j * c->wbytes + c->wbytes - 1] |= 0x90;
    }
    for (size_t i = NSH - 2; i < NSH; i++) { /* -8 x -128: 1024 K per output */
        memset(cases[i].w, 0x88, sh[i].n * cases[i].wbytes);
        memset(cases[i].a, 0x80, sh[i].k);
    }
    run_and_check(&d, cases, 3, NULL);
    run_and_check(&d, cases + 3, NSH - 3, NULL);
    for (size_t i = 0; i < NSH; i++)
        case_free(&cases[i]);
    sq_level_rtl.close(d.st);
}
END_TEST

/* GEMV mode with M activation rows (batched decode: int8 M <= 8 on column
 * pairs, int4 M <= 4 on column quads): odd M, N and K, N = 1 and K = 1, K over
 * the 512-element chunk and over the resident activations (reloaded per job),
 * with and without bias, int32 out, and activations -128 against weights -128
 * (int4 -8), the largest sums, so the epilogue saturates; M = 9 and
 * M = 5 int4 take the normal mapping. */
START_TEST(test_gemv_batch)
{
    tdev_t d = {.rng = 31};
    tdev_open(&d, NULL);
    uint64_t r = 2718;
    static const struct {
        size_t m, n, k;
        uint32_t flags;
    } sh[] = {
        {2, 37, 101, SQ_GEMM_BIAS}, {3, 1, 1031, 0}, {4, 20, 1, SQ_GEMM_RELU},
        {5, 33, 1100, SQ_GEMM_BIAS | SQ_GEMM_OUT32}, {8, 17, 515, SQ_GEMM_BIAS},
        {7, 5, 8195, 0}, {9, 20, 100, SQ_GEMM_BIAS},
        {2, 45, 1031, SQ_GEMM_W4 | SQ_GEMM_BIAS}, {3, 19, 3, SQ_GEMM_W4 | SQ_GEMM_OUT32},
        {4, 33, 2049, SQ_GEMM_W4}, {5, 7, 70, SQ_GEMM_W4 | SQ_GEMM_BIAS},
        {8, 16, 1024, SQ_GEMM_BIAS}, {4, 16, 2048, SQ_GEMM_W4 | SQ_GEMM_BIAS},
    };
    enum { NSH = sizeof sh / sizeof sh[0] };
    gcase_t cases[NSH];
    for (size_t i = 0; i < NSH; i++) {
        gcase_t *c = &cases[i];
        case_gen(c, &r, sh[i].m, sh[i].n, sh[i].k, sh[i].flags);
        if ((sh[i].flags & SQ_GEMM_W4) && sh[i].k % 2) /* padding nibbles */
            for (size_t j = 0; j < sh[i].n; j++)
                c->w[j * c->wbytes + c->wbytes - 1] |= 0x90;
    }
    for (size_t i = NSH - 2; i < NSH; i++) { /* -128 x -128 (int4 -8) over all of K */
        memset(cases[i].w, (cases[i].g.flags & SQ_GEMM_W4) ? 0x88 : 0x80,
               sh[i].n * cases[i].wbytes);
        memset(cases[i].a, 0x80, sh[i].m * sh[i].k);
    }
    for (size_t i = 0; i < NSH; i += 4)
        run_and_check(&d, cases + i, NSH - i < 4 ? NSH - i : 4, NULL);
    for (size_t i = 0; i < NSH; i++)
        case_free(&cases[i]);
    sq_level_rtl.close(d.st);
}
END_TEST

/* 2:4 GEMV mode (M <= 4, K >= 256: the kept values of 8 K positions a step on
 * column quads, the codes down the rows' g path): odd N and K, K not a
 * multiple of 4 (a partial last group), N = 1, K over the 1024-position chunk
 * and over the resident activations (reloaded per job), bias, int32 out, M up
 * to 4; K = 255, K = 4 and M = 5 take the normal mapping; then every kept
 * value -128 against activations -128 with bias, so the epilogue saturates. */
START_TEST(test_gemv_sp24)
{
    tdev_t d = {.rng = 43};
    tdev_open(&d, NULL);
    uint64_t r = 1618;
    static const struct {
        size_t m, n, k;
        uint32_t flags;
    } sh[] = {
        {1, 37, 1031, SQ_GEMM_BIAS}, {1, 1, 257, SQ_GEMM_OUT32}, {1, 33, 2051, SQ_GEMM_RELU},
        {1, 18, 8197, SQ_GEMM_BIAS | SQ_GEMM_OUT32}, {2, 45, 1030, SQ_GEMM_BIAS},
        {3, 19, 515, SQ_GEMM_OUT32}, {4, 20, 256, SQ_GEMM_BIAS | SQ_GEMM_RELU},
        {1, 21, 255, SQ_GEMM_BIAS}, {1, 5, 4, 0}, {5, 7, 600, SQ_GEMM_BIAS},
        {1, 17, 1024, SQ_GEMM_BIAS}, {4, 16, 2048, SQ_GEMM_BIAS | SQ_GEMM_OUT32},
    };
    enum { NSH = sizeof sh / sizeof sh[0] };
    gcase_t cases[NSH];
    for (size_t i = 0; i < NSH; i++)
        case_gen(&cases[i], &r, sh[i].m, sh[i].n, sh[i].k, sh[i].flags | SQ_GEMM_SP24);
    for (size_t i = NSH - 2; i < NSH; i++) { /* -128 x -128 over all kept values */
        memset(cases[i].w, 0x80, sh[i].n * cases[i].wbytes);
        memset(cases[i].a, 0x80, sh[i].m * sh[i].k);
    }
    for (size_t i = 0; i < NSH; i += 4)
        run_and_check(&d, cases + i, NSH - i < 4 ? NSH - i : 4, NULL);
    for (size_t i = 0; i < NSH; i++)
        case_free(&cases[i]);
    sq_level_rtl.close(d.st);
}
END_TEST

/* Group scales (SQ_GEMM_GSCALE) through the rtl level, bit for bit against
 * the golden: the chosen cases of sq_test_gemm_gscale (GEMV and the normal
 * mapping, int4 and int8, groups 32 to 256 and k, k not a multiple of the
 * group, factors 0 and 65535), then random int4 ones. */
START_TEST(test_gscale)
{
    sq_test_gemm_gscale("rtl");
    sq_test_gemm_random("rtl", SQ_GEMM_W4 | SQ_GEMM_GSCALE, 0x7007, 16);
}
END_TEST

/* Runs the m x n x k GEMM with weight flags `base` and then with `fast` on a
 * fresh rtl device (seeds rng, r) and checks that `fast` takes at most
 * num/den of the cycles of `base`; each run's counters to *sb and *sf. */
static void check_cycle_ratio(uint64_t rng, uint64_t r, size_t m, size_t n, size_t k,
                              uint32_t base, uint32_t fast, unsigned num, unsigned den,
                              sq_dev_stats_t *sb, sq_dev_stats_t *sf)
{
    tdev_t d = {.rng = rng};
    tdev_open(&d, NULL);
    gcase_t cb, cf;
    case_gen(&cb, &r, m, n, k, base);
    case_gen(&cf, &r, m, n, k, fast);
    ck_assert_int_eq(run_one(&d, &cb, 0, sb), 0);
    ck_assert_int_eq(run_one(&d, &cf, 0, sf), 0);
    ck_assert_msg(sf->cycles * den <= sb->cycles * num, "flags 0x%x took %llu cycles, 0x%x %llu",
                  fast, (unsigned long long)sf->cycles, base, (unsigned long long)sb->cycles);
    case_free(&cb);
    case_free(&cf);
    sq_level_rtl.close(d.st);
}

/* int4 GEMV streams two weights a byte at the port's rate: at most 0.55x the
 * int8 GEMV cycles of the same shape. */
START_TEST(test_gemv_int4_cycles)
{
    sq_dev_stats_t s8 = {0}, s4 = {0};
    check_cycle_ratio(23, 77, 1, 128, 2048, 0, SQ_GEMM_W4, 55, 100, &s8, &s4);
}
END_TEST

/* The 2:4 mode skips the zero half: at most 0.6x the dense cycles. */
START_TEST(test_sparse_cycles)
{
    sq_dev_stats_t sd = {0}, ss = {0};
    check_cycle_ratio(11, 5, 64, 64, 1024, 0, SQ_GEMM_SP24, 6, 10, &sd, &ss);
    ck_assert_uint_eq(sd.macs, 64 * 64 * 1024);
    ck_assert_uint_eq(ss.macs, 64 * 64 * 512);
}
END_TEST

/* Bad descriptors are one-line errors before the kernel starts; a bound too
 * small for the work is an error, not a hang. */
START_TEST(test_errors)
{
    tdev_t d = {.rng = 1};
    tdev_open(&d, NULL);
    uint64_t r = 77;
    gcase_t c;
    sq_dev_stats_t st = {0};

    case_gen(&c, &r, 4, 4, 8, SQ_GEMM_SP24);
    c.meta[0] = 0x01; /* first position 1, second 0: malformed */
    ck_assert_int_eq(run_one(&d, &c, 0, &st), SQ_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "2:4"));
    case_free(&c);

    case_gen(&c, &r, 4, 4, 8, 0);
    c.quant[2].shift = 63;
    ck_assert_int_eq(run_one(&d, &c, 0, &st), SQ_ERR_ARG);
    case_free(&c);

    case_gen(&c, &r, 4, 4, 8, SQ_GEMM_W4 | SQ_GEMM_SP24 | SQ_GEMM_OUT32);
    ck_assert_int_eq(run_one(&d, &c, 0, &st), SQ_ERR_ARG);
    case_free(&c);

    /* an operand past the end of device memory */
    uint32_t desc[SQ_DESC_WORDS] = {0};
    desc[SQ_GEMM_W_OPCODE] = SQ_OP_GEMM;
    desc[SQ_GEMM_W_FLAGS] = SQ_GEMM_OUT32;
    desc[SQ_GEMM_W_M] = desc[SQ_GEMM_W_N] = desc[SQ_GEMM_W_K] = 8;
    desc[SQ_GEMM_W_W_LO] = MEM_BYTES - 16;
    ck_assert_int_eq(sq_level_rtl.write(d.st, 0, desc, sizeof desc), 0);
    ck_assert_int_eq(sq_level_rtl.run(d.st, 0, 1, 0, &st), SQ_ERR_ARG);
    ck_assert_int_eq(sq_level_rtl.run(d.st, 32, 1, 0, &st), SQ_ERR_ARG); /* unaligned stream */
    desc[SQ_GEMM_W_OPCODE] = SQ_OP_ATTN;
    ck_assert_int_eq(sq_level_rtl.write(d.st, 0, desc, sizeof desc), 0);
    ck_assert_int_eq(sq_level_rtl.run(d.st, 0, 1, 0, &st), SQ_ERR_ARG);
    ck_assert_uint_eq(st.commands, 0);

    /* the bound */
    case_gen(&c, &r, 40, 40, 300, 0);
    ck_assert_int_eq(run_one(&d, &c, 50, &st), SQ_ERR_DEV);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "within 50 cycles"));
    case_free(&c);
    sq_level_rtl.close(d.st);
}
END_TEST

/* --trace-fst: a waveform file is written and is an FST (header block 0). */
START_TEST(test_fst_trace)
{
    char path[] = "/tmp/sq_rtl_fst_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    tdev_t d = {.rng = 2};
    tdev_open(&d, path);
    uint64_t r = 8;
    gcase_t c;
    case_gen(&c, &r, 3, 5, 7, SQ_GEMM_RELU);
    sq_dev_stats_t st = {0};
    ck_assert_int_eq(run_one(&d, &c, 0, &st), 0);
    case_free(&c);
    sq_level_rtl.close(d.st);
    size_t n = 0;
    unsigned char *buf = sq_slurp(path, &n);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_gt(n, 1000);
    ck_assert_uint_eq(buf[0], 0); /* FST_BL_HDR */
    free(buf);
    unlink(path);

    sq_dev_config_t cfg = {.level = "rtl", .mem_bytes = MEM_BYTES, .mem_gbps = 19.2,
                           .mem_latency_ns = 100, .clock_mhz = 300,
                           .fst_path = "/nonexistent-dir/x.fst"};
    void *st2 = NULL;
    ck_assert_int_eq(sq_level_rtl.open(&cfg, NULL, &st2), SQ_ERR_IO);
}
END_TEST

/* sparq gemm --backend rtl: counters on stdout, --trace-fst writes a waveform. */
START_TEST(test_cli_rtl)
{
    char out[4096], err[1024];
    int rc = sq_run_cli("gemm --backend rtl --shape 40x40x300 --sparse 2:4 --relu", out,
                        sizeof out, err, sizeof err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_ptr_nonnull(strstr(out, "mismatches 0"));
    const char *c = strstr(out, "\ncycles ");
    const char *u = strstr(out, "mac_utilization ");
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_nonnull(u);
    ck_assert_int_gt(atol(c + 8), 0);
    double util = atof(u + 16);
    ck_assert_msg(util > 0.1 && util <= 1.0, "mac_utilization %f", util);

    char path[] = "/tmp/sq_cli_fst_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    char args[256];
    snprintf(args, sizeof args, "gemm --backend rtl --shape 3x4x5 --trace-fst %s", path);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 0);
    size_t n = 0;
    void *buf = sq_slurp(path, &n);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_gt(n, 1000);
    free(buf);
    unlink(path);
    snprintf(args, sizeof args, "gemm --backend csim --trace-fst %s", path);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 2);
    ck_assert_ptr_nonnull(strstr(err, "--trace-fst needs --backend rtl"));
}
END_TEST

/* Descriptor addresses are offsets from SQ_REG_MEM, as on a card where XRT
 * writes the buffer's device address there: with the base at 64 KiB the
 * unit reads and writes only above it, with the same bits as the golden
 * reference. */
START_TEST(test_mem_base)
{
    const uint64_t base = 64u << 10;
    enum { M = 5, N = 19, K = 33 };
    enum { OFF_A = 0x100, OFF_W = 0x400, OFF_BIAS = 0x900, OFF_C = 0xC00, OFF_CMD = 0x1000 };
    sq_mem_t *m = NULL;
    sq_kernel_t *k = NULL;
    sq_sim_t *s = NULL;
    ck_assert_int_eq(sq_mem_create(2 * base, 64.0, 10, &m), 0);
    ck_assert_int_eq(sq_gemm_vl_create(NULL, &k), 0);
    ck_assert_int_eq(sq_sim_create(k, m, &s), 0);
    uint64_t r = 5;
    int8_t a[M * K], w[N * K];
    int32_t bias[N], c_ref[M * N], c_rtl[M * N];
    for (int i = 0; i < M * K; i++)
        a[i] = rand_i8(&r);
    for (int i = 0; i < N * K; i++)
        w[i] = rand_i8(&r);
    for (int i = 0; i < N; i++)
        bias[i] = (int32_t)sq_test_rand(&r);
    sq_gemm_t g = {.m = M, .n = N, .k = K, .flags = SQ_GEMM_OUT32 | SQ_GEMM_BIAS, .a = a,
                   .w = (const uint8_t *)w, .bias = bias, .c = c_ref};
    ck_assert_int_eq(sq_gemm_ref(&g), 0);
    sq_gemm_desc_t d = {.flags = g.flags, .m = M, .n = N, .k = K, .a = OFF_A, .w = OFF_W,
                        .bias = OFF_BIAS, .c = OFF_C};
    uint8_t desc[SQ_DESC_BYTES] = {0};
    sq_gemm_desc_encode(&d, desc);
    ck_assert_int_eq(sq_mem_write(m, base + OFF_A, a, sizeof a), 0);
    ck_assert_int_eq(sq_mem_write(m, base + OFF_W, w, sizeof w), 0);
    ck_assert_int_eq(sq_mem_write(m, base + OFF_BIAS, bias, sizeof bias), 0);
    ck_assert_int_eq(sq_mem_write(m, base + OFF_CMD, desc, sizeof desc), 0);
    sq_sim_set_mem_base(s, base);
    sq_sim_run_t run;
    ck_assert_msg(sq_sim_run(s, OFF_CMD, 1, 1000000, &run) == 0, "%s", sq_err_msg());
    ck_assert_int_eq(sq_mem_read(m, base + OFF_C, c_rtl, sizeof c_rtl), 0);
    sq_assert_i32_eq(c_rtl, c_ref, M * N);
    /* nothing below the base was written */
    uint8_t low[OFF_CMD + SQ_DESC_BYTES];
    ck_assert_int_eq(sq_mem_read(m, 0, low, sizeof low), 0);
    for (size_t i = 0; i < sizeof low; i++)
        ck_assert_msg(low[i] == 0, "byte %zu below the base written", i);
    sq_sim_destroy(s);
}
END_TEST

Suite *rtl_gemm_suite(void)
{
    Suite *s = suite_create("rtl_gemm");
    TCase *tc = sq_tcase(s, "bit_exact", 120);
    tcase_add_test(tc, test_random_shapes_all_modes);
    tcase_add_test(tc, test_chained_stream);
    tcase_add_test(tc, test_long_k);
    tc = sq_tcase(s, "behaviour", 60);
    tcase_add_test(tc, test_sparse_cycles);
    tcase_add_test(tc, test_gemv_int4);
    tcase_add_test(tc, test_gemv_int4_cycles);
    tcase_add_test(tc, test_gemv_batch);
    tcase_add_test(tc, test_gemv_sp24);
    tcase_add_test(tc, test_gscale);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_fst_trace);
    tcase_add_test(tc, test_cli_rtl);
    tcase_add_test(tc, test_mem_base);
    return s;
}
