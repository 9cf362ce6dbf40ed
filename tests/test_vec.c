/* The vector unit's golden reference (include/sparq/vec.h, host/numerics/vec.c):
 * hand-worked cases of every rule, properties against real-valued math on
 * random rows, the addressing (segments, strides, a KV-cache row), the
 * descriptor on the ref level and its validation, GEMM group scales, and
 * every op on random and edge cases checked by the independent oracle
 * scripts/vec_oracle.py. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/desc.h"
#include "sparq/desc.h"
#include "sparq/vec.h"
#include "testutil.h"
#include "util/err.h"

static double rec_value(sq_vec_rec_t r)
{
    return ldexp((double)r.mult, -r.shift);
}

START_TEST(test_bitlen_isqrt_rsqrt)
{
    ck_assert_uint_eq(sq_vec_bitlen(0), 0);
    ck_assert_uint_eq(sq_vec_bitlen(1), 1);
    ck_assert_uint_eq(sq_vec_bitlen(UINT64_MAX), 64);
    ck_assert_uint_eq(sq_vec_bitlen((uint64_t)1 << 40), 41);
    uint64_t sq[] = {0, 1, 2, 3, 4, 15, 16, 17, 1000000, ((uint64_t)1 << 62) - 1};
    for (size_t i = 0; i < sizeof sq / sizeof sq[0]; i++) {
        uint64_t r = sq_vec_isqrt(sq[i]);
        ck_assert(r * r <= sq[i] && (r + 1) * (r + 1) > sq[i]);
    }
    /* 1/sqrt(4) = 0.5, 1/sqrt(1) = 1, 1/sqrt(2^61) exact powers */
    ck_assert(fabs(rec_value(sq_vec_rsqrt(4)) - 0.5) < 1e-9);
    ck_assert(fabs(rec_value(sq_vec_rsqrt(1)) - 1.0) < 1e-9);
    ck_assert_int_eq(sq_vec_rsqrt(0).mult, 0);
    for (uint64_t v = 3; v < ((uint64_t)1 << 61); v = v * 7 + 5) {
        double want = 1.0 / sqrt((double)v), got = rec_value(sq_vec_rsqrt(v));
        ck_assert_msg(fabs(got / want - 1) < ldexp(1, -29), "rsqrt(%llu)", (unsigned long long)v);
    }
}
END_TEST

START_TEST(test_requant2_hand)
{
    sq_vec_rec_t one = {1 << 30, 30}; /* 1.0 */
    /* channel stage 0.5, ties up: 1.5 -> 2, -1.5 -> -1 */
    ck_assert_int_eq(sq_vec_requant2(1000, 1 << 30, 31, one, 0), 500);
    ck_assert_int_eq(sq_vec_requant2(3, 1 << 30, 31, one, 0), 2);
    ck_assert_int_eq(sq_vec_requant2(-3, 1 << 30, 31, one, 0), -1);
    /* adj moves the row stage's shift: -2 doubles twice */
    ck_assert_int_eq(sq_vec_requant2(1000, 1 << 30, 31, one, -2), 2000);
    /* the shift clamps at 0 and 62: huge scales saturate, tiny ones vanish */
    ck_assert_int_eq(sq_vec_requant2(1000, 1 << 30, 31, (sq_vec_rec_t){1 << 30, -500}, 0),
                     INT32_MAX);
    ck_assert_int_eq(sq_vec_requant2(-1000, 1 << 30, 31, (sq_vec_rec_t){1 << 30, -500}, 0),
                     INT32_MIN);
    ck_assert_int_eq(sq_vec_requant2(1000, 1 << 30, 31, (sq_vec_rec_t){1 << 30, 500}, 0), 0);
    /* extremes never overflow: INT32_MIN times the largest factors */
    ck_assert_int_eq(sq_vec_requant2(INT32_MIN, INT32_MAX, 0, (sq_vec_rec_t){INT32_MIN, 0}, 0),
                     INT32_MAX);
    /* a zero record (all-zero input row) gives 0 */
    ck_assert_int_eq(sq_vec_requant2(123456, INT32_MAX, 10, (sq_vec_rec_t){0, 0}, 0), 0);
}
END_TEST

START_TEST(test_dq_hand)
{
    int64_t y[] = {10, -5, 0, 3};
    sq_vec_dq_t p;
    sq_vec_rec_t r = sq_vec_dq_prep(10, 0, &p);
    int8_t want[] = {127, -63, 0, 38}; /* 127 y / 10: 127, -63.5 (half up), 0, 38.1 */
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(sq_vec_dq_apply(y[i], p), want[i]);
    ck_assert(fabs(rec_value(r) - 10.0 / 127) < 1e-8);
    /* all zero: q = 0, record {0, 0} */
    r = sq_vec_dq_prep(0, 5, &p);
    ck_assert_int_eq(r.mult, 0);
    ck_assert_int_eq(sq_vec_dq_apply(0, p), 0);
    /* fractional bits scale the record; a dim-1 row is +-127 */
    r = sq_vec_dq_prep(3, 2, &p);
    ck_assert(fabs(rec_value(r) - 0.75 / 127) < 1e-10);
    ck_assert_int_eq(sq_vec_dq_apply(-3, p), -127);
    /* the largest magnitude (2^62) */
    int64_t big = (int64_t)1 << 62;
    r = sq_vec_dq_prep((uint64_t)big, 0, &p);
    ck_assert_int_eq(sq_vec_dq_apply(-big, p), -127);
    ck_assert_int_eq(sq_vec_dq_apply(big / 2, p), 64); /* 63.5 -> 64 */
    ck_assert(fabs(rec_value(r) / (ldexp(1, 62) / 127) - 1) < 1e-8);
}
END_TEST

