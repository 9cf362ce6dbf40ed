/* sparq GEMM kernel: Vitis HLS C, also compiled by gcc as the csim level
 * and as OpenCL C for the opencl level (docs/opencl.md).
 *
 *   C = epilogue(A . W^T + bias)     (shapes and layouts: include/sparq/spec.h)
 *
 * Dataflow, for each descriptor and each R x C output tile (R = SQ_ARRAY_ROWS,
 * C = SQ_ARRAY_COLS, one processing element per output of the tile, output
 * stationary):
 *
 *   load_epi   bias and {mult, shift} of the tile's C output channels
 *   for each chunk of SQ_GEMM_TILE_K along k:
 *     load_a   R x chunk int8 of A                  -> a_buf
 *     load_w   C x chunk weights, int4 unpacked,    -> w_buf (+ w_code for 2:4)
 *              2:4 kept values and position codes
 *     load_gs  where a group of k positions closes in the chunk, and the
 *              group's Q15 factor per column (SQ_GEMM_GSCALE; without it
 *              the one group is all of K)
 *     compute  every PE: part += a * w, one k step (dense) or one 2:4 group
 *              (two kept values, the zeros are never multiplied) per cycle;
 *              where a group closes, acc += part (with SQ_GEMM_GSCALE scaled
 *              by the group's factor, sq_gscale_add) and part restarts at 0
 *   store_c    sq_epilogue per PE, int8 or int32, clipped to the real M x N
 *
 * Rows and columns past M, N and k positions past K are zero in the buffers,
 * so edge tiles run the same loops. The per-element arithmetic is the golden
 * one (sq_mac, sq_epilogue, sq_i4_get, sq_sp24_code/pos from numerics.h) and
 * descriptors are decoded by include/sparq/desc.h, as on the host.
 *
 * The s_axilite offsets are written as literals because Vitis HLS does not
 * expand macros inside #pragma lines; each names its spec.h macro, and
 * tests/test_gemm.c checks the two agree. The HLS models the array as an
 * unrolled PE grid with II=1; the skewed systolic wiring is the RTL's. */
#include "../common/sq_desc_fetch.h"
#include "sparq/desc.h"
#include "sparq/kernels.h"
#include "sparq/numerics.h"
#include "sparq/spec.h"

#define GEMM_GROUPS (SQ_GEMM_TILE_K / 4) /* 2:4 groups in one k chunk */

/* The two accumulators of every PE: the open group's partial sum and the
 * finished (scaled) groups' sum. */
typedef struct {
    int32_t part[SQ_ARRAY_ROWS][SQ_ARRAY_COLS];
    int32_t acc[SQ_ARRAY_ROWS][SQ_ARRAY_COLS];
} gemm_acc_t;

static void gemm_run(SQ_GLOBAL uint8_t *mem, const sq_gemm_desc_t *d);

SQ_KERNEL void sq_gemm_kernel(SQ_GLOBAL uint8_t *mem, uint64_t cmd_addr, uint32_t n_cmds)
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
        sq_gemm_exec(mem, desc);
    }
}

void sq_gemm_exec(SQ_GLOBAL uint8_t *mem, const uint8_t *desc)
{
    if (sq_desc_opcode(desc) != SQ_OP_GEMM)
        return;
    sq_gemm_desc_t d;
    sq_gemm_desc_decode(desc, &d);
    gemm_run(mem, &d);
}

static void load_epi(const SQ_GLOBAL uint8_t *mem, const sq_gemm_desc_t *d, uint32_t n0,
                     int32_t bias[SQ_ARRAY_COLS], sq_quant_t quant[SQ_ARRAY_COLS])
{
load_epi_col:
    for (uint32_t c = 0; c < SQ_ARRAY_COLS; c++) {
#pragma HLS PIPELINE II=1
        uint32_t n = n0 + c;
        int live = n < d->n;
        bias[c] = (live && (d->flags & SQ_GEMM_BIAS))
                      ? (int32_t)sq_mem_ld32(mem + d->bias + 4u * (uint64_t)n)
                      : 0;
        quant[c].mult = 0;
        quant[c].shift = 0;
        if (live && !(d->flags & SQ_GEMM_OUT32)) {
            quant[c].mult = (int32_t)sq_mem_ld32(mem + d->quant + 8u * (uint64_t)n);
            quant[c].shift = sq_mem_ld32(mem + d->quant + 8u * (uint64_t)n + 4u);
        }
    }
}

