/* The integer layer (host/sched/llama_int.c) on stories260K: the compiled
 * stream is valid and its dependencies are needed, greedy text on ref
 * equals the fp32 model's, the device's argmax is the logits' argmax, the
 * KV cache is appended by the device, a level with the command processor
 * runs a token in one launch with ref's bits, group scales (w4g32) run, a
 * prompt in one prefill run gives the bits of token-by-token runs, sequences
 * decoded together give each one's own bits, and the CLI chooses it, prints
 * ref's text on every level, and reports it (runs, PCIe bytes and the
 * latency split per phase). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "compress/qmodel.h"
#include "model/eval.h"
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

/* The whole sample as a string (malloc'd). */
static char *sample_text(void)
{
    size_t n;
    char *text = sq_slurp(SAMPLE, &n);
    ck_assert_ptr_nonnull(text);
    text = realloc(text, n + 1);
    text[n] = 0;
    return text;
}

/* The sample's first story (malloc'd). The tests that compare a level with
 * ref calibrate on it alone: the ranges only have to be the same on both
 * sides, and the whole sample costs about 4 s a calibration under the
 * sanitizers. */
static char *first_story(void)
{
    char *text = sample_text();
    char *cursor = text, *story = sq_story_next(&cursor);
    ck_assert_ptr_nonnull(story);
    char *one = strdup(story);
    free(text);
    return one;
}

/* A file holding first_story(), for the CLI's --calib (malloc'd path). */
static char *first_story_file(void)
{
    char *one = first_story();
    char *path = sq_tmpfile(one, strlen(one));
    free(one);
    return path;
}

/* full: calibrate on the whole sample (the tests that compare with fp32). */
static void open_fixture_calib(fixture_t *f, const char *recipe, const char *level, int rows,
                               int seqs, int full)
{
    memset(f, 0, sizeof *f);
    ck_assert_int_eq(sq_llama_load(SQ_MODEL_PATH, &f->m), 0);
    ck_assert_int_eq(sq_tokenizer_load(SQ_TOK_PATH, f->m.cfg.vocab_size, &f->tok), 0);
    sq_recipe_t r;
    ck_assert_int_eq(sq_recipe_parse(recipe, &r), 0);
    ck_assert_msg(sq_qmodel_build(&f->q, &f->m, &r) == 0, "%s", sq_err_msg());
    f->text = full ? sample_text() : first_story();
    f->dev = sq_test_dev_open(level, 64u << 20);
    sq_story_enc_t enc;
    sq_story_enc_llama2(&enc, &f->tok);
    sq_intlayer_opts_t o = {.calib_text = f->text, .enc = &enc, .rows = rows, .seqs = seqs};
    ck_assert_msg(sq_intlayer_build(&f->p, &f->q, f->dev, NULL, &o) == 0, "%s", sq_err_msg());
}

static void open_fixture_at(fixture_t *f, const char *recipe, const char *level, int rows,
                            int seqs)
{
    open_fixture_calib(f, recipe, level, rows, seqs, 0);
}

