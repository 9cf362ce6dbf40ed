/* sparq sparse attention kernel: Vitis HLS C, also compiled by gcc as the
 * csim level and as OpenCL C for the opencl level (docs/opencl.md).
 *
 *   O = requant(softmax_int(Q . K^T over the selected keys) . V)
 *   (shapes: include/sparq/spec.h; arithmetic and patterns: sparq/attn.h)
 *
 * Dataflow, for each descriptor, query head h and query i (position p):
 *
 *   load_quant  the head's {s_mult, s_shift, o_mult, o_shift}
 *   load_q      head_dim int8 of Q                         -> q_buf
 *   load_mask   the bitmap row of p's query block           -> mask_row
 *   score       for each key block: sq_attn_block_range gives the keys that
 *               can be candidates (an empty range skips the block without
 *               reading it); the range's K rows are read in one burst
 *               (at most 32 rows, 4 KB)                     -> blk
 *               and each candidate's row is dotted with q_buf (head_dim
 *               MACs, unrolled); score and key index are appended to a
 *               compacted list                              -> s_buf, j_buf
 *   select      top-k over the list (sq_attn_topk_select) or all of it
 *   expsum      e = sq_attn_exp(sq_attn_u(s - max)), sum     -> e_buf
 *   pv          R = sq_attn_recip(sum); for each selected key,
 *               acc += sq_attn_prob(e, R) * v (unrolled over head_dim); a V
 *               row not in blk is read in one burst with the rows after it
 *               to the end of its key block (the list is in key order), or
 *               alone after a top-k selection that dropped keys
 *   store_o     sq_requant per element                       -> O row
 *
 * As in rtl/attn/sq_attn_core.sv, the memory latency is paid per key block,
 * not per row. Masked keys cost nothing after score: they are never in the list. The max
 * is taken over all candidates, which equals the max over the selected keys
 * because top-k always keeps the largest score. Every rule is a call into
 * sparq/attn.h or numerics.h; descriptors are decoded by sparq/desc.h.
 *
 * s_axilite offsets are literals because Vitis HLS does not expand macros
 * inside #pragma lines; each names its spec.h macro, and tests/test_attn.c
 * checks they agree. */
#include "../common/sq_desc_fetch.h"
#include "sparq/attn.h"
#include "sparq/desc.h"
#include "sparq/kernels.h"
#include "sparq/numerics.h"
#include "sparq/spec.h"


static void attn_run(SQ_GLOBAL uint8_t *mem, const sq_attn_desc_t *d);

SQ_KERNEL void sq_attn_kernel(SQ_GLOBAL uint8_t *mem, uint64_t cmd_addr, uint32_t n_cmds)
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
        sq_attn_exec(mem, desc);
    }
}

void sq_attn_exec(SQ_GLOBAL uint8_t *mem, const uint8_t *desc)
{
    if (sq_desc_opcode(desc) != SQ_OP_ATTN)
        return;
    sq_attn_desc_t d;
    sq_attn_desc_decode(desc, &d);
    attn_run(mem, &d);
}

static void load_quant(const SQ_GLOBAL uint8_t *mem, const sq_attn_desc_t *d, uint32_t h,
                       sq_attn_quant_t *qt)
{
    const SQ_GLOBAL uint8_t *at = mem + d->quant + (uint64_t)SQ_ATTN_QUANT_BYTES * h;
    qt->s_mult = (int32_t)sq_mem_ld32(at);
    qt->s_shift = sq_mem_ld32(at + 4);
    qt->o_mult = (int32_t)sq_mem_ld32(at + 8);
    qt->o_shift = sq_mem_ld32(at + 12);
}

static void load_q(const SQ_GLOBAL uint8_t *mem, const sq_attn_desc_t *d, uint32_t h, uint32_t i,
                   int8_t q_buf[SQ_ATTN_MAX_DIM])
{
    const SQ_GLOBAL uint8_t *row = mem + d->q + ((uint64_t)h * d->queries + i) * d->head_dim;
load_q_dim:
    for (uint32_t t = 0; t < SQ_ATTN_MAX_DIM; t++) {
#pragma HLS PIPELINE II=1
        q_buf[t] = t < d->head_dim ? (int8_t)row[t] : 0;
    }
}

