/* Training pass, distillation loss and compression constraints: the whole-
 * sequence forward against sq_llama_forward, every gradient against central
 * finite differences on a tiny random model, the constraint grids against the
 * golden numerics, and a short distillation run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/llama.h"
#include "sparq/numerics.h"
#include "testutil.h"
#include "train/constraint.h"
#include "train/distill.h"
#include "train/train.h"
#include "util/err.h"

static float frand(uint64_t *s, float lo, float hi)
{
    return lo + (hi - lo) * (float)(sq_test_rand(s) >> 40) / (float)(1 << 24);
}

/* A tiny model with GQA (4 query heads on 2 KV heads) and odd widths. */
static void tiny_model(sq_llama_t *m, int shared, uint64_t seed)
{
    sq_llama_config_t c = {.dim = 8, .hidden_dim = 12, .n_layers = 2, .n_heads = 4,
                           .n_kv_heads = 2, .vocab_size = 16, .seq_len = 8,
                           .shared_classifier = shared, .rope_theta = 10000.0f,
                           .norm_eps = 1e-5f};
    ck_assert_int_eq(sq_llama_alloc(m, &c), 0);
    float *p[12];
    size_t n[12];
    int cnt = sq_train_params(m, p, n);
    for (int i = 0; i < cnt; i++) {
        int gain = p[i] == m->w.rms_att || p[i] == m->w.rms_ffn || p[i] == m->w.rms_final;
        for (size_t j = 0; j < n[i]; j++)
            p[i][j] = gain ? frand(&seed, 0.7f, 1.3f) : frand(&seed, -0.6f, 0.6f);
    }
}

static const int tiny_tokens[8] = {1, 5, 9, 3, 15, 0, 7, 5};

START_TEST(test_forward_matches_kv_cache_path)
{
    for (int shared = 0; shared < 2; shared++) {
        sq_llama_t m;
        tiny_model(&m, shared, 7 + (uint64_t)shared);
        sq_train_t t;
        ck_assert_int_eq(sq_train_build(&t, &m.cfg, 8), 0);
        ck_assert_int_eq(sq_train_load(&t, &m), 0);
        ck_assert_int_eq(sq_train_forward(&t, tiny_tokens, 8), 0);
        sq_llama_state_t s;
        ck_assert_int_eq(sq_llama_state_build(&s, &m.cfg), 0);
        for (int pos = 0; pos < 8; pos++) {
            ck_assert_int_eq(sq_llama_forward(&m, &s, tiny_tokens[pos], pos, NULL), 0);
            for (int v = 0; v < 16; v++) {
                float a = t.logits[pos * 16 + v], b = s.logits[v];
                if (fabsf(a - b) > 1e-5f * (1.0f + fabsf(b)))
                    ck_abort_msg("shared %d pos %d logit %d: train %.7g, kv-cache %.7g", shared,
                                 pos, v, a, b);
            }
        }
        sq_llama_state_free(&s);
        sq_train_free(&t);
        sq_llama_free(&m);
    }
}
END_TEST

START_TEST(test_forward_stories260k)
{
    /* real widths (hidden 172 is not a multiple of the 8-wide tiles) and a
     * length that leaves partial causal tiles */
    sq_llama_t m;
    ck_assert_int_eq(sq_llama_load(SQ_MODEL_PATH, &m), 0);
    enum { N = 70 };
    int tok[N];
    uint64_t seed = 17;
    tok[0] = 1;
    for (int i = 1; i < N; i++)
        tok[i] = 3 + (int)(sq_test_rand(&seed) % 500);
    sq_train_t t;
    ck_assert_int_eq(sq_train_build(&t, &m.cfg, N), 0);
    ck_assert_int_eq(sq_train_load(&t, &m), 0);
    ck_assert_int_eq(sq_train_forward(&t, tok, N), 0);
    sq_llama_state_t s;
    ck_assert_int_eq(sq_llama_state_build(&s, &m.cfg), 0);
    int V = m.cfg.vocab_size;
    for (int pos = 0; pos < N; pos++) {
        ck_assert_int_eq(sq_llama_forward(&m, &s, tok[pos], pos, NULL), 0);
        for (int v = 0; v < V; v++) {
            float a = t.logits[pos * V + v], b = s.logits[v];
            if (fabsf(a - b) > 1e-4f * (1.0f + fabsf(b)))
                ck_abort_msg("pos %d logit %d: train %.7g, kv-cache %.7g", pos, v, a, b);
        }
    }
    sq_llama_state_free(&s);
    sq_train_free(&t);
    sq_llama_free(&m);
}
END_TEST

