/* The compiler and executor: a compressed model on every device level gives
 * the same bits, on stories260K and on a synthetic model whose shapes fill
 * nothing evenly; each level is compared with code other than its own (csim
 * with the golden host path, the rest with csim); the report says where ops
 * ran. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compress/qmodel.h"
#include "model/attn_exec.h"
#include "model/llama.h"
#include "model/sampler.h"
#include "report/report.h"
#include "runtime/device.h"
#include "sched/program.h"
#include "testutil.h"
#include "util/err.h"

extern const sq_level_ops_t sq_level_rtl __attribute__((weak));

#define MODEL_ARGS "--model " SQ_MODEL_PATH " --tokenizer " SQ_TOK_PATH

/* csim first: the others are compared with it */
static const char *const levels[] = {"csim", "ref", "rtl", "model", "opencl"};

static int level_built(const char *level)
{
    return strcmp(level, "rtl") || &sq_level_rtl != NULL;
}

/* Dims chosen to fill no 16x16 tile and no int4 group evenly. */
static void synthetic(sq_llama_t *m)
{
    sq_llama_config_t c = {.dim = 40, .hidden_dim = 100, .n_layers = 2, .n_heads = 4,
                           .n_kv_heads = 2, .vocab_size = 77, .seq_len = 16,
                           .shared_classifier = 0, .rope_theta = 10000.0f, .norm_eps = 1e-5f};
    ck_assert_int_eq(sq_llama_alloc(m, &c), 0);
    uint64_t st = 12345;
    float *w = m->storage;
    size_t total = (size_t)(m->w.wcls - w) + (size_t)c.vocab_size * c.dim;
    for (size_t i = 0; i < total; i++)
        w[i] = (float)((int64_t)(sq_test_rand(&st) % 2001) - 1000) / 4000.0f;
    for (int i = 0; i < c.n_layers * c.dim; i++)
        m->w.rms_att[i] = m->w.rms_ffn[i] = 1.0f;
    for (int i = 0; i < c.dim; i++)
        m->w.rms_final[i] = 1.0f;
}

/* Greedy tokens from BOS, their logits concatenated into logits_out. */
static void run_tokens(const sq_llama_t *m, const sq_llama_exec_t *ex, int n, int *tokens,
                       float *logits_out)
{
    sq_llama_state_t s;
    ck_assert_int_eq(sq_llama_state_build(&s, &m->cfg), 0);
    int tok = 1;
    for (int pos = 0; pos < n; pos++) {
        ck_assert_msg(sq_llama_forward(m, &s, tok, pos, ex) == 0, "%s", sq_err_msg());
        memcpy(logits_out + (size_t)pos * m->cfg.vocab_size, s.logits,
               (size_t)m->cfg.vocab_size * sizeof(float));
        tok = sq_argmax(s.logits, m->cfg.vocab_size);
        tokens[pos] = tok;
    }
    sq_llama_state_free(&s);
}

/* Asserts equal tokens and bit-equal logits of two runs. */
static void assert_same(const char *what, const int *ta, const float *la, const int *tb,
                        const float *lb, int n, size_t nl)
{
    ck_assert_msg(memcmp(ta, tb, (size_t)n * sizeof(int)) == 0, "%s: tokens differ", what);
    for (size_t i = 0; i < nl; i++)
        ck_assert_msg(memcmp(&la[i], &lb[i], sizeof(float)) == 0,
                      "%s: logit %zu differs: %.9g vs %.9g", what, i, la[i], lb[i]);
}

/* Every built level gives the same bits, each compared with code other than
 * its own: the csim level (the HLS kernels) with the golden host path
 * (sq_gemm_ref), and every other level with csim, since ref and model compute
 * with sq_gemm_ref themselves. */
