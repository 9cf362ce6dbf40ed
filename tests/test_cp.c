/* The command processor: mixed GEMM/attention/vector streams with dependencies,
 * fences and position patches as one launch on every level with one
 * (csim, opencl, rtl, tlm, model), bit for bit against the golden ref level
 * (which executes them one descriptor at a time); the model's cycles per
 * descriptor, per unit and per run equal to the rtl level's; units that
 * overlap and a GEMM's weights prefetched behind an attention; bad streams
 * as one-line errors; a hung unit caught by the cycle bound; the RTL command
 * processor's own refusals; the HLS kernel's register offsets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/sq_accel_vl.h"
#include "../sim/sq_sim.h"
#include "runtime/attn_case.h"
#include "runtime/desc.h"
#include "runtime/device.h"
#include "runtime/gemm_case.h"
#include "runtime/vec_case.h"
#include "testutil.h"
#include "util/err.h"

extern const sq_level_ops_t sq_level_rtl __attribute__((weak));

#define MEM_BYTES (16u << 20)
#define MAX_DESC 24
#define MAX_OUT (2 * MAX_DESC)
#define MAX_POS 3u /* positions the random streams use: 0 .. MAX_POS */

/* A mixed stream placed on a device: its descriptors and every byte range a
 * descriptor writes, to compare between levels. */
typedef struct {
    uint64_t cmd;
    uint32_t n;
    uint64_t out_addr[MAX_OUT], out_len[MAX_OUT];
    int n_out;
} mix_t;

/* An int8 buffer a descriptor produced, which a later one may read. */
typedef struct {
    uint64_t addr, len;
    uint32_t by; /* producing descriptor */
} prod_t;

/* GEMM compute units of the devices open_cfg opens (gemm_cus), and how many
 * of them mix_build spreads its GEMMs over (SQ_GEMM_W_CU, at random; 1: all
 * on unit 0, without drawing, so the streams of one unit stay as they were). */
static unsigned dev_cus = 1, mix_cus = 1;
/* The GEMM array of the devices open_cfg opens (0: the default); the kernel
 * Verilated with SQ_ACCEL_VL_CUS_ALT units has its own (sq_accel_vl.h). */
static unsigned dev_rows, dev_cols;

/* Devices with the alternative unit count get its Verilated array, on the
 * model too, so that the cycles compare. */
static void alt_array(int on)
{
    dev_rows = on ? SQ_ACCEL_VL_ALT_ROWS : 0;
    dev_cols = on ? SQ_ACCEL_VL_ALT_COLS : 0;
}

static uint32_t pick(uint64_t *r, uint32_t n)
{
    return (uint32_t)(sq_test_rand(r) % n);
}

static void add_out(mix_t *m, uint64_t addr, uint64_t len)
{
    ck_assert_int_lt(m->n_out, MAX_OUT);
    m->out_addr[m->n_out] = addr;
    m->out_len[m->n_out++] = len;
}

/* Sets a dependency of descriptor i (distance i - j) in the first free slot. */
static void add_dep(uint8_t *d, uint32_t i, uint32_t j)
{
    uint32_t dep[SQ_DESC_DEPS];
    for (unsigned k = 0; k < SQ_DESC_DEPS; k++)
        dep[k] = sq_desc_dep(d, k);
    for (unsigned k = 0; k < SQ_DESC_DEPS; k++) {
        if (dep[k] == i - j)
            return;
        if (!dep[k]) {
            dep[k] = i - j;
            sq_desc_set_deps(d, dep);
            return;
        }
    }
}

/* A random stream of n descriptors (seeded, so every device gets the same
 * one at the same addresses): GEMMs in every weight format and epilogue,
 * attention over a KV cache whose length the position moves (seq patched by
 * pos[0]), GEMM outputs written at a row the position picks (C patched by
 * pos[1] * |C|), inputs taken from earlier outputs with a dependency on the
 * producer (the attention's Q from a GEMM, a GEMM's A from an attention),
 * vector-unit ops of every function (each on its own image), spare
 * dependencies, and NOP fences. */