/* Loss = sum of coef * logits, so dlogits = coef; double-accumulated. */
static double probe_loss(sq_train_t *t, const sq_llama_t *m, const float *coef, int n)
{
    ck_assert_int_eq(sq_train_load(t, m), 0);
    ck_assert_int_eq(sq_train_forward(t, tiny_tokens, n), 0);
    double l = 0.0;
    for (int i = 0; i < n * m->cfg.vocab_size; i++)
        l += (double)coef[i] * t->logits[i];
    return l;
}

START_TEST(test_backward_finite_differences)
{
    for (int shared = 0; shared < 2; shared++) {
        sq_llama_t m, g;
        tiny_model(&m, shared, 11 + (uint64_t)shared);
        ck_assert_int_eq(sq_llama_alloc(&g, &m.cfg), 0);
        sq_train_t t;
        int n = 7; /* not the full context: rows past len must not leak in */
        ck_assert_int_eq(sq_train_build(&t, &m.cfg, 8), 0);
        float coef[8 * 16];
        uint64_t seed = 99;
        for (int i = 0; i < 8 * 16; i++)
            coef[i] = frand(&seed, -1.0f, 1.0f);
        probe_loss(&t, &m, coef, n);
        memcpy(t.dlogits, coef, sizeof(float) * (size_t)n * 16);
        ck_assert_int_eq(sq_train_backward(&t, &g), 0);

        float *p[12], *pg[12];
        size_t cnt[12];
        int arrays = sq_train_params(&m, p, cnt);
        sq_train_params(&g, pg, cnt);
        const float h = 4e-3f;
        size_t checked = 0;
        for (int a = 0; a < arrays; a++) {
            for (size_t j = 0; j < cnt[a]; j++) {
                float keep = p[a][j];
                p[a][j] = keep + h;
                double lp = probe_loss(&t, &m, coef, n);
                p[a][j] = keep - h;
                double lm = probe_loss(&t, &m, coef, n);
                p[a][j] = keep;
                double fd = (lp - lm) / (2.0 * h), an = pg[a][j];
                if (fabs(fd - an) > 2e-2 * fabs(fd) + 2e-3)
                    ck_abort_msg("shared %d array %d index %zu: backward %.6g, finite "
                                 "difference %.6g",
                                 shared, a, j, an, fd);
                checked++;
            }
        }
        ck_assert_uint_gt(checked, 1000);
        sq_train_free(&t);
        sq_llama_free(&g);
        sq_llama_free(&m);
    }
}
END_TEST

START_TEST(test_loss_gradient)
{
    enum { N = 3, V = 7 };
    float zs[N * V], zt[N * V], dz[N * V], tmp[N * V];
    int target[N] = {0, 6, 3};
    uint64_t seed = 5;
    for (int i = 0; i < N * V; i++) {
        zs[i] = frand(&seed, -3.0f, 3.0f);
        zt[i] = frand(&seed, -3.0f, 3.0f);
    }
    sq_distill_opts_t o;
    sq_distill_opts_default(&o);
    const float temps[] = {1.0f, 2.5f};
    for (int ti = 0; ti < 2; ti++) {
        o.temperature = temps[ti];
        o.ce_weight = ti ? 0.5f : 0.0f;
        double l0 = sq_distill_loss(zs, zt, target, N, V, &o, 1.0f, dz);
        ck_assert(l0 > 0.0);
        /* KL of a distribution with itself is 0 */
        ck_assert(fabs(sq_distill_loss(zt, zt, target, N, V, &(sq_distill_opts_t){
                           .temperature = o.temperature, .kl_weight = 1.0f}, 1.0f, tmp)) < 1e-6);
        for (int i = 0; i < N * V; i++) {
            const float h = 1e-2f;
            float keep = zs[i];
            zs[i] = keep + h;
            double lp = sq_distill_loss(zs, zt, target, N, V, &o, 1.0f, tmp);
            zs[i] = keep - h;
            double lm = sq_distill_loss(zs, zt, target, N, V, &o, 1.0f, tmp);
            zs[i] = keep;
            double fd = (lp - lm) / (2.0 * h);
            if (fabs(fd - dz[i]) > 1e-2 * fabs(fd) + 1e-4)
                ck_abort_msg("T %g logit %d: gradient %.6g, finite difference %.6g", o.temperature,
                             i, dz[i], fd);
        }
    }
}
END_TEST