START_TEST(test_sigmoid_gelu_hand)
{
    ck_assert_uint_eq(sq_vec_sigmoid(0, 16), 16384);
    ck_assert_uint_eq(sq_vec_sigmoid(INT32_MAX, 0), 32768);
    ck_assert_uint_eq(sq_vec_sigmoid(INT32_MIN, 0), 0);
    for (int32_t x = -(20 << 16); x <= (20 << 16); x += 4099) {
        uint32_t s = sq_vec_sigmoid(x, 16);
        double want = 1.0 / (1.0 + exp(-ldexp(x, -16)));
        ck_assert_uint_eq(s + sq_vec_sigmoid(-x, 16), 32768u);
        ck_assert_msg(fabs(s / 32768.0 - want) <= 3e-5 + 0.0014 * want * (1 - want),
                      "sigmoid(%g) = %g, want %g", ldexp(x, -16), s / 32768.0, want);
        double g = ldexp(sq_vec_gelu(x, 16), -16), xr = ldexp(x, -16);
        double ge = 0.5 * xr * (1 + erf(xr / sqrt(2)));
        ck_assert_msg(fabs(g - ge) <= 2e-3 * fmax(1, fabs(xr)), "gelu(%g) = %g, want %g", xr, g,
                      ge);
    }
    ck_assert_int_eq(sq_vec_gelu(0, 20), 0);
    ck_assert_int_eq(sq_vec_gelu(100 << 20, 20), 100 << 20);
    ck_assert_int_eq(sq_vec_gelu(-(100 << 20), 20), 0);
    /* silu(a) * b with a = 0 is 0; silu(large a) = a */
    ck_assert_int_eq(sq_vec_swiglu(0, 1 << 16, 16), 0);
    ck_assert_int_eq(sq_vec_swiglu(30 << 16, 1 << 16, 16), (int64_t)(30 << 16) << 16);
}
END_TEST

