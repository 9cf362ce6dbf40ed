/* GGUF reader and ggml block dequantizers (gguf.h). */
#include "model/gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "util/err.h"

#define MAGIC "GGUF"
#define DEFAULT_ALIGN 32u
#define MAX_ARRAY_DEPTH 4
#define MAX_NAME 65535u
/* numel cap: far beyond any file, far below 64-bit overflow in byte sizes */
#define MAX_NUMEL ((uint64_t)1 << 50)

struct sq_gguf {
    uint8_t *image;
    uint32_t version;
    sq_gguf_kv_t *kv;
    size_t n_kv;
    sq_gguf_tensor_t *t;
    size_t n_t;
    char **names;   /* copies of keys and tensor names */
    size_t n_names;
    sq_gguf_str_t **strs; /* string-array element tables */
    size_t n_strs;
};

/* ---------------------------------------------------------------------------
 * ggml types */

static const struct {
    const char *name;
    uint32_t block;
    uint32_t bytes;
} types[] = {
    [0] = {"F32", 1, 4},      [1] = {"F16", 1, 2},      [2] = {"Q4_0", 32, 18},
    [3] = {"Q4_1", 32, 20},   [6] = {"Q5_0", 32, 22},   [7] = {"Q5_1", 32, 24},
    [8] = {"Q8_0", 32, 34},   [9] = {"Q8_1", 32, 36},   [10] = {"Q2_K", 256, 84},
    [11] = {"Q3_K", 256, 110}, [12] = {"Q4_K", 256, 144}, [13] = {"Q5_K", 256, 176},
    [14] = {"Q6_K", 256, 210}, [15] = {"Q8_K", 256, 292}, [24] = {"I8", 1, 1},
    [25] = {"I16", 1, 2},     [26] = {"I32", 1, 4},     [27] = {"I64", 1, 8},
    [28] = {"F64", 1, 8},     [30] = {"BF16", 1, 2},
};
#define N_TYPES (sizeof types / sizeof types[0])

const char *sq_ggml_type_name(uint32_t type)
{
    return type < N_TYPES && types[type].name ? types[type].name : "?";
}

static const size_t vsizes[] = {
    [SQ_GGUF_U8] = 1, [SQ_GGUF_I8] = 1, [SQ_GGUF_U16] = 2, [SQ_GGUF_I16] = 2,
    [SQ_GGUF_U32] = 4, [SQ_GGUF_I32] = 4, [SQ_GGUF_F32] = 4, [SQ_GGUF_BOOL] = 1,
    [SQ_GGUF_STRING] = 0, [SQ_GGUF_ARRAY] = 0, [SQ_GGUF_U64] = 8, [SQ_GGUF_I64] = 8,
    [SQ_GGUF_F64] = 8,
};

/* ---------------------------------------------------------------------------
 * Parsing */

void sq_gguf_free(sq_gguf_t *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_names; i++)
        free(g->names[i]);
    for (size_t i = 0; i < g->n_strs; i++)
        free(g->strs[i]);
    free(g->names);
    free(g->strs);
    free(g->kv);
    free(g->t);
    free(g->image);
    free(g);
}

static int trunc_err(const char *what)
{
    return sq_err(SQ_ERR_FMT, "truncated GGUF file (in %s)", what);
}

/* A name (key or tensor) as a NUL-terminated copy owned by g. */
static int read_name(sq_gguf_t *g, sq_rd_t *r, const char *what, size_t idx, const char **out)
{
    uint64_t len;
    const uint8_t *p;
    if (sq_rd_u64(r, &len))
        return trunc_err(what);
    if (len < 1 || len > MAX_NAME)
        return sq_err(SQ_ERR_FMT, "%s %zu: name length %llu outside [1, %u]", what, idx,
                      (unsigned long long)len, MAX_NAME);
    if (sq_rd_bytes(r, (size_t)len, &p))
        return trunc_err(what);
    if (!sq_utf8_valid(p, (size_t)len) || memchr(p, 0, (size_t)len))
        return sq_err(SQ_ERR_FMT, "%s %zu: name is not valid UTF-8", what, idx);
    char *s = malloc((size_t)len + 1);
    if (!s)
        return sq_err(SQ_ERR_MEM, "out of memory");
    memcpy(s, p, (size_t)len);
    s[len] = 0;
    g->names[g->n_names++] = s;
    *out = s;
    return 0;
}

