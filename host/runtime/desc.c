/* Descriptor sizes, validation and work counting (rules in runtime/desc.h). */
#include "runtime/desc.h"

#include <stdio.h>
#include <stdlib.h>

#include "sparq/attn.h"
#include "sparq/numerics.h"
#include "sparq/vec.h"
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
    b->gscale = (d->flags & SQ_GEMM_GSCALE) && d->group
                    ? n * ((k + d->group - 1) / d->group) * sizeof(uint16_t)
                    : 0;
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

/* Every used operand (len > 0) lies inside the first mem_bytes of device
 * memory and is aligned, and no output overlaps another operand. */
static int check_operands(const char *unit, const sq_operand_t *ops, size_t n_ops,
                          uint64_t mem_bytes)
{
    for (size_t i = 0; i < n_ops; i++) {
        if (!ops[i].len)
            continue;
        if (!in_memory(ops[i].addr, ops[i].len, mem_bytes))
            return sq_err(SQ_ERR_FMT,
                          "%s %s [0x%llx, +%llu bytes) outside the %llu bytes of allocated device "
                          "memory",
                          unit, ops[i].name, (unsigned long long)ops[i].addr,
                          (unsigned long long)ops[i].len, (unsigned long long)mem_bytes);
        if (ops[i].addr % ops[i].align)
            return sq_err(SQ_ERR_FMT, "%s %s address 0x%llx not %u-byte aligned", unit,
                          ops[i].name, (unsigned long long)ops[i].addr, ops[i].align);
    }
    for (size_t o = 0; o < n_ops; o++)
        for (size_t i = 0; ops[o].role == SQ_OPND_OUT && i < n_ops; i++)
            if (i != o && overlaps(ops[o].addr, ops[o].len, ops[i].addr, ops[i].len))
                return sq_err(SQ_ERR_FMT, "%s %s overlaps its %s %s", unit, ops[o].name,
                              ops[i].role == SQ_OPND_OUT ? "output" : "input", ops[i].name);
    return 0;
}

static size_t gemm_operands(const sq_gemm_desc_t *d, sq_operand_t *ops)
{
    sq_gemm_bytes_t b;
    sq_gemm_desc_bytes(d, &b);
    const sq_operand_t list[] = {
        {"A", d->a, b.a, 1, SQ_OPND_IN},
        {"W", d->w, b.w, 1, SQ_OPND_CONST},
        {"META", d->meta, b.meta, 1, SQ_OPND_CONST},
        {"BIAS", d->bias, b.bias, 4, SQ_OPND_CONST},
        {"QUANT", d->quant, b.quant, 4, SQ_OPND_CONST},
        {"GSCALE", d->gscale, b.gscale, 2, SQ_OPND_CONST},
        {"C", d->c, b.c, (d->flags & SQ_GEMM_OUT32) ? 4 : 1, SQ_OPND_OUT},
    };
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        ops[i] = list[i];
    return sizeof list / sizeof list[0];
}

static size_t attn_operands(const sq_attn_desc_t *d, sq_operand_t *ops)
{
    sq_attn_bytes_t b;
    sq_attn_desc_bytes(d, &b);
    const sq_operand_t list[] = {
        {"Q", d->q, b.q, 1, SQ_OPND_IN},          {"K", d->k, b.k, 1, SQ_OPND_IN},
        {"V", d->v, b.v, 1, SQ_OPND_IN},          {"MASK", d->mask, b.mask, 1, SQ_OPND_IN},
        {"QUANT", d->quant, b.quant, 4, SQ_OPND_CONST}, {"O", d->o, b.o, 1, SQ_OPND_OUT},
    };
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        ops[i] = list[i];
    return sizeof list / sizeof list[0];
}


/* Bytes from an IN/OUT base to the end of its last element (strides are
 * unsigned, so the base is the lowest address). */
static uint64_t vec_span(uint32_t m, uint32_t n, uint32_t seg, uint32_t stride,
                         uint32_t seg_stride, uint32_t esize)
{
    uint32_t s = seg ? seg : n;
    return (uint64_t)(m - 1) * stride + (uint64_t)(n / s - 1) * seg_stride + (uint64_t)s * esize;
}

