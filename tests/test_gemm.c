/* GEMM on the csim level (the HLS kernel) bit for bit against the golden
 * reference over random shapes and every mode, and the ref level (the golden
 * itself) against the independent oracle; the HLS register offsets against
 * spec.h; and `sparq gemm`. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "runtime/case_file.h"
#include "runtime/device.h"
#include "runtime/gemm_case.h"
#include "runtime/regress.h"
#include "sparq/kernels.h"
#include "sparq/spec.h"
#include "testutil.h"
#include "util/err.h"

extern const sq_level_ops_t sq_level_rtl __attribute__((weak));

START_TEST(test_csim_int8)
{
    sq_test_gemm_random("csim", 0, 0x1001, 80);
}
END_TEST

START_TEST(test_csim_int4)
{
    sq_test_gemm_random("csim", SQ_GEMM_W4, 0x2002, 80);
}
END_TEST

START_TEST(test_csim_sp24)
{
    sq_test_gemm_random("csim", SQ_GEMM_SP24, 0x3003, 80);
}
END_TEST

/* Group scales (SQ_GEMM_GSCALE): the chosen edge cases, then random ones
 * whose group size is drawn, in int4 and int8. */
START_TEST(test_csim_gscale)
{
    sq_test_gemm_gscale("csim");
    sq_test_gemm_random("csim", SQ_GEMM_W4 | SQ_GEMM_GSCALE, 0x4004, 40);
    sq_test_gemm_random("csim", SQ_GEMM_GSCALE, 0x5005, 24);
}
END_TEST

/* The golden's group scales against the independent oracle: GSCALE cases in
 * every format and epilogue (group sizes drawn) run on the ref level and are
 * dumped; the oracle recomputes them. One corrupted output must fail it. */
START_TEST(test_gscale_vs_oracle)
{
    static const uint32_t formats[2] = {0, SQ_GEMM_W4};
    char path[] = "/tmp/sq_gscale_XXXXXX";
    close(mkstemp(path));
    static char out[1 << 12];
    for (int corrupt = 0; corrupt < 2; corrupt++) {
        sq_case_file_t *f;
        ck_assert_int_eq(sq_case_file_open(path, &f), 0);
        sq_dev_t *dev = sq_test_dev_open("ref", 8u << 20);
        uint64_t s = 0x6006;
        for (int i = 0; i < 30; i++) {
            uint32_t m = sq_regress_pick_mn(&s), n = sq_regress_pick_mn(&s),
                     k = sq_regress_pick_k(&s);
            uint32_t flags = formats[i % 2] | SQ_GEMM_GSCALE | ((i & 4) ? SQ_GEMM_RELU : 0) |
                             ((i & 8) ? SQ_GEMM_OUT32 : 0) | ((i & 16) ? SQ_GEMM_BIAS : 0);
            sq_gemm_case_t gc;
            uint64_t cmd;
            ck_assert_int_eq(sq_gemm_case_build(&gc, m, n, k, flags, s), 0);
            sq_dev_free_all(dev);
            ck_assert_int_eq(sq_gemm_case_place(dev, &gc, &cmd), 0);
            ck_assert_msg(sq_dev_run(dev, cmd, 1, 0) == 0, "%s", sq_err_msg());
            uint8_t *c = malloc(gc.b.c);
            ck_assert_int_eq(sq_gemm_case_read(dev, &gc, c), 0);
            if (corrupt && i == 17)
                c[0] ^= 1;
            ck_assert_int_eq(sq_case_file_gemm(f, &gc, c), 0);
            free(c);
            sq_gemm_case_free(&gc);
        }
        sq_dev_close(dev);
        ck_assert_int_eq(sq_case_file_close(f), 0);
        int rc = sq_test_oracle(path, out, sizeof out);
        if (corrupt)
            ck_assert_msg(rc == 1 && strstr(out, "level output"), "%s", out);
        else
            ck_assert_msg(rc == 0 && strstr(out, "30 gemm records"), "%s", out);
    }
    unlink(path);
}
END_TEST

/* The ref level runs the golden reference itself, so comparing it with the
 * golden proves nothing: its outputs go to the independent oracle
 * (tests/oracle.py), which recomputes them from the inputs. */
