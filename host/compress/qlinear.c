#include "compress/qlinear.h"

#include <stdlib.h>
#include <string.h>

#include <math.h>

#include "compress/quant.h"
#include "compress/transform.h"
#include "sparq/hadamard.h"
#include "sparq/numerics.h"
#include "util/err.h"

int sq_qscratch_alloc(sq_qscratch_t *s, size_t rows, size_t width)
{
    memset(s, 0, sizeof *s);
    s->act = malloc(rows * width);
    s->acc = malloc(rows * width * sizeof *s->acc);
    s->wide = malloc(2 * width * sizeof *s->wide);
    s->sa = malloc(rows * sizeof *s->sa);
    if (!s->act || !s->acc || !s->wide || !s->sa) {
        sq_qscratch_free(s);
        return sq_err(SQ_ERR_MEM, "out of memory for %zu rows of %zu", rows, width);
    }
    return 0;
}

void sq_qscratch_free(sq_qscratch_t *s)
{
    free(s->act);
    free(s->acc);
    free(s->wide);
    free(s->sa);
    memset(s, 0, sizeof *s);
}

static int oom(const sq_qlinear_t *q)
{
    return sq_err(SQ_ERR_MEM, "out of memory for a %zux%zu layer", q->n, q->k);
}

int sq_qlinear_f32(sq_qlinear_t *q, const float *w, size_t n, size_t k)
{
    memset(q, 0, sizeof *q);
    q->kind = SQ_QL_F32;
    q->n = n;
    q->k = k;
    q->k_in = k;
    if (!(q->wf = malloc(n * k * sizeof *q->wf)))
        return oom(q);
    memcpy(q->wf, w, n * k * sizeof *w);
    return 0;
}

int sq_qlinear_codebook(sq_qlinear_t *q, const float *codebook, uint32_t size, const uint8_t *idx,
                        size_t n, size_t k)
{
    memset(q, 0, sizeof *q);
    q->kind = SQ_QL_CODEBOOK;
    q->n = n;
    q->k = k;
    q->k_in = k;
    q->codebook_size = size;
    q->wf = malloc(n * k * sizeof *q->wf);
    q->idx = malloc(n * k);
    q->codebook = malloc(size * sizeof *q->codebook);
    if (!q->wf || !q->idx || !q->codebook) {
        sq_qlinear_free(q);
        return oom(q);
    }
    memcpy(q->codebook, codebook, size * sizeof *codebook);
    memcpy(q->idx, idx, n * k);
    for (size_t i = 0; i < n * k; i++) {
        if (idx[i] >= size) {
            sq_qlinear_free(q);
            return sq_err(SQ_ERR_FMT, "codebook index %u out of range [0, %u)", idx[i], size);
        }
        q->wf[i] = codebook[idx[i]];
    }
    return 0;
}

/* Repacks each group's k-slice of the int4 rows into its own (n, width)
 * operand so every group is one sq_gemm_ref call. */
static int build_groups(sq_qlinear_t *q)
{
    size_t ng = sq_quant_groups(q->k, q->group), total = 0;
    for (size_t g = 0; g < ng; g++) {
        size_t width = q->k - g * q->group < q->group ? q->k - g * q->group : q->group;
        total += q->n * sq_w_row_bytes(q->flags, width);
    }
    int8_t *row = malloc(q->k);
    q->wg = malloc(total);
    q->wg_bytes = total;
    if (!row || !q->wg) {
        free(row);
        return oom(q);
    }
    size_t rb = sq_w_row_bytes(q->flags, q->k), off = 0;
    for (size_t g = 0; g < ng; g++) {
        size_t t0 = g * q->group, width = q->k - t0 < q->group ? q->k - t0 : q->group;
        size_t gb = sq_w_row_bytes(q->flags, width);
        for (size_t i = 0; i < q->n; i++) {
            sq_w_row_decode(q->flags, q->w + i * rb, NULL, q->k, row);
            if (q->flags & SQ_GEMM_W4)
                sq_i4_pack_row(row + t0, width, q->wg + off + i * gb);
            else
                memcpy(q->wg + off + i * gb, row + t0, width);
        }
        off += q->n * gb;
    }
    free(row);
    return 0;
}

