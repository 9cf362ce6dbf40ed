/* sparq vector-unit numerics: the one definition of the integer transformer
 * layer's non-GEMM arithmetic (norms, RoPE, SiLU/GELU, residual add,
 * requantization, embedding gather, logits), part of the numerics definition
 * of numerics.h and attn.h; descriptor layout in spec.h (SQ_OP_VEC). The
 * element rules are static inline here, usable by the golden reference
 * (host/numerics/vec.c), the HLS kernels (gcc, Vitis HLS, OpenCL C) and the
 * tests; the RTL implements the same rules. Everything is integer: no float,
 * no integer wider than 64 bits, every product below 2^63, every shift in
 * [0, 62] (sq_rshift_round, round half up). Divisions are exact integer
 * divisions (one per row, or one per element for the sigmoid; a sequential
 * or pipelined divider), the square root is a 31-step bit-serial isqrt.
 * docs/integer_layer.md derives the error bounds stated below.
 *
 * Number formats
 * - int32 fixed point with F fractional bits: value = v * 2^-F. The compiler
 *   picks F per tensor (residual stream, SwiGLU inputs, logits) from
 *   calibration, with headroom; results saturate to int32 (sq_sat32).
 * - Record: a per-row scale {int32 mult, int32 shift}, value mult * 2^-shift,
 *   mult in [2^30, 2^31) (0 for an all-zero row). The int8 row q it belongs
 *   to stands for q * mult * 2^-shift. Ops with SQ_VEC_Q8 write one per row;
 *   ops with SQ_VEC_ACC read one per row (the record of the GEMM's input).
 * - Per-channel requantization entry {int32 mult, uint32 shift} (sq_quant_t
 *   of numerics.h), mult in [0, 2^31), shift in [0, 62].
 *
 * Rules (sq_vec_* below)
 * 1. Two-stage requantization of a GEMM accumulator (SQ_VEC_ACC):
 *      t = sat32(rshift_round(acc * ch.mult, ch.shift))            per channel
 *      y = sat32(rshift_round(t * rec.mult, clamp(rec.shift + adj, 0, 62)))
 *    The channel stage carries the weight scale times 2^Fi (Fi chosen from
 *    the weights so |t| < 2^30 for any int8 input), the row stage the input's
 *    record; adj (P0, signed) = Fi - F_out. Each rounding adds at most half
 *    a unit of its result: relative error ~2^-30 on t, absolute 1/2 ulp on y.
 * 2. Dynamic int8 quantization of a row y_j (int64, |y| < 2^62) with F_y
 *    fractional bits, Z = max_j |y_j| (SQ_VEC_Q8; sq_vec_dq_*):
 *      sh = bitlen(Z) - 31; yn = y * 2^-sh (rshift_round when sh > 0)
 *      R = floor(127 * 2^46 / Zn);  q = sat8(rshift_round(yn * R, 46))
 *      record = Zn * INV127 * 2^(sh - 37 - F_y), normalized (rule 9)
 *    with INV127 = round(2^37 / 127). So q = round(127 y / Z) within
 *    2^-15 (|q| <= 127; the row maximum gets +-127) and the record is Z/127
 *    in real units within a relative 2^-29. Z = 0 gives q = 0 and record
 *    {0, 0}.
 * 3. NORM over x_j (int32, F_x fractional bits), gains G_j (int32) =
 *    round(g_j sqrt(N) 2^FG), P0|P1 = E = round(eps N 2^(2 F_x)) (uint64),
 *    P2 = S0 = FG - F_y - 15 (signed), P3 = F_y:
 *      LN only: mu = floor((2 sum_j x_j + N) / (2N)); d_j = x_j - mu
 *      (RMS: d_j = x_j)
 *      k = max(0, bitlen(max |d_j|) - 15);  d'_j = rshift_round(d_j, k)
 *      v = sum_j d'_j^2 + rshift_round(E, 2k)
 *      {m_r, s_r} = rsqrt(v) (rule 8; m_r = 0 when v = 0)
 *      Y_j = sat32(rshift_round(rshift_round(d'_j G_j, 15) * m_r,
 *                               clamp(S0 + s_r, 0, 62)) [+ B_j])
 *    Y_j = g_j (x_j - mu) / sqrt(mean((x - mu)^2) + eps) * 2^F_y [+ b_j],
 *    the statistic read with 15 significant bits (relative error 2^-15 on
 *    the norm, 2^-30 from rsqrt). With SQ_VEC_Q8, Y is quantized by rule 2.
 * 4. ROPE: y_j = rule 1 [+ B_j], in units of the head's static int8 scale
 *    times 2^-R (the compiler folds 1 / scale into the channel stage; the
 *    bias, BIAS without ROT, is an encoder's Q/K/V bias in those units); with
 *    SQ_VEC_ROT each pair (2i, 2i+1) of a segment (head) is rotated by the
 *    TAB row's entry i, (c, s) = round(2^14 (cos, sin)(pos * theta_i)):
 *      r0 = y0 c - y1 s;  r1 = y0 s + y1 c;  q = sat8(rshift_round(r, R + 14))
 *    without ROT q = sat8(rshift_round(y, R)). P1 = R in [0, 40].
 * 5. Sigmoid in Q15 of x with F fractional bits (F <= 40), from the
 *    attention unit's base-2 exponent (attn.h rule 3):
 *      u = min(rshift_round(|x| * LOG2E, F + 22), 16 * 256),
 *      LOG2E = round(log2(e) 2^30);  e = sq_attn_exp(u)    (2^(-u/256), Q15)
 *      p = floor((2^30 + (2^15 + e) / 2) / (2^15 + e))       (1/(1+e), Q15)
 *      sigma = p for x >= 0, 2^15 - p for x < 0
 *    |sigma - 1/(1 + exp(-x))| <= 3e-5 + 0.0014 sigma (1 - sigma).
 * 6. SWIGLU: a_j = rule 1 on IN (channels j), b_j = rule 1 on IN2 (channels
 *    N + j), both with P1 = F_a fractional bits (F_a <= 40);
 *      s_j = rshift_round(a_j * sigma(a_j), 15);  h_j = s_j * b_j (int64)
 *    then rule 2 with F_y = 2 F_a.
 * 7. GELU (tanh form, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) =
 *    x sigma(z), z = x (C1 + C2 x^2)): x = rule 1 (or IN) [+ B] with P1 = F
 *    in [16, 40] fractional bits;
 *      xq = clamp(rshift_round(x, F - 16), -2^20, 2^20)         (Q16)
 *      x2 = rshift_round(xq * xq, 16);  P = C1 + rshift_round(C2 * x2, 16)
 *      z = rshift_round(xq * P, 24);    g = rshift_round(x * sigma_16(z), 15)
 *    C1 = round(2 sqrt(2/pi) 2^24), C2 = round(2 * 0.044715 sqrt(2/pi) 2^24);
 *    then rule 2 with F_y = F (or g as int32 without SQ_VEC_Q8). The tanh
 *    form differs from erf-GELU by at most 3e-4 x.
 * 8. rsqrt(v), v in [1, 2^62): n = (62 - bitlen(v)) rounded down to even;
 *    r = isqrt(v 2^n) (floor, in [2^30, 2^31)); m = min(floor(2^61 / r),
 *    2^31 - 1); value m 2^-(61 - n/2), relative error below 2^-29.
 * 9. Normalization of a positive p < 2^63 with value p 2^-s: b = bitlen(p),
 *    m = p * 2^-(b - 31) (rshift_round when b > 31), and if m = 2^31 then
 *    m = 2^30 and b = b + 1; record {m, s - (b - 31)}.
 * 10. GATHER: x_j = sat32(rshift_round(E[id][j] * ch[id].mult, ch[id].shift))
 *    for the int8 table row of token id (P0 = rows; an id >= P0, read as
 *    uint32, gives a zero row; the runtime rejects such ids before a run).
 * 11. ADD: out_j = sat32(in2_j + (rule 1 of IN, or IN) [+ B_j]). DEQ: out_j =
 *    rule 1 (or IN) [+ B_j]. QUANT: rule 2 of (rule 1 or IN) [+ B_j], P1 =
 *    F_y. ARGMAX: the smallest j with in_j = max (int32 out).
 * 12. COPY: out_j = in_j for int8 elements, IN and OUT each by its own
 *    segmented addressing (spec.h), e.g. the attention unit's (heads, M,
 *    head_dim) output into the (M, heads * head_dim) rows a GEMM reads:
 *    seg = head_dim, in_stride = head_dim, in_seg_stride = M head_dim.
 */