START_TEST(test_rope_pair_hand)
{
    int8_t a, b;
    /* 90 degrees: (y0, y1) -> (-y1, y0); R = 4 fractional bits */
    sq_vec_rope_pair(5 * 16, -7 * 16, 0, 16384, 4, &a, &b);
    ck_assert_int_eq(a, 7);
    ck_assert_int_eq(b, 5);
    /* saturation of a rotated pair */
    sq_vec_rope_pair(INT32_MAX, INT32_MAX, 16384, 16384, 0, &a, &b);
    ck_assert_int_eq(a, 0);
    ck_assert_int_eq(b, 127);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Whole ops through sq_vec_ref on contiguous rows. */

typedef struct {
    sq_vec_t v;
    int32_t *in, *in2, *bias, *gain, *out32;
    sq_quant_t *chan;
    sq_vec_rec_t *rec_in, *rec_out;
    int8_t *out8, *table;
    int16_t *rope;
    uint32_t *ids;
} op_t;

static void op_alloc(op_t *o, uint32_t func, uint32_t flags, uint32_t m, uint32_t n)
{
    memset(o, 0, sizeof *o);
    o->v = (sq_vec_t){.func = func, .flags = flags, .m = m, .n = n};
    o->in = calloc((size_t)m * n + 1, 4);
    o->in2 = calloc((size_t)m * n + 1, 4);
    o->bias = calloc(n, 4);
    o->gain = calloc(n, 4);
    o->out32 = calloc((size_t)m * n, 4);
    o->out8 = calloc((size_t)m * n, 1);
    o->chan = calloc(2 * (size_t)n + 64, sizeof *o->chan);
    o->rec_in = calloc(m, sizeof *o->rec_in);
    o->rec_out = calloc(m, sizeof *o->rec_out);
    o->table = calloc(64 * (size_t)n, 1);
    o->rope = calloc((size_t)m * n + 2, 2);
    o->ids = calloc(m, 4);
    sq_vec_t *v = &o->v;
    int q8 = sq_vec_out_esize(func, flags) == 1;
    v->in = (const uint8_t *)(func == SQ_VEC_GATHER ? (int32_t *)o->ids : o->in);
    v->in_stride = func == SQ_VEC_GATHER ? 4 : sq_vec_in_esize(func) * n;
    v->in_seg_stride = sq_vec_in_esize(func) * n;
    v->in2 = (const uint8_t *)o->in2;
    v->in2_stride = 4 * n;
    v->out = q8 ? (uint8_t *)o->out8 : (uint8_t *)o->out32;
    v->out_stride = func == SQ_VEC_ARGMAX ? 4 : q8 ? n : 4 * n;
    v->out_seg_stride = q8 ? n : 4 * n;
    v->chan = func == SQ_VEC_NORM ? (const uint8_t *)o->gain : (const uint8_t *)o->chan;
    v->rec_in = (const uint8_t *)o->rec_in;
    v->rec_out = (uint8_t *)o->rec_out;
    v->tab = func == SQ_VEC_GATHER ? (const uint8_t *)o->table
             : func == SQ_VEC_ROPE && (flags & SQ_VEC_ROT) ? (const uint8_t *)o->rope
                                                            : (const uint8_t *)o->bias;
    v->tab_stride = func == SQ_VEC_GATHER ? n : 2 * n;
}

static void op_free(op_t *o)
{
    free(o->in);
    free(o->in2);
    free(o->bias);
    free(o->gain);
    free(o->out32);
    free(o->out8);
    free(o->chan);
    free(o->rec_in);
    free(o->rec_out);
    free(o->table);
    free(o->rope);
    free(o->ids);
}

START_TEST(test_norm_hand)
{
    /* RMS of (3, 4) is sqrt(12.5): (0.8485, 1.1314) with unit gains */
    op_t o;
    op_alloc(&o, SQ_VEC_NORM, 0, 1, 2);
    o.in[0] = 3 << 8;
    o.in[1] = 4 << 8; /* F_x = 8 */
    int fg = 20, fy = 16;
    o.gain[0] = o.gain[1] = (int32_t)lround(ldexp(sqrt(2.0), fg));
    uint64_t eps = 0;
    o.v.p[0] = (uint32_t)eps;
    o.v.p[2] = (uint32_t)(fg - fy - 15);
    o.v.p[3] = (uint32_t)fy;
    ck_assert_int_eq(sq_vec_ref(&o.v), 0);
    /* within one unit: d' keeps 15 significant bits, the gains 31 */
    ck_assert_int_le(abs(o.out32[0] - (int32_t)lround(ldexp(3 / sqrt(12.5), fy))), 1);
    ck_assert_int_le(abs(o.out32[1] - (int32_t)lround(ldexp(4 / sqrt(12.5), fy))), 1);
    /* int8 with a record: (95, 127), record 1.1314 / 127 */
    o.v.flags = SQ_VEC_Q8;
    o.v.out = (uint8_t *)o.out8;
    o.v.out_stride = 2;
    ck_assert_int_eq(sq_vec_ref(&o.v), 0);
    ck_assert_int_eq(o.out8[0], 95);
    ck_assert_int_eq(o.out8[1], 127);
    ck_assert(fabs(rec_value(o.rec_out[0]) - 4 / sqrt(12.5) / 127) < 1e-7);
    /* LayerNorm of (1, 3): mean 2, std 1 -> (-1, 1) plus bias (0.5, 0.25) */
    o.v.flags = SQ_VEC_LN | SQ_VEC_BIAS;
    o.v.out = (uint8_t *)o.out32;
    o.v.out_stride = 8;
    o.in[0] = 1 << 8;
    o.in[1] = 3 << 8;
    o.bias[0] = 1 << (fy - 1);
    o.bias[1] = 1 << (fy - 2);
    ck_assert_int_eq(sq_vec_ref(&o.v), 0);
    ck_assert_int_le(abs(o.out32[0] - (-(1 << fy) + (1 << (fy - 1)))), 1);
    ck_assert_int_le(abs(o.out32[1] - ((1 << fy) + (1 << (fy - 2)))), 1);
    /* an all-zero row with eps = 0: zero output (rsqrt of 0 is 0) */
    o.in[0] = o.in[1] = 0;
    o.v.flags = SQ_VEC_Q8;
    o.v.out = (uint8_t *)o.out8;
    o.v.out_stride = 2;
    ck_assert_int_eq(sq_vec_ref(&o.v), 0);
    ck_assert_int_eq(o.out8[0], 0);
    ck_assert_int_eq(o.rec_out[0].mult, 0);
    op_free(&o);
}
END_TEST

START_TEST(test_gather_argmax_add_hand)
{
    op_t o;
    op_alloc(&o, SQ_VEC_GATHER, 0, 3, 3);
    o.v.p[0] = 2;
    int8_t rows[6] = {-128, 1, 127, 5, -5, 0};
    memcpy(o.table, rows, 6);
    o.chan[0] = (sq_quant_t){1 << 30, 28}; /* x4 */
    o.chan[1] = (sq_quant_t){1 << 30, 31}; /* x0.5 */
    o.ids[0] = 1;
    o.ids[1] = 0;
    o.ids[2] = 7; /* outside the table: a zero row */
    ck_assert_int_eq(sq_vec_ref(&o.v), 0);
    int32_t want[9] = {3, -2, 0, -512, 4, 508, 0, 0, 0}; /* 2.5 -> 3, -2.5 -> -2 */
    sq_assert_i32_eq(o.out32, want, 9);
    op_free(&o);

    op_alloc(&o, SQ_VEC_ARGMAX, 0, 2, 4);
    int32_t x[8] = {1, 9, 9, -3, INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN};
    memcpy(o.in, x, sizeof x);
    ck_assert_int_eq(sq_vec_ref(&o.v), 0);
    ck_assert_int_eq(o.out32[0], 1); /* the first of tied maxima */
    ck_assert_int_eq(o.out32[1], 0);
    op_free(&o);

    /* residual add saturates at the int32 range */
    op_alloc(&o, SQ_VEC_ADD, 0, 1, 2);
    o.in[0] = INT32_MAX;
    o.in[1] = -5;
    o.in2[0] = 10;
    o.in2[1] = 7;
    ck_assert_int_eq(sq_vec_ref(&o.v), 0);
    ck_assert_int_eq(o.out32[0], INT32_MAX);
    ck_assert_int_eq(o.out32[1], 2);
    op_free(&o);
}
END_TEST

/* ---------------------------------------------------------------------------
 * Random and edge cases, dumped for the oracle. */

static uint32_t rnd(uint64_t *s, uint32_t n)
{
    return (uint32_t)(sq_test_rand(s) % n);
}

/* int32 values of a kind: small, wide, or the extremes. */
static int32_t rnd_i32(uint64_t *s, int kind)
{
    switch (kind) {
    case 0:
        return (int32_t)rnd(s, 2001) - 1000;
    case 1:
        return (int32_t)(uint32_t)sq_test_rand(s) >> rnd(s, 31);
    default: {
        static const int32_t edge[] = {INT32_MIN, INT32_MAX, 0, -1, 1, INT32_MIN + 1};
        return edge[rnd(s, 6)];
    }
    }
}

static sq_quant_t rnd_quant(uint64_t *s)
{
    sq_quant_t q = {(int32_t)(rnd(s, 1u << 30) + (1u << 30)), rnd(s, 63)};
    if (rnd(s, 8) == 0)
        q.mult = rnd(s, 3) == 0 ? 0 : INT32_MAX;
    else if (rnd(s, 2))
        q.shift = 28 + rnd(s, 12); /* the realistic range */
    return q;
}

static cJSON *i32_rows(const int32_t *x, uint32_t m, uint32_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (uint32_t i = 0; i < m; i++)
        cJSON_AddItemToArray(a, cJSON_CreateIntArray((const int *)x + (size_t)i * n, (int)n));
    return a;
}

static cJSON *i8_rows(const int8_t *x, uint32_t m, uint32_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (uint32_t i = 0; i < m; i++) {
        cJSON *r = cJSON_CreateArray();
        for (uint32_t j = 0; j < n; j++)
            cJSON_AddItemToArray(r, cJSON_CreateNumber(x[(size_t)i * n + j]));
        cJSON_AddItemToArray(a, r);
    }
    return a;
}

static cJSON *pairs(const int32_t *x, size_t count, int is_quant)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < count; i++) {
        cJSON *r = cJSON_CreateArray();
        cJSON_AddItemToArray(r, cJSON_CreateNumber(x[2 * i]));
        cJSON_AddItemToArray(r, cJSON_CreateNumber(is_quant ? (double)(uint32_t)x[2 * i + 1]
                                                            : (double)x[2 * i + 1]));
        cJSON_AddItemToArray(a, r);
    }
    return a;
}

