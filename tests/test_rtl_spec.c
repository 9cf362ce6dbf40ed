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
    char *gen = sq_test_generated(SQ_SPECGEN_BIN, SQ_SPEC_PKG, "specgen");
    /* spot-check that the values really come from spec.h */
    char want[96];
    snprintf(want, sizeof want, "SqGemmWCLo = 32'd%u;", (unsigned)SQ_GEMM_W_C_LO);
    ck_assert_ptr_nonnull(strstr(gen, want));
    snprintf(want, sizeof want, "SqRegNcmd = 8'h%02X;", (unsigned)SQ_REG_NCMD);
    ck_assert_ptr_nonnull(strstr(gen, want));
    free(gen);
}
END_TEST

Suite *rtl_spec_suite(void)
{
    Suite *s = suite_create("rtl_spec");
    TCase *tc = sq_tcase(s, "specgen", 20);
    tcase_add_test(tc, test_spec_pkg_matches_header);
    return s;
}
