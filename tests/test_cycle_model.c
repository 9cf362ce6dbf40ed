/* The cycle model (level "model") against the Verilated RTL (level "rtl"):
 * the same cycles, stall cycles and device-memory bytes, per op, on synthetic
 * GEMMs of every mode and over a whole 16-token stories260K w8a8 generation
 * (the README's 0.00%); outputs bit exact; the array size is a parameter of
 * the model only; the sweep CLI. Without the rtl level built in, the
 * comparisons fail: there is nothing to check the model against. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compress/qmodel.h"
#include "model/llama.h"
#include "model/sampler.h"
#include "report/report.h"
#include "runtime/device.h"
#include "runtime/gemm_case.h"
#include "sched/program.h"
#include "sparq/spec.h"
#include "testutil.h"
#include "util/err.h"

extern const sq_level_ops_t sq_level_rtl __attribute__((weak));

/* Fails the test when the rtl level is not in this binary. */
static void need_rtl(void)
{
    ck_assert_msg(&sq_level_rtl != NULL,
                  "the rtl level is not built into this binary: the cycle model has nothing to "
                  "be checked against");
}

/* Runs one random GEMM case on a level; checks the outputs against the
 * golden answer and returns the counters. array 0 = default size; group:
 * the group size with SQ_GEMM_GSCALE. */
static void run_case_on(const char *level, uint32_t m, uint32_t n, uint32_t k, uint32_t flags,
                        uint32_t group, uint32_t rows, uint32_t cols, sq_dev_stats_t *st)
{
    sq_gemm_case_t gc;
    ck_assert_msg(sq_gemm_case_build_group(&gc, m, n, k, flags, group, 7) == 0, "%s",
                  sq_err_msg());
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, level);
    cfg.array_rows = rows;
    cfg.array_cols = cols;
    /* other array sizes are Verilated as the GEMM unit kernel only */
    cfg.unit_launches = rows != 0;
    uint64_t need = sq_gemm_case_dev_bytes(&gc);
    if (need > cfg.mem_bytes)
        cfg.mem_bytes = need;
    cfg.mem_bytes = (cfg.mem_bytes + 63) & ~63ull;
    sq_dev_t *dev;
    ck_assert_msg(sq_dev_open(&cfg, &dev) == 0, "%s", sq_err_msg());
    uint64_t cmd, first;
    ck_assert_msg(sq_gemm_case_place(dev, &gc, &cmd) == 0, "%s", sq_err_msg());
    ck_assert_msg(sq_dev_run(dev, cmd, 1, 0) == 0, "%s", sq_err_msg());
    void *out = malloc(gc.b.c);
    ck_assert_int_eq(sq_gemm_case_read(dev, &gc, out), 0);
    uint64_t bad = sq_gemm_case_mismatches(&gc, out, &first);
    ck_assert_msg(bad == 0, "%s %ux%ux%u flags 0x%x: %llu mismatches, first at %llu", level, m,
                  n, k, flags, (unsigned long long)bad, (unsigned long long)first);
    sq_dev_stats(dev, st);
    free(out);
    sq_dev_close(dev);
    sq_gemm_case_free(&gc);
}

static void run_case(const char *level, uint32_t m, uint32_t n, uint32_t k, uint32_t flags,
                     uint32_t array, sq_dev_stats_t *st)
{
    run_case_on(level, m, n, k, flags, 0, array, array, st);
}

/* The model's counters equal the rtl's for one case. */
static void expect_equal(const sq_dev_stats_t *m, const sq_dev_stats_t *r, uint32_t rows,
                         uint32_t cols, uint32_t mm, uint32_t n, uint32_t k, uint32_t flags)
{
    ck_assert_msg(m->cycles == r->cycles && m->stall_cycles == r->stall_cycles,
                  "%ux%u array, %ux%ux%u flags 0x%x: model %llu cycles (%llu stalled), rtl %llu "
                  "(%llu)", rows, cols, mm, n, k, flags, (unsigned long long)m->cycles,
                  (unsigned long long)m->stall_cycles, (unsigned long long)r->cycles,
                  (unsigned long long)r->stall_cycles);
    ck_assert_uint_eq(m->bytes_read, r->bytes_read);
    ck_assert_uint_eq(m->bytes_written, r->bytes_written);
    ck_assert_uint_eq(m->macs, r->macs);
}