static void levels_agree(const sq_llama_t *m, const char *recipe, int n)
{
    sq_recipe_t r;
    ck_assert_msg(sq_recipe_parse(recipe, &r) == 0, "%s", sq_err_msg());
    sq_qmodel_t q;
    ck_assert_msg(sq_qmodel_build(&q, m, &r) == 0, "%s: %s", recipe, sq_err_msg());
    size_t nl = (size_t)n * m->cfg.vocab_size;
    float *host = malloc(nl * sizeof(float)), *csim = malloc(nl * sizeof(float));
    float *got = malloc(nl * sizeof(float));
    int host_t[64], csim_t[64], got_t[64];
    sq_llama_exec_t ex;
    sq_qmodel_exec(&q, &ex);
    run_tokens(m, &ex, n, host_t, host);
    for (size_t li = 0; li < sizeof levels / sizeof levels[0]; li++) {
        if (!level_built(levels[li]))
            continue;
        int is_csim = !strcmp(levels[li], "csim");
        sq_dev_config_t cfg;
        sq_dev_config_default(&cfg, levels[li]);
        cfg.mem_bytes = 16u << 20;
        sq_dev_t *dev;
        ck_assert_msg(sq_dev_open(&cfg, &dev) == 0, "%s", sq_err_msg());
        sq_report_t rep;
        sq_report_init(&rep, "m", recipe, levels[li], NULL, 300);
        sq_program_t *p;
        ck_assert_msg(sq_program_build(&p, &q, dev, &rep) == 0, "%s", sq_err_msg());
        sq_llama_exec_t dex;
        sq_program_exec(p, &dex);
        run_tokens(m, &dex, n, is_csim ? csim_t : got_t, is_csim ? csim : got);
        char what[96];
        snprintf(what, sizeof what, "%s on %s vs %s", recipe, levels[li],
                 is_csim ? "the golden host path" : "csim");
        if (is_csim)
            assert_same(what, host_t, host, csim_t, csim, n, nl);
        else
            assert_same(what, csim_t, csim, got_t, got, n, nl);
        /* every integer layer ran on the matmul unit, the rest on the host */
        ck_assert_uint_eq(rep.tokens, (uint64_t)n);
        size_t matmul = 0, on_host = 0;
        for (size_t i = 0; i < rep.n_ops; i++) {
            if (!strcmp(rep.ops[i].unit, "matmul")) {
                matmul++;
                ck_assert_uint_gt(rep.ops[i].s.macs, 0);
                ck_assert_uint_gt(rep.ops[i].s.bytes_read, 0);
            } else {
                on_host++;
            }
        }
        ck_assert_uint_eq(matmul, (size_t)m->cfg.n_layers * 7 + 1);
        ck_assert_uint_ge(on_host, (size_t)m->cfg.n_layers * 7);
        sq_program_free(p);
        sq_report_free(&rep);
        sq_dev_close(dev);
    }
    free(host);
    free(csim);
    free(got);
    sq_qmodel_free(&q);
}

START_TEST(test_synthetic_odd_shapes)
{
    sq_llama_t m;
    synthetic(&m);
    levels_agree(&m, "w8a8", 6);
    levels_agree(&m, "w4g32", 6);
    levels_agree(&m, "2:4", 6);
    sq_llama_free(&m);
}
END_TEST

START_TEST(test_stories260k_32_tokens)
{
    sq_llama_t m;
    ck_assert_int_eq(sq_llama_load(SQ_MODEL_PATH, &m), 0);
    levels_agree(&m, "w8a8", 32);
    sq_llama_free(&m);
}
END_TEST

/* Attention on the attention unit inside the model, with a combined sparse
 * pattern: csim gives the logits of the golden integer attention on the host,
 * and every other level those of csim. */
START_TEST(test_attention_unit_in_model)
{
    sq_llama_t m;
    ck_assert_int_eq(sq_llama_load(SQ_MODEL_PATH, &m), 0);
    sq_recipe_t r;
    ck_assert_int_eq(sq_recipe_parse("w8a8", &r), 0);
    sq_qmodel_t q;
    ck_assert_int_eq(sq_qmodel_build(&q, &m, &r), 0);
    const int n = 10;
    size_t nl = (size_t)n * m.cfg.vocab_size;
    float *want = malloc(nl * sizeof(float)), *got = malloc(nl * sizeof(float));
    float *csim = malloc(nl * sizeof(float));
    int want_t[16], got_t[16], csim_t[16];
    const char *spec = "window:4,global:1,topk:3";
    sq_attn_exec_t ae;
    ck_assert_int_eq(sq_attn_exec_init(&ae, &m.cfg, spec, 1), 0);
    sq_llama_exec_t ex;
    memset(&ex, 0, sizeof ex);
    sq_qmodel_exec(&q, &ex);
    sq_attn_exec_install(&ae, &ex);
    run_tokens(&m, &ex, n, want_t, want);
    sq_attn_exec_free(&ae);
    for (size_t li = 0; li < sizeof levels / sizeof levels[0]; li++) {
        if (!level_built(levels[li]))
            continue;
        sq_dev_config_t cfg;
        sq_dev_config_default(&cfg, levels[li]);
        cfg.mem_bytes = 16u << 20;
        sq_dev_t *dev;
        ck_assert_msg(sq_dev_open(&cfg, &dev) == 0, "%s", sq_err_msg());
        sq_report_t rep;
        sq_report_init(&rep, "m", "w8a8", levels[li], NULL, 300);
        sq_program_t *p;
        ck_assert_msg(sq_program_build(&p, &q, dev, &rep) == 0, "%s", sq_err_msg());
        sq_llama_exec_t dex;
        sq_program_exec(p, &dex);
        ck_assert_int_eq(sq_attn_exec_init(&ae, &m.cfg, spec, 1), 0);
        sq_attn_exec_install(&ae, &dex);
        ck_assert_msg(sq_program_attach_attn(p, &ae) == 0, "%s", sq_err_msg());
        /* csim against the golden host attention, the rest against csim */
        int is_csim = !strcmp(levels[li], "csim");
        run_tokens(&m, &dex, n, is_csim ? csim_t : got_t, is_csim ? csim : got);
        if (is_csim)
            assert_same("attention on csim vs the golden host path", want_t, want, csim_t, csim,
                        n, nl);
        else
            assert_same(levels[li], csim_t, csim, got_t, got, n, nl);
        /* every layer's attention ran on the attention unit */
        size_t on_unit = 0;
        for (size_t i = 0; i < rep.n_ops; i++)
            if (!strcmp(rep.ops[i].op, "attn")) {
                ck_assert_str_eq(rep.ops[i].unit, "attention");
                ck_assert_uint_eq(rep.ops[i].calls, (uint64_t)n);
                on_unit++;
            }
        ck_assert_uint_eq(on_unit, (size_t)m.cfg.n_layers);
        sq_attn_exec_free(&ae);
        sq_program_free(p);
        sq_report_free(&rep);
        sq_dev_close(dev);
    }
    free(want);
    free(got);
    free(csim);
    sq_qmodel_free(&q);
    sq_llama_free(&m);
}
END_TEST

