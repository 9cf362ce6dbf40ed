/* The opencl level: the HLS kernels built as OpenCL C by the platform's
 * compiler (PoCL here), bit for bit against the golden reference in every
 * GEMM mode and attention pattern, on a mixed command stream, and inside a
 * stories260K eval; and the one-line error when there is no platform.
 * `make test` keeps PoCL's kernel cache in build/pocl-cache (POCL_CACHE_DIR). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/attn_case.h"
#include "runtime/device.h"
#include "runtime/gemm_case.h"
#include "testutil.h"
#include "util/err.h"

START_TEST(test_gemm_int8)
{
    sq_test_gemm_random("opencl", 0, 0x0C1001, 24);
}
END_TEST

START_TEST(test_gemm_int4)
{
    sq_test_gemm_random("opencl", SQ_GEMM_W4, 0x0C2002, 24);
}
END_TEST

START_TEST(test_gemm_sp24)
{
    sq_test_gemm_random("opencl", SQ_GEMM_SP24, 0x0C3003, 24);
}
END_TEST

START_TEST(test_gemm_extremes)
{
    sq_test_gemm_extremes("opencl");
}
END_TEST

/* Every one of the 32 pattern combinations, decode and prefill, GQA. */
START_TEST(test_attn_random)
{
    sq_test_attn_random("opencl", 0x0C4004, 64, 200000);
}
END_TEST

/* One stream of NOP, GEMM, ATTN, GEMM: the device splits it into three
 * kernel launches in order, and every output is the golden. */
START_TEST(test_mixed_stream)
{
    sq_gemm_case_t g1, g2;
    sq_attn_case_t ac;
    sq_attn_params_t p = {.seq = 70, .queries = 3, .heads = 4, .kv_heads = 2, .head_dim = 24,
                          .flags = SQ_ATTN_CAUSAL | SQ_ATTN_WINDOW | SQ_ATTN_TOPK,
                          .window = 20, .topk = 9, .seed = 3};
    ck_assert_int_eq(sq_gemm_case_build(&g1, 19, 33, 70, SQ_GEMM_BIAS | SQ_GEMM_RELU, 21), 0);
    ck_assert_int_eq(sq_gemm_case_build(&g2, 5, 17, 41, SQ_GEMM_W4 | SQ_GEMM_OUT32, 22), 0);
    ck_assert_msg(sq_attn_case_build(&ac, &p) == 0, "%s", sq_err_msg());
    sq_dev_t *dev = sq_test_dev_open("opencl", 4u << 20);
    uint64_t c1, c2, c3, cmd;
    ck_assert_int_eq(sq_gemm_case_place(dev, &g1, &c1), 0);
    ck_assert_int_eq(sq_attn_case_place(dev, &ac, &c2), 0);
    ck_assert_int_eq(sq_gemm_case_place(dev, &g2, &c3), 0);
    uint8_t stream[4 * SQ_DESC_BYTES] = {0};
    ck_assert_int_eq(sq_dev_read(dev, c1, stream + SQ_DESC_BYTES, SQ_DESC_BYTES), 0);
    ck_assert_int_eq(sq_dev_read(dev, c2, stream + 2 * SQ_DESC_BYTES, SQ_DESC_BYTES), 0);
    ck_assert_int_eq(sq_dev_read(dev, c3, stream + 3 * SQ_DESC_BYTES, SQ_DESC_BYTES), 0);
    ck_assert_int_eq(sq_dev_put(dev, stream, sizeof stream, &cmd), 0);
    ck_assert_msg(sq_dev_run(dev, cmd, 4, 0) == 0, "%s", sq_err_msg());

    int8_t o1[19 * 33];
    int32_t o3[5 * 17];
    int8_t *o2 = malloc(ac.b.o);
    ck_assert_int_eq(sq_gemm_case_read(dev, &g1, o1), 0);
    ck_assert_int_eq(sq_attn_case_read(dev, &ac, o2), 0);
    ck_assert_int_eq(sq_gemm_case_read(dev, &g2, o3), 0);
    sq_assert_i8_eq(o1, (const int8_t *)g1.golden, 19 * 33);
    sq_assert_i8_eq(o2, ac.golden, ac.b.o);
    sq_assert_i32_eq(o3, (const int32_t *)g2.golden, 5 * 17);
    sq_dev_stats_t st;
    sq_dev_stats(dev, &st);
    ck_assert_uint_eq(st.commands, 4);
    ck_assert_uint_eq(st.macs, 19ull * 33 * 70 + 5ull * 17 * 41 +
                                   (ac.work.scored + ac.work.selected) * p.head_dim);
    free(o2);
    sq_dev_close(dev);
    sq_attn_case_free(&ac);
    sq_gemm_case_free(&g1);
    sq_gemm_case_free(&g2);
}
END_TEST