static void mix_build(sq_dev_t *dev, uint64_t seed, uint32_t n, mix_t *m)
{
    uint64_t r = seed;
    uint8_t descs[MAX_DESC][SQ_DESC_BYTES];
    prod_t prod[MAX_DESC];
    int n_prod = 0;
    memset(m, 0, sizeof *m);
    m->n = n;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *d = descs[i];
        uint32_t kind = pick(&r, 12);
        if (i == 0 || kind < 5) {
            /* GEMM: 1, 2 or 17 rows (decode, a few tokens, past one array panel) */
            static const uint32_t ms[] = {1, 2, 17};
            uint32_t mm = ms[pick(&r, 3)], nn = 1 + pick(&r, 40), kk = 1 + pick(&r, 90);
            uint32_t flags = (uint32_t[]){0, SQ_GEMM_W4, SQ_GEMM_SP24}[pick(&r, 3)];
            flags |= pick(&r, 2) ? SQ_GEMM_BIAS : 0;
            flags |= pick(&r, 3) == 0 ? SQ_GEMM_OUT32 : 0;
            flags |= pick(&r, 2) ? SQ_GEMM_RELU : 0;
            /* a GEMM reading an earlier int8 output takes its shape from it */
            int from = n_prod && pick(&r, 2) ? (int)pick(&r, (uint32_t)n_prod) : -1;
            if (from >= 0) {
                mm = 1;
                kk = (uint32_t)prod[from].len;
            }
            sq_gemm_case_t gc;
            ck_assert_int_eq(sq_gemm_case_build(&gc, mm, nn, kk, flags, sq_test_rand(&r)), 0);
            uint64_t one;
            ck_assert_int_eq(sq_gemm_case_place(dev, &gc, &one), 0);
            ck_assert_int_eq(sq_dev_read(dev, one, d, SQ_DESC_BYTES), 0);
            if (from >= 0) {
                sq_desc_set_addr(d, SQ_GEMM_W_A_LO, prod[from].addr);
                add_dep(d, i, prod[from].by);
            }
            /* C at row pos[1] of MAX_POS + 1 rows */
            uint64_t rows;
            ck_assert_int_eq(sq_dev_alloc(dev, (MAX_POS + 1) * gc.b.c, &rows), 0);
            sq_desc_set_addr(d, SQ_GEMM_W_C_LO, rows);
            sq_desc_set_patch(d, pick(&r, 2), sq_desc_patch_word(SQ_GEMM_W_C_LO, 1, 1,
                                                                 (uint32_t)gc.b.c));
            if (mix_cus > 1)
                sq_st32(d + 4u * SQ_GEMM_W_CU, pick(&r, mix_cus));
            add_out(m, rows, (MAX_POS + 1) * gc.b.c);
            if (!(flags & SQ_GEMM_OUT32) && mm == 1 && n_prod < MAX_DESC) {
                /* readable at every position: the row pos[1] is not known here,
                 * so a reader takes row 0, written when pos[1] is 0 and zero
                 * otherwise, deterministically either way */
                prod[n_prod++] = (prod_t){rows, nn, i};
            }
            sq_gemm_case_free(&gc);
        } else if (kind < 8) {
            /* attention over seq0 + pos[0] keys of a KV cache */
            sq_attn_params_t p = {0};
            p.heads = 1 + pick(&r, 4);
            p.kv_heads = p.heads % 2 ? p.heads : p.heads / 2;
            p.head_dim = 1 + pick(&r, 40);
            p.seq = 1 + pick(&r, 40);
            p.queries = 1 + pick(&r, p.seq < 3 ? p.seq : 3);
            p.kv_cap = p.seq + MAX_POS;
            static const uint32_t pats[] = {0, SQ_ATTN_CAUSAL, SQ_ATTN_CAUSAL | SQ_ATTN_WINDOW,
                                            SQ_ATTN_CAUSAL | SQ_ATTN_TOPK,
                                            SQ_ATTN_GLOBAL | SQ_ATTN_WINDOW};
            p.flags = pats[pick(&r, 5)];
            p.window = 1 + pick(&r, 8);
            p.n_global = 1 + pick(&r, 3);
            p.topk = 1 + pick(&r, 6);
            p.int8_range = 1 + (int)pick(&r, 128);
            p.seed = sq_test_rand(&r);
            /* a Q of the right size from an earlier output, when one fits */
            int from = -1;
            for (int t = 0; t < n_prod; t++)
                if (prod[t].len == (uint64_t)p.heads * p.queries * p.head_dim && pick(&r, 2))
                    from = t;
            sq_attn_case_t ac;
            ck_assert_msg(sq_attn_case_build(&ac, &p) == 0, "%s", sq_err_msg());
            uint64_t one;
            ck_assert_int_eq(sq_attn_case_place(dev, &ac, &one), 0);
            ck_assert_int_eq(sq_dev_read(dev, one, d, SQ_DESC_BYTES), 0);
            if (from >= 0) {
                sq_desc_set_addr(d, SQ_ATTN_W_Q_LO, prod[from].addr);
                add_dep(d, i, prod[from].by);
            }
            sq_desc_set_patch(d, pick(&r, 2), sq_desc_patch_word(SQ_ATTN_W_SEQ, 0, 0, 1));
            add_out(m, ac.d.o, ac.b.o);
            if (n_prod < MAX_DESC)
                prod[n_prod++] = (prod_t){ac.d.o, ac.b.o, i};
            sq_attn_case_free(&ac);
        } else if (kind < 10) {
            /* a vector op (norm, RoPE, SwiGLU, requantization, gather...) on
             * its own image, which the levels must leave equal; without the
             * KV layout, whose position patch is the attention's argument */
            sq_vec_params_t p;
            sq_vec_params_random(&r, (int)pick(&r, 64), &p);
            if (p.layout == SQ_VEC_LAYOUT_KV) {
                p.layout = SQ_VEC_LAYOUT_PLAIN;
                p.pos = 0;
            }
            sq_vec_case_t vc;
            ck_assert_msg(sq_vec_case_build(&vc, &p) == 0, "%s", sq_err_msg());
            ck_assert_int_eq(sq_vec_case_place(dev, &vc), 0);
            ck_assert_int_eq(sq_dev_read(dev, vc.cmd, d, SQ_DESC_BYTES), 0);
            add_out(m, vc.base, vc.bytes);
            sq_vec_case_free(&vc);
        } else {
            memset(d, 0, SQ_DESC_BYTES); /* a NOP fence */
        }
        /* a spare dependency or two on recent descriptors */
        for (uint32_t x = pick(&r, 3); x > 0 && i > 0; x--)
            add_dep(d, i, i - 1 - pick(&r, i < 6 ? i : 6));
    }
    ck_assert_int_eq(sq_dev_put(dev, descs, (uint64_t)n * SQ_DESC_BYTES, &m->cmd), 0);
}

static sq_dev_t *open_cfg(const char *level, double gbps, double lat_ns)
{
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, level);
    cfg.mem_bytes = MEM_BYTES;
    cfg.mem_gbps = gbps;
    cfg.mem_latency_ns = lat_ns;
    cfg.gemm_cus = dev_cus;
    cfg.array_rows = dev_rows;
    cfg.array_cols = dev_cols;
    sq_dev_t *dev = NULL;
    ck_assert_msg(sq_dev_open(&cfg, &dev) == 0, "open %s: %s", level, sq_err_msg());
    return dev;
}

/* Every output range of m on dev, concatenated (malloc'd). */
static uint8_t *mix_outputs(sq_dev_t *dev, const mix_t *m, size_t *len)
{
    size_t total = 0;
    for (int o = 0; o < m->n_out; o++)
        total += m->out_len[o];
    uint8_t *buf = malloc(total), *p = buf;
    for (int o = 0; o < m->n_out; o++) {
        ck_assert_int_eq(sq_dev_read(dev, m->out_addr[o], p, m->out_len[o]), 0);
        p += m->out_len[o];
    }
    *len = total;
    return buf;
}

/* Runs stream `seed` at positions pos on a fresh device of the level and
 * returns its outputs; per (n entries) and *st get its counters. */
