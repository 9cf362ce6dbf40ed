/* Descriptor sizes, validation and work counting (rules in runtime/desc.h). */
#include "runtime/desc.h"

#include <stdio.h>
#include <stdlib.h>

#include "sparq/numerics.h"
#include "util/err.h"

void sq_gemm_desc_bytes(const sq_gemm_desc_t *d, sq_gemm_bytes_t *b)
{
    uint64_t m = d->m, n = d->n, k = d->k;
    b->a = m * k;
    b->w = n * sq_w_row_bytes(d->flags, d->k);
    b->meta = (d->flags & SQ_GEMM_SP24) ? n * sq_meta_row_bytes(d->k) : 0;
    b->bias = (d->flags & SQ_GEMM_BIAS) ? n * sizeof(int32_t) : 0;
    b->quant = (d->flags & SQ_GEMM_OUT32) ? 0 : n * sizeof(sq_quant_t);
    b->c = m * n * ((d->flags & SQ_GEMM_OUT32) ? sizeof(int32_t) : 1);
}

uint64_t sq_gemm_desc_macs(const sq_gemm_desc_t *d)
{
    uint64_t per_row = d->k;
    if (d->flags & SQ_GEMM_SP24) {
        uint64_t tail = d->k % 4;
        per_row = 2 * (uint64_t)(d->k / 4) + (tail < 2 ? tail : 2);
    }
    return (uint64_t)d->m * d->n * per_row;
}

static int in_memory(uint64_t addr, uint64_t len, uint64_t mem_bytes)
{
    return len <= mem_bytes && addr <= mem_bytes - len;
}

static int overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return alen && blen && a < b + blen && b < a + alen;
}

int sq_gemm_desc_check_shape(const sq_gemm_desc_t *d)
{
    if (d->flags & ~SQ_GEMM_FLAGS_ALL)
        return sq_err(SQ_ERR_FMT, "unknown gemm flags 0x%x", (unsigned)(d->flags & ~SQ_GEMM_FLAGS_ALL));
    if ((d->flags & SQ_GEMM_W4) && (d->flags & SQ_GEMM_SP24))
        return sq_err(SQ_ERR_FMT, "gemm flags W4 and SP24 are exclusive");
    if (d->m < 1 || d->n < 1 || d->k < 1 || d->m > SQ_GEMM_MAX_DIM || d->n > SQ_GEMM_MAX_DIM ||
        d->k > SQ_GEMM_MAX_DIM)
        return sq_err(SQ_ERR_FMT, "gemm shape %ux%ux%u (MxNxK) outside [1, %u]", (unsigned)d->m,
                      (unsigned)d->n, (unsigned)d->k, SQ_GEMM_MAX_DIM);
    return 0;
}

int sq_gemm_desc_check(const sq_gemm_desc_t *d, uint64_t mem_bytes)
{
    int rc = sq_gemm_desc_check_shape(d);
    if (rc)
        return rc;
    sq_gemm_bytes_t b;
    sq_gemm_desc_bytes(d, &b);
    const struct {
        const char *name;
        uint64_t addr, len;
        unsigned align;
    } ops[] = {
        {"A", d->a, b.a, 1},
        {"W", d->w, b.w, 1},
        {"META", d->meta, b.meta, 1},
        {"BIAS", d->bias, b.bias, 4},
        {"QUANT", d->quant, b.quant, 4},
        {"C", d->c, b.c, (d->flags & SQ_GEMM_OUT32) ? 4 : 1},
    };
    size_t n_ops = sizeof ops / sizeof ops[0];
    for (size_t i = 0; i < n_ops; i++) {
        if (!ops[i].len)
            continue;
        if (!in_memory(ops[i].addr, ops[i].len, mem_bytes))
            return sq_err(SQ_ERR_FMT,
                          "gemm %s [0x%llx, +%llu bytes) outside device memory of %llu bytes",
                          ops[i].name, (unsigned long long)ops[i].addr,
                          (unsigned long long)ops[i].len, (unsigned long long)mem_bytes);
        if (ops[i].addr % ops[i].align)
            return sq_err(SQ_ERR_FMT, "gemm %s address 0x%llx not %u-byte aligned", ops[i].name,
                          (unsigned long long)ops[i].addr, ops[i].align);
    }
    for (size_t i = 0; i + 1 < n_ops; i++)
        if (overlaps(d->c, b.c, ops[i].addr, ops[i].len))
            return sq_err(SQ_ERR_FMT, "gemm C overlaps its input %s", ops[i].name);
    return 0;
}