/* kspan: k positions staged, the chunk rounded up to whole 2:4 groups. */
static void load_a(const SQ_GLOBAL uint8_t *mem, const sq_gemm_desc_t *d, uint32_t m0, uint32_t k0,
                   uint32_t kspan, int8_t a_buf[SQ_ARRAY_ROWS][SQ_GEMM_TILE_K])
{
load_a_row:
    for (uint32_t r = 0; r < SQ_ARRAY_ROWS; r++) {
    load_a_k:
        for (uint32_t t = 0; t < kspan; t++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=512 /* SQ_GEMM_TILE_K */
#pragma HLS PIPELINE II=1
            uint32_t m = m0 + r, k = k0 + t;
            a_buf[r][t] = (m < d->m && k < d->k)
                              ? (int8_t)mem[d->a + (uint64_t)m * d->k + k]
                              : 0;
        }
    }
}

static void load_w(const SQ_GLOBAL uint8_t *mem, const sq_gemm_desc_t *d, uint32_t n0, uint32_t k0,
                   uint32_t kspan, int8_t w_buf[SQ_ARRAY_COLS][SQ_GEMM_TILE_K],
                   uint8_t w_code[SQ_ARRAY_COLS][GEMM_GROUPS])
{
    uint64_t row_bytes = sq_w_row_bytes(d->flags, d->k);
    uint64_t meta_bytes = sq_meta_row_bytes(d->k);
    uint32_t groups = kspan / 4, g0 = k0 / 4;
load_w_col:
    for (uint32_t c = 0; c < SQ_ARRAY_COLS; c++) {
        uint32_t n = n0 + c;
        int live = n < d->n;
        const SQ_GLOBAL uint8_t *row = mem + d->w + (live ? n * row_bytes : 0);
        if (d->flags & SQ_GEMM_SP24) {
            const SQ_GLOBAL uint8_t *meta = mem + d->meta + (live ? n * meta_bytes : 0);
        load_w_group:
            for (uint32_t g = 0; g < groups; g++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=128 /* GEMM_GROUPS */
#pragma HLS PIPELINE II=1
                /* a dead column's zero values make its code irrelevant */
                w_code[c][g] = live ? sq_sp24_code(meta, g0 + g) : 0;
                w_buf[c][2 * g] = live ? (int8_t)row[2 * (g0 + g)] : 0;
                w_buf[c][2 * g + 1] = live ? (int8_t)row[2 * (g0 + g) + 1] : 0;
            }
        } else {
        load_w_k:
            for (uint32_t t = 0; t < kspan; t++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=512 /* SQ_GEMM_TILE_K */
#pragma HLS PIPELINE II=1
                uint32_t k = k0 + t;
                int8_t v = 0;
                if (live && k < d->k)
                    v = (d->flags & SQ_GEMM_W4) ? sq_i4_get(row, k) : (int8_t)row[k];
                w_buf[c][t] = v;
            }
        }
    }
}

/* gend[t]: position k0 + t closes a group (SQ_GEMM_GSCALE: every group
 * positions and the last one; otherwise the last one only); gs_buf[c][t]: the
 * closing group's Q15 factor for column c (0 for a dead column). */
static void load_gs(const SQ_GLOBAL uint8_t *mem, const sq_gemm_desc_t *d, uint32_t n0, uint32_t k0,
                    uint32_t kspan, uint8_t gend[SQ_GEMM_TILE_K],
                    uint16_t gs_buf[SQ_ARRAY_COLS][SQ_GEMM_TILE_K])
{
    int scaled = (d->flags & SQ_GEMM_GSCALE) != 0;
    uint32_t group = scaled ? d->group : d->k;
    uint64_t ng = (d->k + group - 1u) / group;
load_gs_col:
    for (uint32_t c = 0; c < SQ_ARRAY_COLS; c++) {
        uint32_t n = n0 + c;
        int live = scaled && n < d->n;
        /* the group of position k0 and the offset in it, then counters */
        uint32_t g = k0 / group, in = k0 % group;
    load_gs_k:
        for (uint32_t t = 0; t < kspan; t++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=512 /* SQ_GEMM_TILE_K */
#pragma HLS PIPELINE II=1
            uint32_t k = k0 + t;
            int end = k < d->k && (in + 1u == group || k + 1u == d->k);
            gend[t] = (uint8_t)end;
            uint16_t f = 0;
            if (end && live) {
                const SQ_GLOBAL uint8_t *p = mem + d->gscale + 2u * ((uint64_t)n * ng + g);
                f = (uint16_t)(p[0] | (p[1] << 8));
            }
            gs_buf[c][t] = f;
            if (++in == group) {
                in = 0;
                g++;
            }
        }
    }
}