static uint8_t *mix_run(const char *level, uint64_t seed, uint32_t n, const uint32_t *pos,
                        double gbps, double lat_ns, sq_dev_stats_t *per, sq_dev_stats_t *st,
                        size_t *len)
{
    sq_dev_t *dev = open_cfg(level, gbps, lat_ns);
    mix_t m;
    mix_build(dev, seed, n, &m);
    sq_run_args_t args = {{0}, per};
    memcpy(args.pos, pos, sizeof args.pos);
    int rc = sq_dev_run_args(dev, m.cmd, m.n, &args, 0);
    ck_assert_msg(rc == 0, "%s stream %llu: %s", level, (unsigned long long)seed, sq_err_msg());
    sq_dev_stats(dev, st);
    uint8_t *out = mix_outputs(dev, &m, len);
    sq_dev_close(dev);
    return out;
}

static void check_level(const char *level, int streams)
{
    for (int s = 0; s < streams; s++) {
        uint64_t seed = 0xC0DE0000u + (uint64_t)s;
        uint32_t n = 4 + (uint32_t)(s * 7 % 17);
        uint32_t pos[SQ_RUN_POS] = {(uint32_t)s % (MAX_POS + 1), (uint32_t)(s / 2) % (MAX_POS + 1)};
        sq_dev_stats_t per[MAX_DESC], st, st_ref;
        size_t n_ref, n_lvl;
        uint8_t *ref = mix_run("ref", seed, n, pos, 19.2, 100, NULL, &st_ref, &n_ref);
        uint8_t *got = mix_run(level, seed, n, pos, 19.2, 100, per, &st, &n_lvl);
        ck_assert_uint_eq(n_ref, n_lvl);
        for (size_t i = 0; i < n_ref; i++)
            ck_assert_msg(got[i] == ref[i], "%s stream %d (%u descriptors): output byte %zu is "
                          "%d, ref %d", level, s, n, i, (int8_t)got[i], (int8_t)ref[i]);
        /* one launch, and the work of every descriptor */
        ck_assert_uint_eq(st.launches, 1);
        ck_assert_uint_eq(st.commands, n);
        ck_assert_uint_eq(st.macs, st_ref.macs);
        uint64_t macs = 0;
        for (uint32_t i = 0; i < n; i++)
            macs += per[i].macs;
        ck_assert_uint_eq(macs, st.macs);
        free(ref);
        free(got);
    }
}

START_TEST(test_mixed_csim)
{
    check_level("csim", 12);
}
END_TEST

START_TEST(test_mixed_model)
{
    check_level("model", 12);
}
END_TEST

START_TEST(test_mixed_opencl)
{
    check_level("opencl", 3);
}
END_TEST

START_TEST(test_mixed_rtl)
{
    if (&sq_level_rtl == NULL)
        return;
    check_level("rtl", 8);
}
END_TEST

START_TEST(test_mixed_tlm)
{
    if (&sq_level_rtl == NULL)
        return;
    check_level("tlm", 3);
}
END_TEST

/* The model's cycles equal the rtl level's: per run, per descriptor (busy,
 * stall, bytes) and per unit, on several memory systems, with and without
 * profile records. */
static void model_equals_rtl(int streams, unsigned model_cus)
{
    const struct {
        double gbps, lat;
    } mems[] = {{19.2, 100}, {14.4, 30}, {4.8, 0}, {38.4, 200}, {19.2, 3.4}};
    const unsigned rtl_cus = dev_cus;
    for (int s = 0; s < streams; s++) {
        uint64_t seed = 0xFEED0000u + (uint64_t)s;
        uint32_t n = 3 + (uint32_t)(s * 5 % 19);
        uint32_t pos[SQ_RUN_POS] = {(uint32_t)(s % 3), (uint32_t)(s % 2)};
        double gbps = mems[s % 5].gbps, lat = mems[s % 5].lat;
        sq_dev_stats_t pr[MAX_DESC], pm[MAX_DESC], sr, sm, sf;
        size_t nr, nm, nf;
        int prof = s % 4 != 3;
        uint8_t *a = mix_run("rtl", seed, n, pos, gbps, lat, prof ? pr : NULL, &sr, &nr);
        dev_cus = model_cus;
        uint8_t *b = mix_run("model", seed, n, pos, gbps, lat, prof ? pm : NULL, &sm, &nm);
        dev_cus = rtl_cus;
        uint8_t *f = mix_run("ref", seed, n, pos, gbps, lat, NULL, &sf, &nf);
        ck_assert_uint_eq(nr, nf);
        ck_assert_uint_eq(nm, nf);
        for (size_t i = 0; i < nr; i++)
            ck_assert_msg(a[i] == f[i] && b[i] == f[i],
                          "stream %d on %u units: output byte %zu rtl %d, model %d, ref %d", s,
                          mix_cus, i, (int8_t)a[i], (int8_t)b[i], (int8_t)f[i]);
        ck_assert_msg(sr.cycles == sm.cycles, "stream %d on %u units: rtl %llu cycles, model %llu",
                      s, mix_cus, (unsigned long long)sr.cycles, (unsigned long long)sm.cycles);
        ck_assert_uint_eq(sr.stall_cycles, sm.stall_cycles);
        ck_assert_uint_eq(sr.bytes_read, sm.bytes_read);
        ck_assert_uint_eq(sr.bytes_written, sm.bytes_written);
        uint64_t busy = 0;
        for (uint32_t i = 0; prof && i < n; i++)
            busy += pr[i].cycles;
        if (prof)
            printf("cp: stream %d, %u descriptors on %u GEMM units, %.1f GB/s %.0f ns: %llu "
                   "cycles on rtl and model, units busy %llu\n",
                   s, n, mix_cus, gbps, lat, (unsigned long long)sr.cycles,
                   (unsigned long long)busy);
        for (uint32_t i = 0; prof && i < n; i++) {
            ck_assert_msg(pr[i].cycles == pm[i].cycles,
                          "stream %d descriptor %u: rtl %llu cycles, model %llu", s, i,
                          (unsigned long long)pr[i].cycles, (unsigned long long)pm[i].cycles);
            ck_assert_uint_eq(pr[i].stall_cycles, pm[i].stall_cycles);
            ck_assert_uint_eq(pr[i].bytes_read, pm[i].bytes_read);
            ck_assert_uint_eq(pr[i].bytes_written, pm[i].bytes_written);
        }
        free(a);
        free(b);
        free(f);
    }
}

/* The model's cycles equal the rtl level's: per run, per descriptor (busy,
 * stall, bytes) and per unit, on several memory systems, with and without
 * profile records; every output equal to the golden's. */
