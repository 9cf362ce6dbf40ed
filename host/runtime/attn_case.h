/* A random attention problem with its golden answer, for checking a level
 * bit for bit and measuring accuracy: fp32 Q, K, V drawn from N(0, 1) and
 * quantized to int8 with per-head scales (sq_quant_i8), or int8 drawn
 * directly over a chosen range (small ranges give tied scores for top-k,
 * 128 reaches -128) with spread requantization scales; a random block bitmap
 * of a given density; placed in device memory with one descriptor.
 * Used by `sparq attn`, the tests and the benches. */
#ifndef SQ_ATTN_CASE_H
#define SQ_ATTN_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/desc.h"
#include "runtime/device.h"
#include "sparq/attn.h"

typedef struct {
    uint32_t seq, queries, heads, kv_heads, head_dim, kv_cap; /* kv_cap 0: seq */
    uint32_t flags, window, n_global, topk;
    double block_density; /* probability of each bitmap bit, with SQ_ATTN_BLOCK */
    int int8_range;       /* 0: quantized N(0,1) data; 1..128: raw int8 in [-r, r] */
    uint64_t seed;
} sq_attn_params_t;

typedef struct {
    sq_attn_desc_t d;   /* shape and flags; addresses set by sq_attn_case_place */
    sq_attn_bytes_t b;  /* operand sizes */
    sq_attn_t a;        /* golden view of the host copies below */
    int8_t *q, *k, *v;  /* (heads, queries, dim), (kv_heads, kv_cap, dim) x2 */
    uint8_t *mask;      /* (nb, SQ_ATTN_MASK_ROW_BYTES) */
    sq_attn_quant_t *quant; /* (heads) */
    int8_t *golden;     /* (heads, queries, dim): sq_attn_ref's answer */
    float *qf, *kf, *vf; /* fp32 originals (int8_range 0 only) */
    float *scale_o;     /* (heads): real value of one O step */
    sq_attn_work_t work; /* pairs scored and selected */
} sq_attn_case_t;

/* Draws a problem and computes the golden output. Returns 0, SQ_ERR_ARG
 * for a shape or pattern the unit does not accept (one line why), or
 * SQ_ERR_MEM. Free with sq_attn_case_free (also after a failure). */
int sq_attn_case_build(sq_attn_case_t *ac, const sq_attn_params_t *p);
void sq_attn_case_free(sq_attn_case_t *ac);

/* Device bytes sq_attn_case_place needs, alignment included. */
uint64_t sq_attn_case_dev_bytes(const sq_attn_case_t *ac);

/* What a case of these parameters will take before building it (for memory
 * limits): *host the bytes sq_attn_case_build allocates (the fp32 originals
 * included), *dev sq_attn_case_dev_bytes. */
void sq_attn_case_bytes(const sq_attn_params_t *p, uint64_t *host, uint64_t *dev);

/* Allocates and writes the operands and one descriptor to dev; fills the
 * addresses in ac->d and the descriptor's address in *cmd_addr. */
int sq_attn_case_place(sq_dev_t *dev, sq_attn_case_t *ac, uint64_t *cmd_addr);

/* Reads O back into out (ac->b.o bytes). */
int sq_attn_case_read(sq_dev_t *dev, const sq_attn_case_t *ac, int8_t *out);

/* Outputs differing from the golden; *first gets the first differing index
 * (b.o when none). */
uint64_t sq_attn_case_mismatches(const sq_attn_case_t *ac, const int8_t *out, uint64_t *first);

/* Error of the golden int8 output (dequantized) against fp32 attention with
 * the same pattern: max and mean |O - O_fp32| and mean |O_fp32|. Returns -1
 * for int8_range cases (no fp32 originals). */
int sq_attn_case_error(const sq_attn_case_t *ac, double *max, double *mean, double *ref_mean);

#endif
