/* The integer layer (host/sched/llama_int.c) on stories260K: the compiled
 * stream is valid and its dependencies are needed, greedy text on ref
 * equals the fp32 model's, the device's argmax is the logits' argmax, the
 * KV cache is appended by the device, group scales (w4g32) run, and the CLI
 * chooses it, reports it, and fails in one line where a level lacks the
 * vector unit. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compress/qmodel.h"
#include "model/sampler.h"
#include "model/tokenizer.h"
#include "runtime/desc.h"
#include "sched/llama_int.h"
#include "testutil.h"
#include "util/err.h"

#define MODEL_ARGS "--model " SQ_MODEL_PATH " --tokenizer " SQ_TOK_PATH
#define SAMPLE SQ_SHARED_DIR "/data/tinystories_sample.txt"

typedef struct {
    sq_llama_t m;
    sq_tokenizer_t tok;
    sq_qmodel_t q;
    sq_dev_t *dev;
    sq_intlayer_t *p;
    char *text;
} fixture_t;

static void open_fixture(fixture_t *f, const char *recipe)
{
    memset(f, 0, sizeof *f);
    ck_assert_int_eq(sq_llama_load(SQ_MODEL_PATH, &f->m), 0);
    ck_assert_int_eq(sq_tokenizer_load(SQ_TOK_PATH, f->m.cfg.vocab_size, &f->tok), 0);
    sq_recipe_t r;
    ck_assert_int_eq(sq_recipe_parse(recipe, &r), 0);
    ck_assert_msg(sq_qmodel_build(&f->q, &f->m, &r) == 0, "%s", sq_err_msg());
    size_t n;
    f->text = sq_slurp(SAMPLE, &n);
    ck_assert_ptr_nonnull(f->text);
    f->text = realloc(f->text, n + 1);
    f->text[n] = 0;
    f->dev = sq_test_dev_open("ref", 64u << 20);
    sq_intlayer_opts_t o = {.calib_text = f->text, .tok = &f->tok};
    ck_assert_msg(sq_intlayer_build(&f->p, &f->q, f->dev, NULL, &o) == 0, "%s", sq_err_msg());
}

static void close_fixture(fixture_t *f)
{
    sq_intlayer_free(f->p);
    sq_dev_close(f->dev);
    sq_qmodel_free(&f->q);
    sq_tokenizer_free(&f->tok);
    sq_llama_free(&f->m);
    free(f->text);
}

START_TEST(test_stream_valid_and_needed)
{
    fixture_t f;
    open_fixture(&f, "w8a8");
    uint32_t n;
    uint64_t cmd;
    const uint8_t *s = sq_intlayer_stream(f.p, &n, &cmd);
    /* gather, 13 per layer, final norm, classifier, logits, argmax */
    ck_assert_uint_eq(n, 1 + 13 * (uint32_t)f.m.cfg.n_layers + 4);
    uint32_t per[SQ_UNIT_COUNT] = {0};
    for (uint32_t i = 0; i < n; i++)
        per[sq_desc_unit(sq_desc_opcode(s + (size_t)i * SQ_DESC_BYTES))]++;
    ck_assert_uint_eq(per[SQ_UNIT_GEMM], 4 * (uint32_t)f.m.cfg.n_layers + 1);
    ck_assert_uint_eq(per[SQ_UNIT_ATTN], (uint32_t)f.m.cfg.n_layers);
    ck_assert_msg(sq_stream_check(s, n) == 0, "%s", sq_err_msg());
    /* without its dependencies the stream is rejected */
    uint8_t *bare = malloc((size_t)n * SQ_DESC_BYTES);
    memcpy(bare, s, (size_t)n * SQ_DESC_BYTES);
    static const uint32_t none[SQ_DESC_DEPS] = {0};
    for (uint32_t i = 0; i < n; i++)
        sq_desc_set_deps(bare + (size_t)i * SQ_DESC_BYTES, none);
    ck_assert_int_eq(sq_stream_check(bare, n), SQ_ERR_FMT);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "no dependency orders them"));
    free(bare);
    close_fixture(&f);
}
END_TEST

/* 48 greedy tokens from BOS: the same as the fp32 model's, the device's
 * argmax is the logits' first maximum at every step, and the second run of
 * the same positions (KV rows overwritten in place) repeats the bits. */
