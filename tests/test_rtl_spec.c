/* The committed RTL package rtl/common/sq_spec_pkg.sv is exactly what sim/specgen.c
 * prints from include/sparq/spec.h, so the RTL's command format and register
 * map cannot drift from the C header. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sparq/spec.h"
#include "testutil.h"

START_TEST(test_spec_pkg_matches_header)
{
    FILE *p = popen(SQ_SPECGEN_BIN, "r");
    ck_assert_ptr_nonnull(p);
    size_t cap = 1 << 16, len = 0, got;
    char *gen = malloc(cap);
    while ((got = fread(gen + len, 1, cap - 1 - len, p)) > 0)
        len += got;
    gen[len] = 0;
    ck_assert_int_eq(pclose(p), 0);
    size_t n = 0;
    char *committed = sq_slurp(SQ_SPEC_PKG, &n);
    ck_assert_ptr_nonnull(committed);
    size_t i = 0;
    while (i < len && i < n && gen[i] == committed[i])
        i++;
    ck_assert_msg(i == len && i == n,
                  "rtl/common/sq_spec_pkg.sv differs from specgen output at byte %zu "
                  "(run `make specgen` and commit)", i);
    /* spot-check that the values really come from spec.h */
    char want[96];
    snprintf(want, sizeof want, "SqGemmWCLo = 32'd%u;", (unsigned)SQ_GEMM_W_C_LO);
    ck_assert_ptr_nonnull(strstr(gen, want));
    snprintf(want, sizeof want, "SqRegNcmd = 8'h%02X;", (unsigned)SQ_REG_NCMD);
    ck_assert_ptr_nonnull(strstr(gen, want));
    free(gen);
    free(committed);
}
END_TEST

Suite *rtl_spec_suite(void)
{
    Suite *s = suite_create("rtl_spec");
    TCase *tc = sq_tcase(s, "specgen", 20);
    tcase_add_test(tc, test_spec_pkg_matches_header);
    return s;
}
