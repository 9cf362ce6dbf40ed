/* safetensors reader, WordPiece tokenizer and the BERT encoder: corrupt
 * files give one error line; tokenization rules on a small vocabulary;
 * all-MiniLM-L6-v2 token ids and embeddings against sentence-transformers
 * (tests/minilm_ref.inc, from scripts/minilm_reference.py). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/bert.h"
#include "model/safetensors.h"
#include "model/wordpiece.h"
#include "testutil.h"
#include "util/bytes.h"
#include "util/err.h"

#include "minilm_ref.inc"

/* ---------------------------------------------------------------------------
 * safetensors */

/* A file image: 8-byte length, the JSON header, then data bytes 0, 1, 2, ... */
static uint8_t *st_image(const char *json, size_t data_bytes, size_t *n)
{
    size_t h = strlen(json);
    *n = 8 + h + data_bytes;
    uint8_t *img = malloc(*n);
    sq_le_put(img, h, 8);
    memcpy(img + 8, json, h);
    for (size_t i = 0; i < data_bytes; i++)
        img[8 + h + i] = (uint8_t)i;
    return img;
}

static void st_expect_bad(const char *json, size_t data_bytes, const char *want)
{
    size_t n;
    uint8_t *img = st_image(json, data_bytes, &n);
    sq_st_t *st = (sq_st_t *)1;
    int rc = sq_st_parse(img, n, &st);
    ck_assert_msg(rc == SQ_ERR_FMT, "%s: expected an error with '%s', got %d", json, want, rc);
    ck_assert_ptr_null(st);
    ck_assert_msg(strstr(sq_err_msg(), want), "%s: message '%s' lacks '%s'", json, sq_err_msg(),
                  want);
}

#define GOOD_JSON                                                                        \
    "{\"__metadata__\":{\"format\":\"pt\"},"                                             \
    "\"b\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[8,14]},"                   \
    "\"a\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[0,8]},"                  \
    "\"c\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[14,16]},"                 \
    "\"e\":{\"dtype\":\"I8\",\"shape\":[0,4],\"data_offsets\":[16,16]}}  "

START_TEST(test_st_good)
{
    size_t n;
    uint8_t *img = st_image(GOOD_JSON, 16, &n);
    /* a: 1.5, -2; b: 1, -0.5, 65504 (f16 max); c: bf16 -3 */
    const float a[2] = {1.5f, -2.0f};
    memcpy(img + n - 16, a, 8);
    const uint16_t b[3] = {0x3C00, 0xB800, 0x7BFF};
    for (int i = 0; i < 3; i++)
        sq_le_put(img + n - 8 + 2 * i, b[i], 2);
    sq_le_put(img + n - 2, 0xC040, 2);
    sq_st_t *st;
    ck_assert_msg(sq_st_parse(img, n, &st) == 0, "%s", sq_err_msg());
    ck_assert_uint_eq(sq_st_count(st), 4);
    ck_assert_str_eq(sq_st_metadata(st, "format"), "pt");
    ck_assert_ptr_null(sq_st_metadata(st, "nope"));
    const sq_st_tensor_t *e = sq_st_find(st, "e");
    ck_assert_uint_eq(e->numel, 0);
    ck_assert_int_eq(e->dtype, SQ_ST_I8);
    float out[3];
    ck_assert_int_eq(sq_st_read_f32(st, "a", 2, (const uint64_t[]){2, 1}, out), 0);
    ck_assert_float_eq(out[0], 1.5f);
    ck_assert_float_eq(out[1], -2.0f);
    ck_assert_int_eq(sq_st_read_f32(st, "b", 1, (const uint64_t[]){3}, out), 0);
    ck_assert_float_eq(out[0], 1.0f);
    ck_assert_float_eq(out[1], -0.5f);
    ck_assert_float_eq(out[2], 65504.0f);
    ck_assert_int_eq(sq_st_read_f32(st, "c", 1, (const uint64_t[]){1}, out), 0);
    ck_assert_float_eq(out[0], -3.0f);
    ck_assert_int_eq(sq_st_read_f32(st, "a", 1, (const uint64_t[]){2}, out), SQ_ERR_FMT);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "has shape [2x1], expected [2]"));
    ck_assert_int_eq(sq_st_read_f32(st, "zz", 1, (const uint64_t[]){2}, out), SQ_ERR_FMT);
    ck_assert_int_eq(sq_st_read_f32(st, "e", 2, (const uint64_t[]){0, 4}, out), SQ_ERR_FMT);
    sq_st_free(st);
}
END_TEST