static int int_common(sq_qlinear_t *q, uint32_t flags, const float *scale, size_t group,
                      float act_scale, size_t n, size_t k)
{
    memset(q, 0, sizeof *q);
    q->kind = SQ_QL_INT;
    q->n = n;
    q->k = k;
    q->k_in = k;
    q->act_bits = 8;
    q->flags = flags;
    q->group = group && group < k ? group : k;
    q->act_scale = act_scale;
    if ((flags & ~(SQ_GEMM_W4 | SQ_GEMM_SP24)) || flags == (SQ_GEMM_W4 | SQ_GEMM_SP24) ||
        (q->group < k && (flags & SQ_GEMM_SP24)) || k > SQ_GEMM_MAX_DIM || n > SQ_GEMM_MAX_DIM)
        return sq_err(SQ_ERR_ARG, "integer layer %zux%zu: unsupported format flags 0x%x group %zu",
                      n, k, flags, group);
    size_t ns = n * sq_quant_groups(k, q->group);
    q->w = calloc(n, sq_w_row_bytes(flags, k));
    q->scale = malloc(ns * sizeof *q->scale);
    if ((flags & SQ_GEMM_SP24) && !(q->meta = calloc(n, sq_meta_row_bytes(k))))
        return oom(q);
    if (!q->w || !q->scale)
        return oom(q);
    for (size_t i = 0; i < ns; i++)
        if (!(scale[i] > 0))
            return sq_err(SQ_ERR_FMT, "integer layer %zux%zu: scale %zu is not positive", n, k, i);
    memcpy(q->scale, scale, ns * sizeof *scale);
    return 0;
}

int sq_qlinear_int(sq_qlinear_t *q, uint32_t flags, const int8_t *vals, const float *scale,
                   size_t group, float act_scale, size_t n, size_t k)
{
    int rc = int_common(q, flags, scale, group, act_scale, n, k);
    size_t rb = sq_w_row_bytes(flags, k), mb = sq_meta_row_bytes(k);
    int8_t *check = rc ? NULL : malloc(k);
    if (!rc && !check)
        rc = oom(q);
    for (size_t i = 0; i < n && !rc; i++) {
        const int8_t *row = vals + i * k;
        if (flags & SQ_GEMM_W4) {
            for (size_t t = 0; t < k && !rc; t++)
                if (row[t] < -8 || row[t] > 7)
                    rc = sq_err(SQ_ERR_ARG, "int4 value %d out of range at (%zu, %zu)", row[t], i, t);
            if (!rc)
                sq_i4_pack_row(row, k, q->w + i * rb);
        } else if (flags & SQ_GEMM_SP24) {
            sq_sp24_encode_row(row, k, (int8_t *)q->w + i * rb, q->meta + i * mb);
            sq_w_row_decode(flags, q->w + i * rb, q->meta + i * mb, k, check);
            if (memcmp(check, row, k))
                rc = sq_err(SQ_ERR_ARG, "row %zu has more than 2 nonzeros in a group of 4", i);
        } else {
            memcpy(q->w + i * rb, row, k);
        }
    }
    free(check);
    if (!rc && q->group < k)
        rc = build_groups(q);
    if (rc)
        sq_qlinear_free(q);
    return rc;
}

int sq_qlinear_int_packed(sq_qlinear_t *q, uint32_t flags, const uint8_t *w, const uint8_t *meta,
                          const float *scale, size_t group, float act_scale, size_t n, size_t k)
{
    int rc = int_common(q, flags, scale, group, act_scale, n, k);
    if (!rc) {
        memcpy(q->w, w, n * sq_w_row_bytes(flags, k));
        if (flags & SQ_GEMM_SP24)
            memcpy(q->meta, meta, n * sq_meta_row_bytes(k));
        int8_t *row = malloc(k);
        if (!row)
            rc = oom(q);
        for (size_t i = 0; i < n && !rc; i++)
            if (sq_w_row_decode(flags, q->w + i * sq_w_row_bytes(flags, k),
                                q->meta ? q->meta + i * sq_meta_row_bytes(k) : NULL, k, row))
                rc = sq_err(SQ_ERR_FMT, "row %zu has a malformed 2:4 code", i);
        free(row);
    }
    if (!rc && q->group < k)
        rc = build_groups(q);
    if (rc)
        sq_qlinear_free(q);
    return rc;
}

void sq_qlinear_free(sq_qlinear_t *q)
{
    if (!q)
        return;
    free(q->wf);
    free(q->idx);
    free(q->codebook);
    free(q->w);
    free(q->meta);
    free(q->scale);
    free(q->wg);
    free(q->had_tab);
    memset(q, 0, sizeof *q);
}

