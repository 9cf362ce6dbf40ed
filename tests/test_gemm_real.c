/* The matmul unit on real data: stories260K's q/k/v/o/w1/w2/w3 weights with
 * the activations that really reach them (captured from the fp32 forward pass
 * over a short story), quantized as the compression recipes do, run on every
 * built level and compared bit for bit with the golden reference. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/llama.h"
#include "model/tokenizer.h"
#include "runtime/device.h"
#include "runtime/gemm_case.h"
#include "sparq/numerics.h"
#include "testutil.h"
#include "util/err.h"

extern const sq_level_ops_t sq_level_rtl __attribute__((weak));

#define TOKENS 16 /* M of the prefill case */

/* Inputs seen by each (layer, kind) at each of TOKENS positions. */
typedef struct {
    const sq_llama_t *m;
    int pos;
    float *x[8][SQ_W_COUNT]; /* (TOKENS, k) */
} capture_t;

static int capture_linear(void *ctx, int layer, sq_wkind_t kind, const float *x, float *y)
{
    capture_t *c = ctx;
    size_t n, k;
    sq_llama_wshape(&c->m->cfg, kind, &n, &k);
    memcpy(c->x[layer][kind] + (size_t)c->pos * k, x, k * sizeof(float));
    sq_llama_linear_f32(c->m, layer, kind, x, y);
    return 0;
}

static void capture(const sq_llama_t *m, capture_t *c)
{
    memset(c, 0, sizeof *c);
    c->m = m;
    ck_assert_int_le(m->cfg.n_layers, 8);
    for (int l = 0; l < m->cfg.n_layers; l++)
        for (int kd = 0; kd < SQ_W_COUNT; kd++) {
            size_t n, k;
            sq_llama_wshape(&m->cfg, (sq_wkind_t)kd, &n, &k);
            c->x[l][kd] = calloc(TOKENS * k, sizeof(float));
        }
    sq_tokenizer_t t;
    ck_assert_int_eq(sq_tokenizer_load(SQ_TOK_PATH, m->cfg.vocab_size, &t), 0);
    int ids[128], n;
    ck_assert_int_eq(sq_tokenizer_encode(&t, "Once upon a time, a little dog named Max found a "
                                         "big red ball in the park.", 1, 0, ids, &n), 0);
    ck_assert_int_ge(n, TOKENS);
    sq_llama_state_t s;
    ck_assert_int_eq(sq_llama_state_build(&s, &m->cfg), 0);
    sq_llama_exec_t ex = {.linear = capture_linear, .ctx = c};
    for (c->pos = 0; c->pos < TOKENS; c->pos++)
        ck_assert_int_eq(sq_llama_forward(m, &s, ids[c->pos], c->pos, &ex), 0);
    sq_llama_state_free(&s);
    sq_tokenizer_free(&t);
}

static void capture_free(capture_t *c)
{
    for (int l = 0; l < 8; l++)
        for (int kd = 0; kd < SQ_W_COUNT; kd++)
            free(c->x[l][kd]);
}

/* Replaces the random operands of gc with the real layer, quantized per
 * flags: int8 per channel, int4 per channel (max|w| / 7) or 2:4 of the int8
 * weights; int8 activations per token; requant to an int8 output scale that
 * covers the layer's real output range. */
static void load_real(sq_gemm_case_t *gc, const float *w, const float *x, size_t m, size_t n,
                      size_t k)
{
    uint32_t flags = gc->d.flags;
    float *sa = malloc(m * sizeof(float)), *sw = malloc(n * sizeof(float));
    for (size_t i = 0; i < m; i++)
        sa[i] = sq_quant_i8(x + i * k, k, gc->a + i * k);
    int8_t *row = malloc(k);
    size_t wb = sq_w_row_bytes(flags, k), mb = sq_meta_row_bytes(k);
    for (size_t j = 0; j < n; j++) {
        sw[j] = sq_quant_i8(w + j * k, k, row);
        if (flags & SQ_GEMM_W4) {
            float amax = sw[j] * 127.0f;
            sw[j] = amax > 0 ? amax / 7.0f : 1.0f;
            for (size_t t = 0; t < k; t++) {
                float r = roundf(w[j * k + t] / sw[j]);
                row[t] = (int8_t)(r > 7 ? 7 : r < -8 ? -8 : r);
            }
            sq_i4_pack_row(row, k, gc->w + j * wb);
        } else if (flags & SQ_GEMM_SP24) {
            sq_sp24_encode_row(row, k, (int8_t *)gc->w + j * wb, gc->meta + j * mb);
        } else {
            memcpy(gc->w + j * wb, row, k);
        }
    }
    /* one output scale per channel: the channel's fp32 output range / 127 */
    if (!(flags & SQ_GEMM_OUT32)) {
        for (size_t j = 0; j < n; j++) {
            double amax = 0;
            for (size_t i = 0; i < m; i++) {
                double y = 0;
                for (size_t t = 0; t < k; t++)
                    y += (double)w[j * k + t] * x[i * k + t];
                amax = fmax(amax, fabs(y));
            }
            double so = amax > 0 ? amax / 127.0 : 1.0;
            /* the per-token activation scale varies by row; the unit has one
             * multiplier per channel, so the first row's scale stands for all */
            ck_assert_int_eq(sq_scale_to_fixed((double)sa[0] * sw[j] / so, &gc->quant[j].mult,
                                               &gc->quant[j].shift), 0);
        }
    }
    sq_gemm_t g = {.m = m, .n = n, .k = k, .flags = flags, .a = gc->a, .w = gc->w,
                   .meta = gc->meta, .bias = gc->bias, .quant = gc->quant, .c = gc->golden};
    ck_assert_int_eq(sq_gemm_ref(&g), 0);
    free(sa);
    free(sw);
    free(row);
}