#ifndef SPARQ_VEC_H
#define SPARQ_VEC_H

#ifndef __OPENCL_C_VERSION__ /* spec.h gives OpenCL C its types */
#include <stddef.h>
#include <stdint.h>
#endif

#include "attn.h"
#include "numerics.h"
#include "spec.h"

#define SQ_VEC_DQ_SHIFT 46u                /* rule 2 reciprocal precision */
#define SQ_VEC_INV127 1082196484           /* round(2^37 / 127) */
#define SQ_VEC_LOG2E 1549082005            /* round(log2(e) * 2^30) */
#define SQ_VEC_ROPE_FRAC 14u               /* cos/sin table: Q14 */
#define SQ_VEC_NORM_BITS 15u               /* significant bits of d' */
#define SQ_VEC_GELU_C1 26772563            /* round(2 sqrt(2/pi) 2^24) */
#define SQ_VEC_GELU_C2 1197135             /* round(2 0.044715 sqrt(2/pi) 2^24) */
#define SQ_VEC_FRAC_MAX 40u                /* F of the sigmoid's input */
#define SQ_VEC_LANES 16u                   /* RTL unit: elements per cycle (16 int32 = one 64-byte beat) */
#define SQ_VEC_BUF_BLOCKS 8u               /* RTL unit: 128-byte blocks a read buffer holds (reads ahead) */

