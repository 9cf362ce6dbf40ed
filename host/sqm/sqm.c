/* .sqm container: building, writing, reading and validating (docs/sqm.md). */
#include "sqm/sqm.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sparq/numerics.h"
#include "util/bytes.h"
#include "util/err.h"

/* ---------------------------------------------------------------------------
 * Layout constants (docs/sqm.md) */
#define FIXED_BYTES 128u  /* magic .. config .. reserved */
#define CRC_BYTES 4u
#define ENTRY_MIN (34u + 1u + 8u) /* a 1-byte name and one dim */
#define SECTION_ALIGN 8u
/* Caps keep every size product far from 64-bit overflow; a real tensor is
 * also bounded by the file that holds it. */
#define MAX_NUMEL ((uint64_t)1 << 40)
#define TFLAG_ZEROS (1u << 0)

struct entry {
    sq_sqm_tensor_t t;
    uint64_t offset, nbytes; /* where the payload sits in a read file */
    uint32_t crc;            /* stored payload CRC of a read file */
    int has_zeros;
    char name[SQ_SQM_NAME_MAX + 1];
};

struct sq_sqm {
    sq_sqm_config_t config;
    struct entry **e; /* separately allocated: pointers survive growth */
    size_t n, cap;
    uint8_t *image; /* file image the tensors of a read model point into */
};

/* ---------------------------------------------------------------------------
 * Shapes and section sizes */

static uint64_t pad_to(uint64_t x, uint64_t a)
{
    return (x + a - 1) / a * a;
}

