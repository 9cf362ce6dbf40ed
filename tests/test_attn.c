/* Attention: the golden rules of include/sparq/attn.h, its error against fp32,
 * and every level bit-exact against it over random configurations. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/sq_attn_vl.h"
#include "../sim/sq_sim.h"
#include "sparq/attn.h"
#include "sparq/desc.h"
#include "runtime/attn_case.h"
#include "runtime/device.h"
#include "util/err.h"
#include "testutil.h"

/* ---- the rules ---------------------------------------------------------- */

START_TEST(test_exp_table)
{
    for (unsigned f = 0; f < 256; f++)
        ck_assert_int_eq(SQ_ATTN_EXP2[f], lround(32768.0 * exp2(-(double)f / 256.0)));
    ck_assert_uint_eq(sq_attn_exp(0), 32768);
    ck_assert_uint_eq(sq_attn_exp(256), 16384);
    ck_assert_uint_eq(sq_attn_exp(15 * 256), 1);
    ck_assert_uint_eq(sq_attn_exp(SQ_ATTN_U_ZERO - 1), 1); /* (16428 + 2^14) >> 15 */
    ck_assert_uint_eq(sq_attn_exp(SQ_ATTN_U_ZERO), 0);
    ck_assert_uint_eq(sq_attn_exp(UINT32_MAX), 0);
    /* u: diff 0 is 0; a huge negative difference clamps instead of wrapping */
    ck_assert_uint_eq(sq_attn_u(0, INT32_MAX, 0), 0);
    ck_assert_uint_eq(sq_attn_u(-(1 << 22), INT32_MAX, 0), SQ_ATTN_U_ZERO);
    ck_assert_uint_eq(sq_attn_u(-3, 1 << 30, 31), 1); /* -1.5 rounds to -1 */
}
END_TEST

START_TEST(test_recip_prob)
{
    ck_assert_uint_eq(sq_attn_recip(32768), 1u << 31);
    ck_assert_uint_eq(sq_attn_prob(32768, sq_attn_recip(32768)), 32768);
    ck_assert_uint_eq(sq_attn_prob(32768, sq_attn_recip(65536)), 16384);
    /* the largest sum: 4096 keys at 1.0 */
    uint32_t r = sq_attn_recip(4096u * 32768u);
    ck_assert_uint_eq(r, 1u << 19);
    ck_assert_uint_eq(sq_attn_prob(32768, r), 8);
    ck_assert_int_eq(sq_attn_pv_mac(0, 32768, -128), -(1 << 22));
}
END_TEST

/* The documented bound |P/2^15 - p| <= p (0.003 + 1.6 n 2^-16) + 3 2^-16 on
 * rows of random scores, with spreads from flat to one-hot. */
START_TEST(test_softmax_bound)
{
    uint64_t rng = 0x5eed;
    int32_t s[512];
    uint32_t e[512];
    double worst = 0.0;
    for (int trial = 0; trial < 400; trial++) {
        uint32_t n = 1 + (uint32_t)(sq_test_rand(&rng) % 512);
        int32_t spread = 1 + (int32_t)(sq_test_rand(&rng) % 200000);
        double scale = ldexp(1.0, -(int)(sq_test_rand(&rng) % 20)) * 1e-2;
        sq_attn_quant_t qt;
        ck_assert_int_eq(sq_attn_quant_make(scale, 1.0, 1.0, 1.0, 1, &qt), 0);
        int32_t m = INT32_MIN;
        for (uint32_t j = 0; j < n; j++) {
            s[j] = (int32_t)(sq_test_rand(&rng) % (uint64_t)(2 * spread + 1)) - spread;
            m = s[j] > m ? s[j] : m;
        }
        uint32_t sum = 0;
        double fsum = 0.0;
        for (uint32_t j = 0; j < n; j++) {
            e[j] = sq_attn_exp(sq_attn_u(s[j] - m, qt.s_mult, qt.s_shift));
            sum += e[j];
            fsum += exp((double)(s[j] - m) * scale);
        }
        uint32_t r = sq_attn_recip(sum);
        for (uint32_t j = 0; j < n; j++) {
            double p = exp((double)(s[j] - m) * scale) / fsum;
            double got = sq_attn_prob(e[j], r) / 32768.0;
            double bound = p * (0.003 + 1.6 * n / 65536.0) + 3.0 / 65536.0;
            ck_assert_msg(fabs(got - p) <= bound, "trial %d n %u key %u: P %.6f vs %.6f", trial,
                          n, j, got, p);
            if (fabs(got - p) > worst)
                worst = fabs(got - p);
        }
    }
    ck_assert_double_lt(worst, 0.01);
}
END_TEST