int sq_qlinear_set_input(sq_qlinear_t *q, int act_bits, size_t k_in, int had)
{
    size_t m = 0;
    if (q->kind != SQ_QL_INT || (act_bits != 8 && act_bits != 4) || k_in == 0 || k_in > q->k ||
        (!had && k_in != q->k) || (had && (sq_had_order(k_in, &m) != q->k || q->act_scale > 0)))
        return sq_err(SQ_ERR_ARG, "layer %zux%zu: no input mode int%d for %zu inputs%s", q->n, q->k,
                      act_bits, k_in, had ? " rotated online" : "");
    q->act_bits = act_bits;
    q->k_in = k_in;
    free(q->had_tab);
    q->had_tab = NULL;
    q->had_m = 0;
    if (had) {
        if (!(q->had_tab = malloc(m * m)))
            return oom(q);
        sq_had_base(m, q->had_tab);
        q->had_m = m;
    }
    return 0;
}

static void matvec_f32(const float *w, size_t n, size_t k, const float *x, float *y)
{
    for (size_t i = 0; i < n; i++) {
        const float *row = w + i * k;
        float v = 0.0f;
        for (size_t t = 0; t < k; t++)
            v += row[t] * x[t];
        y[i] = v;
    }
}

static int run_gemm(const sq_qscratch_t *s, const sq_gemm_t *g)
{
    if (s->runner.run)
        return s->runner.run(s->runner.ctx, g);
    return sq_gemm_ref(g) ? sq_err(SQ_ERR_ARG, "golden GEMM rejected a %zux%zu layer", g->n, g->k)
                          : 0;
}

/* Symmetric per-token quantization to [-qmax, qmax] by the golden rule of
 * sq_quant_i8 (round half away from zero of x / s, s = max|x| / qmax). */
static float quant_sym(const float *x, size_t n, int qmax, int32_t *q)
{
    float amax = 0.0f;
    for (size_t i = 0; i < n; i++)
        amax = fmaxf(amax, fabsf(x[i]));
    float s = amax > 0.0f ? amax / (float)qmax : 1.0f;
    for (size_t i = 0; i < n; i++) {
        float r = roundf(x[i] / s);
        q[i] = (int32_t)(r > (float)qmax ? qmax : r < (float)-qmax ? -qmax : r);
    }
    return s;
}

/* The layer's k int8 GEMM operands for input x (k_in) and their scale;
 * wide holds 2 k int32. */
static float quant_input(const sq_qlinear_t *q, const float *x, int8_t *act, int32_t *wide)
{
    int qmax = q->act_bits == 4 ? 7 : 127;
    if (q->had_m) {
        /* int16 per token, rotated exactly in int32, then requantized */
        float s16 = quant_sym(x, q->k_in, 32767, wide);
        memset(wide + q->k_in, 0, (q->k - q->k_in) * sizeof *wide);
        sq_had_i32(wide, q->k, q->had_m, q->had_tab, wide + q->k);
        int32_t a = sq_quant_sym_i32(wide, q->k, qmax, act);
        return a ? s16 * (float)a / ((float)qmax * sqrtf((float)q->k)) : 1.0f;
    }
    if (q->act_scale > 0) {
        sq_quant_i8_static(x, q->k, q->act_scale, act);
        return q->act_scale;
    }
    if (qmax == 127)
        return sq_quant_i8(x, q->k, act);
    float s = quant_sym(x, q->k, qmax, wide);
    for (size_t i = 0; i < q->k; i++)
        act[i] = (int8_t)wide[i];
    return s;
}