/* One random op of function f, run by the golden, as a JSON case. */
static cJSON *random_case(uint64_t *s, uint32_t f, int t)
{
    static const uint32_t allowed[SQ_VEC_FUNCS] = {
        0, SQ_VEC_Q8 | SQ_VEC_BIAS | SQ_VEC_LN, SQ_VEC_ACC | SQ_VEC_BIAS, SQ_VEC_ACC | SQ_VEC_BIAS,
        SQ_VEC_ROT | SQ_VEC_BIAS, 0, SQ_VEC_ACC | SQ_VEC_BIAS | SQ_VEC_Q8, SQ_VEC_ACC | SQ_VEC_BIAS,
        0, 0};
    static const uint32_t required[SQ_VEC_FUNCS] = {0, 0, 0, 0, SQ_VEC_ACC, SQ_VEC_ACC | SQ_VEC_Q8,
                                                    0, SQ_VEC_Q8, 0, 0};
    static const uint32_t widths[] = {1, 2, 3, 7, 8, 16, 33, 64};
    uint32_t m = 1 + rnd(s, 3), n = widths[rnd(s, 8)];
    uint32_t flags = (rnd(s, 32) & allowed[f]) | required[f];
    if (f == SQ_VEC_ROPE && (flags & SQ_VEC_ROT))
        flags &= ~SQ_VEC_BIAS; /* TAB is the rotation table */
    if (f == SQ_VEC_ROPE && (flags & SQ_VEC_ROT) && n % 2)
        n++;
    op_t o;
    op_alloc(&o, f, flags, m, n);
    sq_vec_t *v = &o.v;
    int kind = t % 3;
    for (size_t i = 0; i < (size_t)m * n; i++) {
        o.in[i] = rnd_i32(s, kind == 2 && rnd(s, 4) ? 1 : kind);
        o.in2[i] = rnd_i32(s, kind);
    }
    if (t % 7 == 0) /* an all-zero first row */
        memset(o.in, 0, 4u * n);
    for (uint32_t j = 0; j < 2 * n + 64; j++)
        o.chan[j] = rnd_quant(s);
    for (uint32_t j = 0; j < n; j++) {
        o.bias[j] = rnd_i32(s, kind);
        o.gain[j] = rnd_i32(s, 1);
    }
    for (uint32_t i = 0; i < m; i++) {
        o.rec_in[i] = (sq_vec_rec_t){(int32_t)(rnd(s, 1u << 30) + (1u << 30)),
                                     (int32_t)rnd(s, 70) - 5};
        if (rnd(s, 6) == 0)
            o.rec_in[i] = (sq_vec_rec_t){rnd_i32(s, 2), (int32_t)(sq_test_rand(s))};
        o.ids[i] = rnd(s, 70);
    }
    for (size_t i = 0; i < 64 * (size_t)n; i++)
        o.table[i] = (int8_t)(rnd(s, 256) - 128);
    for (size_t i = 0; i < (size_t)m * n; i++)
        o.rope[i] = (int16_t)(rnd(s, 32769) - 16384);
    int32_t adj = (int32_t)rnd(s, 80) - 40;
    switch (f) {
    case SQ_VEC_GATHER:
        v->p[0] = 1 + rnd(s, 64);
        break;
    case SQ_VEC_NORM: {
        uint64_t eps = sq_test_rand(s) >> (3 + rnd(s, 61));
        v->p[0] = (uint32_t)eps;
        v->p[1] = (uint32_t)(eps >> 32);
        v->p[2] = (uint32_t)((int32_t)rnd(s, 50) - 40);
        v->p[3] = rnd(s, 40);
        break;
    }
    case SQ_VEC_ROPE:
        v->p[0] = (uint32_t)adj;
        v->p[1] = rnd(s, SQ_VEC_FRAC_MAX + 1);
        v->seg = rnd(s, 2) && n % 2 == 0 ? 2 : 0;
        v->tab_stride = 2 * (v->seg ? v->seg : n);
        v->in_seg_stride = 4 * (v->seg ? v->seg : n);
        v->out_seg_stride = v->seg ? v->seg : n;
        break;
    case SQ_VEC_SWIGLU:
    case SQ_VEC_GELU:
        v->p[0] = (uint32_t)adj;
        v->p[1] = f == SQ_VEC_GELU ? 16 + rnd(s, 25) : rnd(s, SQ_VEC_FRAC_MAX + 1);
        break;
    case SQ_VEC_COPY: {
        /* the attention output's (segments, m, seg) layout, or rows with gaps */
        static const uint32_t segs[] = {1, 2, 4, 8};
        uint32_t seg = segs[rnd(s, 4)];
        v->seg = n % seg ? 0 : seg;
        seg = v->seg ? v->seg : n;
        v->out_seg_stride = seg; /* plain (m, n) rows out */
        if (rnd(s, 2)) {
            v->in_stride = seg;
            v->in_seg_stride = m * seg;
        } else {
            v->in_stride = (n / seg) * (seg + 1);
            v->in_seg_stride = seg + 1;
        }
        for (size_t i = 0; i < 4 * ((size_t)m * n + 1); i++)
            ((uint8_t *)o.in)[i] = (uint8_t)rnd(s, 256);
        break;
    }
    default:
        v->p[0] = (uint32_t)adj;
        v->p[1] = rnd(s, 40);
        break;
    }
    ck_assert_msg(sq_vec_ref(v) == 0, "case %d func %u rejected", t, f);

    cJSON *c = cJSON_CreateObject();
    char name[64];
    snprintf(name, sizeof name, "t%d func %u flags 0x%x %ux%u", t, f, flags, m, n);
    cJSON_AddStringToObject(c, "name", name);
    cJSON_AddNumberToObject(c, "func", f);
    cJSON_AddNumberToObject(c, "flags", flags);
    cJSON_AddNumberToObject(c, "m", m);
    cJSON_AddNumberToObject(c, "n", n);
    cJSON_AddNumberToObject(c, "seg", v->seg);
    cJSON *p = cJSON_CreateArray();
    for (int i = 0; i < 4; i++)
        cJSON_AddItemToArray(p, cJSON_CreateNumber(v->p[i]));
    cJSON_AddItemToObject(c, "p", p);
    cJSON_AddItemToObject(c, "in", i32_rows(o.in, m, n));
    if (f == SQ_VEC_COPY) {
        cJSON_AddItemToObject(c, "in_mem", i8_rows((const int8_t *)o.in, 1, 4 * m * n));
        cJSON_AddNumberToObject(c, "in_stride", v->in_stride);
        cJSON_AddNumberToObject(c, "in_seg_stride", v->in_seg_stride);
    }
    cJSON_AddItemToObject(c, "in2", i32_rows(o.in2, m, n));
    cJSON_AddItemToObject(c, "rec_in", pairs((const int32_t *)o.rec_in, m, 0));
    if (f == SQ_VEC_NORM)
        cJSON_AddItemToObject(c, "chan", cJSON_CreateIntArray((const int *)o.gain, (int)n));
    else
        cJSON_AddItemToObject(c, "chan", pairs((const int32_t *)o.chan, 2 * n + 64, 1));
    if (f == SQ_VEC_GATHER) {
        cJSON_AddItemToObject(c, "ids", cJSON_CreateIntArray((const int *)o.ids, (int)m));
        cJSON_AddItemToObject(c, "table", i8_rows(o.table, 64, n));
    }
    if (f == SQ_VEC_ROPE && (flags & SQ_VEC_ROT)) {
        cJSON *tab = cJSON_CreateArray();
        uint32_t seg = v->seg ? v->seg : n;
        for (uint32_t i = 0; i < m; i++) {
            cJSON *row = cJSON_CreateArray();
            for (uint32_t k = 0; k < seg / 2; k++) {
                const int16_t *cs = o.rope + (size_t)i * seg + 2 * k;
                cJSON *pr = cJSON_CreateArray();
                cJSON_AddItemToArray(pr, cJSON_CreateNumber(cs[0]));
                cJSON_AddItemToArray(pr, cJSON_CreateNumber(cs[1]));
                cJSON_AddItemToArray(row, pr);
            }
            cJSON_AddItemToArray(tab, row);
        }
        cJSON_AddItemToObject(c, "tab", tab);
    } else {
        cJSON_AddItemToObject(c, "tab", cJSON_CreateIntArray((const int *)o.bias, (int)n));
    }
    if (f == SQ_VEC_ARGMAX)
        cJSON_AddItemToObject(c, "out", i32_rows(o.out32, m, 1));
    else if (sq_vec_out_esize(f, flags) == 1)
        cJSON_AddItemToObject(c, "out", i8_rows(o.out8, m, n));
    else
        cJSON_AddItemToObject(c, "out", i32_rows(o.out32, m, n));
    if (flags & SQ_VEC_Q8 || f == SQ_VEC_QUANT)
        cJSON_AddItemToObject(c, "rec_out", pairs((const int32_t *)o.rec_out, m, 0));
    op_free(&o);
    return c;
}

