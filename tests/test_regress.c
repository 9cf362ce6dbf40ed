/* `sparq regress`: a seeded sample of the recorded rtl campaign
 * (bench/results/regress.md, the same seed) with no failure; case i the same
 * whatever range of the campaign it runs in (so ranges can be spread over
 * processes); the summary and the usage errors. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

extern const sq_level_ops_t sq_level_rtl __attribute__((weak));

/* The campaign's seed and attention work bound (bench/regress.sh). */
#define CAMPAIGN_SEED "20261207"

static char out[1 << 16], err[1 << 14];

START_TEST(test_campaign_sample_on_rtl)
{
    ck_assert_msg(&sq_level_rtl != NULL, "the rtl level is not built into this binary");
    int rc = sq_run_cli("regress --unit all --cases 150 --first 1000 --seed " CAMPAIGN_SEED
                        " --max-work 4096 --backend rtl --json",
                        out, sizeof out, err, sizeof err);
    ck_assert_msg(rc == 0, "exit %d: %s%s", rc, out, err);
    cJSON *j = cJSON_Parse(out);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq((int)cJSON_GetObjectItem(j, "failures")->valuedouble, 0);
    ck_assert_int_eq((int)cJSON_GetObjectItem(cJSON_GetObjectItem(j, "gemm"), "cases")->valuedouble,
                     150);
    ck_assert_int_eq((int)cJSON_GetObjectItem(cJSON_GetObjectItem(j, "attn"), "cases")->valuedouble,
                     150);
    cJSON_Delete(j);
}
END_TEST

/* Cases 5..9 written by a run of 0..9 and by a run of 5..9 are the same
 * bytes: a case depends on (seed, i) alone. */
START_TEST(test_case_depends_on_seed_and_index_only)
{
    char whole[] = "/tmp/sq_regress_XXXXXX", part[] = "/tmp/sq_regress_XXXXXX";
    close(mkstemp(whole));
    close(mkstemp(part));
    char args[256];
    for (int u = 0; u < 2; u++) {
        const char *unit = u ? "attn" : "gemm";
        snprintf(args, sizeof args, "regress --unit %s --cases 10 --seed 77 --backend ref --dump %s",
                 unit, whole);
        ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 0);
        snprintf(args, sizeof args,
                 "regress --unit %s --cases 5 --first 5 --seed 77 --backend ref --dump %s", unit,
                 part);
        ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 0);
        ck_assert_ptr_nonnull(strstr(out, "5 cases (5..9), 0 failures"));
        size_t nw, np;
        uint8_t *w = sq_slurp(whole, &nw), *p = sq_slurp(part, &np);
        ck_assert_ptr_nonnull(w);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_gt(np, 0);
        ck_assert_uint_lt(np, nw);
        ck_assert_msg(memcmp(w + nw - np, p, np) == 0, "%s cases 5..9 differ", unit);
        free(w);
        free(p);
    }
    unlink(whole);
    unlink(part);
}
END_TEST

START_TEST(test_cli)
{
    ck_assert_int_eq(sq_run_cli("regress --unit gemm --cases 20 --seed 3 --backend csim", out,
                                sizeof out, err, sizeof err), 0);
    ck_assert_msg(strstr(out, "regress gemm: 20 cases (0..19), 0 failures,") &&
                      strstr(out, "seed 3, backend csim") && !strstr(out, "regress attn"),
                  "%s", out);
    const char *bad[] = {"regress --unit vector", "regress --cases 0", "regress --seed -1",
                         "regress --backend tpu", "regress --first x", "regress extra",
                         "regress --max-work 0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(sq_run_cli(bad[i], out, sizeof out, err, sizeof err) == 2, "%s", bad[i]);
        ck_assert_msg(!strncmp(err, "sparq regress: ", 15) && strchr(err, '\n') == err + strlen(err) - 1,
                      "%s: %s", bad[i], err);
    }
    ck_assert_int_eq(sq_run_cli("regress --help", out, sizeof out, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(out, "--first I"));
}
END_TEST

Suite *regress_suite(void)
{
    Suite *s = suite_create("regress");
    TCase *tc = sq_tcase(s, "campaign", 300);
    tcase_add_test(tc, test_campaign_sample_on_rtl);
    tcase_add_test(tc, test_case_depends_on_seed_and_index_only);
    tcase_add_test(tc, test_cli);
    return s;
}
