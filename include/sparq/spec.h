/* sparq hardware spec: the one command format, register map and buffer sizes.
 *
 * Included by the host (compiler, runtime), the HLS kernels, the Verilator
 * harness and the tests; the RTL package rtl/common/sq_spec_pkg.sv is generated from
 * this file (build/specgen) and a test checks that the committed copy matches.
 * C11 and <stdint.h> only, so Vitis HLS can read it too. Every size derives
 * from the few *_LOG2 settings below (as in VTA's hw_spec.h). */
#ifndef SPARQ_SPEC_H
#define SPARQ_SPEC_H

#ifdef __OPENCL_C_VERSION__
#include "opencl_c.h"
#else
#include <stdint.h>
/* Address spaces of the one kernel source (the hls/ kernels and the inline
 * rules of numerics.h, attn.h and desc.h). C has one; OpenCL C 1.2 gives
 * device memory, read-only tables and kernel tops their own (opencl_c.h). */
#define SQ_GLOBAL   /* a pointer into device memory */
#define SQ_CONSTANT /* a program-scope read-only table */
#define SQ_KERNEL   /* a kernel top */
#endif

/* ---------------------------------------------------------------------------
 * Array geometry. Overridable at compile time (-DSQ_ARRAY_ROWS_LOG2=3 ...). */
#ifndef SQ_ARRAY_ROWS_LOG2
#define SQ_ARRAY_ROWS_LOG2 4
#endif
#ifndef SQ_ARRAY_COLS_LOG2
#define SQ_ARRAY_COLS_LOG2 4
#endif
#define SQ_ARRAY_ROWS (1u << SQ_ARRAY_ROWS_LOG2) /* R */
#define SQ_ARRAY_COLS (1u << SQ_ARRAY_COLS_LOG2) /* C */
/* int8 MACs per PE per cycle (two multipliers into one accumulator; a 2:4
 * step uses both on the two kept weights of a group): the array's peak is
 * SQ_ARRAY_ROWS * SQ_ARRAY_COLS * SQ_PE_MACS MACs per cycle. */
#define SQ_PE_MACS 2u

/* ---------------------------------------------------------------------------
 * AXI4-Lite control registers: the Vitis ap_ctrl_hs map, so the RTL kernel can
 * be packaged as a Vitis RTL kernel and the HLS top uses the same offsets in
 * its `s_axilite offset=` pragmas. */
#define SQ_REG_CTRL      0x00u /* bit0 ap_start, bit1 ap_done (COR), bit2 ap_idle, bit3 ap_ready */
#define SQ_REG_GIE       0x04u /* global interrupt enable */
#define SQ_REG_IER       0x08u /* bit0 done, bit1 ready */
#define SQ_REG_ISR       0x0Cu /* bit0 done, bit1 ready (toggle on write) */
#define SQ_REG_MEM_LO    0x10u /* m_axi base of device memory, added to every descriptor */
#define SQ_REG_MEM_HI    0x14u /*   address; 0 in simulation, XRT's buffer on a card */
#define SQ_REG_CMD_LO    0x1Cu /* device address of the first descriptor */
#define SQ_REG_CMD_HI    0x20u
#define SQ_REG_NCMD      0x28u /* number of descriptors to execute */
#define SQ_REG_CYCLES_LO 0x30u /* read-only: cycles from ap_start to ap_done */
#define SQ_REG_CYCLES_HI 0x34u
#define SQ_REG_STALL_LO  0x38u /* read-only: cycles the compute waited on memory */
#define SQ_REG_STALL_HI  0x3Cu
/* Run arguments of a command processor (SQ_REG_POS0 + 4 i, i < SQ_RUN_POS):
 * the positions that descriptor patches add (see "Stream header" below). A
 * unit kernel without a command processor ignores them. */
