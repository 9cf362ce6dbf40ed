/* Attention: the golden rules of include/sparq/attn.h, its error against fp32,
 * and every level bit-exact against it over random configurations. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sparq/attn.h"
#include "sparq/desc.h"
#include "sparq/kernels.h"
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

/* ---- random configurations ---------------------------------------------- */

typedef struct {
    sq_attn_t a;
    int8_t *q, *k, *v, *o;
    uint8_t *mask;
    sq_attn_quant_t *quant;
} cfg_t;

static uint32_t pick(uint64_t *rng, const uint32_t *v, size_t n)
{
    return v[sq_test_rand(rng) % n];
}

static void fill_i8(uint64_t *rng, int8_t *x, size_t n, int range)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (int8_t)((int)(sq_test_rand(rng) % (uint64_t)(2 * range + 1)) - range);
}

/* Configuration number t: patterns cycle through all 32 flag combinations;
 * shapes mix decode, prefill and partial prefill, GQA, odd dims and the
 * edges (seq 1, window beyond seq, k beyond the candidates). */
static void cfg_make(uint64_t *rng, int t, cfg_t *c)
{
    static const uint32_t seqs[] = {1, 2, 5, 31, 32, 33, 64, 97, 130, 200};
    static const uint32_t dims[] = {1, 8, 13, 16, 32, 64, 128};
    static const uint32_t hs[][2] = {{1, 1}, {2, 1}, {2, 2}, {4, 2}, {6, 3}, {8, 4}, {8, 1}};
    memset(c, 0, sizeof *c);
    sq_attn_t *a = &c->a;
    a->flags = (uint32_t)t % 32;
    a->seq = pick(rng, seqs, sizeof seqs / sizeof seqs[0]);
    int mode = (int)(sq_test_rand(rng) % 3);
    a->queries = mode == 0 ? 1 : mode == 1 ? a->seq : 1 + (uint32_t)(sq_test_rand(rng) % a->seq);
    const uint32_t *h = hs[sq_test_rand(rng) % (sizeof hs / sizeof hs[0])];
    a->heads = h[0];
    a->kv_heads = h[1];
    a->head_dim = pick(rng, dims, sizeof dims / sizeof dims[0]);
    /* keep each configuration small enough for ASan */
    while ((uint64_t)a->queries * a->seq * a->heads * a->head_dim > 1500000 && a->queries > 1)
        a->queries /= 2;
    a->kv_cap = a->seq + (uint32_t)(sq_test_rand(rng) % 3);
    a->window = 1 + (uint32_t)(sq_test_rand(rng) % (a->seq + 40));
    a->n_global = (uint32_t)(sq_test_rand(rng) % (a->seq / 4 + 3));
    a->topk = 1 + (uint32_t)(sq_test_rand(rng) % (a->seq + 4));
    size_t nq = (size_t)a->heads * a->queries * a->head_dim;
    size_t nkv = (size_t)a->kv_heads * a->kv_cap * a->head_dim;
    uint32_t nb = sq_attn_blocks(a->seq);
    size_t nmask = (size_t)nb * SQ_ATTN_MASK_ROW_BYTES;
    c->q = malloc(nq);
    c->o = malloc(nq);
    c->k = malloc(nkv);
    c->v = malloc(nkv);
    c->mask = malloc(nmask);
    c->quant = malloc(a->heads * sizeof *c->quant);
    /* small ranges make tied scores (top-k ties), full ranges hit -128 */
    int range = (int)pick(rng, (const uint32_t[]){2, 20, 128}, 3);
    fill_i8(rng, c->q, nq, range);
    fill_i8(rng, c->k, nkv, range);
    fill_i8(rng, c->v, nkv, 128);
    uint32_t dens = (uint32_t)(sq_test_rand(rng) % 5); /* 0: empty bitmap rows */
    for (size_t i = 0; i < nmask; i++) {
        uint8_t b = 0;
        for (int bit = 0; bit < 8; bit++)
            b |= (uint8_t)((sq_test_rand(rng) % 4 < dens) << bit);
        c->mask[i] = b;
    }
    for (uint32_t hh = 0; hh < a->heads; hh++) {
        double sq = (1.0 + (double)(sq_test_rand(rng) % 100)) / 2000.0;
        double sv = (1.0 + (double)(sq_test_rand(rng) % 100)) / 100.0;
        ck_assert_int_eq(sq_attn_quant_make(sq, sq, sv, sv * (0.5 + (hh % 3)), a->head_dim,
                                            &c->quant[hh]),
                         0);
    }
    a->q = c->q;
    a->k = c->k;
    a->v = c->v;
    a->mask = c->mask;
    a->quant = c->quant;
    a->o = c->o;
}