static int read_str(sq_rd_t *r, const char *key, sq_gguf_str_t *s)
{
    uint64_t len;
    const uint8_t *p;
    if (sq_rd_u64(r, &len) || len > r->n - r->pos || sq_rd_bytes(r, (size_t)len, &p))
        return sq_err(SQ_ERR_FMT, "key '%s': string runs past the end of the file", key);
    s->p = (const char *)p;
    s->len = len;
    return 0;
}

/* Reads one value of type t into kv (top level) or just validates it
 * (inside nested arrays, kv NULL). */
static int read_value(sq_gguf_t *g, sq_rd_t *r, const char *key, uint32_t t, int depth,
                      sq_gguf_kv_t *kv)
{
    if (t > SQ_GGUF_F64)
        return sq_err(SQ_ERR_FMT, "key '%s': unknown value type %u", key, t);
    if (t == SQ_GGUF_STRING) {
        sq_gguf_str_t s;
        int rc = read_str(r, key, &s);
        if (!rc && kv)
            kv->v.s = s;
        return rc;
    }
    if (t == SQ_GGUF_ARRAY) {
        uint32_t et;
        uint64_t n;
        if (depth >= MAX_ARRAY_DEPTH)
            return sq_err(SQ_ERR_FMT, "key '%s': arrays nested deeper than %d", key,
                          MAX_ARRAY_DEPTH);
        if (sq_rd_u32(r, &et) || sq_rd_u64(r, &n))
            return trunc_err("metadata");
        if (et > SQ_GGUF_F64)
            return sq_err(SQ_ERR_FMT, "key '%s': unknown array element type %u", key, et);
        size_t left = r->n - r->pos;
        /* every element takes at least one byte (8 for a string's length) */
        size_t min = vsizes[et] ? vsizes[et] : et == SQ_GGUF_STRING ? 8 : 12;
        if (n > left / min)
            return sq_err(SQ_ERR_FMT, "key '%s': absurd array length %llu", key,
                          (unsigned long long)n);
        const uint8_t *start = r->p + r->pos;
        sq_gguf_str_t *strs = NULL;
        if (et == SQ_GGUF_STRING && kv) {
            strs = malloc((n ? n : 1) * sizeof *strs);
            if (!strs)
                return sq_err(SQ_ERR_MEM, "out of memory");
            g->strs[g->n_strs++] = strs;
        }
        if (vsizes[et]) {
            sq_rd_skip(r, (size_t)n * vsizes[et]);
            if (et == SQ_GGUF_BOOL)
                for (uint64_t i = 0; i < n; i++)
                    if (start[i] > 1)
                        return sq_err(SQ_ERR_FMT, "key '%s': bool element %llu is %u", key,
                                      (unsigned long long)i, start[i]);
        } else {
            for (uint64_t i = 0; i < n; i++) {
                int rc = et == SQ_GGUF_STRING ? read_str(r, key, strs ? &strs[i] : &(sq_gguf_str_t){0})
                                              : read_value(g, r, key, et, depth + 1, NULL);
                if (rc)
                    return rc;
            }
        }
        if (kv) {
            kv->v.arr.type = et;
            kv->v.arr.n = n;
            kv->v.arr.data = start;
            kv->v.arr.strs = strs;
        }
        return 0;
    }
    uint64_t x;
    if (sq_rd_uint(r, (unsigned)vsizes[t], &x))
        return trunc_err("metadata");
    if (t == SQ_GGUF_BOOL && x > 1)
        return sq_err(SQ_ERR_FMT, "key '%s': bool value is %llu", key, (unsigned long long)x);
    if (!kv)
        return 0;
    switch (t) {
    case SQ_GGUF_I8: kv->v.i = (int8_t)x; break;
    case SQ_GGUF_I16: kv->v.i = (int16_t)x; break;
    case SQ_GGUF_I32: kv->v.i = (int32_t)x; break;
    case SQ_GGUF_I64: kv->v.i = (int64_t)x; break;
    case SQ_GGUF_F32: kv->v.f = sq_f32_from_bits((uint32_t)x); break;
    case SQ_GGUF_F64: memcpy(&kv->v.f, &x, 8); break;
    default: kv->v.u = x; break;
    }
    return 0;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(((const sq_gguf_kv_t *)a)->key, ((const sq_gguf_kv_t *)b)->key);
}

