/* The spine: llama2.c loading (and its validation), the tokenizer, the fp32
 * forward pass against the published greedy text, w8a8, eval and the CLI. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compress/qmodel.h"
#include "model/eval.h"
#include "model/llama.h"
#include "model/tokenizer.h"
#include "testutil.h"
#include "util/err.h"

#define MODEL_ARGS "--model " SQ_MODEL_PATH " --tokenizer " SQ_TOK_PATH
#define SAMPLE SQ_SHARED_DIR "/data/tinystories_sample.txt"

static char out[1 << 16], err[4096];

/* Asserts one error line on stderr (no crash) and the exit code. */
static void expect_cli_error(const char *args, int want_rc)
{
    int rc = sq_run_cli(args, out, sizeof out, err, sizeof err);
    ck_assert_msg(rc == want_rc, "'%s' exited %d, want %d (stderr: %s)", args, rc, want_rc, err);
    size_t n = strlen(err);
    ck_assert_msg(n > 0 && err[n - 1] == '\n' && strchr(err, '\n') == err + n - 1,
                  "'%s': want exactly one error line, got '%s'", args, err);
}

/* ---- generation ---------------------------------------------------------- */

START_TEST(test_greedy_matches_published)
{
    size_t n;
    char *want = sq_slurp(SQ_SHARED_DIR "/data/stories260K_greedy200.txt", &n);
    ck_assert_ptr_nonnull(want);
    int rc = sq_run_cli("generate " MODEL_ARGS " --steps 200 --temperature 0", out, sizeof out,
                        err, sizeof err);
    ck_assert_int_eq(rc, 0);
    size_t got = strlen(out);
    /* byte for byte, plus at most one trailing newline */
    if (got == n + 1 && out[n] == '\n')
        out[n] = 0;
    ck_assert_msg(strcmp(out, want) == 0, "greedy text differs from the published one:\n%s", out);
    free(want);
}
END_TEST

START_TEST(test_separate_classifier_variant)
{
    /* The same weights with the classifier stored separately (negative
     * vocab_size in the header) must generate the same text. */
    size_t n;
    uint8_t *orig = sq_slurp(SQ_MODEL_PATH, &n);
    ck_assert_ptr_nonnull(orig);
    int32_t hdr[7];
    memcpy(hdr, orig, sizeof hdr);
    size_t emb = (size_t)hdr[5] * (size_t)hdr[0] * sizeof(float);
    uint8_t *sep = malloc(n + emb);
    memcpy(sep, orig, n);
    memcpy(sep + n, orig + sizeof hdr, emb); /* token embedding as classifier */
    hdr[5] = -hdr[5];
    memcpy(sep, hdr, sizeof hdr);
    char *path = sq_tmpfile(sep, n + emb);
    sq_llama_t m;
    ck_assert_int_eq(sq_llama_load(path, &m), 0);
    ck_assert_int_eq(m.cfg.shared_classifier, 0);
    ck_assert_ptr_ne(m.w.wcls, m.w.token_embedding);
    ck_assert_int_eq(memcmp(m.w.wcls, m.w.token_embedding, emb), 0);
    sq_llama_free(&m);

    char args[512];
    snprintf(args, sizeof args, "generate --model %s --tokenizer " SQ_TOK_PATH
             " --steps 40 --temperature 0", path);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 0);
    char shared_out[sizeof out];
    strcpy(shared_out, out);
    ck_assert_int_eq(sq_run_cli("generate " MODEL_ARGS " --steps 40 --temperature 0", out,
                                sizeof out, err, sizeof err), 0);
    ck_assert_str_eq(out, shared_out);
    unlink(path);
    free(path);
    free(sep);
    free(orig);
}
END_TEST

