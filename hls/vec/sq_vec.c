/* sparq vector unit: Vitis HLS C, also compiled by gcc as the csim level and
 * as OpenCL C for the opencl level (docs/opencl.md).
 *
 *   one SQ_OP_VEC descriptor: M rows of N elements through one function
 *   (norms, RoPE, SwiGLU, GELU, residual add, requantization, gather,
 *   logits, argmax, copy; layout: include/sparq/spec.h, rules: sparq/vec.h)
 *
 * Every element rule is a call into sparq/vec.h (and numerics.h / attn.h
 * through it); descriptors are decoded by sparq/desc.h, as on the host.
 * Rows are independent. Each row is a few passes over its elements, in the
 * order of the rules: statistics first (sum, max |d|, sum of squares, the
 * row maximum of rule 2), then the elements.
 *
 * The passes read their operands from device memory again instead of
 * keeping the row on chip: a row holds up to SQ_VEC_MAX_N = 65536 values of
 * up to 64 bits (512 KiB), more than the private memory of the single
 * work-item OpenCL kernels this source also runs as, and the same bits
 * follow either way because every pass recomputes its values with the same
 * rules. The RTL unit (rtl/vec/sq_vec_core.sv) makes the same passes.
 *
 * sq_vec_exec runs one descriptor (a command processor's dispatch calls it);
 * sq_vec_kernel is the standalone unit kernel over a command stream. The
 * s_axilite offsets are literals because Vitis HLS does not expand macros in
 * #pragma lines; each names its spec.h macro, and tests/test_vec_levels.c
 * checks they agree. Static helpers carry a vec_ prefix: the opencl level
 * compiles every hls/ source as one program. */
#include "../common/sq_desc_fetch.h"
#include "sparq/desc.h"
#include "sparq/kernels.h"
#include "sparq/vec.h"

typedef struct {
    sq_vec_desc_t d;
    uint32_t seg;     /* elements per segment (N when the descriptor says 0) */
    sq_vec_rec_t rec; /* the row's record (SQ_VEC_ACC) */
} vec_op_t;

static int32_t vec_ld(const SQ_GLOBAL uint8_t *mem, uint64_t addr)
{
    return (int32_t)sq_mem_ld32(mem + addr);
}

/* Addresses of element (m, j) of IN and OUT (spec.h, "Addressing"). */
static uint64_t vec_in_at(const vec_op_t *o, uint32_t m, uint32_t j)
{
    return o->d.in + (uint64_t)m * o->d.in_stride + (uint64_t)(j / o->seg) * o->d.in_seg_stride +
           (uint64_t)(j % o->seg) * sq_vec_in_esize(o->d.func);
}

static uint64_t vec_out_at(const vec_op_t *o, uint32_t m, uint32_t j, uint32_t esize)
{
    return o->d.out + (uint64_t)m * o->d.out_stride +
           (uint64_t)(j / o->seg) * o->d.out_seg_stride + (uint64_t)(j % o->seg) * esize;
}

/* The value a function starts from: rule 1 of the int32 at addr with
 * channel ch (SQ_VEC_ACC), else the int32 itself; plus bias j (SQ_VEC_BIAS). */
static int32_t vec_input(const SQ_GLOBAL uint8_t *mem, const vec_op_t *o, uint64_t addr,
                         uint32_t ch, uint32_t j)
{
    int32_t x = vec_ld(mem, addr);
    if (o->d.flags & SQ_VEC_ACC) {
        uint64_t q = o->d.chan + 8u * (uint64_t)ch;
        x = sq_vec_requant2(x, vec_ld(mem, q), sq_mem_ld32(mem + q + 4u), o->rec,
                            (int32_t)o->d.p[0]);
    }
    if (o->d.flags & SQ_VEC_BIAS)
        x = sq_sat32((int64_t)x + vec_ld(mem, o->d.tab + 4u * (uint64_t)j));
    return x;
}

static void vec_store32(SQ_GLOBAL uint8_t *mem, const vec_op_t *o, uint32_t m, uint32_t j,
                        int64_t x)
{
    sq_mem_st32(mem + vec_out_at(o, m, j, 4), (uint32_t)sq_sat32(x));
}