static int cmp_tname(const void *a, const void *b)
{
    return strcmp(((const sq_gguf_tensor_t *)a)->name, ((const sq_gguf_tensor_t *)b)->name);
}

static int cmp_toff(const void *a, const void *b)
{
    const sq_gguf_tensor_t *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* Sorted copies for the duplicate and overlap checks (O(n log n)). */
static int check_unique(sq_gguf_t *g)
{
    int rc = 0;
    sq_gguf_kv_t *kv = malloc((g->n_kv ? g->n_kv : 1) * sizeof *kv);
    sq_gguf_tensor_t *t = malloc((g->n_t ? g->n_t : 1) * sizeof *t);
    if (!kv || !t) {
        free(kv);
        free(t);
        return sq_err(SQ_ERR_MEM, "out of memory");
    }
    memcpy(kv, g->kv, g->n_kv * sizeof *kv);
    qsort(kv, g->n_kv, sizeof *kv, cmp_key);
    for (size_t i = 1; i < g->n_kv && !rc; i++)
        if (!strcmp(kv[i].key, kv[i - 1].key))
            rc = sq_err(SQ_ERR_FMT, "duplicate metadata key '%s'", kv[i].key);
    memcpy(t, g->t, g->n_t * sizeof *t);
    qsort(t, g->n_t, sizeof *t, cmp_tname);
    for (size_t i = 1; i < g->n_t && !rc; i++)
        if (!strcmp(t[i].name, t[i - 1].name))
            rc = sq_err(SQ_ERR_FMT, "duplicate tensor name '%s'", t[i].name);
    qsort(t, g->n_t, sizeof *t, cmp_toff);
    for (size_t i = 1; i < g->n_t && !rc; i++)
        if (t[i].offset < t[i - 1].offset + t[i - 1].nbytes)
            rc = sq_err(SQ_ERR_FMT, "tensors '%s' and '%s' overlap", t[i - 1].name, t[i].name);
    free(kv);
    free(t);
    return rc;
}

static int parse_tensor_info(sq_gguf_t *g, sq_rd_t *r, size_t i, sq_gguf_tensor_t *t)
{
    int rc = read_name(g, r, "tensor", i, &t->name);
    if (rc)
        return rc;
    if (sq_rd_u32(r, &t->n_dims))
        return trunc_err("tensor infos");
    if (t->n_dims < 1 || t->n_dims > SQ_GGUF_MAX_DIMS)
        return sq_err(SQ_ERR_FMT, "tensor '%s': %u dimensions (1..%u)", t->name, t->n_dims,
                      SQ_GGUF_MAX_DIMS);
    t->numel = 1;
    for (uint32_t d = 0; d < SQ_GGUF_MAX_DIMS; d++) {
        t->ne[d] = 1;
        if (d >= t->n_dims)
            continue;
        if (sq_rd_u64(r, &t->ne[d]))
            return trunc_err("tensor infos");
        if (t->ne[d] < 1 || t->ne[d] > MAX_NUMEL || t->numel > MAX_NUMEL / t->ne[d])
            return sq_err(SQ_ERR_FMT, "tensor '%s': absurd dimension ne[%u] = %llu", t->name, d,
                          (unsigned long long)t->ne[d]);
        t->numel *= t->ne[d];
    }
    if (sq_rd_u32(r, &t->type) || sq_rd_u64(r, &t->offset))
        return trunc_err("tensor infos");
    if (t->type >= N_TYPES || !types[t->type].name)
        return sq_err(SQ_ERR_FMT, "tensor '%s': unknown tensor type %u", t->name, t->type);
    if (t->ne[0] % types[t->type].block)
        return sq_err(SQ_ERR_FMT, "tensor '%s': ne[0] = %llu is not a multiple of the %s block %u",
                      t->name, (unsigned long long)t->ne[0], types[t->type].name,
                      types[t->type].block);
    t->nbytes = t->numel / types[t->type].block * types[t->type].bytes;
    return 0;
}

static int parse(sq_gguf_t *g, size_t n)
{
    sq_rd_t r = {g->image, n, 0};
    uint32_t version;
    uint64_t n_t, n_kv;
    if (n < 24)
        return sq_err(SQ_ERR_FMT, "truncated GGUF header (%zu bytes, need 24)", n);
    if (memcmp(g->image, MAGIC, 4))
        return sq_err(SQ_ERR_FMT, "not a GGUF file (bad magic)");
    sq_rd_skip(&r, 4);
    sq_rd_u32(&r, &version);
    if (version != 2 && version != 3)
        return sq_err(SQ_ERR_FMT, "unsupported GGUF version %u (this build reads 2 and 3)",
                      version);
    g->version = version;
    sq_rd_u64(&r, &n_t);
    sq_rd_u64(&r, &n_kv);
    size_t left = n - r.pos;
    /* smallest kv: 8-byte length, 1-byte key, 4-byte type, 1-byte value;
     * smallest tensor info: 8 + 1 + 4 + 8 + 4 + 8 */
    if (n_kv > left / 14 || n_t > left / 33 || n_kv + n_t > left / 14)
        return sq_err(SQ_ERR_FMT, "absurd counts: %llu tensors, %llu metadata keys in %zu bytes",
                      (unsigned long long)n_t, (unsigned long long)n_kv, left);
    g->kv = calloc(n_kv ? n_kv : 1, sizeof *g->kv);
    g->t = calloc(n_t ? n_t : 1, sizeof *g->t);
    g->names = calloc(n_kv + n_t + 1, sizeof *g->names);
    g->strs = calloc(n_kv + 1, sizeof *g->strs);
    if (!g->kv || !g->t || !g->names || !g->strs)
        return sq_err(SQ_ERR_MEM, "out of memory");
    int rc;
    uint32_t align = DEFAULT_ALIGN;
    for (size_t i = 0; i < n_kv; i++) {
        sq_gguf_kv_t *kv = &g->kv[i];
        uint32_t type;
        if ((rc = read_name(g, &r, "metadata key", i, &kv->key)))
            return rc;
        if (sq_rd_u32(&r, &type))
            return trunc_err("metadata");
        kv->type = type;
        if ((rc = read_value(g, &r, kv->key, type, 0, kv)))
            return rc;
        g->n_kv++;
        if (!strcmp(kv->key, "general.alignment")) {
            if (type != SQ_GGUF_U32 || kv->v.u == 0 || (kv->v.u & (kv->v.u - 1)))
                return sq_err(SQ_ERR_FMT, "general.alignment must be a u32 power of two");
            align = (uint32_t)kv->v.u;
        }
    }
    for (size_t i = 0; i < n_t; i++) {
        if ((rc = parse_tensor_info(g, &r, i, &g->t[i])))
            return rc;
        g->n_t++;
    }
    uint64_t data = (r.pos + align - 1) / align * align;
    /* a file without tensors (a vocabulary) may end unpadded */
    if (n_t > 0 && data > n)
        return sq_err(SQ_ERR_FMT, "truncated GGUF file (no data section)");
    for (size_t i = 0; i < n_t; i++) {
        sq_gguf_tensor_t *t = &g->t[i];
        if (t->offset % align)
            return sq_err(SQ_ERR_FMT, "tensor '%s': offset %llu is not a multiple of %u", t->name,
                          (unsigned long long)t->offset, align);
        if (t->offset > n - data || t->nbytes > n - data - t->offset)
            return sq_err(SQ_ERR_FMT,
                          "tensor '%s': data [%llu, +%llu) runs past the end of the file "
                          "(%llu data bytes)",
                          t->name, (unsigned long long)t->offset, (unsigned long long)t->nbytes,
                          (unsigned long long)(n - data));
        t->data = g->image + data + t->offset;
    }
    return check_unique(g);
}

int sq_gguf_parse(uint8_t *data, size_t n, sq_gguf_t **out)
{
    *out = NULL;
    sq_gguf_t *g = calloc(1, sizeof *g);
    if (!g) {
        free(data);
        return sq_err(SQ_ERR_MEM, "out of memory");
    }
    g->image = data;
    int rc = parse(g, n);
    if (rc) {
        sq_gguf_free(g);
        return rc;
    }
    *out = g;
    return 0;
}

int sq_gguf_read(const char *path, sq_gguf_t **out)
{
    uint8_t *data;
    size_t n;
    *out = NULL;
    int rc = sq_file_read(path, &data, &n);
    if (rc)
        return rc;
    rc = sq_gguf_parse(data, n, out);
    if (rc) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", sq_err_msg());
        return sq_err(rc, "%s: %s", path, msg);
    }
    return 0;
}

