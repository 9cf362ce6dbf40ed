/* sparq numerics: the one definition of the accelerator's integer arithmetic.
 *
 * The golden reference, the HLS kernels (compiled by gcc for csim and by Vitis
 * HLS for hardware), the runtime and the tests all use these functions; the
 * RTL implements the same rules and is compared with them bit for bit.
 * Per-element rules are static inline here so HLS can inline them; whole-buffer
 * reference operations live in host/numerics/numerics.c.
 *
 * Rules
 * - Products int8 x int8 and int4 x int8 accumulate in int32. Accumulation
 *   wraps modulo 2^32 (two's complement) so every level agrees even in the
 *   (unreachable for SQ_GEMM_MAX_DIM) overflow case.
 * - Requantization: y = sat8(rshift_round((int64)acc * mult, shift)), with
 *   mult in [1, 2^31 - 1] and shift in [0, SQ_SHIFT_MAX].
 *   rshift_round(x, s) = (x + 2^(s-1)) >> s, arithmetic shift, for s > 0, and x
 *   for s = 0: ties round toward +infinity (2.5 -> 3, -2.5 -> -2). This is one
 *   adder and a shifter in hardware, and it is what the RTL epilogue does.
 *   A real scale S > 0 is stored as mult * 2^-shift with mult in [2^30, 2^31)
 *   (sq_scale_to_fixed); zero, negative or non-finite scales are rejected.
 * - ReLU clamps the requantized (or int32) value at 0.
 * - int4: signed two's complement [-8, 7], two per byte; element 2i is the low
 *   nibble of byte i and element 2i+1 the high nibble. A row of k elements takes
 *   ceil(k/2) bytes; an odd row's last high nibble is 0.
 * - 2:4 sparsity along k: each group of 4 consecutive k positions keeps 2
 *   values. A row stores ceil(k/4) groups as 2 int8 values each (the value at
 *   the lower position first) plus a 4-bit position code per group: bits [1:0]
 *   the first position, bits [3:2] the second (0..3, first < second). Group g's
 *   code is the low nibble of byte g/2 for even g, the high nibble for odd g.
 *   Positions at or beyond k (a partial last group) must hold value 0.
 * - Float -> int8 symmetric quantization: q = clamp(round_half_away(x / s),
 *   -127, 127) with s = max|x| / 127 (s = 1 when max|x| = 0); NaN (an
 *   activation that overflowed) gives 0. -128 is never produced by
 *   quantization, but every kernel accepts it as an input.
 */
#ifndef SPARQ_NUMERICS_H
#define SPARQ_NUMERICS_H

#ifndef __OPENCL_C_VERSION__ /* spec.h gives OpenCL C its types */
#include <stddef.h>
#include <stdint.h>
#endif

#include "spec.h"

#define SQ_SHIFT_MAX 62u
#define SQ_MULT_MIN  (1 << 30)