START_TEST(test_oracle_random_and_edges)
{
    uint64_t s = 0x5eed;
    cJSON *cases = cJSON_CreateArray();
    for (int t = 0; t < (int)SQ_VEC_FUNCS * 40; t++)
        cJSON_AddItemToArray(cases, random_case(&s, (uint32_t)(t % SQ_VEC_FUNCS), t));
    char *text = cJSON_PrintUnformatted(cases);
    cJSON_Delete(cases);
    char *path = sq_tmpfile(text, strlen(text));
    free(text);
    char cmd[4096], out[4096];
    snprintf(cmd, sizeof cmd, "%s %s/scripts/vec_oracle.py %s 2>&1", SQ_PYTHON, SQ_SRC_DIR, path);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t got = fread(out, 1, sizeof out - 1, p);
    out[got] = 0;
    int st = pclose(p);
    unlink(path);
    free(path);
    ck_assert_msg(st == 0, "oracle: %s", out);
    ck_assert_ptr_nonnull(strstr(out, "400 cases equal"));
}
END_TEST

/* Properties against real-valued math on random rows: NORM (RMS and LN) and
 * SWIGLU with int8 output are within one int8 step of the exact values
 * quantized the same way, and their records are the row max / 127. */
START_TEST(test_norm_swiglu_against_real)
{
    uint64_t s = 77;
    for (int t = 0; t < 200; t++) {
        uint32_t n = 1 + rnd(&s, 96);
        op_t o;
        op_alloc(&o, SQ_VEC_NORM, SQ_VEC_Q8 | (t % 2 ? SQ_VEC_LN : 0), 1, n);
        int fx = 16, fg = 20, fy = 19;
        double x[96], g[96], y[96], mu = 0, var = 0, eps = 1e-5, ymax = 0;
        for (uint32_t j = 0; j < n; j++) {
            x[j] = (double)((int32_t)rnd(&s, 4001) - 2000) / 100.0;
            g[j] = 0.05 + rnd(&s, 1000) / 400.0;
            o.in[j] = (int32_t)lround(ldexp(x[j], fx));
            o.gain[j] = (int32_t)lround(ldexp(g[j] * sqrt((double)n), fg - 4));
            mu += ldexp(o.in[j], -fx) / n;
        }
        if (!(t % 2))
            mu = 0;
        for (uint32_t j = 0; j < n; j++)
            var += pow(ldexp(o.in[j], -fx) - mu, 2) / n;
        uint64_t e = (uint64_t)llround(eps * n * ldexp(1, 2 * fx));
        o.v.p[0] = (uint32_t)e;
        o.v.p[1] = (uint32_t)(e >> 32);
        o.v.p[2] = (uint32_t)(fg - 4 - fy - 15);
        o.v.p[3] = (uint32_t)fy;
        ck_assert_int_eq(sq_vec_ref(&o.v), 0);
        for (uint32_t j = 0; j < n; j++) {
            y[j] = (ldexp(o.in[j], -fx) - mu) / sqrt(var + eps) * g[j];
            ymax = fmax(ymax, fabs(y[j]));
        }
        if (ymax < 1e-3) {
            op_free(&o);
            continue;
        }
        for (uint32_t j = 0; j < n; j++)
            ck_assert_msg(fabs(o.out8[j] - 127 * y[j] / ymax) < 0.52, "t %d j %u: %d vs %g", t, j,
                          o.out8[j], 127 * y[j] / ymax);
        ck_assert_msg(fabs(rec_value(o.rec_out[0]) / (ymax / 127) - 1) < 1e-3, "t %d record", t);
        op_free(&o);
    }
}
END_TEST