/* A per-row scale: value mult * 2^-shift (SQ_VEC_REC_BYTES in memory, two
 * little-endian words in this order). */
typedef struct {
    int32_t mult;
    int32_t shift;
} sq_vec_rec_t;

static inline int32_t sq_sat32(int64_t x)
{
    return (int32_t)(x > 2147483647 ? 2147483647 : x < -2147483647 - 1 ? -2147483647 - 1 : x);
}

/* Number of significant bits: 0 for 0, 64 for values >= 2^63. */
static inline uint32_t sq_vec_bitlen(uint64_t v)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < 64u; i++)
        if ((v >> i) & 1u)
            n = i + 1u;
    return n;
}

/* v * 2^-sh: rounded right shift for sh > 0 (sh <= 62), exact left shift
 * for sh <= 0 (callers keep the result below 2^62). */
static inline int64_t sq_vec_scale2(int64_t v, int32_t sh)
{
    return sh > 0 ? sq_rshift_round(v, (uint32_t)sh) : v * ((int64_t)1 << (uint32_t)(-sh));
}

static inline uint32_t sq_vec_clamp_shift(int64_t s)
{
    return s < 0 ? 0u : s > 62 ? 62u : (uint32_t)s;
}

static inline int64_t sq_vec_abs64(int64_t v)
{
    return v < 0 ? -v : v;
}

/* Rule 9: the record of p * 2^-s (p > 0, p < 2^63). */
static inline sq_vec_rec_t sq_vec_rec_norm(uint64_t p, int32_t s)
{
    int32_t b = (int32_t)sq_vec_bitlen(p) - 31;
    int64_t m = b > 0 ? (int64_t)((p + ((uint64_t)1 << (uint32_t)(b - 1))) >> (uint32_t)b)
                      : (int64_t)p * ((int64_t)1 << (uint32_t)(-b));
    if (m == ((int64_t)1 << 31)) {
        m = (int64_t)1 << 30;
        b++;
    }
    sq_vec_rec_t r = {(int32_t)m, s - b};
    return r;
}

/* Rule 1. */
static inline int32_t sq_vec_requant2(int32_t acc, int32_t ch_mult, uint32_t ch_shift,
                                      sq_vec_rec_t rec, int32_t adj)
{
    int32_t t = sq_sat32(sq_rshift_round((int64_t)acc * (int64_t)ch_mult, ch_shift));
    return sq_sat32(sq_rshift_round((int64_t)t * (int64_t)rec.mult,
                                    sq_vec_clamp_shift((int64_t)rec.shift + (int64_t)adj)));
}

