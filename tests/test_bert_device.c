/* all-MiniLM-L6-v2 compiled onto the device levels (sq_program_build_bert):
 * w8a8 embeddings on csim, model and rtl equal the golden host path's bit
 * for bit, every linear runs on the matmul unit and the cycle-counting levels
 * count cycles; batching a sentence's tokens into M changes no bit; layers the unit cannot run are reported on the host, and
 * embed refuses what it cannot run in one line. Skipped without the model. */
#include <stdlib.h>
#include <string.h>

#include "compress/bert_compress.h"
#include "report/report.h"
#include "runtime/device.h"
#include "sched/program.h"
#include "testutil.h"
#include "util/err.h"

extern const sq_level_ops_t sq_level_rtl __attribute__((weak));

/* MiniLM's int8 linears are 10.6 MB */
#define DEV_MEM (64u << 20)

static const char *const sentences[] = {
    "A man plays a guitar.",
    "The cat sat quietly by the warm window.",
    "Lily found a big red ball in the park.",
};

typedef struct {
    sq_bert_t m;
    sq_bert_qmodel_t q;
} fixture_t;

static int setup(fixture_t *f, const char *recipe)
{
    char path[4200];
    if (sq_test_model("minilm", "test_bert_device", path, sizeof path))
        return -1;
    ck_assert_msg(sq_bert_load(path, &f->m) == 0, "%s", sq_err_msg());
    sq_recipe_t r;
    ck_assert_int_eq(sq_recipe_parse(recipe, &r), 0);
    ck_assert_msg(sq_bert_qmodel_build(&f->q, &f->m, &r, NULL) == 0, "%s", sq_err_msg());
    return 0;
}

static void teardown(fixture_t *f)
{
    sq_bert_qmodel_free(&f->q);
    sq_bert_free(&f->m);
}

/* Embeds the first n sentences on the golden host path, then on level, and
 * checks every bit; rep receives the level's report, *tokens the tokens
 * embedded. */
static void embed_on(fixture_t *f, const char *level, size_t n, sq_report_t *rep,
                     uint64_t *tokens)
{
    size_t d = (size_t)f->m.cfg.dim;
    float *want = malloc(n * d * sizeof *want), *got = malloc(d * sizeof *got);
    ck_assert_ptr_nonnull(want);
    ck_assert_ptr_nonnull(got);
    sq_bert_exec_t ex;
    sq_bert_qmodel_exec(&f->q, &ex);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_eq(sq_bert_embed(&f->m, sentences[i], want + i * d, NULL, &ex), 0);
    sq_report_init(rep, "minilm", "test", level, sq_target_find(NULL), 300.0);
    sq_dev_t *dev = sq_test_dev_open(level, DEV_MEM);
    sq_program_t *p;
    ck_assert_msg(sq_program_build_bert(&p, &f->q, dev, rep) == 0, "%s", sq_err_msg());
    sq_program_bert_exec(p, &ex);
    *tokens = 0;
    for (size_t i = 0; i < n; i++) {
        size_t t;
        sq_report_phase_begin(rep, dev, SQ_PHASE_PREFILL); /* a sentence is one step */
        ck_assert_msg(sq_bert_embed(&f->m, sentences[i], got, &t, &ex) == 0, "%s: %s", level,
                      sq_err_msg());
        sq_report_phase_end(rep, dev, 1, t);
        ck_assert_msg(!memcmp(want + i * d, got, d * sizeof *got),
                      "%s: sentence %zu differs from the golden host path", level, i);
        *tokens += t;
    }
    sq_program_free(p);
    /* the golden path is back on the host once the program is gone */
    ck_assert_ptr_null(f->q.scratch.runner.run);
    sq_dev_close(dev);
    free(want);
    free(got);
}

/* Every one of the 36 linears ran on the matmul unit, one GEMM per sentence
 * (its tokens batched into M). */
static void check_all_matmul(const fixture_t *f, const sq_report_t *rep, uint64_t tokens,
                             size_t sentences)
{
    ck_assert_uint_eq(rep->tokens, tokens);
    ck_assert_uint_eq(rep->n_ops, (size_t)f->m.cfg.n_layers * 6);
    for (size_t i = 0; i < rep->n_ops; i++) {
        ck_assert_str_eq(rep->ops[i].unit, "matmul");
        ck_assert_uint_eq(rep->ops[i].calls, sentences);
    }
}

/* The encoder's linears token by token, as sq_clinear_run gives them. */
static int per_token(void *ctx, int layer, sq_wkind_t kind, const float *x, size_t rows, float *y)
{
    sq_bert_qmodel_t *q = ctx;
    size_t n, k;
    sq_bert_wshape(&q->model->cfg, kind, &n, &k);
    int rc = 0;
    for (size_t t = 0; t < rows && !rc; t++)
        rc = sq_clinear_run(&q->layers[(size_t)layer * SQ_W_COUNT + kind], x + t * k, y + t * n,
                            q->mid, &q->scratch);
    return rc;
}

/* Batching a sentence's tokens into one GEMM per linear gives the bits of
 * one GEMM per token: per-channel int8 and int4, 2:4, and int4 groups (run
 * token by token). */