static void run_level(const char *level, const sq_llama_t *model, const capture_t *cap)
{
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, level);
    cfg.mem_bytes = 4u << 20;
    sq_dev_t *dev;
    ck_assert_msg(sq_dev_open(&cfg, &dev) == 0, "%s", sq_err_msg());
    static const uint32_t modes[] = {0, SQ_GEMM_OUT32, SQ_GEMM_W4, SQ_GEMM_SP24,
                                     SQ_GEMM_SP24 | SQ_GEMM_RELU, SQ_GEMM_W4 | SQ_GEMM_OUT32};
    static const size_t ms[] = {1, TOKENS};
    size_t checked = 0;
    for (int l = 0; l < model->cfg.n_layers; l++) {
        for (int kd = 0; kd < SQ_W_CLS; kd++) {
            size_t n, k;
            sq_llama_wshape(&model->cfg, (sq_wkind_t)kd, &n, &k);
            /* one mode per (layer, kind), rotating, at both M */
            uint32_t flags = modes[(size_t)(l * SQ_W_CLS + kd) % (sizeof modes / sizeof modes[0])];
            for (size_t mi = 0; mi < 2; mi++) {
                size_t m = ms[mi];
                sq_gemm_case_t gc;
                ck_assert_int_eq(sq_gemm_case_build(&gc, (uint32_t)m, (uint32_t)n, (uint32_t)k,
                                                    flags, 1), 0);
                load_real(&gc, sq_llama_wptr(model, l, (sq_wkind_t)kd), cap->x[l][kd], m, n, k);
                sq_dev_free_all(dev);
                uint64_t cmd;
                ck_assert_msg(sq_gemm_case_place(dev, &gc, &cmd) == 0, "%s", sq_err_msg());
                ck_assert_msg(sq_dev_run(dev, cmd, 1, 0) == 0, "%s", sq_err_msg());
                void *out = malloc(gc.b.c);
                ck_assert_int_eq(sq_gemm_case_read(dev, &gc, out), 0);
                uint64_t first;
                uint64_t bad = sq_gemm_case_mismatches(&gc, out, &first);
                ck_assert_msg(bad == 0, "%s layer %d %s M=%zu flags 0x%x: %llu mismatches, "
                              "first at %llu", level, l, sq_wkind_name[kd], m, flags,
                              (unsigned long long)bad, (unsigned long long)first);
                free(out);
                sq_gemm_case_free(&gc);
                checked++;
            }
        }
    }
    ck_assert_uint_eq(checked, (size_t)model->cfg.n_layers * SQ_W_CLS * 2);
    sq_dev_close(dev);
}

static void real_layers(const char *level)
{
    sq_llama_t m;
    ck_assert_int_eq(sq_llama_load(SQ_MODEL_PATH, &m), 0);
    capture_t cap;
    capture(&m, &cap);
    run_level(level, &m, &cap);
    capture_free(&cap);
    sq_llama_free(&m);
}

START_TEST(test_real_layers_csim)
{
    real_layers("csim");
}
END_TEST

START_TEST(test_real_layers_rtl)
{
    ck_assert_msg(&sq_level_rtl != NULL, "the rtl level is not built into the test binary");
    real_layers("rtl");
}
END_TEST

Suite *gemm_real_suite(void)
{
    Suite *s = suite_create("gemm_real");
    TCase *tc = sq_tcase(s, "stories260K", 300);
    tcase_add_test(tc, test_real_layers_csim);
    if (&sq_level_rtl != NULL)
        tcase_add_test(tc, test_real_layers_rtl);
    return s;
}