START_TEST(test_sp24_mask_matches_encoder)
{
    /* k = 10: two full groups and a partial one */
    enum { N = 5, K = 10 };
    float w[N * K], out[N * K];
    uint64_t seed = 3;
    for (int i = 0; i < N * K; i++)
        w[i] = frand(&seed, -1.0f, 1.0f);
    w[0] = w[1] = w[2] = 0.25f; /* ties: the lower positions win */
    w[3] = -0.25f;
    sq_wconstraint_t wc = {0};
    ck_assert_int_eq(sq_wconstraint_mask_sp24(&wc, w, N, K), 0);
    ck_assert_int_eq(sq_wconstraint_grid(&wc, 8, 0), 0);
    ck_assert_int_eq(sq_wconstraint_apply(&wc, w, out, N, K), 0);
    ck_assert(wc.mask[0] && wc.mask[1] && !wc.mask[2] && !wc.mask[3]);
    for (int i = 0; i < N; i++) {
        int8_t dense[K], got[K], want[K], vals[6];
        uint8_t meta[2];
        sq_quant_i8(w + i * K, K, dense);
        sq_sp24_encode_row(dense, K, vals, meta);
        ck_assert_int_eq(sq_w_row_decode(SQ_GEMM_SP24, vals, meta, K, want), 0);
        sq_quant_i8(out + i * K, K, got);
        sq_assert_i8_eq(got, want, K);
        int kept = 0;
        for (int j = 0; j < 8; j++)
            kept += wc.mask[i * K + j];
        ck_assert_int_eq(kept, 4);
    }
    free(wc.mask);
}
END_TEST

START_TEST(test_int8_grid_roundtrip)
{
    /* 1 x 1, a zero row and an ordinary row with -max */
    enum { N = 3, K = 33 };
    float w[N * K], out[N * K], again[N * K];
    uint64_t seed = 8;
    for (int i = 0; i < N * K; i++)
        w[i] = frand(&seed, -2.0f, 2.0f);
    memset(w + K, 0, K * sizeof(float));
    w[2 * K + 4] = -3.0f;
    sq_wconstraint_t wc = {0};
    ck_assert_int_eq(sq_wconstraint_grid(&wc, 8, 0), 0);
    ck_assert_int_eq(sq_wconstraint_apply(&wc, w, out, N, K), 0);
    ck_assert_int_eq(sq_wconstraint_apply(&wc, out, again, N, K), 0);
    for (int i = 0; i < N; i++) {
        int8_t q0[K], q1[K];
        float s0 = sq_quant_i8(w + i * K, K, q0);
        float s1 = sq_quant_i8(out + i * K, K, q1);
        sq_assert_i8_eq(q1, q0, K);
        ck_assert_float_eq_tol(s1, s0, s0 * 1e-6f);
    }
    ck_assert_int_eq(memcmp(out, again, sizeof out), 0);
    float one = 0.3f, one_out;
    ck_assert_int_eq(sq_wconstraint_apply(&wc, &one, &one_out, 1, 1), 0);
    ck_assert_float_eq(one_out, 0.3f);
    ck_assert_int_eq(sq_wconstraint_grid(&wc, 5, 0), SQ_ERR_ARG);
}
END_TEST