#define SQ_REG_POS0      0x40u
#define SQ_RUN_POS       8u
/* The command processor kernel (sq_accel_top; docs/accelerator.md) adds: */
#define SQ_REG_PROF_LO   0x60u /* device address of the profile records below (0: none) */
#define SQ_REG_PROF_HI   0x64u
#define SQ_REG_CP_STATUS 0x68u /* read-only: SQ_CP_ERR_* of the last run (0: clean) */
#define SQ_REG_CP_ERR_DESC 0x6Cu /* read-only: the descriptor that error names */
#define SQ_REG_CP_RBYTES_LO 0x70u /* read-only: bytes the command processor's own */
#define SQ_REG_CP_RBYTES_HI 0x74u /*   port read (descriptors) and wrote (profile */
#define SQ_REG_CP_WBYTES_LO 0x78u /*   records) in the last run */
#define SQ_REG_CP_WBYTES_HI 0x7Cu
/* Per-unit counters of the last run, read-only: unit u (SQ_CP_UNIT_OF) at
 * SQ_REG_UNIT0 + u * SQ_REG_UNIT_STRIDE + one of the offsets below, each a
 * 64-bit value (low word first). Busy cycles count from the cycle a unit
 * accepts a descriptor through the cycle it reports it done; stall cycles
 * are the unit's own (waiting on memory); bytes are those of the unit's
 * AXI4 port (read: 64 per beat, written: strobed bytes). A slot without a
 * unit reads 0. */
#define SQ_REG_UNIT0       0x80u
#define SQ_REG_UNIT_STRIDE 0x20u
#define SQ_REG_UNIT_BUSY   0x00u
#define SQ_REG_UNIT_STALL  0x08u
#define SQ_REG_UNIT_RBYTES 0x10u
#define SQ_REG_UNIT_WBYTES 0x18u

#define SQ_CTRL_START (1u << 0)
#define SQ_CTRL_DONE  (1u << 1)
#define SQ_CTRL_IDLE  (1u << 2)
#define SQ_CTRL_READY (1u << 3)

/* ---------------------------------------------------------------------------
 * Command descriptors. A command stream is an array of descriptors in device
 * memory, each SQ_DESC_WORDS little-endian 32-bit words. Word 0 is the stream
 * header below for every unit; words 1 .. SQ_DESC_W_PATCH0 - 1 are laid out
 * per opcode; the last two words are the header's position patches. 64-bit
 * device addresses take two words, low word first. */
#define SQ_DESC_WORDS_LOG2 5
#define SQ_DESC_WORDS (1u << SQ_DESC_WORDS_LOG2)
#define SQ_DESC_BYTES (SQ_DESC_WORDS * 4u)

/* Stream header, word 0:
 *   bits [7:0]    opcode (SQ_OP_*): the unit that runs the descriptor
 *   bits [15:8]   dep0 \ each 0 (none) or a distance d >= 1: this descriptor
 *   bits [23:16]  dep1  } starts only after descriptor (index - d) of the same
 *   bits [31:24]  dep2 /  stream has completed
 * Semantics: a stream computes what executing its descriptors one at a time
 * in stream order computes. A command processor may overlap descriptors of
 * different units, so the compiler gives a descriptor a dependency on every
 * earlier descriptor of another unit whose writes it reads or overwrites, or
 * that reads what it writes (descriptors of one unit run in order among
 * themselves, so a dependency on the latest such descriptor covers the
 * earlier ones). A dependency before the stream's first descriptor can never
 * be met and is an error. The runtime checks both rules before a run
 * (host/runtime/desc.h). A unit kernel without a command processor reads only
 * the opcode byte.
 *
 * Position patches, words SQ_DESC_W_PATCH0 and SQ_DESC_W_PATCH1:
 *   bits [5:0]    word index w in 1 .. SQ_DESC_W_PATCH0 - 1 (0: no patch)
 *   bit  [6]      wide: words (w, w+1) hold a 64-bit value (an address)
 *   bit  [7]      reserved, 0
 *   bits [10:8]   position argument i (< SQ_RUN_POS)
 *   bits [31:11]  multiplier u (unsigned)
 * Before dispatch, the command processor adds pos[i] * u to the word (modulo
 * 2^32) or to the 64-bit value (modulo 2^64). This is how one stream, written
 * once, serves every decode step: a KV-cache append address, an attention
 * length or a RoPE table row moves with the position the host passes at
 * launch (SQ_REG_POS0), instead of the host rewriting descriptors. */