static void cfg_free(cfg_t *c)
{
    free(c->q);
    free(c->k);
    free(c->v);
    free(c->o);
    free(c->mask);
    free(c->quant);
}

/* Lays a configuration out in a flat memory image with its descriptor and
 * runs the HLS kernel on it; returns O (malloc'd). */
static int8_t *run_kernel(const sq_attn_t *a)
{
    size_t nq = (size_t)a->heads * a->queries * a->head_dim;
    size_t nkv = (size_t)a->kv_heads * a->kv_cap * a->head_dim;
    size_t nmask = (size_t)sq_attn_blocks(a->seq) * SQ_ATTN_MASK_ROW_BYTES;
    size_t nquant = (size_t)a->heads * SQ_ATTN_QUANT_BYTES;
    sq_attn_desc_t d = {.flags = a->flags, .seq = a->seq, .queries = a->queries,
                        .heads = a->heads, .kv_heads = a->kv_heads, .head_dim = a->head_dim,
                        .kv_cap = a->kv_cap, .window = a->window, .n_global = a->n_global,
                        .topk = a->topk};
    uint64_t at = SQ_DESC_BYTES;
    d.q = at;
    at += nq;
    d.k = at;
    at += nkv;
    d.v = at;
    at += nkv;
    d.mask = at;
    at += nmask;
    d.quant = at;
    at += nquant;
    d.o = at;
    at += nq;
    uint8_t *mem = calloc(1, at);
    sq_attn_desc_encode(&d, mem);
    memcpy(mem + d.q, a->q, nq);
    memcpy(mem + d.k, a->k, nkv);
    memcpy(mem + d.v, a->v, nkv);
    memcpy(mem + d.mask, a->mask, nmask);
    for (uint32_t h = 0; h < a->heads; h++) {
        uint8_t *qp = mem + d.quant + (size_t)h * SQ_ATTN_QUANT_BYTES;
        sq_st32(qp, (uint32_t)a->quant[h].s_mult);
        sq_st32(qp + 4, a->quant[h].s_shift);
        sq_st32(qp + 8, (uint32_t)a->quant[h].o_mult);
        sq_st32(qp + 12, a->quant[h].o_shift);
    }
    sq_attn_kernel(mem, 0, 1);
    int8_t *o = malloc(nq);
    memcpy(o, mem + d.o, nq);
    free(mem);
    return o;
}

START_TEST(test_csim_random)
{
    uint64_t rng = 0xA77E;
    for (int t = 0; t < 128; t++) {
        cfg_t c;
        cfg_make(&rng, t, &c);
        ck_assert_int_eq(sq_attn_ref(&c.a, NULL), 0);
        int8_t *o = run_kernel(&c.a);
        size_t n = (size_t)c.a.heads * c.a.queries * c.a.head_dim;
        for (size_t i = 0; i < n; i++)
            ck_assert_msg(o[i] == c.o[i],
                          "config %d (flags 0x%x seq %u queries %u heads %u/%u dim %u window %u "
                          "global %u topk %u): O[%zu] csim %d ref %d",
                          t, c.a.flags, c.a.seq, c.a.queries, c.a.heads, c.a.kv_heads,
                          c.a.head_dim, c.a.window, c.a.n_global, c.a.topk, i, o[i], c.o[i]);
        free(o);
        cfg_free(&c);
    }
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
    tc = sq_tcase(s, "csim", 120);
    tcase_add_test(tc, test_csim_random);
    return s;
}
