/* .sqm container: bit-identical round trips for every dtype and one clear
 * error for each way a file can be corrupt or truncated (docs/sqm.md). The
 * corruption tests edit fields at the offsets docs/sqm.md gives, then reseal
 * the header CRC where the check under test comes after it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "sparq/numerics.h"
#include "model/llama.h"
#include "sqm/sqm.h"
#include "sqm/sqm_llama.h"
#include "testutil.h"
#include "util/bytes.h"
#include "util/err.h"

/* Test data: every dtype, odd k, size-1 dims, -128 and int4 extremes. */
enum { K_ODD = 13, ROWS = 5 };

typedef struct {
    float f32[2 * 3 * 7];
    int8_t i8[ROWS * K_ODD];
    float i8_scales[ROWS], i8_zeros[ROWS];
    uint8_t i4[ROWS * ((K_ODD + 1) / 2)];
    float i4_scales[ROWS * 4]; /* groups of 4 over k = 13: 4 per row */
    int8_t sp_vals[ROWS * 2 * ((K_ODD + 3) / 4)];
    uint8_t sp_meta[ROWS * 2];
    float sp_scale[1];
    uint8_t cb_idx[1 * 9];
    float codebook[5];
    float bias[1];
} data_t;

static void make_data(data_t *d)
{
    uint64_t st = 0x1234;
    for (size_t i = 0; i < sizeof d->f32 / 4; i++)
        d->f32[i] = (float)((int64_t)(sq_test_rand(&st) % 2001) - 1000) / 7.0f;
    for (size_t i = 0; i < sizeof d->i8; i++)
        d->i8[i] = (int8_t)(sq_test_rand(&st) & 0xFF);
    d->i8[0] = -128;
    d->i8[1] = 127;
    for (size_t r = 0; r < ROWS; r++) {
        d->i8_scales[r] = 0.01f * (float)(r + 1);
        d->i8_zeros[r] = -0.5f + (float)r;
    }
    int8_t row[K_ODD];
    for (size_t r = 0; r < ROWS; r++) {
        for (size_t j = 0; j < K_ODD; j++)
            row[j] = (int8_t)((int)(sq_test_rand(&st) % 16) - 8);
        row[0] = -8;
        row[1] = 7;
        sq_i4_pack_row(row, K_ODD, d->i4 + r * ((K_ODD + 1) / 2));
    }
    for (size_t i = 0; i < ROWS * 4; i++)
        d->i4_scales[i] = 1.0f / (float)(i + 3);
    for (size_t r = 0; r < ROWS; r++) {
        for (size_t j = 0; j < K_ODD; j++)
            row[j] = (int8_t)(sq_test_rand(&st) & 0xFF);
        row[2] = -128;
        sq_sp24_encode_row(row, K_ODD, d->sp_vals + r * 8, d->sp_meta + r * 2);
    }
    d->sp_scale[0] = 0.125f;
    for (size_t i = 0; i < sizeof d->cb_idx; i++)
        d->cb_idx[i] = (uint8_t)(i % 5);
    for (size_t i = 0; i < 5; i++)
        d->codebook[i] = -1.0f + 0.5f * (float)i;
    d->bias[0] = 3.25f;
}

static sq_sqm_config_t test_config(void)
{
    sq_sqm_config_t c = {.arch = "llama", .dim = 64, .hidden_dim = 172, .n_layers = 5,
                         .n_heads = 8, .n_kv_heads = 4, .vocab_size = 512, .seq_len = 512,
                         .flags = SQ_SQM_SHARED_CLASSIFIER, .rope_theta = 10000.0f,
                         .norm_eps = 1e-5f};
    return c;
}