/* Segments and strides: ROPE of K into row 5 of a (2, 8, 4) cache and Q into
 * (heads, 1, 4) give the contiguous op's bytes at the strided places and
 * leave every other byte alone. */
START_TEST(test_addressing_kv_row)
{
    uint64_t s = 9;
    op_t o;
    op_alloc(&o, SQ_VEC_ROPE, SQ_VEC_ACC | SQ_VEC_ROT, 1, 8);
    for (int j = 0; j < 8; j++) {
        o.in[j] = (int32_t)rnd(&s, 1 << 20) - (1 << 19);
        o.chan[j] = (sq_quant_t){1 << 30, 30};
    }
    o.rec_in[0] = (sq_vec_rec_t){1 << 30, 30};
    for (int i = 0; i < 4; i++)
        o.rope[i] = (int16_t)(rnd(&s, 32769) - 16384);
    o.v.seg = 4;
    o.v.in_seg_stride = 16;
    o.v.out_seg_stride = 4;
    o.v.tab_stride = 8;
    o.v.p[1] = 4;
    ck_assert_int_eq(sq_vec_ref(&o.v), 0);
    int8_t cache[2 * 8 * 4];
    memset(cache, 0x55, sizeof cache);
    sq_vec_t k = o.v;
    k.out = (uint8_t *)cache + 5 * 4;
    k.out_stride = 4;
    k.out_seg_stride = 8 * 4;
    ck_assert_int_eq(sq_vec_ref(&k), 0);
    for (int h = 0; h < 2; h++)
        for (int r = 0; r < 8; r++)
            for (int d = 0; d < 4; d++) {
                int8_t want = r == 5 ? o.out8[h * 4 + d] : 0x55;
                ck_assert_int_eq(cache[(h * 8 + r) * 4 + d], want);
            }
    /* input segments: the same K read from a (heads, 4) layout with gaps */
    int32_t wide[16];
    for (int h = 0; h < 2; h++)
        for (int d = 0; d < 4; d++) {
            wide[h * 8 + d] = o.in[h * 4 + d];
            wide[h * 8 + 4 + d] = 0x7777;
        }
    int8_t out2[8];
    k.in = (const uint8_t *)wide;
    k.in_seg_stride = 32;
    k.out = (uint8_t *)out2;
    k.out_stride = 8;
    k.out_seg_stride = 4;
    ck_assert_int_eq(sq_vec_ref(&k), 0);
    sq_assert_i8_eq(out2, o.out8, 8);
    op_free(&o);
}
END_TEST

/* COPY: the attention unit's (heads, M, head_dim) int8 output into the
 * (M, heads * head_dim) rows the output projection reads. */
START_TEST(test_copy_heads_to_rows)
{
    enum { HEADS = 3, M = 2, HD = 4 };
    int8_t o[HEADS * M * HD], rows[M * HEADS * HD];
    for (int i = 0; i < HEADS * M * HD; i++)
        o[i] = (int8_t)(i * 37 - 128); /* -128 and 127 included */
    sq_vec_t v = {.func = SQ_VEC_COPY, .m = M, .n = HEADS * HD, .seg = HD,
                  .in = (const uint8_t *)o, .in_stride = HD, .in_seg_stride = M * HD,
                  .out = (uint8_t *)rows, .out_stride = HEADS * HD, .out_seg_stride = HD};
    ck_assert_int_eq(sq_vec_ref(&v), 0);
    for (int m = 0; m < M; m++)
        for (int h = 0; h < HEADS; h++)
            for (int d = 0; d < HD; d++)
                ck_assert_int_eq(rows[m * HEADS * HD + h * HD + d], o[(h * M + m) * HD + d]);
    v.flags = SQ_VEC_ACC; /* COPY takes no flags */
    ck_assert_int_eq(sq_vec_ref(&v), -1);
}
END_TEST