#define SQ_DESC_OP_MASK    0xFFu
#define SQ_DESC_DEPS       3u
#define SQ_DESC_DEP_SHIFT  8u  /* dep i at bits [8 + 8 i, 15 + 8 i] */
#define SQ_DESC_W_PATCH0   30u
#define SQ_DESC_W_PATCH1   31u
#define SQ_DESC_PATCHES    2u
#define SQ_PATCH_WORD_MASK 0x3Fu
#define SQ_PATCH_WIDE      (1u << 6)
#define SQ_PATCH_POS_SHIFT 8u
#define SQ_PATCH_POS_MASK  0x7u
#define SQ_PATCH_MULT_SHIFT 11u
#define SQ_PATCH_MULT_MAX  ((1u << 21) - 1u)

#define SQ_OP_NOP  0u
#define SQ_OP_GEMM 1u
#define SQ_OP_ATTN 2u
#define SQ_OP_VEC  3u

/* ---------------------------------------------------------------------------
 * Command processor (sq_accel_top, hls/cp; docs/accelerator.md). Unit slots:
 * opcode op (1 .. SQ_CP_UNITS) runs on slot op - 1 (GEMM 0, ATTN 1, and the
 * vector unit's opcode 3 on slot 2); a kernel need not fill every slot. It
 * fetches the stream in order, applies the position patches, and starts a
 * descriptor on its unit once the descriptors it depends on have completed;
 * each unit runs its own in order. A descriptor it cannot run stops the run
 * cleanly: nothing past it is dispatched, what was dispatched completes,
 * ap_done rises, and SQ_REG_CP_STATUS / SQ_REG_CP_ERR_DESC say why. */
#define SQ_CP_UNITS 3u
#define SQ_CP_UNIT_OF(op) ((op) - 1u)
/* GEMM compute units: a kernel has U of them (sq_accel_top's parameter U,
 * 1 .. SQ_GEMM_CUS_MAX), each with its own AXI4 master on its own memory
 * channel. A GEMM descriptor runs on the unit its word SQ_GEMM_W_CU names
 * (0 .. U - 1; a larger one is SQ_CP_ERR_UNIT). Unit 0 is slot 0; unit
 * c >= 1 is slot SQ_CP_UNITS + c - 1 (sq_cp_gemm_slot). Each runs its own
 * descriptors in order and the units run concurrently. A dependency on GEMM
 * descriptor j waits for every GEMM descriptor up to j, on every unit: one
 * dependency on the last of a group of GEMMs split across the units waits
 * for the whole group (docs/accelerator.md, "Compute units"). The per-unit
 * counters of slot 0 (SQ_REG_UNIT0) add up every GEMM unit's. */
#define SQ_GEMM_CUS_MAX 8u
#define SQ_CP_SLOTS_MAX (SQ_CP_UNITS + SQ_GEMM_CUS_MAX - 1u)
#define SQ_CP_GEMM_SLOT(cu) ((cu) ? SQ_CP_UNITS + (cu) - 1u : 0u)
#define SQ_CP_ERR_NONE  0u
#define SQ_CP_ERR_UNIT  1u /* an opcode for no unit of this kernel */
#define SQ_CP_ERR_PATCH 2u /* a position patch targets no descriptor body word */
#define SQ_CP_ERR_DEP   3u /* a dependency before the stream's first descriptor */

/* Profile records: with SQ_REG_PROF set, the command processor writes one
 * record of SQ_PROF_BYTES at SQ_REG_PROF + SQ_PROF_BYTES * i for each
 * descriptor i that ran on a unit (NOPs get none), little-endian words: */
