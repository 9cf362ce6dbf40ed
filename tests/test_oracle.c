/* The golden reference against the independent oracle (tests/oracle.py, numpy
 * written from the rules in include/sparq/, sharing no code with
 * host/numerics): GEMM in every weight format and epilogue, integer softmax
 * and attention with every pattern, on constrained-random cases from `sparq
 * regress --dump` on the ref level (whose outputs are the golden's, checked
 * too). And the oracle itself: a flipped golden or level value is a
 * disagreement. */
#define _GNU_SOURCE /* strndup */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/case_file.h"
#include "testutil.h"
#include "util/err.h"

START_TEST(test_golden_agrees_with_oracle)
{
    static char out[1 << 12];
    /* 400 cases a unit: each pattern combination 12 times, every GEMM format
     * and epilogue dozens of times */
    sq_test_regress_oracle("ref", "all", 400, 20261207, out, sizeof out);
    ck_assert_msg(strstr(out, "400 attn, 400 gemm, 800 softmax records") &&
                      strstr(out, " 0 disagreements"),
                  "%s", out);
}
END_TEST

/* Flips the lowest byte of array number `index` of the file's last record. */
static void flip_in_last_record(const char *path, int index)
{
    size_t n;
    uint8_t *img = sq_slurp(path, &n);
    ck_assert_ptr_nonnull(img);
    size_t rec = 0;
    for (size_t i = 0; i + 4 <= n; i++)
        if (!memcmp(img + i, "SQCF", 4))
            rec = i;
    uint32_t hlen = (uint32_t)img[rec + 4] | (uint32_t)img[rec + 5] << 8 |
                    (uint32_t)img[rec + 6] << 16 | (uint32_t)img[rec + 7] << 24;
    char *head = strndup((const char *)img + rec + 8, hlen);
    cJSON *h = cJSON_Parse(head);
    ck_assert_ptr_nonnull(h);
    size_t off = rec + 8 + hlen;
    cJSON *arrays = cJSON_GetObjectItem(h, "arrays");
    for (int a = 0; a < index; a++) {
        cJSON *e = cJSON_GetArrayItem(arrays, a);
        size_t bytes = strstr(cJSON_GetObjectItem(e, "dtype")->valuestring, "32") ? 4 : 1;
        cJSON *d;
        cJSON_ArrayForEach(d, cJSON_GetObjectItem(e, "shape"))
            bytes *= (size_t)d->valuedouble;
        off += bytes;
    }
    img[off] ^= 1;
    FILE *f = fopen(path, "wb");
    ck_assert_uint_eq(fwrite(img, 1, n, f), n);
    fclose(f);
    cJSON_Delete(h);
    free(head);
    free(img);
}

/* Cases of each op written with one value changed: the oracle must say
 * which record and array disagree. */
START_TEST(test_oracle_catches_a_changed_value)
{
    sq_gemm_case_t gc;
    ck_assert_int_eq(sq_gemm_case_build(&gc, 3, 5, 40, SQ_GEMM_W4 | SQ_GEMM_BIAS, 9), 0);
    sq_attn_params_t p = {.seq = 40, .queries = 2, .heads = 2, .kv_heads = 1, .head_dim = 8,
                          .flags = SQ_ATTN_TOPK | SQ_ATTN_CAUSAL, .topk = 5, .int8_range = 20,
                          .seed = 3};
    sq_attn_case_t ac;
    ck_assert_int_eq(sq_attn_case_build(&ac, &p), 0);
    /* the array to change: gemm golden or out (record 0), attn golden
     * (record 1), softmax cand, sel, e or p (record 2: arrays q, k, quant,
     * cand, s, sel, e, sum, p) */
    static const struct {
        int record, array;
        const char *needle;
    } cases[] = {{0, 4, "(gemm"},    {0, 5, "level output"}, {1, 4, "(attn"},
                 {2, 3, "golden cand"}, {2, 5, "golden sel"},  {2, 6, "golden e"},
                 {2, 8, "golden p"}};
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        char path[] = "/tmp/sq_oracle_XXXXXX";
        close(mkstemp(path));
        sq_case_file_t *f;
        ck_assert_int_eq(sq_case_file_open(path, &f), 0);
        ck_assert_int_eq(sq_case_file_gemm(f, &gc, gc.golden), 0);
        if (cases[t].record >= 1)
            ck_assert_int_eq(sq_case_file_attn(f, &ac, ac.golden), 0);
        if (cases[t].record >= 2)
            ck_assert_int_eq(sq_case_file_softmax(f, &ac, 1, 1), 0);
        ck_assert_int_eq(sq_case_file_close(f), 0);
        static char out[1 << 12];
        ck_assert_msg(sq_test_oracle(path, out, sizeof out) == 0, "unchanged: %s", out);
        flip_in_last_record(path, cases[t].array);
        ck_assert_int_eq(sq_test_oracle(path, out, sizeof out), 1);
        ck_assert_msg(strstr(out, "DISAGREE") && strstr(out, cases[t].needle) &&
                          strstr(out, " 1 disagreements"),
                      "case %zu: %s", t, out);
        unlink(path);
    }
    sq_gemm_case_free(&gc);
    sq_attn_case_free(&ac);
}
END_TEST

Suite *oracle_suite(void)
{
    Suite *s = suite_create("oracle");
    TCase *tc = sq_tcase(s, "numpy", 300);
    tcase_add_test(tc, test_golden_agrees_with_oracle);
    tcase_add_test(tc, test_oracle_catches_a_changed_value);
    return s;
}