START_TEST(test_batched_equals_per_token)
{
    const char *recipes[] = {"w8a8", "w4", "2:4,w8a8", "w4g32"};
    for (size_t ri = 0; ri < sizeof recipes / sizeof recipes[0]; ri++) {
        fixture_t f;
        if (setup(&f, recipes[ri]))
            return;
        float want[384], got[384];
        sq_bert_exec_t batched, single = {.linear = per_token, .ctx = &f.q};
        sq_bert_qmodel_exec(&f.q, &batched);
        ck_assert_int_eq(sq_bert_embed(&f.m, sentences[1], want, NULL, &single), 0);
        ck_assert_int_eq(sq_bert_embed(&f.m, sentences[1], got, NULL, &batched), 0);
        ck_assert_msg(!memcmp(want, got, sizeof got), "%s: batched tokens differ", recipes[ri]);
        teardown(&f);
    }
}
END_TEST

START_TEST(test_w8a8_csim_model)
{
    fixture_t f;
    if (setup(&f, "w8a8"))
        return;
    sq_report_t rep;
    uint64_t tokens;
    embed_on(&f, "csim", 2, &rep, &tokens);
    ck_assert_uint_eq(tokens, 8 + 11);
    check_all_matmul(&f, &rep, tokens, 2);
    sq_report_free(&rep);

    embed_on(&f, "model", 3, &rep, &tokens);
    check_all_matmul(&f, &rep, tokens, 3);
    sq_dev_stats_t t;
    sq_report_totals(&rep, &t);
    /* every MAC counted; each int8 weight byte read once per sentence (the
     * tokens of a sentence share one pass over the weights) */
    size_t d = (size_t)f.m.cfg.dim, h = (size_t)f.m.cfg.hidden_dim;
    uint64_t weights = (uint64_t)f.m.cfg.n_layers * (4 * d * d + 2 * h * d);
    ck_assert_uint_eq(t.macs, tokens * weights);
    ck_assert_uint_ge(t.bytes_read, 3 * weights);
    ck_assert_uint_lt(t.bytes_read, 3 * weights * 3 / 2);
    /* 2 MACs per PE a cycle at most; batched sentences of 8-11 tokens keep
     * over half of the 16x16 array busy (m = 1 per token: 1/16) */
    ck_assert_uint_gt(t.cycles, t.macs / (2 * 16 * 16));
    ck_assert_uint_lt(t.cycles, 2 * t.macs / (2 * 16 * 16));
    /* a sentence's latency: the cycles, one launch and the transfers per linear */
    sq_report_latency_t l;
    ck_assert(sq_report_latency(&rep, SQ_PHASE_PREFILL, &l));
    ck_assert(l.device_counted);
    ck_assert_double_eq_tol(l.device_s, (double)t.cycles / 3 / 300e6, 1e-12);
    ck_assert_double_eq(l.runs, (double)f.m.cfg.n_layers * 6);
    ck_assert_double_gt(l.pcie_s, 0.0);
    sq_report_free(&rep);
    teardown(&f);
}
END_TEST

START_TEST(test_w8a8_rtl)
{
    if (&sq_level_rtl == NULL)
        return;
    fixture_t f;
    if (setup(&f, "w8a8"))
        return;
    sq_report_t rep;
    uint64_t tokens;
    embed_on(&f, "rtl", 2, &rep, &tokens);
    check_all_matmul(&f, &rep, tokens, 2);
    sq_dev_stats_t t;
    sq_report_totals(&rep, &t);
    ck_assert_uint_gt(t.cycles, 0);
    sq_report_free(&rep);
    teardown(&f);
}
END_TEST

/* fp32 leaves nothing for the unit: the embeddings are the host's and every
 * linear is reported there; embed says so, and refuses in one line what it
 * cannot run. */
START_TEST(test_fallback_and_refusal)
{
    fixture_t f;
    if (setup(&f, "fp32"))
        return;
    sq_report_t rep;
    uint64_t tokens;
    embed_on(&f, "model", 1, &rep, &tokens);
    ck_assert_uint_eq(rep.n_ops, (size_t)f.m.cfg.n_layers * 6);
    for (size_t i = 0; i < rep.n_ops; i++)
        ck_assert_str_eq(rep.ops[i].unit, "host");
    sq_dev_stats_t t;
    sq_report_totals(&rep, &t);
    ck_assert_uint_eq(t.macs, 0);
    sq_report_free(&rep);
    teardown(&f);

    char out[16384], err[4096];
    ck_assert_int_eq(sq_run_cli("embed --recipe fp32 --backend model --text 'Two words.'", out,
                                sizeof out, err, sizeof err),
                     0);
    ck_assert_msg(strstr(err, "36 of 36 linear calls ran on the host"), "%s", err);
    ck_assert_int_eq(sq_run_cli("embed --recipe w8:gptq --backend rtl --text 'Two words.'", out,
                                sizeof out, err, sizeof err),
                     2);
    ck_assert_msg(strstr(err, "calibration") && strchr(err, '\n') == err + strlen(err) - 1, "%s",
                  err);
}
END_TEST

Suite *bert_device_suite(void)
{
    Suite *s = suite_create("bert_device");
    tcase_add_test(sq_tcase(s, "csim_model", 120), test_w8a8_csim_model);
    tcase_add_test(sq_tcase(s, "rtl", 120), test_w8a8_rtl);
    tcase_add_test(sq_tcase(s, "fallback", 60), test_fallback_and_refusal);
    tcase_add_test(sq_tcase(s, "batched", 60), test_batched_equals_per_token);
    return s;
}