/* ---------------------------------------------------------------------------
 * Access */

uint32_t sq_gguf_version(const sq_gguf_t *g)
{
    return g->version;
}

size_t sq_gguf_n_kv(const sq_gguf_t *g)
{
    return g->n_kv;
}

const sq_gguf_kv_t *sq_gguf_kv(const sq_gguf_t *g, size_t i)
{
    return i < g->n_kv ? &g->kv[i] : NULL;
}

const sq_gguf_kv_t *sq_gguf_find_kv(const sq_gguf_t *g, const char *key)
{
    for (size_t i = 0; i < g->n_kv; i++)
        if (!strcmp(g->kv[i].key, key))
            return &g->kv[i];
    return NULL;
}

size_t sq_gguf_n_tensors(const sq_gguf_t *g)
{
    return g->n_t;
}

const sq_gguf_tensor_t *sq_gguf_tensor(const sq_gguf_t *g, size_t i)
{
    return i < g->n_t ? &g->t[i] : NULL;
}

const sq_gguf_tensor_t *sq_gguf_find_tensor(const sq_gguf_t *g, const char *name)
{
    for (size_t i = 0; i < g->n_t; i++)
        if (!strcmp(g->t[i].name, name))
            return &g->t[i];
    return NULL;
}

static const sq_gguf_kv_t *need(const sq_gguf_t *g, const char *key)
{
    const sq_gguf_kv_t *kv = sq_gguf_find_kv(g, key);
    if (!kv)
        sq_err(SQ_ERR_FMT, "metadata key '%s' is missing", key);
    return kv;
}