START_TEST(test_shape_rules)
{
    sq_vec_t v = {.func = SQ_VEC_ADD, .m = 1, .n = 4};
    ck_assert_int_eq(sq_vec_check_shape(&v), 0);
    v.func = SQ_VEC_FUNCS;
    ck_assert_int_eq(sq_vec_check_shape(&v), -1);
    v = (sq_vec_t){.func = SQ_VEC_ADD, .flags = SQ_VEC_Q8, .m = 1, .n = 4};
    ck_assert_int_eq(sq_vec_check_shape(&v), -1); /* ADD writes int32 */
    v = (sq_vec_t){.func = SQ_VEC_SWIGLU, .flags = SQ_VEC_ACC, .m = 1, .n = 4};
    ck_assert_int_eq(sq_vec_check_shape(&v), -1); /* needs Q8 */
    v = (sq_vec_t){.func = SQ_VEC_ROPE, .flags = SQ_VEC_ACC | SQ_VEC_ROT, .m = 1, .n = 6, .seg = 3};
    ck_assert_int_eq(sq_vec_check_shape(&v), -1); /* odd segment */
    v.seg = 4;
    ck_assert_int_eq(sq_vec_check_shape(&v), -1); /* does not divide n */
    v = (sq_vec_t){.func = SQ_VEC_ROPE, .flags = SQ_VEC_ACC | SQ_VEC_ROT | SQ_VEC_BIAS, .m = 1,
                   .n = 4};
    ck_assert_int_eq(sq_vec_check_shape(&v), -1); /* TAB cannot be both */
    v.flags = SQ_VEC_ACC | SQ_VEC_BIAS;
    ck_assert_int_eq(sq_vec_check_shape(&v), 0);
    v = (sq_vec_t){.func = SQ_VEC_GELU, .m = 1, .n = 4, .p = {0, 15}};
    ck_assert_int_eq(sq_vec_check_shape(&v), -1);
    v = (sq_vec_t){.func = SQ_VEC_NORM, .m = 1, .n = 4, .p = {0, 1u << 29}};
    ck_assert_int_eq(sq_vec_check_shape(&v), -1);
    v = (sq_vec_t){.func = SQ_VEC_DEQ, .m = 0, .n = 4};
    ck_assert_int_eq(sq_vec_check_shape(&v), -1);
    v = (sq_vec_t){.func = SQ_VEC_DEQ, .m = 1, .n = SQ_VEC_MAX_N + 1};
    ck_assert_int_eq(sq_vec_check_shape(&v), -1);
}
END_TEST

/* ---------------------------------------------------------------------------
 * The descriptor on devices: packing, the ref level, validation, caps. */

static void assert_err(int rc, int want, const char *needle)
{
    ck_assert_int_eq(rc, want);
    ck_assert_msg(strstr(sq_err_msg(), needle), "message '%s' lacks '%s'", sq_err_msg(), needle);
}