START_TEST(test_st_f16_conversion)
{
    ck_assert_float_eq(sq_f16_to_f32(0x0001), ldexpf(1.0f, -24)); /* smallest subnormal */
    ck_assert_float_eq(sq_f16_to_f32(0x8000), -0.0f);
    ck_assert(isinf(sq_f16_to_f32(0x7C00)));
    ck_assert(isnan(sq_f16_to_f32(0x7E00)));
    ck_assert_float_eq(sq_f16_to_f32(0x0400), ldexpf(1.0f, -14)); /* smallest normal */
    ck_assert_float_eq(sq_bf16_to_f32(0x3F80), 1.0f);
}
END_TEST

START_TEST(test_st_corrupt)
{
    size_t n;
    uint8_t *img = st_image(GOOD_JSON, 16, &n);
    sq_st_t *st;
    uint8_t *cut = malloc(7);
    memcpy(cut, img, 7);
    ck_assert_int_eq(sq_st_parse(cut, 7, &st), SQ_ERR_FMT); /* truncated length */
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "truncated"));
    sq_le_put(img, n, 8); /* header longer than the file */
    ck_assert_int_eq(sq_st_parse(img, n, &st), SQ_ERR_FMT);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "does not fit"));
    img = st_image(GOOD_JSON, 15, &n); /* data truncated by one byte */
    ck_assert_int_eq(sq_st_parse(img, n, &st), SQ_ERR_FMT);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "outside the 15-byte buffer"));
    st_expect_bad(GOOD_JSON, 17, "1 bytes of data after the last tensor");
    st_expect_bad("[1,2]", 0, "does not start with '{'");
    st_expect_bad("{\"a\":{\"dtype\":\"F32\",", 0, "not a JSON object");
    st_expect_bad("{\"a\":{}} x", 0, "bytes after the JSON header");
    st_expect_bad("{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                  "unknown dtype 'Q4'");
    st_expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
                  "shape needs a different number of bytes");
    st_expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1e15,1e15],\"data_offsets\":[0,4]}}", 4,
                  "absurdly many");
    st_expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4,
                  "shape[0] is not a non-negative integer");
    st_expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4,
                  "shape[0] is not a non-negative integer");
    st_expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 4,
                  "outside the 4-byte buffer");
    st_expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4,
                  "data_offsets [4, 0)");
    st_expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4,
                  "two non-negative integers");
    st_expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                  "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}",
                  8, "overlaps");
    st_expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8,
                  "hole");
    st_expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                  "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                  8, "duplicate tensor name 'a'");
    st_expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4,
                  "unexpected keys");
    st_expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],"
                  "\"data_offsets\":[0,4]}}",
                  4, "9 dimensions");
    st_expect_bad("{\"__metadata__\":{\"k\":1}}", 0, "is not a string");
    st_expect_bad("{\"a\xff\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4,
                  "not valid UTF-8");
}
END_TEST

/* ---------------------------------------------------------------------------
 * WordPiece on a small vocabulary */

static const char small_vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nworld\n,\n!\nun\n##aff\n"
                                  "##able\ncafe\n\xe6\x9d\xb1\n'\ns\ni\n";

static sq_wp_t *small(void)
{
    sq_wp_t *wp;
    ck_assert_msg(sq_wp_parse(small_vocab, sizeof small_vocab - 1, &wp) == 0, "%s", sq_err_msg());
    return wp;
}

static void expect_ids(const sq_wp_t *wp, const char *text, size_t max, const int32_t *want,
                       size_t n_want)
{
    int32_t ids[64];
    size_t n;
    ck_assert_int_eq(sq_wp_encode(wp, text, max, ids, &n), 0);
    ck_assert_msg(n == n_want, "'%s': %zu tokens, expected %zu", text, n, n_want);
    sq_assert_i32_eq(ids, want, n);
}