static void make_tensors(const data_t *d, sq_sqm_tensor_t t[6])
{
    t[0] = (sq_sqm_tensor_t){.name = "emb.f32", .dtype = SQ_SQM_F32, .ndim = 3,
                             .shape = {2, 3, 7}, .data = d->f32};
    t[1] = (sq_sqm_tensor_t){.name = "w.i8", .dtype = SQ_SQM_I8, .ndim = 2, .shape = {ROWS, K_ODD},
                             .scale_kind = SQ_SQM_SCALE_ROW, .data = d->i8,
                             .scales = d->i8_scales, .zeros = d->i8_zeros};
    t[2] = (sq_sqm_tensor_t){.name = "w.i4", .dtype = SQ_SQM_I4, .ndim = 2, .shape = {ROWS, K_ODD},
                             .scale_kind = SQ_SQM_SCALE_GROUP, .group_size = 4, .data = d->i4,
                             .scales = d->i4_scales};
    t[3] = (sq_sqm_tensor_t){.name = "w.sp24", .dtype = SQ_SQM_SP24_I8, .ndim = 2,
                             .shape = {ROWS, K_ODD}, .scale_kind = SQ_SQM_SCALE_TENSOR,
                             .data = d->sp_vals, .meta = d->sp_meta, .scales = d->sp_scale};
    t[4] = (sq_sqm_tensor_t){.name = "w.cb", .dtype = SQ_SQM_CODEBOOK, .ndim = 2, .shape = {1, 9},
                             .data = d->cb_idx, .codebook = d->codebook, .codebook_size = 5};
    t[5] = (sq_sqm_tensor_t){.name = "b\xc3\xa9", .dtype = SQ_SQM_F32, .ndim = 1, .shape = {1},
                             .data = d->bias}; /* a UTF-8 name, size-1 dims */
}

static sq_sqm_t *build_model(const data_t *d)
{
    sq_sqm_config_t c = test_config();
    sq_sqm_t *m = sq_sqm_create(&c);
    ck_assert_ptr_nonnull(m);
    sq_sqm_tensor_t t[6];
    make_tensors(d, t);
    for (int i = 0; i < 6; i++)
        ck_assert_msg(sq_sqm_add(m, &t[i]) == 0, "add %s: %s", t[i].name, sq_err_msg());
    return m;
}

static void assert_bytes_eq(const void *a, const void *b, size_t n, const char *what)
{
    if (!a || !b) {
        ck_assert_msg(a == b, "%s: one side is NULL", what);
        return;
    }
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(x[i] == y[i], "%s: first difference at byte %zu of %zu: %u != %u", what, i,
                      n, x[i], y[i]);
}

static void assert_tensor_eq(const sq_sqm_tensor_t *a, const sq_sqm_tensor_t *b)
{
    ck_assert_str_eq(a->name, b->name);
    ck_assert_int_eq(a->dtype, b->dtype);
    ck_assert_uint_eq(a->ndim, b->ndim);
    for (uint32_t i = 0; i < a->ndim; i++)
        ck_assert_uint_eq(a->shape[i], b->shape[i]);
    ck_assert_int_eq(a->scale_kind, b->scale_kind);
    ck_assert_uint_eq(a->group_size, b->group_size);
    ck_assert_uint_eq(a->codebook_size, b->codebook_size);
    uint64_t rows = sq_sqm_rows(a), k = sq_sqm_k(a), ns = sq_sqm_n_scales(a);
    size_t vb = a->dtype == SQ_SQM_F32        ? 4 * k
                : a->dtype == SQ_SQM_I4       ? sq_w_row_bytes(SQ_GEMM_W4, k)
                : a->dtype == SQ_SQM_SP24_I8  ? sq_w_row_bytes(SQ_GEMM_SP24, k)
                                              : k;
    assert_bytes_eq(a->data, b->data, rows * vb, "values");
    if (a->dtype == SQ_SQM_SP24_I8)
        assert_bytes_eq(a->meta, b->meta, rows * sq_meta_row_bytes(k), "2:4 meta");
    else
        ck_assert_ptr_null(b->meta);
    assert_bytes_eq(a->scales, b->scales, 4 * ns, "scales");
    assert_bytes_eq(a->zeros, b->zeros, 4 * ns, "zeros");
    assert_bytes_eq(a->codebook, b->codebook, 4 * a->codebook_size, "codebook");
    size_t numel = sq_sqm_numel(a);
    float *fa = malloc(numel * 4), *fb = malloc(numel * 4);
    ck_assert_int_eq(sq_sqm_dequant(a, fa), 0);
    ck_assert_int_eq(sq_sqm_dequant(b, fb), 0);
    assert_bytes_eq(fa, fb, numel * 4, "dequantized");
    free(fa);
    free(fb);
}