/* `sparq eval` on stories260K, integer matmuls and sparse attention on the
 * level's units: the same output line (perplexity, attention density and
 * error) as on ref. The logits themselves are compared in test_program. */
START_TEST(test_eval_same_as_ref)
{
    size_t n;
    char *text = sq_slurp(SQ_SHARED_DIR "/data/tinystories_sample.txt", &n);
    ck_assert_ptr_nonnull(text);
    char *path = sq_tmpfile(text, n < 600 ? n : 600);
    char out[2][512], err[2][4096];
    const char *levels[] = {"ref", "opencl"};
    for (int i = 0; i < 2; i++) {
        char args[1024];
        snprintf(args, sizeof args,
                 "eval --model " SQ_MODEL_PATH " --tokenizer " SQ_TOK_PATH
                 " --recipe w8a8 --attn window:16,global:2,topk:8 --text %s --backend %s",
                 path, levels[i]);
        int rc = sq_run_cli(args, out[i], sizeof out[i], err[i], sizeof err[i]);
        ck_assert_msg(rc == 0, "%s: exit %d: %s", levels[i], rc, err[i]);
    }
    ck_assert_ptr_nonnull(strstr(out[1], "ppl "));
    ck_assert_str_eq(out[1], out[0]);
    unlink(path);
    free(path);
    free(text);
}
END_TEST

/* No ICD registered (an empty OCL_ICD_VENDORS): opening fails with
 * SQ_ERR_DEV and one line, and the CLI exits non-zero with that line. */
START_TEST(test_no_platform)
{
    char dir[] = "/tmp/sq_noicd_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(setenv("OCL_ICD_VENDORS", dir, 1), 0);
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, "opencl");
    sq_dev_t *dev = NULL;
    ck_assert_int_eq(sq_dev_open(&cfg, &dev), SQ_ERR_DEV);
    ck_assert_ptr_null(dev);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "no OpenCL platform"));
    ck_assert_ptr_null(strchr(sq_err_msg(), '\n'));

    char out[256], err[1024];
    int rc = sq_run_cli("gemm --backend opencl --shape 8x8x8", out, sizeof out, err, sizeof err);
    ck_assert_int_eq(rc, 1);
    ck_assert_ptr_nonnull(strstr(err, "no OpenCL platform"));
    ck_assert_ptr_eq(strchr(err, '\n'), err + strlen(err) - 1);
    rmdir(dir);
}
END_TEST

Suite *opencl_suite(void)
{
    Suite *s = suite_create("opencl");
    TCase *tc = sq_tcase(s, "gemm", 120);
    tcase_add_test(tc, test_gemm_int8);
    tcase_add_test(tc, test_gemm_int4);
    tcase_add_test(tc, test_gemm_sp24);
    tcase_add_test(tc, test_gemm_extremes);
    tc = sq_tcase(s, "attn", 120);
    tcase_add_test(tc, test_attn_random);
    tcase_add_test(tc, test_mixed_stream);
    tc = sq_tcase(s, "model", 120);
    tcase_add_test(tc, test_eval_same_as_ref);
    tc = sq_tcase(s, "errors", 60);
    tcase_add_test(tc, test_no_platform);
    return s;
}