static const struct {
    uint32_t m, n, k, flags, group;
} shapes[] = {
    {1, 64, 64, 0, 0},                          /* decode: one useful array row */
    {1, 172, 64, SQ_GEMM_RELU, 0},              /* stories260K w1 at M=1, partial N tile */
    {1, 64, 172, 0, 0},                         /* K not a multiple of the beat */
    {1, 512, 64, SQ_GEMM_OUT32, 0},             /* classifier, int32 out */
    {64, 64, 64, 0, 0},                         /* M >= 64 */
    {128, 96, 200, SQ_GEMM_BIAS, 0},            /* prefill-like, bias */
    {70, 45, 301, SQ_GEMM_RELU, 0},             /* odd everything */
    {1, 1, 1, 0, 0},                            /* size-1 dims */
    {1, 64, 64, SQ_GEMM_W4, 0},                 /* int4 */
    {33, 40, 100, SQ_GEMM_W4 | SQ_GEMM_OUT32, 0},
    {1, 64, 64, SQ_GEMM_SP24, 0},               /* 2:4 */
    {64, 64, 1024, SQ_GEMM_SP24 | SQ_GEMM_BIAS, 0},
    {17, 23, 2500, SQ_GEMM_OUT32 | SQ_GEMM_BIAS, 0}, /* K over one 2048 chunk */
    {40, 48, 4100, SQ_GEMM_SP24, 0},            /* 2:4 over three chunks */
    {1, 300, 1000, SQ_GEMM_BIAS | SQ_GEMM_RELU, 0}, /* GEMV mode over two K chunks */
    {1, 20, 8300, SQ_GEMM_OUT32, 0},            /* GEMV, activation reloaded per job */
    {1, 45, 1031, SQ_GEMM_W4 | SQ_GEMM_BIAS, 0}, /* int4 GEMV over two K chunks, odd K */
    {1, 20, 8195, SQ_GEMM_W4 | SQ_GEMM_OUT32, 0}, /* int4 GEMV, activation reloaded */
    /* group scales: factor rows loaded per job, in both mappings */
    {1, 512, 512, SQ_GEMM_W4 | SQ_GEMM_GSCALE | SQ_GEMM_OUT32, 32},
    {1, 512, 512, SQ_GEMM_W4 | SQ_GEMM_GSCALE | SQ_GEMM_OUT32, 128},
    {1, 172, 64, SQ_GEMM_W4 | SQ_GEMM_GSCALE | SQ_GEMM_BIAS, 32},
    {1, 64, 172, SQ_GEMM_W4 | SQ_GEMM_GSCALE | SQ_GEMM_OUT32, 32}, /* last group short */
    {1, 45, 1031, SQ_GEMM_GSCALE | SQ_GEMM_BIAS, 64},              /* int8 GEMV */
    {1, 20, 8300, SQ_GEMM_W4 | SQ_GEMM_GSCALE | SQ_GEMM_OUT32, 128},
    {33, 40, 100, SQ_GEMM_W4 | SQ_GEMM_GSCALE | SQ_GEMM_OUT32, 32},
    {17, 23, 2500, SQ_GEMM_GSCALE | SQ_GEMM_BIAS | SQ_GEMM_RELU, 256},
    {70, 45, 301, SQ_GEMM_GSCALE, 301},                            /* one group of k */
    /* GEMV with M activation rows (batched decode): int8 M <= C/2, int4 C/4 */
    {2, 37, 101, SQ_GEMM_BIAS, 0},
    {8, 33, 600, SQ_GEMM_RELU, 0},
    {5, 20, 8300, SQ_GEMM_OUT32, 0},            /* activations reloaded per job */
    {3, 45, 1031, SQ_GEMM_W4 | SQ_GEMM_BIAS, 0},
    {4, 19, 70, SQ_GEMM_W4 | SQ_GEMM_GSCALE | SQ_GEMM_BIAS, 32},
    {6, 45, 1031, SQ_GEMM_GSCALE | SQ_GEMM_OUT32, 64},
    {9, 20, 100, SQ_GEMM_BIAS, 0},              /* M = 9: the normal mapping */
    /* 2:4 GEMV (K >= 256, M <= C/4); K = 255 and M = 5 the normal mapping */
    {1, 45, 1031, SQ_GEMM_SP24 | SQ_GEMM_BIAS, 0},
    {1, 20, 8300, SQ_GEMM_SP24 | SQ_GEMM_OUT32, 0}, /* activations reloaded */
    {3, 33, 600, SQ_GEMM_SP24 | SQ_GEMM_RELU, 0},
    {1, 64, 255, SQ_GEMM_SP24, 0},
    {5, 20, 300, SQ_GEMM_SP24 | SQ_GEMM_BIAS, 0},
};