static void open_fixture(fixture_t *f, const char *recipe)
{
    open_fixture_at(f, recipe, "ref", 1, 1);
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

/* Descriptors of a decode step of one sequence: the gather; per layer the
 * norm, per KV head a slice of the Q|K|V projection and its RoPE K, V, RoPE Q
 * and attention, then the output projection, residual, norm, W1|W3, SwiGLU,
 * W2 and residual; the final norm, the classifier and logits slices and the
 * argmax. A prompt: one projection and one attention a layer, and the copy. */
static uint32_t decode_descs(const sq_llama_config_t *c)
{
    return 1 + (uint32_t)c->n_layers * (8 + 5 * (uint32_t)c->n_kv_heads) + 2 +
           2 * SQ_INTLAYER_CLS_SLICES;
}

static uint32_t prefill_descs(const sq_llama_config_t *c)
{
    return 1 + (uint32_t)c->n_layers * (11 + 3 * (uint32_t)c->n_kv_heads) + 2 +
           2 * SQ_INTLAYER_CLS_SLICES;
}

START_TEST(test_stream_valid_and_needed)
{
    fixture_t f;
    open_fixture(&f, "w8a8");
    uint32_t n;
    uint64_t cmd;
    const uint8_t *s = sq_intlayer_stream(f.p, &n, &cmd);
    ck_assert_uint_eq(n, decode_descs(&f.m.cfg));
    uint32_t per[SQ_UNIT_COUNT] = {0};
    for (uint32_t i = 0; i < n; i++)
        per[sq_desc_unit(sq_desc_opcode(s + (size_t)i * SQ_DESC_BYTES))]++;
    uint32_t layers = (uint32_t)f.m.cfg.n_layers, kvh = (uint32_t)f.m.cfg.n_kv_heads;
    ck_assert_uint_eq(per[SQ_UNIT_GEMM], (kvh + 3) * layers + SQ_INTLAYER_CLS_SLICES);
    ck_assert_uint_eq(per[SQ_UNIT_ATTN], kvh * layers);
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
    open_fixture_calib(&f, "w8a8", "ref", 1, 1, 1);
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
             * descriptors written for the run and restored: RoPE K, V, RoPE
             * Q and attention of each layer's KV heads, unchanged at pos 0 */
            uint64_t patched = pos ? 4u * (uint64_t)f.m.cfg.n_kv_heads * f.m.cfg.n_layers * 2 *
                                         SQ_DESC_BYTES
                                   : 0;
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

/* A level with the command processor and the vector unit (csim, opencl:
 * hls/cp dispatching to hls/gemm, hls/attn, hls/vec; rtl, tlm: sq_accel_top
 * with the three cores; model: their cycle models) runs a token as one
 * launch: the host writes the token id and nothing else (the positions go
 * to the kernel's registers, not into the stream), reads the logits and
 * the argmax, and the bits equal ref's at every step. Each of the nl levels
 * runs the steps ref ran (one ref program for all); the device cycles of
 * level i's steps go to cycles[i] when cycles is not NULL. */
enum { MAX_STEPS = 12 };
static void one_launch(const char *recipe, const char *const *levels, size_t nl, int steps,
                       uint64_t (*cycles)[MAX_STEPS])
{
    ck_assert_int_le(steps, MAX_STEPS);
    fixture_t r;
    open_fixture(&r, recipe);
    int vocab = r.m.cfg.vocab_size, am_r[MAX_STEPS], tok[MAX_STEPS];
    float *want = malloc((size_t)steps * vocab * sizeof *want);
    float *got = malloc((size_t)vocab * sizeof *got);
    tok[0] = SQ_TOK_BOS;
    for (int pos = 0; pos < steps; pos++) {
        ck_assert_msg(sq_intlayer_step(r.p, tok[pos], pos, want + (size_t)pos * vocab,
                                       &am_r[pos]) == 0, "%s", sq_err_msg());
        if (pos + 1 < steps)
            tok[pos + 1] = am_r[pos];
    }
    for (size_t l = 0; l < nl; l++) {
        fixture_t f;
        open_fixture_at(&f, recipe, levels[l], 1, 1);
        for (int pos = 0; pos < steps; pos++) {
            int am;
            sq_dev_stats_t b, e;
            sq_dev_stats(f.dev, &b);
            ck_assert_msg(sq_intlayer_step(f.p, tok[pos], pos, got, &am) == 0, "%s: %s",
                          levels[l], sq_err_msg());
            sq_dev_stats(f.dev, &e);
            ck_assert_uint_eq(e.launches - b.launches, 1);
            ck_assert_uint_eq(e.commands - b.commands, decode_descs(&r.m.cfg));
            ck_assert_uint_eq(e.host_bytes_written - b.host_bytes_written, 4);
            ck_assert_uint_eq(e.host_bytes_read - b.host_bytes_read, 4u * vocab + 4);
            ck_assert_msg(memcmp(want + (size_t)pos * vocab, got, (size_t)vocab * sizeof *got) == 0,
                          "%s: step %d differs from ref", levels[l], pos);
            ck_assert_int_eq(am, am_r[pos]);
            if (cycles)
                cycles[l][pos] = e.cycles - b.cycles;
        }
        close_fixture(&f);
    }
    free(want);
    free(got);
    close_fixture(&r);
}

START_TEST(test_one_launch_csim_opencl)
{
    static const char *const levels[] = {"csim", "opencl"};
    one_launch("w8a8", levels, 2, 12, NULL);
}
END_TEST

/* The whole token in RTL, one launch each, and the cycle model's cycles
 * equal to the RTL's at every step; tlm gives the rtl level's cycles too. */
START_TEST(test_one_launch_rtl_model)
{
    enum { STEPS = 5 };
    static const char *const levels[] = {"rtl", "tlm", "model"};
    uint64_t cyc[3][MAX_STEPS];
    one_launch("w8a8", levels, 3, STEPS, cyc);
    for (int i = 0; i < STEPS; i++) {
        ck_assert_uint_gt(cyc[0][i], 0);
        ck_assert_msg(cyc[2][i] == cyc[0][i] && cyc[1][i] == cyc[0][i],
                      "step %d: rtl %llu cycles, tlm %llu, model %llu", i,
                      (unsigned long long)cyc[0][i], (unsigned long long)cyc[1][i],
                      (unsigned long long)cyc[2][i]);
    }
}
END_TEST

/* w4g32 (one SQ_GEMM_GSCALE descriptor per linear): the whole token in RTL
 * gives ref's bits, and the cycle model's cycles equal the RTL's. */
START_TEST(test_one_launch_gscale)
{
    enum { STEPS = 3 };
    static const char *const levels[] = {"rtl", "model"};
    uint64_t cyc[2][MAX_STEPS];
    one_launch("w4g32", levels, 2, STEPS, cyc);
    for (int i = 0; i < STEPS; i++) {
        ck_assert_uint_gt(cyc[0][i], 0);
        ck_assert_msg(cyc[1][i] == cyc[0][i], "step %d: rtl %llu cycles, model %llu", i,
                      (unsigned long long)cyc[0][i], (unsigned long long)cyc[1][i]);
    }
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

static int encode(fixture_t *f, const char *text, int *ids)
{
    int n;
    ck_assert_int_eq(sq_tokenizer_encode(&f->tok, text, 1, 0, ids, &n), 0);
    return n;
}

/* A prompt of n tokens as one prefill run: the last token's logits, its
 * argmax and the KV rows it leaves (seen through the decode steps after it)
 * are those of n single-token runs; the prefill stream has one COPY per layer
 * and an attention call with queries = n. */
START_TEST(test_prefill_equals_steps)
{
    fixture_t f;
    open_fixture_at(&f, "w8a8", "ref", 32, 1);
    int vocab = f.m.cfg.vocab_size, ids[64];
    int n = encode(&f, "Once upon a time, there was a little dog named Max", ids);
    ck_assert_int_gt(n, 8);
    enum { AFTER = 12 };
    float *a = malloc((size_t)(AFTER + 1) * vocab * sizeof *a);
    float *b = malloc((size_t)(AFTER + 1) * vocab * sizeof *b);
    int ta[AFTER + 1], tb[AFTER + 1];
    for (int i = 0; i < n; i++)
        ck_assert_msg(sq_intlayer_step(f.p, ids[i], i, a, &ta[0]) == 0, "%s", sq_err_msg());
    ck_assert_msg(sq_intlayer_prefill(f.p, 0, ids, n, 0, b, &tb[0]) == 0, "%s", sq_err_msg());
    ck_assert_int_eq(memcmp(a, b, (size_t)vocab * sizeof *a), 0);
    ck_assert_int_eq(ta[0], tb[0]);
    /* decode after each: first after the token-by-token prompt, then again
     * after the prefill (which rewrites rows 0 .. n-1 itself) */
    for (int round = 0; round < 2; round++) {
        float *lg = round ? b : a;
        int *t = round ? tb : ta;
        if (round)
            ck_assert_int_eq(sq_intlayer_prefill(f.p, 0, ids, n, 0, NULL, &t[0]), 0);
        else
            for (int i = 0; i < n; i++)
                ck_assert_int_eq(sq_intlayer_step(f.p, ids[i], i, NULL, &t[0]), 0);
        for (int k = 1; k <= AFTER; k++)
            ck_assert_int_eq(sq_intlayer_step(f.p, t[k - 1], n + k - 1,
                                              lg + (size_t)k * vocab, &t[k]), 0);
    }
    ck_assert_int_eq(memcmp(a + vocab, b + vocab, (size_t)AFTER * vocab * sizeof *a), 0);
    ck_assert_int_eq(memcmp(ta, tb, sizeof ta), 0);
    uint32_t nc;
    const uint8_t *s = sq_intlayer_prefill_stream(f.p, &nc);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(nc, prefill_descs(&f.m.cfg));
    ck_assert_msg(sq_stream_check(s, nc) == 0, "%s", sq_err_msg());
    uint32_t copies = 0, attn = 0;
    for (uint32_t i = 0; i < nc; i++) {
        const uint8_t *d = s + (size_t)i * SQ_DESC_BYTES;
        if (sq_desc_opcode(d) == SQ_OP_VEC && sq_desc_word(d, SQ_VEC_W_FUNC) == SQ_VEC_COPY)
            copies++;
        if (sq_desc_opcode(d) == SQ_OP_ATTN) {
            ck_assert_uint_eq(sq_desc_word(d, SQ_ATTN_W_QUERIES), (uint32_t)n);
            attn++;
        }
    }
    ck_assert_uint_eq(copies, (uint32_t)f.m.cfg.n_layers);
    ck_assert_uint_eq(attn, (uint32_t)f.m.cfg.n_layers);
    /* a prompt longer than the planned rows is refused in one line */
    ck_assert_int_eq(sq_intlayer_prefill(f.p, 0, ids, 33, 0, NULL, NULL), SQ_ERR_ARG);
    free(a);
    free(b);
    close_fixture(&f);
}
END_TEST

/* Three sequences at different positions decoded together (M = 3 in every
 * GEMM, one KV cache each): each one's tokens and logits are those of its own
 * program of one sequence. */
START_TEST(test_batch_equals_single)
{
    static const char *const prompts[3] = {"Once upon a time", "Tom had a red ball. He",
                                           "The cat"};
    enum { B = 3, STEPS = 10 };
    fixture_t f, one;
    open_fixture_at(&f, "w8a8", "ref", 16, B);
    open_fixture_at(&one, "w8a8", "ref", 16, 1);
    int vocab = f.m.cfg.vocab_size, ids[B][64], n[B], tok[B], pos[B];
    float *lb = malloc((size_t)B * vocab * sizeof *lb), *l1 = malloc((size_t)vocab * sizeof *l1);
    int want[B][STEPS];
    for (int b = 0; b < B; b++) {
        n[b] = encode(&f, prompts[b], ids[b]);
        int t;
        ck_assert_int_eq(sq_intlayer_prefill(one.p, 0, ids[b], n[b], 0, NULL, &t), 0);
        for (int k = 0; k < STEPS; k++) {
            want[b][k] = t;
            ck_assert_int_eq(sq_intlayer_step(one.p, t, n[b] + k, NULL, &t), 0);
        }
        ck_assert_int_eq(sq_intlayer_prefill(f.p, b, ids[b], n[b], 0, NULL, &tok[b]), 0);
        ck_assert_int_eq(tok[b], want[b][0]);
        pos[b] = n[b];
    }
    ck_assert_int_ne(n[0], n[1]);
    for (int k = 1; k < STEPS; k++) {
        int am[B];
        ck_assert_msg(sq_intlayer_decode(f.p, tok, pos, lb, am) == 0, "%s", sq_err_msg());
        for (int b = 0; b < B; b++) {
            ck_assert_int_eq(am[b], want[b][k]);
            ck_assert_int_eq(sq_argmax(lb + (size_t)b * vocab, vocab), am[b]);
            tok[b] = am[b];
            pos[b]++;
        }
    }
    /* sequence 1's last logits, again on its own */
    ck_assert_int_eq(sq_intlayer_prefill(one.p, 0, ids[1], n[1], 0, NULL, NULL), 0);
    for (int k = 0; k + 1 < STEPS; k++)
        ck_assert_int_eq(sq_intlayer_step(one.p, want[1][k], n[1] + k,
                                          k + 2 == STEPS ? l1 : NULL, NULL), 0);
    ck_assert_int_eq(memcmp(l1, lb + vocab, (size_t)vocab * sizeof *l1), 0);
    /* a program of several sequences has no single step */
    ck_assert_int_eq(sq_intlayer_step(f.p, 1, 0, NULL, NULL), SQ_ERR_ARG);
    free(lb);
    free(l1);
    close_fixture(&one);
    close_fixture(&f);
}
END_TEST

/* More sequences than run arguments share one position. */
START_TEST(test_batch_positions_limit)
{
    enum { B = SQ_RUN_POS + 1 };
    fixture_t f;
    open_fixture_at(&f, "w8a8", "ref", 1, B);
    int tok[B], pos[B], am[B];
    for (int b = 0; b < B; b++) {
        tok[b] = SQ_TOK_BOS;
        pos[b] = 0;
    }
    ck_assert_msg(sq_intlayer_decode(f.p, tok, pos, NULL, am) == 0, "%s", sq_err_msg());
    for (int b = 1; b < B; b++)
        ck_assert_int_eq(am[b], am[0]);
    pos[B - 1] = 1;
    ck_assert_int_eq(sq_intlayer_decode(f.p, tok, pos, NULL, am), SQ_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "SQ_RUN_POS"));
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
    snprintf(args, sizeof args, "%s --recipe w8a8 --backend model --offload linears", gen);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 0);
    ck_assert_int_ne(sq_run_cli("eval " MODEL_ARGS " --text x --offload all", out, sizeof out, err,
                                sizeof err),
                     0);
    ck_assert_ptr_nonnull(strstr(err, "--offload"));
    /* without --calib the whole token calibrates on the default text's
     * #calib part, found from the project root (this test's own process) */
    ck_assert_int_eq(chdir(SQ_SRC_DIR), 0);
    ck_assert_msg(sq_run_cli("generate " MODEL_ARGS " --steps 4 --recipe w8a8 --backend ref", out,
                             sizeof out, err, sizeof err) == 0,
                  "%s", err);
    unlink(json);
    free(json);
}
END_TEST

/* The whole token prints ref's text on every level with the command
 * processor and the vector unit, one run per token on each. 8 tokens keep
 * rtl and tlm short (1.7 million simulated cycles each). */
static void cli_levels(const char *recipe, const char *const *levels, size_t nl)
{
    static char ref[4096], out[4096], err[8192];
    char gen[512], args[1024];
    char *calib = first_story_file();
    snprintf(gen, sizeof gen,
             "generate " MODEL_ARGS " --steps 8 --temperature 0 --recipe %s --calib %s", recipe,
             calib);
    snprintf(args, sizeof args, "%s --backend ref", gen);
    ck_assert_int_eq(sq_run_cli(args, ref, sizeof ref, err, sizeof err), 0);
    ck_assert_uint_gt(strlen(ref), 8);
    char *json = sq_tmpfile("", 0);
    for (size_t i = 0; i < nl; i++) {
        snprintf(args, sizeof args, "%s --backend %s --report %s", gen, levels[i], json);
        ck_assert_msg(sq_run_cli(args, out, sizeof out, err, sizeof err) == 0, "%s: %s",
                      levels[i], err);
        ck_assert_msg(strcmp(out, ref) == 0, "%s: '%s' vs ref '%s'", levels[i], out, ref);
        size_t n;
        char *rep = sq_slurp(json, &n);
        ck_assert_ptr_nonnull(rep);
        ck_assert_msg(strstr(rep, "\"runs_per_token\":\t1,"), "%s: %s", levels[i], rep);
        free(rep);
    }
    unlink(json);
    free(json);
    unlink(calib);
    free(calib);
}

START_TEST(test_cli_levels)
{
    static const char *const levels[] = {"csim", "model", "rtl", "tlm", "opencl"};
    cli_levels("w8a8", levels, sizeof levels / sizeof levels[0]);
}
END_TEST

/* w4g32: one SQ_GEMM_GSCALE descriptor per linear, the token one run, ref's
 * text. */
START_TEST(test_cli_levels_gscale)
{
    static const char *const levels[] = {"csim", "model", "rtl"};
    cli_levels("w4g32", levels, sizeof levels / sizeof levels[0]);
}
END_TEST

static cJSON *load_json(const char *path)
{
    size_t n;
    char *text = sq_slurp(path, &n);
    ck_assert_ptr_nonnull(text);
    cJSON *j = cJSON_Parse(text);
    free(text);
    ck_assert_ptr_nonnull(j);
    return j;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    ck_assert_msg(cJSON_IsNumber(v), "no number '%s'", key);
    return v->valuedouble;
}

/* generate with prompts: one prefill run, then a run per step; several
 * prompts (or --batch) print each sequence's own text; the report has both
 * phases with runs, PCIe bytes and the latency split, and the linears-only
 * path and the host run report theirs. */
START_TEST(test_cli_prompt_batch_report)
{
    static char one[4096], two[4096], both[8192], err[8192];
    char *calib = first_story_file(), gen[1024];
    snprintf(gen, sizeof gen, "generate " MODEL_ARGS " --steps 30 --temperature 0 --recipe w8a8 "
             "--calib %s", calib);
    char args[2048];
    snprintf(args, sizeof args, "%s --backend ref --prompt 'Tom had a red ball.'", gen);
    ck_assert_int_eq(sq_run_cli(args, one, sizeof one, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(one, "Tom had a red ball."));
    snprintf(args, sizeof args, "%s --backend ref --prompt 'The cat'", gen);
    ck_assert_int_eq(sq_run_cli(args, two, sizeof two, err, sizeof err), 0);
    char *json = sq_tmpfile("", 0);
    snprintf(args, sizeof args, "%s --backend ref --prompt 'Tom had a red ball.' "
             "--prompt 'The cat' --report %s --launch-us 10 --pcie-gbps 4", gen, json);
    ck_assert_msg(sq_run_cli(args, both, sizeof both, err, sizeof err) == 0, "%s", err);
    char cat[8192];
    snprintf(cat, sizeof cat, "%s%s", one, two);
    ck_assert_str_eq(both, cat);
    cJSON *r = load_json(json);
    ck_assert_int_eq((int)num(r, "sequences"), 2);
    ck_assert_double_eq(num(r, "launch_us"), 10);
    ck_assert_double_eq(num(r, "pcie_gbps"), 4);
    cJSON *ph = cJSON_GetObjectItem(r, "phases");
    cJSON *pre = cJSON_GetObjectItem(ph, "prefill"), *dec = cJSON_GetObjectItem(ph, "decode");
    ck_assert_int_eq((int)num(pre, "steps"), 2); /* one run per prompt */
    ck_assert_double_gt(num(pre, "runs_per_step"), 0);
    ck_assert_double_gt(num(dec, "runs_per_step"), 0);
    /* per step: two token ids written, two argmax read, the patched descriptors */
    ck_assert_double_ge(num(dec, "pcie_bytes_per_step"), 16);
    ck_assert_double_eq(num(dec, "launch_us"), 10 * num(dec, "runs_per_step"));
    ck_assert_double_eq_tol(num(dec, "total_us"),
                            num(dec, "device_us") + num(dec, "launch_us") + num(dec, "pcie_us") +
                                num(dec, "host_us"),
                            1e-6);
    ck_assert(!cJSON_IsTrue(cJSON_GetObjectItem(dec, "device_counted"))); /* ref: no cycles */
    /* aggregate: the sequences still running per step (the shorter prompt ends later) */
    double per_step = num(dec, "tokens") / num(dec, "steps");
    ck_assert_double_gt(per_step, 1);
    ck_assert_double_le(per_step, 2);
    ck_assert_double_eq_tol(num(dec, "tokens_per_s"),
                            per_step * num(dec, "tokens_per_s_per_sequence"),
                            1e-6 * num(dec, "tokens_per_s"));
    cJSON_Delete(r);
    ck_assert_ptr_nonnull(strstr(err, "runs/step"));
    ck_assert_ptr_nonnull(strstr(err, "sequences at once"));
    /* --batch 2 with one prompt: the same text twice */
    snprintf(args, sizeof args, "%s --backend ref --prompt 'The cat' --batch 2", gen);
    ck_assert_int_eq(sq_run_cli(args, both, sizeof both, err, sizeof err), 0);
    snprintf(cat, sizeof cat, "%s%s", two, two);
    ck_assert_str_eq(both, cat);
    /* the linears-only path: 36 runs a decode token (one per linear) */
    snprintf(args, sizeof args, "%s --backend ref --offload linears --prompt 'The cat' "
             "--report %s", gen, json);
    ck_assert_int_eq(sq_run_cli(args, both, sizeof both, err, sizeof err), 0);
    r = load_json(json);
    dec = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "phases"), "decode");
    ck_assert_double_eq(num(dec, "runs_per_step"), 36);
    ck_assert_double_gt(num(dec, "pcie_bytes_per_step"), 36 * 64);
    cJSON_Delete(r);
    /* a host run: its wall time is the whole latency */
    snprintf(args, sizeof args, "%s --prompt 'The cat' --report %s", gen, json);
    ck_assert_int_eq(sq_run_cli(args, both, sizeof both, err, sizeof err), 0);
    r = load_json(json);
    ck_assert_str_eq(cJSON_GetObjectItem(r, "level")->valuestring, "host");
    dec = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "phases"), "decode");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(dec, "device_counted")));
    ck_assert_double_gt(num(dec, "host_us"), 0);
    ck_assert_double_eq(num(dec, "runs_per_step"), 0);
    cJSON_Delete(r);
    char svg[4096];
    snprintf(svg, sizeof svg, "%s.svg", json);
    unlink(svg);
    unlink(json);
    free(json);
    /* bad values and combinations are one line */
    snprintf(args, sizeof args, "%s --launch-us -1", gen);
    ck_assert_int_eq(sq_run_cli(args, both, sizeof both, err, sizeof err), 2);
    ck_assert_ptr_nonnull(strstr(err, "--launch-us"));
    snprintf(args, sizeof args, "%s --batch 2", gen);
    ck_assert_int_eq(sq_run_cli(args, both, sizeof both, err, sizeof err), 2);
    ck_assert_ptr_nonnull(strstr(err, "integer layer"));
    ck_assert_ptr_null(strchr(strchr(err, '\n') + 1, '\n'));
    unlink(calib);
    free(calib);
}
END_TEST

Suite *intlayer_suite(void)
{
    Suite *s = suite_create("intlayer");
    TCase *tc = sq_tcase(s, "intlayer", 300);
    tcase_add_test(tc, test_stream_valid_and_needed);
    tcase_add_test(tc, test_greedy_matches_fp32);
    tcase_add_test(tc, test_one_launch_csim_opencl);
    tcase_add_test(tc, test_one_launch_rtl_model);
    tcase_add_test(tc, test_one_launch_gscale);
    tcase_add_test(tc, test_group_scales_run);
    tcase_add_test(tc, test_prefill_equals_steps);
    tcase_add_test(tc, test_batch_equals_single);
    tcase_add_test(tc, test_batch_positions_limit);
    tcase_add_test(tc, test_cli);
    tcase_add_test(tc, test_cli_levels);
    tcase_add_test(tc, test_cli_levels_gscale);
    tcase_add_test(tc, test_cli_prompt_batch_report);
    return s;
}