START_TEST(test_model_equals_rtl)
{
    if (&sq_level_rtl == NULL)
        return;
    model_equals_rtl(10, 1);
}
END_TEST

/* GEMM compute units: the kernel Verilated with 4 runs streams whose GEMMs
 * are spread over 2 and over 4 units (each unit on its own channel); the
 * model of a kernel with that many units gives the same cycles (idle units
 * change nothing) and every level the golden's bits. */
START_TEST(test_cus_model_equals_rtl)
{
    if (&sq_level_rtl == NULL)
        return;
    dev_cus = SQ_ACCEL_VL_CUS_ALT;
    alt_array(1);
    mix_cus = 2;
    model_equals_rtl(6, 2);
    mix_cus = SQ_ACCEL_VL_CUS_ALT;
    model_equals_rtl(6, SQ_ACCEL_VL_CUS_ALT);
    dev_cus = mix_cus = 1;
    alt_array(0);
}
END_TEST

/* A GEMM split across compute units (sq_gemm_case_split: decode along N,
 * more rows along M): every output equal to the golden's on ref, model and
 * rtl, the model's cycles equal to the rtl level's, with odd N, N < U, dims of
 * 1 and every weight format; and on a decode GEMM whose weights dominate,
 * more units take fewer cycles. */
START_TEST(test_cus_split)
{
    const struct {
        uint32_t m, n, k, flags, cus;
    } cases[] = {
        {1, 7, 33, SQ_GEMM_BIAS, 4},          /* odd N: parts of 2, 2, 2, 1 */
        {1, 3, 64, SQ_GEMM_W4, 4},            /* N < U: three parts */
        {1, 1, 1, SQ_GEMM_OUT32, 2},          /* dims of 1: one part */
        {1, 45, 90, SQ_GEMM_SP24 | SQ_GEMM_RELU, 2},
        {17, 5, 20, SQ_GEMM_BIAS | SQ_GEMM_OUT32, 4}, /* along M: 5, 4, 4, 4 rows */
        {3, 9, 1, 0, 4},                      /* M < U along M */
    };
    const char *const levels[] = {"model", "rtl"};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        uint64_t cyc[2] = {0, 0};
        for (size_t l = 0; l < 2; l++) {
            if (l == 1 && &sq_level_rtl == NULL)
                continue;
            /* the rtl kernel has 4 units; the model as many as the split uses;
             * both the rtl kernel's array */
            dev_cus = l == 1 ? SQ_ACCEL_VL_CUS_ALT : cases[c].cus;
            alt_array(1);
            sq_dev_t *dev = open_cfg(levels[l], 14.4, 100);
            dev_cus = 1;
            alt_array(0);
            sq_gemm_case_t gc;
            ck_assert_int_eq(sq_gemm_case_build(&gc, cases[c].m, cases[c].n, cases[c].k,
                                                cases[c].flags, 40 + c), 0);
            uint64_t cmd;
            uint32_t n_cmds;
            ck_assert_int_eq(sq_gemm_case_place(dev, &gc, &cmd), 0);
            /* the split as many ways as the case says, on a device with more units */
            uint8_t parts[SQ_GEMM_CUS_MAX][SQ_DESC_BYTES];
            sq_gemm_desc_t part;
            n_cmds = 0;
            for (uint32_t j = 0; j < cases[c].cus; j++)
                if (sq_gemm_desc_split(&gc.d, cases[c].cus, j, &part))
                    sq_gemm_desc_encode(&part, parts[n_cmds++]);
            uint32_t dim = cases[c].m == 1 ? cases[c].n : cases[c].m;
            ck_assert_uint_eq(n_cmds, dim < cases[c].cus ? dim : cases[c].cus);
            ck_assert_int_eq(sq_dev_put(dev, parts, (uint64_t)n_cmds * SQ_DESC_BYTES, &cmd), 0);
            ck_assert_msg(sq_dev_run(dev, cmd, n_cmds, 0) == 0, "%s", sq_err_msg());
            void *out = malloc(gc.b.c);
            uint64_t first = 0;
            ck_assert_int_eq(sq_gemm_case_read(dev, &gc, out), 0);
            ck_assert_msg(sq_gemm_case_mismatches(&gc, out, &first) == 0,
                          "%s case %zu: C differs from the golden at %llu", levels[l], c,
                          (unsigned long long)first);
            sq_dev_stats_t st;
            sq_dev_stats(dev, &st);
            cyc[l] = st.cycles;
            free(out);
            sq_gemm_case_free(&gc);
            sq_dev_close(dev);
        }
        if (&sq_level_rtl != NULL)
            ck_assert_msg(cyc[0] == cyc[1], "case %zu: model %llu cycles, rtl %llu", c,
                          (unsigned long long)cyc[0], (unsigned long long)cyc[1]);
    }
    /* 1x512x512 int8 on u280 channels: 4 units take fewer cycles than 2, 2 than 1 */
    uint64_t prev = 0;
    for (unsigned u = 1; u <= 4; u *= 2) {
        dev_cus = u;
        sq_dev_t *dev = open_cfg("model", 14.4, 100);
        dev_cus = 1;
        sq_gemm_case_t gc;
        ck_assert_int_eq(sq_gemm_case_build(&gc, 1, 512, 512, 0, 7), 0);
        uint64_t cmd;
        uint32_t n_cmds;
        ck_assert_int_eq(sq_gemm_case_place(dev, &gc, &cmd), 0);
        ck_assert_int_eq(sq_gemm_case_split(dev, &gc, &cmd, &n_cmds), 0);
        ck_assert_uint_eq(n_cmds, u);
        ck_assert_int_eq(sq_dev_run(dev, cmd, n_cmds, 0), 0);
        sq_dev_stats_t st;
        sq_dev_stats(dev, &st);
        printf("cp: 1x512x512 int8 on %u GEMM units at 14.4 GB/s each: %llu cycles\n", u,
               (unsigned long long)st.cycles);
        ck_assert(prev == 0 || st.cycles < prev);
        prev = st.cycles;
        sq_gemm_case_free(&gc);
        sq_dev_close(dev);
    }
}
END_TEST

/* Compute-unit counts a device refuses, each in one line: none past
 * SQ_GEMM_CUS_MAX, on rtl none without a Verilated build, and a descriptor
 * naming a unit the device does not have. */