START_TEST(test_synthetic_vs_rtl)
{
    need_rtl();
    size_t n = sizeof shapes / sizeof shapes[0];
    for (size_t i = 0; i < n; i++) {
        sq_dev_stats_t r, m;
        run_case_on("rtl", shapes[i].m, shapes[i].n, shapes[i].k, shapes[i].flags,
                    shapes[i].group, 0, 0, &r);
        run_case_on("model", shapes[i].m, shapes[i].n, shapes[i].k, shapes[i].flags,
                    shapes[i].group, 0, 0, &m);
        expect_equal(&m, &r, SQ_ARRAY_ROWS, SQ_ARRAY_COLS, shapes[i].m, shapes[i].n,
                     shapes[i].k, shapes[i].flags);
    }
}
END_TEST

/* The rules that depend on the array size, against the GEMM unit Verilated
 * at 8x8 and 4x8 (GEMV tiles of min(R, C) outputs; C > R leaves epilogue
 * lanes idle), on the unit kernel driven by the host on both levels. */
START_TEST(test_sizes_vs_rtl)
{
    need_rtl();
    static const uint32_t sizes[][2] = {{8, 8}, {4, 8}};
    static const struct {
        uint32_t m, n, k, flags, group;
    } few[] = {
        {1, 64, 64, 0, 0},
        {1, 37, 1100, SQ_GEMM_BIAS | SQ_GEMM_RELU, 0},
        {1, 1, 1, SQ_GEMM_OUT32, 0},
        {1, 30, 70, SQ_GEMM_W4, 0},
        {1, 19, 2051, SQ_GEMM_W4 | SQ_GEMM_BIAS, 0},
        {20, 30, 70, SQ_GEMM_BIAS, 0},
        {9, 13, 130, SQ_GEMM_SP24 | SQ_GEMM_OUT32, 0},
        {1, 19, 2051, SQ_GEMM_W4 | SQ_GEMM_GSCALE | SQ_GEMM_BIAS, 32},
        {20, 30, 70, SQ_GEMM_GSCALE | SQ_GEMM_OUT32, 32},
        {4, 30, 70, SQ_GEMM_BIAS, 0},           /* GEMV, M = C/2 at 4x8 */
        {2, 19, 2051, SQ_GEMM_W4 | SQ_GEMM_BIAS, 0},
        {3, 37, 1100, SQ_GEMM_RELU, 0},
        {1, 19, 2051, SQ_GEMM_SP24 | SQ_GEMM_BIAS, 0}, /* 2:4 GEMV */
        {2, 30, 300, SQ_GEMM_SP24 | SQ_GEMM_OUT32, 0},
    };
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++)
        for (size_t i = 0; i < sizeof few / sizeof few[0]; i++) {
            sq_dev_stats_t r, m;
            run_case_on("rtl", few[i].m, few[i].n, few[i].k, few[i].flags, few[i].group,
                        sizes[z][0], sizes[z][1], &r);
            run_case_on("model", few[i].m, few[i].n, few[i].k, few[i].flags, few[i].group,
                        sizes[z][0],
                        sizes[z][1], &m);
            expect_equal(&m, &r, sizes[z][0], sizes[z][1], few[i].m, few[i].n, few[i].k,
                         few[i].flags);
        }
    /* a size with no Verilated build is a one-line error */
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, "rtl");
    cfg.array_rows = cfg.array_cols = 12;
    cfg.unit_launches = 1;
    sq_dev_t *dev;
    ck_assert_int_eq(sq_dev_open(&cfg, &dev), SQ_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "Verilated"));
}
END_TEST

/* The model without the rtl: outputs exact, counters consistent, cycles grow
 * with the work, and a smaller array takes more cycles. */