/* A hand-worked call: equal scores split 50/50, a fully masked row gives 0. */
START_TEST(test_ref_small)
{
    const int8_t q[2] = {1, 1};       /* (1 head, 2 queries, dim 1) */
    const int8_t k[2] = {0, 0};
    const int8_t v[2] = {100, -50};
    sq_attn_quant_t qt;
    ck_assert_int_eq(sq_attn_quant_make(1.0, 1.0, 1.0, 1.0, 1, &qt), 0);
    int8_t o[2];
    sq_attn_t a = {.flags = 0, .seq = 2, .queries = 2, .heads = 1, .kv_heads = 1, .head_dim = 1,
                   .kv_cap = 2, .q = q, .k = k, .v = v, .quant = &qt, .o = o};
    sq_attn_work_t w = {0, 0};
    ck_assert_int_eq(sq_attn_ref(&a, &w), 0);
    /* P = 16384 each: (16384*100 - 16384*50) / 2^15 = 25 */
    const int8_t want[2] = {25, 25};
    sq_assert_i8_eq(o, want, 2);
    ck_assert_uint_eq(w.scored, 4);
    /* causal: query 0 sees only key 0 */
    a.flags = SQ_ATTN_CAUSAL;
    ck_assert_int_eq(sq_attn_ref(&a, NULL), 0);
    const int8_t want_c[2] = {100, 25};
    sq_assert_i8_eq(o, want_c, 2);
    /* an all-zero block bitmap masks every key */
    const uint8_t mask[SQ_ATTN_MASK_ROW_BYTES] = {0};
    a.flags = SQ_ATTN_BLOCK;
    a.mask = mask;
    w.scored = 0;
    ck_assert_int_eq(sq_attn_ref(&a, &w), 0);
    const int8_t zero[2] = {0, 0};
    sq_assert_i8_eq(o, zero, 2);
    ck_assert_uint_eq(w.scored, 0);
    /* top-1 of a tie keeps the lower index */
    a.flags = SQ_ATTN_TOPK;
    a.topk = 1;
    ck_assert_int_eq(sq_attn_ref(&a, NULL), 0);
    const int8_t want_t[2] = {100, 100};
    sq_assert_i8_eq(o, want_t, 2);
    /* invalid shapes */
    a.queries = 3;
    ck_assert_int_eq(sq_attn_ref(&a, NULL), -1);
    a.queries = 2;
    a.heads = 3;
    a.kv_heads = 2;
    ck_assert_int_eq(sq_attn_ref(&a, NULL), -1);
}
END_TEST

static int cmp_desc(const void *x, const void *y)
{
    const int64_t *a = x, *b = y; /* (score << 16 | (65535 - index)) */
    return *a < *b ? 1 : *a > *b ? -1 : 0;
}

/* Top-k against a sort on random scores with many duplicates. */
START_TEST(test_topk_select)
{
    uint64_t rng = 42;
    int32_t s[300];
    uint8_t cand[300], sel[300];
    int64_t key[300];
    for (int trial = 0; trial < 300; trial++) {
        uint32_t n = 1 + (uint32_t)(sq_test_rand(&rng) % 300);
        uint32_t range = 1 + (uint32_t)(sq_test_rand(&rng) % 8);
        int big = trial % 3 == 0;
        uint32_t nc = 0;
        for (uint32_t j = 0; j < n; j++) {
            int32_t r = (int32_t)(sq_test_rand(&rng) % (2 * range + 1)) - (int32_t)range;
            s[j] = big ? r * 300000 + (r < 0 ? INT32_MIN / 2 : 0) : r;
            cand[j] = sq_test_rand(&rng) % 4 != 0;
            if (cand[j])
                key[nc++] = (int64_t)s[j] * 65536 + (65535 - j);
        }
        uint32_t k = 1 + (uint32_t)(sq_test_rand(&rng) % (n + 2));
        uint32_t got = sq_attn_topk_select(s, cand, n, k, sel);
        qsort(key, nc, sizeof key[0], cmp_desc);
        uint8_t want[300] = {0};
        uint32_t keep = k < nc ? k : nc;
        for (uint32_t t = 0; t < keep; t++)
            want[65535 - (key[t] & 0xFFFF)] = 1;
        ck_assert_uint_eq(got, keep);
        sq_assert_i8_eq((const int8_t *)sel, (const int8_t *)want, n);
    }
}
END_TEST