START_TEST(test_int4_grid_groups)
{
    enum { K = 11, G = 4 };
    float w[K], out[K];
    uint64_t seed = 21;
    for (int i = 0; i < K; i++)
        w[i] = frand(&seed, -1.0f, 1.0f);
    sq_wconstraint_t wc = {0};
    ck_assert_int_eq(sq_wconstraint_grid(&wc, 4, G), 0);
    ck_assert_int_eq(sq_wconstraint_apply(&wc, w, out, 1, K), 0);
    for (int g = 0; g < K; g += G) {
        int len = g + G <= K ? G : K - g;
        float amax = 0.0f;
        for (int j = 0; j < len; j++)
            amax = fmaxf(amax, fabsf(w[g + j]));
        float s = amax / 7.0f;
        for (int j = 0; j < len; j++) {
            float q = out[g + j] / s;
            ck_assert_float_eq_tol(q, roundf(q), 1e-4f);
            ck_assert(fabsf(q) <= 7.0001f);
            ck_assert_float_eq_tol(out[g + j], w[g + j], s / 2 + 1e-6f);
        }
    }
}
END_TEST

START_TEST(test_keep_zero_pattern)
{
    sq_llama_t m;
    tiny_model(&m, 0, 4);
    /* prune head 1 of layer 1 (rows 2..3 of wq) and a few scattered weights */
    float *wq = (float *)sq_llama_wptr(&m, 1, SQ_W_Q);
    memset(wq + 2 * 8, 0, 2 * 8 * sizeof(float));
    float *w2 = (float *)sq_llama_wptr(&m, 0, SQ_W_2);
    w2[0] = w2[13] = w2[95] = 0.0f;
    sq_constraints_t c;
    ck_assert_int_eq(sq_constraints_build(&c, &m.cfg), 0);
    ck_assert_int_eq(sq_constraints_keep(&c, &m, 4, 0), 0);
    ck_assert_ptr_null(sq_constraints_at(&c, 0, SQ_W_Q)->mask);
    ck_assert_ptr_null(sq_constraints_at(&c, 0, SQ_W_CLS)->mask);
    const sq_wconstraint_t *q1 = sq_constraints_at(&c, 1, SQ_W_Q), *f = sq_constraints_at(&c, 0, SQ_W_2);
    for (int i = 0; i < 64; i++)
        ck_assert_int_eq(q1->mask[i], i < 16 || i >= 32);
    for (int i = 0; i < 96; i++)
        ck_assert_int_eq(f->mask[i], i != 0 && i != 13 && i != 95);
    /* int4 per row: every row's values are integers times max|row| / 7 */
    float before = sq_llama_wptr(&m, 0, SQ_W_K)[5];
    ck_assert_int_eq(sq_constraints_apply(&c, &m), 0);
    ck_assert_float_eq_tol(sq_llama_wptr(&m, 0, SQ_W_K)[5], before, 0.6f / 7 + 1e-6f);
    for (int l = 0; l < 2; l++) {
        const float *w = sq_llama_wptr(&m, l, SQ_W_1);
        for (int i = 0; i < 12; i++) {
            float amax = 0.0f;
            for (int j = 0; j < 8; j++)
                amax = fmaxf(amax, fabsf(w[i * 8 + j]));
            for (int j = 0; j < 8; j++) {
                float qv = w[i * 8 + j] / (amax / 7.0f);
                ck_assert_float_eq_tol(qv, roundf(qv), 1e-4f);
            }
        }
    }
    for (int i = 16; i < 32; i++)
        ck_assert_float_eq(sq_llama_wptr(&m, 1, SQ_W_Q)[i], 0.0f);
    sq_constraints_free(&c);
    sq_llama_free(&m);
}
END_TEST