/* A good file image of the test model. */
static uint8_t *good_image(size_t *n)
{
    data_t d;
    make_data(&d);
    sq_sqm_t *m = build_model(&d);
    char path[] = "/tmp/sq_sqm_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(sq_sqm_write(m, path), 0);
    sq_sqm_free(m);
    uint8_t *img = sq_slurp(path, n);
    ck_assert_ptr_nonnull(img);
    unlink(path);
    return img;
}

/* Byte offset of tensor i's entry in the table, by walking the documented
 * entry layout (name_len u16, name, 4 x u8, 2 x u32, ndim x u64, u64, u64, u32). */
static size_t entry_at(const uint8_t *img, size_t i)
{
    size_t p = 128;
    for (size_t k = 0; k < i; k++) {
        size_t len = (size_t)sq_le_get(img + p, 2);
        size_t ndim = img[p + 2 + len + 1];
        p += 2 + len + 4 + 8 + 8 * ndim + 8 + 8 + 4;
    }
    return p;
}

/* Field offsets within an entry that starts at e. */
static size_t f_dtype(const uint8_t *img, size_t e)
{
    return e + 2 + (size_t)sq_le_get(img + e, 2);
}
static size_t f_shape(const uint8_t *img, size_t e)
{
    return f_dtype(img, e) + 12;
}
static size_t f_offset(const uint8_t *img, size_t e)
{
    return f_shape(img, e) + 8 * img[f_dtype(img, e) + 1];
}

static void reseal(uint8_t *img)
{
    size_t header = (size_t)sq_le_get(img + 16, 8);
    sq_le_put(img + header - 4, (uint32_t)crc32_z(0, img, header - 4), 4);
}

/* Parses a (modified) image and expects SQ_ERR_FMT with want in the message. */
static void expect_bad(const uint8_t *img, size_t n, const char *want)
{
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, img, n);
    sq_sqm_t *m = (sq_sqm_t *)1;
    int rc = sq_sqm_parse(copy, n, &m);
    ck_assert_msg(rc == SQ_ERR_FMT, "expected a format error containing '%s', got %d (%s)", want,
                  rc, sq_err_msg());
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(sq_err_msg(), want), "message '%s' lacks '%s'", sq_err_msg(), want);
    ck_assert_ptr_null(strchr(sq_err_msg(), '\n'));
}

START_TEST(test_roundtrip_every_dtype)
{
    data_t d;
    make_data(&d);
    sq_sqm_t *m = build_model(&d);
    char *path = sq_tmpfile("", 0);
    ck_assert_int_eq(sq_sqm_write(m, path), 0);
    sq_sqm_t *r;
    ck_assert_msg(sq_sqm_read(path, &r) == 0, "%s", sq_err_msg());
    sq_sqm_config_t c = test_config();
    assert_bytes_eq(sq_sqm_config(r), &c, sizeof c, "config");
    ck_assert_uint_eq(sq_sqm_count(r), 6);
    sq_sqm_tensor_t want[6];
    make_tensors(&d, want);
    for (size_t i = 0; i < 6; i++) {
        assert_tensor_eq(&want[i], sq_sqm_tensor(r, i));
        assert_tensor_eq(sq_sqm_tensor(m, i), sq_sqm_find(r, want[i].name));
    }
    ck_assert_ptr_null(sq_sqm_find(r, "missing"));
    /* writing what was read gives the same file, byte for byte */
    char *path2 = sq_tmpfile("", 0);
    ck_assert_int_eq(sq_sqm_write(r, path2), 0);
    size_t n1, n2;
    uint8_t *a = sq_slurp(path, &n1), *b = sq_slurp(path2, &n2);
    ck_assert_uint_eq(n1, n2);
    assert_bytes_eq(a, b, n1, "rewritten file");
    /* payloads are SQ_SQM_ALIGN-aligned */
    for (size_t i = 0; i < 6; i++)
        ck_assert_uint_eq(sq_le_get(a + f_offset(a, entry_at(a, i)), 8) % SQ_SQM_ALIGN, 0);
    free(a);
    free(b);
    sq_sqm_free(r);
    sq_sqm_free(m);
    unlink(path);
    unlink(path2);
    free(path);
    free(path2);
}
END_TEST

