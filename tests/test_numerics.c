/* The golden numerics' edge cases: every rule in include/sparq/numerics.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sparq/numerics.h"
#include "testutil.h"

START_TEST(test_rshift_round_ties)
{
    /* ties go toward +infinity */
    ck_assert_int_eq(sq_rshift_round(5, 1), 3);   /* 2.5 */
    ck_assert_int_eq(sq_rshift_round(-5, 1), -2); /* -2.5 */
    ck_assert_int_eq(sq_rshift_round(3, 1), 2);   /* 1.5 */
    ck_assert_int_eq(sq_rshift_round(-3, 1), -1); /* -1.5 */
    ck_assert_int_eq(sq_rshift_round(-1, 1), 0);  /* -0.5 */
    ck_assert_int_eq(sq_rshift_round(6, 2), 2);   /* 1.5 */
    ck_assert_int_eq(sq_rshift_round(-6, 2), -1); /* -1.5 */
    ck_assert_int_eq(sq_rshift_round(-7, 2), -2); /* -1.75 */
    /* arithmetic shift of negative values (gcc's documented behaviour) */
    ck_assert_int_eq(sq_rshift_round(-8, 3), -1);
}
END_TEST

START_TEST(test_requant_shift_edges)
{
    /* shift 0: no rounding, product saturates */
    ck_assert_int_eq(sq_requant(1, 100, 0), 100);
    ck_assert_int_eq(sq_requant(2, 100, 0), 127);
    ck_assert_int_eq(sq_requant(-2, 100, 0), -128);
    /* shift 31 with mult 2^30 is a scale of one half */
    ck_assert_int_eq(sq_requant(254, 1 << 30, 31), 127);
    ck_assert_int_eq(sq_requant(255, 1 << 30, 31), 127); /* saturates */
    ck_assert_int_eq(sq_requant(-256, 1 << 30, 31), -128);
    ck_assert_int_eq(sq_requant(-257, 1 << 30, 31), -128);
    ck_assert_int_eq(sq_requant(3, 1 << 30, 31), 2);   /* 1.5 -> 2 */
    ck_assert_int_eq(sq_requant(-3, 1 << 30, 31), -1); /* -1.5 -> -1 */
    /* shift 62: extreme operands do not overflow the rounding add */
    ck_assert_int_eq(sq_requant(INT32_MIN, INT32_MAX, SQ_SHIFT_MAX), -1);
    ck_assert_int_eq(sq_requant(INT32_MAX, INT32_MAX, SQ_SHIFT_MAX), 1);
    ck_assert_int_eq(sq_requant(INT32_MIN, INT32_MAX, 0), -128);
    ck_assert_int_eq(sq_requant(INT32_MAX, INT32_MAX, 0), 127);
}
END_TEST

START_TEST(test_mac_minus128)
{
    ck_assert_int_eq(sq_mac(0, -128, -128), 16384);
    ck_assert_int_eq(sq_mac(0, -128, 127), -16256);
    /* int32 accumulation wraps instead of invoking undefined behaviour */
    ck_assert_int_eq(sq_add_wrap(INT32_MAX, 1), INT32_MIN);
    ck_assert_int_eq(sq_sat8(-129), -128);
    ck_assert_int_eq(sq_sat8(128), 127);
}
END_TEST

START_TEST(test_scale_to_fixed)
{
    int32_t m;
    uint32_t s;
    ck_assert_int_eq(sq_scale_to_fixed(0.0, &m, &s), -1);
    ck_assert_int_eq(sq_scale_to_fixed(-0.5, &m, &s), -1);
    ck_assert_int_eq(sq_scale_to_fixed(NAN, &m, &s), -1);
    ck_assert_int_eq(sq_scale_to_fixed(INFINITY, &m, &s), -1);
    ck_assert_int_eq(sq_scale_to_fixed(1e30, &m, &s), -1);
    ck_assert_int_eq(sq_scale_to_fixed(0.5, &m, &s), 0);
    ck_assert_int_eq(m, 1 << 30);
    ck_assert_uint_eq(s, 31);
    const double scales[] = {1e-9, 3.7e-5, 0.0123, 0.999999, 1.0, 2.5, 1000.0};
    for (size_t i = 0; i < sizeof scales / sizeof scales[0]; i++) {
        ck_assert_int_eq(sq_scale_to_fixed(scales[i], &m, &s), 0);
        ck_assert_int_ge(m, SQ_MULT_MIN);
        double back = (double)m * ldexp(1.0, -(int)s);
        ck_assert_double_eq_tol(back / scales[i], 1.0, 1e-9);
    }
}
END_TEST

START_TEST(test_int4_pack)
{
    const int8_t vals[5] = {-8, 7, -1, 0, 3};
    uint8_t packed[3];
    sq_i4_pack_row(vals, 5, packed);
    /* element 2i in the low nibble, 2i+1 in the high nibble, odd tail 0 */
    ck_assert_uint_eq(packed[0], 0x78);
    ck_assert_uint_eq(packed[1], 0x0F);
    ck_assert_uint_eq(packed[2], 0x03);
    for (size_t i = 0; i < 5; i++)
        ck_assert_int_eq(sq_i4_get(packed, i), vals[i]);
    int8_t out[5];
    ck_assert_int_eq(sq_w_row_decode(SQ_GEMM_W4, packed, NULL, 5, out), 0);
    sq_assert_i8_eq(out, vals, 5);
}
END_TEST