#define SQ_PROF_BYTES     64u
#define SQ_PROF_W_OPCODE  0u  /* the descriptor's opcode byte */
#define SQ_PROF_W_DISPATCH 2u /* 64-bit cycle it entered its unit's queue */
#define SQ_PROF_W_START   4u  /* 64-bit cycle its unit accepted it */
#define SQ_PROF_W_END     6u  /* 64-bit cycle its unit reported it done */
#define SQ_PROF_W_STALL   8u  /* 64-bit stall cycles of the unit in [start, end] */
#define SQ_PROF_W_RBYTES  10u /* 64-bit bytes read on the unit's port since its */
                              /*   previous descriptor (a GEMM's prefetch too) */
#define SQ_PROF_W_WBYTES  12u /* 64-bit bytes written on the unit's port */
/* Cycles count from the first cycle after ap_start (sq_ctrl's counter). */

/* GEMM: C[m][n] = epilogue(sum_k A[m][k] * W[n][k] + bias[n]).
 *   A    int8 (m, k) row-major
 *   W    int8 (n, k); or int4 packed (n, ceil(k/2)) when SQ_GEMM_W4;
 *        or 2:4 values int8 (n, 2*ceil(k/4)) when SQ_GEMM_SP24
 *   META 2:4 positions (n, ceil(ceil(k/4)/2)) bytes, only with SQ_GEMM_SP24
 *   BIAS int32 (n), only with SQ_GEMM_BIAS
 *   QUANT per output channel {int32 mult, uint32 shift} (n), unless SQ_GEMM_OUT32
 *   C    int8 (m, n), or int32 (m, n) when SQ_GEMM_OUT32
 *   GSCALE uint16 (n, ceil(k / group)), only with SQ_GEMM_GSCALE (2-byte aligned)
 * Layouts of int4 and 2:4 are documented in include/sparq/numerics.h.
 * A valid GEMM descriptor (the host checks every one before a run, see
 * host/runtime/desc.h) has 1 <= m, n, k <= SQ_GEMM_MAX_DIM, BIAS, QUANT and
 * an int32 C 4-byte aligned, and a C that overlaps no input. */
enum {
    SQ_GEMM_W_OPCODE = 0,
    SQ_GEMM_W_FLAGS = 1,
    SQ_GEMM_W_M = 2,
    SQ_GEMM_W_N = 3,
    SQ_GEMM_W_K = 4,
    SQ_GEMM_W_GROUP = 5,
    SQ_GEMM_W_A_LO = 6,
    SQ_GEMM_W_A_HI = 7,
    SQ_GEMM_W_W_LO = 8,
    SQ_GEMM_W_W_HI = 9,
    SQ_GEMM_W_META_LO = 10,
    SQ_GEMM_W_META_HI = 11,
    SQ_GEMM_W_BIAS_LO = 12,
    SQ_GEMM_W_BIAS_HI = 13,
    SQ_GEMM_W_QUANT_LO = 14,
    SQ_GEMM_W_QUANT_HI = 15,
    SQ_GEMM_W_C_LO = 16,
    SQ_GEMM_W_C_HI = 17,
    SQ_GEMM_W_GSCALE_LO = 18,
    SQ_GEMM_W_GSCALE_HI = 19,
    SQ_GEMM_W_CU = 20
};

#define SQ_GEMM_W4    (1u << 0) /* weights are packed signed int4 */
#define SQ_GEMM_SP24  (1u << 1) /* weights are 2:4 structured sparse int8 */
#define SQ_GEMM_RELU  (1u << 2) /* clamp outputs at 0 */
#define SQ_GEMM_OUT32 (1u << 3) /* write int32 accumulators, no requantization */
#define SQ_GEMM_BIAS  (1u << 4) /* add int32 bias before the epilogue */
/* Per-group weight scales (int4 with one scale per `group` inputs): GSCALE
 * holds uint16 Q15 factors gs (n, ceil(k / group)) row-major, and
 *   acc_j = sum_g sq_rshift_round((int64)p_g * gs[j][g], 15)   (wrapping sum)
 * with p_g the int32 partial sum of group g (inputs [g group, (g+1) group)),
 * before bias and epilogue. group (word SQ_GEMM_W_GROUP) is k or a power of
 * two in [SQ_GEMM_GROUP_MIN, k] (what the GEMM units implement: a group
 * closes at the end of an array step, docs/gemm_rtl.md), with int8 or int4
 * weights (not SP24, whose position codes take the buffers the factors use). */