START_TEST(test_dequant_values)
{
    data_t d;
    make_data(&d);
    sq_sqm_tensor_t t[6];
    make_tensors(&d, t);
    float out[ROWS * K_ODD];
    /* int8 per row with zero offsets: -128 at (0,0) */
    ck_assert_int_eq(sq_sqm_dequant(&t[1], out), 0);
    ck_assert_float_eq(out[0], -128.0f * d.i8_scales[0] + d.i8_zeros[0]);
    ck_assert_float_eq(out[K_ODD + 3], (float)d.i8[K_ODD + 3] * d.i8_scales[1] + d.i8_zeros[1]);
    /* int4 in groups of 4: element 12 of row 1 uses scale 1*4 + 3 */
    ck_assert_int_eq(sq_sqm_dequant(&t[2], out), 0);
    ck_assert_float_eq(out[0], -8.0f * d.i4_scales[0]);
    ck_assert_float_eq(out[K_ODD + 12],
                       (float)sq_i4_get(d.i4 + 7, 12) * d.i4_scales[7]);
    ck_assert_int_eq(sq_sqm_dequant(&t[4], out), 0);
    ck_assert_float_eq(out[7], d.codebook[2]);
}
END_TEST

START_TEST(test_add_rejects)
{
    data_t d;
    make_data(&d);
    sq_sqm_config_t c = test_config();
    sq_sqm_t *m = sq_sqm_create(&c);
    sq_sqm_tensor_t t[6];
    make_tensors(&d, t);
    ck_assert_int_eq(sq_sqm_add(m, &t[0]), 0);
    ck_assert_int_eq(sq_sqm_add(m, &t[0]), SQ_ERR_ARG);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "duplicate"));
    sq_sqm_tensor_t x = t[1];
    x.name = "bad\xc0\xaf"; /* overlong encoding of '/' */
    ck_assert_int_eq(sq_sqm_add(m, &x), SQ_ERR_FMT);
    x = t[1];
    x.scales = NULL;
    ck_assert_int_eq(sq_sqm_add(m, &x), SQ_ERR_ARG);
    x = t[1];
    x.scale_kind = SQ_SQM_SCALE_NONE;
    ck_assert_int_eq(sq_sqm_add(m, &x), SQ_ERR_FMT);
    x = t[2];
    uint8_t i4[sizeof d.i4];
    memcpy(i4, d.i4, sizeof i4);
    i4[6] |= 0x10; /* row 0's pad nibble (k odd) */
    x.data = i4;
    ck_assert_int_eq(sq_sqm_add(m, &x), SQ_ERR_FMT);
    x = t[3];
    uint8_t meta[sizeof d.sp_meta];
    memcpy(meta, d.sp_meta, sizeof meta);
    meta[0] = (uint8_t)((meta[0] & 0xF0) | 0x5); /* positions 1, 1 */
    x.meta = meta;
    ck_assert_int_eq(sq_sqm_add(m, &x), SQ_ERR_FMT);
    x = t[4];
    uint8_t idx[9] = {0, 1, 2, 3, 4, 5, 0, 0, 0};
    x.data = idx;
    ck_assert_int_eq(sq_sqm_add(m, &x), SQ_ERR_FMT);
    x = t[1];
    float scales[ROWS] = {1, 1, 0, 1, 1};
    x.scales = scales;
    ck_assert_int_eq(sq_sqm_add(m, &x), SQ_ERR_FMT);
    x = t[0];
    x.name = "huge";
    x.shape[0] = (uint64_t)1 << 32;
    x.shape[1] = (uint64_t)1 << 32;
    ck_assert_int_eq(sq_sqm_add(m, &x), SQ_ERR_FMT);
    ck_assert_uint_eq(sq_sqm_count(m), 1);
    sq_sqm_free(m);
    sq_sqm_free(NULL);
}
END_TEST