void sq_vec_desc_bytes(const sq_vec_desc_t *d, sq_vec_bytes_t *b)
{
    uint32_t f = d->func, fl = d->flags;
    int acc = (fl & SQ_VEC_ACC) != 0, one = f == SQ_VEC_GATHER || f == SQ_VEC_ARGMAX;
    *b = (sq_vec_bytes_t){0};
    if (d->m < 1 || d->n < 1)
        return;
    b->in = one ? (uint64_t)(d->m - 1) * d->in_stride + 4u
                : vec_span(d->m, d->n, d->seg, d->in_stride, d->in_seg_stride,
                           sq_vec_in_esize(f));
    if (f == SQ_VEC_ADD || f == SQ_VEC_SWIGLU)
        b->in2 = (uint64_t)(d->m - 1) * d->in2_stride + 4ull * d->n;
    b->out = f == SQ_VEC_ARGMAX ? (uint64_t)(d->m - 1) * d->out_stride + 4u
                                : vec_span(d->m, d->n, d->seg, d->out_stride, d->out_seg_stride,
                                           sq_vec_out_esize(f, fl));
    if (f == SQ_VEC_GATHER)
        b->chan = (uint64_t)d->p[0] * sizeof(sq_quant_t);
    else if (f == SQ_VEC_NORM)
        b->chan = 4ull * d->n;
    else if (acc)
        b->chan = (f == SQ_VEC_SWIGLU ? 2ull : 1ull) * d->n * sizeof(sq_quant_t);
    b->rec_in = acc ? (uint64_t)d->m * SQ_VEC_REC_BYTES : 0;
    b->rec_out = (fl & SQ_VEC_Q8) ? (uint64_t)d->m * SQ_VEC_REC_BYTES : 0;
    if (f == SQ_VEC_GATHER && d->p[0])
        b->tab = (uint64_t)(d->p[0] - 1) * d->tab_stride + d->n;
    else if (f == SQ_VEC_ROPE && (fl & SQ_VEC_ROT))
        b->tab = (uint64_t)(d->m - 1) * d->tab_stride + 2ull * (d->seg ? d->seg : d->n);
    else if (fl & SQ_VEC_BIAS)
        b->tab = 4ull * d->n;
}

static size_t vec_operands(const sq_vec_desc_t *d, sq_operand_t *ops)
{
    sq_vec_bytes_t b;
    sq_vec_desc_bytes(d, &b);
    unsigned tab_align = d->func == SQ_VEC_GATHER ? 1 : 4;
    const sq_operand_t list[] = {
        {"IN", d->in, b.in, sq_vec_in_esize(d->func), SQ_OPND_IN},
        {"IN2", d->in2, b.in2, 4, SQ_OPND_IN},
        {"CHAN", d->chan, b.chan, 4, SQ_OPND_CONST},
        {"REC_IN", d->rec_in, b.rec_in, 4, SQ_OPND_IN},
        {"TAB", d->tab, b.tab, tab_align, SQ_OPND_CONST},
        {"REC_OUT", d->rec_out, b.rec_out, 4, SQ_OPND_OUT},
        {"OUT", d->out, b.out, sq_vec_out_esize(d->func, d->flags), SQ_OPND_OUT},
    };
    for (size_t i = 0; i < sizeof list / sizeof list[0]; i++)
        ops[i] = list[i];
    return sizeof list / sizeof list[0];
}

size_t sq_desc_operands(const uint8_t *desc, sq_operand_t ops[SQ_DESC_MAX_OPERANDS])
{
    switch (sq_desc_opcode(desc)) {
    case SQ_OP_GEMM: {
        sq_gemm_desc_t d;
        sq_gemm_desc_decode(desc, &d);
        return gemm_operands(&d, ops);
    }
    case SQ_OP_ATTN: {
        sq_attn_desc_t d;
        sq_attn_desc_decode(desc, &d);
        return attn_operands(&d, ops);
    }
    case SQ_OP_VEC: {
        sq_vec_desc_t d;
        sq_vec_desc_decode(desc, &d);
        return vec_operands(&d, ops);
    }
    default:
        return 0;
    }
}

int sq_desc_unit(uint32_t opcode)
{
    switch (opcode) {
    case SQ_OP_GEMM:
        return SQ_UNIT_GEMM;
    case SQ_OP_ATTN:
        return SQ_UNIT_ATTN;
    case SQ_OP_VEC:
        return SQ_UNIT_VEC;
    default:
        return -1;
    }
}