/* sq_attn_block_range covers every candidate, so skipping outside it is
 * exact. */
START_TEST(test_block_range)
{
    uint64_t rng = 7;
    for (int trial = 0; trial < 300; trial++) {
        uint32_t seq = 1 + (uint32_t)(sq_test_rand(&rng) % 150);
        uint32_t flags = (uint32_t)(sq_test_rand(&rng) % 16);
        uint32_t window = 1 + (uint32_t)(sq_test_rand(&rng) % (2 * seq));
        uint32_t n_global = (uint32_t)(sq_test_rand(&rng) % (seq + 2));
        for (uint32_t p = 0; p < seq; p++) {
            for (uint32_t kb = 0; kb < sq_attn_blocks(seq); kb++) {
                int bbit = (int)(sq_test_rand(&rng) & 1);
                uint32_t lo, hi;
                sq_attn_block_range(flags, window, n_global, seq, p, kb, bbit, &lo, &hi);
                ck_assert_uint_le(lo, hi);
                for (uint32_t j = kb * SQ_ATTN_BLK; j < seq && j < (kb + 1) * SQ_ATTN_BLK; j++)
                    if (sq_attn_cand(flags, window, n_global, p, j, bbit))
                        ck_assert_msg(j >= lo && j < hi, "flags %u p %u j %u outside [%u,%u)",
                                      flags, p, j, lo, hi);
            }
        }
    }
}
END_TEST

/* ---- random configurations through the device API ----------------------- */

START_TEST(test_ref_random)
{
    sq_test_attn_random("ref", 0xA77E, 40, 1000000);
}
END_TEST

START_TEST(test_csim_random)
{
    sq_test_attn_random("csim", 0xC51A, 128, 1000000);
}
END_TEST

START_TEST(test_rtl_random)
{
    sq_test_attn_random("rtl", 0x5717, 110, 200000);
}
END_TEST

/* Runs one case on a level and returns its cycles. */
static uint64_t case_cycles(const char *level, const sq_attn_params_t *p, double *density)
{
    sq_attn_case_t ac;
    ck_assert_int_eq(sq_attn_case_build(&ac, p), 0);
    sq_dev_t *dev = sq_test_dev_open(level, sq_attn_case_dev_bytes(&ac) + 4096);
    sq_dev_stats_t st;
    sq_test_attn_stream(dev, &ac, 1, &st);
    *density = (double)ac.work.selected / ((double)p->heads * p->queries * p->seq);
    sq_dev_close(dev);
    sq_attn_case_free(&ac);
    return st.cycles;
}

/* Masked work is skipped, not computed and dropped: on the RTL, at density d
 * a sequence of 256 keys costs at most (d + 0.15) x the dense cycles (the
 * fixed part: per query the Q row, the reciprocal, the O row; per key block
 * touched, a K and a V burst's latency). */