START_TEST(test_bad_magic)
{
    size_t n;
    uint8_t *img = good_image(&n);
    img[0] = 'X';
    expect_bad(img, n, "bad magic");
    free(img);
}
END_TEST

START_TEST(test_bad_version)
{
    size_t n;
    uint8_t *img = good_image(&n);
    sq_le_put(img + 8, 2, 4);
    expect_bad(img, n, "unsupported .sqm version 2");
    free(img);
}
END_TEST

START_TEST(test_truncated_header)
{
    size_t n;
    uint8_t *img = good_image(&n);
    expect_bad(img, 100, "truncated header");
    expect_bad(img, 0, "truncated header");
    free(img);
}
END_TEST

START_TEST(test_truncated_table)
{
    size_t n;
    uint8_t *img = good_image(&n);
    size_t header = (size_t)sq_le_get(img + 16, 8);
    expect_bad(img, header - 10, "truncated tensor table");
    free(img);
}
END_TEST

START_TEST(test_truncated_payload)
{
    size_t n;
    uint8_t *img = good_image(&n);
    expect_bad(img, n - 1, "truncated payload");
    free(img);
}
END_TEST

START_TEST(test_header_checksum)
{
    size_t n;
    uint8_t *img = good_image(&n);
    img[entry_at(img, 2) + 3] ^= 1; /* a byte of a name */
    expect_bad(img, n, "header checksum mismatch");
    free(img);
}
END_TEST

START_TEST(test_payload_checksum)
{
    size_t n;
    uint8_t *img = good_image(&n);
    size_t off = (size_t)sq_le_get(img + f_offset(img, entry_at(img, 1)), 8);
    img[off + 3] ^= 0x40;
    expect_bad(img, n, "tensor 'w.i8': payload checksum mismatch");
    free(img);
}
END_TEST

START_TEST(test_absurd_dims)
{
    size_t n;
    uint8_t *img = good_image(&n);
    size_t e = entry_at(img, 0);
    sq_le_put(img + f_shape(img, e), (uint64_t)1 << 50, 8);
    reseal(img);
    expect_bad(img, n, "absurd shape");
    /* each dim plausible, the product overflows 64 bits */
    sq_le_put(img + f_shape(img, e), (uint64_t)1 << 33, 8);
    sq_le_put(img + f_shape(img, e) + 8, (uint64_t)1 << 33, 8);
    reseal(img);
    expect_bad(img, n, "absurd shape");
    /* zero-size dims are not allowed either */
    sq_le_put(img + f_shape(img, e), 0, 8);
    reseal(img);
    expect_bad(img, n, "absurd shape");
    free(img);
}
END_TEST

START_TEST(test_offset_out_of_range)
{
    size_t n;
    uint8_t *img = good_image(&n);
    size_t fo = f_offset(img, entry_at(img, 3));
    sq_le_put(img + fo, (uint64_t)n + SQ_SQM_ALIGN, 8);
    reseal(img);
    expect_bad(img, n, "outside the payload area");
    sq_le_put(img + fo, UINT64_MAX - 63, 8); /* offset + size wraps */
    reseal(img);
    expect_bad(img, n, "outside the payload area");
    sq_le_put(img + fo, 64, 8); /* inside the header */
    reseal(img);
    expect_bad(img, n, "outside the payload area");
    free(img);
}
END_TEST

