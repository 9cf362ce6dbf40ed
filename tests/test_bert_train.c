/* BERT distillation (host/train/bert_train.h): the training forward equals
 * sq_bert_forward, every gradient matches central finite differences of the
 * objective, and a short run on a tiny encoder lowers the loss while keeping
 * the 2:4 mask and the int8 grid. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compress/bert_compress.h"
#include "model/bert.h"
#include "sparq/numerics.h"
#include "testutil.h"
#include "train/bert_train.h"
#include "train/constraint.h"
#include "util/err.h"

enum { V = 12, D = 8, H = 16, NH = 2, L = 2, P = 8 };

/* A random encoder laid out as sq_bert_load lays it out (no tokenizer). */
static void tiny(sq_bert_t *m, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    m->cfg = (sq_bert_config_t){.vocab_size = V, .dim = D, .n_layers = L, .n_heads = NH,
                                .hidden_dim = H, .max_pos = P, .n_types = 1, .norm_eps = 1e-12f};
    m->max_tokens = P;
    sq_bert_weights_t *w = &m->w;
    float **slots[] = {&w->word_emb, &w->pos_emb, &w->type_emb, &w->emb_ln_w, &w->emb_ln_b,
                       &w->wq, &w->wk, &w->wv, &w->wo, &w->bq, &w->bk, &w->bv, &w->bo,
                       &w->ln1_w, &w->ln1_b, &w->w1, &w->b1, &w->w2, &w->b2, &w->ln2_w,
                       &w->ln2_b};
    size_t sizes[] = {V * D, P * D, D, D, D, L * D * D, L * D * D, L * D * D, L * D * D, L * D,
                      L * D, L * D, L * D, L * D, L * D, L * H * D, L * H, L * D * H, L * D,
                      L * D, L * D};
    size_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        total += sizes[i];
    float *p = m->storage = malloc(total * sizeof *p);
    uint64_t st = seed;
    for (size_t i = 0; i < total; i++)
        p[i] = (float)((double)(sq_test_rand(&st) >> 11) / (double)(1ull << 53) - 0.5);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        *slots[i] = p;
        p += sizes[i];
    }
    /* LayerNorm gains near 1, as trained encoders have them */
    float *gains[] = {w->emb_ln_w, w->ln1_w, w->ln2_w};
    size_t counts[] = {D, L * D, L * D};
    for (size_t g = 0; g < 3; g++)
        for (size_t i = 0; i < counts[g]; i++)
            gains[g][i] += 1.0f;
}

static const int32_t IDS[] = {2, 5, 7, 1, 9, 3};
#define N (sizeof IDS / sizeof IDS[0])

START_TEST(test_forward_matches_encoder)
{
    sq_bert_t m;
    tiny(&m, 5);
    float *states = malloc(L * N * D * sizeof *states), *x = malloc(N * D * sizeof *x);
    ck_assert_int_eq(sq_bert_train_states(&m, IDS, N, states), 0);
    ck_assert_int_eq(sq_bert_forward(&m, IDS, N, x, NULL), 0);
    for (size_t i = 0; i < N * D; i++)
        ck_assert_msg(fabsf(states[(L - 1) * N * D + i] - x[i]) < 1e-5f, "hidden %zu: %g vs %g",
                      i, (double)states[(L - 1) * N * D + i], (double)x[i]);
    free(states);
    free(x);
    free(m.storage);
}
END_TEST

static double loss_of(const sq_bert_t *m, const float *t)
{
    double l;
    ck_assert_int_eq(sq_bert_train_step(m, IDS, N, t, 0, 1.0f, NULL, &l), 0);
    return l;
}

