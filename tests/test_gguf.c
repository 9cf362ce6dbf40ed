/* GGUF reader, ggml dequantizers, the GPT-2 BPE tokenizer and SmolLM2:
 * a synthetic file with every metadata type and tensor type read back; one
 * error line for each corruption; token ids and the first greedy tokens of
 * SmolLM2-135M-Instruct against llama.cpp (tests/smollm2_ref.inc, from
 * scripts/smollm2_reference.py). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/bpe.h"
#include "model/gguf.h"
#include "model/gguf_llama.h"
#include "model/sampler.h"
#include "testutil.h"
#include "util/bytes.h"
#include "util/err.h"

#include "gguf_writer.h"
#include "smollm2_ref.inc"

/* ---------------------------------------------------------------------------
 * Test files (written with tests/gguf_writer.h) */

/* Offsets into the test file that the corruption tests edit. */
typedef struct {
    size_t kv_bool_val, kv_u32_type, tensor_names[5], t_ndims[5], t_ne0[5], t_type[5],
        t_offset[5], data;
} marks_t;

/* Tensor payloads with hand-computed expected floats. */
static const float f32_vals[6] = {1.5f, -2.0f, 0.0f, 3.25f, -0.125f, 1e-3f};

static void tensor_info(sq_gw_t *b, marks_t *mk, int i, const char *name, uint32_t nd,
                        const uint64_t *ne, uint32_t type, uint64_t off)
{
    mk->tensor_names[i] = b->n;
    sq_gw_str(b, name);
    mk->t_ndims[i] = b->n;
    sq_gw_u(b, nd, 4);
    mk->t_ne0[i] = b->n;
    for (uint32_t d = 0; d < nd; d++)
        sq_gw_u(b, ne[d], 8);
    mk->t_type[i] = b->n;
    sq_gw_u(b, type, 4);
    mk->t_offset[i] = b->n;
    sq_gw_u(b, off, 8);
}

/* Every metadata type, nested arrays, alignment 64, and tensors F32 (3x2),
 * F16 (4), Q4_0 / Q4_1 / Q8_0 (one 32-element block each). */
