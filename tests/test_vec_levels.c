/* The vector unit on every level that has it (csim and opencl: the HLS C of
 * hls/vec/; rtl and tlm: the Verilated rtl/vec/; model: the golden reference
 * with the cycle model host/runtime/vec_model.c): random and edge ops of every
 * function and flag (runtime/vec_case.h) compared byte for byte with the
 * golden reference over their whole memory image, a KV-cache row written
 * through a position patch, and the HLS top's register offsets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/device.h"
#include "runtime/vec_case.h"
#include "sparq/spec.h"
#include "sparq/vec.h"
#include "testutil.h"
#include "util/err.h"

/* Runs count random cases (sq_vec_params_random from seed) on one device of
 * the level and fails at the first differing byte. Returns the cycles. */
static uint64_t run_random(const char *level, uint64_t seed, int count)
{
    sq_dev_t *dev = sq_test_dev_open(level, 4u << 20);
    uint64_t rng = seed;
    sq_dev_stats_t st;
    for (int t = 0; t < count; t++) {
        sq_vec_params_t p;
        sq_vec_params_random(&rng, t, &p);
        char what[256];
        sq_vec_params_describe(&p, what, sizeof what);
        sq_vec_case_t vc;
        ck_assert_msg(sq_vec_case_build(&vc, &p) == 0, "%s: %s", what, sq_err_msg());
        sq_dev_free_all(dev);
        ck_assert_msg(sq_vec_case_place(dev, &vc) == 0, "%s: %s", what, sq_err_msg());
        uint64_t bad;
        ck_assert_msg(sq_vec_case_run(dev, &vc, 0, &bad) == 0, "%s on %s: %s", what, level,
                      sq_err_msg());
        ck_assert_msg(bad == vc.bytes, "case %d %s on %s: image byte %llu of %llu differs from the "
                      "golden", t, what, level, (unsigned long long)bad,
                      (unsigned long long)vc.bytes);
        sq_vec_case_free(&vc);
    }
    sq_dev_stats(dev, &st);
    ck_assert_uint_eq(st.commands, (uint64_t)count);
    sq_dev_close(dev);
    return st.cycles;
}

START_TEST(test_ref_random)
{
    run_random("ref", 0x7EC0, 200);
}
END_TEST

START_TEST(test_csim_random)
{
    run_random("csim", 0x7EC1, 600);
}
END_TEST

START_TEST(test_opencl_random)
{
    run_random("opencl", 0x7EC2, 150);
}
END_TEST

/* The s_axilite offsets written as literals in the HLS pragmas are spec.h's. */
START_TEST(test_hls_pragmas)
{
    sq_test_hls_unit_pragmas(SQ_HLS_VEC_SRC);
}
END_TEST

Suite *vec_levels_suite(void)
{
    Suite *s = suite_create("vec_levels");
    TCase *tc = sq_tcase(s, "hls", 240);
    tcase_add_test(tc, test_hls_pragmas);
    tcase_add_test(tc, test_ref_random);
    tcase_add_test(tc, test_csim_random);
    tcase_add_test(tc, test_opencl_random);
    return s;
}
