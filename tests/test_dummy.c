/* Dummy models (compress/qmodel_dummy.c): the spec parser against the
 * published shapes, the built model in each integer format (one integer leaf
 * per linear, deterministic, no fp32 linears, within its --max-mem plan), and
 * the CLI: generate on the host and the model level gives the same token ids,
 * --timing-only counts the same cycles without computing, the integer layer
 * decodes several sequences at once as each alone, quality figures
 * are refused with one line, sweep leaves perplexity out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compress/qmodel.h"
#include "testutil.h"
#include "util/err.h"

#define SMALL "dummy:dim=64,hidden=96,layers=2,heads=4,kv_heads=2,vocab=100,seq=16"

START_TEST(test_config)
{
    sq_llama_config_t c;
    ck_assert_int_eq(sq_dummy_config("stories260K.bin", &c), 1);
    ck_assert_int_eq(sq_dummy_config("dummy:llama2-7b", &c), 0);
    ck_assert_int_eq(c.dim, 4096);
    ck_assert_int_eq(c.hidden_dim, 11008);
    ck_assert_int_eq(c.n_layers, 32);
    ck_assert_int_eq(c.n_kv_heads, 32);
    ck_assert_int_eq(c.vocab_size, 32000);
    ck_assert_int_eq(sq_dummy_config("dummy:llama2-13b", &c), 0);
    ck_assert_int_eq(c.dim, 5120);
    ck_assert_int_eq(c.n_layers, 40);
    ck_assert_int_eq(sq_dummy_config("dummy:tinyllama-1.1b", &c), 0);
    ck_assert_int_eq(c.n_heads, 32);
    ck_assert_int_eq(c.n_kv_heads, 4); /* GQA */
    ck_assert_int_eq(sq_dummy_config("dummy:smollm2-135m,seq=128,layers=3", &c), 0);
    ck_assert_int_eq(c.dim, 576);
    ck_assert_int_eq(c.n_heads, 9);
    ck_assert_int_eq(c.n_kv_heads, 3);
    ck_assert_int_eq(c.shared_classifier, 1);
    ck_assert_int_eq(c.seq_len, 128);
    ck_assert_int_eq(c.n_layers, 3);
    ck_assert_int_eq(sq_dummy_config(SMALL, &c), 0);
    ck_assert_int_eq(c.dim, 64);
    ck_assert_int_eq(c.n_kv_heads, 2);
    ck_assert_int_eq(c.seq_len, 16);
    ck_assert_int_eq(sq_dummy_config("dummy:dim=64,hidden=96,layers=2,heads=4,vocab=9,seq=8", &c),
                     0);
    ck_assert_int_eq(c.n_kv_heads, 4); /* kv_heads defaults to heads */
    static const char *const bad[] = {
        "dummy:",                                     /* nothing */
        "dummy:llama3",                               /* unknown preset */
        "dummy:dim=64,hidden=96",                     /* incomplete */
        "dummy:llama2-7b,depth=3",                    /* unknown key */
        "dummy:llama2-7b,layers=",                    /* empty value */
        "dummy:llama2-7b,layers=0",                   /* out of range */
        "dummy:llama2-7b,layers=3x",                  /* not a number */
        "dummy:llama2-7b,kv_heads=5",                 /* does not divide the heads */
        "dummy:dim=60,hidden=96,layers=2,heads=4,vocab=9,seq=8", /* odd head size */
        "dummy:layers=2,llama2-7b",                   /* a preset comes first */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(sq_dummy_config(bad[i], &c) == SQ_ERR_ARG, "%s accepted", bad[i]);
        ck_assert_msg(!strchr(sq_err_msg(), '\n'), "%s", sq_err_msg());
    }
}
END_TEST