START_TEST(test_model_alone)
{
    sq_dev_stats_t a, b, c;
    run_case("model", 64, 64, 256, 0, 0, &a);
    ck_assert_uint_eq(a.macs, 64ull * 64 * 256);
    ck_assert_uint_gt(a.cycles, 64ull * 64 * 256 / (SQ_PE_MACS * SQ_ARRAY_ROWS * SQ_ARRAY_COLS));
    ck_assert_uint_le(a.stall_cycles, a.cycles);
    ck_assert_uint_ge(a.bytes_read, 64ull * 256 + 64ull * 256);
    ck_assert_uint_eq(a.bytes_written, 64ull * 64);
    run_case("model", 64, 64, 256, 0, 8, &b);
    ck_assert_uint_gt(b.cycles, a.cycles);
    run_case("model", 64, 64, 256, SQ_GEMM_SP24, 0, &c);
    ck_assert_uint_lt(c.cycles, a.cycles);
    /* an array side the model does not take is a one-line error */
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, "model");
    cfg.array_rows = 1000;
    sq_dev_t *dev;
    ck_assert_int_eq(sq_dev_open(&cfg, &dev), SQ_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "array"));
}
END_TEST

/* Runs n greedy tokens of q on a level and fills rep. */
static void run_program(const sq_llama_t *m, sq_qmodel_t *q, const char *level, int n,
                        sq_report_t *rep)
{
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, level);
    cfg.mem_bytes = 16u << 20;
    sq_dev_t *dev;
    ck_assert_msg(sq_dev_open(&cfg, &dev) == 0, "%s", sq_err_msg());
    sq_report_init(rep, "stories260K", "w8a8", level, NULL, 300);
    sq_program_t *p;
    ck_assert_msg(sq_program_build(&p, q, dev, rep) == 0, "%s", sq_err_msg());
    sq_llama_exec_t ex;
    sq_program_exec(p, &ex);
    sq_llama_state_t s;
    ck_assert_int_eq(sq_llama_state_build(&s, &m->cfg), 0);
    int tok = 1;
    for (int pos = 0; pos < n; pos++) {
        ck_assert_msg(sq_llama_forward(m, &s, tok, pos, &ex) == 0, "%s", sq_err_msg());
        tok = sq_argmax(s.logits, m->cfg.vocab_size);
    }
    sq_llama_state_free(&s);
    sq_program_free(p);
    sq_dev_close(dev);
}

/* A whole generation: 16 greedy tokens, every op's cycles equal. */
START_TEST(test_stories260k_vs_rtl)
{
    need_rtl();
    sq_llama_t m;
    ck_assert_int_eq(sq_llama_load(SQ_MODEL_PATH, &m), 0);
    sq_recipe_t r;
    ck_assert_int_eq(sq_recipe_parse("w8a8", &r), 0);
    sq_qmodel_t q;
    ck_assert_msg(sq_qmodel_build(&q, &m, &r) == 0, "%s", sq_err_msg());
    sq_report_t rr, mr;
    run_program(&m, &q, "rtl", 16, &rr);
    run_program(&m, &q, "model", 16, &mr);
    ck_assert_uint_eq(rr.tokens, 16);
    ck_assert_uint_eq(rr.n_ops, mr.n_ops);
    size_t n = 0;
    for (size_t i = 0; i < rr.n_ops; i++) {
        const sq_report_op_t *a = &rr.ops[i], *b = &mr.ops[i];
        ck_assert_str_eq(a->op, b->op);
        ck_assert_msg(b->s.cycles == a->s.cycles && b->s.stall_cycles == a->s.stall_cycles,
                      "layer %d %s: model %llu cycles (%llu stalled), rtl %llu (%llu)", a->layer,
                      a->op, (unsigned long long)b->s.cycles,
                      (unsigned long long)b->s.stall_cycles, (unsigned long long)a->s.cycles,
                      (unsigned long long)a->s.stall_cycles);
        ck_assert_uint_eq(b->s.bytes_read, a->s.bytes_read);
        ck_assert_uint_eq(b->s.bytes_written, a->s.bytes_written);
        n += a->s.cycles > 0;
    }
    ck_assert_uint_gt(n, 0);
    sq_dev_stats_t tr, tm;
    sq_report_totals(&rr, &tr);
    sq_report_totals(&mr, &tm);
    ck_assert_uint_eq(tm.cycles, tr.cycles);
    fprintf(stderr, "cycle_model: stories260K w8a8, 16 tokens, %zu ops, %llu cycles on both\n",
            n, (unsigned long long)tr.cycles);
    sq_report_free(&rr);
    sq_report_free(&mr);
    sq_qmodel_free(&q);
    sq_llama_free(&m);
}
END_TEST