int sq_gemm_desc_check_shape(const sq_gemm_desc_t *d)
{
    uint32_t known = SQ_GEMM_FLAGS_ALL | SQ_GEMM_GSCALE;
    if (d->flags & ~known)
        return sq_err(SQ_ERR_FMT, "unknown gemm flags 0x%x", (unsigned)(d->flags & ~known));
    if ((d->flags & SQ_GEMM_W4) && (d->flags & SQ_GEMM_SP24))
        return sq_err(SQ_ERR_FMT, "gemm flags W4 and SP24 are exclusive");
    if (d->m < 1 || d->n < 1 || d->k < 1 || d->m > SQ_GEMM_MAX_DIM || d->n > SQ_GEMM_MAX_DIM ||
        d->k > SQ_GEMM_MAX_DIM)
        return sq_err(SQ_ERR_FMT, "gemm shape %ux%ux%u (MxNxK) outside [1, %u]", (unsigned)d->m,
                      (unsigned)d->n, (unsigned)d->k, SQ_GEMM_MAX_DIM);
    if (d->cu >= SQ_GEMM_CUS_MAX)
        return sq_err(SQ_ERR_FMT, "gemm compute unit %u outside [0, %u]", (unsigned)d->cu,
                      SQ_GEMM_CUS_MAX - 1);
    if ((d->flags & SQ_GEMM_GSCALE) && (d->flags & SQ_GEMM_SP24))
        return sq_err(SQ_ERR_FMT, "gemm flags GSCALE and SP24 are exclusive");
    if ((d->flags & SQ_GEMM_GSCALE) && d->group != d->k &&
        (d->group < SQ_GEMM_GROUP_MIN || d->group > d->k || (d->group & (d->group - 1))))
        return sq_err(SQ_ERR_FMT, "gemm group %u is neither k = %u nor a power of two in [%u, k]",
                      (unsigned)d->group, (unsigned)d->k, SQ_GEMM_GROUP_MIN);
    return 0;
}

int sq_gemm_desc_check(const sq_gemm_desc_t *d, uint64_t mem_bytes)
{
    int rc = sq_gemm_desc_check_shape(d);
    if (rc)
        return rc;
    sq_operand_t ops[SQ_DESC_MAX_OPERANDS];
    return check_operands("gemm", ops, gemm_operands(d, ops), mem_bytes);
}

int sq_gemm_desc_split(const sq_gemm_desc_t *d, uint32_t parts, uint32_t j, sq_gemm_desc_t *out)
{
    uint32_t dim = d->m == 1 ? d->n : d->m, base = dim / parts, extra = dim % parts;
    uint32_t len = base + (j < extra), at = j * base + (j < extra ? j : extra);
    if (!len)
        return 0;
    *out = *d;
    out->cu = j;
    uint64_t cb = (d->flags & SQ_GEMM_OUT32) ? 4 : 1;
    if (d->m == 1) {
        uint64_t ng = (d->flags & SQ_GEMM_GSCALE) ? (d->k + d->group - 1) / d->group : 0;
        out->n = len;
        out->w += at * sq_w_row_bytes(d->flags, d->k);
        out->meta += (d->flags & SQ_GEMM_SP24) ? at * sq_meta_row_bytes(d->k) : 0;
        out->bias += (d->flags & SQ_GEMM_BIAS) ? at * 4u : 0;
        out->quant += (d->flags & SQ_GEMM_OUT32) ? 0 : at * 8u;
        out->gscale += at * ng * 2u;
        out->c += at * cb;
    } else {
        out->m = len;
        out->a += (uint64_t)at * d->k;
        out->c += (uint64_t)at * d->n * cb;
    }
    return 1;
}