#define SQ_GEMM_GSCALE (1u << 5)
#define SQ_GEMM_GROUP_MIN 32u
/* Flags of the first GEMM unit. GSCALE came later: the runtime accepts it
 * only on a level that declares it (SQ_LEVEL_CAP_GSCALE,
 * host/runtime/device.h). */
#define SQ_GEMM_FLAGS_ALL 0x1Fu

/* Hardware limits the compiler tiles to and the kernels check. */
#define SQ_GEMM_MAX_DIM_LOG2 16 /* m, n, k each at most 65536 */
#define SQ_GEMM_MAX_DIM (1u << SQ_GEMM_MAX_DIM_LOG2)

/* On-chip GEMM operand buffers: A and W are staged in chunks of SQ_GEMM_TILE_K
 * along k (R x TILE_K and C x TILE_K int8); a multiple of 4 so a 2:4 group
 * never straddles two chunks. */
#ifndef SQ_GEMM_TILE_K_LOG2
#define SQ_GEMM_TILE_K_LOG2 9
#endif
#define SQ_GEMM_TILE_K (1u << SQ_GEMM_TILE_K_LOG2)

/* ATTN: one attention call for `heads` query heads over `seq` keys.
 *   Q     int8 (heads, queries, head_dim); query i sits at position
 *         seq - queries + i (prefill: queries = seq; decode: queries = 1)
 *   K, V  int8 (kv_heads, kv_cap, head_dim): a KV cache of kv_cap rows per
 *         head of which the first seq are valid; query head h reads KV head
 *         h / (heads / kv_heads) (grouped-query attention)
 *   MASK  block bitmap, only with SQ_ATTN_BLOCK: nb rows of
 *         SQ_ATTN_MASK_ROW_BYTES with nb = ceil(seq / SQ_ATTN_BLK); bit
 *         (kb % 8) of byte kb/8 of row qb lets query block qb see key block
 *         kb. The fixed row stride keeps a bitmap valid as a KV cache grows.
 *   QUANT per query head sq_attn_quant_t {s_mult, s_shift, o_mult, o_shift}
 *   O     int8 (heads, queries, head_dim)
 * The arithmetic and the pattern rules are in include/sparq/attn.h. */
enum {
    SQ_ATTN_W_OPCODE = 0,
    SQ_ATTN_W_FLAGS = 1,
    SQ_ATTN_W_SEQ = 2,
    SQ_ATTN_W_QUERIES = 3,
    SQ_ATTN_W_HEADS = 4,
    SQ_ATTN_W_KV_HEADS = 5,
    SQ_ATTN_W_HEAD_DIM = 6,
    SQ_ATTN_W_KV_CAP = 7,
    SQ_ATTN_W_WINDOW = 8,
    SQ_ATTN_W_GLOBAL = 9,
    SQ_ATTN_W_TOPK = 10,
    SQ_ATTN_W_Q_LO = 12,
    SQ_ATTN_W_Q_HI = 13,
    SQ_ATTN_W_K_LO = 14,
    SQ_ATTN_W_K_HI = 15,
    SQ_ATTN_W_V_LO = 16,
    SQ_ATTN_W_V_HI = 17,
    SQ_ATTN_W_MASK_LO = 18,
    SQ_ATTN_W_MASK_HI = 19,
    SQ_ATTN_W_QUANT_LO = 20,
    SQ_ATTN_W_QUANT_HI = 21,
    SQ_ATTN_W_O_LO = 22,
    SQ_ATTN_W_O_HI = 23
};