/* Rule 2, per row: sq_vec_dq_prep from the row maximum Z (and the row's
 * fractional bits), then sq_vec_dq_apply on each element. */
typedef struct {
    int32_t sh;
    uint32_t r;
} sq_vec_dq_t;

static inline sq_vec_rec_t sq_vec_dq_prep(uint64_t z, int32_t frac, sq_vec_dq_t *p)
{
    sq_vec_rec_t rec = {0, 0};
    p->sh = 0;
    p->r = 0;
    if (z == 0)
        return rec;
    p->sh = (int32_t)sq_vec_bitlen(z) - 31;
    uint64_t zn = (uint64_t)sq_vec_scale2((int64_t)z, p->sh); /* [2^30, 2^31] */
    p->r = (uint32_t)(((uint64_t)127 << SQ_VEC_DQ_SHIFT) / zn);
    return sq_vec_rec_norm(zn * (uint64_t)SQ_VEC_INV127, frac + 37 - p->sh);
}

static inline int8_t sq_vec_dq_apply(int64_t y, sq_vec_dq_t p)
{
    return sq_sat8(sq_rshift_round(sq_vec_scale2(y, p.sh) * (int64_t)p.r, SQ_VEC_DQ_SHIFT));
}

/* floor(sqrt(v)) for v < 2^62, one result bit per step. */
static inline uint32_t sq_vec_isqrt(uint64_t v)
{
    uint64_t r = 0;
    for (int i = 30; i >= 0; i--) {
        uint64_t t = r | ((uint64_t)1 << (uint32_t)i);
        if (t * t <= v)
            r = t;
    }
    return (uint32_t)r;
}

/* Rule 8 (v >= 1; v = 0 gives {0, 0}). */
static inline sq_vec_rec_t sq_vec_rsqrt(uint64_t v)
{
    sq_vec_rec_t r = {0, 0};
    if (v == 0)
        return r;
    uint32_t n = (62u - sq_vec_bitlen(v)) & ~1u;
    uint64_t s = sq_vec_isqrt(v << n);
    uint64_t m = ((uint64_t)1 << 61) / s;
    r.mult = (int32_t)(m > 2147483647u ? 2147483647u : m);
    r.shift = (int32_t)(61u - n / 2u);
    return r;
}

/* Rule 3, LN: the row mean from sum_j x_j. */
static inline int64_t sq_vec_mean(int64_t sum, uint32_t n)
{
    int64_t a = 2 * sum + (int64_t)n, b = 2 * (int64_t)n;
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q; /* floor */
}

/* Rule 3: the shift k from D = max |d_j|. */
static inline uint32_t sq_vec_norm_k(uint64_t dmax)
{
    uint32_t b = sq_vec_bitlen(dmax);
    return b > SQ_VEC_NORM_BITS ? b - SQ_VEC_NORM_BITS : 0u;
}

/* Rule 3: {m_r, clamp(S0 + s_r)} from ss = sum d'^2, E and k. */
static inline sq_vec_rec_t sq_vec_norm_scale(uint64_t ss, uint64_t eps, uint32_t k, int32_t s0)
{
    uint64_t v = ss + (uint64_t)sq_rshift_round((int64_t)eps, 2u * k);
    sq_vec_rec_t r = sq_vec_rsqrt(v);
    r.shift = (int32_t)sq_vec_clamp_shift((int64_t)s0 + r.shift);
    return r;
}

/* Rule 3: one element from d'_j, its gain and {m_r, S}. */
static inline int32_t sq_vec_norm_elem(int64_t dk, int32_t gain, sq_vec_rec_t sc)
{
    int64_t p = sq_rshift_round(dk * (int64_t)gain, 15u);
    return sq_sat32(sq_rshift_round(p * (int64_t)sc.mult, (uint32_t)sc.shift));
}

/* Rule 4, a rotated pair; cs = {cos, sin} in Q14. */
static inline void sq_vec_rope_pair(int32_t y0, int32_t y1, int16_t c, int16_t s, uint32_t r,
                                    int8_t *q0, int8_t *q1)
{
    int64_t r0 = (int64_t)y0 * c - (int64_t)y1 * s;
    int64_t r1 = (int64_t)y0 * s + (int64_t)y1 * c;
    *q0 = sq_sat8(sq_rshift_round(r0, r + SQ_VEC_ROPE_FRAC));
    *q1 = sq_sat8(sq_rshift_round(r1, r + SQ_VEC_ROPE_FRAC));
}