static int gemm_check_data(sq_dev_t *dev, const sq_gemm_desc_t *d)
{
    if (!(d->flags & SQ_GEMM_OUT32)) {
        sq_quant_t *q = malloc(d->n * sizeof *q);
        if (!q)
            return sq_err(SQ_ERR_MEM, "out of memory reading gemm quant");
        int rc = sq_dev_peek(dev, d->quant, q, d->n * sizeof *q);
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
        int rc = sq_dev_peek(dev, d->meta, meta, (size_t)d->n * row);
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
    sq_operand_t ops[SQ_DESC_MAX_OPERANDS];
    return check_operands("attn", ops, attn_operands(d, ops), mem_bytes);
}

static int attn_check_data(sq_dev_t *dev, const sq_attn_desc_t *d)
{
    sq_attn_quant_t *q = malloc((size_t)d->heads * sizeof *q);
    if (!q)
        return sq_err(SQ_ERR_MEM, "out of memory reading attn quant");
    int rc = sq_dev_peek(dev, d->quant, q, (size_t)d->heads * sizeof *q);
    for (uint32_t h = 0; rc == 0 && h < d->heads; h++)
        if (q[h].s_mult < 1 || q[h].s_shift > SQ_SHIFT_MAX || q[h].o_mult < 1 ||
            q[h].o_shift > SQ_SHIFT_MAX)
            rc = sq_err(SQ_ERR_FMT, "attn quant[%u] = {%d, %u, %d, %u} out of range", h,
                        q[h].s_mult, q[h].s_shift, q[h].o_mult, q[h].o_shift);
    free(q);
    return rc;
}


void sq_vec_desc_view(const sq_vec_desc_t *d, uint8_t *mem, sq_vec_t *v)
{
    *v = (sq_vec_t){
        .func = d->func, .flags = d->flags, .m = d->m, .n = d->n, .seg = d->seg,
        .in_stride = d->in_stride, .in_seg_stride = d->in_seg_stride,
        .in2_stride = d->in2_stride, .out_stride = d->out_stride,
        .out_seg_stride = d->out_seg_stride, .tab_stride = d->tab_stride,
        .p = {d->p[0], d->p[1], d->p[2], d->p[3]},
    };
    if (!mem)
        return;
    v->in = mem + d->in;
    v->in2 = mem + d->in2;
    v->out = mem + d->out;
    v->chan = mem + d->chan;
    v->rec_in = mem + d->rec_in;
    v->rec_out = mem + d->rec_out;
    v->tab = mem + d->tab;
}

int sq_vec_desc_check(const sq_vec_desc_t *d, uint64_t mem_bytes)
{
    sq_vec_t v;
    sq_vec_desc_view(d, NULL, &v);
    if (sq_vec_check_shape(&v) != 0)
        return sq_err(SQ_ERR_FMT,
                      "vec function %u flags 0x%x shape %ux%u seg %u params %u/%u outside the "
                      "unit's rules (vec.h: functions < %u and their flags, 1 <= M <= %u, "
                      "1 <= N <= %u, seg dividing N, ROPE/SWIGLU/GELU fraction bits)",
                      d->func, d->flags, d->m, d->n, d->seg, d->p[0], d->p[1], SQ_VEC_FUNCS,
                      SQ_VEC_MAX_M, SQ_VEC_MAX_N);
    uint32_t esize = sq_vec_out_esize(d->func, d->flags);
    if ((sq_vec_in_esize(d->func) == 4 && (d->in_stride % 4 || d->in_seg_stride % 4)) ||
        d->in2_stride % 4 ||
        (esize == 4 && (d->out_stride % 4 || d->out_seg_stride % 4)) ||
        (d->func == SQ_VEC_ROPE && d->tab_stride % 4))
        return sq_err(SQ_ERR_FMT, "vec strides of word elements must be multiples of 4");
    sq_operand_t ops[SQ_DESC_MAX_OPERANDS];
    return check_operands("vec", ops, vec_operands(d, ops), mem_bytes);
}

/* {mult, shift} entries as the requantization rules take them. */
static int vec_check_quant(sq_dev_t *dev, uint64_t addr, uint64_t count, const char *what)
{
    sq_quant_t *q = malloc((size_t)count * sizeof *q);
    if (!q)
        return sq_err(SQ_ERR_MEM, "out of memory reading vec %s", what);
    int rc = sq_dev_peek(dev, addr, q, (size_t)count * sizeof *q);
    for (uint64_t j = 0; rc == 0 && j < count; j++)
        if (q[j].mult < 0 || q[j].shift > SQ_SHIFT_MAX)
            rc = sq_err(SQ_ERR_FMT, "vec %s[%llu] = {mult %d, shift %u} out of range", what,
                        (unsigned long long)j, q[j].mult, q[j].shift);
    free(q);
    return rc;
}

static int vec_check_data(sq_dev_t *dev, const sq_vec_desc_t *d)
{
    sq_vec_bytes_t b;
    sq_vec_desc_bytes(d, &b);
    if (d->func == SQ_VEC_GATHER) {
        for (uint32_t m = 0; m < d->m; m++) {
            uint8_t w[4];
            int rc = sq_dev_peek(dev, d->in + (uint64_t)m * d->in_stride, w, 4);
            if (rc)
                return rc;
            if (sq_ld32(w) >= d->p[0])
                return sq_err(SQ_ERR_FMT, "vec gather: token id %u of row %u outside [0, %u)",
                              sq_ld32(w), m, d->p[0]);
        }
        return vec_check_quant(dev, d->chan, d->p[0], "row scale");
    }
    if (d->flags & SQ_VEC_ACC)
        return vec_check_quant(dev, d->chan, b.chan / sizeof(sq_quant_t), "channel scale");
    return 0;
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
    case SQ_OP_VEC: {
        sq_vec_desc_t d;
        sq_vec_desc_decode(desc, &d);
        sq_vec_bytes_t b;
        sq_vec_desc_bytes(&d, &b);
        rc = sq_vec_desc_check(&d, mem_bytes);
        if (rc == 0 && (overlaps(d.out, b.out, cmd_lo, cmd_hi - cmd_lo) ||
                        overlaps(d.rec_out, b.rec_out, cmd_lo, cmd_hi - cmd_lo)))
            rc = sq_err(SQ_ERR_FMT, "vec output overlaps the command stream");
        if (rc == 0)
            rc = vec_check_data(dev, &d);
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
        add->bytes_read += b.a + b.w + b.meta + b.bias + b.quant + b.gscale;
        add->bytes_written += b.c;
        break;
    }
    case SQ_OP_VEC: {
        /* the elements it touches (a segmented span counts its used bytes) */
        sq_vec_desc_t d;
        sq_vec_desc_decode(desc, &d);
        sq_vec_bytes_t b;
        sq_vec_desc_bytes(&d, &b);
        uint64_t rows = d.m, n = d.n, one = d.func == SQ_VEC_GATHER || d.func == SQ_VEC_ARGMAX;
        uint64_t tab = d.func == SQ_VEC_GATHER ? rows * n
                       : d.func == SQ_VEC_ROPE && (d.flags & SQ_VEC_ROT) ? rows * 2 * n
                                                                          : b.tab;
        uint64_t chan = d.func == SQ_VEC_GATHER ? rows * sizeof(sq_quant_t) : b.chan;
        add->bytes_read += (one ? rows * 4 : rows * n * sq_vec_in_esize(d.func)) +
                           (b.in2 ? rows * n * 4 : 0) + chan +
                           b.rec_in + tab;
        add->bytes_written += (d.func == SQ_VEC_ARGMAX ? rows * 4
                                                       : rows * n * sq_vec_out_esize(d.func, d.flags)) +
                              b.rec_out;
        break;
    }
    default:
        break;
    }
}