START_TEST(test_cus_refused)
{
    sq_dev_config_t cfg;
    sq_dev_t *dev = NULL;
    sq_dev_config_default(&cfg, "model");
    cfg.gemm_cus = SQ_GEMM_CUS_MAX + 1;
    ck_assert_int_eq(sq_dev_open(&cfg, &dev), SQ_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "GEMM compute units"));
    if (&sq_level_rtl != NULL) {
        sq_dev_config_default(&cfg, "rtl");
        cfg.gemm_cus = 3;
        ck_assert_int_eq(sq_dev_open(&cfg, &dev), SQ_ERR_ARG);
        ck_assert_ptr_nonnull(strstr(sq_err_msg(), "Verilated with 1 or 4 GEMM units"));
        ck_assert_ptr_null(strchr(sq_err_msg(), '\n'));
        /* 4 units exist at their own array only */
        cfg.gemm_cus = SQ_ACCEL_VL_CUS_ALT;
        ck_assert_int_eq(sq_dev_open(&cfg, &dev), SQ_ERR_ARG);
        ck_assert_msg(strstr(sq_err_msg(), "4 GEMM units is Verilated at a 8x8 array only, not "
                                           "16x16"), "%s", sq_err_msg());
    }
    static const char *const levels[] = {"ref", "model"};
    for (size_t l = 0; l < 2; l++) {
        dev_cus = 2;
        sq_dev_t *d = open_cfg(levels[l], 19.2, 100);
        mix_t m;
        mix_cus = 1;
        mix_build(d, 0xC0DE0000u, 4, &m);
        uint8_t desc[SQ_DESC_BYTES];
        ck_assert_int_eq(sq_dev_read(d, m.cmd, desc, SQ_DESC_BYTES), 0);
        ck_assert_uint_eq(sq_desc_opcode(desc), SQ_OP_GEMM);
        sq_st32(desc + 4u * SQ_GEMM_W_CU, 2);
        ck_assert_int_eq(sq_dev_write(d, m.cmd, desc, SQ_DESC_BYTES), 0);
        ck_assert_int_eq(sq_dev_run(d, m.cmd, m.n, 0), SQ_ERR_FMT);
        ck_assert_msg(strstr(sq_err_msg(), "descriptor 0: gemm on compute unit 2, the device "
                                           "has 2"), "%s", sq_err_msg());
        sq_st32(desc + 4u * SQ_GEMM_W_CU, SQ_GEMM_CUS_MAX);
        ck_assert_int_eq(sq_dev_write(d, m.cmd, desc, SQ_DESC_BYTES), 0);
        ck_assert_int_eq(sq_dev_run(d, m.cmd, m.n, 0), SQ_ERR_FMT);
        sq_dev_close(d);
        dev_cus = 1;
    }
    /* the CLI: one line and exit 2 for a count out of range or past the
     * target's channels; a split GEMM that runs is the golden's */
    static char out[4096], err[1024];
    static const struct {
        const char *args, *says;
    } bad[] = {
        {"gemm --backend model --cus 0 --target u280", "--cus must be an integer in [1, 8]"},
        {"gemm --backend model --cus 9 --target u280", "--cus must be an integer in [1, 8]"},
        {"gemm --backend model --cus 2", "target ddr4 has 1"},
        {"gemm --backend model --cus 5 --target u250", "target u250 has 4"},
        {"generate --model " SQ_SHARED_DIR "/models/stories260K.bin --tokenizer " SQ_SHARED_DIR
         "/models/tok512.bin --backend model --cus 2 --recipe w8a8 --steps 1",
         "target ddr4 has 1"},
        {"sweep --shape 8x8x8 --cus 2 --array 4x4", "target ddr4 has 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(sq_run_cli(bad[i].args, out, sizeof out, err, sizeof err), 2);
        ck_assert_msg(strstr(err, bad[i].says) && !strchr(strchr(err, '\n') + 1, '\n'),
                      "%s: %s", bad[i].args, err);
    }
    ck_assert_msg(sq_run_cli("gemm --backend model --cus 4 --target u280 --shape 1x13x40",
                             out, sizeof out, err, sizeof err) == 0, "%s", err);
    ck_assert_ptr_nonnull(strstr(out, "cus 4\n"));
    ck_assert_ptr_nonnull(strstr(out, "mismatches 0\n"));
}
END_TEST

/* The overlap case: an attention over a long KV cache, an independent GEMM,
 * which runs beside it, then a GEMM that reads the attention's output (so it
 * must wait) with weights large enough to matter, which stream in while the
 * attention computes. dependent_only leaves the independent GEMM out. */
typedef struct {
    uint64_t cmd;
    uint32_t n;
} overlap_t;

static void overlap_build(sq_dev_t *dev, int dependent_only, overlap_t *o)
{
    sq_attn_params_t p = {.seq = 96, .queries = 1, .heads = 4, .kv_heads = 2, .head_dim = 16,
                          .flags = SQ_ATTN_CAUSAL, .int8_range = 50, .seed = 3};
    sq_attn_case_t ac;
    ck_assert_int_eq(sq_attn_case_build(&ac, &p), 0);
    uint8_t d[3][SQ_DESC_BYTES];
    uint64_t one;
    ck_assert_int_eq(sq_attn_case_place(dev, &ac, &one), 0);
    ck_assert_int_eq(sq_dev_read(dev, one, d[0], SQ_DESC_BYTES), 0);
    /* O (4 heads x 16) is the next GEMM's A: 1 x 64 by 64 x 64 */
    sq_gemm_case_t g1, g2;
    uint32_t at = dependent_only ? 1 : 2; /* the dependent GEMM's index */
    ck_assert_int_eq(sq_gemm_case_build(&g2, 1, 48, 64, 0, 5), 0);
    ck_assert_int_eq(sq_gemm_case_place(dev, &g2, &one), 0);
    ck_assert_int_eq(sq_dev_read(dev, one, d[1], SQ_DESC_BYTES), 0);
    ck_assert_int_eq(sq_gemm_case_build(&g1, 1, 64, 64, SQ_GEMM_BIAS, 4), 0);
    ck_assert_int_eq(sq_gemm_case_place(dev, &g1, &one), 0);
    ck_assert_int_eq(sq_dev_read(dev, one, d[at], SQ_DESC_BYTES), 0);
    sq_desc_set_addr(d[at], SQ_GEMM_W_A_LO, ac.d.o);
    const uint32_t dep[SQ_DESC_DEPS] = {at, 0, 0};
    sq_desc_set_deps(d[at], dep);
    o->n = at + 1;
    ck_assert_int_eq(sq_dev_put(dev, d, (uint64_t)o->n * SQ_DESC_BYTES, &o->cmd), 0);
    sq_attn_case_free(&ac);
    sq_gemm_case_free(&g1);
    sq_gemm_case_free(&g2);
}

