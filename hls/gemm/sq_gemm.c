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
 *     compute  every PE: acc += a * w, one k step (dense) or one 2:4 group
 *              (two kept values, the zeros are never multiplied) per cycle
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

static void compute_dense(const int8_t a_buf[SQ_ARRAY_ROWS][SQ_GEMM_TILE_K],
                          const int8_t w_buf[SQ_ARRAY_COLS][SQ_GEMM_TILE_K], uint32_t kspan,
                          int32_t acc[SQ_ARRAY_ROWS][SQ_ARRAY_COLS])
{
compute_k:
    for (uint32_t t = 0; t < kspan; t++) {
#pragma HLS LOOP_TRIPCOUNT min=1 max=512 /* SQ_GEMM_TILE_K */
#pragma HLS PIPELINE II=1
    compute_row:
        for (uint32_t r = 0; r < SQ_ARRAY_ROWS; r++) {
        compute_col:
            for (uint32_t c = 0; c < SQ_ARRAY_COLS; c++)
                acc[r][c] = sq_mac(acc[r][c], a_buf[r][t], w_buf[c][t]);
        }
    }
}

/* One 2:4 group per cycle: each PE muxes its two kept positions out of the
 * group's four A values (a_buf is banked by 4 along k) and does two MACs. */
static void compute_sp24(const int8_t a_buf[SQ_ARRAY_ROWS][SQ_GEMM_TILE_K],
                         const int8_t w_buf[SQ_ARRAY_COLS][SQ_GEMM_TILE_K],
                         const uint8_t w_code[SQ_ARRAY_COLS][GEMM_GROUPS], uint32_t groups,
                         int32_t acc[SQ_ARRAY_ROWS][SQ_ARRAY_COLS])
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
                int32_t v = sq_mac(acc[r][c], a_buf[r][4 * g + sq_sp24_pos(code, 0)],
                                   w_buf[c][2 * g]);
                acc[r][c] = sq_mac(v, a_buf[r][4 * g + sq_sp24_pos(code, 1)], w_buf[c][2 * g + 1]);
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
    int32_t acc[SQ_ARRAY_ROWS][SQ_ARRAY_COLS];
    int32_t bias[SQ_ARRAY_COLS];
    sq_quant_t quant[SQ_ARRAY_COLS];
    /* One bank per PE row/column; k banked by 4 so a 2:4 group's four A values
     * (and its two kept W values) are read in one cycle. */
#pragma HLS ARRAY_PARTITION variable=a_buf complete dim=1
#pragma HLS ARRAY_PARTITION variable=a_buf cyclic factor=4 dim=2
#pragma HLS ARRAY_PARTITION variable=w_buf complete dim=1
#pragma HLS ARRAY_PARTITION variable=w_buf cyclic factor=2 dim=2
#pragma HLS ARRAY_PARTITION variable=w_code complete dim=1
#pragma HLS ARRAY_PARTITION variable=acc complete dim=0
#pragma HLS ARRAY_PARTITION variable=bias complete dim=1
#pragma HLS ARRAY_PARTITION variable=quant complete dim=1
    int sparse = (d->flags & SQ_GEMM_SP24) != 0;
tile_n:
    for (uint32_t n0 = 0; n0 < d->n; n0 += SQ_ARRAY_COLS) {
        load_epi(mem, d, n0, bias, quant);
    tile_m:
        for (uint32_t m0 = 0; m0 < d->m; m0 += SQ_ARRAY_ROWS) {
        acc_clear:
            for (uint32_t r = 0; r < SQ_ARRAY_ROWS; r++) {
#pragma HLS UNROLL
            acc_clear_col:
                for (uint32_t c = 0; c < SQ_ARRAY_COLS; c++)
                    acc[r][c] = 0;
            }
        tile_k:
            for (uint32_t k0 = 0; k0 < d->k; k0 += SQ_GEMM_TILE_K) {
                uint32_t left = d->k - k0;
                uint32_t kn = left < SQ_GEMM_TILE_K ? left : SQ_GEMM_TILE_K;
                uint32_t kspan = (kn + 3u) & ~3u;
                load_a(mem, d, m0, k0, kspan, a_buf);
                load_w(mem, d, n0, k0, kspan, w_buf, w_code);
                if (sparse)
                    compute_sp24(a_buf, w_buf, w_code, kspan / 4, acc);
                else
                    compute_dense(a_buf, w_buf, kspan, acc);
            }
            store_c(mem, d, m0, n0, acc, bias, quant);
        }
    }
}