uint64_t sq_sqm_numel(const sq_sqm_tensor_t *t)
{
    uint64_t n = 1;
    for (uint32_t i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

uint64_t sq_sqm_k(const sq_sqm_tensor_t *t)
{
    return t->shape[t->ndim - 1];
}

uint64_t sq_sqm_rows(const sq_sqm_tensor_t *t)
{
    return sq_sqm_numel(t) / sq_sqm_k(t);
}

uint64_t sq_sqm_n_scales(const sq_sqm_tensor_t *t)
{
    switch (t->scale_kind) {
    case SQ_SQM_SCALE_TENSOR:
        return 1;
    case SQ_SQM_SCALE_ROW:
        return sq_sqm_rows(t);
    case SQ_SQM_SCALE_GROUP:
        return sq_sqm_rows(t) * ((sq_sqm_k(t) + t->group_size - 1) / t->group_size);
    default:
        return 0;
    }
}

static uint64_t row_bytes(const sq_sqm_tensor_t *t)
{
    uint64_t k = sq_sqm_k(t);
    switch (t->dtype) {
    case SQ_SQM_F32:
        return 4 * k;
    case SQ_SQM_I4:
        return sq_w_row_bytes(SQ_GEMM_W4, (size_t)k);
    case SQ_SQM_SP24_I8:
        return sq_w_row_bytes(SQ_GEMM_SP24, (size_t)k);
    default: /* I8, CODEBOOK indices */
        return k;
    }
}

/* Section sizes, unpadded: values, metadata, scales, zeros, codebook. */
static void section_bytes(const sq_sqm_tensor_t *t, int has_zeros, uint64_t sz[5])
{
    uint64_t rows = sq_sqm_rows(t), ns = sq_sqm_n_scales(t);
    sz[0] = rows * row_bytes(t);
    sz[1] = t->dtype == SQ_SQM_SP24_I8 ? rows * sq_meta_row_bytes((size_t)sq_sqm_k(t)) : 0;
    sz[2] = 4 * ns;
    sz[3] = has_zeros ? 4 * ns : 0;
    sz[4] = t->dtype == SQ_SQM_CODEBOOK ? 4 * (uint64_t)t->codebook_size : 0;
}

static uint64_t payload_bytes(const sq_sqm_tensor_t *t, int has_zeros)
{
    uint64_t sz[5], total = 0;
    section_bytes(t, has_zeros, sz);
    for (int i = 0; i < 5; i++)
        total += pad_to(sz[i], SECTION_ALIGN);
    return total;
}

uint64_t sq_sqm_payload_bytes(const sq_sqm_tensor_t *t)
{
    return payload_bytes(t, t->zeros != NULL);
}

const char *sq_sqm_dtype_name(sq_sqm_dtype_t dt)
{
    switch (dt) {
    case SQ_SQM_F32:
        return "f32";
    case SQ_SQM_I8:
        return "int8";
    case SQ_SQM_I4:
        return "int4";
    case SQ_SQM_SP24_I8:
        return "2:4-int8";
    case SQ_SQM_CODEBOOK:
        return "codebook";
    }
    return "?";
}

/* ---------------------------------------------------------------------------
 * Validation shared by add and read */

static int check_name(const char *name, size_t len, size_t idx)
{
    if (len < 1 || len > SQ_SQM_NAME_MAX)
        return sq_err(SQ_ERR_FMT, "tensor %zu: name length %zu outside [1, %u]", idx, len,
                      SQ_SQM_NAME_MAX);
    if (!sq_utf8_valid((const uint8_t *)name, len))
        return sq_err(SQ_ERR_FMT, "tensor %zu: name is not valid UTF-8", idx);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7F)
            return sq_err(SQ_ERR_FMT, "tensor %zu: name contains control byte 0x%02x", idx,
                          (unsigned char)name[i]);
    return 0;
}

/* Everything but the payload bytes: dtype, shape, scale kind, counts. */
static int check_desc(const sq_sqm_tensor_t *t, int has_zeros)
{
    const char *nm = t->name;
    if (t->dtype < SQ_SQM_F32 || t->dtype > SQ_SQM_CODEBOOK)
        return sq_err(SQ_ERR_FMT, "tensor '%s': unknown dtype %d", nm, (int)t->dtype);
    if (t->ndim < 1 || t->ndim > SQ_SQM_MAX_NDIM)
        return sq_err(SQ_ERR_FMT, "tensor '%s': %u dimensions (1..%u supported)", nm, t->ndim,
                      SQ_SQM_MAX_NDIM);
    uint64_t numel = 1;
    for (uint32_t i = 0; i < t->ndim; i++) {
        uint64_t d = t->shape[i];
        if (d < 1 || d > MAX_NUMEL || numel > MAX_NUMEL / d)
            return sq_err(SQ_ERR_FMT, "tensor '%s': absurd shape (dim %u = %llu)", nm, i,
                          (unsigned long long)d);
        numel *= d;
    }
    int quantized = t->dtype == SQ_SQM_I8 || t->dtype == SQ_SQM_I4 || t->dtype == SQ_SQM_SP24_I8;
    if (t->scale_kind > SQ_SQM_SCALE_GROUP)
        return sq_err(SQ_ERR_FMT, "tensor '%s': unknown scale kind %d", nm, (int)t->scale_kind);
    if (quantized != (t->scale_kind != SQ_SQM_SCALE_NONE))
        return sq_err(SQ_ERR_FMT, "tensor '%s': dtype %s %s scales", nm,
                      sq_sqm_dtype_name(t->dtype), quantized ? "needs" : "takes no");
    if ((t->scale_kind == SQ_SQM_SCALE_GROUP) != (t->group_size != 0))
        return sq_err(SQ_ERR_FMT, "tensor '%s': group size %u with scale kind %d", nm,
                      t->group_size, (int)t->scale_kind);
    if (has_zeros && !quantized)
        return sq_err(SQ_ERR_FMT, "tensor '%s': zero offsets without scales", nm);
    if (t->dtype == SQ_SQM_CODEBOOK) {
        if (t->codebook_size < 1 || t->codebook_size > SQ_SQM_CODEBOOK_MAX)
            return sq_err(SQ_ERR_FMT, "tensor '%s': codebook size %u outside [1, %u]", nm,
                          t->codebook_size, SQ_SQM_CODEBOOK_MAX);
    } else if (t->codebook_size != 0) {
        return sq_err(SQ_ERR_FMT, "tensor '%s': codebook size %u on a %s tensor", nm,
                      t->codebook_size, sq_sqm_dtype_name(t->dtype));
    }
    return 0;
}

static int all_finite(const float *v, uint64_t n, int positive)
{
    for (uint64_t i = 0; i < n; i++)
        if (!isfinite(v[i]) || (positive && !(v[i] > 0.0f)))
            return 0;
    return 1;
}

/* The payload's contents: the rules of include/sparq/numerics.h and finite,
 * positive scales. */
static int check_payload(const sq_sqm_tensor_t *t)
{
    const char *nm = t->name;
    uint64_t rows = sq_sqm_rows(t), k = sq_sqm_k(t), ns = sq_sqm_n_scales(t);
    if (ns && !all_finite(t->scales, ns, 1))
        return sq_err(SQ_ERR_FMT, "tensor '%s': a scale is not a positive finite number", nm);
    if (t->zeros && !all_finite(t->zeros, ns, 0))
        return sq_err(SQ_ERR_FMT, "tensor '%s': a zero offset is not finite", nm);
    uint64_t rb = row_bytes(t);
    const uint8_t *v = t->data;
    if (t->dtype == SQ_SQM_I4 && (k & 1)) {
        for (uint64_t r = 0; r < rows; r++)
            if (v[r * rb + rb - 1] >> 4)
                return sq_err(SQ_ERR_FMT, "tensor '%s': row %llu: odd-k pad nibble is not 0", nm,
                              (unsigned long long)r);
    }
    if (t->dtype == SQ_SQM_SP24_I8) {
        int8_t *dense = malloc((size_t)k);
        if (!dense)
            return sq_err(SQ_ERR_MEM, "out of memory checking '%s'", nm);
        uint64_t mb = sq_meta_row_bytes((size_t)k);
        for (uint64_t r = 0; r < rows; r++) {
            const int8_t *vals = (const int8_t *)v + r * rb;
            const uint8_t *meta = t->meta + r * mb;
            int bad = sq_w_row_decode(SQ_GEMM_SP24, vals, meta, (size_t)k, dense) != 0;
            if (!bad && (k & 3)) {
                /* a kept position past k must hold 0 (numerics.h) */
                uint64_t g = k / 4;
                uint8_t code = sq_sp24_code(meta, (size_t)g);
                bad = (g * 4 + (code & 3u) >= k && vals[2 * g] != 0) ||
                      (g * 4 + (code >> 2) >= k && vals[2 * g + 1] != 0);
            }
            if (bad) {
                free(dense);
                return sq_err(SQ_ERR_FMT, "tensor '%s': row %llu: malformed 2:4 metadata", nm,
                              (unsigned long long)r);
            }
        }
        free(dense);
    }
    if (t->dtype == SQ_SQM_CODEBOOK) {
        if (!all_finite(t->codebook, t->codebook_size, 0))
            return sq_err(SQ_ERR_FMT, "tensor '%s': a codebook entry is not finite", nm);
        uint64_t numel = rows * k;
        for (uint64_t i = 0; i < numel; i++)
            if (v[i] >= t->codebook_size)
                return sq_err(SQ_ERR_FMT, "tensor '%s': index %u at %llu outside codebook of %u",
                              nm, v[i], (unsigned long long)i, t->codebook_size);
    }
    return 0;
}

static int check_config(const sq_sqm_config_t *c)
{
    size_t len = strnlen(c->arch, SQ_SQM_ARCH_MAX);
    if (len == SQ_SQM_ARCH_MAX)
        return sq_err(SQ_ERR_FMT, "config: arch name is not NUL-terminated within %u bytes",
                      SQ_SQM_ARCH_MAX);
    if (!sq_utf8_valid((const uint8_t *)c->arch, len))
        return sq_err(SQ_ERR_FMT, "config: arch name is not valid UTF-8");
    if (c->flags & ~SQ_SQM_SHARED_CLASSIFIER)
        return sq_err(SQ_ERR_FMT, "config: unknown flags 0x%x", c->flags);
    if (!isfinite(c->rope_theta) || c->rope_theta < 0 || !isfinite(c->norm_eps) ||
        c->norm_eps < 0)
        return sq_err(SQ_ERR_FMT, "config: rope theta %g / norm eps %g not finite and >= 0",
                      (double)c->rope_theta, (double)c->norm_eps);
    if (c->n_heads && (c->n_kv_heads == 0 || c->n_heads % c->n_kv_heads || c->dim % c->n_heads))
        return sq_err(SQ_ERR_FMT, "config: %u heads, %u kv heads and dim %u do not divide",
                      c->n_heads, c->n_kv_heads, c->dim);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Building */

sq_sqm_t *sq_sqm_create(const sq_sqm_config_t *config)
{
    sq_sqm_t *m = calloc(1, sizeof *m);
    if (m)
        m->config = *config;
    return m;
}

void sq_sqm_free(sq_sqm_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        free(m->e[i]);
    free(m->e);
    free(m->image);
    free(m);
}

static int reserve(sq_sqm_t *m)
{
    if (m->n < m->cap)
        return 0;
    size_t cap = m->cap ? 2 * m->cap : 16;
    struct entry **e = realloc(m->e, cap * sizeof *e);
    if (!e)
        return sq_err(SQ_ERR_MEM, "out of memory growing the tensor table");
    m->e = e;
    m->cap = cap;
    return 0;
}

int sq_sqm_add(sq_sqm_t *m, const sq_sqm_tensor_t *t)
{
    int rc;
    if (!t->name)
        return sq_err(SQ_ERR_ARG, "tensor %zu: no name", m->n);
    if ((rc = check_name(t->name, strlen(t->name), m->n)) || (rc = check_desc(t, t->zeros != NULL)))
        return rc;
    uint64_t sz[5];
    section_bytes(t, t->zeros != NULL, sz);
    const void *src[5] = {t->data, t->meta, t->scales, t->zeros, t->codebook};
    for (int i = 0; i < 5; i++)
        if (sz[i] && !src[i])
            return sq_err(SQ_ERR_ARG, "tensor '%s': missing %s", t->name,
                          (const char *[]){"values", "2:4 metadata", "scales", "zeros",
                                           "codebook"}[i]);
    if ((rc = check_payload(t)))
        return rc;
    if (sq_sqm_find(m, t->name))
        return sq_err(SQ_ERR_ARG, "duplicate tensor name '%s'", t->name);
    if ((rc = reserve(m)))
        return rc;
    uint64_t total = sq_sqm_payload_bytes(t);
    struct entry *e = calloc(1, sizeof *e + total);
    if (!e)
        return sq_err(SQ_ERR_MEM, "out of memory adding '%s'", t->name);
    e->t = *t;
    strcpy(e->name, t->name);
    e->t.name = e->name;
    /* the sections in file order, so writing is one copy */
    uint8_t *p = (uint8_t *)(e + 1);
    const void **dst[5] = {&e->t.data, (const void **)&e->t.meta, (const void **)&e->t.scales,
                           (const void **)&e->t.zeros, (const void **)&e->t.codebook};
    for (int i = 0; i < 5; i++) {
        if (sz[i]) {
            memcpy(p, src[i], sz[i]);
            *dst[i] = p;
        } else {
            *dst[i] = NULL;
        }
        p += pad_to(sz[i], SECTION_ALIGN);
    }
    e->nbytes = total;
    e->has_zeros = t->zeros != NULL;
    m->e[m->n++] = e;
    return 0;
}

/* ---------------------------------------------------------------------------
 * Writing */

static size_t entry_bytes(const sq_sqm_tensor_t *t)
{
    return 34 + strlen(t->name) + 8 * (size_t)t->ndim;
}

static uint8_t *put(uint8_t *p, uint64_t v, unsigned bytes)
{
    sq_le_put(p, v, bytes);
    return p + bytes;
}

static uint8_t *put_sections(uint8_t *p, const sq_sqm_tensor_t *t)
{
    uint64_t sz[5];
    section_bytes(t, t->zeros != NULL, sz);
    const void *src[5] = {t->data, t->meta, t->scales, t->zeros, t->codebook};
    for (int i = 0; i < 5; i++) {
        uint64_t padded = pad_to(sz[i], SECTION_ALIGN);
        if (sz[i])
            memcpy(p, src[i], sz[i]);
        memset(p + sz[i], 0, padded - sz[i]);
        p += padded;
    }
    return p;
}

int sq_sqm_write(const sq_sqm_t *m, const char *path)
{
    int rc;
    if ((rc = check_config(&m->config)))
        return rc;
    uint64_t header = FIXED_BYTES + CRC_BYTES;
    for (size_t i = 0; i < m->n; i++)
        header += entry_bytes(&m->e[i]->t);
    uint64_t end = header;
    uint64_t *offs = malloc((m->n + 1) * sizeof *offs);
    if (!offs)
        return sq_err(SQ_ERR_MEM, "out of memory writing %s", path);
    for (size_t i = 0; i < m->n; i++) {
        offs[i] = pad_to(end, SQ_SQM_ALIGN);
        end = offs[i] + m->e[i]->nbytes;
    }
    uint8_t *img = calloc(1, (size_t)end);
    if (!img) {
        free(offs);
        return sq_err(SQ_ERR_MEM, "out of memory writing %s (%llu bytes)", path,
                      (unsigned long long)end);
    }
    const sq_sqm_config_t *c = &m->config;
    memcpy(img, SQ_SQM_MAGIC, 8);
    uint8_t *p = img + 8;
    p = put(p, SQ_SQM_VERSION, 4);
    p = put(p, m->n, 4);
    p = put(p, header, 8);
    p = put(p, end, 8);
    memcpy(p, c->arch, strnlen(c->arch, SQ_SQM_ARCH_MAX));
    p += SQ_SQM_ARCH_MAX;
    const uint32_t cfg[] = {c->dim,        c->hidden_dim, c->n_layers,           c->n_heads,
                            c->n_kv_heads, c->vocab_size, c->seq_len,            c->flags,
                            sq_f32_bits(c->rope_theta),   sq_f32_bits(c->norm_eps)};
    for (size_t i = 0; i < sizeof cfg / sizeof cfg[0]; i++)
        p = put(p, cfg[i], 4);
    p = img + FIXED_BYTES; /* the rest of the fixed part is reserved, zero */
    for (size_t i = 0; i < m->n; i++) {
        const sq_sqm_tensor_t *t = &m->e[i]->t;
        size_t len = strlen(t->name);
        p = put(p, len, 2);
        memcpy(p, t->name, len);
        p += len;
        p = put(p, t->dtype, 1);
        p = put(p, t->ndim, 1);
        p = put(p, t->scale_kind, 1);
        p = put(p, t->zeros ? TFLAG_ZEROS : 0, 1);
        p = put(p, t->group_size, 4);
        p = put(p, t->codebook_size, 4);
        for (uint32_t d = 0; d < t->ndim; d++)
            p = put(p, t->shape[d], 8);
        p = put(p, offs[i], 8);
        p = put(p, m->e[i]->nbytes, 8);
        uint8_t *payload = img + offs[i];
        put_sections(payload, t);
        p = put(p, (uint32_t)crc32_z(0, payload, m->e[i]->nbytes), 4);
    }
    put(p, (uint32_t)crc32_z(0, img, header - CRC_BYTES), 4);
    free(offs);
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(img);
        return sq_err(SQ_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    }
    size_t wrote = fwrite(img, 1, (size_t)end, f);
    int closed = fclose(f);
    free(img);
    if (wrote != end || closed != 0)
        return sq_err(SQ_ERR_IO, "cannot write %s", path);
    return 0;
}

/* ---------------------------------------------------------------------------
 * Reading */

static int cmp_offset(const void *a, const void *b)
{
    const struct entry *x = *(const struct entry *const *)a, *y = *(const struct entry *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp((*(const struct entry *const *)a)->name, (*(const struct entry *const *)b)->name);
}

static int parse_entry(sq_rd_t *r, size_t idx, uint64_t header, uint64_t file, struct entry *e)
{
    const char *trunc = "truncated tensor table";
    uint16_t len;
    const uint8_t *name;
    if (sq_rd_u16(r, &len))
        return sq_err(SQ_ERR_FMT, "%s (tensor %zu)", trunc, idx);
    if (len < 1 || len > SQ_SQM_NAME_MAX)
        return sq_err(SQ_ERR_FMT, "tensor %zu: name length %u outside [1, %u]", idx, len,
                      SQ_SQM_NAME_MAX);
    if (sq_rd_bytes(r, len, &name))
        return sq_err(SQ_ERR_FMT, "%s (tensor %zu)", trunc, idx);
    int rc = check_name((const char *)name, len, idx);
    if (rc)
        return rc;
    memcpy(e->name, name, len);
    e->name[len] = 0;
    sq_sqm_tensor_t *t = &e->t;
    t->name = e->name;
    uint8_t dtype, ndim, scale, flags;
    uint32_t group, cb;
    if (sq_rd_u8(r, &dtype) || sq_rd_u8(r, &ndim) || sq_rd_u8(r, &scale) || sq_rd_u8(r, &flags) ||
        sq_rd_u32(r, &group) || sq_rd_u32(r, &cb))
        return sq_err(SQ_ERR_FMT, "%s (tensor '%s')", trunc, e->name);
    if (dtype < SQ_SQM_F32 || dtype > SQ_SQM_CODEBOOK)
        return sq_err(SQ_ERR_FMT, "tensor '%s': unknown dtype %u", e->name, dtype);
    if (ndim < 1 || ndim > SQ_SQM_MAX_NDIM)
        return sq_err(SQ_ERR_FMT, "tensor '%s': %u dimensions (1..%u supported)", e->name, ndim,
                      SQ_SQM_MAX_NDIM);
    if (flags & ~TFLAG_ZEROS)
        return sq_err(SQ_ERR_FMT, "tensor '%s': unknown flags 0x%x", e->name, flags);
    t->dtype = dtype;
    t->ndim = ndim;
    t->scale_kind = scale;
    t->group_size = group;
    t->codebook_size = cb;
    for (uint32_t d = 0; d < ndim; d++)
        if (sq_rd_u64(r, &t->shape[d]))
            return sq_err(SQ_ERR_FMT, "%s (tensor '%s')", trunc, e->name);
    if (sq_rd_u64(r, &e->offset) || sq_rd_u64(r, &e->nbytes) || sq_rd_u32(r, &e->crc))
        return sq_err(SQ_ERR_FMT, "%s (tensor '%s')", trunc, e->name);
    e->has_zeros = flags & TFLAG_ZEROS;
    if ((rc = check_desc(t, e->has_zeros)))
        return rc;
    uint64_t want = payload_bytes(t, e->has_zeros);
    if (e->nbytes != want)
        return sq_err(SQ_ERR_FMT, "tensor '%s': payload is %llu bytes, its shape and dtype need %llu",
                      e->name, (unsigned long long)e->nbytes, (unsigned long long)want);
    if (e->offset % SQ_SQM_ALIGN || e->offset < header || e->offset > file ||
        e->nbytes > file - e->offset)
        return sq_err(SQ_ERR_FMT,
                      "tensor '%s': payload [%llu, +%llu) outside the payload area [%llu, %llu) "
                      "or not %u-aligned",
                      e->name, (unsigned long long)e->offset, (unsigned long long)e->nbytes,
                      (unsigned long long)header, (unsigned long long)file, SQ_SQM_ALIGN);
    return 0;
}

/* Points a parsed entry's sections into the image. */
static void bind_sections(struct entry *e, const uint8_t *img)
{
    sq_sqm_tensor_t *t = &e->t;
    uint64_t sz[5];
    section_bytes(t, e->has_zeros, sz);
    const uint8_t *p = img + e->offset;
    const void **dst[5] = {&t->data, (const void **)&t->meta, (const void **)&t->scales,
                           (const void **)&t->zeros, (const void **)&t->codebook};
    for (int i = 0; i < 5; i++) {
        *dst[i] = sz[i] ? p : NULL;
        p += pad_to(sz[i], SECTION_ALIGN);
    }
}

static int parse(uint8_t *img, size_t n, sq_sqm_t *m)
{
    if (n < FIXED_BYTES + CRC_BYTES)
        return sq_err(SQ_ERR_FMT, "truncated header: %zu bytes, a .sqm header needs %u", n,
                      FIXED_BYTES + CRC_BYTES);
    if (memcmp(img, SQ_SQM_MAGIC, 8) != 0)
        return sq_err(SQ_ERR_FMT, "not a .sqm file (bad magic)");
    uint32_t version = (uint32_t)sq_le_get(img + 8, 4);
    if (version != SQ_SQM_VERSION)
        return sq_err(SQ_ERR_FMT, "unsupported .sqm version %u (this build reads %u)", version,
                      SQ_SQM_VERSION);
    uint32_t count = (uint32_t)sq_le_get(img + 12, 4);
    uint64_t header = sq_le_get(img + 16, 8), file = sq_le_get(img + 24, 8);
    if (header < FIXED_BYTES + CRC_BYTES)
        return sq_err(SQ_ERR_FMT, "header size %llu is below the minimum %u",
                      (unsigned long long)header, FIXED_BYTES + CRC_BYTES);
    if (header > n)
        return sq_err(SQ_ERR_FMT, "truncated tensor table: header needs %llu bytes, file has %zu",
                      (unsigned long long)header, n);
    if (file != n)
        return sq_err(SQ_ERR_FMT, "%s: file has %zu bytes, header says %llu",
                      n < file ? "truncated payload" : "trailing bytes", n,
                      (unsigned long long)file);
    uint32_t stored = (uint32_t)sq_le_get(img + header - CRC_BYTES, 4);
    uint32_t crc = (uint32_t)crc32_z(0, img, (size_t)header - CRC_BYTES);
    if (stored != crc)
        return sq_err(SQ_ERR_FMT, "header checksum mismatch (stored 0x%08x, computed 0x%08x)",
                      stored, crc);
    for (size_t i = 32 + SQ_SQM_ARCH_MAX + 40; i < FIXED_BYTES; i++)
        if (img[i])
            return sq_err(SQ_ERR_FMT, "reserved header byte %zu is not zero", i);
    sq_sqm_config_t *c = &m->config;
    memcpy(c->arch, img + 32, SQ_SQM_ARCH_MAX);
    uint32_t cfg[10];
    for (size_t i = 0; i < 10; i++)
        cfg[i] = (uint32_t)sq_le_get(img + 32 + SQ_SQM_ARCH_MAX + 4 * i, 4);
    c->dim = cfg[0], c->hidden_dim = cfg[1], c->n_layers = cfg[2], c->n_heads = cfg[3];
    c->n_kv_heads = cfg[4], c->vocab_size = cfg[5], c->seq_len = cfg[6], c->flags = cfg[7];
    c->rope_theta = sq_f32_from_bits(cfg[8]);
    c->norm_eps = sq_f32_from_bits(cfg[9]);
    int rc = check_config(c);
    if (rc)
        return rc;
    size_t len = strnlen(c->arch, SQ_SQM_ARCH_MAX);
    for (size_t i = len; i < SQ_SQM_ARCH_MAX; i++)
        if (c->arch[i])
            return sq_err(SQ_ERR_FMT, "config: arch name has bytes after its NUL");

    uint64_t table = header - FIXED_BYTES - CRC_BYTES;
    if (count > table / ENTRY_MIN)
        return sq_err(SQ_ERR_FMT, "absurd tensor count %u for a %llu-byte tensor table", count,
                      (unsigned long long)table);
    m->e = calloc(count ? count : 1, sizeof *m->e);
    if (!m->e)
        return sq_err(SQ_ERR_MEM, "out of memory for %u tensors", count);
    m->cap = count;
    sq_rd_t r = {img, (size_t)header - CRC_BYTES, FIXED_BYTES};
    for (uint32_t i = 0; i < count; i++) {
        struct entry *e = calloc(1, sizeof *e);
        if (!e)
            return sq_err(SQ_ERR_MEM, "out of memory for %u tensors", count);
        m->e[m->n++] = e;
        if ((rc = parse_entry(&r, i, header, file, e)))
            return rc;
    }
    if (r.pos != r.n)
        return sq_err(SQ_ERR_FMT, "%zu stray bytes after the tensor table", r.n - r.pos);
    /* order-independent checks on sorted copies: O(n log n) for huge tables */
    struct entry **sorted = malloc((count ? count : 1) * sizeof *sorted);
    if (!sorted)
        return sq_err(SQ_ERR_MEM, "out of memory for %u tensors", count);
    memcpy(sorted, m->e, count * sizeof *sorted);
    qsort(sorted, count, sizeof *sorted, cmp_offset);
    for (uint32_t i = 1; i < count; i++) {
        if (sorted[i]->offset < sorted[i - 1]->offset + sorted[i - 1]->nbytes) {
            rc = sq_err(SQ_ERR_FMT, "tensors '%s' and '%s' overlap in the file", sorted[i - 1]->name,
                        sorted[i]->name);
            free(sorted);
            return rc;
        }
    }
    qsort(sorted, count, sizeof *sorted, cmp_name);
    for (uint32_t i = 1; i < count; i++) {
        if (!strcmp(sorted[i]->name, sorted[i - 1]->name)) {
            rc = sq_err(SQ_ERR_FMT, "duplicate tensor name '%s'", sorted[i]->name);
            free(sorted);
            return rc;
        }
    }
    free(sorted);
    for (uint32_t i = 0; i < count; i++) {
        struct entry *e = m->e[i];
        uint32_t got = (uint32_t)crc32_z(0, img + e->offset, (size_t)e->nbytes);
        if (got != e->crc)
            return sq_err(SQ_ERR_FMT,
                          "tensor '%s': payload checksum mismatch (stored 0x%08x, computed 0x%08x)",
                          e->name, e->crc, got);
        bind_sections(e, img);
    }
    for (uint32_t i = 0; i < count; i++)
        if ((rc = check_payload(&m->e[i]->t)))
            return rc;
    return 0;
}

int sq_sqm_parse(uint8_t *data, size_t n, sq_sqm_t **out)
{
    *out = NULL;
    sq_sqm_t *m = calloc(1, sizeof *m);
    if (!m) {
        free(data);
        return sq_err(SQ_ERR_MEM, "out of memory");
    }
    m->image = data;
    int rc = parse(data, n, m);
    if (rc) {
        sq_sqm_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

int sq_sqm_read(const char *path, sq_sqm_t **out)
{
    uint8_t *data;
    size_t n;
    *out = NULL;
    int rc = sq_file_read(path, &data, &n);
    if (rc)
        return rc;
    rc = sq_sqm_parse(data, n, out);
    if (rc) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", sq_err_msg());
        return sq_err(rc, "%s: %s", path, msg);
    }
    return 0;
}

int sq_sqm_is_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char magic[8];
    int yes = f && fread(magic, 1, 8, f) == 8 && !memcmp(magic, SQ_SQM_MAGIC, 8);
    if (f)
        fclose(f);
    return yes;
}

/* ---------------------------------------------------------------------------
 * Access */

const sq_sqm_config_t *sq_sqm_config(const sq_sqm_t *m)
{
    return &m->config;
}

size_t sq_sqm_count(const sq_sqm_t *m)
{
    return m->n;
}

const sq_sqm_tensor_t *sq_sqm_tensor(const sq_sqm_t *m, size_t i)
{
    return i < m->n ? &m->e[i]->t : NULL;
}

const sq_sqm_tensor_t *sq_sqm_find(const sq_sqm_t *m, const char *name)
{
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->e[i]->name, name))
            return &m->e[i]->t;
    return NULL;
}

int sq_sqm_dequant(const sq_sqm_tensor_t *t, float *out)
{
    uint64_t rows = sq_sqm_rows(t), k = sq_sqm_k(t), rb = row_bytes(t);
    if (t->dtype == SQ_SQM_F32) {
        memcpy(out, t->data, rows * k * 4);
        return 0;
    }
    if (t->dtype == SQ_SQM_CODEBOOK) {
        const uint8_t *idx = t->data;
        for (uint64_t i = 0; i < rows * k; i++)
            out[i] = t->codebook[idx[i]];
        return 0;
    }
    uint32_t flags = t->dtype == SQ_SQM_I4 ? SQ_GEMM_W4 : t->dtype == SQ_SQM_SP24_I8 ? SQ_GEMM_SP24 : 0;
    int8_t *q = malloc((size_t)k);
    if (!q)
        return sq_err(SQ_ERR_MEM, "out of memory dequantizing '%s'", t->name);
    uint64_t mb = sq_meta_row_bytes((size_t)k);
    uint64_t groups = t->scale_kind == SQ_SQM_SCALE_GROUP ? (k + t->group_size - 1) / t->group_size : 1;
    for (uint64_t r = 0; r < rows; r++) {
        const uint8_t *meta = t->meta ? t->meta + r * mb : NULL;
        if (sq_w_row_decode(flags, (const uint8_t *)t->data + r * rb, meta, (size_t)k, q)) {
            free(q);
            return sq_err(SQ_ERR_FMT, "tensor '%s': row %llu: malformed 2:4 metadata", t->name,
                          (unsigned long long)r);
        }
        for (uint64_t j = 0; j < k; j++) {
            uint64_t s = t->scale_kind == SQ_SQM_SCALE_TENSOR ? 0
                         : t->scale_kind == SQ_SQM_SCALE_ROW  ? r
                                                              : r * groups + j / t->group_size;
            out[r * k + j] = (float)q[j] * t->scales[s] + (t->zeros ? t->zeros[s] : 0.0f);
        }
    }
    free(q);
    return 0;
}