static void load_mask(const SQ_GLOBAL uint8_t *mem, const sq_attn_desc_t *d, uint32_t p,
                      uint8_t mask_row[SQ_ATTN_MASK_ROW_BYTES])
{
    /* MASK is validated only with BLOCK: without it the address may be
     * anything, and even forming a pointer from it is undefined */
    const SQ_GLOBAL uint8_t *row =
        mem + ((d->flags & SQ_ATTN_BLOCK)
                   ? d->mask + (uint64_t)(p >> SQ_ATTN_BLK_LOG2) * SQ_ATTN_MASK_ROW_BYTES
                   : 0);
load_mask_byte:
    for (uint32_t b = 0; b < SQ_ATTN_MASK_ROW_BYTES; b++) {
#pragma HLS PIPELINE II=1
        mask_row[b] = (d->flags & SQ_ATTN_BLOCK) ? row[b] : 0;
    }
}

/* Rows lo .. hi - 1 (at most a key block) of a K or V region, one burst. */
static void load_rows(const SQ_GLOBAL uint8_t *base, uint32_t head_dim, uint32_t lo, uint32_t hi,
                      int8_t blk[SQ_ATTN_BLK * SQ_ATTN_MAX_DIM])
{
    const SQ_GLOBAL uint8_t *at = base + (uint64_t)lo * head_dim;
load_rows_byte:
    for (uint32_t b = 0; b < (hi - lo) * head_dim; b++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=4096 /* SQ_ATTN_BLK * SQ_ATTN_MAX_DIM */
#pragma HLS PIPELINE II=1
        blk[b] = (int8_t)at[b];
    }
}

/* Returns the number of candidates appended to s_buf/j_buf and their max. */
static uint32_t score(const SQ_GLOBAL uint8_t *mem, const sq_attn_desc_t *d, uint32_t g,
                      uint32_t p, const int8_t q_buf[SQ_ATTN_MAX_DIM],
                      const uint8_t mask_row[SQ_ATTN_MASK_ROW_BYTES],
                      int32_t s_buf[SQ_ATTN_MAX_SEQ], uint16_t j_buf[SQ_ATTN_MAX_SEQ],
                      int8_t blk[SQ_ATTN_BLK * SQ_ATTN_MAX_DIM], int32_t *max)
{
    const SQ_GLOBAL uint8_t *kbase = mem + d->k + (uint64_t)g * d->kv_cap * d->head_dim;
    uint32_t n = 0;
    int32_t m = INT32_MIN;
score_block:
    for (uint32_t kb = 0; kb < sq_attn_blocks(d->seq); kb++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=128 /* SQ_ATTN_MAX_BLOCKS */
        int bbit = (mask_row[kb >> 3] >> (kb & 7u)) & 1;
        uint32_t lo, hi;
        sq_attn_block_range(d->flags, d->window, d->n_global, d->seq, p, kb, bbit, &lo, &hi);
        if (lo < hi)
            load_rows(kbase, d->head_dim, lo, hi, blk);
    score_key:
        for (uint32_t j = lo; j < hi; j++) {
#pragma HLS LOOP_TRIPCOUNT min=0 max=32 /* SQ_ATTN_BLK */
#pragma HLS PIPELINE II=1
            if (!sq_attn_cand(d->flags, d->window, d->n_global, p, j, bbit))
                continue;
            const int8_t *krow = blk + (j - lo) * d->head_dim;
            int32_t acc = 0;
        score_dim:
            for (uint32_t t = 0; t < SQ_ATTN_MAX_DIM; t++) {
#pragma HLS UNROLL
                if (t < d->head_dim)
                    acc = sq_mac(acc, q_buf[t], krow[t]);
            }
            s_buf[n] = acc;
            j_buf[n] = (uint16_t)j;
            m = acc > m ? acc : m;
            n++;
        }
    }
    *max = m;
    return n;
}

static uint32_t expsum(const int32_t s_buf[SQ_ATTN_MAX_SEQ], const uint8_t sel[SQ_ATTN_MAX_SEQ],
                       uint32_t n, int32_t max, const sq_attn_quant_t *qt,
                       uint32_t e_buf[SQ_ATTN_MAX_SEQ])
{
    uint32_t sum = 0;
expsum_key:
    for (uint32_t t = 0; t < n; t++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=4096 /* SQ_ATTN_MAX_SEQ */
#pragma HLS PIPELINE II=1
        uint32_t e = sel[t] ? sq_attn_exp(sq_attn_u(s_buf[t] - max, qt->s_mult, qt->s_shift)) : 0;
        e_buf[t] = e;
        sum += e;
    }
    return sum;
}