int sq_gguf_get_u64(const sq_gguf_t *g, const char *key, uint64_t *out)
{
    const sq_gguf_kv_t *kv = need(g, key);
    if (!kv)
        return SQ_ERR_FMT;
    switch (kv->type) {
    case SQ_GGUF_U8: case SQ_GGUF_U16: case SQ_GGUF_U32: case SQ_GGUF_U64:
        *out = kv->v.u;
        return 0;
    case SQ_GGUF_I8: case SQ_GGUF_I16: case SQ_GGUF_I32: case SQ_GGUF_I64:
        if (kv->v.i >= 0) {
            *out = (uint64_t)kv->v.i;
            return 0;
        }
        return sq_err(SQ_ERR_FMT, "metadata key '%s' is negative", key);
    default:
        return sq_err(SQ_ERR_FMT, "metadata key '%s' is not an integer", key);
    }
}

int sq_gguf_get_f32(const sq_gguf_t *g, const char *key, float *out)
{
    const sq_gguf_kv_t *kv = need(g, key);
    if (!kv)
        return SQ_ERR_FMT;
    if (kv->type != SQ_GGUF_F32 && kv->type != SQ_GGUF_F64)
        return sq_err(SQ_ERR_FMT, "metadata key '%s' is not a float", key);
    *out = (float)kv->v.f;
    return 0;
}