#define SQ_ATTN_CAUSAL (1u << 0) /* key position <= query position */
#define SQ_ATTN_WINDOW (1u << 1) /* |query - key| < window */
#define SQ_ATTN_GLOBAL (1u << 2) /* the first n_global positions see and are seen by all */
#define SQ_ATTN_BLOCK  (1u << 3) /* block bitmap MASK */
#define SQ_ATTN_TOPK   (1u << 4) /* keep the topk largest scores of each query */
#define SQ_ATTN_FLAGS_ALL 0x1Fu

#define SQ_ATTN_MAX_SEQ_LOG2 12 /* seq (and kv_cap) at most 4096 */
#define SQ_ATTN_MAX_SEQ (1u << SQ_ATTN_MAX_SEQ_LOG2)
#define SQ_ATTN_MAX_DIM_LOG2 7 /* head_dim at most 128 */
#define SQ_ATTN_MAX_DIM (1u << SQ_ATTN_MAX_DIM_LOG2)
#define SQ_ATTN_MAX_HEADS 256u
#define SQ_ATTN_BLK_LOG2 5 /* block-sparse granularity B = 32 positions */
#define SQ_ATTN_BLK (1u << SQ_ATTN_BLK_LOG2)
#define SQ_ATTN_MAX_BLOCKS (SQ_ATTN_MAX_SEQ >> SQ_ATTN_BLK_LOG2)
#define SQ_ATTN_MASK_ROW_BYTES (SQ_ATTN_MAX_BLOCKS / 8u)
#define SQ_ATTN_QUANT_BYTES 16u /* one sq_attn_quant_t */

/* VEC: one vector-unit op over M rows (tokens) of N elements. The arithmetic
 * of every function is defined in include/sparq/vec.h (element rules) and
 * docs/integer_layer.md; this is the layout.
 *
 * Addressing. Element (m, j) of IN and OUT sits at
 *   base + m * stride + (j / seg) * seg_stride + (j % seg) * esize
 * (seg = 0 means seg = N: plain rows), so one op can read a column slice of
 * a wider GEMM output and write heads into a (heads, rows, head_dim) tensor
 * or into row `pos` of a KV cache (kv_heads, kv_cap, head_dim): out_stride =
 * head_dim, out_seg_stride = kv_cap * head_dim, and a position patch adds
 * pos * head_dim to OUT. IN2 is rows of N (SWIGLU: its second half) at
 * in2 + m * in2_stride + j * 4. Strides are bytes.
 *   IN      int32 (M, N): a GEMM accumulator with SQ_VEC_ACC, else int32
 *           fixed point; GATHER: M int32 token ids (contiguous); COPY: int8
 *           (M, N) (element size 1 in the addressing above)
 *   IN2     int32 (M, N): ADD's addend (fixed point), SWIGLU's up-projection
 *           accumulator
 *   OUT     int8 (ROPE, COPY, and with SQ_VEC_Q8) or int32 (M, N); ARGMAX: M
 *           int32
 *   CHAN    with SQ_VEC_ACC: per channel {int32 mult, uint32 shift} (N; 2N
 *           for SWIGLU: gate channels then up channels); NORM: int32 gains
 *           (N); GATHER: {mult, shift} per table row (P0 rows)
 *   REC_IN  with SQ_VEC_ACC: a per-row record {int32 mult, int32 shift} (M)
 *   REC_OUT with SQ_VEC_Q8: per-row record of the int8 output (M)
 *   TAB     ROPE with SQ_VEC_ROT: rows of (int16 cos, int16 sin) pairs,
 *           row m at tab + m * tab_stride; GATHER: int8 rows of N at
 *           tab + id * tab_stride; with SQ_VEC_BIAS: int32 bias (N)
 *   P0..P3  function parameters (vec.h, "Functions")
 * Records, CHAN and TAB entries are 4-byte aligned (TAB of GATHER 1-byte). */