static void check_model(const char *recipe, uint32_t flags, size_t group)
{
    sq_llama_config_t c;
    ck_assert_int_eq(sq_dummy_config(SMALL, &c), 0);
    sq_recipe_t r;
    ck_assert_int_eq(sq_recipe_parse(recipe, &r), 0);
    sq_qmodel_t q, q2;
    sq_llama_t m, m2;
    ck_assert_msg(sq_qmodel_dummy(&q, &m, &c, &r, 7) == 0, "%s", sq_err_msg());
    ck_assert_int_eq(sq_qmodel_dummy(&q2, &m2, &c, &r, 7) == 0, 1);
    ck_assert_ptr_null(m.w.wq); /* no fp32 linears */
    ck_assert_ptr_null(m.w.w2);
    ck_assert_ptr_nonnull(m.w.token_embedding);
    ck_assert(m.w.rms_final[c.dim - 1] == 1.0f);
    size_t bytes = 0;
    for (int l = 0; l < c.n_layers; l++)
        for (int kd = 0; kd < SQ_W_COUNT; kd++) {
            if (kd == SQ_W_CLS && l > 0)
                continue;
            const sq_clinear_t *cl = sq_qmodel_layer(&q, l, (sq_wkind_t)kd);
            const sq_qlinear_t *f = &cl->f[0];
            size_t n, k;
            sq_llama_wshape(&c, (sq_wkind_t)kd, &n, &k);
            ck_assert_int_eq(cl->nf, 1);
            ck_assert_int_eq(f->kind, SQ_QL_INT);
            ck_assert_uint_eq(f->n, n);
            ck_assert_uint_eq(f->k, k);
            /* the classifier is only quantized, as sq_qmodel_build leaves it */
            ck_assert_uint_eq(f->flags, kd == SQ_W_CLS ? flags & ~SQ_GEMM_SP24 : flags);
            ck_assert_uint_eq(f->group, group ? group : k);
            ck_assert(f->act_scale == 0.0f); /* per-token activations */
            /* the same seed, the same model */
            const sq_qlinear_t *g = &sq_qmodel_layer(&q2, l, (sq_wkind_t)kd)->f[0];
            ck_assert_int_eq(memcmp(f->w, g->w, n * sq_w_row_bytes(f->flags, k)), 0);
            /* values over the format's range, not constant */
            float *w = malloc(n * k * sizeof *w);
            ck_assert_int_eq(sq_qlinear_dequant(f, w), 0);
            size_t zero = 0;
            int pos = 0, neg = 0;
            for (size_t i = 0; i < n * k; i++) {
                zero += w[i] == 0.0f;
                pos |= w[i] > 0;
                neg |= w[i] < 0;
            }
            ck_assert(pos && neg);
            if (f->flags & SQ_GEMM_SP24)
                ck_assert_uint_ge(zero, n * k / 2);
            free(w);
            bytes += sq_clinear_bytes(cl);
        }
    uint64_t lin, other;
    ck_assert_int_eq(sq_dummy_plan(&c, &r, &lin, &other), 0);
    ck_assert_uint_ge(lin, bytes); /* the plan bounds what is built */
    ck_assert_uint_eq(other, ((uint64_t)c.vocab_size * c.dim + 5 * (uint64_t)c.dim) * 4);
    /* another seed, other weights */
    sq_qmodel_free(&q2);
    sq_llama_free(&m2);
    ck_assert_int_eq(sq_qmodel_dummy(&q2, &m2, &c, &r, 8), 0);
    ck_assert_int_ne(memcmp(q.layers[0].f[0].w, q2.layers[0].f[0].w, 64), 0);
    sq_qmodel_free(&q);
    sq_qmodel_free(&q2);
    sq_llama_free(&m);
    sq_llama_free(&m2);
}

START_TEST(test_formats)
{
    check_model("w8a8", 0, 0);
    check_model("w4g32", SQ_GEMM_W4, 32);
    check_model("2:4,w8a8", SQ_GEMM_SP24, 0);
    sq_llama_config_t c;
    ck_assert_int_eq(sq_dummy_config(SMALL, &c), 0);
    static const char *const refused[] = {"fp32", "w8a8:gptq", "w8a8s", "w8a8,lowrank:r=8",
                                          "w8a8,share:k=16"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        sq_recipe_t r;
        ck_assert_int_eq(sq_recipe_parse(refused[i], &r), 0);
        sq_qmodel_t q;
        sq_llama_t m;
        ck_assert_msg(sq_qmodel_dummy(&q, &m, &c, &r, 1) == SQ_ERR_ARG, "%s", refused[i]);
    }
}
END_TEST