int sq_gguf_get_str(const sq_gguf_t *g, const char *key, sq_gguf_str_t *out)
{
    const sq_gguf_kv_t *kv = need(g, key);
    if (!kv)
        return SQ_ERR_FMT;
    if (kv->type != SQ_GGUF_STRING)
        return sq_err(SQ_ERR_FMT, "metadata key '%s' is not a string", key);
    *out = kv->v.s;
    return 0;
}

int sq_gguf_get_bool(const sq_gguf_t *g, const char *key, int *out)
{
    const sq_gguf_kv_t *kv = need(g, key);
    if (!kv)
        return SQ_ERR_FMT;
    if (kv->type != SQ_GGUF_BOOL)
        return sq_err(SQ_ERR_FMT, "metadata key '%s' is not a bool", key);
    *out = (int)kv->v.u;
    return 0;
}

int sq_gguf_get_arr(const sq_gguf_t *g, const char *key, sq_gguf_vtype_t type,
                    const sq_gguf_kv_t **out)
{
    const sq_gguf_kv_t *kv = need(g, key);
    if (!kv)
        return SQ_ERR_FMT;
    if (kv->type != SQ_GGUF_ARRAY || kv->v.arr.type != type)
        return sq_err(SQ_ERR_FMT, "metadata key '%s' is not an array of type %d", key, (int)type);
    *out = kv;
    return 0;
}

/* ---------------------------------------------------------------------------
 * Dequantization (ggml's block layouts) */

int sq_ggml_dequant_row(uint32_t type, const uint8_t *src, size_t k, float *out)
{
    switch (type) {
    case SQ_GGML_F32:
        memcpy(out, src, k * 4);
        return 0;
    case SQ_GGML_F16:
        for (size_t i = 0; i < k; i++)
            out[i] = sq_f16_to_f32((uint16_t)sq_le_get(src + 2 * i, 2));
        return 0;
    case SQ_GGML_BF16:
        for (size_t i = 0; i < k; i++)
            out[i] = sq_bf16_to_f32((uint16_t)sq_le_get(src + 2 * i, 2));
        return 0;
    case SQ_GGML_Q4_0: /* {f16 d; u8 qs[16]}: x = (nibble - 8) * d, low nibbles first */
        for (size_t b = 0; b < k / 32; b++, src += 18) {
            float d = sq_f16_to_f32((uint16_t)sq_le_get(src, 2));
            for (int j = 0; j < 16; j++) {
                out[32 * b + j] = (float)((src[2 + j] & 0x0F) - 8) * d;
                out[32 * b + j + 16] = (float)((src[2 + j] >> 4) - 8) * d;
            }
        }
        return 0;
    case SQ_GGML_Q4_1: /* {f16 d; f16 m; u8 qs[16]}: x = nibble * d + m */
        for (size_t b = 0; b < k / 32; b++, src += 20) {
            float d = sq_f16_to_f32((uint16_t)sq_le_get(src, 2));
            float m = sq_f16_to_f32((uint16_t)sq_le_get(src + 2, 2));
            for (int j = 0; j < 16; j++) {
                out[32 * b + j] = (float)(src[4 + j] & 0x0F) * d + m;
                out[32 * b + j + 16] = (float)(src[4 + j] >> 4) * d + m;
            }
        }
        return 0;
    case SQ_GGML_Q8_0: /* {f16 d; i8 qs[32]}: x = q * d */
        for (size_t b = 0; b < k / 32; b++, src += 34) {
            float d = sq_f16_to_f32((uint16_t)sq_le_get(src, 2));
            for (int j = 0; j < 32; j++)
                out[32 * b + j] = (float)(int8_t)src[2 + j] * d;
        }
        return 0;
    default:
        return sq_err(SQ_ERR_FMT, "no dequantizer for tensor type %s", sq_ggml_type_name(type));
    }
}

int sq_gguf_dequant(const sq_gguf_tensor_t *t, float *out)
{
    int rc = sq_ggml_dequant_row(t->type, t->data, (size_t)t->numel, out);
    if (rc) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", sq_err_msg());
        return sq_err(rc, "tensor '%s': %s", t->name, msg);
    }
    return 0;
}