START_TEST(test_ref_level_vs_oracle)
{
    static char out[1 << 12];
    sq_test_regress_oracle("ref", "gemm", 120, 16388, out, sizeof out);
    ck_assert_ptr_nonnull(strstr(out, "120 gemm records"));
}
END_TEST

START_TEST(test_csim_extremes)
{
    sq_test_gemm_extremes("csim");
}
END_TEST

/* The kernel top on a raw memory image, as a Vitis host would start it: a
 * stream of NOP, GEMM, NOP, GEMM runs both GEMMs and skips the NOPs. */
START_TEST(test_kernel_top_stream)
{
    sq_dev_t *dev = sq_test_dev_open("ref", 8u << 20); /* used only as an allocator and image */
    sq_gemm_case_t g1, g2;
    uint64_t c1, c2;
    ck_assert_int_eq(sq_gemm_case_build(&g1, 20, 18, 40, SQ_GEMM_BIAS | SQ_GEMM_RELU, 11), 0);
    ck_assert_int_eq(sq_gemm_case_build(&g2, 3, 5, 9, SQ_GEMM_SP24 | SQ_GEMM_OUT32, 12), 0);
    ck_assert_int_eq(sq_gemm_case_place(dev, &g1, &c1), 0);
    ck_assert_int_eq(sq_gemm_case_place(dev, &g2, &c2), 0);
    uint8_t mem[1 << 14] = {0};
    ck_assert_int_eq(sq_dev_read(dev, 0, mem, sizeof mem), 0);
    uint8_t *stream = mem + sizeof mem - 4 * SQ_DESC_BYTES;
    sq_gemm_desc_encode(&g1.d, stream + SQ_DESC_BYTES);
    sq_gemm_desc_encode(&g2.d, stream + 3 * SQ_DESC_BYTES);
    sq_gemm_kernel(mem, (uint64_t)(stream - mem), 4);
    sq_assert_i8_eq((const int8_t *)(mem + g1.d.c), (const int8_t *)g1.golden, 20 * 18);
    int32_t out2[15];
    memcpy(out2, mem + g2.d.c, sizeof out2);
    sq_assert_i32_eq(out2, (const int32_t *)g2.golden, 15);
    sq_gemm_case_free(&g1);
    sq_gemm_case_free(&g2);
    sq_dev_close(dev);
}
END_TEST

/* The HLS pragmas carry register offsets as literals (Vitis HLS does not
 * expand macros there): they must equal spec.h's. */
START_TEST(test_hls_register_offsets)
{
    sq_test_hls_unit_pragmas(SQ_HLS_GEMM_SRC);
}
END_TEST

/* A shape the unit does not take: SQ_ERR_ARG with the shape check's message,
 * once. Regression: gemm_case re-formatted sq_err_msg() into the buffer it
 * read from. */
START_TEST(test_case_bad_shape_message)
{
    sq_gemm_case_t gc;
    ck_assert_int_eq(sq_gemm_case_build(&gc, 0, 3, 5, 0, 1), SQ_ERR_ARG);
    ck_assert_str_eq(sq_err_msg(), "gemm shape 0x3x5 (MxNxK) outside [1, 65536]");
    sq_gemm_case_free(&gc);
    ck_assert_int_eq(sq_gemm_case_build(&gc, 2, 2, 2, SQ_GEMM_W4 | SQ_GEMM_SP24, 1), SQ_ERR_ARG);
    ck_assert_str_eq(sq_err_msg(), "gemm flags W4 and SP24 are exclusive");
    sq_gemm_case_free(&gc);
}
END_TEST

static void assert_one_line(const char *err, const char *needle)
{
    ck_assert_msg(strncmp(err, "sparq gemm: ", 12) == 0, "stderr: '%s'", err);
    char *nl = strchr(err, '\n');
    ck_assert_msg(nl && nl[1] == 0, "not one line: '%s'", err);
    ck_assert_msg(strstr(err, needle), "'%s' lacks '%s'", err, needle);
}