/* Cycles of the overlap stream (per: its descriptors' counters), and of each
 * descriptor run alone on the same device (alone: theirs; *sum: the sum of
 * those runs, what running them one after another takes). */
static void overlap_measure(const char *level, int dependent_only, uint64_t *run,
                            uint64_t *sum, sq_dev_stats_t *per, sq_dev_stats_t *alone)
{
    sq_dev_t *dev = open_cfg(level, 4.8, 100); /* a slow channel, so weights matter */
    overlap_t o;
    overlap_build(dev, dependent_only, &o);
    sq_run_args_t args = {{0}, per};
    sq_dev_stats_t st0, st;
    sq_dev_stats(dev, &st0);
    ck_assert_msg(sq_dev_run_args(dev, o.cmd, o.n, &args, 0) == 0, "%s", sq_err_msg());
    sq_dev_stats(dev, &st);
    *run = st.cycles - st0.cycles;
    *sum = 0;
    for (uint32_t i = 0; i < o.n; i++) {
        /* alone: the descriptor with its dependencies dropped */
        uint8_t d[SQ_DESC_BYTES];
        ck_assert_int_eq(sq_dev_read(dev, o.cmd + i * SQ_DESC_BYTES, d, sizeof d), 0);
        const uint32_t none[SQ_DESC_DEPS] = {0, 0, 0};
        sq_desc_set_deps(d, none);
        ck_assert_int_eq(sq_dev_write(dev, o.cmd + i * SQ_DESC_BYTES, d, sizeof d), 0);
        sq_dev_stats(dev, &st0);
        sq_run_args_t one = {{0}, &alone[i]};
        ck_assert_int_eq(sq_dev_run_args(dev, o.cmd + i * SQ_DESC_BYTES, 1, &one, 0), 0);
        sq_dev_stats(dev, &st);
        *sum += st.cycles - st0.cycles;
    }
    sq_dev_close(dev);
}

START_TEST(test_overlap)
{
    if (&sq_level_rtl == NULL)
        return;
    for (int dep_only = 1; dep_only >= 0; dep_only--) {
        uint64_t run_r, sum_r, run_m, sum_m;
        sq_dev_stats_t pr[3], pm[3], ar[3], am[3];
        overlap_measure("rtl", dep_only, &run_r, &sum_r, pr, ar);
        overlap_measure("model", dep_only, &run_m, &sum_m, pm, am);
        ck_assert_uint_eq(run_r, run_m);
        ck_assert_uint_eq(sum_r, sum_m);
        int g = dep_only ? 1 : 2; /* the dependent GEMM */
        for (int i = 0; i <= g; i++) {
            ck_assert_uint_eq(pr[i].cycles, pm[i].cycles);
            ck_assert_uint_eq(ar[i].cycles, am[i].cycles);
        }
        printf("cp: overlap (%s): one run %llu cycles, the descriptors run one by one %llu; "
               "the dependent GEMM busy %llu cycles after its weights were prefetched, %llu "
               "alone (model = rtl)\n",
               dep_only ? "attention then the GEMM reading it"
                        : "attention, an independent GEMM, the GEMM reading the attention",
               (unsigned long long)run_r, (unsigned long long)sum_r,
               (unsigned long long)pr[g].cycles, (unsigned long long)ar[g].cycles);
        ck_assert_uint_lt(run_r, sum_r);
        /* the dependent GEMM read its weights while the attention ran, so
         * it was busy for fewer cycles once started than alone */
        ck_assert_uint_lt(pr[g].cycles, ar[g].cycles);
        /* the independent GEMM ran beside the attention: the run is shorter
         * than the attention and the dependent GEMM alone, one after the other */
        if (!dep_only)
            ck_assert_uint_lt(run_r, ar[0].cycles + ar[g].cycles + ar[1].cycles);
    }
}
END_TEST

/* Bad streams stop before any work with one line naming the descriptor, on
 * every level with a command processor. */
START_TEST(test_bad_streams)
{
    const char *levels[] = {"csim", "model", "opencl", "rtl", "tlm"};
    for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++) {
        if (&sq_level_rtl == NULL && (!strcmp(levels[l], "rtl") || !strcmp(levels[l], "tlm")))
            continue;
        sq_dev_t *dev = open_cfg(levels[l], 19.2, 100);
        mix_t m;
        mix_build(dev, 77, 5, &m);
        uint8_t d[SQ_DESC_BYTES], keep[SQ_DESC_BYTES];
        uint64_t at = m.cmd + 2 * SQ_DESC_BYTES;
        ck_assert_int_eq(sq_dev_read(dev, at, keep, sizeof keep), 0);
        const struct {
            const char *what, *needle;
        } cases[] = {
            {"malformed", "descriptor 2: position patch 0"},
            {"never met", "descriptor 2: dependency on descriptor -3, before the stream"},
            {"outside", "outside the"},
            {"unknown unit", "descriptor 2: unknown opcode 9"},
        };
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            memcpy(d, keep, sizeof d);
            if (c == 0)
                sq_desc_set_patch(d, 0, sq_desc_patch_word(SQ_DESC_W_PATCH0, 0, 0, 1));
            else if (c == 1)
                sq_st32(d, (sq_desc_word(d, 0) & 0xFFu) | (5u << SQ_DESC_DEP_SHIFT));
            else if (c == 2)
                sq_desc_set_addr(d, sq_desc_opcode(d) == SQ_OP_ATTN ? SQ_ATTN_W_O_LO
                                 : sq_desc_opcode(d) == SQ_OP_GEMM ? SQ_GEMM_W_C_LO : 0,
                                 MEM_BYTES - 8);
            else
                sq_st32(d, 9);
            if (c == 2 && sq_desc_opcode(keep) == SQ_OP_NOP)
                continue;
            ck_assert_int_eq(sq_dev_write(dev, at, d, sizeof d), 0);
            sq_dev_stats_t st0, st;
            sq_dev_stats(dev, &st0);
            int rc = sq_dev_run(dev, m.cmd, m.n, 0);
            ck_assert_msg(rc == SQ_ERR_FMT, "%s %s: rc %d", levels[l], cases[c].what, rc);
            ck_assert_msg(strstr(sq_err_msg(), cases[c].needle), "%s %s: '%s'", levels[l],
                          cases[c].what, sq_err_msg());
            ck_assert_ptr_null(strchr(sq_err_msg(), '\n'));
            sq_dev_stats(dev, &st);
            ck_assert_uint_eq(st.launches, st0.launches);
        }
        sq_dev_close(dev);
    }
}
END_TEST