static inline int32_t sq_add_wrap(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t sq_mac(int32_t acc, int8_t a, int8_t w)
{
    return sq_add_wrap(acc, (int32_t)a * (int32_t)w);
}

static inline int8_t sq_sat8(int64_t x)
{
    return (int8_t)(x > 127 ? 127 : x < -128 ? -128 : x);
}

/* Arithmetic right shift with round-half-up; s in [0, 62]. |x| < 2^62 holds
 * for every int32 x int32 product, so the rounding add cannot overflow. */
static inline int64_t sq_rshift_round(int64_t x, uint32_t s)
{
    if (s == 0)
        return x;
    int64_t r = x + ((int64_t)1 << (s - 1));
    /* >> of a negative value is implementation-defined in C; gcc and Vitis HLS
     * shift arithmetically, and tests/test_numerics.c pins that down. */
    return r >> s;
}

/* SQ_GEMM_GSCALE: a group's partial sum p scaled by its Q15 factor gs and
 * added to the accumulator (spec.h), the one definition every level uses. */
static inline int32_t sq_gscale_add(int32_t acc, int32_t p, uint16_t gs)
{
    return sq_add_wrap(acc, (int32_t)sq_rshift_round((int64_t)p * gs, 15));
}

static inline int8_t sq_requant(int32_t acc, int32_t mult, uint32_t shift)
{
    return sq_sat8(sq_rshift_round((int64_t)acc * (int64_t)mult, shift));
}

static inline int8_t sq_i4_get(const SQ_GLOBAL uint8_t *packed, size_t i)
{
    uint8_t b = packed[i >> 1];
    uint8_t nib = (i & 1) ? (uint8_t)(b >> 4) : (uint8_t)(b & 0xF);
    return (int8_t)(nib >= 8 ? (int)nib - 16 : (int)nib);
}

static inline void sq_i4_set(uint8_t *packed, size_t i, int8_t v)
{
    uint8_t nib = (uint8_t)v & 0xF;
    uint8_t *b = &packed[i >> 1];
    *b = (i & 1) ? (uint8_t)((*b & 0x0F) | (nib << 4)) : (uint8_t)((*b & 0xF0) | nib);
}

/* Position code of 2:4 group g (see the layout above). */
static inline uint8_t sq_sp24_code(const SQ_GLOBAL uint8_t *meta, size_t g)
{
    return (g & 1) ? (uint8_t)(meta[g >> 1] >> 4) : (uint8_t)(meta[g >> 1] & 0xF);
}

/* Position (0..3) of kept value i (0 or 1) of a 2:4 group with this code. */
static inline unsigned sq_sp24_pos(uint8_t code, unsigned i)
{
    return i ? (code >> 2) & 3u : code & 3u;
}

/* Bytes in one weight row of k elements for the given SQ_GEMM_* flags
 * (inline: the HLS kernels size their loads with it). */
static inline size_t sq_w_row_bytes(uint32_t flags, size_t k)
{
    if (flags & SQ_GEMM_W4)
        return (k + 1) / 2;
    if (flags & SQ_GEMM_SP24)
        return 2 * ((k + 3) / 4);
    return k;
}

/* Bytes of 2:4 position metadata in one row of k elements. */
static inline size_t sq_meta_row_bytes(size_t k)
{
    return ((k + 3) / 4 + 1) / 2;
}

/* Expands one weight row (any format) into k int8 values. Returns 0, or -1
 * for a malformed 2:4 code (first >= second). */
int sq_w_row_decode(uint32_t flags, const void *w_row, const uint8_t *meta_row,
                    size_t k, int8_t *out);

/* Compresses a dense int8 row to 2:4: keeps the 2 largest |values| of each
 * group (the lower position wins ties). Writes 2*ceil(k/4) values and
 * sq_meta_row_bytes(k) metadata bytes. */
void sq_sp24_encode_row(const int8_t *dense, size_t k, int8_t *vals, uint8_t *meta);

/* Packs k int8 values in [-8, 7] as int4 (ceil(k/2) bytes). */
void sq_i4_pack_row(const int8_t *vals, size_t k, uint8_t *packed);

/* Converts a real scale to mult * 2^-shift. Returns 0, or -1 when the scale is
 * zero, negative, not finite, or outside what shift in [0, 62] can express. */
int sq_scale_to_fixed(double scale, int32_t *mult, uint32_t *shift);

/* Symmetric per-row int8 quantization of x (n values) as described above;
 * returns the scale. */
float sq_quant_i8(const float *x, size_t n, int8_t *q);
/* The same rule with a given scale s > 0 (a static activation scale from
 * calibration): values beyond 127 s saturate at +-127. */
void sq_quant_i8_static(const float *x, size_t n, float s, int8_t *q);

/* One GEMM, golden reference. Pointer shapes as in include/sparq/spec.h.
 * quant holds n {mult, shift} pairs (ignored with SQ_GEMM_OUT32). */
typedef struct {
    int32_t mult;
    uint32_t shift;
} sq_quant_t;

typedef struct {
    size_t m, n, k;
    uint32_t flags;        /* SQ_GEMM_* */
    const int8_t *a;       /* (m, k) */
    const void *w;         /* (n, sq_w_row_bytes(flags, k)) */
    const uint8_t *meta;   /* (n, sq_meta_row_bytes(k)), SQ_GEMM_SP24 only */
    const int32_t *bias;   /* (n), SQ_GEMM_BIAS only */
    const sq_quant_t *quant; /* (n), unless SQ_GEMM_OUT32 */
    void *c;               /* (m, n) int8, or int32 with SQ_GEMM_OUT32 */
    size_t group;          /* SQ_GEMM_GSCALE only: inputs per group, in [1, k] */
    const uint16_t *gscale; /* SQ_GEMM_GSCALE only: Q15 (n, ceil(k / group)) */
} sq_gemm_t;

/* Epilogue for one accumulator of output channel j: bias, requant, ReLU. */
static inline int32_t sq_epilogue(uint32_t flags, int32_t acc, int32_t bias, sq_quant_t q)
{
    int32_t v = sq_add_wrap(acc, bias);
    if (!(flags & SQ_GEMM_OUT32))
        v = sq_requant(v, q.mult, q.shift);
    if ((flags & SQ_GEMM_RELU) && v < 0)
        v = 0;
    return v;
}

/* Returns 0, or -1 when the arguments are invalid (unknown flags, W4 with
 * SP24, a quant entry out of range, a malformed 2:4 code, a group outside
 * [1, k]). With SQ_GEMM_GSCALE the accumulator is the sum of each group's
 * partial sum scaled by its Q15 factor (spec.h). */
int sq_gemm_ref(const sq_gemm_t *g);

#endif /* SPARQ_NUMERICS_H */