static uint8_t *make_gguf(size_t *n, marks_t *mk)
{
    sq_gw_t b = {0};
    marks_t m;
    sq_gw_put(&b, "GGUF", 4);
    sq_gw_u(&b, 3, 4);
    sq_gw_u(&b, 5, 8);  /* tensors */
    sq_gw_u(&b, 16, 8); /* kv */
    sq_gw_kv_head(&b, "general.alignment", SQ_GGUF_U32);
    m.kv_u32_type = b.n - 4;
    sq_gw_u(&b, 64, 4);
    sq_gw_kv_head(&b, "t.u8", SQ_GGUF_U8), sq_gw_u(&b, 200, 1);
    sq_gw_kv_head(&b, "t.i8", SQ_GGUF_I8), sq_gw_u(&b, (uint8_t)-5, 1);
    sq_gw_kv_head(&b, "t.u16", SQ_GGUF_U16), sq_gw_u(&b, 60000, 2);
    sq_gw_kv_head(&b, "t.i16", SQ_GGUF_I16), sq_gw_u(&b, (uint16_t)-300, 2);
    sq_gw_kv_head(&b, "t.i32", SQ_GGUF_I32), sq_gw_u(&b, (uint32_t)-70000, 4);
    sq_gw_kv_head(&b, "t.f32", SQ_GGUF_F32), sq_gw_u(&b, sq_f32_bits(0.75f), 4);
    sq_gw_kv_head(&b, "t.bool", SQ_GGUF_BOOL);
    m.kv_bool_val = b.n;
    sq_gw_u(&b, 1, 1);
    sq_gw_kv_head(&b, "t.str", SQ_GGUF_STRING), sq_gw_str(&b, "h\xc3\xa9llo");
    sq_gw_kv_head(&b, "t.u64", SQ_GGUF_U64), sq_gw_u(&b, (uint64_t)1 << 40, 8);
    sq_gw_kv_head(&b, "t.i64", SQ_GGUF_I64), sq_gw_u(&b, (uint64_t)-2, 8);
    double f64 = -2.5;
    uint64_t f64b;
    memcpy(&f64b, &f64, 8);
    sq_gw_kv_head(&b, "t.f64", SQ_GGUF_F64), sq_gw_u(&b, f64b, 8);
    sq_gw_kv_head(&b, "t.arr_u32", SQ_GGUF_ARRAY), sq_gw_u(&b, SQ_GGUF_U32, 4), sq_gw_u(&b, 3, 8);
    sq_gw_u(&b, 7, 4), sq_gw_u(&b, 8, 4), sq_gw_u(&b, 9, 4);
    sq_gw_kv_head(&b, "t.arr_str", SQ_GGUF_ARRAY), sq_gw_u(&b, SQ_GGUF_STRING, 4), sq_gw_u(&b, 2, 8);
    sq_gw_str(&b, "ab"), sq_gw_str(&b, "");
    /* an array of two arrays of i16 */
    sq_gw_kv_head(&b, "t.nested", SQ_GGUF_ARRAY), sq_gw_u(&b, SQ_GGUF_ARRAY, 4), sq_gw_u(&b, 2, 8);
    sq_gw_u(&b, SQ_GGUF_I16, 4), sq_gw_u(&b, 1, 8), sq_gw_u(&b, 1, 2);
    sq_gw_u(&b, SQ_GGUF_I16, 4), sq_gw_u(&b, 0, 8);
    sq_gw_kv_head(&b, "t.arr_bool", SQ_GGUF_ARRAY), sq_gw_u(&b, SQ_GGUF_BOOL, 4), sq_gw_u(&b, 2, 8);
    sq_gw_u(&b, 0, 1), sq_gw_u(&b, 1, 1);
    tensor_info(&b, &m, 0, "w.f32", 2, (const uint64_t[]){3, 2}, SQ_GGML_F32, 0);
    tensor_info(&b, &m, 1, "w.f16", 1, (const uint64_t[]){4}, SQ_GGML_F16, 64);
    tensor_info(&b, &m, 2, "w.q4_0", 1, (const uint64_t[]){32}, SQ_GGML_Q4_0, 128);
    tensor_info(&b, &m, 3, "w.q4_1", 1, (const uint64_t[]){32}, SQ_GGML_Q4_1, 192);
    tensor_info(&b, &m, 4, "w.q8_0", 1, (const uint64_t[]){32}, SQ_GGML_Q8_0, 256);
    while (b.n % 64)
        sq_gw_u(&b, 0, 1);
    m.data = b.n;
    uint8_t data[256 + 34] = {0};
    memcpy(data, f32_vals, sizeof f32_vals);
    const uint16_t f16[4] = {0x3C00, 0xC000, 0x3555, 0x0001}; /* 1, -2, ~1/3, 2^-24 */
    for (int i = 0; i < 4; i++)
        sq_le_put(data + 64 + 2 * i, f16[i], 2);
    /* Q4_0: d = 0.5; nibble byte j = (j | (15 - j) << 4) */
    sq_le_put(data + 128, 0x3800, 2);
    for (int j = 0; j < 16; j++)
        data[130 + j] = (uint8_t)(j | (15 - j) << 4);
    /* Q4_1: d = 2, m = -1 */
    sq_le_put(data + 192, 0x4000, 2);
    sq_le_put(data + 194, 0xBC00, 2);
    for (int j = 0; j < 16; j++)
        data[196 + j] = (uint8_t)(j | (15 - j) << 4);
    /* Q8_0: d = 0.25, q = j - 16, with -128 at 0 */
    sq_le_put(data + 256, 0x3400, 2);
    for (int j = 0; j < 32; j++)
        data[258 + j] = (uint8_t)(int8_t)(j - 16);
    data[258] = 0x80;
    sq_gw_put(&b, data, sizeof data);
    *n = b.n;
    if (mk)
        *mk = m;
    return b.p;
}

static uint8_t *find(uint8_t *img, size_t n, const char *s)
{
    size_t l = strlen(s);
    for (size_t i = 0; i + l <= n; i++)
        if (!memcmp(img + i, s, l))
            return img + i;
    ck_abort_msg("'%s' not in the test file", s);
    return NULL;
}

static void expect_bad(uint8_t *img, size_t n, const char *want)
{
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, img, n);
    sq_gguf_t *g = (sq_gguf_t *)1;
    int rc = sq_gguf_parse(copy, n, &g);
    ck_assert_msg(rc == SQ_ERR_FMT, "expected an error with '%s', got %d (%s)", want, rc,
                  sq_err_msg());
    ck_assert_ptr_null(g);
    ck_assert_msg(strstr(sq_err_msg(), want), "message '%s' lacks '%s'", sq_err_msg(), want);
}