START_TEST(test_greedy_matches_fp32)
{
    fixture_t f;
    open_fixture(&f, "w8a8");
    int vocab = f.m.cfg.vocab_size;
    sq_llama_state_t s;
    ck_assert_int_eq(sq_llama_state_build(&s, &f.m.cfg), 0);
    float *lg = malloc((size_t)vocab * sizeof *lg), *first = malloc(48 * (size_t)vocab * 4);
    for (int round = 0; round < 2; round++) {
        int tok32 = SQ_TOK_BOS, tok = SQ_TOK_BOS;
        for (int pos = 0; pos < 48; pos++) {
            ck_assert_int_eq(sq_llama_forward(&f.m, &s, tok32, pos, NULL), 0);
            int am;
            sq_dev_stats_t b, e;
            sq_dev_stats(f.dev, &b);
            ck_assert_msg(sq_intlayer_step(f.p, tok, pos, lg, &am) == 0, "%s", sq_err_msg());
            sq_dev_stats(f.dev, &e);
            /* host traffic of a step: the token id in, logits and argmax out,
             * and (no command processor on ref) the position-patched
             * descriptors written for the run and restored: RoPE Q, RoPE K,
             * V and attention of each layer, unchanged at pos 0 */
            uint64_t patched = pos ? 4u * (uint64_t)f.m.cfg.n_layers * 2 * SQ_DESC_BYTES : 0;
            ck_assert_uint_eq(e.host_bytes_written - b.host_bytes_written, 4 + patched);
            ck_assert_uint_eq(e.host_bytes_read - b.host_bytes_read, 4u * vocab + 4);
            ck_assert_int_eq(am, sq_argmax(lg, vocab));
            ck_assert_msg(am == sq_argmax(s.logits, vocab), "pos %d: %d vs fp32 %d", pos, am,
                          sq_argmax(s.logits, vocab));
            if (round == 0)
                memcpy(first + (size_t)pos * vocab, lg, (size_t)vocab * 4);
            else
                ck_assert_int_eq(memcmp(first + (size_t)pos * vocab, lg, (size_t)vocab * 4), 0);
            tok32 = tok = am;
        }
    }
    free(lg);
    free(first);
    sq_llama_state_free(&s);
    close_fixture(&f);
}
END_TEST

START_TEST(test_group_scales_run)
{
    fixture_t f;
    open_fixture(&f, "w4g32");
    uint32_t n;
    uint64_t cmd;
    const uint8_t *s = sq_intlayer_stream(f.p, &n, &cmd);
    uint32_t grouped = 0;
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *d = s + (size_t)i * SQ_DESC_BYTES;
        if (sq_desc_opcode(d) == SQ_OP_GEMM && (sq_desc_word(d, SQ_GEMM_W_FLAGS) & SQ_GEMM_GSCALE))
            grouped++;
    }
    ck_assert_uint_gt(grouped, 0);
    float *lg = malloc((size_t)f.m.cfg.vocab_size * sizeof *lg);
    int am;
    ck_assert_msg(sq_intlayer_step(f.p, SQ_TOK_BOS, 0, lg, &am) == 0, "%s", sq_err_msg());
    free(lg);
    close_fixture(&f);
}
END_TEST

START_TEST(test_cli)
{
    static char out[8192], ref[8192], err[8192];
    const char *gen = "generate " MODEL_ARGS " --steps 40 --temperature 0 --calib " SAMPLE;
    char args[1024];
    snprintf(args, sizeof args, "%s", gen);
    ck_assert_int_eq(sq_run_cli(args, ref, sizeof ref, NULL, 0), 0);
    char *json = sq_tmpfile("", 0);
    snprintf(args, sizeof args, "%s --recipe w8a8 --backend ref --report %s", gen, json);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 0);
    ck_assert_str_eq(out, ref);
    ck_assert_ptr_nonnull(strstr(err, "vector"));
    ck_assert_ptr_nonnull(strstr(err, "swiglu"));
    /* the HLS kernels run the whole integer token: the golden's text */
    static char csim[8192];
    snprintf(args, sizeof args, "%s --recipe w8a8 --backend csim", gen);
    ck_assert_int_eq(sq_run_cli(args, csim, sizeof csim, err, sizeof err), 0);
    ck_assert_str_eq(csim, ref);
    /* a level without the vector unit: one line, then --offload linears */
    snprintf(args, sizeof args, "%s --recipe w8a8 --backend model", gen);
    ck_assert_int_ne(sq_run_cli(args, out, sizeof out, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "has no vector unit"));
    ck_assert_ptr_null(strchr(strchr(err, '\n') + 1, '\n'));
    snprintf(args, sizeof args, "%s --recipe w8a8 --backend model --offload linears", gen);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 0);
    ck_assert_int_ne(sq_run_cli("eval " MODEL_ARGS " --text x --offload all", out, sizeof out, err,
                                sizeof err),
                     0);
    ck_assert_ptr_nonnull(strstr(err, "--offload"));
    unlink(json);
    free(json);
}
END_TEST

Suite *intlayer_suite(void)
{
    Suite *s = suite_create("intlayer");
    TCase *tc = sq_tcase(s, "intlayer", 300);
    tcase_add_test(tc, test_stream_valid_and_needed);
    tcase_add_test(tc, test_greedy_matches_fp32);
    tcase_add_test(tc, test_group_scales_run);
    tcase_add_test(tc, test_cli);
    return s;
}