START_TEST(test_gradients)
{
    sq_bert_t teacher, m, g;
    tiny(&teacher, 5);
    tiny(&m, 6);
    ck_assert_int_eq(sq_bert_train_copy(&m, &g), 0);
    memset(g.storage, 0, (size_t)(g.w.ln2_b - g.storage + L * D) * sizeof(float));
    float *t = malloc(L * N * D * sizeof *t);
    ck_assert_int_eq(sq_bert_train_states(&teacher, IDS, N, t), 0);
    double l0;
    ck_assert_int_eq(sq_bert_train_step(&m, IDS, N, t, 0, 1.0f, &g, &l0), 0);
    ck_assert(l0 > 0);
    /* every trained array, a few entries each */
    float *arrays[] = {m.w.wq, m.w.wk, m.w.wv, m.w.wo, m.w.w1, m.w.w2, m.w.bq, m.w.bk,
                       m.w.bv, m.w.bo, m.w.b1, m.w.b2, m.w.ln1_w, m.w.ln1_b, m.w.ln2_w,
                       m.w.ln2_b};
    size_t lens[] = {L * D * D, L * D * D, L * D * D, L * D * D, L * H * D, L * D * H, L * D,
                     L * D, L * D, L * D, L * H, L * D, L * D, L * D, L * D, L * D};
    uint64_t st = 9;
    for (size_t a = 0; a < sizeof arrays / sizeof arrays[0]; a++)
        for (int probe = 0; probe < 6; probe++) {
            size_t i = (size_t)(sq_test_rand(&st) % lens[a]);
            float *w = arrays[a] + i, keep = *w;
            const float eps = 3e-3f;
            *w = keep + eps;
            double up = loss_of(&m, t);
            *w = keep - eps;
            double down = loss_of(&m, t);
            *w = keep;
            double fd = (up - down) / (2.0 * eps);
            double an = g.storage[arrays[a] - m.storage + i];
            ck_assert_msg(fabs(fd - an) <= 5e-3 * fabs(fd) + 1e-4,
                          "array %zu entry %zu: finite difference %.6g, backward %.6g", a, i, fd,
                          an);
        }
    free(t);
    sq_bert_train_free_copy(&g);
    free(m.storage);
    free(teacher.storage);
}
END_TEST

/* The student starts as the teacher pruned 2:4 on the int8 grid, trains a
 * few steps, lowers the loss and keeps both constraints. */
START_TEST(test_short_distill)
{
    sq_bert_t teacher, student;
    tiny(&teacher, 5);
    ck_assert_int_eq(sq_bert_train_copy(&teacher, &student), 0);
    sq_wconstraint_t cons[L * SQ_W_COUNT];
    memset(cons, 0, sizeof cons);
    const sq_wkind_t kinds[] = {SQ_W_Q, SQ_W_K, SQ_W_V, SQ_W_O, SQ_W_1, SQ_W_2};
    for (int l = 0; l < L; l++)
        for (int i = 0; i < 6; i++) {
            size_t n, k;
            sq_bert_wshape(&teacher.cfg, kinds[i], &n, &k);
            sq_wconstraint_t *wc = &cons[l * SQ_W_COUNT + kinds[i]];
            ck_assert_int_eq(sq_wconstraint_mask_sp24(wc, sq_bert_wptr(&teacher, l, kinds[i]), n, k), 0);
            ck_assert_int_eq(sq_wconstraint_grid(wc, 8, k), 0);
        }
    int32_t s1[] = {2, 5, 7, 1}, s2[] = {3, 3, 8, 9, 10, 4}, s3[] = {6, 11};
    int32_t *seq[] = {s1, s2, s3};
    size_t len[] = {4, 6, 2};
    sq_distill_opts_t o;
    sq_distill_opts_default(&o);
    o.steps = 40;
    o.batch = 3;
    o.lr = 1e-2f;
    o.act8 = 1;
    sq_distill_stats_t stats;
    ck_assert_int_eq(sq_bert_distill(&teacher, &student, cons, seq, len, 3, &o, &stats), 0);
    ck_assert_msg(stats.last_loss < 0.5 * stats.first_loss, "loss %g -> %g", stats.first_loss,
                  stats.last_loss);
    for (int l = 0; l < L; l++)
        for (int i = 0; i < 6; i++) {
            size_t n, k;
            sq_bert_wshape(&teacher.cfg, kinds[i], &n, &k);
            const float *w = sq_bert_wptr(&student, l, kinds[i]);
            const uint8_t *mask = cons[l * SQ_W_COUNT + kinds[i]].mask;
            int8_t q[H];
            for (size_t r = 0; r < n; r++) {
                for (size_t j = 0; j < k; j++)
                    ck_assert(mask[r * k + j] || w[r * k + j] == 0.0f);
                float s = sq_quant_i8(w + r * k, k, q);
                for (size_t j = 0; j < k; j++)
                    ck_assert_float_eq(w[r * k + j], (float)q[j] * s);
            }
        }
    for (size_t i = 0; i < L * SQ_W_COUNT; i++)
        free(cons[i].mask);
    sq_bert_train_free_copy(&student);
    free(teacher.storage);
}
END_TEST