static void pv(const SQ_GLOBAL uint8_t *mem, const sq_attn_desc_t *d, uint32_t g,
               const uint16_t j_buf[SQ_ATTN_MAX_SEQ], const uint8_t sel[SQ_ATTN_MAX_SEQ],
               const uint32_t e_buf[SQ_ATTN_MAX_SEQ], uint32_t n, uint32_t recip, int dropped,
               int8_t blk[SQ_ATTN_BLK * SQ_ATTN_MAX_DIM], int32_t acc[SQ_ATTN_MAX_DIM])
{
    const SQ_GLOBAL uint8_t *vbase = mem + d->v + (uint64_t)g * d->kv_cap * d->head_dim;
    uint32_t vlo = 0, vhi = 0; /* V rows in blk */
pv_key:
    for (uint32_t t = 0; t < n; t++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=4096 /* SQ_ATTN_MAX_SEQ */
#pragma HLS PIPELINE II=1
        if (!sel[t])
            continue;
        uint32_t prob = sq_attn_prob(e_buf[t], recip), j = j_buf[t];
        if (j < vlo || j >= vhi) {
            uint32_t end = dropped ? j + 1u : (j | (SQ_ATTN_BLK - 1u)) + 1u;
            vlo = j;
            vhi = end < d->seq ? end : d->seq;
            load_rows(vbase, d->head_dim, vlo, vhi, blk);
        }
        const int8_t *vrow = blk + (j - vlo) * d->head_dim;
    pv_dim:
        for (uint32_t c = 0; c < SQ_ATTN_MAX_DIM; c++) {
#pragma HLS UNROLL
            if (c < d->head_dim)
                acc[c] = sq_attn_pv_mac(acc[c], prob, vrow[c]);
        }
    }
}

static void store_o(SQ_GLOBAL uint8_t *mem, const sq_attn_desc_t *d, uint32_t h, uint32_t i,
                  const int32_t acc[SQ_ATTN_MAX_DIM], const sq_attn_quant_t *qt)
{
    SQ_GLOBAL uint8_t *row = mem + d->o + ((uint64_t)h * d->queries + i) * d->head_dim;
store_dim:
    for (uint32_t c = 0; c < d->head_dim; c++) {
#pragma HLS LOOP_TRIPCOUNT min=8 max=128 /* SQ_ATTN_MAX_DIM */
#pragma HLS PIPELINE II=1
        row[c] = (uint8_t)sq_requant(acc[c], qt->o_mult, qt->o_shift);
    }
}

static void attn_run(SQ_GLOBAL uint8_t *mem, const sq_attn_desc_t *d)
{
    int32_t s_buf[SQ_ATTN_MAX_SEQ];
    uint16_t j_buf[SQ_ATTN_MAX_SEQ];
    uint8_t sel[SQ_ATTN_MAX_SEQ];
    uint32_t e_buf[SQ_ATTN_MAX_SEQ];
    int8_t q_buf[SQ_ATTN_MAX_DIM];
    int8_t blk[SQ_ATTN_BLK * SQ_ATTN_MAX_DIM]; /* a key block's K or V rows */
    int32_t acc[SQ_ATTN_MAX_DIM];
    uint8_t mask_row[SQ_ATTN_MASK_ROW_BYTES];
    /* head_dim MACs per cycle in score and pv */
#pragma HLS ARRAY_PARTITION variable=q_buf complete dim=1
#pragma HLS ARRAY_PARTITION variable=acc complete dim=1
    uint32_t group = d->heads / d->kv_heads;
head_loop:
    for (uint32_t h = 0; h < d->heads; h++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=256 /* SQ_ATTN_MAX_HEADS */
        uint32_t g = h / group;
        sq_attn_quant_t qt;
        load_quant(mem, d, h, &qt);
    query_loop:
        for (uint32_t i = 0; i < d->queries; i++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=4096 /* SQ_ATTN_MAX_SEQ */
            uint32_t p = d->seq - d->queries + i;
            load_q(mem, d, h, i, q_buf);
            load_mask(mem, d, p, mask_row);
            int32_t max;
            uint32_t n = score(mem, d, g, p, q_buf, mask_row, s_buf, j_buf, blk, &max);
            if ((d->flags & SQ_ATTN_TOPK) && n)
                sq_attn_topk_select(s_buf, NULL, n, d->topk, sel);
            else {
            select_all:
                for (uint32_t t = 0; t < n; t++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=4096 /* SQ_ATTN_MAX_SEQ */
#pragma HLS PIPELINE II=1
                    sel[t] = 1;
                }
            }
        acc_clear:
            for (uint32_t c = 0; c < SQ_ATTN_MAX_DIM; c++) {
#pragma HLS UNROLL
                acc[c] = 0;
            }
            if (n) {
                uint32_t sum = expsum(s_buf, sel, n, max, &qt, e_buf);
                pv(mem, d, g, j_buf, sel, e_buf, n, sq_attn_recip(sum),
                   (d->flags & SQ_ATTN_TOPK) && d->topk < n, blk, acc);
            }
            store_o(mem, d, h, i, acc, &qt);
        }
    }
}