START_TEST(test_sampling_seeded)
{
    char a[4096], b[4096];
    ck_assert_int_eq(sq_run_cli("generate " MODEL_ARGS " --steps 40 --temperature 0.9 --seed 7",
                                a, sizeof a, err, sizeof err), 0);
    ck_assert_int_eq(sq_run_cli("generate " MODEL_ARGS " --steps 40 --temperature 0.9 --seed 7",
                                b, sizeof b, err, sizeof err), 0);
    ck_assert_str_eq(a, b);
    ck_assert_int_eq(sq_run_cli("generate " MODEL_ARGS " --steps 40 --temperature 0.9 --seed 8",
                                b, sizeof b, err, sizeof err), 0);
    ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(test_prompt_continues)
{
    ck_assert_int_eq(sq_run_cli("generate " MODEL_ARGS
                                " --prompt 'Once upon a time, Tom' --steps 30 --temperature 0",
                                out, sizeof out, err, sizeof err), 0);
    ck_assert_msg(strncmp(out, "Once upon a time, Tom", 21) == 0, "got '%s'", out);
    ck_assert_uint_gt(strlen(out), 40);
}
END_TEST

/* ---- tokenizer ----------------------------------------------------------- */

static void load_tok(sq_tokenizer_t *t)
{
    ck_assert_int_eq(sq_tokenizer_load(SQ_TOK_PATH, 512, t), 0);
}

static void decode_all(const sq_tokenizer_t *t, const int *ids, int n, char *buf, size_t cap)
{
    buf[0] = 0;
    char b[2];
    for (int i = 1; i < n; i++)
        strncat(buf, sq_tokenizer_decode(t, ids[i - 1], ids[i], b), cap - strlen(buf) - 1);
}

START_TEST(test_tokenizer_roundtrip_and_byte_fallback)
{
    sq_tokenizer_t t;
    load_tok(&t);
    /* "✓" (3 bytes) is not in the 512-piece vocabulary: each of its bytes
     * becomes its <0xHH> token */
    const char *text = "Lily saw a caf\xc3\xa9 \xe2\x9c\x93 and smiled.";
    int ids[128], n;
    ck_assert_int_eq(sq_tokenizer_encode(&t, text, 1, 0, ids, &n), 0);
    ck_assert_int_eq(ids[0], SQ_TOK_BOS);
    int bytes = 0;
    for (int i = 0; i < n; i++)
        if (ids[i] >= 3 && ids[i] < 3 + 256)
            bytes++;
    ck_assert_int_ge(bytes, 3);
    char buf[256];
    decode_all(&t, ids, n, buf, sizeof buf);
    ck_assert_str_eq(buf, text);
    /* merges happened: far fewer tokens than characters */
    ck_assert_int_lt(n, (int)strlen(text));
    /* EOS is appended when asked; empty text is just BOS */
    ck_assert_int_eq(sq_tokenizer_encode(&t, "", 1, 1, ids, &n), 0);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(ids[1], SQ_TOK_EOS);
    sq_tokenizer_free(&t);
}
END_TEST

START_TEST(test_tokenizer_vocab_mismatch)
{
    sq_tokenizer_t t;
    ck_assert_int_lt(sq_tokenizer_load(SQ_TOK_PATH, 600, &t), 0);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "truncated"));
    ck_assert_int_lt(sq_tokenizer_load(SQ_TOK_PATH, 400, &t), 0);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "another model"));
}
END_TEST

/* Byte pieces are exactly "<0xHH>": a sign or a space inside is an ordinary
 * piece. Regression: sscanf("<0x%2X>") read "<0x-1>" as byte 0xFFFFFFFF and
 * wrote far outside byte_tokens (SEGV), and "<0x+F>" as byte 0x0F. */
START_TEST(test_tokenizer_byte_pieces_strict)
{
    size_t n;
    uint8_t *img = sq_slurp(SQ_TOK_PATH, &n);
    ck_assert_ptr_nonnull(img);
    /* entries: float score, int32 len, len bytes; byte pieces are ids 3..258 */
    const struct {
        int id;
        const char *piece;
    } pokes[] = {{3 + 0x41, "<0x-1>"}, {3 + 0x42, "<0x+F>"}, {3 + 0x43, "<0x 7>"}};
    size_t off = 4;
    for (int id = 0, p = 0; id < 512 && p < 3; id++) {
        int32_t len;
        memcpy(&len, img + off + 4, 4);
        if (id == pokes[p].id) {
            ck_assert_int_eq(len, 6);
            memcpy(img + off + 8, pokes[p++].piece, 6);
        }
        off += 8 + (size_t)len;
    }
    char *path = sq_tmpfile(img, n);
    sq_tokenizer_t t;
    ck_assert_msg(sq_tokenizer_load(path, 512, &t) == 0, "%s", sq_err_msg());
    ck_assert_int_eq(t.byte_tokens[0x41], -1);
    ck_assert_int_eq(t.byte_tokens[0x42], -1);
    ck_assert_int_eq(t.byte_tokens[0x43], -1);
    ck_assert_int_eq(t.byte_tokens[0x0F], 3 + 0x0F);
    ck_assert_int_eq(t.byte_tokens[0x07], 3 + 0x07);
    char b[2];
    ck_assert_str_eq(sq_tokenizer_decode(&t, 5, 3 + 0x41, b), "<0x-1>");
    ck_assert_str_eq(sq_tokenizer_decode(&t, 5, 3 + 0x0F, b), "\x0f");
    sq_tokenizer_free(&t);
    unlink(path);
    free(path);
    free(img);
}
END_TEST