/* distill:steps=N through the compression path: the one-shot 2:4 + w8a8
 * encoder trains, and its rebuilt integer layers are exactly the student's
 * weights (2:4 layout, int8 grid), scored against the teacher. */
START_TEST(test_finetune_rebuilds_layers)
{
    sq_bert_t teacher;
    tiny(&teacher, 5);
    sq_recipe_t r1, r;
    ck_assert_int_eq(sq_recipe_parse("2:4,w8a8", &r1), 0);
    ck_assert_int_eq(sq_recipe_parse("2:4,w8a8,distill:steps=3", &r), 0);
    sq_bert_qmodel_t q;
    ck_assert_int_eq(sq_bert_qmodel_build(&q, &teacher, &r1, NULL), 0);
    int32_t s1[] = {2, 5, 7, 1}, s2[] = {3, 3, 8, 9, 10, 4};
    int32_t *seq[] = {s1, s2};
    size_t len[] = {4, 6};
    sq_finetune_opts_t o;
    sq_finetune_opts_default(&o, &r);
    o.batch = 2;
    sq_bert_t student;
    sq_finetune_stats_t st;
    ck_assert_msg(sq_bert_finetune(&teacher, &q, &r, NULL, seq, len, 2, &o, &student, &st) == 0,
                  "%s", sq_err_msg());
    ck_assert(st.train_tokens > 0);
    ck_assert_ptr_eq(q.model, &student);
    const sq_wkind_t kinds[] = {SQ_W_Q, SQ_W_K, SQ_W_V, SQ_W_O, SQ_W_1, SQ_W_2};
    float w[H * D];
    for (int l = 0; l < L; l++)
        for (int i = 0; i < 6; i++) {
            const sq_clinear_t *cl = &q.layers[(size_t)l * SQ_W_COUNT + kinds[i]];
            ck_assert_uint_eq(cl->f[0].flags, (unsigned)SQ_GEMM_SP24);
            size_t n, k;
            sq_bert_wshape(&teacher.cfg, kinds[i], &n, &k);
            ck_assert_int_eq(sq_qlinear_dequant(&cl->f[0], w), 0);
            const float *sw = sq_bert_wptr(&student, l, kinds[i]);
            for (size_t j = 0; j < n * k; j++)
                ck_assert_msg(w[j] == sw[j], "layer %d kind %d weight %zu: %g stored, %g trained", l,
                              kinds[i], j, (double)w[j], (double)sw[j]);
        }
    /* the rebuilt layers run: the student's output moved off the teacher's */
    sq_bert_exec_t ex;
    sq_bert_qmodel_exec(&q, &ex);
    float a[6 * D], b[6 * D];
    ck_assert_int_eq(sq_bert_forward(&teacher, s2, 6, a, NULL), 0);
    ck_assert_int_eq(sq_bert_forward(&student, s2, 6, b, &ex), 0);
    ck_assert(memcmp(a, b, sizeof a) != 0);
    sq_bert_qmodel_free(&q);
    sq_bert_train_free_copy(&student);
    free(teacher.storage);
}
END_TEST

Suite *bert_train_suite(void)
{
    Suite *s = suite_create("bert_train");
    TCase *tc = sq_tcase(s, "bert_train", 60);
    tcase_add_test(tc, test_forward_matches_encoder);
    tcase_add_test(tc, test_gradients);
    tcase_add_test(tc, test_short_distill);
    tcase_add_test(tc, test_finetune_rebuilds_layers);
    return s;
}