static int gemm_check_data(sq_dev_t *dev, const sq_gemm_desc_t *d)
{
    if (!(d->flags & SQ_GEMM_OUT32)) {
        sq_quant_t *q = malloc(d->n * sizeof *q);
        if (!q)
            return sq_err(SQ_ERR_MEM, "out of memory reading gemm quant");
        int rc = sq_dev_read(dev, d->quant, q, d->n * sizeof *q);
        for (uint32_t j = 0; rc == 0 && j < d->n; j++) {
            /* the memory image is little-endian, as is every host we build on */
            if (q[j].mult < 1 || q[j].shift > SQ_SHIFT_MAX)
                rc = sq_err(SQ_ERR_FMT, "gemm quant[%u] = {mult %d, shift %u} out of range", j,
                            q[j].mult, q[j].shift);
        }
        free(q);
        if (rc)
            return rc;
    }
    if (d->flags & SQ_GEMM_SP24) {
        size_t row = sq_meta_row_bytes(d->k), groups = (d->k + 3) / 4;
        uint8_t *meta = malloc((size_t)d->n * row);
        if (!meta)
            return sq_err(SQ_ERR_MEM, "out of memory reading gemm metadata");
        int rc = sq_dev_read(dev, d->meta, meta, (size_t)d->n * row);
        for (uint32_t j = 0; rc == 0 && j < d->n; j++) {
            for (size_t g = 0; g < groups; g++) {
                uint8_t code = sq_sp24_code(meta + (size_t)j * row, g);
                if (sq_sp24_pos(code, 0) >= sq_sp24_pos(code, 1)) {
                    rc = sq_err(SQ_ERR_FMT, "gemm 2:4 code 0x%x of row %u group %zu malformed",
                                code, j, g);
                    break;
                }
            }
        }
        free(meta);
        if (rc)
            return rc;
    }
    return 0;
}

int sq_desc_check(sq_dev_t *dev, const uint8_t *desc, uint32_t index, uint64_t mem_bytes,
                  uint64_t cmd_lo, uint64_t cmd_hi)
{
    uint32_t op = sq_desc_opcode(desc);
    int rc = 0;
    switch (op) {
    case SQ_OP_NOP:
        return 0;
    case SQ_OP_GEMM: {
        sq_gemm_desc_t d;
        sq_gemm_desc_decode(desc, &d);
        sq_gemm_bytes_t b;
        sq_gemm_desc_bytes(&d, &b);
        rc = sq_gemm_desc_check(&d, mem_bytes);
        if (rc == 0 && overlaps(d.c, b.c, cmd_lo, cmd_hi - cmd_lo))
            rc = sq_err(SQ_ERR_FMT, "gemm C overlaps the command stream");
        if (rc == 0)
            rc = gemm_check_data(dev, &d);
        break;
    }
    default:
        return sq_err(SQ_ERR_FMT, "descriptor %u: unknown opcode %u", index, op);
    }
    if (rc) {
        char why[512];
        snprintf(why, sizeof why, "%s", sq_err_msg());
        return sq_err(rc, "descriptor %u: %s", index, why);
    }
    return 0;
}

void sq_desc_work(const uint8_t *desc, sq_dev_stats_t *add)
{
    switch (sq_desc_opcode(desc)) {
    case SQ_OP_GEMM: {
        sq_gemm_desc_t d;
        sq_gemm_desc_decode(desc, &d);
        sq_gemm_bytes_t b;
        sq_gemm_desc_bytes(&d, &b);
        add->macs += sq_gemm_desc_macs(&d);
        add->bytes_read += b.a + b.w + b.meta + b.bias + b.quant;
        add->bytes_written += b.c;
        break;
    }
    default:
        break;
    }
}