/* Rule 3 statistics of row m: the mean (LN), the shift k and {m_r, S}. */
typedef struct {
    int64_t mu;
    uint32_t k;
    sq_vec_rec_t sc;
} vec_norm_t;

static void vec_norm_stats(const SQ_GLOBAL uint8_t *mem, const vec_op_t *o, uint32_t m,
                           vec_norm_t *st)
{
    uint32_t n = o->d.n;
    st->mu = 0;
    if (o->d.flags & SQ_VEC_LN) {
        int64_t sum = 0;
    norm_sum:
        for (uint32_t j = 0; j < n; j++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=65536 /* SQ_VEC_MAX_N */
#pragma HLS PIPELINE II=1
            sum += vec_ld(mem, vec_in_at(o, m, j));
        }
        st->mu = sq_vec_mean(sum, n);
    }
    uint64_t dmax = 0;
norm_dmax:
    for (uint32_t j = 0; j < n; j++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=65536 /* SQ_VEC_MAX_N */
#pragma HLS PIPELINE II=1
        uint64_t a = (uint64_t)sq_vec_abs64(vec_ld(mem, vec_in_at(o, m, j)) - st->mu);
        dmax = a > dmax ? a : dmax;
    }
    st->k = sq_vec_norm_k(dmax);
    uint64_t ss = 0;
norm_ss:
    for (uint32_t j = 0; j < n; j++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=65536 /* SQ_VEC_MAX_N */
#pragma HLS PIPELINE II=1
        int64_t dk = sq_rshift_round(vec_ld(mem, vec_in_at(o, m, j)) - st->mu, st->k);
        ss += (uint64_t)(dk * dk);
    }
    uint64_t eps = (uint64_t)o->d.p[0] | ((uint64_t)o->d.p[1] << 32);
    st->sc = sq_vec_norm_scale(ss, eps, st->k, (int32_t)o->d.p[2]);
}

/* Rule 3: output element j of a normalized row (bias included). */
static int32_t vec_norm_y(const SQ_GLOBAL uint8_t *mem, const vec_op_t *o, uint32_t m, uint32_t j,
                          const vec_norm_t *st)
{
    int64_t dk = sq_rshift_round(vec_ld(mem, vec_in_at(o, m, j)) - st->mu, st->k);
    int32_t y = sq_vec_norm_elem(dk, vec_ld(mem, o->d.chan + 4u * (uint64_t)j), st->sc);
    if (o->d.flags & SQ_VEC_BIAS)
        y = sq_sat32((int64_t)y + vec_ld(mem, o->d.tab + 4u * (uint64_t)j));
    return y;
}

/* The value of element j before rule 2, for the functions that end in it
 * (NORM with SQ_VEC_Q8, SWIGLU, GELU, QUANT). */
static int64_t vec_value(const SQ_GLOBAL uint8_t *mem, const vec_op_t *o, uint32_t m, uint32_t j,
                         const vec_norm_t *st)
{
    switch (o->d.func) {
    case SQ_VEC_NORM:
        return vec_norm_y(mem, o, m, j, st);
    case SQ_VEC_SWIGLU: {
        int32_t a = vec_input(mem, o, vec_in_at(o, m, j), j, j);
        int32_t b = vec_input(mem, o, o->d.in2 + (uint64_t)m * o->d.in2_stride + 4u * (uint64_t)j,
                              o->d.n + j, j);
        return sq_vec_swiglu(a, b, o->d.p[1]);
    }
    case SQ_VEC_GELU:
        return sq_vec_gelu(vec_input(mem, o, vec_in_at(o, m, j), j, j), o->d.p[1]);
    default: /* SQ_VEC_QUANT */
        return vec_input(mem, o, vec_in_at(o, m, j), j, j);
    }
}

