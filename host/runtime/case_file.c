/* Case files for the independent oracle (format in runtime/case_file.h). */
#include "runtime/case_file.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "util/err.h"

struct sq_case_file {
    FILE *f;
    int failed;
};

typedef struct {
    const char *name, *dtype;
    uint32_t ndim;
    uint64_t shape[3];
    const void *data;
} array_t;

static size_t dtype_bytes(const char *dtype)
{
    return strstr(dtype, "32") ? 4 : strstr(dtype, "16") ? 2 : 1;
}

int sq_case_file_open(const char *path, sq_case_file_t **out)
{
    *out = NULL;
    sq_case_file_t *f = calloc(1, sizeof *f);
    if (!f)
        return sq_err(SQ_ERR_MEM, "out of memory");
    if (!(f->f = fopen(path, "wb"))) {
        free(f);
        return sq_err(SQ_ERR_IO, "cannot create case file %s: %s", path, strerror(errno));
    }
    *out = f;
    return 0;
}

int sq_case_file_close(sq_case_file_t *f)
{
    if (!f)
        return 0;
    int bad = fclose(f->f) != 0 || f->failed;
    free(f);
    return bad ? sq_err(SQ_ERR_IO, "writing a case file failed") : 0;
}

/* One record; takes params. */
static int put(sq_case_file_t *f, const char *op, cJSON *params, const array_t *a, size_t n)
{
    cJSON *h = cJSON_CreateObject(), *arrays = cJSON_CreateArray();
    cJSON_AddStringToObject(h, "op", op);
    cJSON_AddItemToObject(h, "params", params);
    cJSON_AddItemToObject(h, "arrays", arrays);
    for (size_t i = 0; i < n; i++) {
        cJSON *e = cJSON_CreateObject(), *shape = cJSON_CreateArray();
        cJSON_AddStringToObject(e, "name", a[i].name);
        cJSON_AddStringToObject(e, "dtype", a[i].dtype);
        for (uint32_t d = 0; d < a[i].ndim; d++)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)a[i].shape[d]));
        cJSON_AddItemToObject(e, "shape", shape);
        cJSON_AddItemToArray(arrays, e);
    }
    char *text = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    if (!text)
        return sq_err(SQ_ERR_MEM, "out of memory writing a case");
    uint8_t len[4];
    sq_le_put(len, strlen(text), 4);
    int ok = fwrite("SQCF", 1, 4, f->f) == 4 && fwrite(len, 1, 4, f->f) == 4 &&
             fwrite(text, 1, strlen(text), f->f) == strlen(text);
    free(text);
    for (size_t i = 0; ok && i < n; i++) {
        size_t bytes = dtype_bytes(a[i].dtype);
        for (uint32_t d = 0; d < a[i].ndim; d++)
            bytes *= (size_t)a[i].shape[d];
        ok = fwrite(a[i].data, 1, bytes, f->f) == bytes;
    }
    if (!ok) {
        f->failed = 1;
        return sq_err(SQ_ERR_IO, "writing a case file failed");
    }
    return 0;
}

static void num(cJSON *o, const char *k, double v)
{
    cJSON_AddNumberToObject(o, k, v);
}

int sq_case_file_gemm(sq_case_file_t *f, const sq_gemm_case_t *gc, const void *out)
{
    const sq_gemm_desc_t *d = &gc->d;
    cJSON *p = cJSON_CreateObject();
    num(p, "m", d->m);
    num(p, "n", d->n);
    num(p, "k", d->k);
    num(p, "flags", d->flags);
    if (d->flags & SQ_GEMM_GSCALE)
        num(p, "group", d->group);
    uint64_t wrow = sq_w_row_bytes(d->flags, d->k), mrow = sq_meta_row_bytes(d->k);
    const char *ct = (d->flags & SQ_GEMM_OUT32) ? "int32" : "int8";
    array_t a[8];
    size_t n = 0;
    a[n++] = (array_t){"a", "int8", 2, {d->m, d->k}, gc->a};
    a[n++] = (array_t){"w", "uint8", 2, {d->n, wrow}, gc->w};
    if (d->flags & SQ_GEMM_SP24)
        a[n++] = (array_t){"meta", "uint8", 2, {d->n, mrow}, gc->meta};
    if (d->flags & SQ_GEMM_BIAS)
        a[n++] = (array_t){"bias", "int32", 1, {d->n}, gc->bias};
    if (!(d->flags & SQ_GEMM_OUT32))
        a[n++] = (array_t){"quant", "int32", 2, {d->n, 2}, gc->quant};
    if (d->flags & SQ_GEMM_GSCALE)
        a[n++] = (array_t){"gscale", "uint16", 2, {d->n, (d->k + d->group - 1) / d->group},
                           gc->gscale};
    a[n++] = (array_t){"golden", ct, 2, {d->m, d->n}, gc->golden};
    a[n++] = (array_t){"out", ct, 2, {d->m, d->n}, out};
    return put(f, "gemm", p, a, n);
}