/* Past the runtime's checks, straight on the Verilated accelerator kernel:
 * the command processor refuses what it cannot run (an opcode for no unit,
 * a patch outside the body, a dependency before the stream) and finishes
 * the run, naming the descriptor; a unit that never finishes (an attention
 * descriptor with zero KV heads loops in its group count) is caught by the
 * cycle bound with one line, and no hang. */
START_TEST(test_rtl_refusals_and_hang)
{
    if (&sq_level_rtl == NULL)
        return;
    sq_mem_t *mem = NULL;
    sq_kernel_t *k = NULL;
    sq_sim_t *s = NULL;
    ck_assert_int_eq(sq_mem_create(1 << 20, 64.0, 10, &mem), 0);
    ck_assert_int_eq(sq_accel_vl_create(1, NULL, &k), 0);
    ck_assert_int_eq(sq_sim_create(k, mem, &s), 0);
    const uint32_t pos[SQ_RUN_POS] = {0};
    const sq_cp_args_t cp = {pos, 0};
    uint8_t d[3][SQ_DESC_BYTES];
    memset(d, 0, sizeof d); /* NOPs */
    sq_sim_run_t run;
    const struct {
        int at;
        uint32_t word0, patch, status;
    } refuse[] = {
        {1, 4, 0, SQ_CP_ERR_UNIT},   /* the opcode after the vector unit's: no such unit */
        {2, 200, 0, SQ_CP_ERR_UNIT}, /* no opcode at all */
        {1, 0, sq_desc_patch_word(31, 0, 0, 1), SQ_CP_ERR_PATCH},
        {2, 3u << SQ_DESC_DEP_SHIFT, 0, SQ_CP_ERR_DEP},
    };
    for (size_t c = 0; c < sizeof refuse / sizeof refuse[0]; c++) {
        memset(d, 0, sizeof d);
        sq_st32(d[refuse[c].at], refuse[c].word0);
        sq_desc_set_patch(d[refuse[c].at], 0, refuse[c].patch);
        ck_assert_int_eq(sq_mem_write(mem, 0x1000, d, sizeof d), 0);
        ck_assert_msg(sq_sim_run_cp(s, 0x1000, 3, &cp, 100000, &run) == 0, "%s", sq_err_msg());
        ck_assert_uint_eq(run.cp_status, refuse[c].status);
        ck_assert_uint_eq(run.cp_err_desc, (uint32_t)refuse[c].at);
    }
    /* a clean run after them: the status clears */
    memset(d, 0, sizeof d);
    ck_assert_int_eq(sq_mem_write(mem, 0x1000, d, sizeof d), 0);
    ck_assert_int_eq(sq_sim_run_cp(s, 0x1000, 3, &cp, 100000, &run), 0);
    ck_assert_uint_eq(run.cp_status, SQ_CP_ERR_NONE);

    /* the hang */
    sq_attn_desc_t a = {.seq = 4, .queries = 1, .heads = 2, .kv_heads = 0, .head_dim = 8,
                        .kv_cap = 4, .q = 0x2000, .k = 0x3000, .v = 0x4000, .quant = 0x5000,
                        .o = 0x6000};
    sq_attn_desc_encode(&a, d[0]);
    ck_assert_int_eq(sq_mem_write(mem, 0x1000, d[0], SQ_DESC_BYTES), 0);
    ck_assert_int_eq(sq_sim_run_cp(s, 0x1000, 1, &cp, 5000, &run), SQ_ERR_DEV);
    ck_assert_msg(strstr(sq_err_msg(), "did not finish 1 commands within 5000 cycles"), "%s",
                  sq_err_msg());
    ck_assert_ptr_null(strchr(sq_err_msg(), '\n'));
    sq_sim_destroy(s);
}
END_TEST

/* The host-driven path is still there: the same stream with unit_launches
 * gives the same bits in more launches. */
START_TEST(test_unit_launches)
{
    const char *levels[] = {"csim", "rtl"};
    for (size_t l = 0; l < 2; l++) {
        if (&sq_level_rtl == NULL && l == 1)
            continue;
        sq_dev_config_t cfg;
        sq_dev_config_default(&cfg, levels[l]);
        cfg.mem_bytes = MEM_BYTES;
        cfg.unit_launches = 1;
        sq_dev_t *dev;
        ck_assert_int_eq(sq_dev_open(&cfg, &dev), 0);
        mix_t m;
        mix_build(dev, 0xC0DE0003u, 11, &m);
        const uint32_t pos[SQ_RUN_POS] = {3, 1};
        sq_run_args_t args = {{0}, NULL};
        memcpy(args.pos, pos, sizeof pos);
        ck_assert_msg(sq_dev_run_args(dev, m.cmd, m.n, &args, 0) == 0, "%s", sq_err_msg());
        sq_dev_stats_t st, st_ref;
        sq_dev_stats(dev, &st);
        ck_assert_uint_gt(st.launches, 1);
        size_t n_got, n_ref;
        uint8_t *got = mix_outputs(dev, &m, &n_got);
        sq_dev_close(dev);
        uint8_t *ref = mix_run("ref", 0xC0DE0003u, 11, pos, 19.2, 100, NULL, &st_ref, &n_ref);
        ck_assert_uint_eq(n_got, n_ref);
        ck_assert_int_eq(memcmp(got, ref, n_ref), 0);
        free(got);
        free(ref);
    }
}
END_TEST

