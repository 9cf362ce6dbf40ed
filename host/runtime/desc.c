/* Descriptor sizes, validation and work counting (rules in runtime/desc.h). */
#include "runtime/desc.h"

#include <stdio.h>
#include <stdlib.h>

#include "sparq/attn.h"
#include "sparq/numerics.h"
#include "util/err.h"

/* Device memory holds little-endian values and this code views them in place. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "sparq hosts are little-endian");

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

/* One operand of a descriptor: device range and required alignment. */
typedef struct {
    const char *name;
    uint64_t addr, len;
    unsigned align;
} operand_t;

/* Every used operand (len > 0) lies inside device memory and is aligned, and
 * the output, the last operand, overlaps none of the inputs. */
static int check_operands(const char *unit, const operand_t *ops, size_t n_ops,
                          uint64_t mem_bytes)
{
    for (size_t i = 0; i < n_ops; i++) {
        if (!ops[i].len)
            continue;
        if (!in_memory(ops[i].addr, ops[i].len, mem_bytes))
            return sq_err(SQ_ERR_FMT,
                          "%s %s [0x%llx, +%llu bytes) outside device memory of %llu bytes",
                          unit, ops[i].name, (unsigned long long)ops[i].addr,
                          (unsigned long long)ops[i].len, (unsigned long long)mem_bytes);
        if (ops[i].addr % ops[i].align)
            return sq_err(SQ_ERR_FMT, "%s %s address 0x%llx not %u-byte aligned", unit,
                          ops[i].name, (unsigned long long)ops[i].addr, ops[i].align);
    }
    const operand_t *out = &ops[n_ops - 1];
    for (size_t i = 0; i + 1 < n_ops; i++)
        if (overlaps(out->addr, out->len, ops[i].addr, ops[i].len))
            return sq_err(SQ_ERR_FMT, "%s %s overlaps its input %s", unit, out->name,
                          ops[i].name);
    return 0;
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
    const operand_t ops[] = {
        {"A", d->a, b.a, 1},
        {"W", d->w, b.w, 1},
        {"META", d->meta, b.meta, 1},
        {"BIAS", d->bias, b.bias, 4},
        {"QUANT", d->quant, b.quant, 4},
        {"C", d->c, b.c, (d->flags & SQ_GEMM_OUT32) ? 4 : 1},
    };
    return check_operands("gemm", ops, sizeof ops / sizeof ops[0], mem_bytes);
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

void sq_attn_desc_bytes(const sq_attn_desc_t *d, sq_attn_bytes_t *b)
{
    uint64_t qo = (uint64_t)d->heads * d->queries * d->head_dim;
    uint64_t kv = (uint64_t)d->kv_heads * d->kv_cap * d->head_dim;
    b->q = qo;
    b->k = kv;
    b->v = kv;
    b->mask = (d->flags & SQ_ATTN_BLOCK) ? (uint64_t)sq_attn_blocks(d->seq) * SQ_ATTN_MASK_ROW_BYTES : 0;
    b->quant = (uint64_t)d->heads * SQ_ATTN_QUANT_BYTES;
    b->o = qo;
}

void sq_attn_desc_view(const sq_attn_desc_t *d, uint8_t *mem, sq_attn_t *a)
{
    *a = (sq_attn_t){
        .flags = d->flags, .seq = d->seq, .queries = d->queries, .heads = d->heads,
        .kv_heads = d->kv_heads, .head_dim = d->head_dim, .kv_cap = d->kv_cap,
        .window = d->window, .n_global = d->n_global, .topk = d->topk,
    };
    if (!mem)
        return;
    a->q = (const int8_t *)(mem + d->q);
    a->k = (const int8_t *)(mem + d->k);
    a->v = (const int8_t *)(mem + d->v);
    a->mask = (d->flags & SQ_ATTN_BLOCK) ? mem + d->mask : NULL;
    a->quant = (const sq_attn_quant_t *)(const void *)(mem + d->quant);
    a->o = (int8_t *)(mem + d->o);
}

int sq_attn_desc_check(const sq_attn_desc_t *d, uint64_t mem_bytes)
{
    sq_attn_t a;
    sq_attn_desc_view(d, NULL, &a);
    if (d->flags & ~SQ_ATTN_FLAGS_ALL)
        return sq_err(SQ_ERR_FMT, "unknown attn flags 0x%x", (unsigned)(d->flags & ~SQ_ATTN_FLAGS_ALL));
    if (sq_attn_check_shape(&a) != 0)
        return sq_err(SQ_ERR_FMT,
                      "attn shape seq %u queries %u kv_cap %u heads %u/%u head_dim %u window %u "
                      "topk %u outside the unit's limits (seq, kv_cap <= %u, queries <= seq <= "
                      "kv_cap, heads a multiple of kv_heads <= %u, head_dim <= %u, window and "
                      "topk >= 1 when used)",
                      d->seq, d->queries, d->kv_cap, d->heads, d->kv_heads, d->head_dim,
                      d->window, d->topk, SQ_ATTN_MAX_SEQ, SQ_ATTN_MAX_HEADS, SQ_ATTN_MAX_DIM);
    sq_attn_bytes_t b;
    sq_attn_desc_bytes(d, &b);
    const operand_t ops[] = {
        {"Q", d->q, b.q, 1},       {"K", d->k, b.k, 1},         {"V", d->v, b.v, 1},
        {"MASK", d->mask, b.mask, 1}, {"QUANT", d->quant, b.quant, 4}, {"O", d->o, b.o, 1},
    };
    return check_operands("attn", ops, sizeof ops / sizeof ops[0], mem_bytes);
}

static int attn_check_data(sq_dev_t *dev, const sq_attn_desc_t *d)
{
    sq_attn_quant_t *q = malloc((size_t)d->heads * sizeof *q);
    if (!q)
        return sq_err(SQ_ERR_MEM, "out of memory reading attn quant");
    int rc = sq_dev_read(dev, d->quant, q, (size_t)d->heads * sizeof *q);
    for (uint32_t h = 0; rc == 0 && h < d->heads; h++)
        if (q[h].s_mult < 1 || q[h].s_shift > SQ_SHIFT_MAX || q[h].o_mult < 1 ||
            q[h].o_shift > SQ_SHIFT_MAX)
            rc = sq_err(SQ_ERR_FMT, "attn quant[%u] = {%d, %u, %d, %u} out of range", h,
                        q[h].s_mult, q[h].s_shift, q[h].o_mult, q[h].o_shift);
    free(q);
    return rc;
}

void sq_attn_desc_work(const sq_attn_desc_t *d, const uint8_t *mask, sq_dev_stats_t *add)
{
    sq_attn_t a;
    sq_attn_desc_view(d, NULL, &a);
    a.mask = mask;
    sq_attn_work_t w = {0, 0};
    sq_attn_pattern_work(&a, &w);
    sq_attn_bytes_t b;
    sq_attn_desc_bytes(d, &b);
    add->macs += (w.scored + w.selected) * d->head_dim;
    add->bytes_read += b.q + b.quant + b.mask + (w.scored + w.selected) * d->head_dim;
    add->bytes_written += b.o;
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
    case SQ_OP_ATTN: {
        sq_attn_desc_t d;
        sq_attn_desc_decode(desc, &d);
        sq_attn_bytes_t b;
        sq_attn_desc_bytes(&d, &b);
        rc = sq_attn_desc_check(&d, mem_bytes);
        if (rc == 0 && overlaps(d.o, b.o, cmd_lo, cmd_hi - cmd_lo))
            rc = sq_err(SQ_ERR_FMT, "attn O overlaps the command stream");
        if (rc == 0)
            rc = attn_check_data(dev, &d);
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

/* The output of a descriptor and the inputs checked before a stream runs
 * (QUANT and META); lengths 0 for what the flags leave unused. */
typedef struct {
    uint64_t out, out_len, quant, quant_len, meta, meta_len;
} ranges_t;

static void ranges(const uint8_t *desc, ranges_t *r)
{
    *r = (ranges_t){0};
    if (sq_desc_opcode(desc) == SQ_OP_GEMM) {
        sq_gemm_desc_t d;
        sq_gemm_desc_decode(desc, &d);
        sq_gemm_bytes_t b;
        sq_gemm_desc_bytes(&d, &b);
        *r = (ranges_t){d.c, b.c, d.quant, b.quant, d.meta, b.meta};
    } else if (sq_desc_opcode(desc) == SQ_OP_ATTN) {
        sq_attn_desc_t d;
        sq_attn_desc_decode(desc, &d);
        sq_attn_bytes_t b;
        sq_attn_desc_bytes(&d, &b);
        *r = (ranges_t){d.o, b.o, d.quant, b.quant, 0, 0};
    }
}

int sq_desc_check_stream(const uint8_t *cmds, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        ranges_t a;
        ranges(cmds + (size_t)i * SQ_DESC_BYTES, &a);
        for (uint32_t j = i + 1; a.out_len && j < n; j++) {
            ranges_t b;
            ranges(cmds + (size_t)j * SQ_DESC_BYTES, &b);
            if (overlaps(a.out, a.out_len, b.quant, b.quant_len) ||
                overlaps(a.out, a.out_len, b.meta, b.meta_len))
                return sq_err(SQ_ERR_FMT, "descriptor %u writes the %s of descriptor %u, checked "
                              "before the stream ran", i,
                              overlaps(a.out, a.out_len, b.quant, b.quant_len) ? "QUANT" : "META",
                              j);
        }
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