START_TEST(test_rtl_skips)
{
    sq_attn_params_t p = {.seq = 256, .queries = 4, .heads = 1, .kv_heads = 1, .head_dim = 64,
                          .seed = 9};
    double d;
    uint64_t dense = case_cycles("rtl", &p, &d);
    ck_assert_double_eq(d, 1.0);
    const struct {
        uint32_t flags, window, n_global;
        double block;
    } pats[] = {
        {SQ_ATTN_CAUSAL | SQ_ATTN_WINDOW, 16, 0, 0},
        {SQ_ATTN_WINDOW, 48, 0, 0},
        {SQ_ATTN_BLOCK, 0, 0, 0.25},
        {SQ_ATTN_BLOCK | SQ_ATTN_GLOBAL, 0, 8, 0.5},
        {SQ_ATTN_CAUSAL | SQ_ATTN_WINDOW | SQ_ATTN_GLOBAL, 8, 4, 0},
    };
    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
        p.flags = pats[i].flags;
        p.window = pats[i].window;
        p.n_global = pats[i].n_global;
        p.block_density = pats[i].block;
        uint64_t c = case_cycles("rtl", &p, &d);
        ck_assert_msg((double)c <= (d + 0.15) * (double)dense,
                      "pattern %zu: %llu cycles at density %.3f, dense %llu", i,
                      (unsigned long long)c, d, (unsigned long long)dense);
    }
}
END_TEST

/* The error against fp32 on N(0,1) data stays within a few output steps. */
START_TEST(test_fp32_error)
{
    sq_attn_params_t p = {.seq = 256, .queries = 16, .heads = 2, .kv_heads = 1,
                          .head_dim = 64, .seed = 3};
    const uint32_t flags[] = {0, SQ_ATTN_CAUSAL | SQ_ATTN_WINDOW, SQ_ATTN_TOPK};
    for (size_t i = 0; i < 3; i++) {
        p.flags = flags[i];
        p.window = 32;
        p.topk = 16;
        sq_attn_case_t ac;
        ck_assert_int_eq(sq_attn_case_build(&ac, &p), 0);
        double mx, mean, ref;
        ck_assert_int_eq(sq_attn_case_error(&ac, &mx, &mean, &ref), 0);
        /* one O step is about 4.5 / 127 = 0.035 for N(0,1) values; top-k may pick
         * a different k-th key than fp32 when scores are close */
        ck_assert_msg(mx < 0.25 && mean < 0.03 && ref > 0.05, "flags 0x%x: max %g mean %g ref %g",
                      p.flags, mx, mean, ref);
        sq_attn_case_free(&ac);
    }
}
END_TEST

/* A descriptor the unit cannot run fails validation on every level. */
START_TEST(test_desc_rejects)
{
    sq_attn_params_t p = {.seq = 8, .queries = 8, .heads = 2, .kv_heads = 2, .head_dim = 8};
    sq_attn_case_t ac;
    ck_assert_int_eq(sq_attn_case_build(&ac, &p), 0);
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, "ref");
    sq_dev_t *dev;
    ck_assert_int_eq(sq_dev_open(&cfg, &dev), 0);
    uint64_t cmd;
    ck_assert_int_eq(sq_attn_case_place(dev, &ac, &cmd), 0);
    uint8_t desc[SQ_DESC_BYTES];
    const struct {
        unsigned word;
        uint32_t value;
        const char *needle;
    } bad[] = {
        {SQ_ATTN_W_FLAGS, 0x20, "flags"},
        {SQ_ATTN_W_QUERIES, 9, "shape"},
        {SQ_ATTN_W_HEAD_DIM, 129, "shape"},
        {SQ_ATTN_W_KV_HEADS, 3, "shape"},
        {SQ_ATTN_W_SEQ, 0, "shape"},
        {SQ_ATTN_W_O_LO, 0x7fffffffu, "outside"},
        {SQ_ATTN_W_QUANT_LO, 0, "overlaps"},
        {SQ_ATTN_W_QUANT_LO, 1, "aligned"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sq_attn_desc_encode(&ac.d, desc);
        sq_st32(desc + 4u * bad[i].word, bad[i].value);
        if (bad[i].word == SQ_ATTN_W_QUANT_LO && bad[i].value == 0)
            sq_desc_set_addr(desc, SQ_ATTN_W_QUANT_LO, ac.d.o);
        ck_assert_int_eq(sq_dev_write(dev, cmd, desc, sizeof desc), 0);
        ck_assert_int_eq(sq_dev_run(dev, cmd, 1, 0), SQ_ERR_FMT);
        ck_assert_msg(strstr(sq_err_msg(), bad[i].needle), "case %zu: '%s' lacks '%s'", i,
                      sq_err_msg(), bad[i].needle);
    }
    /* a quant entry out of range is a data error */
    sq_attn_desc_encode(&ac.d, desc);
    ck_assert_int_eq(sq_dev_write(dev, cmd, desc, sizeof desc), 0);
    sq_attn_quant_t q0 = {0, 0, 1, 0};
    ck_assert_int_eq(sq_dev_write(dev, ac.d.quant, &q0, sizeof q0), 0);
    ck_assert_int_eq(sq_dev_run(dev, cmd, 1, 0), SQ_ERR_FMT);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "quant[0]"));
    sq_dev_close(dev);
    sq_attn_case_free(&ac);
}
END_TEST