int sq_desc_work_read(const uint8_t *desc, int (*read)(void *ctx, uint64_t addr, void *dst, size_t n),
                      void *ctx, sq_dev_stats_t *add)
{
    sq_desc_work(desc, add);
    if (sq_desc_opcode(desc) != SQ_OP_ATTN)
        return 0;
    sq_attn_desc_t d;
    sq_attn_desc_decode(desc, &d);
    sq_attn_bytes_t b;
    sq_attn_desc_bytes(&d, &b);
    uint8_t *mask = NULL;
    if (b.mask && !(mask = malloc((size_t)b.mask)))
        return sq_err(SQ_ERR_MEM, "out of memory reading an attention bitmap");
    int rc = b.mask ? read(ctx, d.mask, mask, (size_t)b.mask) : 0;
    if (rc == 0)
        sq_attn_desc_work(&d, mask, add);
    free(mask);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Stream rules: the stream header's patches and dependencies (spec.h). */

int sq_desc_check_header(const uint8_t *desc, uint32_t index)
{
    for (unsigned s = 0; s < SQ_DESC_PATCHES; s++) {
        uint32_t p = sq_desc_word(desc, SQ_DESC_W_PATCH0 + s);
        if (!sq_desc_patch_ok(p))
            return sq_err(SQ_ERR_FMT,
                          "descriptor %u: position patch %u (0x%08x) targets no patchable word",
                          index, s, p);
    }
    for (unsigned i = 0; i < SQ_DESC_DEPS; i++) {
        uint32_t d = sq_desc_dep(desc, i);
        if (d > index)
            return sq_err(SQ_ERR_FMT,
                          "descriptor %u: dependency on descriptor %d, before the stream "
                          "(can never be met)",
                          index, (int)index - (int)d);
    }
    return 0;
}

/* A unit may read its constant operands (weights) before its dependencies
 * are met, so no descriptor of the stream may write one: every output is
 * looked up among the constant ranges sorted by start (O(n log n)). */
typedef struct {
    uint64_t lo, hi; /* [lo, hi) */
    uint32_t index;
    const char *name;
} span_t;

static int span_cmp(const void *a, const void *b)
{
    const span_t *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int check_const_writes(const uint8_t *descs, uint32_t n)
{
    span_t *c = malloc(((size_t)n * SQ_DESC_MAX_OPERANDS + 1) * sizeof *c);
    uint64_t *maxhi = malloc(((size_t)n * SQ_DESC_MAX_OPERANDS + 1) * sizeof *maxhi);
    if (!c || !maxhi) {
        free(c);
        free(maxhi);
        return sq_err(SQ_ERR_MEM, "out of memory checking a stream of %u descriptors", n);
    }
    size_t nc = 0;
    for (uint32_t i = 0; i < n; i++) {
        sq_operand_t o[SQ_DESC_MAX_OPERANDS];
        size_t no = sq_desc_operands(descs + (size_t)i * SQ_DESC_BYTES, o);
        for (size_t a = 0; a < no; a++)
            if (o[a].role == SQ_OPND_CONST && o[a].len)
                c[nc++] = (span_t){o[a].addr, o[a].addr + o[a].len, i, o[a].name};
    }
    qsort(c, nc, sizeof *c, span_cmp);
    for (size_t x = 0; x < nc; x++)
        maxhi[x] = x && maxhi[x - 1] > c[x].hi ? maxhi[x - 1] : c[x].hi;
    int rc = 0;
    for (uint32_t j = 0; rc == 0 && j < n; j++) {
        sq_operand_t o[SQ_DESC_MAX_OPERANDS];
        size_t no = sq_desc_operands(descs + (size_t)j * SQ_DESC_BYTES, o);
        for (size_t a = 0; rc == 0 && a < no; a++) {
            if (o[a].role != SQ_OPND_OUT || !o[a].len)
                continue;
            uint64_t lo = o[a].addr, hi = lo + o[a].len;
            /* constant ranges starting before hi: the first ones up to `end` */
            size_t end = 0, top = nc;
            while (end < top) {
                size_t mid = end + (top - end) / 2;
                if (c[mid].lo < hi)
                    end = mid + 1;
                else
                    top = mid;
            }
            if (end == 0 || maxhi[end - 1] <= lo)
                continue;
            size_t x = end;
            while (c[--x].hi <= lo)
                ;
            rc = sq_err(SQ_ERR_FMT,
                        "descriptor %u writes the %s of descriptor %u, which a unit may read before "
                        "its dependencies are met",
                        j, c[x].name, c[x].index);
        }
    }
    free(c);
    free(maxhi);
    return rc;
}

/* Pairs of descriptors on different units left unordered by the stream that
 * the hazard check below compares before giving up: beyond this a stream
 * needs more dependencies to be checkable (and to run without stalls). */
#define STREAM_PAIR_BUDGET (1u << 26)

/* Lanes of the hazard check: the units, each GEMM compute unit c >= 1 its
 * own after them (spec.h: each runs its own descriptors in order). */
#define LANES (SQ_UNIT_COUNT + SQ_GEMM_CUS_MAX - 1u)

static int lane_of(const uint8_t *desc)
{
    int u = sq_desc_unit(sq_desc_opcode(desc));
    uint32_t cu = u == SQ_UNIT_GEMM ? sq_desc_word(desc, SQ_GEMM_W_CU) : 0;
    if (cu >= SQ_GEMM_CUS_MAX) /* refused before this check */
        return -1;
    return cu ? (int)(SQ_UNIT_COUNT + cu - 1) : u;
}

static unsigned gemm_lane(unsigned c)
{
    return c ? SQ_UNIT_COUNT + c - 1 : SQ_UNIT_GEMM;
}

int sq_stream_check(const uint8_t *descs, uint32_t n)
{
    /* done[j][l]: the latest descriptor of lane l (index + 1; 0 none) that has
     * completed whenever descriptor j starts, through its dependencies and the
     * in-order execution of each lane. Any descriptor i of lane l at or before
     * it has completed too; later ones may run concurrently with j. A
     * dependency on GEMM descriptor i also waits for the GEMMs up to it on
     * every compute unit, gsnap[i] (lane latest, index + 1). */
    uint32_t (*done)[LANES] = calloc(n ? n : 1, sizeof *done);
    uint32_t (*gsnap)[SQ_GEMM_CUS_MAX] = calloc(n ? n : 1, sizeof *gsnap);
    uint32_t *by_unit = malloc((n ? n : 1) * sizeof *by_unit); /* indices grouped by lane */
    uint32_t count[LANES] = {0}, start[LANES], last[LANES] = {0};
    if (!done || !gsnap || !by_unit) {
        free(done);
        free(gsnap);
        free(by_unit);
        return sq_err(SQ_ERR_MEM, "out of memory checking a stream of %u descriptors", n);
    }
    for (uint32_t j = 0; j < n; j++) {
        int u = lane_of(descs + (size_t)j * SQ_DESC_BYTES);
        if (u >= 0)
            count[u]++;
    }
    for (unsigned u = 0, at = 0; u < LANES; at += count[u], u++)
        start[u] = at;
    uint32_t fill[LANES] = {0};
    uint64_t pairs = 0;
    int rc = 0;
    for (uint32_t j = 0; rc == 0 && j < n; j++) {
        const uint8_t *dj = descs + (size_t)j * SQ_DESC_BYTES;
        int uj = lane_of(dj);
        if (uj >= 0 && last[uj]) /* the lane's previous descriptor has completed */
            for (unsigned u = 0; u < LANES; u++) {
                uint32_t p = last[uj] - 1, v = u == (unsigned)uj ? p + 1 : done[p][u];
                done[j][u] = v > done[j][u] ? v : done[j][u];
            }
        for (unsigned k = 0; k < SQ_DESC_DEPS; k++) {
            uint32_t d = sq_desc_dep(dj, k);
            if (!d)
                continue;
            uint32_t i = j - d;
            const uint8_t *di = descs + (size_t)i * SQ_DESC_BYTES;
            int ui = lane_of(di);
            for (unsigned u = 0; u < LANES; u++) {
                uint32_t v = (int)u == ui ? i + 1 : done[i][u];
                done[j][u] = v > done[j][u] ? v : done[j][u];
            }
            if (sq_desc_opcode(di) == SQ_OP_GEMM)
                for (unsigned c = 0; c < SQ_GEMM_CUS_MAX; c++) {
                    uint32_t *t = &done[j][gemm_lane(c)];
                    *t = gsnap[i][c] > *t ? gsnap[i][c] : *t;
                }
        }
        sq_operand_t oj[SQ_DESC_MAX_OPERANDS];
        size_t nj = sq_desc_operands(dj, oj);
        /* every earlier descriptor of another lane that may still run */
        for (unsigned u = 0; rc == 0 && u < LANES; u++) {
            if ((int)u == uj)
                continue;
            for (uint32_t x = fill[u]; rc == 0 && x-- > 0;) {
                uint32_t i = by_unit[start[u] + x];
                if (i + 1 <= done[j][u])
                    break;
                if (++pairs > STREAM_PAIR_BUDGET) {
                    rc = sq_err(SQ_ERR_FMT,
                                "stream of %u descriptors leaves too many descriptor pairs "
                                "unordered to check; add dependencies",
                                n);
                    break;
                }
                sq_operand_t oi[SQ_DESC_MAX_OPERANDS];
                size_t ni = sq_desc_operands(descs + (size_t)i * SQ_DESC_BYTES, oi);
                for (size_t a = 0; rc == 0 && a < ni; a++)
                    for (size_t b = 0; rc == 0 && b < nj; b++)
                        if ((oi[a].role == SQ_OPND_OUT || oj[b].role == SQ_OPND_OUT) &&
                            overlaps(oi[a].addr, oi[a].len, oj[b].addr, oj[b].len))
                            rc = sq_err(SQ_ERR_FMT,
                                        "descriptor %u: its %s and the %s of descriptor %u "
                                        "(another unit) share bytes, but no dependency orders "
                                        "them",
                                        j, oj[b].name, oi[a].name, i);
            }
        }
        if (uj >= 0) {
            by_unit[start[uj] + fill[uj]++] = j;
            last[uj] = j + 1;
        }
        if (sq_desc_opcode(dj) == SQ_OP_GEMM)
            for (unsigned c = 0; c < SQ_GEMM_CUS_MAX; c++)
                gsnap[j][c] = last[gemm_lane(c)];
    }
    if (rc == 0)
        rc = check_const_writes(descs, n);
    free(done);
    free(gsnap);
    free(by_unit);
    return rc;
}