START_TEST(test_distill_recovers_pruned_student)
{
    sq_llama_t teacher, student;
    tiny_model(&teacher, 1, 42);
    ck_assert_int_eq(sq_train_clone(&student, &teacher), 0);
    sq_constraints_t cons;
    ck_assert_int_eq(sq_constraints_build(&cons, &teacher.cfg), 0);
    for (int l = 0; l < teacher.cfg.n_layers; l++) {
        for (int kd = 0; kd < SQ_W_COUNT; kd++) {
            if (kd == SQ_W_CLS && l > 0)
                continue;
            size_t n, k;
            sq_llama_wshape(&teacher.cfg, (sq_wkind_t)kd, &n, &k);
            sq_wconstraint_t *wc = sq_constraints_at(&cons, l, (sq_wkind_t)kd);
            ck_assert_int_eq(sq_wconstraint_mask_sp24(wc, sq_llama_wptr(&teacher, l, kd), n, k), 0);
            ck_assert_int_eq(sq_wconstraint_grid(wc, 8, 0), 0);
        }
    }
    ck_assert_int_eq(sq_constraints_apply(&cons, &student), 0);
    sq_distill_data_t data;
    sq_distill_data_init(&data);
    ck_assert_int_eq(sq_distill_data_add_samples(&data, &teacher, 24, 9, 1.0f, 1.0f, 3), 0);
    ck_assert_uint_eq(data.n, 24);
    for (size_t i = 0; i < data.n; i++)
        ck_assert_int_eq(data.tok[data.off[i]], 1);

    sq_distill_hook_t hook;
    sq_constraints_hook(&cons, &hook);
    sq_distill_opts_t o;
    sq_distill_opts_default(&o);
    o.steps = 60;
    o.batch = 4;
    o.lr = 1e-2f;
    o.act8 = 1;
    sq_distill_stats_t st;
    double nll0, nll1;
    size_t nt0, nt1;
    ck_assert_int_eq(sq_distill_data_nll(&student, &data, NULL, &nll0, &nt0), 0);
    ck_assert_int_eq(sq_distill_run(&teacher, &student, &data, &hook, &o, &st), 0);
    ck_assert_int_eq(sq_distill_data_nll(&student, &data, NULL, &nll1, &nt1), 0);
    ck_assert_uint_eq(nt0, nt1);
    ck_assert_msg(st.last_loss < 0.5 * st.first_loss, "loss %g -> %g", st.first_loss,
                  st.last_loss);
    ck_assert_msg(nll1 < nll0, "nll %g -> %g", nll0, nll1);

    /* the trained student is exactly on its constraints: 2:4 and the int8
     * grid, so the w8a8 recipe's sq_quant_i8 gives back its integers */
    for (int l = 0; l < student.cfg.n_layers; l++) {
        for (int kd = 0; kd < SQ_W_COUNT; kd++) {
            if (kd == SQ_W_CLS && l > 0)
                continue;
            size_t n, k;
            sq_llama_wshape(&student.cfg, (sq_wkind_t)kd, &n, &k);
            const sq_wconstraint_t *wc = sq_constraints_at(&cons, l, (sq_wkind_t)kd);
            const float *w = sq_llama_wptr(&student, l, (sq_wkind_t)kd);
            int8_t q[16];
            for (size_t i = 0; i < n; i++) {
                float s = sq_quant_i8(w + i * k, k, q);
                for (size_t j = 0; j < k; j++) {
                    if (!wc->mask[i * k + j])
                        ck_assert_int_eq(q[j], 0);
                    ck_assert_float_eq(w[i * k + j], (float)q[j] * s);
                }
            }
        }
    }
    sq_distill_data_free(&data);
    sq_constraints_free(&cons);
    sq_llama_free(&student);
    sq_llama_free(&teacher);
}
END_TEST

START_TEST(test_bad_arguments)
{
    sq_llama_t m;
    tiny_model(&m, 1, 1);
    sq_train_t t;
    ck_assert_int_eq(sq_train_build(&t, &m.cfg, 9), SQ_ERR_ARG);
    ck_assert_int_eq(sq_train_build(&t, &m.cfg, 0), SQ_ERR_ARG);
    ck_assert_int_eq(sq_train_build(&t, &m.cfg, 4), 0);
    ck_assert_int_eq(sq_train_forward(&t, tiny_tokens, 3), SQ_ERR_ARG); /* not loaded */
    ck_assert_int_eq(sq_train_load(&t, &m), 0);
    ck_assert_int_eq(sq_train_forward(&t, tiny_tokens, 5), SQ_ERR_ARG);
    int bad[2] = {1, 16};
    ck_assert_int_eq(sq_train_forward(&t, bad, 2), SQ_ERR_ARG);
    sq_train_free(&t);

    sq_distill_data_t d;
    sq_distill_data_init(&d);
    sq_distill_opts_t o;
    sq_distill_opts_default(&o);
    sq_distill_stats_t st;
    ck_assert_int_eq(sq_distill_run(&m, &m, &d, NULL, &o, &st), SQ_ERR_ARG); /* no data */
    ck_assert_int_eq(sq_distill_data_add_samples(&d, &m, 1, 10, 1.0f, 1.0f, 1), SQ_ERR_ARG);
    ck_assert_int_eq(sq_distill_data_add_samples(&d, &m, 1, 9, 1.0f, 1.0f, 1), 0);
    o.temperature = 0.0f;
    ck_assert_int_eq(sq_distill_run(&m, &m, &d, NULL, &o, &st), SQ_ERR_ARG);
    sq_distill_data_free(&d);
    sq_llama_free(&m);
}
END_TEST