/* The s_axilite offsets written as literals in the HLS pragmas are spec.h's. */
START_TEST(test_hls_pragmas)
{
    sq_test_hls_unit_pragmas(SQ_HLS_ATTN_SRC);
}
END_TEST

/* The RTL's constants package is what attngen prints from the C headers. */
START_TEST(test_rtl_pkg)
{
    free(sq_test_generated(SQ_ATTNGEN_BIN, SQ_ATTN_PKG, "attngen"));
}
END_TEST

/* ---- the CLI -------------------------------------------------------------- */

static long field(const char *out, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *p = strstr(out, key);
    ck_assert_msg(p, "no '%s' in output:\n%s", name, out);
    return strtol(p + strlen(key), NULL, 10);
}

START_TEST(test_cli_runs)
{
    char out[4096], err[1024];
    const char *runs[] = {
        "attn --backend csim --seq 70 --queries 1 --heads 4 --kv-heads 2 --head-dim 16 --causal "
        "--window 20 --global 3 --block-density 0.5 --topk 5",
        "attn --backend ref --seq 40 --heads 2 --head-dim 8 --causal",
        "attn --backend csim --seq 1 --heads 1 --head-dim 128 --topk 4",
        "attn --backend rtl --seq 40 --queries 3 --heads 2 --kv-heads 1 --head-dim 13 --causal "
        "--topk 7 --block-density 0.7",
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        int rc = sq_run_cli(runs[i], out, sizeof out, err, sizeof err);
        ck_assert_msg(rc == 0, "'%s' exit %d: %s", runs[i], rc, err);
        ck_assert_int_eq(field(out, "mismatches"), 0);
        ck_assert_ptr_nonnull(strstr(out, "\ndensity "));
    }
    /* causal prefill keeps (L + 1) / 2L of the pairs */
    ck_assert_int_eq(sq_run_cli("attn --seq 40 --heads 1 --head-dim 8 --causal", out, sizeof out,
                                err, sizeof err),
                     0);
    ck_assert_ptr_nonnull(strstr(out, "\ndensity 0.512500\n"));
    ck_assert_int_eq(sq_run_cli("attn --seq 16 --heads 2 --head-dim 8 --json", out, sizeof out,
                                err, sizeof err),
                     0);
    ck_assert_ptr_nonnull(strstr(out, "\"mismatches\":0"));
    ck_assert_int_eq(sq_run_cli("attn --help", out, sizeof out, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(out, "--block-density"));
}
END_TEST

START_TEST(test_cli_bad_flags)
{
    const struct {
        const char *args, *needle;
    } bad[] = {
        {"attn --seq 0", "--seq"},
        {"attn --seq 4097", "--seq"},
        {"attn --seq 8 --queries 9", "--queries"},
        {"attn --heads 3 --kv-heads 2", "--kv-heads"},
        {"attn --head-dim 129", "--head-dim"},
        {"attn --window 0", "--window"},
        {"attn --topk x", "--topk"},
        {"attn --block-density 1.5", "--block-density"},
        {"attn --backend tpu", "--backend"},
        {"attn --frob", "unknown flag"},
        {"attn extra", "unexpected argument"},
    };
    char out[4096], err[1024];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = sq_run_cli(bad[i].args, out, sizeof out, err, sizeof err);
        ck_assert_msg(rc == 2, "'%s' exit %d", bad[i].args, rc);
        ck_assert_msg(strncmp(err, "sparq attn: ", 12) == 0, "stderr: '%s'", err);
        char *nl = strchr(err, '\n');
        ck_assert_msg(nl && nl[1] == 0, "not one line: '%s'", err);
        ck_assert_msg(strstr(err, bad[i].needle), "'%s' lacks '%s'", err, bad[i].needle);
    }
}
END_TEST