START_TEST(test_unaligned_or_overlapping)
{
    size_t n;
    uint8_t *img = good_image(&n);
    size_t f1 = f_offset(img, entry_at(img, 1)), f2 = f_offset(img, entry_at(img, 2));
    uint64_t o1 = sq_le_get(img + f1, 8);
    sq_le_put(img + f1, o1 + 8, 8);
    reseal(img);
    expect_bad(img, n, "aligned");
    sq_le_put(img + f1, o1, 8);
    sq_le_put(img + f2, o1, 8);
    reseal(img);
    expect_bad(img, n, "overlap");
    free(img);
}
END_TEST

START_TEST(test_unknown_dtype)
{
    size_t n;
    uint8_t *img = good_image(&n);
    img[f_dtype(img, entry_at(img, 1))] = 9;
    reseal(img);
    expect_bad(img, n, "tensor 'w.i8': unknown dtype 9");
    img[f_dtype(img, entry_at(img, 1))] = 0;
    reseal(img);
    expect_bad(img, n, "unknown dtype 0");
    free(img);
}
END_TEST

START_TEST(test_duplicate_name)
{
    size_t n;
    uint8_t *img = good_image(&n);
    /* "w.i4" -> "w.i8" */
    size_t e = entry_at(img, 2);
    ck_assert_int_eq(memcmp(img + e + 2, "w.i4", 4), 0);
    img[e + 5] = '8';
    reseal(img);
    expect_bad(img, n, "duplicate tensor name 'w.i8'");
    free(img);
}
END_TEST

START_TEST(test_bad_names)
{
    size_t n;
    uint8_t *img = good_image(&n);
    size_t e = entry_at(img, 1);
    img[e + 2] = 0xC0; /* overlong encoding of '.' */
    img[e + 3] = 0xAE;
    reseal(img);
    expect_bad(img, n, "tensor 1: name is not valid UTF-8");
    img[e + 2] = 0xED; /* a surrogate, U+D800 */
    img[e + 3] = 0xA0;
    img[e + 4] = 0x80;
    reseal(img);
    expect_bad(img, n, "not valid UTF-8");
    memcpy(img + e + 2, "\n.i8", 4);
    reseal(img);
    expect_bad(img, n, "control byte");
    sq_le_put(img + e, 300, 2);
    reseal(img);
    expect_bad(img, n, "name length 300");
    sq_le_put(img + e, 0, 2);
    reseal(img);
    expect_bad(img, n, "name length 0");
    free(img);
}
END_TEST

START_TEST(test_absurd_count_and_sizes)
{
    size_t n;
    uint8_t *img = good_image(&n);
    sq_le_put(img + 12, 0xFFFFFFFFu, 4);
    reseal(img);
    expect_bad(img, n, "absurd tensor count");
    sq_le_put(img + 12, 5, 4); /* one entry left over */
    reseal(img);
    expect_bad(img, n, "stray bytes");
    free(img);
    img = good_image(&n);
    sq_le_put(img + 16, 40, 8); /* header smaller than its fixed part */
    expect_bad(img, n, "below the minimum");
    free(img);
    img = good_image(&n);
    size_t fo = f_offset(img, entry_at(img, 0));
    sq_le_put(img + fo + 8, sq_le_get(img + fo + 8, 8) + 8, 8); /* payload size */
    reseal(img);
    expect_bad(img, n, "its shape and dtype need");
    free(img);
}
END_TEST

START_TEST(test_trailing_bytes)
{
    size_t n;
    uint8_t *img = good_image(&n);
    uint8_t *big = calloc(1, n + 3);
    memcpy(big, img, n);
    expect_bad(big, n + 3, "trailing bytes");
    free(big);
    free(img);
}
END_TEST