/* One PE's product at position t joins its open group; a closing group
 * goes into acc. */
static void pe_step(int scaled, int32_t *part, int32_t *acc, int32_t prod, int end, uint16_t gs)
{
    int32_t p = sq_add_wrap(*part, prod);
    if (end) {
        *acc = scaled ? sq_gscale_add(*acc, p, gs) : sq_add_wrap(*acc, p);
        p = 0;
    }
    *part = p;
}

static void compute_dense(const int8_t a_buf[SQ_ARRAY_ROWS][SQ_GEMM_TILE_K],
                          const int8_t w_buf[SQ_ARRAY_COLS][SQ_GEMM_TILE_K],
                          const uint8_t gend[SQ_GEMM_TILE_K],
                          const uint16_t gs_buf[SQ_ARRAY_COLS][SQ_GEMM_TILE_K], int scaled,
                          uint32_t kspan, gemm_acc_t *x)
{
compute_k:
    for (uint32_t t = 0; t < kspan; t++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=512 /* SQ_GEMM_TILE_K */
#pragma HLS PIPELINE II=1
    compute_row:
        for (uint32_t r = 0; r < SQ_ARRAY_ROWS; r++) {
        compute_col:
            for (uint32_t c = 0; c < SQ_ARRAY_COLS; c++)
                pe_step(scaled, &x->part[r][c], &x->acc[r][c],
                        (int32_t)a_buf[r][t] * (int32_t)w_buf[c][t], gend[t], gs_buf[c][t]);
        }
    }
}

/* One 2:4 group per cycle: each PE muxes its two kept positions out of the
 * group's four A values (a_buf is banked by 4 along k) and does two MACs;
 * the one group (no GSCALE with SP24) closes at k - 1, in the last one. */
static void compute_sp24(const int8_t a_buf[SQ_ARRAY_ROWS][SQ_GEMM_TILE_K],
                         const int8_t w_buf[SQ_ARRAY_COLS][SQ_GEMM_TILE_K],
                         const uint8_t w_code[SQ_ARRAY_COLS][GEMM_GROUPS],
                         const uint8_t gend[SQ_GEMM_TILE_K], uint32_t groups, gemm_acc_t *x)
{
compute_group:
    for (uint32_t g = 0; g < groups; g++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=128 /* GEMM_GROUPS */
#pragma HLS PIPELINE II=1
    compute_sp_row:
        for (uint32_t r = 0; r < SQ_ARRAY_ROWS; r++) {
        compute_sp_col:
            for (uint32_t c = 0; c < SQ_ARRAY_COLS; c++) {
                uint8_t code = w_code[c][g];
                int32_t prod = (int32_t)a_buf[r][4 * g + sq_sp24_pos(code, 0)] * w_buf[c][2 * g] +
                               (int32_t)a_buf[r][4 * g + sq_sp24_pos(code, 1)] * w_buf[c][2 * g + 1];
                int end = gend[4 * g] | gend[4 * g + 1] | gend[4 * g + 2] | gend[4 * g + 3];
                pe_step(0, &x->part[r][c], &x->acc[r][c], prod, end, 0);
            }
        }
    }
}

