/* A random GEMM problem with its golden answer, for checking a level bit for
 * bit: operands drawn to stress the arithmetic (int8 -128, rows and columns
 * that saturate, per-channel requant scales spread over 2^-5x..2^2x of the
 * natural output range through sq_scale_to_fixed, a quarter of them powers of
 * two so the rounding shift meets exact ties, a few channels with mult 1 and
 * shift 0, biases at INT32_MIN/MAX so the accumulation wraps), placed in
 * device memory with one descriptor.
 * Used by `sparq gemm`, the tests and the benches. */
#ifndef SQ_GEMM_CASE_H
#define SQ_GEMM_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/desc.h"
#include "runtime/device.h"
#include "sparq/numerics.h"

typedef struct {
    sq_gemm_desc_t d;   /* shape and flags; addresses set by sq_gemm_case_place */
    sq_gemm_bytes_t b;  /* operand sizes */
    int8_t *a;          /* (m, k) */
    uint8_t *w;         /* (n, sq_w_row_bytes) */
    uint8_t *meta;      /* (n, sq_meta_row_bytes), SP24 only */
    int32_t *bias;      /* (n), BIAS only */
    sq_quant_t *quant;  /* (n), unless OUT32 */
    uint16_t *gscale;   /* (n, ceil(k / d.group)), GSCALE only */
    void *golden;       /* (m, n) int8 or int32: sq_gemm_ref's answer */
} sq_gemm_case_t;

/* Draws operands for an m x n x k GEMM with SQ_GEMM_* flags from seed and
 * computes the golden output. Returns 0, SQ_ERR_ARG for a bad shape or flag
 * combination, or SQ_ERR_MEM. Free with sq_gemm_case_free (also after a
 * failure). With SQ_GEMM_GSCALE the group size is drawn (32, 64, 128 or k;
 * k when smaller) and so are the Q15 factors: uniform, with whole channels
 * at 0, 32768 (the plain sum) and 65535. */
int sq_gemm_case_build(sq_gemm_case_t *gc, uint32_t m, uint32_t n, uint32_t k, uint32_t flags,
                       uint64_t seed);
/* The same with a given group size (GSCALE only; 0 draws one as above). */
int sq_gemm_case_build_group(sq_gemm_case_t *gc, uint32_t m, uint32_t n, uint32_t k,
                             uint32_t flags, uint32_t group, uint64_t seed);
void sq_gemm_case_free(sq_gemm_case_t *gc);

/* Device bytes sq_gemm_case_place needs, alignment included. */
uint64_t sq_gemm_case_dev_bytes(const sq_gemm_case_t *gc);

/* What a case of this shape will take before building it (for memory limits):
 * *host the bytes sq_gemm_case_build allocates, *dev sq_gemm_case_dev_bytes
 * (with GSCALE at most: the group size is drawn later, counted as 1).
 * Flags and shape are not checked (saturating arithmetic, no overflow). */
void sq_gemm_case_bytes(uint32_t m, uint32_t n, uint32_t k, uint32_t flags, uint64_t *host,
                        uint64_t *dev);

/* Allocates and writes the operands and one descriptor to dev; fills the
 * addresses in gc->d and the descriptor's address in *cmd_addr. */
int sq_gemm_case_place(sq_dev_t *dev, sq_gemm_case_t *gc, uint64_t *cmd_addr);
/* After sq_gemm_case_place: the case as one descriptor per GEMM compute unit
 * of dev (sq_gemm_desc_split), a new stream of *n_cmds at *cmd_addr (with
 * one unit, the placed descriptor). */
int sq_gemm_case_split(sq_dev_t *dev, const sq_gemm_case_t *gc, uint64_t *cmd_addr,
                       uint32_t *n_cmds);

/* Reads C back into out (gc->b.c bytes). */
int sq_gemm_case_read(sq_dev_t *dev, const sq_gemm_case_t *gc, void *out);

/* Outputs of out differing from the golden; *first gets the first differing
 * element index (m*n when none). */
uint64_t sq_gemm_case_mismatches(const sq_gemm_case_t *gc, const void *out, uint64_t *first);

#endif