START_TEST(test_wp_rules)
{
    sq_wp_t *wp = small();
    ck_assert_uint_eq(sq_wp_vocab_size(wp), 16);
    ck_assert_str_eq(sq_wp_token(wp, 9), "##aff");
    ck_assert_ptr_null(sq_wp_token(wp, 16));
    ck_assert_int_eq(sq_wp_id(wp, "cafe"), 11);
    /* lowercase, punctuation split, whitespace of several kinds */
    expect_ids(wp, "Hello,\tWORLD!", 64, (const int32_t[]){2, 4, 6, 5, 7, 3}, 6);
    /* ## continuation, greedy longest match first */
    expect_ids(wp, "unaffable", 64, (const int32_t[]){2, 8, 9, 10, 3}, 5);
    /* an unmatchable rest makes the whole word [UNK] */
    expect_ids(wp, "unaffablex hello", 64, (const int32_t[]){2, 1, 4, 3}, 4);
    /* accents stripped (precomposed and combining), U+2003 em space, NBSP */
    expect_ids(wp, "CAF\xc3\x89\xe2\x80\x83" "cafe\xcc\x81\xc2\xa0hello", 64,
               (const int32_t[]){2, 11, 11, 4, 3}, 5);
    /* CJK ideographs are words of their own; control characters vanish */
    expect_ids(wp, "\xe6\x9d\xb1hel\x01lo\xe2\x80\x8b", 64, (const int32_t[]){2, 12, 4, 3}, 4);
    /* apostrophes are punctuation; invalid UTF-8 is dropped */
    expect_ids(wp, "i's\xff", 64, (const int32_t[]){2, 15, 13, 14, 3}, 5);
    /* a word over 100 characters is [UNK] even if its pieces exist */
    char longw[1 + 2 * 101 + 1] = "i";
    for (int i = 0; i < 101; i++)
        memcpy(longw + 1 + 2 * i, "\xc3\xad", 2); /* í folds to i, but 102 chars */
    expect_ids(wp, longw, 64, (const int32_t[]){2, 1, 3}, 3);
    /* truncation keeps [SEP] */
    expect_ids(wp, "hello world hello", 3, (const int32_t[]){2, 4, 3}, 3);
    expect_ids(wp, "", 64, (const int32_t[]){2, 3}, 2);
    int32_t ids[2];
    size_t n;
    ck_assert_int_eq(sq_wp_encode(wp, "x", 1, ids, &n), SQ_ERR_ARG);
    sq_wp_free(wp);
}
END_TEST

START_TEST(test_wp_bad_vocab)
{
    sq_wp_t *wp;
    ck_assert_int_eq(sq_wp_parse("[CLS]\n[SEP]\nx\n", 14, &wp), SQ_ERR_FMT);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "lacks"));
    ck_assert_int_eq(sq_wp_parse("[CLS]\n[SEP]\n[UNK]\n[SEP]\n", 24, &wp), SQ_ERR_FMT);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "line 4 repeats"));
    ck_assert_int_eq(sq_wp_parse("[CLS]\n\n[SEP]\n[UNK]\n", 20, &wp), SQ_ERR_FMT);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "line 2 is empty"));
    ck_assert_int_eq(sq_wp_parse("[CLS]\n\xc0\x80\n[SEP]\n[UNK]\n", 22, &wp), SQ_ERR_FMT);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "line 2 is not valid UTF-8"));
    ck_assert_int_eq(sq_wp_parse("", 0, &wp), SQ_ERR_FMT);
    ck_assert_ptr_null(wp);
    /* no trailing newline is fine */
    ck_assert_int_eq(sq_wp_parse("[CLS]\n[SEP]\n[UNK]", 17, &wp), 0);
    ck_assert_uint_eq(sq_wp_vocab_size(wp), 3);
    sq_wp_free(wp);
}
END_TEST

/* ---------------------------------------------------------------------------
 * all-MiniLM-L6-v2 against sentence-transformers */

