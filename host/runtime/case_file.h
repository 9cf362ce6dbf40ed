/* Case files: the inputs, the golden answer and a level's output of unit
 * cases, for the independent oracle (tests/oracle.py), which recomputes every
 * output from the inputs with numpy after the rules of include/sparq/ and
 * compares. Written by `sparq regress --dump FILE` and the tests.
 *
 * A file is a sequence of records:
 *   "SQCF", u32 header bytes (little-endian), the header (UTF-8 JSON):
 *     {"op": NAME, "params": {...}, "arrays": [{"name", "dtype", "shape"}...]}
 *   then each array's bytes in that order, C order, little-endian; dtype is
 *   one of int8, uint8, uint16, int32, uint32.
 * The ops and their arrays are listed with each writer below; a new unit adds
 * a writer here and a checker to the oracle's table. */
#ifndef SQ_CASE_FILE_H
#define SQ_CASE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/attn_case.h"
#include "runtime/gemm_case.h"

typedef struct sq_case_file sq_case_file_t;

/* Creates path. Returns 0, or SQ_ERR_IO / SQ_ERR_MEM. */
int sq_case_file_open(const char *path, sq_case_file_t **out);
/* Flushes and frees (accepts NULL); 0 or SQ_ERR_IO when a write failed. */
int sq_case_file_close(sq_case_file_t *f);

/* "gemm": params m, n, k, flags, group (GSCALE only); arrays a (m, k) int8;
 * w (n, row bytes) uint8 as in device memory; meta (n, meta row bytes) uint8
 * with SP24; bias (n) int32 with BIAS; quant (n, 2) int32 {mult, shift}
 * unless OUT32; gscale (n, ceil(k / group)) uint16 with GSCALE; golden
 * and out (m, n), int8 or int32 with OUT32. out is the level's C. */
int sq_case_file_gemm(sq_case_file_t *f, const sq_gemm_case_t *gc, const void *out);

/* "attn": params flags, seq, queries, heads, kv_heads, head_dim, kv_cap,
 * window, n_global, topk; arrays q (heads, queries, head_dim), k and v
 * (kv_heads, kv_cap, head_dim) int8; mask (blocks, SQ_ATTN_MASK_ROW_BYTES)
 * uint8 with BLOCK; quant (heads, 4) int32 {s_mult, s_shift, o_mult,
 * o_shift}; golden and out (heads, queries, head_dim) int8. */
int sq_case_file_attn(sq_case_file_t *f, const sq_attn_case_t *ac, const int8_t *out);

/* "softmax": the golden's integer softmax of one query row of an attention
 * case (sq_attn_row, sq_attn_recip, sq_attn_prob): params head, query and
 * the case's attn params; arrays q, k, mask, quant as "attn", and from the
 * golden cand (seq) uint8, s (seq) int32 (0 where not a candidate), sel
 * (seq) uint8, e (seq) uint32, sum (1) uint32, p (seq) uint32. */
int sq_case_file_softmax(sq_case_file_t *f, const sq_attn_case_t *ac, uint32_t head,
                         uint32_t query);

#endif
