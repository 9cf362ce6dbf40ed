/* safetensors reader; the format and what is checked are in safetensors.h. */
#include "model/safetensors.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "util/err.h"

/* Headers beyond this are not plausible (the reference reader caps at 100 MB). */
#define HEADER_MAX ((uint64_t)100 << 20)

struct sq_st {
    uint8_t *image;
    cJSON *json;
    sq_st_tensor_t *t;
    size_t n;
};

static const struct {
    const char *name;
    size_t bytes;
} dtypes[SQ_ST_NDTYPES] = {
    [SQ_ST_BOOL] = {"BOOL", 1},       [SQ_ST_U8] = {"U8", 1},   [SQ_ST_I8] = {"I8", 1},
    [SQ_ST_F8_E4M3] = {"F8_E4M3", 1}, [SQ_ST_F8_E5M2] = {"F8_E5M2", 1},
    [SQ_ST_I16] = {"I16", 2},         [SQ_ST_U16] = {"U16", 2}, [SQ_ST_F16] = {"F16", 2},
    [SQ_ST_BF16] = {"BF16", 2},       [SQ_ST_I32] = {"I32", 4}, [SQ_ST_U32] = {"U32", 4},
    [SQ_ST_F32] = {"F32", 4},         [SQ_ST_F64] = {"F64", 8}, [SQ_ST_I64] = {"I64", 8},
    [SQ_ST_U64] = {"U64", 8},
};

const char *sq_st_dtype_name(sq_st_dtype_t dt)
{
    return dt < SQ_ST_NDTYPES ? dtypes[dt].name : "?";
}

size_t sq_st_dtype_bytes(sq_st_dtype_t dt)
{
    return dt < SQ_ST_NDTYPES ? dtypes[dt].bytes : 0;
}

void sq_st_free(sq_st_t *st)
{
    if (!st)
        return;
    cJSON_Delete(st->json);
    free(st->t);
    free(st->image);
    free(st);
}

/* A JSON number that is a non-negative integer exactly representable. */
static int json_uint(const cJSON *v, uint64_t *out)
{
    if (!cJSON_IsNumber(v))
        return -1;
    double d = v->valuedouble;
    if (!(d >= 0) || d > 9007199254740992.0 || floor(d) != d)
        return -1;
    *out = (uint64_t)d;
    return 0;
}

static int parse_tensor(const cJSON *item, uint64_t data_bytes, sq_st_tensor_t *t)
{
    const char *nm = item->string;
    if (!cJSON_IsObject(item))
        return sq_err(SQ_ERR_FMT, "tensor '%s': entry is not an object", nm);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (!cJSON_IsString(dt) || !cJSON_IsArray(shape) || !cJSON_IsArray(offs))
        return sq_err(SQ_ERR_FMT, "tensor '%s': needs string dtype, array shape and data_offsets",
                      nm);
    if (cJSON_GetArraySize(item) != 3)
        return sq_err(SQ_ERR_FMT, "tensor '%s': unexpected keys besides dtype/shape/data_offsets",
                      nm);
    t->name = nm;
    t->dtype = SQ_ST_NDTYPES;
    for (int i = 0; i < SQ_ST_NDTYPES; i++)
        if (!strcmp(dt->valuestring, dtypes[i].name))
            t->dtype = (sq_st_dtype_t)i;
    if (t->dtype == SQ_ST_NDTYPES)
        return sq_err(SQ_ERR_FMT, "tensor '%s': unknown dtype '%.32s'", nm, dt->valuestring);
    int nd = cJSON_GetArraySize(shape);
    if (nd > (int)SQ_ST_MAX_NDIM)
        return sq_err(SQ_ERR_FMT, "tensor '%s': %d dimensions (at most %u)", nm, nd,
                      SQ_ST_MAX_NDIM);
    t->ndim = (uint32_t)nd;
    /* the byte size is bounded by the buffer, so a product above it is already wrong */
    uint64_t numel = 1, bound = data_bytes + 1;
    int over = 0;
    for (int i = 0; i < nd; i++) {
        if (json_uint(cJSON_GetArrayItem(shape, i), &t->shape[i]))
            return sq_err(SQ_ERR_FMT, "tensor '%s': shape[%d] is not a non-negative integer", nm,
                          i);
        if (t->shape[i] == 0)
            numel = 0, over = 0;
        else if (!over && numel > bound / t->shape[i])
            over = 1;
        else if (!over)
            numel *= t->shape[i];
    }
    uint64_t begin, end;
    if (cJSON_GetArraySize(offs) != 2 || json_uint(cJSON_GetArrayItem(offs, 0), &begin) ||
        json_uint(cJSON_GetArrayItem(offs, 1), &end))
        return sq_err(SQ_ERR_FMT, "tensor '%s': data_offsets must be two non-negative integers",
                      nm);
    if (begin > end || end > data_bytes)
        return sq_err(SQ_ERR_FMT, "tensor '%s': data_offsets [%llu, %llu) outside the %llu-byte buffer",
                      nm, (unsigned long long)begin, (unsigned long long)end,
                      (unsigned long long)data_bytes);
    size_t eb = dtypes[t->dtype].bytes;
    if (over || numel > data_bytes / eb || numel * eb != end - begin)
        return sq_err(SQ_ERR_FMT, "tensor '%s': shape needs %s bytes, data_offsets give %llu", nm,
                      over ? "absurdly many" : "a different number of",
                      (unsigned long long)(end - begin));
    t->numel = numel;
    t->nbytes = end - begin;
    t->offset = begin;
    return 0;
}