START_TEST(test_gguf_good)
{
    size_t n;
    uint8_t *img = make_gguf(&n, NULL);
    sq_gguf_t *g;
    ck_assert_msg(sq_gguf_parse(img, n, &g) == 0, "%s", sq_err_msg());
    ck_assert_uint_eq(sq_gguf_version(g), 3);
    ck_assert_uint_eq(sq_gguf_n_kv(g), 16);
    uint64_t u;
    float f;
    ck_assert_int_eq(sq_gguf_get_u64(g, "t.u8", &u), 0); ck_assert_uint_eq(u, 200);
    ck_assert_int_eq(sq_gguf_get_u64(g, "t.u16", &u), 0); ck_assert_uint_eq(u, 60000);
    ck_assert_int_eq(sq_gguf_get_u64(g, "t.u64", &u), 0); ck_assert_uint_eq(u, (uint64_t)1 << 40);
    ck_assert_int_eq(sq_gguf_get_u64(g, "t.i8", &u), SQ_ERR_FMT); /* negative */
    ck_assert_int_eq(sq_gguf_find_kv(g, "t.i8")->v.i, -5);
    ck_assert_int_eq(sq_gguf_find_kv(g, "t.i16")->v.i, -300);
    ck_assert_int_eq(sq_gguf_find_kv(g, "t.i32")->v.i, -70000);
    ck_assert_int_eq(sq_gguf_find_kv(g, "t.i64")->v.i, -2);
    ck_assert_int_eq(sq_gguf_get_f32(g, "t.f32", &f), 0); ck_assert_float_eq(f, 0.75f);
    ck_assert_int_eq(sq_gguf_get_f32(g, "t.f64", &f), 0); ck_assert_float_eq(f, -2.5f);
    ck_assert_int_eq(sq_gguf_get_f32(g, "t.u8", &f), SQ_ERR_FMT);
    int bl;
    ck_assert_int_eq(sq_gguf_get_bool(g, "t.bool", &bl), 0); ck_assert_int_eq(bl, 1);
    sq_gguf_str_t s;
    ck_assert_int_eq(sq_gguf_get_str(g, "t.str", &s), 0);
    ck_assert_uint_eq(s.len, 6);
    ck_assert_int_eq(memcmp(s.p, "h\xc3\xa9llo", 6), 0);
    ck_assert_int_eq(sq_gguf_get_str(g, "missing", &s), SQ_ERR_FMT);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "'missing' is missing"));
    const sq_gguf_kv_t *kv;
    ck_assert_int_eq(sq_gguf_get_arr(g, "t.arr_u32", SQ_GGUF_U32, &kv), 0);
    ck_assert_uint_eq(kv->v.arr.n, 3);
    ck_assert_uint_eq(sq_le_get(kv->v.arr.data + 8, 4), 9);
    ck_assert_int_eq(sq_gguf_get_arr(g, "t.arr_str", SQ_GGUF_STRING, &kv), 0);
    ck_assert_uint_eq(kv->v.arr.strs[0].len, 2);
    ck_assert_uint_eq(kv->v.arr.strs[1].len, 0);
    ck_assert_int_eq(sq_gguf_get_arr(g, "t.arr_str", SQ_GGUF_U32, &kv), SQ_ERR_FMT);
    ck_assert_int_eq(sq_gguf_get_arr(g, "t.nested", SQ_GGUF_ARRAY, &kv), 0);
    ck_assert_uint_eq(kv->v.arr.n, 2);

    ck_assert_uint_eq(sq_gguf_n_tensors(g), 5);
    float out[32];
    const sq_gguf_tensor_t *t = sq_gguf_find_tensor(g, "w.f32");
    ck_assert_uint_eq(t->ne[0], 3); ck_assert_uint_eq(t->ne[1], 2); ck_assert_uint_eq(t->numel, 6);
    ck_assert_int_eq(sq_gguf_dequant(t, out), 0);
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(out[i], f32_vals[i]);
    ck_assert_int_eq(sq_gguf_dequant(sq_gguf_find_tensor(g, "w.f16"), out), 0);
    ck_assert_float_eq(out[0], 1.0f); ck_assert_float_eq(out[1], -2.0f);
    ck_assert_float_eq(out[2], 0.333251953125f); ck_assert_float_eq(out[3], ldexpf(1, -24));
    ck_assert_int_eq(sq_gguf_dequant(sq_gguf_find_tensor(g, "w.q4_0"), out), 0);
    for (int j = 0; j < 16; j++) {
        ck_assert_float_eq(out[j], (float)(j - 8) * 0.5f);
        ck_assert_float_eq(out[j + 16], (float)(15 - j - 8) * 0.5f);
    }
    ck_assert_int_eq(sq_gguf_dequant(sq_gguf_find_tensor(g, "w.q4_1"), out), 0);
    for (int j = 0; j < 16; j++) {
        ck_assert_float_eq(out[j], (float)j * 2.0f - 1.0f);
        ck_assert_float_eq(out[j + 16], (float)(15 - j) * 2.0f - 1.0f);
    }
    ck_assert_int_eq(sq_gguf_dequant(sq_gguf_find_tensor(g, "w.q8_0"), out), 0);
    ck_assert_float_eq(out[0], -32.0f);
    for (int j = 1; j < 32; j++)
        ck_assert_float_eq(out[j], (float)(j - 16) * 0.25f);
    ck_assert_ptr_null(sq_gguf_find_tensor(g, "nope"));
    /* not a Llama model: the loader names what is missing */
    sq_llama_t m;
    ck_assert_int_eq(sq_gguf_load_llama(g, 0, &m), SQ_ERR_FMT);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "'general.architecture' is missing"));
    sq_gguf_free(g);
}
END_TEST