/* Rule 2 over row m: the maximum pass, the record, then the int8 pass. */
static void vec_quant_row(SQ_GLOBAL uint8_t *mem, const vec_op_t *o, uint32_t m, int32_t frac,
                          const vec_norm_t *st)
{
    uint32_t n = o->d.n;
    uint64_t z = 0;
quant_max:
    for (uint32_t j = 0; j < n; j++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=65536 /* SQ_VEC_MAX_N */
#pragma HLS PIPELINE II=1
        uint64_t a = (uint64_t)sq_vec_abs64(vec_value(mem, o, m, j, st));
        z = a > z ? a : z;
    }
    sq_vec_dq_t dq;
    sq_vec_rec_t rec = sq_vec_dq_prep(z, frac, &dq);
    uint64_t r = o->d.rec_out + (uint64_t)m * SQ_VEC_REC_BYTES;
    sq_mem_st32(mem + r, (uint32_t)rec.mult);
    sq_mem_st32(mem + r + 4u, (uint32_t)rec.shift);
quant_out:
    for (uint32_t j = 0; j < n; j++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=65536 /* SQ_VEC_MAX_N */
#pragma HLS PIPELINE II=1
        mem[vec_out_at(o, m, j, 1)] = (uint8_t)sq_vec_dq_apply(vec_value(mem, o, m, j, st), dq);
    }
}

static void vec_gather_row(SQ_GLOBAL uint8_t *mem, const vec_op_t *o, uint32_t m)
{
    uint32_t id = sq_mem_ld32(mem + o->d.in + (uint64_t)m * o->d.in_stride);
    int live = id < o->d.p[0];
    uint64_t ch = o->d.chan + 8u * (uint64_t)id;
    int32_t mult = live ? vec_ld(mem, ch) : 0;
    uint32_t shift = live ? sq_mem_ld32(mem + ch + 4u) : 0;
    uint64_t row = o->d.tab + (uint64_t)id * o->d.tab_stride;
gather_elem:
    for (uint32_t j = 0; j < o->d.n; j++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=65536 /* SQ_VEC_MAX_N */
#pragma HLS PIPELINE II=1
        int32_t x = live ? sq_vec_gather_elem((int8_t)mem[row + j], mult, shift) : 0;
        vec_store32(mem, o, m, j, x);
    }
}

static void vec_rope_row(SQ_GLOBAL uint8_t *mem, const vec_op_t *o, uint32_t m)
{
    uint32_t r = o->d.p[1];
    if (!(o->d.flags & SQ_VEC_ROT)) {
    rope_elem:
        for (uint32_t j = 0; j < o->d.n; j++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=65536 /* SQ_VEC_MAX_N */
#pragma HLS PIPELINE II=1
            int32_t y = vec_input(mem, o, vec_in_at(o, m, j), j, j);
            mem[vec_out_at(o, m, j, 1)] = (uint8_t)sq_sat8(sq_rshift_round(y, r));
        }
        return;
    }
rope_pair:
    for (uint32_t j = 0; j < o->d.n; j += 2) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=32768 /* SQ_VEC_MAX_N / 2 */
#pragma HLS PIPELINE II=1
        int32_t y0 = vec_input(mem, o, vec_in_at(o, m, j), j, j);
        int32_t y1 = vec_input(mem, o, vec_in_at(o, m, j + 1), j + 1, j + 1);
        uint64_t cs = o->d.tab + (uint64_t)m * o->d.tab_stride + 2u * (uint64_t)(j % o->seg);
        uint32_t w = sq_mem_ld32(mem + cs);
        int8_t q0, q1;
        sq_vec_rope_pair(y0, y1, (int16_t)(w & 0xFFFFu), (int16_t)(w >> 16), r, &q0, &q1);
        mem[vec_out_at(o, m, j, 1)] = (uint8_t)q0;
        mem[vec_out_at(o, m, j + 1, 1)] = (uint8_t)q1;
    }
}