static void store_c(SQ_GLOBAL uint8_t *mem, const sq_gemm_desc_t *d, uint32_t m0, uint32_t n0,
                  const int32_t acc[SQ_ARRAY_ROWS][SQ_ARRAY_COLS],
                  const int32_t bias[SQ_ARRAY_COLS], const sq_quant_t quant[SQ_ARRAY_COLS])
{
store_row:
    for (uint32_t r = 0; r < SQ_ARRAY_ROWS; r++) {
    store_col:
        for (uint32_t c = 0; c < SQ_ARRAY_COLS; c++) {
#pragma HLS PIPELINE II=1
            uint32_t m = m0 + r, n = n0 + c;
            if (m >= d->m || n >= d->n)
                continue;
            int32_t v = sq_epilogue(d->flags, acc[r][c], bias[c], quant[c]);
            uint64_t at = (uint64_t)m * d->n + n;
            if (d->flags & SQ_GEMM_OUT32)
                sq_mem_st32(mem + d->c + 4u * at, (uint32_t)v);
            else
                mem[d->c + at] = (uint8_t)v;
        }
    }
}

static void gemm_run(SQ_GLOBAL uint8_t *mem, const sq_gemm_desc_t *d)
{
    int8_t a_buf[SQ_ARRAY_ROWS][SQ_GEMM_TILE_K];
    int8_t w_buf[SQ_ARRAY_COLS][SQ_GEMM_TILE_K];
    uint8_t w_code[SQ_ARRAY_COLS][GEMM_GROUPS];
    uint8_t gend[SQ_GEMM_TILE_K];
    uint16_t gs_buf[SQ_ARRAY_COLS][SQ_GEMM_TILE_K];
    gemm_acc_t x;
    int32_t bias[SQ_ARRAY_COLS];
    sq_quant_t quant[SQ_ARRAY_COLS];
    /* One bank per PE row/column; k banked by 4 so a 2:4 group's four A values
     * (and its two kept W values) are read in one cycle. */
#pragma HLS ARRAY_PARTITION variable=a_buf complete dim=1
#pragma HLS ARRAY_PARTITION variable=a_buf cyclic factor=4 dim=2
#pragma HLS ARRAY_PARTITION variable=w_buf complete dim=1
#pragma HLS ARRAY_PARTITION variable=w_buf cyclic factor=2 dim=2
#pragma HLS ARRAY_PARTITION variable=w_code complete dim=1
#pragma HLS ARRAY_PARTITION variable=gs_buf complete dim=1
#pragma HLS ARRAY_PARTITION variable=x.part complete dim=0
#pragma HLS ARRAY_PARTITION variable=x.acc complete dim=0
#pragma HLS ARRAY_PARTITION variable=bias complete dim=1
#pragma HLS ARRAY_PARTITION variable=quant complete dim=1
    int sparse = (d->flags & SQ_GEMM_SP24) != 0;
    int scaled = (d->flags & SQ_GEMM_GSCALE) != 0;
tile_n:
    for (uint32_t n0 = 0; n0 < d->n; n0 += SQ_ARRAY_COLS) {
        load_epi(mem, d, n0, bias, quant);
    tile_m:
        for (uint32_t m0 = 0; m0 < d->m; m0 += SQ_ARRAY_ROWS) {
        acc_clear:
            for (uint32_t r = 0; r < SQ_ARRAY_ROWS; r++) {
#pragma HLS UNROLL
            acc_clear_col:
                for (uint32_t c = 0; c < SQ_ARRAY_COLS; c++) {
                    x.part[r][c] = 0;
                    x.acc[r][c] = 0;
                }
            }
        tile_k:
            for (uint32_t k0 = 0; k0 < d->k; k0 += SQ_GEMM_TILE_K) {
                uint32_t left = d->k - k0;
                uint32_t kn = left < SQ_GEMM_TILE_K ? left : SQ_GEMM_TILE_K;
                uint32_t kspan = (kn + 3u) & ~3u;
                load_a(mem, d, m0, k0, kspan, a_buf);
                load_w(mem, d, n0, k0, kspan, w_buf, w_code);
                load_gs(mem, d, n0, k0, kspan, gend, gs_buf);
                if (sparse)
                    compute_sp24(a_buf, w_buf, w_code, gend, kspan / 4, &x);
                else
                    compute_dense(a_buf, w_buf, gend, gs_buf, scaled, kspan, &x);
            }
            store_c(mem, d, m0, n0, x.acc, bias, quant);
        }
    }
}
