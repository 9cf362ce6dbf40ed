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
 * - across a stream (sq_desc_check_stream): no output (GEMM C, ATTN O)
 *   overlaps the QUANT or META of a later descriptor, since those were
 *   checked before the stream ran (the fuzzer found a GEMM writing a later
 *   attention call's quant table out of range, which the golden then refused
 *   and the HLS kernel ran with). */
#ifndef SQ_RUNTIME_DESC_H
#define SQ_RUNTIME_DESC_H

#include <stdint.h>

#include "runtime/device.h"
#include "sparq/attn.h"
#include "sparq/desc.h"

/* Bytes of each GEMM operand; 0 for operands the flags do not use. */
typedef struct {
    uint64_t a, w, meta, bias, quant, c;
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

/* Checks descriptor `index` of a stream occupying device bytes
 * [cmd_lo, cmd_hi): fields, overlap with the stream, and the data rules above
 * (reads quant and 2:4 metadata from dev). Returns 0 or SQ_ERR_FMT naming the
 * descriptor. */
int sq_desc_check(sq_dev_t *dev, const uint8_t *desc, uint32_t index, uint64_t mem_bytes,
                  uint64_t cmd_lo, uint64_t cmd_hi);

/* The stream rule above over n validated descriptors (cmds, back to back).
 * Returns 0 or SQ_ERR_FMT naming both descriptors. */
int sq_desc_check_stream(const uint8_t *cmds, uint32_t n);

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

#endif