/* Rule 5: sigma(x) in Q15 for x with frac fractional bits. */
static inline uint32_t sq_vec_sigmoid(int32_t x, uint32_t frac)
{
    int64_t t = sq_rshift_round(sq_vec_abs64(x) * (int64_t)SQ_VEC_LOG2E, frac + 22u);
    uint32_t u = t >= (int64_t)SQ_ATTN_U_ZERO ? SQ_ATTN_U_ZERO : (uint32_t)t;
    uint32_t d = SQ_ATTN_EXP_ONE + sq_attn_exp(u);
    uint32_t p = (uint32_t)((((uint64_t)1 << 30) + (d >> 1)) / d);
    return x >= 0 ? p : SQ_ATTN_EXP_ONE - p;
}

/* Rule 6: h = silu(a) * b (a, b with frac fractional bits; h with 2 frac). */
static inline int64_t sq_vec_swiglu(int32_t a, int32_t b, uint32_t frac)
{
    int64_t s = sq_rshift_round((int64_t)a * (int64_t)sq_vec_sigmoid(a, frac), 15u);
    return s * (int64_t)b;
}

/* Rule 7: gelu(x) with frac fractional bits in and out (16 <= frac <= 40). */
static inline int32_t sq_vec_gelu(int32_t x, uint32_t frac)
{
    int64_t xq = sq_rshift_round(x, frac - 16u);
    xq = xq > (1 << 20) ? (1 << 20) : xq < -(1 << 20) ? -(1 << 20) : xq;
    int64_t x2 = sq_rshift_round(xq * xq, 16u);
    int64_t p = SQ_VEC_GELU_C1 + sq_rshift_round((int64_t)SQ_VEC_GELU_C2 * x2, 16u);
    int64_t z = sq_rshift_round(xq * p, 24u);
    return (int32_t)sq_rshift_round((int64_t)x * (int64_t)sq_vec_sigmoid((int32_t)z, 16u), 15u);
}

/* Rule 10: one embedding element. */
static inline int32_t sq_vec_gather_elem(int8_t e, int32_t mult, uint32_t shift)
{
    return sq_sat32(sq_rshift_round((int64_t)e * (int64_t)mult, shift));
}

/* One vector op, golden reference (host/numerics/vec.c): the descriptor's
 * fields with host pointers for its operands (NULL where unused). */
typedef struct {
    uint32_t func, flags, m, n, seg;
    const uint8_t *in;            /* int32 elements */
    uint32_t in_stride, in_seg_stride;
    const uint8_t *in2;           /* int32 rows */
    uint32_t in2_stride;
    uint8_t *out;                 /* int8 or int32 elements */
    uint32_t out_stride, out_seg_stride;
    const uint8_t *chan;          /* sq_quant_t (N or 2N or rows) or int32 gains */
    const uint8_t *rec_in;        /* sq_vec_rec_t (M) */
    uint8_t *rec_out;             /* sq_vec_rec_t (M) */
    const uint8_t *tab;
    uint32_t tab_stride;
    uint32_t p[4];
} sq_vec_t;

/* Checks function, flags and shape (no pointers). Returns 0 or -1. */
int sq_vec_check_shape(const sq_vec_t *v);

/* Runs the op. Returns 0, or -1 for an invalid shape (sq_vec_check_shape). */
int sq_vec_ref(const sq_vec_t *v);

/* Bytes per OUT element of an op (1 or 4). */
static inline uint32_t sq_vec_out_esize(uint32_t func, uint32_t flags)
{
    return func == SQ_VEC_ROPE || func == SQ_VEC_QUANT || func == SQ_VEC_COPY ||
                   (flags & SQ_VEC_Q8)
               ? 1u
               : 4u;
}

/* Bytes per IN element of an op (1 for COPY, else 4). */
static inline uint32_t sq_vec_in_esize(uint32_t func)
{
    return func == SQ_VEC_COPY ? 1u : 4u;
}

#endif /* SPARQ_VEC_H */