START_TEST(test_gguf_corrupt_header)
{
    size_t n;
    marks_t mk;
    uint8_t *img = make_gguf(&n, &mk);
    expect_bad(img, 20, "truncated GGUF header");
    img[0] = 'X';
    expect_bad(img, n, "bad magic");
    img[0] = 'G';
    sq_le_put(img + 4, 1, 4);
    expect_bad(img, n, "unsupported GGUF version 1");
    sq_le_put(img + 4, 4, 4);
    expect_bad(img, n, "unsupported GGUF version 4");
    sq_le_put(img + 4, 2, 4); /* v2 has the same layout */
    sq_gguf_t *g;
    uint8_t *copy = malloc(n);
    memcpy(copy, img, n);
    ck_assert_int_eq(sq_gguf_parse(copy, n, &g), 0);
    sq_gguf_free(g);
    sq_le_put(img + 8, (uint64_t)1 << 60, 8);
    expect_bad(img, n, "absurd counts");
    sq_le_put(img + 8, 5, 8);
    sq_le_put(img + 16, (uint64_t)1 << 40, 8);
    expect_bad(img, n, "absurd counts");
    sq_le_put(img + 16, 16, 8);
    /* truncated inside the metadata, inside the tensor infos, in the data */
    expect_bad(img, (size_t)(find(img, n, "t.arr_bool") + 10 - img),
               "truncated GGUF file (in metadata)");
    expect_bad(img, mk.t_type[2], "truncated GGUF file (in tensor infos)");
    expect_bad(img, n - 1, "runs past the end of the file");
    free(img);
}
END_TEST

START_TEST(test_gguf_corrupt_metadata)
{
    size_t n;
    marks_t mk;
    uint8_t *img = make_gguf(&n, &mk);
    img[mk.kv_bool_val] = 2;
    expect_bad(img, n, "key 't.bool': bool value is 2");
    img[mk.kv_bool_val] = 1;
    sq_le_put(img + mk.kv_u32_type, 13, 4);
    expect_bad(img, n, "unknown value type 13");
    sq_le_put(img + mk.kv_u32_type, SQ_GGUF_U16, 4); /* alignment must be u32 */
    expect_bad(img, n, "general.alignment must be a u32 power of two");
    sq_le_put(img + mk.kv_u32_type, SQ_GGUF_U32, 4);
    sq_le_put(img + mk.kv_u32_type + 4, 48, 4);
    expect_bad(img, n, "power of two");
    sq_le_put(img + mk.kv_u32_type + 4, 64, 4);
    /* the first key's name: "general.alignment" is 17 bytes at offset 32 */
    ck_assert_int_eq(memcmp(img + 32, "general.alignment", 17), 0);
    sq_le_put(img + 24, (uint64_t)1 << 50, 8);
    expect_bad(img, n, "name length");
    sq_le_put(img + 24, 17, 8);
    img[32] = 0xFF;
    expect_bad(img, n, "metadata key 0: name is not valid UTF-8");
    free(img);
    /* a duplicate key: rename t.u16 to t.i16 */
    img = make_gguf(&n, &mk);
    uint8_t *p = find(img, n, "t.u16");
    ck_assert_ptr_nonnull(p);
    p[2] = 'i';
    expect_bad(img, n, "duplicate metadata key 't.i16'");
    free(img);
    /* string and array lengths past the end */
    img = make_gguf(&n, &mk);
    p = find(img, n, "t.str");
    sq_le_put(p + 5 + 4, (uint64_t)1 << 62, 8);
    expect_bad(img, n, "key 't.str': string runs past the end");
    free(img);
    img = make_gguf(&n, &mk);
    p = find(img, n, "t.arr_u32");
    sq_le_put(p + 9 + 4 + 4, (uint64_t)1 << 61, 8);
    expect_bad(img, n, "absurd array length");
    free(img);
    img = make_gguf(&n, &mk);
    p = find(img, n, "t.arr_bool");
    p[10 + 4 + 4 + 8 + 1] = 7;
    expect_bad(img, n, "bool element 1 is 7");
    free(img);
}
END_TEST

/* Arrays nested deeper than the limit are refused, not recursed into. */
START_TEST(test_gguf_nesting)
{
    sq_gw_t b = {0};
    sq_gw_put(&b, "GGUF", 4);
    sq_gw_u(&b, 3, 4);
    sq_gw_u(&b, 0, 8);
    sq_gw_u(&b, 1, 8);
    sq_gw_kv_head(&b, "deep", SQ_GGUF_ARRAY);
    for (int i = 0; i < 6; i++)
        sq_gw_u(&b, SQ_GGUF_ARRAY, 4), sq_gw_u(&b, 1, 8);
    sq_gw_u(&b, SQ_GGUF_U8, 4), sq_gw_u(&b, 1, 8), sq_gw_u(&b, 0, 1);
    for (int i = 0; i < 64; i++)
        sq_gw_u(&b, 0, 1);
    expect_bad(b.p, b.n, "nested deeper");
    free(b.p);
}
END_TEST