static int cmp_begin(const void *a, const void *b)
{
    const sq_st_tensor_t *x = a, *y = b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const sq_st_tensor_t *)a)->name, ((const sq_st_tensor_t *)b)->name);
}

static int parse(sq_st_t *st, size_t n)
{
    const uint8_t *img = st->image;
    if (n < 8)
        return sq_err(SQ_ERR_FMT, "truncated safetensors header length (%zu bytes)", n);
    uint64_t hlen = sq_le_get(img, 8);
    if (hlen < 2 || hlen > HEADER_MAX || hlen > n - 8)
        return sq_err(SQ_ERR_FMT, "safetensors header length %llu does not fit the %zu-byte file",
                      (unsigned long long)hlen, n);
    const char *js = (const char *)img + 8;
    if (js[0] != '{')
        return sq_err(SQ_ERR_FMT, "safetensors header does not start with '{'");
    if (!sq_utf8_valid((const uint8_t *)js, (size_t)hlen))
        return sq_err(SQ_ERR_FMT, "safetensors header is not valid UTF-8");
    const char *end = NULL;
    st->json = cJSON_ParseWithLengthOpts(js, (size_t)hlen, &end, 0);
    if (!st->json || !cJSON_IsObject(st->json))
        return sq_err(SQ_ERR_FMT, "safetensors header is not a JSON object (error near byte %zu)",
                      end ? (size_t)(end - js) : (size_t)0);
    /* the reference writer pads the header with spaces */
    for (const char *p = end; p < js + hlen; p++)
        if (*p != ' ')
            return sq_err(SQ_ERR_FMT, "bytes after the JSON header at %zu", (size_t)(p - js));
    uint64_t data_bytes = n - 8 - hlen;
    size_t count = (size_t)cJSON_GetArraySize(st->json);
    st->t = calloc(count ? count : 1, sizeof *st->t);
    if (!st->t)
        return sq_err(SQ_ERR_MEM, "out of memory for %zu tensors", count);
    const cJSON *item;
    cJSON_ArrayForEach(item, st->json)
    {
        if (!sq_utf8_valid((const uint8_t *)item->string, strlen(item->string)))
            return sq_err(SQ_ERR_FMT, "a tensor name is not valid UTF-8");
        if (!strcmp(item->string, "__metadata__")) {
            const cJSON *kv;
            if (!cJSON_IsObject(item))
                return sq_err(SQ_ERR_FMT, "__metadata__ is not an object");
            cJSON_ArrayForEach(kv, item) if (!cJSON_IsString(kv))
                return sq_err(SQ_ERR_FMT, "__metadata__ value '%s' is not a string", kv->string);
            continue;
        }
        int rc = parse_tensor(item, data_bytes, &st->t[st->n]);
        if (rc)
            return rc;
        st->n++;
    }
    /* the tensors must tile the buffer: sorted by begin, each starts where
     * the previous ended (zero-size tensors may share an offset) */
    sq_st_tensor_t *s = malloc((st->n ? st->n : 1) * sizeof *s);
    if (!s)
        return sq_err(SQ_ERR_MEM, "out of memory");
    memcpy(s, st->t, st->n * sizeof *s);
    qsort(s, st->n, sizeof *s, cmp_begin);
    uint64_t at = 0;
    int rc = 0;
    for (size_t i = 0; i < st->n && !rc; i++) {
        uint64_t b = s[i].offset;
        if (b != at)
            rc = sq_err(SQ_ERR_FMT, "tensor '%s' starts at %llu: %s at %llu", s[i].name,
                        (unsigned long long)b, b < at ? "overlaps data ending" : "hole from",
                        (unsigned long long)at);
        at = b + s[i].nbytes;
    }
    if (!rc && at != data_bytes)
        rc = sq_err(SQ_ERR_FMT, "%llu bytes of data after the last tensor",
                    (unsigned long long)(data_bytes - at));
    qsort(s, st->n, sizeof *s, cmp_name);
    for (size_t i = 1; i < st->n && !rc; i++)
        if (!strcmp(s[i].name, s[i - 1].name))
            rc = sq_err(SQ_ERR_FMT, "duplicate tensor name '%s'", s[i].name);
    free(s);
    if (rc)
        return rc;
    for (size_t i = 0; i < st->n; i++)
        st->t[i].data = img + 8 + hlen + st->t[i].offset;
    return 0;
}