/* The attention unit adds SQ_REG_MEM to every descriptor address, as on a
 * card where XRT writes the buffer's address there: a case placed on the ref
 * level (offsets from 0) and copied above a 64 KiB base runs with the golden
 * bits, and nothing below the base is touched. */
START_TEST(test_rtl_mem_base)
{
    const uint64_t base = 64u << 10;
    sq_attn_params_t p = {.seq = 40, .queries = 3, .heads = 2, .kv_heads = 1, .head_dim = 16,
                          .flags = SQ_ATTN_CAUSAL | SQ_ATTN_WINDOW, .window = 9, .seed = 11};
    sq_attn_case_t ac;
    ck_assert_msg(sq_attn_case_build(&ac, &p) == 0, "%s", sq_err_msg());
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, "ref");
    cfg.mem_bytes = sq_attn_case_dev_bytes(&ac) + 4096;
    sq_dev_t *dev = NULL;
    ck_assert_int_eq(sq_dev_open(&cfg, &dev), 0);
    uint64_t cmd = 0;
    ck_assert_int_eq(sq_attn_case_place(dev, &ac, &cmd), 0);
    uint8_t *img = malloc(cfg.mem_bytes);
    ck_assert_int_eq(sq_dev_read(dev, 0, img, cfg.mem_bytes), 0);

    sq_mem_t *m = NULL;
    sq_kernel_t *k = NULL;
    sq_sim_t *s = NULL;
    ck_assert_int_eq(sq_mem_create(base + cfg.mem_bytes, 64.0, 10, &m), 0);
    ck_assert_int_eq(sq_attn_vl_create(NULL, &k), 0);
    ck_assert_int_eq(sq_sim_create(k, m, &s), 0);
    ck_assert_int_eq(sq_mem_write(m, base, img, cfg.mem_bytes), 0);
    sq_sim_set_mem_base(s, base);
    sq_sim_run_t run;
    ck_assert_msg(sq_sim_run(s, cmd, 1, 10000000, &run) == 0, "%s", sq_err_msg());
    int8_t *o = malloc(ac.b.o);
    ck_assert_int_eq(sq_mem_read(m, base + ac.d.o, o, ac.b.o), 0);
    uint64_t first = 0;
    ck_assert_msg(sq_attn_case_mismatches(&ac, o, &first) == 0, "first mismatch at %llu",
                  (unsigned long long)first);
    uint8_t *low = malloc(base);
    ck_assert_int_eq(sq_mem_read(m, 0, low, base), 0);
    for (uint64_t i = 0; i < base; i++)
        ck_assert_msg(low[i] == 0, "byte %llu below the base written", (unsigned long long)i);
    free(low);
    free(o);
    free(img);
    sq_sim_destroy(s);
    sq_dev_close(dev);
    sq_attn_case_free(&ac);
}
END_TEST

Suite *attn_suite(void)
{
    Suite *s = suite_create("attn");
    TCase *tc = sq_tcase(s, "rules", 30);
    tcase_add_test(tc, test_exp_table);
    tcase_add_test(tc, test_recip_prob);
    tcase_add_test(tc, test_softmax_bound);
    tcase_add_test(tc, test_ref_small);
    tcase_add_test(tc, test_topk_select);
    tcase_add_test(tc, test_block_range);
    tcase_add_test(tc, test_fp32_error);
    tcase_add_test(tc, test_hls_pragmas);
    tcase_add_test(tc, test_rtl_pkg);
    tc = sq_tcase(s, "levels", 120);
    tcase_add_test(tc, test_ref_random);
    tcase_add_test(tc, test_csim_random);
    tcase_add_test(tc, test_desc_rejects);
    tc = sq_tcase(s, "rtl", 240);
    tcase_add_test(tc, test_rtl_random);
    tcase_add_test(tc, test_rtl_skips);
    tcase_add_test(tc, test_rtl_mem_base);
    tc = sq_tcase(s, "cli", 60);
    tcase_add_test(tc, test_cli_runs);
    tcase_add_test(tc, test_cli_bad_flags);
    return s;
}