START_TEST(test_gguf_corrupt_tensors)
{
    size_t n;
    marks_t mk;
    uint8_t *img = make_gguf(&n, &mk);
    sq_le_put(img + mk.t_ndims[1], 5, 4);
    expect_bad(img, n, "tensor 'w.f16': 5 dimensions");
    sq_le_put(img + mk.t_ndims[1], 1, 4);
    sq_le_put(img + mk.t_ne0[1], 0, 8);
    expect_bad(img, n, "absurd dimension ne[0] = 0");
    sq_le_put(img + mk.t_ne0[1], 4, 8);
    sq_le_put(img + mk.t_ne0[0], (uint64_t)1 << 40, 8);
    sq_le_put(img + mk.t_ne0[0] + 8, (uint64_t)1 << 40, 8);
    expect_bad(img, n, "absurd dimension ne[1]");
    sq_le_put(img + mk.t_ne0[0], 3, 8);
    sq_le_put(img + mk.t_ne0[0] + 8, 2, 8);
    sq_le_put(img + mk.t_type[1], 4, 4); /* a retired ggml type */
    expect_bad(img, n, "unknown tensor type 4");
    sq_le_put(img + mk.t_type[1], 99, 4);
    expect_bad(img, n, "unknown tensor type 99");
    sq_le_put(img + mk.t_type[1], SQ_GGML_Q8_0, 4); /* ne0 = 4 is not a block of 32 */
    expect_bad(img, n, "not a multiple of the Q8_0 block 32");
    sq_le_put(img + mk.t_type[1], SQ_GGML_F16, 4);
    sq_le_put(img + mk.t_offset[1], 65, 8);
    expect_bad(img, n, "offset 65 is not a multiple of 64");
    sq_le_put(img + mk.t_offset[1], 4096, 8);
    expect_bad(img, n, "runs past the end of the file");
    sq_le_put(img + mk.t_offset[1], (uint64_t)-64, 8);
    expect_bad(img, n, "runs past the end of the file");
    sq_le_put(img + mk.t_offset[1], 0, 8); /* on top of w.f32 */
    expect_bad(img, n, "overlap");
    sq_le_put(img + mk.t_offset[1], 64, 8);
    /* duplicate tensor name: w.f16 -> w.f32 */
    memcpy(img + mk.tensor_names[1] + 8, "w.f32", 5);
    expect_bad(img, n, "duplicate tensor name 'w.f32'");
    memcpy(img + mk.tensor_names[1] + 8, "w.\xc0\x80\x31", 5);
    expect_bad(img, n, "tensor 1: name is not valid UTF-8");
    free(img);
}
END_TEST

/* ---------------------------------------------------------------------------
 * BPE on a tiny tokenizer */

typedef struct {
    const char *model, *pre;
    const char *const *tokens;
    size_t n_tokens;
    const int32_t *types; /* n_types entries */
    size_t n_types;
    const char *const *merges;
    size_t n_merges;
    uint32_t bos;
} tok_spec_t;

static const char *const tiny_tokens[] = {"<|end|>", "a", "b", "c", "\xc4\xa0", "ab", "abc",
                                          "\xc4\xa0" "a", "1", "2", "\xc3\x83\xc2\xa9"};