/* A corrupt payload whose checksums were recomputed still fails validation. */
START_TEST(test_resealed_bad_payload)
{
    size_t n;
    uint8_t *img = good_image(&n);
    size_t e = entry_at(img, 3), fo = f_offset(img, e);
    uint64_t off = sq_le_get(img + fo, 8), nb = sq_le_get(img + fo + 8, 8);
    /* 2:4 metadata follows the values section (5 rows x 8 bytes, padded to 40) */
    img[off + 40] = (uint8_t)((img[off + 40] & 0xF0) | 0x0); /* positions 0, 0 */
    sq_le_put(img + fo + 16, (uint32_t)crc32_z(0, img + off, nb), 4);
    reseal(img);
    expect_bad(img, n, "malformed 2:4 metadata");
    free(img);
    img = good_image(&n);
    e = entry_at(img, 4), fo = f_offset(img, e);
    off = sq_le_get(img + fo, 8), nb = sq_le_get(img + fo + 8, 8);
    img[off + 4] = 200; /* codebook index past 5 entries */
    sq_le_put(img + fo + 16, (uint32_t)crc32_z(0, img + off, nb), 4);
    reseal(img);
    expect_bad(img, n, "outside codebook");
    free(img);
}
END_TEST

START_TEST(test_cli_info)
{
    size_t n;
    uint8_t *img = good_image(&n);
    char *path = sq_tmpfile(img, n);
    char args[512], out[8192], err[1024];
    snprintf(args, sizeof args, "info --tensors %s", path);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 0);
    ck_assert_msg(strstr(out, "arch llama, dim 64"), "%s", out);
    ck_assert_msg(strstr(out, "int4/g4"), "%s", out);
    ck_assert_msg(strstr(out, "2:4-int8/t"), "%s", out);
    ck_assert_msg(strstr(out, "compression"), "%s", out);
    ck_assert_msg(strstr(out, "w.sp24"), "%s", out);
    img[0] = 'Y';
    char *bad = sq_tmpfile(img, n);
    snprintf(args, sizeof args, "info %s", bad);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 1);
    ck_assert_msg(strstr(err, "sparq info: "), "%s", err);
    ck_assert_ptr_eq(strchr(err, '\n'), err + strlen(err) - 1); /* one line */
    snprintf(args, sizeof args, "info %s.missing", path);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 2);
    ck_assert_int_eq(sq_run_cli("info", out, sizeof out, err, sizeof err), 2);
    ck_assert_int_eq(sq_run_cli("info --bogus x", out, sizeof out, err, sizeof err), 2);
    ck_assert_int_eq(sq_run_cli("info --help", out, sizeof out, err, sizeof err), 0);
    unlink(path);
    unlink(bad);
    free(path);
    free(bad);
    free(img);
}
END_TEST

/* stories260K -> .sqm (f32) -> fp32 model: every weight bit-identical; the
 * CLI generates the same text from either file. */