START_TEST(test_sp24_roundtrip)
{
    const int8_t dense[10] = {0, 5, 0, -7, /**/ 9, 0, 0, 0, /**/ -128, 0};
    int8_t vals[6];
    uint8_t meta[2];
    sq_sp24_encode_row(dense, 10, vals, meta);
    ck_assert_int_eq(vals[0], 5);
    ck_assert_int_eq(vals[1], -7);
    ck_assert_uint_eq(meta[0] & 0xF, 1 | (3 << 2));
    ck_assert_int_eq(vals[2], 9);
    ck_assert_int_eq(vals[3], 0);
    ck_assert_uint_eq(meta[0] >> 4, 0 | (1 << 2));
    ck_assert_int_eq(vals[4], -128);
    int8_t out[10];
    ck_assert_int_eq(sq_w_row_decode(SQ_GEMM_SP24, vals, meta, 10, out), 0);
    sq_assert_i8_eq(out, dense, 10);
    /* a code whose positions are not increasing is malformed */
    uint8_t bad[2] = {0x01 | (0x0 << 2), 0};
    ck_assert_int_eq(sq_w_row_decode(SQ_GEMM_SP24, vals, bad, 10, out), -1);
}
END_TEST

START_TEST(test_gemm_ref_small)
{
    /* A (2x3) * W^T (W 2x3), requant by 1/2 with ReLU, bias */
    const int8_t a[6] = {1, 2, 3, -128, 127, 0};
    const int8_t w[6] = {1, 1, 1, -128, 0, 1};
    const int32_t bias[2] = {1, -1};
    sq_quant_t q[2] = {{1 << 30, 31}, {1 << 30, 31}};
    int8_t c[4];
    sq_gemm_t g = {.m = 2, .n = 2, .k = 3, .flags = SQ_GEMM_BIAS | SQ_GEMM_RELU, .a = a, .w = w,
                   .bias = bias, .quant = q, .c = c};
    ck_assert_int_eq(sq_gemm_ref(&g), 0);
    /* row0: 6+1=7 -> 3.5 -> 4; -128+3-1=-126 -> -63 -> relu 0
     * row1: -1+1=0 -> 0; 16384-1 -> sat 127 */
    const int8_t want[4] = {4, 0, 0, 127};
    sq_assert_i8_eq(c, want, 4);
    int32_t c32[4];
    g.flags = SQ_GEMM_OUT32;
    g.c = c32;
    ck_assert_int_eq(sq_gemm_ref(&g), 0);
    const int32_t want32[4] = {6, -125, -1, 16384};
    sq_assert_i32_eq(c32, want32, 4);
    g.flags = SQ_GEMM_W4 | SQ_GEMM_SP24;
    ck_assert_int_eq(sq_gemm_ref(&g), -1);
    g.flags = 0;
    q[1].mult = 0;
    ck_assert_int_eq(sq_gemm_ref(&g), -1);
}
END_TEST

START_TEST(test_quant_i8)
{
    const float x[4] = {-2.0f, 1.0f, 0.5f, 0.0f};
    int8_t q[4];
    float s = sq_quant_i8(x, 4, q);
    ck_assert_float_eq_tol(s, 2.0f / 127.0f, 1e-9f);
    ck_assert_int_eq(q[0], -127);
    ck_assert_int_eq(q[1], 64); /* 63.5 rounds away from zero */
    ck_assert_int_eq(q[3], 0);
    const float z[2] = {0, 0};
    ck_assert_float_eq(sq_quant_i8(z, 2, q), 1.0f);
    /* NaN and infinities (activations that overflowed; AFL++ found a .sqm
     * whose forward pass made them): NaN is 0, infinities saturate, and no
     * float-to-int conversion of NaN (undefined behaviour, UBSan) happens */
    const float bad[4] = {NAN, INFINITY, -INFINITY, 1.0f};
    sq_quant_i8_static(bad, 4, 1.0f / 127.0f, q);
    ck_assert_int_eq(q[0], 0);
    ck_assert_int_eq(q[1], 127);
    ck_assert_int_eq(q[2], -127);
    ck_assert_int_eq(q[3], 127);
}
END_TEST

Suite *numerics_suite(void)
{
    Suite *s = suite_create("numerics");
    TCase *tc = sq_tcase(s, "rules", 10);
    tcase_add_test(tc, test_rshift_round_ties);
    tcase_add_test(tc, test_requant_shift_edges);
    tcase_add_test(tc, test_mac_minus128);
    tcase_add_test(tc, test_scale_to_fixed);
    tcase_add_test(tc, test_int4_pack);
    tcase_add_test(tc, test_sp24_roundtrip);
    tcase_add_test(tc, test_gemm_ref_small);
    tcase_add_test(tc, test_quant_i8);
    return s;
}
