/* The integer Hadamard transform (include/sparq/hadamard.h) against the
 * matrix written out from its definition: Sylvester entries by popcount,
 * Paley entries from the set of squares mod q (not Euler's criterion, which
 * the implementation uses), Kronecker by index arithmetic. */
#include <stdlib.h>
#include <string.h>

#include "sparq/hadamard.h"
#include "testutil.h"

/* The oracle's P_m(r, c). */
static int paley_entry(size_t m, size_t r, size_t c)
{
    if (r == c || r == 0)
        return 1;
    if (c == 0)
        return -1;
    size_t q = m - 1, a = (c + q - r) % q;
    for (size_t x = 1; x < q; x++)
        if (x * x % q == a)
            return 1;
    return -1;
}

static int oracle_entry(size_t n, size_t m, size_t i, size_t j)
{
    size_t p = n / m;
    int s = __builtin_popcountll((unsigned long long)((i % p) & (j % p))) & 1 ? -1 : 1;
    return m == 1 ? s : s * paley_entry(m, i / p, j / p);
}

static int *oracle_matrix(size_t n, size_t m)
{
    int *h = malloc(n * n * sizeof *h);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            h[i * n + j] = oracle_entry(n, m, i, j);
    return h;
}

START_TEST(test_orders)
{
    static const struct {
        size_t k, n, m;
    } cases[] = {{1, 1, 1},    {3, 4, 1},       {12, 12, 12}, {64, 64, 1},  {172, 176, 44},
                 {176, 176, 44}, {576, 576, 72}, {1536, 1536, 12}, {384, 384, 12},
                 {65536, 65536, 1}, {SQ_HAD_MAX + 1, 0, 0}, {0, 0, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t m = 99, n = sq_had_order(cases[i].k, &m);
        ck_assert_msg(n == cases[i].n && m == cases[i].m, "k %zu: order %zu (m %zu), want %zu (%zu)",
                      cases[i].k, n, m, cases[i].n, cases[i].m);
    }
}
END_TEST

/* The oracle matrices are Hadamard matrices: H H^T = n I. */
START_TEST(test_oracle_is_hadamard)
{
    const size_t orders[][2] = {{4, 4}, {12, 12}, {20, 20}, {44, 44}, {72, 72}, {176, 44}, {192, 12}};
    for (size_t t = 0; t < sizeof orders / sizeof orders[0]; t++) {
        size_t n = orders[t][0], m = orders[t][1];
        int *h = oracle_matrix(n, m);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < n; j++) {
                long v = 0;
                for (size_t c = 0; c < n; c++)
                    v += h[i * n + c] * h[j * n + c];
                ck_assert_msg(v == (i == j ? (long)n : 0), "order %zu: (H H^T)(%zu, %zu) = %ld", n,
                              i, j, v);
            }
        free(h);
    }
}
END_TEST

START_TEST(test_transform_matches_matrix)
{
    const size_t ks[] = {1, 2, 8, 12, 64, 172, 576, 24};
    uint64_t st = 7;
    for (size_t t = 0; t < sizeof ks / sizeof ks[0]; t++) {
        size_t m, n = sq_had_order(ks[t], &m);
        int8_t *tab = malloc(m * m);
        int32_t *x = malloc(n * sizeof *x), *tmp = malloc(m * sizeof *tmp);
        double *xd = malloc(n * sizeof *xd), *tmpd = malloc(m * sizeof *tmpd);
        long long *want = malloc(n * sizeof *want);
        sq_had_base(m, tab);
        for (size_t r = 0; r < m; r++)
            for (size_t c = 0; c < m; c++)
                ck_assert_int_eq(tab[r * m + c], m == 1 ? 1 : paley_entry(m, r, c));
        int *h = oracle_matrix(n, m);
        for (int rep = 0; rep < 3; rep++) {
            for (size_t i = 0; i < n; i++) {
                /* full-scale int16 values, extremes included */
                int v = (int)(sq_test_rand(&st) % 65535) - 32767;
                x[i] = rep == 1 ? (i % 2 ? -32767 : 32767) : rep == 2 && i % 3 ? 0 : v;
                xd[i] = x[i];
            }
            for (size_t i = 0; i < n; i++) {
                want[i] = 0;
                for (size_t j = 0; j < n; j++)
                    want[i] += (long long)h[i * n + j] * x[j];
            }
            sq_had_i32(x, n, m, tab, tmp);
            sq_had_f64(xd, n, m, tab, tmpd);
            for (size_t i = 0; i < n; i++) {
                ck_assert_msg(x[i] == want[i], "order %zu row %zu: %d, want %lld", n, i, x[i],
                              want[i]);
                ck_assert_msg(xd[i] == (double)want[i], "order %zu row %zu (f64)", n, i);
            }
        }
        free(h);
        free(tab);
        free(x);
        free(tmp);
        free(xd);
        free(tmpd);
        free(want);
    }
}
END_TEST