#define MODEL_ARGS "--model " SQ_MODEL_PATH " --tokenizer " SQ_TOK_PATH

static char out[1 << 14], err[4096];

START_TEST(test_cli_distill)
{
    static const char *bad[] = {
        "distill " MODEL_ARGS,                                     /* no --text */
        "distill " MODEL_ARGS " --text /nonexistent/x.txt",
        "distill " MODEL_ARGS " --text %s --quant w5",
        "distill " MODEL_ARGS " --text %s --prune 3:4",
        "distill " MODEL_ARGS " --text %s --steps -1",
        "distill " MODEL_ARGS " --text %s --len 1",
        "distill " MODEL_ARGS " --text %s --bogus",
        "distill --model /nonexistent.bin --text %s",
    };
    const char story[] = "Once upon a time, a cat sat on a mat.<|endoftext|>\nTom had a red "
                         "ball. He liked to play with it.\n";
    char *text = sq_tmpfile(story, sizeof story - 1);
    char args[1024];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(args, sizeof args, bad[i], text);
        int rc = sq_run_cli(args, out, sizeof out, err, sizeof err);
        ck_assert_msg(rc == 2, "'%s' exited %d, want 2 (stderr: %s)", args, rc, err);
        size_t n = strlen(err);
        ck_assert_msg(n > 0 && strchr(err, '\n') == err + n - 1, "'%s': want one error line, "
                      "got '%s'", args, err);
    }
    char *ckpt = sq_tmpfile("", 0);
    snprintf(args, sizeof args,
             "distill " MODEL_ARGS " --text %s --calib %s --steps 3 --batch 2 --samples 2 "
             "--heldout 1 --len 24 --out %s",
             text, text, ckpt);
    int rc = sq_run_cli(args, out, sizeof out, err, sizeof err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_ptr_nonnull(strstr(out, "distilled  w8a8      eval ppl"));
    /* trained on the scored stories: one warning line says so */
    ck_assert_msg(strstr(err, "warning: 2 scored stories were also calibrated or trained on"),
                  "no overlap warning: %s", err);
    /* the checkpoint loads and is 2:4 + int8: every group of 4 in wq keeps
     * at most 2 and the rows are on sq_quant_i8's grid */
    sq_llama_t m;
    ck_assert_int_eq(sq_llama_load(ckpt, &m), 0);
    const float *wq = sq_llama_wptr(&m, 2, SQ_W_Q);
    for (int g = 0; g < 64 * 64 / 4; g++) {
        int nz = 0;
        for (int j = 0; j < 4; j++)
            nz += wq[g * 4 + j] != 0.0f;
        ck_assert_int_le(nz, 2);
    }
    int8_t q[64];
    float s = sq_quant_i8(wq, 64, q);
    for (int j = 0; j < 64; j++)
        ck_assert_float_eq(wq[j], (float)q[j] * s);
    sq_llama_free(&m);
    unlink(ckpt);
    unlink(text);
    free(ckpt);
    free(text);
}
END_TEST

Suite *train_suite(void)
{
    Suite *s = suite_create("train");
    TCase *tc = sq_tcase(s, "train", 60);
    tcase_add_test(tc, test_forward_matches_kv_cache_path);
    tcase_add_test(tc, test_forward_stories260k);
    tcase_add_test(tc, test_backward_finite_differences);
    tcase_add_test(tc, test_loss_gradient);
    tcase_add_test(tc, test_sp24_mask_matches_encoder);
    tcase_add_test(tc, test_int8_grid_roundtrip);
    tcase_add_test(tc, test_int4_grid_groups);
    tcase_add_test(tc, test_keep_zero_pattern);
    tcase_add_test(tc, test_distill_recovers_pruned_student);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_cli_distill);
    return s;
}