static void vec_row(SQ_GLOBAL uint8_t *mem, vec_op_t *o, uint32_t m)
{
    const sq_vec_desc_t *d = &o->d;
    if (d->flags & SQ_VEC_ACC) {
        uint64_t r = d->rec_in + (uint64_t)m * SQ_VEC_REC_BYTES;
        o->rec.mult = vec_ld(mem, r);
        o->rec.shift = vec_ld(mem, r + 4u);
    }
    vec_norm_t st = {0, 0, {0, 0}};
    switch (d->func) {
    case SQ_VEC_GATHER:
        vec_gather_row(mem, o, m);
        return;
    case SQ_VEC_NORM:
        vec_norm_stats(mem, o, m, &st);
        if (d->flags & SQ_VEC_Q8) {
            vec_quant_row(mem, o, m, (int32_t)d->p[3], &st);
            return;
        }
    norm_out:
        for (uint32_t j = 0; j < d->n; j++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=65536 /* SQ_VEC_MAX_N */
#pragma HLS PIPELINE II=1
            vec_store32(mem, o, m, j, vec_norm_y(mem, o, m, j, &st));
        }
        return;
    case SQ_VEC_ADD:
    case SQ_VEC_DEQ:
    add_elem:
        for (uint32_t j = 0; j < d->n; j++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=65536 /* SQ_VEC_MAX_N */
#pragma HLS PIPELINE II=1
            int64_t x = vec_input(mem, o, vec_in_at(o, m, j), j, j);
            if (d->func == SQ_VEC_ADD)
                x += vec_ld(mem, d->in2 + (uint64_t)m * d->in2_stride + 4u * (uint64_t)j);
            vec_store32(mem, o, m, j, x);
        }
        return;
    case SQ_VEC_ROPE:
        vec_rope_row(mem, o, m);
        return;
    case SQ_VEC_SWIGLU:
        vec_quant_row(mem, o, m, 2 * (int32_t)d->p[1], &st);
        return;
    case SQ_VEC_GELU:
        if (d->flags & SQ_VEC_Q8) {
            vec_quant_row(mem, o, m, (int32_t)d->p[1], &st);
            return;
        }
    gelu_out:
        for (uint32_t j = 0; j < d->n; j++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=65536 /* SQ_VEC_MAX_N */
#pragma HLS PIPELINE II=1
            vec_store32(mem, o, m, j, vec_value(mem, o, m, j, &st));
        }
        return;
    case SQ_VEC_QUANT:
        vec_quant_row(mem, o, m, (int32_t)d->p[1], &st);
        return;
    case SQ_VEC_ARGMAX: {
        uint32_t best = 0;
        int32_t top = vec_ld(mem, vec_in_at(o, m, 0));
    argmax_elem:
        for (uint32_t j = 1; j < d->n; j++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=65536 /* SQ_VEC_MAX_N */
#pragma HLS PIPELINE II=1
            int32_t x = vec_ld(mem, vec_in_at(o, m, j));
            if (x > top) {
                top = x;
                best = j;
            }
        }
        sq_mem_st32(mem + vec_out_at(o, m, 0, 4), best);
        return;
    }
    case SQ_VEC_COPY:
    copy_elem:
        for (uint32_t j = 0; j < d->n; j++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=65536 /* SQ_VEC_MAX_N */
#pragma HLS PIPELINE II=1
            mem[vec_out_at(o, m, j, 1)] = mem[vec_in_at(o, m, j)];
        }
        return;
    default:
        return;
    }
}

void sq_vec_exec(SQ_GLOBAL uint8_t *mem, const uint8_t *desc)
{
    vec_op_t o;
    sq_vec_desc_decode(desc, &o.d);
    o.seg = o.d.seg ? o.d.seg : o.d.n;
    o.rec.mult = 0;
    o.rec.shift = 0;
row_loop:
    for (uint32_t m = 0; m < o.d.m; m++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=65536 /* SQ_VEC_MAX_M */
        vec_row(mem, &o, m);
    }
}

SQ_KERNEL void sq_vec_kernel(SQ_GLOBAL uint8_t *mem, uint64_t cmd_addr, uint32_t n_cmds)
{
#pragma HLS INTERFACE m_axi port=mem offset=slave bundle=gmem
#pragma HLS INTERFACE s_axilite port=mem offset=0x10      /* SQ_REG_MEM_LO */
#pragma HLS INTERFACE s_axilite port=cmd_addr offset=0x1C /* SQ_REG_CMD_LO */
#pragma HLS INTERFACE s_axilite port=n_cmds offset=0x28   /* SQ_REG_NCMD */
#pragma HLS INTERFACE s_axilite port=return               /* ap_ctrl_hs at SQ_REG_CTRL */
cmd_loop:
    for (uint32_t i = 0; i < n_cmds; i++) {
        uint8_t desc[SQ_DESC_BYTES];
        sq_desc_fetch(mem, cmd_addr + (uint64_t)i * SQ_DESC_BYTES, desc);
        if (sq_desc_opcode(desc) == SQ_OP_VEC)
            sq_vec_exec(mem, desc);
    }
}