int sq_qlinear_run(const sq_qlinear_t *q, const float *x, float *y, const sq_qscratch_t *s)
{
    if (q->kind != SQ_QL_INT) {
        matvec_f32(q->wf, q->n, q->k, x, y);
        return 0;
    }
    float sa = quant_input(q, x, s->act, s->wide);
    sq_gemm_t g = {.m = 1, .n = q->n, .k = q->k, .flags = q->flags | SQ_GEMM_OUT32, .a = s->act,
                   .w = q->w, .meta = q->meta, .c = s->acc};
    if (q->group >= q->k) {
        int rc = run_gemm(s, &g);
        if (rc)
            return rc;
        for (size_t i = 0; i < q->n; i++)
            y[i] = (float)s->acc[i] * sa * q->scale[i];
        return 0;
    }
    size_t ng = sq_quant_groups(q->k, q->group), off = 0;
    for (size_t i = 0; i < q->n; i++)
        y[i] = 0.0f;
    for (size_t gi = 0; gi < ng; gi++) {
        size_t t0 = gi * q->group, width = q->k - t0 < q->group ? q->k - t0 : q->group;
        g.k = width;
        g.a = s->act + t0;
        g.w = q->wg + off;
        int rc = run_gemm(s, &g);
        if (rc)
            return rc;
        for (size_t i = 0; i < q->n; i++)
            y[i] += (float)s->acc[i] * sa * q->scale[i * ng + gi];
        off += q->n * sq_w_row_bytes(q->flags, width);
    }
    return 0;
}

int sq_qlinear_run_rows(const sq_qlinear_t *q, const float *x, size_t rows, float *y,
                        const sq_qscratch_t *s)
{
    /* K-sliced groups would need each row's slice gathered: row by row */
    if (q->kind != SQ_QL_INT || q->group < q->k || rows == 1) {
        int rc = 0;
        for (size_t t = 0; t < rows && !rc; t++)
            rc = sq_qlinear_run(q, x + t * q->k_in, y + t * q->n, s);
        return rc;
    }
    /* each row its own scale, as sq_qlinear_run gives it; the integer
     * products of a row do not depend on the others, so one m = rows GEMM
     * gives the bits of rows m = 1 GEMMs */
    for (size_t t = 0; t < rows; t++)
        s->sa[t] = quant_input(q, x + t * q->k_in, s->act + t * q->k, s->wide);
    sq_gemm_t g = {.m = rows, .n = q->n, .k = q->k, .flags = q->flags | SQ_GEMM_OUT32,
                   .a = s->act, .w = q->w, .meta = q->meta, .c = s->acc};
    int rc = run_gemm(s, &g);
    if (rc)
        return rc;
    for (size_t t = 0; t < rows; t++)
        for (size_t i = 0; i < q->n; i++)
            y[t * q->n + i] = (float)s->acc[t * q->n + i] * s->sa[t] * q->scale[i];
    return 0;
}

int sq_qlinear_dequant(const sq_qlinear_t *q, float *w)
{
    if (q->kind != SQ_QL_INT) {
        memcpy(w, q->wf, q->n * q->k * sizeof *w);
        return 0;
    }
    size_t ng = sq_quant_groups(q->k, q->group), rb = sq_w_row_bytes(q->flags, q->k);
    int8_t *row = malloc(q->k);
    float *full = q->had_m ? malloc(q->k * sizeof *full) : NULL;
    sq_rot_t rot = {0};
    int rc = !row || (q->had_m && !full) ? oom(q) : 0;
    if (!rc && q->had_m)
        rc = sq_rot_init(&rot, q->k_in, 0);
    for (size_t i = 0; i < q->n && !rc; i++) {
        sq_w_row_decode(q->flags, q->w + i * rb, q->meta ? q->meta + i * sq_meta_row_bytes(q->k) : NULL,
                        q->k, row);
        float *dst = full ? full : w + i * q->k;
        for (size_t t = 0; t < q->k; t++)
            dst[t] = (float)row[t] * q->scale[i * ng + t / q->group];
        if (full) {
            /* the stored row is Q w: w = Q^T row, the first k_in entries */
            sq_rot_apply(&rot, full, q->k, 1, 1);
            memcpy(w + i * q->k_in, full, q->k_in * sizeof *w);
        }
    }
    if (q->had_m)
        sq_rot_free(&rot);
    free(row);
    free(full);
    return rc;
}

size_t sq_qlinear_bytes(const sq_qlinear_t *q)
{
    switch (q->kind) {
    case SQ_QL_F32:
        return q->n * q->k * sizeof(float);
    case SQ_QL_CODEBOOK:
        return q->n * q->k + q->codebook_size * sizeof(float);
    case SQ_QL_INT:
    default: {
        size_t b = q->n * sq_w_row_bytes(q->flags, q->k);
        if (q->meta)
            b += q->n * sq_meta_row_bytes(q->k);
        b += q->n * sq_quant_groups(q->k, q->group) * sizeof(float);
        if (q->act_scale > 0)
            b += sizeof(float);
        return b;
    }
    }
}