START_TEST(test_cli_bad_flags)
{
    const struct {
        const char *args, *needle;
    } bad[] = {
        {"gemm --shape 0x4x4", "--shape M"},
        {"gemm --shape 4x-1x4", "--shape N"},
        {"gemm --shape 4x4x65537", "--shape K"},
        {"gemm --shape 4x4", "MxNxK"},
        {"gemm --shape 4x4x4x4", "MxNxK"},
        {"gemm --shape axbxc", "--shape M"},
        {"gemm --shape 4x4x", "--shape K"},
        {"gemm --wbits 2", "--wbits"},
        {"gemm --sparse 1:4", "--sparse"},
        {"gemm --out int16", "--out"},
        {"gemm --backend tpu", "--backend"},
        {"gemm --seed -1", "--seed"},
        {"gemm --wbits 4 --sparse 2:4", "cannot be combined"},
        {"gemm --frobnicate", "unknown flag"},
        {"gemm --shape", "needs a value"},
        {"gemm extra", "unexpected argument"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[256], err[512];
        int rc = sq_run_cli(bad[i].args, out, sizeof out, err, sizeof err);
        ck_assert_msg(rc == 2, "%s: exit %d", bad[i].args, rc);
        ck_assert_msg(out[0] == 0, "%s printed '%s'", bad[i].args, out);
        assert_one_line(err, bad[i].needle);
    }
}
END_TEST

START_TEST(test_cli_runs)
{
    char out[4096], err[512];
    int rc = sq_run_cli("gemm --backend csim --shape 17x33x65 --sparse 2:4 --relu --bias --seed 9",
                        out, sizeof out, err, sizeof err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_ptr_nonnull(strstr(out, "\nmismatches 0\n"));
    ck_assert_ptr_nonnull(strstr(out, "\nmacs 18513\n")); /* 17*33*(2*16+1) */
    rc = sq_run_cli("gemm --backend ref --shape 1x1x1 --wbits 4 --out int32", out, sizeof out, err,
                    sizeof err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_ptr_nonnull(strstr(out, "\nmismatches 0\n"));

    rc = sq_run_cli("gemm --shape 40x20x600 --json", out, sizeof out, err, sizeof err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    cJSON *j = cJSON_Parse(out);
    ck_assert_ptr_nonnull(j);
    ck_assert_str_eq(cJSON_GetObjectItem(j, "backend")->valuestring, "csim");
    ck_assert_double_eq(cJSON_GetObjectItem(j, "mismatches")->valuedouble, 0);
    ck_assert_double_eq(cJSON_GetObjectItem(j, "macs")->valuedouble, 40.0 * 20 * 600);
    ck_assert_double_eq(cJSON_GetObjectItem(j, "bytes_written")->valuedouble, 40.0 * 20);
    cJSON_Delete(j);

    rc = sq_run_cli("gemm --help", out, sizeof out, err, sizeof err);
    ck_assert_int_eq(rc, 0);
    const char *flags[] = {"--backend", "--shape", "--wbits", "--sparse", "--relu",
                           "--out",     "--bias",  "--seed",  "--json"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        ck_assert_msg(strstr(out, flags[i]), "--help lacks %s", flags[i]);

    if (&sq_level_rtl == NULL) {
        rc = sq_run_cli("gemm --backend rtl --shape 2x2x2", out, sizeof out, err, sizeof err);
        ck_assert_int_eq(rc, 1);
        assert_one_line(err, "level 'rtl' is not built");
    }
}
END_TEST

Suite *gemm_suite(void)
{
    Suite *s = suite_create("gemm");
    TCase *tc = sq_tcase(s, "csim", 120);
    tcase_add_test(tc, test_csim_int8);
    tcase_add_test(tc, test_csim_int4);
    tcase_add_test(tc, test_csim_sp24);
    tcase_add_test(tc, test_csim_extremes);
    tcase_add_test(tc, test_ref_level_vs_oracle);
    tcase_add_test(tc, test_csim_gscale);
    tcase_add_test(tc, test_gscale_vs_oracle);
    tc = sq_tcase(s, "interface", 60);
    tcase_add_test(tc, test_kernel_top_stream);
    tcase_add_test(tc, test_hls_register_offsets);
    tcase_add_test(tc, test_case_bad_shape_message);
    tcase_add_test(tc, test_cli_bad_flags);
    tcase_add_test(tc, test_cli_runs);
    return s;
}