static const int32_t tiny_types[] = {3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
/* byte-level: e-acute's bytes C3 A9 are the code points U+00C3 U+00A9 */
static const char *const tiny_merges[] = {"a b", "ab c", "\xc4\xa0 a", "\xc3\x83 \xc2\xa9"};

static tok_spec_t tiny(void)
{
    return (tok_spec_t){"gpt2", "smollm", tiny_tokens, 11, tiny_types, 11, tiny_merges, 4, 0};
}

static uint8_t *make_tok_gguf(const tok_spec_t *t, size_t *n)
{
    sq_gw_t b = {0};
    sq_gw_put(&b, "GGUF", 4);
    sq_gw_u(&b, 3, 4);
    sq_gw_u(&b, 0, 8);
    sq_gw_u(&b, 7, 8);
    sq_gw_kv_head(&b, "tokenizer.ggml.model", SQ_GGUF_STRING), sq_gw_str(&b, t->model);
    sq_gw_kv_head(&b, "tokenizer.ggml.pre", SQ_GGUF_STRING), sq_gw_str(&b, t->pre);
    sq_gw_kv_head(&b, "tokenizer.ggml.tokens", SQ_GGUF_ARRAY), sq_gw_u(&b, SQ_GGUF_STRING, 4);
    sq_gw_u(&b, t->n_tokens, 8);
    for (size_t i = 0; i < t->n_tokens; i++)
        sq_gw_str(&b, t->tokens[i]);
    sq_gw_kv_head(&b, "tokenizer.ggml.token_type", SQ_GGUF_ARRAY), sq_gw_u(&b, SQ_GGUF_I32, 4);
    sq_gw_u(&b, t->n_types, 8);
    for (size_t i = 0; i < t->n_types; i++)
        sq_gw_u(&b, (uint32_t)t->types[i], 4);
    sq_gw_kv_head(&b, "tokenizer.ggml.merges", SQ_GGUF_ARRAY), sq_gw_u(&b, SQ_GGUF_STRING, 4);
    sq_gw_u(&b, t->n_merges, 8);
    for (size_t i = 0; i < t->n_merges; i++)
        sq_gw_str(&b, t->merges[i]);
    sq_gw_kv_head(&b, "tokenizer.ggml.bos_token_id", SQ_GGUF_U32), sq_gw_u(&b, t->bos, 4);
    sq_gw_kv_head(&b, "tokenizer.ggml.eos_token_id", SQ_GGUF_U32), sq_gw_u(&b, 0, 4);
    *n = b.n;
    return b.p;
}

static int tok_build(const tok_spec_t *t, sq_bpe_t **out)
{
    size_t n;
    uint8_t *img = make_tok_gguf(t, &n);
    sq_gguf_t *g;
    ck_assert_msg(sq_gguf_parse(img, n, &g) == 0, "%s", sq_err_msg());
    int rc = sq_bpe_from_gguf(g, out);
    sq_gguf_free(g);
    return rc;
}

START_TEST(test_bpe_tiny)
{
    tok_spec_t spec = tiny();
    sq_bpe_t *t;
    ck_assert_msg(tok_build(&spec, &t) == 0, "%s", sq_err_msg());
    int32_t ids[32];
    size_t n;
    /* "abc": a+b (rank 0) then ab+c; " ab": a+b (rank 0) beats \u0120+a (rank
     * 2), and "\u0120 ab" is no merge; digits alone; the special token */
    ck_assert_int_eq(sq_bpe_encode(t, "abc ab12<|end|>\xc3\xa9", 1, ids, 32, &n), 0);
    const int32_t want[] = {6, 4, 5, 8, 9, 0, 10};
    ck_assert_uint_eq(n, 7);
    sq_assert_i32_eq(ids, want, n);
    /* " a" merges; a byte without a token (0x01) is dropped; "cc" stays apart */
    ck_assert_int_eq(sq_bpe_encode(t, " a\x01" "cc", 1, ids, 32, &n), 0);
    const int32_t want2[] = {7, 3, 3};
    ck_assert_uint_eq(n, 3);
    sq_assert_i32_eq(ids, want2, n);
    char piece[64];
    ck_assert_int_eq(sq_bpe_decode(t, 7, piece, sizeof piece), 2);
    ck_assert_str_eq(piece, " a");
    ck_assert_int_eq(sq_bpe_decode(t, 0, piece, sizeof piece), 7);
    ck_assert_str_eq(piece, "<|end|>");
    ck_assert_int_eq(sq_bpe_id(t, "abc"), 6);
    sq_bpe_free(t);
}
END_TEST

START_TEST(test_bpe_bad_metadata)
{
    sq_bpe_t *t;
    tok_spec_t s = tiny();
    s.model = "llama";
    ck_assert_int_eq(tok_build(&s, &t), SQ_ERR_FMT);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "tokenizer model 'llama' is not supported"));
    s = tiny();
    s.pre = "qwen2";
    ck_assert_int_eq(tok_build(&s, &t), SQ_ERR_FMT);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "pre-tokenizer 'qwen2'"));
    s = tiny();
    s.n_types = 10;
    ck_assert_int_eq(tok_build(&s, &t), SQ_ERR_FMT);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "token_type has 10 entries for 11 tokens"));
    s = tiny();
    s.bos = 11;
    ck_assert_int_eq(tok_build(&s, &t), SQ_ERR_FMT);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "bos_token_id 11 is not a token id"));
    static const char *const bad_merges[] = {"a b", "abc"};
    s = tiny();
    s.merges = bad_merges;
    s.n_merges = 2;
    ck_assert_int_eq(tok_build(&s, &t), SQ_ERR_FMT);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "merge 1 is not two tokens"));
    static const char *const dup[] = {"a", "b", "a"};
    s = tiny();
    s.tokens = dup;
    s.n_tokens = s.n_types = 3;
    ck_assert_int_eq(tok_build(&s, &t), SQ_ERR_FMT);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "token 2 repeats token 0"));
    static const char *const empty[] = {"a", ""};
    s = tiny();
    s.tokens = empty;
    s.n_tokens = s.n_types = 2;
    ck_assert_int_eq(tok_build(&s, &t), SQ_ERR_FMT);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "token 1 is empty"));
    static const int32_t bad_types[] = {3, 1, 1, 1, 1, 1, 1, 9, 1, 1, 1};
    s = tiny();
    s.types = bad_types;
    ck_assert_int_eq(tok_build(&s, &t), SQ_ERR_FMT);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "token 7 has unknown type 9"));
}
END_TEST

/* ---------------------------------------------------------------------------
 * SmolLM2 */

static sq_gguf_t *smollm2(void)
{
    char path[4200];
    if (sq_test_model("smollm2", "test_gguf", path, sizeof path))
        return NULL;
    sq_gguf_t *g;
    ck_assert_msg(sq_gguf_read(path, &g) == 0, "%s", sq_err_msg());
    return g;
}