START_TEST(test_descriptor_on_levels)
{
    sq_dev_t *dev = sq_test_dev_open("ref", 1 << 16);
    /* DEQ of a 2x3 accumulator with channel scale 0.5 and record 2.0 */
    int32_t acc[6] = {10, -10, 3, 0, 100, -7};
    sq_quant_t ch[3] = {{1 << 30, 31}, {1 << 30, 31}, {1 << 30, 31}};
    sq_vec_rec_t rec[2] = {{1 << 30, 29}, {1 << 30, 29}};
    uint64_t a_in, a_ch, a_rec, a_out, cmd;
    ck_assert_int_eq(sq_dev_put(dev, acc, sizeof acc, &a_in), 0);
    ck_assert_int_eq(sq_dev_put(dev, ch, sizeof ch, &a_ch), 0);
    ck_assert_int_eq(sq_dev_put(dev, rec, sizeof rec, &a_rec), 0);
    ck_assert_int_eq(sq_dev_put(dev, NULL, 24, &a_out), 0);
    sq_vec_desc_t d = {.func = SQ_VEC_DEQ, .flags = SQ_VEC_ACC, .m = 2, .n = 3, .in = a_in,
                       .in_stride = 12, .out = a_out, .out_stride = 12, .chan = a_ch,
                       .rec_in = a_rec};
    uint8_t desc[SQ_DESC_BYTES], back[SQ_DESC_BYTES];
    sq_vec_desc_encode(&d, desc);
    sq_vec_desc_t d2;
    sq_vec_desc_decode(desc, &d2);
    sq_vec_desc_encode(&d2, back);
    ck_assert_int_eq(memcmp(desc, back, sizeof desc), 0);
    ck_assert_uint_eq(sq_desc_opcode(desc), SQ_OP_VEC);
    ck_assert_int_eq(sq_dev_put(dev, desc, sizeof desc, &cmd), 0);
    ck_assert_msg(sq_dev_run(dev, cmd, 1, 0) == 0, "%s", sq_err_msg());
    int32_t got[6], want[6] = {10, -10, 4, 0, 100, -6}; /* 1.5 -> 2, -3.5 -> -3 */
    ck_assert_int_eq(sq_dev_read(dev, a_out, got, sizeof got), 0);
    sq_assert_i32_eq(got, want, 6);
    sq_dev_stats_t st;
    sq_dev_stats(dev, &st);
    ck_assert_uint_eq(st.bytes_written, 24);

    /* validation: each bad field is one line naming the descriptor */
    struct {
        unsigned word;
        uint32_t value;
        const char *needle;
    } bad[] = {
        {SQ_VEC_W_FUNC, 99, "descriptor 0: vec function 99"},
        {SQ_VEC_W_FLAGS, SQ_VEC_Q8, "outside the unit's rules"},
        {SQ_VEC_W_M, 0, "outside the unit's rules"},
        {SQ_VEC_W_IN_STRIDE, 13, "multiples of 4"},
        {SQ_VEC_W_OUT_LO, 1, "not 4-byte aligned"},
        {SQ_VEC_W_OUT_LO, (uint32_t)a_in, "overlaps its input IN"},
        {SQ_VEC_W_OUT_LO, (uint32_t)cmd, "overlaps"},
        {SQ_VEC_W_OUT_STRIDE, 1 << 20, "outside the"},
        {SQ_VEC_W_CHAN_LO, (uint32_t)a_in, "channel scale[0]"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t b[SQ_DESC_BYTES];
        memcpy(b, desc, sizeof b);
        sq_st32(b + 4u * bad[i].word, bad[i].value);
        ck_assert_int_eq(sq_dev_write(dev, cmd, b, sizeof b), 0);
        assert_err(sq_dev_run(dev, cmd, 1, 0), SQ_ERR_FMT, bad[i].needle);
    }
    /* a gather's token id outside its table is caught before the run */
    uint32_t id = 9;
    uint64_t a_id, a_tab, a_x;
    int8_t tab[4] = {1, 2, 3, 4};
    ck_assert_int_eq(sq_dev_put(dev, &id, 4, &a_id), 0);
    ck_assert_int_eq(sq_dev_put(dev, tab, 4, &a_tab), 0);
    ck_assert_int_eq(sq_dev_put(dev, NULL, 8, &a_x), 0);
    sq_vec_desc_t g = {.func = SQ_VEC_GATHER, .m = 1, .n = 2, .in = a_id, .in_stride = 4,
                       .out = a_x, .out_stride = 8, .chan = a_ch, .tab = a_tab, .tab_stride = 2,
                       .p = {2}};
    sq_vec_desc_encode(&g, desc);
    ck_assert_int_eq(sq_dev_write(dev, cmd, desc, sizeof desc), 0);
    assert_err(sq_dev_run(dev, cmd, 1, 0), SQ_ERR_FMT, "token id 9 of row 0 outside [0, 2)");
    sq_dev_close(dev);

    /* levels without group scales say so in one line */
    static const char *const others[] = {"model"};
    for (size_t l = 0; l < 1; l++) {
        dev = sq_test_dev_open(others[l], 1 << 16);
        ck_assert_int_eq(sq_dev_put(dev, NULL, 1024, &a_in), 0);
        sq_vec_desc_encode(&d, desc);
        ck_assert_int_eq(sq_dev_put(dev, desc, sizeof desc, &cmd), 0);
        sq_gemm_desc_t gd = {.flags = SQ_GEMM_GSCALE | SQ_GEMM_OUT32, .m = 1, .n = 1, .k = 1,
                             .group = 1};
        sq_gemm_desc_encode(&gd, desc);
        ck_assert_int_eq(sq_dev_write(dev, cmd, desc, sizeof desc), 0);
        assert_err(sq_dev_run(dev, cmd, 1, 0), SQ_ERR_FMT, "unknown gemm flags 0x20");
        sq_dev_close(dev);
    }
}
END_TEST

/* SQ_GEMM_GSCALE: each group's partial sum times its Q15 factor, rounded
 * half up, summed; worked by hand for one row, and the same as the plain
 * GEMM when every factor is 2^15. */
START_TEST(test_gemm_gscale)
{
    int8_t a[5] = {1, 2, 3, 4, 5}, w[5] = {1, 1, 1, 1, -1};
    uint16_t gs[3] = {16384, 32768, 49152 / 2}; /* 0.5, 1.0, 0.75 */
    int32_t c = 0;
    sq_gemm_t g = {.m = 1, .n = 1, .k = 5, .flags = SQ_GEMM_GSCALE | SQ_GEMM_OUT32, .a = a,
                   .w = w, .c = &c, .group = 2, .gscale = gs};
    ck_assert_int_eq(sq_gemm_ref(&g), 0);
    /* groups: (1+2) * 0.5 = 1.5 -> 2; (3+4) * 1 = 7; -5 * 0.75 = -3.75 -> -4 */
    ck_assert_int_eq(c, 2 + 7 - 4);
    g.group = 0;
    ck_assert_int_eq(sq_gemm_ref(&g), -1);
    g.group = 6;
    ck_assert_int_eq(sq_gemm_ref(&g), -1);
    uint64_t s = 3;
    for (int t = 0; t < 50; t++) {
        size_t m = 1 + rnd(&s, 3), n = 1 + rnd(&s, 9), k = 1 + rnd(&s, 70), grp = 1 + rnd(&s, (uint32_t)k);
        size_t ng = (k + grp - 1) / grp;
        int8_t *aa = malloc(m * k), *ww = malloc(n * k);
        uint16_t *one = malloc(n * ng * sizeof *one);
        int32_t *c1 = malloc(m * n * 4), *c2 = malloc(m * n * 4);
        for (size_t i = 0; i < m * k; i++)
            aa[i] = (int8_t)(rnd(&s, 256) - 128);
        for (size_t i = 0; i < n * k; i++)
            ww[i] = (int8_t)(rnd(&s, 256) - 128);
        for (size_t i = 0; i < n * ng; i++)
            one[i] = 32768;
        sq_gemm_t p = {.m = m, .n = n, .k = k, .flags = SQ_GEMM_OUT32, .a = aa, .w = ww, .c = c1};
        sq_gemm_t q = p;
        q.flags |= SQ_GEMM_GSCALE;
        q.group = grp;
        q.gscale = one;
        q.c = c2;
        ck_assert_int_eq(sq_gemm_ref(&p), 0);
        ck_assert_int_eq(sq_gemm_ref(&q), 0);
        sq_assert_i32_eq(c1, c2, m * n);
        free(aa);
        free(ww);
        free(one);
        free(c1);
        free(c2);
    }
}
END_TEST

Suite *vec_suite(void)
{
    Suite *s = suite_create("vec");
    TCase *tc = sq_tcase(s, "vec", 120);
    tcase_add_test(tc, test_bitlen_isqrt_rsqrt);
    tcase_add_test(tc, test_requant2_hand);
    tcase_add_test(tc, test_dq_hand);
    tcase_add_test(tc, test_sigmoid_gelu_hand);
    tcase_add_test(tc, test_rope_pair_hand);
    tcase_add_test(tc, test_norm_hand);
    tcase_add_test(tc, test_gather_argmax_add_hand);
    tcase_add_test(tc, test_oracle_random_and_edges);
    tcase_add_test(tc, test_norm_swiglu_against_real);
    tcase_add_test(tc, test_addressing_kv_row);
    tcase_add_test(tc, test_copy_heads_to_rows);
    tcase_add_test(tc, test_shape_rules);
    tcase_add_test(tc, test_descriptor_on_levels);
    tcase_add_test(tc, test_gemm_gscale);
    return s;
}