START_TEST(test_llama_roundtrip)
{
    sq_llama_t m, back;
    ck_assert_msg(sq_llama_load(SQ_MODEL_PATH, &m) == 0, "%s", sq_err_msg());
    sq_sqm_t *s;
    ck_assert_msg(sq_sqm_from_llama(&m, &s) == 0, "%s", sq_err_msg());
    ck_assert_uint_eq(sq_sqm_count(s), 1 + 9 * (size_t)m.cfg.n_layers + 1 +
                                           (m.cfg.shared_classifier ? 0 : 1));
    char *path = sq_tmpfile("", 0);
    ck_assert_int_eq(sq_sqm_write(s, path), 0);
    sq_sqm_free(s);
    ck_assert_msg(sq_sqm_read(path, &s) == 0, "%s", sq_err_msg());
    ck_assert_msg(sq_sqm_to_llama(s, &back) == 0, "%s", sq_err_msg());
    assert_bytes_eq(&back.cfg, &m.cfg, sizeof m.cfg, "config");
    const float *a[] = {m.w.token_embedding, m.w.rms_att, m.w.rms_ffn, m.w.rms_final};
    const float *b[] = {back.w.token_embedding, back.w.rms_att, back.w.rms_ffn, back.w.rms_final};
    size_t d = (size_t)m.cfg.dim, l = (size_t)m.cfg.n_layers;
    size_t n[] = {(size_t)m.cfg.vocab_size * d, l * d, l * d, d};
    for (int i = 0; i < 4; i++)
        assert_bytes_eq(a[i], b[i], 4 * n[i], "norm/embedding");
    for (int k = 0; k < SQ_W_CLS; k++) {
        size_t wn, wk;
        sq_llama_wshape(&m.cfg, (sq_wkind_t)k, &wn, &wk);
        assert_bytes_eq(sq_llama_wptr(&m, 0, (sq_wkind_t)k), sq_llama_wptr(&back, 0, (sq_wkind_t)k),
                        4 * l * wn * wk, sq_wkind_name[k]);
    }
    sq_sqm_free(s);
    sq_llama_free(&back);

    char args[512], out_bin[4096], out_sqm[4096], err[1024];
    snprintf(args, sizeof args,
             "generate --model %s --tokenizer %s --temperature 0 --steps 40", SQ_MODEL_PATH,
             SQ_TOK_PATH);
    ck_assert_int_eq(sq_run_cli(args, out_bin, sizeof out_bin, err, sizeof err), 0);
    snprintf(args, sizeof args, "generate --model %s --tokenizer %s --temperature 0 --steps 40",
             path, SQ_TOK_PATH);
    ck_assert_msg(sq_run_cli(args, out_sqm, sizeof out_sqm, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(out_sqm, out_bin);
    ck_assert_uint_gt(strlen(out_bin), 40);

    /* a tensor missing or of the wrong shape is named */
    sq_sqm_config_t c;
    sq_sqm_config_from_llama(&m.cfg, &c);
    s = sq_sqm_create(&c);
    ck_assert_int_eq(sq_sqm_to_llama(s, &back), SQ_ERR_FMT);
    ck_assert_msg(strstr(sq_err_msg(), "'tok_embeddings.weight' is missing"), "%s", sq_err_msg());
    sq_sqm_tensor_t t = {.name = "tok_embeddings.weight", .dtype = SQ_SQM_F32, .ndim = 2,
                         .shape = {(uint64_t)m.cfg.vocab_size, d - 1}, .data = m.w.token_embedding};
    ck_assert_int_eq(sq_sqm_add(s, &t), 0);
    ck_assert_int_eq(sq_sqm_to_llama(s, &back), SQ_ERR_FMT);
    ck_assert_msg(strstr(sq_err_msg(), "wrong shape"), "%s", sq_err_msg());
    sq_sqm_free(s);
    strcpy(c.arch, "bert");
    s = sq_sqm_create(&c);
    ck_assert_int_eq(sq_sqm_to_llama(s, &back), SQ_ERR_FMT);
    sq_sqm_free(s);
    unlink(path);
    free(path);
    sq_llama_free(&m);
}
END_TEST

Suite *sqm_suite(void)
{
    Suite *s = suite_create("sqm");
    TCase *tc = sq_tcase(s, "roundtrip", 20);
    tcase_add_test(tc, test_roundtrip_every_dtype);
    tcase_add_test(tc, test_dequant_values);
    tcase_add_test(tc, test_add_rejects);
    tc = sq_tcase(s, "corrupt", 20);
    tcase_add_test(tc, test_bad_magic);
    tcase_add_test(tc, test_bad_version);
    tcase_add_test(tc, test_truncated_header);
    tcase_add_test(tc, test_truncated_table);
    tcase_add_test(tc, test_truncated_payload);
    tcase_add_test(tc, test_header_checksum);
    tcase_add_test(tc, test_payload_checksum);
    tcase_add_test(tc, test_absurd_dims);
    tcase_add_test(tc, test_offset_out_of_range);
    tcase_add_test(tc, test_unaligned_or_overlapping);
    tcase_add_test(tc, test_unknown_dtype);
    tcase_add_test(tc, test_duplicate_name);
    tcase_add_test(tc, test_bad_names);
    tcase_add_test(tc, test_absurd_count_and_sizes);
    tcase_add_test(tc, test_trailing_bytes);
    tcase_add_test(tc, test_resealed_bad_payload);
    tc = sq_tcase(s, "cli", 60);
    tcase_add_test(tc, test_cli_info);
    tcase_add_test(tc, test_llama_roundtrip);
    return s;
}