START_TEST(test_sweep_cli)
{
    static char out[1 << 14], err[1 << 12];
    ck_assert_int_eq(sq_run_cli("sweep --model " SQ_MODEL_PATH " --tokenizer " SQ_TOK_PATH
                                " --text " SQ_SHARED_DIR "/data/tinystories_sample.txt"
                                " --array 8x8,16x16 --tokens 2 --json",
                                out, sizeof out, err, sizeof err), 0);
    cJSON *j = cJSON_Parse(out);
    ck_assert_ptr_nonnull(j);
    cJSON *pts = cJSON_GetObjectItem(j, "points");
    ck_assert_int_eq(cJSON_GetArraySize(pts), 2);
    double c8 = cJSON_GetObjectItem(cJSON_GetArrayItem(pts, 0), "cycles_per_token")->valuedouble;
    double c16 = cJSON_GetObjectItem(cJSON_GetArrayItem(pts, 1), "cycles_per_token")->valuedouble;
    double u16 = cJSON_GetObjectItem(cJSON_GetArrayItem(pts, 1), "mac_utilization")->valuedouble;
    ck_assert(c8 > c16 && c16 > 0);
    ck_assert(u16 > 0 && u16 <= 1);
    /* one run per linear (36 for stories260K), each a launch on top of the cycles */
    const cJSON *p16 = cJSON_GetArrayItem(pts, 1);
    ck_assert_double_eq(cJSON_GetObjectItem(p16, "runs_per_token")->valuedouble, 36);
    ck_assert_double_gt(cJSON_GetObjectItem(p16, "e2e_us_per_token")->valuedouble,
                        cJSON_GetObjectItem(p16, "latency_us_per_token")->valuedouble + 36 * 30);
    cJSON_Delete(j);
    ck_assert_int_eq(sq_run_cli("sweep --shape 128x64x64 --array 4x4,16x16", out, sizeof out, err,
                                sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(out, "16x16"));
    ck_assert_int_eq(sq_run_cli("sweep --array 8y8", out, sizeof out, err, sizeof err), 2);
    ck_assert_ptr_nonnull(strstr(err, "--array"));
    ck_assert_int_eq(sq_run_cli("sweep --shape 1x2", out, sizeof out, err, sizeof err), 2);
    ck_assert_int_eq(sq_run_cli("sweep --target hbm9", out, sizeof out, err, sizeof err), 2);
    ck_assert_int_eq(sq_run_cli("gemm --backend model --shape 3x5x7 --json", out, sizeof out,
                                err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(out, "\"cycles\""));
    /* generate on the model level at another array size; the report says so */
    char json[] = "/tmp/sq_cm_XXXXXX";
    close(mkstemp(json));
    char args[512];
    snprintf(args, sizeof args, "generate --model " SQ_MODEL_PATH " --tokenizer " SQ_TOK_PATH
             " --recipe w8a8 --steps 3 --temperature 0 --offload linears --backend model --array 8x8 "
             "--report %s",
             json);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 0);
    size_t n;
    char *text = sq_slurp(json, &n);
    ck_assert_ptr_nonnull(text);
    j = cJSON_Parse(text);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq((int)cJSON_GetObjectItem(j, "array_rows")->valuedouble, 8);
    double util = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "total"), "mac_utilization")
                      ->valuedouble;
    ck_assert(util > 0 && util <= 1);
    cJSON_Delete(j);
    free(text);
    unlink(json);
    char svg[64];
    snprintf(svg, sizeof svg, "%s.svg", json);
    unlink(svg);
    ck_assert_int_eq(sq_run_cli("generate --model " SQ_MODEL_PATH " --tokenizer " SQ_TOK_PATH
                                " --recipe w8a8 --steps 2 --backend ref --array 8x8",
                                out, sizeof out, err, sizeof err), 2);
    ck_assert_ptr_nonnull(strstr(err, "--array"));
}
END_TEST

Suite *cycle_model_suite(void)
{
    Suite *s = suite_create("cycle_model");
    TCase *tc = sq_tcase(s, "model", 60);
    tcase_add_test(tc, test_model_alone);
    tcase_add_test(tc, test_sweep_cli);
    tc = sq_tcase(s, "vs_rtl", 180);
    tcase_add_test(tc, test_synthetic_vs_rtl);
    tcase_add_test(tc, test_sizes_vs_rtl);
    tcase_add_test(tc, test_stories260k_vs_rtl);
    return s;
}