/* The unit kernels alone (sq_ctrl + sq_fetch + core), as the host drives
 * them: the model's cycles per launch equal the rtl level's too. */
START_TEST(test_unit_kernels_model)
{
    if (&sq_level_rtl == NULL)
        return;
    for (int s = 0; s < 3; s++) {
        sq_dev_stats_t pr[MAX_DESC], pm[MAX_DESC], sr, sm;
        sq_dev_t *devs[2];
        const char *levels[] = {"rtl", "model"};
        for (int l = 0; l < 2; l++) {
            sq_dev_config_t cfg;
            sq_dev_config_default(&cfg, levels[l]);
            cfg.mem_bytes = MEM_BYTES;
            cfg.mem_gbps = s == 1 ? 4.8 : 19.2;
            cfg.unit_launches = 1;
            ck_assert_int_eq(sq_dev_open(&cfg, &devs[l]), 0);
            mix_t m;
            mix_build(devs[l], 0xAB00u + (uint64_t)s, 9, &m);
            sq_run_args_t args = {{(uint32_t)s, 1}, l ? pm : pr};
            ck_assert_msg(sq_dev_run_args(devs[l], m.cmd, m.n, &args, 0) == 0, "%s", sq_err_msg());
            sq_dev_stats(devs[l], l ? &sm : &sr);
            sq_dev_close(devs[l]);
        }
        ck_assert_uint_eq(sr.cycles, sm.cycles);
        ck_assert_uint_eq(sr.stall_cycles, sm.stall_cycles);
        ck_assert_uint_eq(sr.launches, sm.launches);
        for (int i = 0; i < 9; i++) {
            ck_assert_uint_eq(pr[i].cycles, pm[i].cycles);
            ck_assert_uint_eq(pr[i].bytes_read, pm[i].bytes_read);
        }
    }
}
END_TEST

/* rtl with every port on one channel: the same bits, and at least the
 * cycles of per-port channels (they share the bandwidth). The model refuses
 * the shared channel with one line. */
START_TEST(test_shared_channel)
{
    if (&sq_level_rtl == NULL)
        return;
    const uint32_t pos[SQ_RUN_POS] = {1, 2};
    sq_dev_stats_t st_sep, st_ref;
    size_t n_sep, n_ref;
    uint8_t *sep = mix_run("rtl", 0xFEED0004u, 12, pos, 19.2, 100, NULL, &st_sep, &n_sep);
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, "rtl");
    cfg.mem_bytes = MEM_BYTES;
    cfg.mem_shared = 1;
    sq_dev_t *dev;
    ck_assert_int_eq(sq_dev_open(&cfg, &dev), 0);
    mix_t m;
    mix_build(dev, 0xFEED0004u, 12, &m);
    sq_run_args_t args = {{1, 2}, NULL};
    ck_assert_int_eq(sq_dev_run_args(dev, m.cmd, m.n, &args, 0), 0);
    sq_dev_stats_t st;
    sq_dev_stats(dev, &st);
    size_t n_sh;
    uint8_t *sh = mix_outputs(dev, &m, &n_sh);
    sq_dev_close(dev);
    uint8_t *ref = mix_run("ref", 0xFEED0004u, 12, pos, 19.2, 100, NULL, &st_ref, &n_ref);
    ck_assert_int_eq(memcmp(sh, ref, n_ref), 0);
    ck_assert_int_eq(memcmp(sep, ref, n_ref), 0);
    ck_assert_uint_ge(st.cycles, st_sep.cycles);
    printf("cp: 12-descriptor stream, rtl: %llu cycles on per-port channels, %llu on one "
           "shared channel\n",
           (unsigned long long)st_sep.cycles, (unsigned long long)st.cycles);
    free(sep);
    free(sh);
    free(ref);
    cfg.level = "model";
    ck_assert_int_eq(sq_dev_open(&cfg, &dev), SQ_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "not modeled"));
}
END_TEST

/* The HLS command processor's s_axilite offsets are spec.h's. */
START_TEST(test_hls_pragmas)
{
    size_t n = 0;
    char *src = sq_slurp(SQ_HLS_CP_SRC, &n);
    ck_assert_ptr_nonnull(src);
    char want[128];
    const struct {
        const char *port;
        unsigned off;
    } regs[] = {{"mem", SQ_REG_MEM_LO}, {"cmd_addr", SQ_REG_CMD_LO}, {"n_cmds", SQ_REG_NCMD},
                {"prof", SQ_REG_PROF_LO}};
    for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++) {
        snprintf(want, sizeof want, "s_axilite port=%s offset=0x%X ", regs[i].port, regs[i].off);
        ck_assert_msg(strstr(src, want), "sq_cp.c lacks '%s'", want);
    }
    for (unsigned i = 0; i < SQ_RUN_POS; i++) {
        snprintf(want, sizeof want, "s_axilite port=pos%u offset=0x%X ", i, SQ_REG_POS0 + 4 * i);
        ck_assert_msg(strstr(src, want), "sq_cp.c lacks '%s'", want);
    }
    free(src);
}
END_TEST

Suite *cp_suite(void)
{
    Suite *s = suite_create("cp");
    TCase *tc = sq_tcase(s, "bit_exact", 240);
    tcase_add_test(tc, test_mixed_csim);
    tcase_add_test(tc, test_mixed_model);
    tcase_add_test(tc, test_mixed_opencl);
    tcase_add_test(tc, test_mixed_rtl);
    tcase_add_test(tc, test_mixed_tlm);
    tcase_add_test(tc, test_unit_launches);
    tc = sq_tcase(s, "cycles", 240);
    tcase_add_test(tc, test_model_equals_rtl);
    tcase_add_test(tc, test_cus_model_equals_rtl);
    tcase_add_test(tc, test_cus_split);
    tcase_add_test(tc, test_overlap);
    tcase_add_test(tc, test_unit_kernels_model);
    tcase_add_test(tc, test_shared_channel);
    tc = sq_tcase(s, "bad_input", 120);
    tcase_add_test(tc, test_bad_streams);
    tcase_add_test(tc, test_cus_refused);
    tcase_add_test(tc, test_rtl_refusals_and_hang);
    tcase_add_test(tc, test_hls_pragmas);
    return s;
}
