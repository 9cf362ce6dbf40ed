/* Host-side descriptor rules: operand sizes, validation against a device, and
 * the work a descriptor does. The word packing itself is in
 * include/sparq/desc.h (shared with the HLS kernels).
 *
 * Validation rules, the same for every level (the device checks a whole
 * stream before any level runs it, so every level fails identically):
 * - the opcode is known (SQ_OP_NOP does nothing; new units add a case in
 *   desc.c for each function below);
 * - GEMM: flags within SQ_GEMM_FLAGS_ALL and not W4 together with SP24;
 *   1 <= m, n, k <= SQ_GEMM_MAX_DIM. A zero dimension is an error, not a no-op:
 *   the compiler never emits empty work, so a zero almost always means a
 *   packing bug or uninitialised memory, and the empty K case (C = bias) has
 *   no hardware meaning;
 * - every operand the flags use lies inside device memory; bias, quant and an
 *   int32 C are 4-byte aligned (word accesses on the AXI port);
 * - C overlaps neither an input nor the command stream, so tiled and untiled
 *   levels cannot produce different bits;
 * - the quant entries have mult >= 1 and shift <= SQ_SHIFT_MAX and every 2:4
 *   position code has first < second (data checks, read from the device);
 * - ATTN: flags within SQ_ATTN_FLAGS_ALL and the shape within the limits of
 *   sq_attn_check_shape (include/sparq/attn.h); every operand in memory, QUANT
 *   4-byte aligned, O overlapping no input and not the command stream; every
 *   head's quant entry in range (read from the device);
 * - VEC: function, flags and shape within sq_vec_check_shape
 *   (include/sparq/vec.h), strides and addresses 4-byte aligned where the
 *   elements are words, every operand (its span over rows and segments)
 *   inside memory, no output overlapping another operand or the stream;
 *   per-channel {mult, shift} entries with mult >= 0, shift <= 62 and GATHER
 *   token ids below its row count (read from the device).
 * And the stream rules of the header (spec.h), on the copy of the stream the
 * units will see (position patches applied):
 * - patches target a word of the descriptor body (a wide one two words), and
 *   no dependency reaches before the stream's first descriptor;
 * - two descriptors of different units that touch the same bytes, one of
 *   them writing, are ordered by a chain of dependencies (and each unit's
 *   in-order execution); otherwise a command processor that overlaps units
 *   could compute something else than the stream's sequential meaning;
 * - no descriptor writes a constant operand (GEMM weights, metadata, bias,
 *   quant; the attention and vector tables), which a unit may read ahead of
 *   its dependencies and whose values were checked before the stream ran
 *   (the fuzzer found a GEMM writing a later attention call's quant table out
 *   of range, which the golden then refused and the HLS kernel ran with). */
#ifndef SQ_RUNTIME_DESC_H
#define SQ_RUNTIME_DESC_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/device.h"
#include "sparq/attn.h"
#include "sparq/desc.h"
#include "sparq/vec.h"

/* The units behind a command processor, and the unit of an opcode (-1 for
 * SQ_OP_NOP and unknown opcodes). */
typedef enum { SQ_UNIT_GEMM, SQ_UNIT_ATTN, SQ_UNIT_VEC, SQ_UNIT_COUNT } sq_unit_t;
int sq_desc_unit(uint32_t opcode);

/* One operand of a descriptor: its device bytes [addr, addr + len) (len 0
 * when the flags leave it unused), the alignment a unit needs, and its role:
 * read, read and never written by the stream (weights: a unit may fetch them
 * before its dependencies are met), or the output. */
typedef enum { SQ_OPND_IN, SQ_OPND_CONST, SQ_OPND_OUT } sq_opnd_role_t;
typedef struct {
    const char *name;
    uint64_t addr, len;
    unsigned align;
    sq_opnd_role_t role;
} sq_operand_t;

#define SQ_DESC_MAX_OPERANDS 8
/* The operands of a descriptor, its outputs last; 0 for SQ_OP_NOP and unknown
 * opcodes. */
size_t sq_desc_operands(const uint8_t *desc, sq_operand_t ops[SQ_DESC_MAX_OPERANDS]);

/* The header rules of one descriptor (patch words, dependencies that can be
 * met). Returns 0 or SQ_ERR_FMT naming the descriptor. */
int sq_desc_check_header(const uint8_t *desc, uint32_t index);
/* The ordering rules above over a whole stream of n descriptors (checked
 * one by one first). Returns 0 or SQ_ERR_FMT naming the descriptors. */
int sq_stream_check(const uint8_t *descs, uint32_t n);