/* Wrapping the last message with context. Regression: sq_err formatted into
 * the buffer sq_err_msg() returns, so "model '/dev/zero': %s" repeated its
 * own prefix ("model '/dev/zero': model '/dev/zero': [1, 65536]"). */
START_TEST(test_error_wraps_last_message)
{
    sq_err(SQ_ERR_FMT, "inner %d", 42);
    ck_assert_int_eq(sq_err(SQ_ERR_IO, "outer: %s", sq_err_msg()), SQ_ERR_IO);
    ck_assert_str_eq(sq_err_msg(), "outer: inner 42");
    sq_llama_t m;
    ck_assert_int_eq(sq_llama_load("/dev/zero", &m), SQ_ERR_FMT);
    const char *want = "model '/dev/zero': dim 0 out of range [1, ";
    ck_assert_msg(!strncmp(sq_err_msg(), want, strlen(want)), "got '%s'", sq_err_msg());
    expect_cli_error("generate --model /dev/zero --tokenizer " SQ_TOK_PATH, 1);
    ck_assert_msg(!strncmp(err, "sparq generate: ", 16) && !strncmp(err + 16, want, strlen(want)),
                  "got '%s'", err);
}
END_TEST

/* ---- corrupt files ------------------------------------------------------- */

typedef struct {
    const char *what;
    int32_t hdr[7]; /* replaces the header when hdr[0] != 0 */
    long size;      /* new size in bytes when >= 0 (truncation), -1 keeps it */
    long extra;     /* bytes appended */
    long nan_at;    /* byte offset to overwrite with a NaN, or -1 */
} model_case_t;