START_TEST(test_smollm2_tokenizer)
{
    sq_gguf_t *g = smollm2();
    if (!g)
        return;
    sq_bpe_t *t;
    ck_assert_msg(sq_bpe_from_gguf(g, &t) == 0, "%s", sq_err_msg());
    sq_gguf_free(g);
    ck_assert_uint_eq(sq_bpe_vocab_size(t), 49152);
    ck_assert_int_eq(sq_bpe_bos(t), 1);
    ck_assert_int_eq(sq_bpe_eos(t), 2);
    int32_t ids[256];
    size_t n;
    for (size_t s = 0; s < sizeof smollm2_tok_ref / sizeof smollm2_tok_ref[0]; s++) {
        ck_assert_int_eq(sq_bpe_encode(t, smollm2_tok_ref[s].text, 1, ids, 256, &n), 0);
        ck_assert_msg(n == (size_t)smollm2_tok_ref[s].n, "text %zu: %zu tokens, llama.cpp %d", s,
                      n, smollm2_tok_ref[s].n);
        sq_assert_i32_eq(ids, smollm2_tok_ref[s].ids, n);
        /* decoding gives the text back */
        char text[1024] = "", piece[4200];
        for (size_t i = 0; i < n; i++) {
            ck_assert_int_ge(sq_bpe_decode(t, ids[i], piece, sizeof piece), 0);
            strcat(text, piece);
        }
        ck_assert_str_eq(text, smollm2_tok_ref[s].text);
    }
    /* without special-token parsing the markers are plain text */
    ck_assert_int_eq(sq_bpe_encode(t, "<|im_end|>", 0, ids, 256, &n), 0);
    ck_assert_uint_gt(n, 1);
    ck_assert_int_eq(sq_bpe_encode(t, "<|im_end|>", 1, ids, 256, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(ids[0], 2);
    ck_assert_int_eq(sq_bpe_encode(t, "hello world", 1, ids, 1, &n), SQ_ERR_ARG);
    char piece[16];
    ck_assert_int_eq(sq_bpe_decode(t, 49152, piece, sizeof piece), -1);
    sq_bpe_free(t);
}
END_TEST

/* The first greedy tokens match llama.cpp's (its 8-bit activation
 * quantization makes later ones drift from an fp32 forward pass). */
START_TEST(test_smollm2_generate)
{
    sq_gguf_t *g = smollm2();
    if (!g)
        return;
    sq_llama_t m;
    sq_bpe_t *t;
    ck_assert_msg(sq_gguf_load_llama(g, 64, &m) == 0, "%s", sq_err_msg());
    ck_assert_int_eq(sq_bpe_from_gguf(g, &t), 0);
    sq_gguf_free(g);
    ck_assert_int_eq(m.cfg.dim, 576);
    ck_assert_int_eq(m.cfg.n_layers, 30);
    ck_assert_int_eq(m.cfg.n_heads, 9);
    ck_assert_int_eq(m.cfg.n_kv_heads, 3);
    ck_assert_int_eq(m.cfg.hidden_dim, 1536);
    ck_assert_int_eq(m.cfg.vocab_size, 49152);
    ck_assert_int_eq(m.cfg.seq_len, 64);
    ck_assert_int_eq(m.cfg.shared_classifier, 1);
    ck_assert_float_eq(m.cfg.rope_theta, 100000.0f);
    int32_t ids[64];
    size_t n;
    ck_assert_int_eq(sq_bpe_encode(t, smollm2_gen_prompt, 1, ids, 64, &n), 0);
    sq_llama_state_t s;
    ck_assert_int_eq(sq_llama_state_build(&s, &m.cfg), 0);
    enum { GEN = 4 };
    int32_t got[GEN];
    int token = ids[0];
    for (size_t pos = 0; pos + 1 < n + GEN; pos++) {
        ck_assert_int_eq(sq_llama_forward(&m, &s, token, (int)pos, NULL), 0);
        token = pos + 1 < n ? ids[pos + 1] : sq_argmax(s.logits, m.cfg.vocab_size);
        if (pos + 1 >= n)
            got[pos + 1 - n] = token;
    }
    sq_assert_i32_eq(got, smollm2_gen_ref, GEN);
    sq_llama_state_free(&s);
    sq_llama_free(&m);
    sq_bpe_free(t);
}
END_TEST

/* SmolLM2 (a GGUF model with its own BPE tokenizer) runs the whole token on
 * the device: calibrated on stories it encodes as eval does, one run per
 * token, its prompt printed whole, and the integer layer's first greedy token
 * that of the fp32 host. The calibration text is two short stories, to keep the test
 * short: quality is measured in bench/results/decode.md's runs. */
START_TEST(test_smollm2_whole_token)
{
    char path[4200];
    if (sq_test_model("smollm2", "test_gguf", path, sizeof path))
        return;
    static const char stories[] = "Tom had a red ball. He threw it to his dog, and the dog ran "
                                  "after it.\n<|endoftext|>\nLily saw a bird in the tree. The "
                                  "bird sang a song, and Lily smiled.\n";
    char *calib = sq_tmpfile(stories, sizeof stories - 1);
    char json[] = "/tmp/sq_gguf_XXXXXX";
    close(mkstemp(json));
    char args[4400], host[4096], dev[4096], err[16384];
    snprintf(args, sizeof args, "generate --model smollm2 --steps 6 --temperature 0 --prompt "
             "'Once upon a time'");
    ck_assert_msg(sq_run_cli(args, host, sizeof host, err, sizeof err) == 0, "%s", err);
    snprintf(args, sizeof args, "generate --model smollm2 --recipe w8a8 --calib %s --steps 6 "
             "--temperature 0 --prompt 'Once upon a time' --backend model --report %s", calib,
             json);
    ck_assert_msg(sq_run_cli(args, dev, sizeof dev, err, sizeof err) == 0, "%s", err);
    const char *prompt = "Once upon a time";
    size_t first = strlen(prompt) + 1; /* the prompt and the first generated token, "," */
    ck_assert_msg(strlen(host) > first && strncmp(dev, host, first) == 0, "host '%s', device '%s'",
                  host, dev);
    ck_assert(sq_report_number(json, NULL, "runs_per_token") == 1);
    ck_assert(sq_report_number(json, "total", "cycles") > 0);
    char svg[64];
    snprintf(svg, sizeof svg, "%s.svg", json);
    unlink(svg);
    unlink(json);
    unlink(calib);
    free(calib);
}
END_TEST

/* A timing-only run computes no token, so no token ends it: every step runs.
 * (2:4's never-written argmax slot held 0, SmolLM2's <|endoftext|>, and
 * ended the run after one decode step.) */
START_TEST(test_smollm2_timing_only_every_step)
{
    char path[4200];
    if (sq_test_model("smollm2", "test_gguf", path, sizeof path))
        return;
    char json[] = "/tmp/sq_gguf_XXXXXX";
    close(mkstemp(json));
    char args[4400], out[4096], err[16384];
    /* the 2:4 masks calibrate on the default text, found from the project
     * root (this test's own process) */
    ck_assert_int_eq(chdir(SQ_SRC_DIR), 0);
    snprintf(args, sizeof args, "generate --model smollm2 --recipe 2:4,w8a8 --prompt 'Once upon a "
             "time' --steps 8 --temperature 0 --backend model --timing-only --report %s", json);
    ck_assert_msg(sq_run_cli(args, out, sizeof out, err, sizeof err) == 0, "%s", err);
    ck_assert_msg(sq_report_number(json, NULL, "tokens") == 8, "%g tokens",
                  sq_report_number(json, NULL, "tokens"));
    char svg[64];
    snprintf(svg, sizeof svg, "%s.svg", json);
    unlink(svg);
    unlink(json);
}
END_TEST

START_TEST(test_cli_gguf)
{
    char path[4200];
    if (sq_test_model("smollm2", "test_gguf", path, sizeof path))
        return;
    char args[4400], out[16384], err[1024];
    snprintf(args, sizeof args, "info %s", path);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 0);
    ck_assert_msg(strstr(out, "GGUF v3") && strstr(out, "Q4_1") && strstr(out, "arch llama"),
                  "%s", out);
    size_t n;
    marks_t mk;
    uint8_t *img = make_gguf(&n, &mk);
    img[mk.kv_bool_val] = 9;
    char *bad = sq_tmpfile(img, n);
    snprintf(args, sizeof args, "info %s", bad);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 1);
    ck_assert_msg(strstr(err, "bool value is 9") && strchr(err, '\n') == err + strlen(err) - 1,
                  "%s", err);
    snprintf(args, sizeof args, "generate --model %s --steps 3", bad);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 1);
    unlink(bad);
    free(bad);
    free(img);
}
END_TEST

Suite *gguf_suite(void)
{
    Suite *s = suite_create("gguf");
    TCase *tc = sq_tcase(s, "format", 10);
    tcase_add_test(tc, test_gguf_good);
    tcase_add_test(tc, test_gguf_corrupt_header);
    tcase_add_test(tc, test_gguf_corrupt_metadata);
    tcase_add_test(tc, test_gguf_nesting);
    tcase_add_test(tc, test_gguf_corrupt_tensors);
    tcase_add_test(tc, test_bpe_tiny);
    tcase_add_test(tc, test_bpe_bad_metadata);
    tc = sq_tcase(s, "smollm2", 150);
    tcase_add_test(tc, test_smollm2_tokenizer);
    tcase_add_test(tc, test_smollm2_generate);
    tcase_add_test(tc, test_cli_gguf);
    tcase_add_test(tc, test_smollm2_whole_token);
    tcase_add_test(tc, test_smollm2_timing_only_every_step);
    return s;
}