START_TEST(test_cli)
{
    static char host[4096], dev[4096], err[8192];
    const char *gen = "generate --model " SMALL " --recipe w8a8 --steps 8 --temperature 0";
    char args[1024];
    ck_assert_msg(sq_run_cli(gen, host, sizeof host, err, sizeof err) == 0, "%s", err);
    ck_assert_uint_gt(strlen(host), 8); /* eight token ids */
    /* the linears on the model level: the host's bits */
    char json[] = "/tmp/sq_dummy_XXXXXX", json2[] = "/tmp/sq_dummy_XXXXXX";
    close(mkstemp(json));
    close(mkstemp(json2));
    snprintf(args, sizeof args, "%s --backend model --offload linears --report %s", gen, json);
    ck_assert_msg(sq_run_cli(args, dev, sizeof dev, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(dev, host);
    /* timing only: no text, the same cycles and MACs */
    snprintf(args, sizeof args, "%s --backend model --offload linears --timing-only --report %s",
             gen, json2);
    ck_assert_msg(sq_run_cli(args, dev, sizeof dev, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(dev, "");
    ck_assert_ptr_nonnull(strstr(err, "--timing-only"));
    double cyc = sq_report_number(json, "total", "cycles");
    ck_assert(cyc > 0);
    ck_assert(sq_report_number(json2, "total", "cycles") == cyc);
    ck_assert(sq_report_number(json2, "total", "macs") == sq_report_number(json, "total", "macs"));
    ck_assert(sq_report_number(json2, NULL, "runs_per_token") ==
              sq_report_number(json, NULL, "runs_per_token"));
    const char *files[] = {json, json2};
    for (int i = 0; i < 2; i++) {
        char svg[64];
        snprintf(svg, sizeof svg, "%s.svg", files[i]);
        unlink(files[i]);
        unlink(svg);
    }
    /* a prompt is token ids */
    snprintf(args, sizeof args, "%s --prompt '5 17 99'", gen);
    ck_assert_msg(sq_run_cli(args, dev, sizeof dev, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(!strncmp(dev, " 5 17 99 ", 9), "%s", dev);
    /* one line and exit 2 for each of these */
    static const char *const refused[] = {
        "generate --model " SMALL " --recipe w8a8 --prompt 'Once upon'", /* not ids */
        "generate --model " SMALL " --recipe w8a8 --prompt '100'",       /* past the vocab */
        "generate --model " SMALL " --steps 2",                          /* fp32 recipe */
        "generate --model dummy:llama2-7b --recipe w8a8 --max-mem 1G",   /* over the plan */
        "generate --model dummy:llama2-7b,heads=3 --recipe w8a8",        /* bad shape */
        "generate --model " SMALL " --recipe w8a8 --timing-only --backend ref",
        "eval --model " SMALL " --recipe w8a8 --text x",
        "compress --model " SMALL " --recipe w8a8 --report",
        "distill --model " SMALL " --text x",
        "eval --recipe w8a8 --text x --backend model --timing-only",
        "embed --text x --backend model --timing-only",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        ck_assert_msg(sq_run_cli(refused[i], dev, sizeof dev, err, sizeof err) == 2, "%s: %s",
                      refused[i], err);
        ck_assert_msg(strchr(err, '\n') == err + strlen(err) - 1, "%s: %s", refused[i], err);
    }
    /* the whole token on the device (the integer layer, calibrated on fixed
     * ids through the dummy's own linears): two sequences decoded at once
     * give each one's own text, and csim gives ref's */
    static char one[4096], two[4096], both[8192];
    const char *il = "generate --model " SMALL " --recipe w8a8 --steps 6 --temperature 0";
    snprintf(args, sizeof args, "%s --backend ref --prompt '5 6'", il);
    ck_assert_msg(sq_run_cli(args, one, sizeof one, err, sizeof err) == 0, "%s", err);
    snprintf(args, sizeof args, "%s --backend ref --prompt '7'", il);
    ck_assert_msg(sq_run_cli(args, two, sizeof two, err, sizeof err) == 0, "%s", err);
    snprintf(args, sizeof args, "%s --backend ref --prompt '5 6' --prompt '7'", il);
    ck_assert_msg(sq_run_cli(args, both, sizeof both, err, sizeof err) == 0, "%s", err);
    char joined[8192];
    snprintf(joined, sizeof joined, "%s%s", one, two);
    ck_assert_str_eq(both, joined);
    snprintf(args, sizeof args, "%s --backend csim --prompt '5 6'", il);
    ck_assert_msg(sq_run_cli(args, dev, sizeof dev, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(dev, one);
    /* the whole token timing-only (no calibration, nothing computed): the
     * cycles, bytes and runs of the computing run, two sequences at once.
     * Exact here because a 64-byte embedding row never straddles the vector
     * unit's 128-byte blocks: in general the gather's cycles follow the token
     * ids, which a timing-only run does not compute (bench/decode.sh bounds
     * that on SmolLM2). */
    for (int t = 0; t < 2; t++) {
        snprintf(args, sizeof args, "%s --backend model --prompt '5 6' --prompt '7'%s --report %s",
                 il, t ? " --timing-only" : "", t ? json2 : json);
        ck_assert_msg(sq_run_cli(args, dev, sizeof dev, err, sizeof err) == 0, "%s", err);
    }
    ck_assert(sq_report_number(json, NULL, "runs_per_token") == 1);
    static const char *const same[] = {"cycles", "stall_cycles", "bytes_read", "bytes_written",
                                       "commands"};
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++)
        ck_assert_msg(sq_report_number(json2, "total", same[i]) ==
                          sq_report_number(json, "total", same[i]), "%s", same[i]);
    for (int i = 0; i < 2; i++) {
        char svg[64];
        snprintf(svg, sizeof svg, "%s.svg", files[i]);
        unlink(files[i]);
        unlink(svg);
    }
    /* sweep runs it on the model level and leaves perplexity out */
    ck_assert_msg(sq_run_cli("sweep --model " SMALL " --tokens 2 --array 8x8 --timing-only", dev,
                             sizeof dev, err, sizeof err) == 0, "%s", err);
    ck_assert_ptr_nonnull(strstr(dev, "ppl: not measured"));
    ck_assert_ptr_nonnull(strstr(dev, "e2e us/tok"));
}
END_TEST

Suite *dummy_suite(void)
{
    Suite *s = suite_create("dummy");
    tcase_add_test(sq_tcase(s, "config", 30), test_config);
    tcase_add_test(sq_tcase(s, "formats", 60), test_formats);
    tcase_add_test(sq_tcase(s, "cli", 300), test_cli);
    return s;
}