START_TEST(test_corrupt_models)
{
    size_t n;
    uint8_t *orig = sq_slurp(SQ_MODEL_PATH, &n);
    ck_assert_ptr_nonnull(orig);
    const model_case_t cases[] = {
        {"empty file", {0}, 0, 0, -1},
        {"truncated header", {0}, 20, 0, -1},
        {"truncated weights", {0}, 1000, 0, -1},
        {"one byte short", {0}, (long)n - 1, 0, -1},
        {"trailing bytes", {0}, -1, 7, -1},
        {"negative dim", {-64, 172, 5, 8, 4, 512, 512}, -1, 0, -1},
        {"zero layers", {64, 172, 0, 8, 4, 512, 512}, -1, 0, -1},
        {"absurd dim", {1 << 30, 172, 5, 8, 4, 512, 512}, -1, 0, -1},
        {"heads do not divide dim", {64, 172, 5, 7, 7, 512, 512}, -1, 0, -1},
        {"kv heads do not divide heads", {64, 172, 5, 8, 3, 512, 512}, -1, 0, -1},
        {"size mismatch (more layers)", {64, 172, 6, 8, 4, 512, 512}, -1, 0, -1},
        {"negative seq_len", {64, 172, 5, 8, 4, 512, -512}, -1, 0, -1},
        {"INT32_MIN vocab", {64, 172, 5, 8, 4, INT32_MIN, 512}, -1, 0, -1},
        {"NaN weight", {0}, -1, 0, 28 + 4 * 1000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const model_case_t *c = &cases[i];
        size_t len = c->size >= 0 ? (size_t)c->size : n;
        uint8_t *buf = calloc(len + (size_t)c->extra + 1, 1);
        memcpy(buf, orig, len < n ? len : n);
        if (c->hdr[0])
            memcpy(buf, c->hdr, sizeof c->hdr);
        if (c->nan_at >= 0) {
            float nan = NAN;
            memcpy(buf + c->nan_at, &nan, sizeof nan);
        }
        char *path = sq_tmpfile(buf, len + (size_t)c->extra);
        sq_llama_t m;
        int rc = sq_llama_load(path, &m);
        ck_assert_msg(rc == SQ_ERR_FMT, "%s: load returned %d (%s)", c->what, rc, sq_err_msg());
        ck_assert_msg(strlen(sq_err_msg()) > 10, "%s: no message", c->what);
        char args[512];
        snprintf(args, sizeof args, "generate --model %s --tokenizer " SQ_TOK_PATH " --steps 5",
                 path);
        expect_cli_error(args, 1);
        unlink(path);
        free(path);
        free(buf);
    }
    free(orig);
}
END_TEST

START_TEST(test_corrupt_tokenizers)
{
    size_t n;
    uint8_t *orig = sq_slurp(SQ_TOK_PATH, &n);
    ck_assert_ptr_nonnull(orig);
    struct {
        const char *what;
        size_t len;
        long poke_at;
        int32_t poke;
    } cases[] = {
        {"empty", 0, -1, 0},
        {"truncated mid-entry", n / 2, -1, 0},
        {"negative max length", n, 0, -5},
        {"entry longer than max", n, 8, 1000},
        {"negative entry length", n, 8, -1},
        {"NaN score", n, 4, 0x7fc00000},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *buf = malloc(n);
        memcpy(buf, orig, n);
        if (cases[i].poke_at >= 0)
            memcpy(buf + cases[i].poke_at, &cases[i].poke, 4);
        char *path = sq_tmpfile(buf, cases[i].len);
        sq_tokenizer_t t;
        ck_assert_msg(sq_tokenizer_load(path, 512, &t) == SQ_ERR_FMT, "%s accepted",
                      cases[i].what);
        char args[512];
        snprintf(args, sizeof args, "generate --model " SQ_MODEL_PATH " --tokenizer %s", path);
        expect_cli_error(args, 1);
        unlink(path);
        free(path);
        free(buf);
    }
    free(orig);
}
END_TEST

/* --max-mem: every command adds up what a request needs before allocating
 * and refuses in one line (exit 2); the default is 8 GiB. */
START_TEST(test_max_mem_refuses_up_front)
{
    static const struct {
        const char *args, *needle;
    } refused[] = {
        {"gemm --backend ref --shape 65536x65536x65536", "65536x65536x65536 gemm"},
        {"gemm --backend csim --shape 512x512x512 --max-mem 64M", "device memory"},
        {"attn --backend ref --seq 4096 --heads 256 --head-dim 128 --max-mem 1G",
         "attention case"},
        {"generate " MODEL_ARGS " --max-mem 512K", "the model file"},
        {"generate " MODEL_ARGS " --recipe w8a8 --backend csim --max-mem 100M",
         "device memory of level csim"},
        {"eval " MODEL_ARGS " --text " SAMPLE " --recipe w4g32:gptq --max-mem 3M",
         "compressed model"},
        {"compress " MODEL_ARGS " --recipe w4g32:gptq --report --max-mem=4M",
         "calibration Hessians"},
        {"info --max-mem 1M " SQ_MODEL_PATH, "model file"},
        {"regress --unit attn --max-mem 16M", "attn case 0"},
        {"sweep --shape 64x64x64 --array 8x8 --max-mem 8M", "sweep point"},
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        expect_cli_error(refused[i].args, 2);
        ck_assert_msg(strstr(err, refused[i].needle) && strstr(err, "more than --max-mem"),
                      "'%s': %s", refused[i].args, err);
    }
    expect_cli_error("gemm --max-mem 12x", 2);
    ck_assert_ptr_nonnull(strstr(err, "--max-mem must be a size"));
    expect_cli_error("gemm --max-mem -5G", 2);
    /* within the limit the request runs */
    ck_assert_int_eq(sq_run_cli("gemm --backend ref --shape 64x64x64 --max-mem 300M", out,
                                sizeof out, err, sizeof err), 0);
    ck_assert_int_eq(sq_run_cli("generate " MODEL_ARGS " --steps 4 --max-mem 4M", out,
                                sizeof out, err, sizeof err), 0);
    ck_assert_int_eq(sq_run_cli("gemm --help", out, sizeof out, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(out, "--max-mem SIZE"));
}
END_TEST

/* ---- eval and w8a8 ------------------------------------------------------- */

static double cli_ppl(const char *extra, long *tokens)
{
    char args[512];
    snprintf(args, sizeof args, "eval " MODEL_ARGS " --text " SAMPLE " %s", extra);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 0);
    double ppl;
    ck_assert_int_eq(sscanf(out, "ppl %lf tokens %ld", &ppl, tokens), 2);
    return ppl;
}

START_TEST(test_eval_fp32_and_w8a8)
{
    long t32, t8;
    double fp32 = cli_ppl("", &t32);
    double w8a8 = cli_ppl("--recipe w8a8", &t8);
    ck_assert_int_eq(t32, t8);
    ck_assert_int_gt(t32, 1000);
    /* the trained model is good on its own domain */
    ck_assert_double_lt(fp32, 5.0);
    ck_assert_double_gt(fp32, 1.5);
    ck_assert_msg(fabs(w8a8 / fp32 - 1.0) < 0.01, "w8a8 ppl %f vs fp32 %f", w8a8, fp32);
}
END_TEST

START_TEST(test_eval_story_split)
{
    /* Two stories, the second with surrounding newlines, and an empty one:
     * the count of scored tokens is the sum of the two encodings. */
    sq_llama_t m;
    sq_tokenizer_t t;
    ck_assert_int_eq(sq_llama_load(SQ_MODEL_PATH, &m), 0);
    load_tok(&t);
    int ids[64], n1, n2;
    ck_assert_int_eq(sq_tokenizer_encode(&t, "Tom had a dog.", 0, 0, ids, &n1), 0);
    ck_assert_int_eq(sq_tokenizer_encode(&t, "The dog ran.", 0, 0, ids, &n2), 0);
    sq_eval_result_t r;
    ck_assert_int_eq(sq_eval_text(&m, &t, "Tom had a dog.<|endoftext|>\n\nThe dog ran.\n"
                                  "<|endoftext|>\n\n", NULL, NULL, &r), 0);
    ck_assert_uint_eq(r.tokens, (size_t)(n1 + n2));
    ck_assert_uint_eq(r.stories, 2);
    ck_assert_int_eq(sq_eval_text(&m, &t, "\n<|endoftext|>\n", NULL, NULL, &r), SQ_ERR_ARG);
    sq_tokenizer_free(&t);
    sq_llama_free(&m);
}
END_TEST

START_TEST(test_w8a8_layers_close_to_fp32)
{
    /* Every quantized layer of the real model, fed a real activation, stays
     * within 2% relative L2 error of its fp32 output. */
    sq_llama_t m;
    ck_assert_int_eq(sq_llama_load(SQ_MODEL_PATH, &m), 0);
    sq_recipe_t r;
    ck_assert_int_eq(sq_recipe_parse("w8a8", &r), 0);
    sq_qmodel_t q;
    ck_assert_int_eq(sq_qmodel_build(&q, &m, &r), 0);
    sq_llama_exec_t ex;
    sq_qmodel_exec(&q, &ex);
    float x[512], y8[512];
    for (int l = 0; l < m.cfg.n_layers; l++) {
        for (int kd = 0; kd < SQ_W_COUNT; kd++) {
            if (kd == SQ_W_CLS && l > 0)
                continue; /* one classifier, stored at layer 0 */
            size_t n, k;
            sq_llama_wshape(&m.cfg, (sq_wkind_t)kd, &n, &k);
            /* a real activation: an embedding row, repeated to width k */
            for (size_t j = 0; j < k; j++)
                x[j] = m.w.token_embedding[(size_t)(l + 7) * m.cfg.dim + j % (size_t)m.cfg.dim];
            ck_assert_int_eq(ex.linear(ex.ctx, l, (sq_wkind_t)kd, x, y8), 0);
            const float *w = sq_llama_wptr(&m, l, (sq_wkind_t)kd);
            double num = 0, den = 0;
            for (size_t i = 0; i < n; i++) {
                double acc = 0;
                for (size_t j = 0; j < k; j++)
                    acc += (double)w[i * k + j] * x[j];
                num += (y8[i] - acc) * (y8[i] - acc);
                den += acc * acc;
            }
            ck_assert_msg(sqrt(num / den) < 0.02, "layer %d %s: relative error %f", l,
                          sq_wkind_name[kd], sqrt(num / den));
        }
    }
    sq_qmodel_free(&q);
    sq_llama_free(&m);
}
END_TEST

/* ---- CLI ----------------------------------------------------------------- */

START_TEST(test_cli_errors)
{
    ck_assert_int_eq(sq_run_cli("--help", out, sizeof out, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(out, "generate"));
    ck_assert_ptr_nonnull(strstr(out, "eval"));
    ck_assert_int_eq(sq_run_cli("generate --help", out, sizeof out, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(out, "--temperature"));
    ck_assert_int_eq(sq_run_cli("eval --help", out, sizeof out, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(out, "--text"));
    expect_cli_error("frobnicate", 2);
    expect_cli_error("generate --frobnicate", 2);
    expect_cli_error("generate " MODEL_ARGS " --steps", 2);
    expect_cli_error("generate " MODEL_ARGS " --steps -3", 2);
    expect_cli_error("generate " MODEL_ARGS " --temperature abc", 2);
    expect_cli_error("generate " MODEL_ARGS " --recipe w3a3", 2);
    expect_cli_error("generate --model /nonexistent/model.bin --tokenizer " SQ_TOK_PATH, 2);
    expect_cli_error("generate --model " SQ_MODEL_PATH " --tokenizer /nonexistent/tok.bin", 2);
    expect_cli_error("eval " MODEL_ARGS, 2);
    expect_cli_error("eval " MODEL_ARGS " --text /nonexistent.txt", 2);
    expect_cli_error("eval " MODEL_ARGS " --text " SAMPLE " stray", 2);
}
END_TEST

START_TEST(test_story_split)
{
    char text[] = "\nOne.\n<|endoftext|>\r\n\n<|endoftext|>Two\nlines\n<|endoftext|>";
    char *p = text;
    ck_assert_str_eq(sq_story_next(&p), "One.");
    ck_assert_str_eq(sq_story_next(&p), "");
    ck_assert_str_eq(sq_story_next(&p), "Two\nlines");
    ck_assert_str_eq(sq_story_next(&p), "");
    ck_assert_ptr_null(sq_story_next(&p));
    ck_assert_ptr_null(sq_story_next(&p));
}
END_TEST

Suite *model_suite(void)
{
    Suite *s = suite_create("model");
    TCase *tc = sq_tcase(s, "generate", 120);
    tcase_add_test(tc, test_greedy_matches_published);
    tcase_add_test(tc, test_story_split);
    tcase_add_test(tc, test_separate_classifier_variant);
    tcase_add_test(tc, test_sampling_seeded);
    tcase_add_test(tc, test_prompt_continues);
    tc = sq_tcase(s, "tokenizer", 30);
    tcase_add_test(tc, test_tokenizer_roundtrip_and_byte_fallback);
    tcase_add_test(tc, test_tokenizer_vocab_mismatch);
    tcase_add_test(tc, test_tokenizer_byte_pieces_strict);
    tc = sq_tcase(s, "corrupt", 120);
    tcase_add_test(tc, test_corrupt_models);
    tcase_add_test(tc, test_corrupt_tokenizers);
    tcase_add_test(tc, test_error_wraps_last_message);
    tcase_add_test(tc, test_max_mem_refuses_up_front);
    tc = sq_tcase(s, "eval", 300);
    tcase_add_test(tc, test_eval_fp32_and_w8a8);
    tcase_add_test(tc, test_eval_story_split);
    tcase_add_test(tc, test_w8a8_layers_close_to_fp32);
    tc = sq_tcase(s, "cli", 60);
    tcase_add_test(tc, test_cli_errors);
    return s;
}