/* Bytes of each GEMM operand; 0 for operands the flags do not use. */
typedef struct {
    uint64_t a, w, meta, bias, quant, c, gscale;
} sq_gemm_bytes_t;

void sq_gemm_desc_bytes(const sq_gemm_desc_t *d, sq_gemm_bytes_t *b);

/* Useful multiply-accumulates: m*n*k dense or int4; with 2:4 only the kept
 * positions that fall inside k (2 per full group of 4). */
uint64_t sq_gemm_desc_macs(const sq_gemm_desc_t *d);

/* Checks flags and shape only. Returns 0 or SQ_ERR_FMT with the reason. */
int sq_gemm_desc_check_shape(const sq_gemm_desc_t *d);

/* Checks the fields of one GEMM descriptor against a device memory of
 * mem_bytes (no data reads). Returns 0 or SQ_ERR_FMT with the reason. */
int sq_gemm_desc_check(const sq_gemm_desc_t *d, uint64_t mem_bytes);
/* Part j of `parts` (compute unit j of a group, docs/accelerator.md):
 * with m == 1 (decode) along N, the first n % parts parts one column more
 * than n / parts, each with its slices of W, META, BIAS, QUANT, GSCALE and
 * of C (a column slice of a one-row C is contiguous; the descriptor has no
 * output row stride); with m > 1 along M, rows of A and C, each part
 * reading all of W. Returns 0 for an empty part (parts larger than the
 * dimension split), else 1 with *out filled and out->cu = j. */
int sq_gemm_desc_split(const sq_gemm_desc_t *d, uint32_t parts, uint32_t j, sq_gemm_desc_t *out);

/* Checks descriptor `index` of a stream occupying device bytes
 * [cmd_lo, cmd_hi): fields, overlap with the stream, and the data rules above
 * (reads quant and 2:4 metadata from dev). Returns 0 or SQ_ERR_FMT naming the
 * descriptor. */
int sq_desc_check(sq_dev_t *dev, const uint8_t *desc, uint32_t index, uint64_t mem_bytes,
                  uint64_t cmd_lo, uint64_t cmd_hi);

/* Bytes of each VEC operand from its base address (0 when unused). */
typedef struct {
    uint64_t in, in2, out, chan, rec_in, rec_out, tab;
} sq_vec_bytes_t;

void sq_vec_desc_bytes(const sq_vec_desc_t *d, sq_vec_bytes_t *b);

/* Checks one VEC descriptor's fields against a device memory of mem_bytes
 * (no data reads). Returns 0 or SQ_ERR_FMT with the reason. */
int sq_vec_desc_check(const sq_vec_desc_t *d, uint64_t mem_bytes);

/* The golden reference's view of a VEC descriptor over a memory image. */
void sq_vec_desc_view(const sq_vec_desc_t *d, uint8_t *mem, sq_vec_t *v);

/* Bytes of each ATTN operand; mask is 0 without SQ_ATTN_BLOCK. */
typedef struct {
    uint64_t q, k, v, mask, quant, o;
} sq_attn_bytes_t;

void sq_attn_desc_bytes(const sq_attn_desc_t *d, sq_attn_bytes_t *b);

/* The golden reference's view of a descriptor over a memory image (mem
 * NULL: shape and flags only, pointers NULL). */
void sq_attn_desc_view(const sq_attn_desc_t *d, uint8_t *mem, sq_attn_t *a);

/* Checks the fields of one ATTN descriptor against a device memory of
 * mem_bytes (no data reads). Returns 0 or SQ_ERR_FMT with the reason. */
int sq_attn_desc_check(const sq_attn_desc_t *d, uint64_t mem_bytes);

/* Attention work depends on the block bitmap, so levels add it themselves
 * (sq_desc_work skips ATTN): macs for every scored and every selected pair
 * (head_dim each), bytes for Q, QUANT, MASK, the K rows scored, the V rows
 * selected, and O. mask is the host copy of MASK (NULL without BLOCK). */
void sq_attn_desc_work(const sq_attn_desc_t *d, const uint8_t *mask, sq_dev_stats_t *add);

/* Adds what one valid descriptor does to a level's counters: macs and the
 * operand/result bytes (each operand counted once). */
void sq_desc_work(const uint8_t *desc, sq_dev_stats_t *add);
/* sq_desc_work, and for ATTN sq_attn_desc_work with its block bitmap read
 * from device memory by read(ctx, addr, dst, n) (0 or an error code): the
 * work of one descriptor of a run, for a level or the device. Returns 0,
 * SQ_ERR_MEM or read's error. */
int sq_desc_work_read(const uint8_t *desc, int (*read)(void *ctx, uint64_t addr, void *dst, size_t n),
                      void *ctx, sq_dev_stats_t *add);

#endif