START_TEST(test_cli_backends_and_report)
{
    static char ref[1 << 14], out[1 << 14], err[1 << 14];
    ck_assert_int_eq(sq_run_cli("generate " MODEL_ARGS " --recipe w8a8 --steps 32 "
                                "--temperature 0", ref, sizeof ref, err, sizeof err), 0);
    char json[] = "/tmp/sq_report_XXXXXX";
    int fd = mkstemp(json);
    close(fd);
    char args[512];
    snprintf(args, sizeof args, "generate " MODEL_ARGS " --recipe w8a8 --steps 32 "
             "--temperature 0 --offload linears --backend csim --report %s --target u280", json);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 0);
    ck_assert_str_eq(out, ref);
    ck_assert_ptr_nonnull(strstr(err, "matmul"));
    size_t n;
    char *text = sq_slurp(json, &n);
    ck_assert_ptr_nonnull(text);
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    ck_assert_str_eq(cJSON_GetObjectItem(root, "level")->valuestring, "csim");
    ck_assert_str_eq(cJSON_GetObjectItem(root, "target")->valuestring, "u280");
    ck_assert_int_eq((int)cJSON_GetObjectItem(root, "tokens")->valuedouble, 32);
    cJSON *ops = cJSON_GetObjectItem(root, "ops");
    ck_assert_int_gt(cJSON_GetArraySize(ops), 40);
    cJSON_Delete(root);
    free(text);
    char svg[64];
    snprintf(svg, sizeof svg, "%s.svg", json);
    ck_assert_int_eq(access(svg, F_OK), 0);
    unlink(svg);
    unlink(json);
    /* bad values are one-line usage errors */
    ck_assert_int_eq(sq_run_cli("generate " MODEL_ARGS " --backend gpu", out, sizeof out, err,
                                sizeof err), 2);
    ck_assert_ptr_nonnull(strstr(err, "--backend"));
    ck_assert_int_eq(sq_run_cli("eval " MODEL_ARGS " --text x --target u999", out, sizeof out,
                                err, sizeof err), 2);
    ck_assert_int_eq(sq_run_cli("eval " MODEL_ARGS " --text x --clock-mhz 0", out, sizeof out,
                                err, sizeof err), 2);
}
END_TEST

/* --attn on generate and eval: the attention unit of a level gives the text
 * and the attention line of the golden host attention; a bad spec is a usage
 * error. */
START_TEST(test_cli_attn)
{
    static char ref[1 << 14], out[1 << 14], rerr[1 << 14], err[1 << 14];
    const char *gen = "generate " MODEL_ARGS " --recipe w8a8 --steps 24 --temperature 0 "
                      "--attn window:8,global:2";
    ck_assert_int_eq(sq_run_cli(gen, ref, sizeof ref, rerr, sizeof rerr), 0);
    char args[512];
    snprintf(args, sizeof args, "%s --offload linears --backend csim", gen);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 0);
    ck_assert_str_eq(out, ref);
    const char *line = strstr(rerr, "attn density ");
    ck_assert_ptr_nonnull(line);
    ck_assert_ptr_nonnull(strstr(err, line));
    char text[] = "/tmp/sq_attn_text_XXXXXX";
    int fd = mkstemp(text);
    static const char story[] = "Once upon a time, there was a little dog. He liked to run.";
    ck_assert_int_eq(write(fd, story, sizeof story - 1), (ssize_t)(sizeof story - 1));
    close(fd);
    snprintf(args, sizeof args, "eval " MODEL_ARGS " --text %s --attn topk:4", text);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(out, "ppl "));
    ck_assert_ptr_nonnull(strstr(out, "attn density "));
    unlink(text);
    ck_assert_int_eq(sq_run_cli("generate " MODEL_ARGS " --attn window:x", out, sizeof out, err,
                                sizeof err), 2);
    ck_assert_ptr_nonnull(strstr(err, "window:x"));
}
END_TEST

Suite *program_suite(void)
{
    Suite *s = suite_create("program");
    TCase *tc = sq_tcase(s, "levels", 600);
    tcase_add_test(tc, test_synthetic_odd_shapes);
    tcase_add_test(tc, test_stories260k_32_tokens);
    tcase_add_test(tc, test_attention_unit_in_model);
    tcase_add_test(tc, test_cli_backends_and_report);
    tcase_add_test(tc, test_cli_attn);
    return s;
}