/* The largest order with full-scale int16 input stays exact in int32. */
START_TEST(test_transform_extreme)
{
    size_t n = SQ_HAD_MAX, m;
    ck_assert_uint_eq(sq_had_order(n, &m), n);
    int32_t *x = malloc(n * sizeof *x), tmp[1];
    int8_t tab[1];
    sq_had_base(1, tab);
    for (size_t i = 0; i < n; i++)
        x[i] = -32767;
    sq_had_i32(x, n, m, tab, tmp);
    ck_assert_int_eq(x[0], -32767 * (int32_t)n);
    for (size_t i = 1; i < n; i++)
        ck_assert_int_eq(x[i], 0);
    free(x);
}
END_TEST

/* Round half away from zero of y * qmax / max|y|, checked in exact rational
 * arithmetic: |q - y qmax / A| <= 1/2 with ties away from zero. */
START_TEST(test_quant_sym)
{
    const int32_t qmaxes[] = {7, 127};
    uint64_t st = 3;
    for (size_t t = 0; t < 2; t++) {
        int32_t qmax = qmaxes[t];
        int32_t y[64];
        int8_t q[64];
        for (int rep = 0; rep < 50; rep++) {
            int32_t amp = rep < 25 ? 2 * qmax : 2147483647 - rep;
            for (size_t i = 0; i < 64; i++)
                y[i] = (int32_t)((int64_t)(sq_test_rand(&st) % (2 * (uint64_t)amp + 1)) - amp);
            y[rep % 64] = rep % 2 ? -amp : amp;
            int32_t a = sq_quant_sym_i32(y, 64, qmax, q);
            ck_assert_int_eq(a, amp);
            for (size_t i = 0; i < 64; i++) {
                /* 2 |y qmax - q A| <= A, and on a tie q is the larger magnitude */
                long long num = (long long)y[i] * qmax, d = num - (long long)q[i] * a;
                long long ad = d < 0 ? -d : d;
                ck_assert_msg(2 * ad <= a, "y %d -> %d (A %d, qmax %d)", y[i], q[i], a, qmax);
                if (2 * ad == a)
                    ck_assert_msg((q[i] < 0 ? -q[i] : q[i]) * (long long)a >
                                      (num < 0 ? -num : num),
                                  "tie y %d rounded toward zero", y[i]);
                ck_assert(q[i] <= qmax && q[i] >= -qmax);
            }
        }
        memset(y, 0, sizeof y);
        ck_assert_int_eq(sq_quant_sym_i32(y, 64, qmax, q), 0);
        for (size_t i = 0; i < 64; i++)
            ck_assert_int_eq(q[i], 0);
    }
    /* a tie: 1 of A = 2 at qmax 7 is 3.5, rounded away from zero */
    int32_t y[3] = {1, -1, 2};
    int8_t q[3];
    sq_quant_sym_i32(y, 3, 7, q);
    ck_assert_int_eq(q[0], 4);
    ck_assert_int_eq(q[1], -4);
    ck_assert_int_eq(q[2], 7);
}
END_TEST

Suite *hadamard_suite(void)
{
    Suite *s = suite_create("hadamard");
    TCase *tc = sq_tcase(s, "hadamard", 30);
    tcase_add_test(tc, test_orders);
    tcase_add_test(tc, test_oracle_is_hadamard);
    tcase_add_test(tc, test_transform_matches_matrix);
    tcase_add_test(tc, test_transform_extreme);
    tcase_add_test(tc, test_quant_sym);
    return s;
}
