/* Constrained-random cases for co-simulation regressions (`sparq regress`,
 * the tests): a unit's case i of a campaign is a function of (seed, i) alone,
 * so a campaign can be cut into ranges of i run anywhere (processes, MPI
 * ranks) with the same cases, and a failing case reruns from its two numbers.
 *
 * The constraints aim at what breaks hardware (OpenTitan's DV practice: the
 * legal space, weighted to its corners):
 * - GEMM: M and N of 1, around the array's multiples and odd; K of 1, small,
 *   both sides of an SQ_GEMM_TILE_K chunk and every 2:4 tail; every weight
 *   format (int8, int4, 2:4) with every epilogue (bias, ReLU, int32 out,
 *   requantization); operands from runtime/gemm_case.h (-128, rows pinned at
 *   an extreme, scales from tiny outputs to heavy saturation, biases at
 *   INT32_MIN/MAX);
 * - attention: all 32 pattern combinations (causal, window, global, block,
 *   top-k), decode, prefill and partial prefill, grouped-query heads, head
 *   dims of 1 and odd, seq of 1, windows past the sequence, top-k beyond the
 *   candidates, empty bitmap rows, a KV cache longer than seq, int8 ranges
 *   that reach -128 or tie scores, and quantized N(0,1) data. */
#ifndef SQ_REGRESS_H
#define SQ_REGRESS_H

#include <stdint.h>

#include "runtime/attn_case.h"

/* Units a campaign covers, for seeds and messages. */
typedef enum { SQ_REGRESS_GEMM, SQ_REGRESS_ATTN, SQ_REGRESS_UNITS } sq_regress_unit_t;
extern const char *const sq_regress_unit_name[SQ_REGRESS_UNITS];

/* One GEMM case: shape, SQ_GEMM_* flags and the operand seed for
 * sq_gemm_case_build (31 bits, so `sparq gemm --seed` takes it too). */
typedef struct {
    uint32_t m, n, k, flags;
    uint64_t seed;
} sq_regress_gemm_t;

void sq_regress_gemm(uint64_t seed, uint64_t i, sq_regress_gemm_t *c);

/* Attention case i of seed; max_work bounds queries * seq * heads * head_dim
 * (queries are halved until it fits), which bounds simulation time. */
void sq_regress_attn(uint64_t seed, uint64_t i, uint64_t max_work, sq_attn_params_t *p);

/* Dimensions that matter to a tiled R x C array, from a running stream s:
 * 1, the array size and its neighbours, small and odd sizes (M and N); and
 * for K also both sides of the SQ_GEMM_TILE_K chunk and every 2:4 tail. */
uint32_t sq_regress_pick_mn(uint64_t *s);
uint32_t sq_regress_pick_k(uint64_t *s);

#endif