static cJSON *attn_params(const sq_attn_desc_t *d)
{
    cJSON *p = cJSON_CreateObject();
    num(p, "flags", d->flags);
    num(p, "seq", d->seq);
    num(p, "queries", d->queries);
    num(p, "heads", d->heads);
    num(p, "kv_heads", d->kv_heads);
    num(p, "head_dim", d->head_dim);
    num(p, "kv_cap", d->kv_cap);
    num(p, "window", d->window);
    num(p, "n_global", d->n_global);
    num(p, "topk", d->topk);
    return p;
}

/* q, k, (mask), quant of an attention case; returns the count. */
static size_t attn_inputs(const sq_attn_case_t *ac, array_t *a)
{
    const sq_attn_desc_t *d = &ac->d;
    size_t n = 0;
    a[n++] = (array_t){"q", "int8", 3, {d->heads, d->queries, d->head_dim}, ac->q};
    a[n++] = (array_t){"k", "int8", 3, {d->kv_heads, d->kv_cap, d->head_dim}, ac->k};
    if (d->flags & SQ_ATTN_BLOCK)
        a[n++] = (array_t){"mask", "uint8", 2, {sq_attn_blocks(d->seq), SQ_ATTN_MASK_ROW_BYTES},
                           ac->mask};
    a[n++] = (array_t){"quant", "int32", 2, {d->heads, 4}, ac->quant};
    return n;
}

int sq_case_file_attn(sq_case_file_t *f, const sq_attn_case_t *ac, const int8_t *out)
{
    const sq_attn_desc_t *d = &ac->d;
    array_t a[8];
    size_t n = attn_inputs(ac, a);
    a[n++] = (array_t){"v", "int8", 3, {d->kv_heads, d->kv_cap, d->head_dim}, ac->v};
    a[n++] = (array_t){"golden", "int8", 3, {d->heads, d->queries, d->head_dim}, ac->golden};
    a[n++] = (array_t){"out", "int8", 3, {d->heads, d->queries, d->head_dim}, out};
    return put(f, "attn", attn_params(d), a, n);
}

int sq_case_file_softmax(sq_case_file_t *f, const sq_attn_case_t *ac, uint32_t head,
                         uint32_t query)
{
    const sq_attn_desc_t *d = &ac->d;
    sq_attn_row_t *r = calloc(1, sizeof *r);
    uint32_t *prob = calloc(d->seq, sizeof *prob);
    int32_t *s = calloc(d->seq, sizeof *s);
    if (!r || !prob || !s) {
        free(r);
        free(prob);
        free(s);
        return sq_err(SQ_ERR_MEM, "out of memory writing a softmax case");
    }
    sq_attn_row(&ac->a, head, query, r);
    uint32_t recip = r->n_sel ? sq_attn_recip(r->sum) : 0;
    for (uint32_t j = 0; j < d->seq; j++) {
        s[j] = r->cand[j] ? r->s[j] : 0; /* the rest is scratch */
        prob[j] = r->n_sel && r->sel[j] ? sq_attn_prob(r->e[j], recip) : 0;
        if (!r->n_sel || !r->sel[j])
            r->e[j] = 0;
    }
    cJSON *p = attn_params(d);
    num(p, "head", head);
    num(p, "query", query);
    array_t a[10];
    size_t n = attn_inputs(ac, a);
    a[n++] = (array_t){"cand", "uint8", 1, {d->seq}, r->cand};
    a[n++] = (array_t){"s", "int32", 1, {d->seq}, s};
    a[n++] = (array_t){"sel", "uint8", 1, {d->seq}, r->sel};
    a[n++] = (array_t){"e", "uint32", 1, {d->seq}, r->e};
    a[n++] = (array_t){"sum", "uint32", 1, {1}, &r->sum};
    a[n++] = (array_t){"p", "uint32", 1, {d->seq}, prob};
    int rc = put(f, "softmax", p, a, n);
    free(r);
    free(prob);
    free(s);
    return rc;
}