START_TEST(test_minilm_reference)
{
    char path[4200];
    if (sq_test_model("minilm", "test_bert", path, sizeof path))
        return;
    sq_bert_t m;
    ck_assert_msg(sq_bert_load(path, &m) == 0, "%s", sq_err_msg());
    ck_assert_int_eq(m.cfg.dim, 384);
    ck_assert_int_eq(m.cfg.n_layers, 6);
    ck_assert_int_eq(m.cfg.n_heads, 12);
    ck_assert_int_eq(m.cfg.hidden_dim, 1536);
    ck_assert_float_eq(m.cfg.norm_eps, 1e-12f);
    float emb[384];
    for (size_t s = 0; s < sizeof minilm_ref / sizeof minilm_ref[0]; s++) {
        int32_t ids[64];
        size_t n;
        ck_assert_int_eq(sq_wp_encode(m.tok, minilm_ref[s].text, 64, ids, &n), 0);
        ck_assert_uint_eq(n, (size_t)minilm_ref[s].n_ids);
        sq_assert_i32_eq(ids, minilm_ref[s].ids, n);
        ck_assert_int_eq(sq_bert_embed(&m, minilm_ref[s].text, emb, &n, NULL), 0);
        double dot = 0, na = 0, nb = 0, maxd = 0;
        for (size_t i = 0; i < 384; i++) {
            dot += (double)emb[i] * minilm_ref[s].emb[i];
            na += (double)emb[i] * emb[i];
            nb += (double)minilm_ref[s].emb[i] * minilm_ref[s].emb[i];
            double d = fabs((double)emb[i] - minilm_ref[s].emb[i]);
            maxd = d > maxd ? d : maxd;
        }
        double cosine = dot / sqrt(na * nb);
        ck_assert_msg(cosine >= 0.9999 && maxd < 1e-5,
                      "sentence %zu: cosine %.9f, max |diff| %.3g against sentence-transformers", s,
                      cosine, maxd);
    }
    sq_bert_free(&m);
}
END_TEST

START_TEST(test_cli_embed)
{
    char path[4200];
    if (sq_test_model("minilm", "test_bert", path, sizeof path))
        return;
    char out[16384], err[1024], args[4400];
    ck_assert_int_eq(sq_run_cli("embed --tokens --text 'Hello, WORLD!'", out, sizeof out, err,
                                sizeof err),
                     0);
    ck_assert_str_eq(out, "101 7592 1010 2088 999 102\n");
    char *f = sq_tmpfile("first line\n\nsecond\r\n", 20);
    snprintf(args, sizeof args, "embed --model %s/model.safetensors --file %s", path, f);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 0);
    size_t lines = 0, fields = 0;
    for (char *p = out; *p; p++) {
        lines += *p == '\n';
        fields += *p == ' ' || *p == '\n';
    }
    ck_assert_uint_eq(lines, 2);
    ck_assert_uint_eq(fields, 2 * 384);
    unlink(f);
    free(f);
    ck_assert_int_eq(sq_run_cli("embed", out, sizeof out, err, sizeof err), 2);
    ck_assert_int_eq(sq_run_cli("embed --text x --model /nonexistent", out, sizeof out, err,
                                sizeof err),
                     2);
    ck_assert_msg(strstr(err, "sparq embed: ") && strchr(err, '\n') == err + strlen(err) - 1,
                  "%s", err);
    snprintf(args, sizeof args, "info %s/model.safetensors", path);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 0);
    ck_assert_msg(strstr(out, "safetensors") && strstr(out, "22713216"), "%s", out);
}
END_TEST

Suite *bert_suite(void)
{
    Suite *s = suite_create("bert");
    TCase *tc = sq_tcase(s, "safetensors", 10);
    tcase_add_test(tc, test_st_good);
    tcase_add_test(tc, test_st_f16_conversion);
    tcase_add_test(tc, test_st_corrupt);
    tc = sq_tcase(s, "wordpiece", 10);
    tcase_add_test(tc, test_wp_rules);
    tcase_add_test(tc, test_wp_bad_vocab);
    tc = sq_tcase(s, "minilm", 120);
    tcase_add_test(tc, test_minilm_reference);
    tcase_add_test(tc, test_cli_embed);
    return s;
}