int sq_st_parse(uint8_t *data, size_t n, sq_st_t **out)
{
    *out = NULL;
    sq_st_t *st = calloc(1, sizeof *st);
    if (!st) {
        free(data);
        return sq_err(SQ_ERR_MEM, "out of memory");
    }
    st->image = data;
    int rc = parse(st, n);
    if (rc) {
        sq_st_free(st);
        return rc;
    }
    *out = st;
    return 0;
}

int sq_st_read(const char *path, sq_st_t **out)
{
    uint8_t *data;
    size_t n;
    *out = NULL;
    int rc = sq_file_read(path, &data, &n);
    if (rc)
        return rc;
    rc = sq_st_parse(data, n, out);
    if (rc) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", sq_err_msg());
        return sq_err(rc, "%s: %s", path, msg);
    }
    return 0;
}

size_t sq_st_count(const sq_st_t *st)
{
    return st->n;
}

const sq_st_tensor_t *sq_st_tensor(const sq_st_t *st, size_t i)
{
    return i < st->n ? &st->t[i] : NULL;
}

const sq_st_tensor_t *sq_st_find(const sq_st_t *st, const char *name)
{
    for (size_t i = 0; i < st->n; i++)
        if (!strcmp(st->t[i].name, name))
            return &st->t[i];
    return NULL;
}

const char *sq_st_metadata(const sq_st_t *st, const char *key)
{
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(st->json, "__metadata__");
    const cJSON *v = md ? cJSON_GetObjectItemCaseSensitive(md, key) : NULL;
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int sq_st_read_f32(const sq_st_t *st, const char *name, uint32_t ndim, const uint64_t *shape,
                   float *out)
{
    const sq_st_tensor_t *t = sq_st_find(st, name);
    if (!t)
        return sq_err(SQ_ERR_FMT, "tensor '%s' is missing", name);
    int same = t->ndim == ndim;
    for (uint32_t i = 0; same && i < ndim; i++)
        same = t->shape[i] == shape[i];
    if (!same) {
        char want[96] = "", got[96] = "";
        size_t a = 0, b = 0;
        for (uint32_t i = 0; i < ndim && a < sizeof want; i++)
            a += (size_t)snprintf(want + a, sizeof want - a, "%s%llu", i ? "x" : "",
                                  (unsigned long long)shape[i]);
        for (uint32_t i = 0; i < t->ndim && b < sizeof got; i++)
            b += (size_t)snprintf(got + b, sizeof got - b, "%s%llu", i ? "x" : "",
                                  (unsigned long long)t->shape[i]);
        return sq_err(SQ_ERR_FMT, "tensor '%s' has shape [%s], expected [%s]", name, got, want);
    }
    const uint8_t *p = t->data;
    switch (t->dtype) {
    case SQ_ST_F32:
        memcpy(out, p, t->numel * 4);
        return 0;
    case SQ_ST_F16:
        for (uint64_t i = 0; i < t->numel; i++)
            out[i] = sq_f16_to_f32((uint16_t)sq_le_get(p + 2 * i, 2));
        return 0;
    case SQ_ST_BF16:
        for (uint64_t i = 0; i < t->numel; i++)
            out[i] = sq_bf16_to_f32((uint16_t)sq_le_get(p + 2 * i, 2));
        return 0;
    default:
        return sq_err(SQ_ERR_FMT, "tensor '%s' is %s, not a float type", name,
                      dtypes[t->dtype].name);
    }
}
