/* The link model (host/report/link.h): the named defaults from their
 * standards' arithmetic, worked here independently, and the transfer and
 * ring all-reduce times. */
#include <check.h>
#include <math.h>

#include "report/link.h"
#include "testutil.h"

START_TEST(test_defaults)
{
    const sq_link_t *p = sq_link_find(NULL), *e = sq_link_find("100gbe");
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(e);
    ck_assert_str_eq(p->name, "pcie3x16");
    ck_assert_ptr_eq(sq_link_find("pcie3x16"), p);
    ck_assert_ptr_null(sq_link_find("pcie9"));
    /* 8e9 transfers/s x 16 lanes x 128/130 / 8 bits, x 256 / 280 of each TLP */
    ck_assert_double_eq_tol(p->gbps, 8.0 * 16 * 128 / 130 / 8 * 256 / 280, 1e-9);
    ck_assert(p->gbps > 14.3 && p->gbps < 14.5);
    /* 100e9 bits/s / 8, x 8972 payload bytes of each 9038 on the wire */
    ck_assert_double_eq_tol(e->gbps, 100.0 / 8 * 8972 / 9038, 1e-9);
    ck_assert(p->latency_us > 0 && e->latency_us > 0);
}
END_TEST

START_TEST(test_times)
{
    sq_link_t l = {"test", "", 10.0, 2.0}; /* 10 GB/s, 2 us */
    ck_assert_double_eq_tol(sq_link_time_s(&l, 0), 2e-6, 1e-15);
    ck_assert_double_eq_tol(sq_link_time_s(&l, 10000000000ull), 1.0 + 2e-6, 1e-12);
    /* one device: nothing to reduce; two: 2 steps of half the bytes */
    ck_assert_double_eq(sq_link_allreduce_s(&l, 1000, 1), 0);
    ck_assert_double_eq_tol(sq_link_allreduce_s(&l, 1000, 2), 2 * (2e-6 + 500 / 10e9), 1e-15);
    /* four devices, 10 bytes: 6 steps of ceil(10 / 4) = 3 bytes */
    ck_assert_double_eq_tol(sq_link_allreduce_s(&l, 10, 4), 6 * (2e-6 + 3 / 10e9), 1e-15);
    /* large messages: the bandwidth term tends to 2 (p - 1) / p of the bytes */
    double big = sq_link_allreduce_s(&l, 4000000000ull, 4) - 6 * 2e-6;
    ck_assert_double_eq_tol(big, 1.5 * 4e9 / 10e9, 1e-9);
}
END_TEST

Suite *link_suite(void)
{
    Suite *s = suite_create("link");
    TCase *tc = sq_tcase(s, "model", 10);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_times);
    return s;
}