enum {
    SQ_VEC_W_OPCODE = 0,
    SQ_VEC_W_FUNC = 1,
    SQ_VEC_W_FLAGS = 2,
    SQ_VEC_W_M = 3,
    SQ_VEC_W_N = 4,
    SQ_VEC_W_SEG = 5,
    SQ_VEC_W_IN_LO = 6,
    SQ_VEC_W_IN_HI = 7,
    SQ_VEC_W_IN_STRIDE = 8,
    SQ_VEC_W_IN_SEG_STRIDE = 9,
    SQ_VEC_W_IN2_LO = 10,
    SQ_VEC_W_IN2_HI = 11,
    SQ_VEC_W_IN2_STRIDE = 12,
    SQ_VEC_W_OUT_LO = 13,
    SQ_VEC_W_OUT_HI = 14,
    SQ_VEC_W_OUT_STRIDE = 15,
    SQ_VEC_W_OUT_SEG_STRIDE = 16,
    SQ_VEC_W_CHAN_LO = 17,
    SQ_VEC_W_CHAN_HI = 18,
    SQ_VEC_W_REC_IN_LO = 19,
    SQ_VEC_W_REC_IN_HI = 20,
    SQ_VEC_W_REC_OUT_LO = 21,
    SQ_VEC_W_REC_OUT_HI = 22,
    SQ_VEC_W_TAB_LO = 23,
    SQ_VEC_W_TAB_HI = 24,
    SQ_VEC_W_TAB_STRIDE = 25,
    SQ_VEC_W_P0 = 26,
    SQ_VEC_W_P1 = 27,
    SQ_VEC_W_P2 = 28,
    SQ_VEC_W_P3 = 29
};

/* Functions (word SQ_VEC_W_FUNC); vec.h defines each. */
#define SQ_VEC_GATHER 0u /* embedding rows of token ids -> int32 fixed point */
#define SQ_VEC_NORM   1u /* RMSNorm (LayerNorm with SQ_VEC_LN) */
#define SQ_VEC_ADD    2u /* residual add */
#define SQ_VEC_DEQ    3u /* accumulator -> int32 fixed point (logits) */
#define SQ_VEC_ROPE   4u /* Q, K (rotated) and V -> int8 at static scales */
#define SQ_VEC_SWIGLU 5u /* SiLU(gate) * up -> int8 + record */
#define SQ_VEC_GELU   6u /* GELU -> int8 + record */
#define SQ_VEC_QUANT  7u /* int32 -> int8 + record (dynamic per row) */
#define SQ_VEC_ARGMAX 8u /* index of the first maximum of each row */
#define SQ_VEC_COPY   9u /* int8 IN -> OUT: a layout change, e.g. attention heads to rows */
#define SQ_VEC_FUNCS  10u

/* Flags (word SQ_VEC_W_FLAGS). */
#define SQ_VEC_ACC  (1u << 0) /* IN is a GEMM accumulator: two-stage requantization */
#define SQ_VEC_Q8   (1u << 1) /* OUT int8 with a per-row record (dynamic scale) */
#define SQ_VEC_BIAS (1u << 2) /* add int32 bias (TAB) in output units */
#define SQ_VEC_LN   (1u << 3) /* NORM subtracts the row mean (LayerNorm) */
#define SQ_VEC_ROT  (1u << 4) /* ROPE rotates pairs by the TAB row */
#define SQ_VEC_FLAGS_ALL 0x1Fu

#define SQ_VEC_MAX_N_LOG2 16 /* N at most 65536 (the row buffer) */
#define SQ_VEC_MAX_N (1u << SQ_VEC_MAX_N_LOG2)
#define SQ_VEC_MAX_M SQ_GEMM_MAX_DIM
#define SQ_VEC_REC_BYTES 8u  /* one record */

#endif /* SPARQ_SPEC_H */
