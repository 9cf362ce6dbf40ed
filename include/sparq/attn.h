/* sparq attention numerics: the one definition of the sparse attention unit's
 * integer arithmetic and of its sparsity patterns (part of the numerics
 * definition in numerics.h; descriptor fields in spec.h).
 *
 * For one query head h (KV head g = h / (heads / kv_heads)) and one query at
 * position p = seq - queries + i:
 *
 * 1. Scores. S_j = sum_d Q[h][i][d] * K[g][j][d], int8 x int8 accumulated in
 *    int32 with sq_mac (wrapping), for every candidate key j (rule 5). Keys
 *    that are not candidates are never scored: the kernels skip them.
 * 2. Selection. Without SQ_ATTN_TOPK every candidate is selected. With it, the
 *    topk largest candidate scores are selected, ties going to the lower key
 *    index: with T the topk-th largest candidate score, every S_j > T and the
 *    first (topk - #{S_j > T}) candidates with S_j == T in index order. When
 *    topk >= #candidates all are selected. (sq_attn_topk_select) Top-k
 *    still scores every candidate (Q.K and the K reads are not saved); it
 *    saves the exp, the P.V MACs and the V reads of the keys it drops, and
 *    costs a threshold search over the scores.
 * 3. Integer softmax over the selected keys, in base 2:
 *    - M = max of the selected S_j (max subtraction: every exponent is <= 0).
 *    - u_j = -sq_rshift_round((int64)(S_j - M) * s_mult, s_shift), >= 0. The
 *      host sets s_mult * 2^-s_shift = scale_q * scale_k / sqrt(head_dim) *
 *      log2(e) * 2^SQ_ATTN_EXP_FRAC (sq_attn_quant_make), so u_j / 256 is
 *      -(real score difference) * log2(e): exp(x) = 2^(x log2 e).
 *    - e_j = sq_rshift_round(SQ_ATTN_EXP2[u_j & 255], u_j >> 8), 0 when
 *      u_j >= 16 * 256. The table holds round(2^15 * 2^(-f/256)) for the
 *      fraction f, so e_j is 2^(-u_j/256) in unsigned Q15 (the integer
 *      part is a right shift). The max itself gets e = 32768 (1.0).
 *    - sum = sum_j e_j (uint32; at most 4096 * 2^15 = 2^27, no overflow).
 *    - Reciprocal: R = floor(2^46 / sum), one division per query row
 *      (sum >= 2^15, so R <= 2^31 fits uint32).
 *    - Probability P_j = (e_j * R + 2^30) >> 31: unsigned Q15, 0..32768
 *      (32768 = 1.0). Not-selected keys have P = 0.
 * 4. Output. acc_d = sum_j P_j * V[g][j][d] in int32 (wrapping; |acc| stays
 *    below 2^23 since sum P_j ~ 2^15), and O[h][i][d] = sq_requant(acc_d,
 *    o_mult, o_shift), with o_mult * 2^-o_shift = scale_v / scale_o / 2^15.
 *    A query with no candidate key has O = sq_requant(0, ...) = 0.
 * 5. Candidates of query position p, key position j (all positions absolute):
 *      local(p, j) = 1 when neither SQ_ATTN_WINDOW nor SQ_ATTN_BLOCK is set,
 *                    else (WINDOW and |p - j| < window)
 *                      or (BLOCK and bit(p / B, j / B) of MASK), B = SQ_ATTN_BLK
 *      glob(p, j)  = GLOBAL and (j < n_global or p < n_global)
 *      cand(p, j)  = (local or glob) and (not CAUSAL or j <= p), j < seq.
 *    So window and block are unioned (the BigBird combination), global tokens
 *    attend to and are attended by every position, causality is a hard limit,
 *    and top-k (rule 2) then picks among the candidates.
 *
 * Error against fp32 softmax (derivation in bench/results/attn.md): writing
 * p for the exact softmax of the real scores over the same selected keys and
 * n for their number, |P/2^15 - p| <= p * (0.003 + 1.6 n 2^-16) + 3 * 2^-16.
 * The relative term comes from rounding u to 1/256 (2^(1/512) - 1 = 0.14%,
 * once in e_j and once in the sum); the n term from each e_j's absolute
 * rounding of at most 0.75 * 2^-15 and weights below 2^-16 that are dropped;
 * the constant from the final rounding. On random and real data the error is
 * far below the bound (measured numbers in bench/results/attn.md). */
#ifndef SPARQ_ATTN_H
#define SPARQ_ATTN_H

#ifndef __OPENCL_C_VERSION__ /* spec.h gives OpenCL C its types */
#include <stddef.h>
#include <stdint.h>
#endif

#include "numerics.h"
#include "spec.h"

#define SQ_ATTN_EXP_FRAC 8u                     /* fractional bits of u */
#define SQ_ATTN_EXP_ONE 32768u                  /* e and P scale: Q15 */
#define SQ_ATTN_U_ZERO (16u << SQ_ATTN_EXP_FRAC) /* u at or above: e = 0 */
#define SQ_ATTN_RECIP_LOG2 46u
#define SQ_ATTN_PROB_SHIFT 31u

/* round(2^15 * 2^(-f/256)), f = 0..255; tests/test_attn.c recomputes it. */
static SQ_CONSTANT const uint16_t SQ_ATTN_EXP2[256] = {
    32768, 32679, 32591, 32503, 32415, 32327, 32240, 32153, 32066, 31979, 31893, 31806,
    31720, 31635, 31549, 31464, 31379, 31294, 31209, 31125, 31041, 30957, 30873, 30790,
    30706, 30623, 30541, 30458, 30376, 30293, 30212, 30130, 30048, 29967, 29886, 29805,
    29725, 29644, 29564, 29484, 29405, 29325, 29246, 29167, 29088, 29009, 28931, 28852,
    28774, 28697, 28619, 28542, 28464, 28388, 28311, 28234, 28158, 28082, 28006, 27930,
    27855, 27779, 27704, 27629, 27554, 27480, 27406, 27332, 27258, 27184, 27110, 27037,
    26964, 26891, 26818, 26746, 26674, 26601, 26530, 26458, 26386, 26315, 26244, 26173,
    26102, 26031, 25961, 25891, 25821, 25751, 25681, 25612, 25543, 25474, 25405, 25336,
    25268, 25199, 25131, 25063, 24995, 24928, 24860, 24793, 24726, 24659, 24593, 24526,
    24460, 24394, 24328, 24262, 24196, 24131, 24066, 24001, 23936, 23871, 23806, 23742,
    23678, 23614, 23550, 23486, 23423, 23359, 23296, 23233, 23170, 23108, 23045, 22983,
    22921, 22859, 22797, 22735, 22674, 22613, 22552, 22491, 22430, 22369, 22309, 22248,
    22188, 22128, 22068, 22009, 21949, 21890, 21831, 21772, 21713, 21654, 21595, 21537,
    21479, 21421, 21363, 21305, 21247, 21190, 21133, 21076, 21019, 20962, 20905, 20849,
    20792, 20736, 20680, 20624, 20568, 20513, 20457, 20402, 20347, 20292, 20237, 20182,
    20127, 20073, 20019, 19965, 19911, 19857, 19803, 19750, 19696, 19643, 19590, 19537,
    19484, 19431, 19379, 19326, 19274, 19222, 19170, 19118, 19066, 19015, 18963, 18912,
    18861, 18810, 18759, 18708, 18658, 18607, 18557, 18507, 18457, 18407, 18357, 18308,
    18258, 18209, 18160, 18110, 18061, 18013, 17964, 17915, 17867, 17819, 17770, 17722,
    17674, 17627, 17579, 17531, 17484, 17437, 17390, 17343, 17296, 17249, 17202, 17156,
    17109, 17063, 17017, 16971, 16925, 16879, 16834, 16788, 16743, 16697, 16652, 16607,
    16562, 16518, 16473, 16428,
};

/* Per query head requantization constants (SQ_ATTN_QUANT_BYTES, in memory as
 * four little-endian 32-bit words in this order). */
typedef struct {
    int32_t s_mult;   /* score difference -> u (rule 3) */
    uint32_t s_shift;
    int32_t o_mult;   /* P.V accumulator -> int8 O (rule 4) */
    uint32_t o_shift;
} sq_attn_quant_t;

/* Rule 3: the base-2 exponent u (clamped to SQ_ATTN_U_ZERO) of a score
 * difference diff = S_j - M <= 0. */
static inline uint32_t sq_attn_u(int32_t diff, int32_t s_mult, uint32_t s_shift)
{
    int64_t t = sq_rshift_round((int64_t)diff * (int64_t)s_mult, s_shift);
    return t <= -(int64_t)SQ_ATTN_U_ZERO ? SQ_ATTN_U_ZERO : (uint32_t)(-t);
}

/* Rule 3: 2^(-u/256) in Q15. */
static inline uint32_t sq_attn_exp(uint32_t u)
{
    if (u >= SQ_ATTN_U_ZERO)
        return 0;
    uint32_t f = u & ((1u << SQ_ATTN_EXP_FRAC) - 1u);
    return (uint32_t)sq_rshift_round(SQ_ATTN_EXP2[f], u >> SQ_ATTN_EXP_FRAC);
}

/* Rule 3: the reciprocal of a row's exponent sum (sum >= 2^15). */
static inline uint32_t sq_attn_recip(uint32_t sum)
{
    return (uint32_t)(((uint64_t)1 << SQ_ATTN_RECIP_LOG2) / sum);
}

/* Rule 3: one probability in Q15. */
static inline uint32_t sq_attn_prob(uint32_t e, uint32_t recip)
{
    return (uint32_t)(((uint64_t)e * recip + ((uint64_t)1 << (SQ_ATTN_PROB_SHIFT - 1))) >>
                      SQ_ATTN_PROB_SHIFT);
}

/* Rule 4: one P x V product added to a wrapping int32 accumulator. */
static inline int32_t sq_attn_pv_mac(int32_t acc, uint32_t p, int8_t v)
{
    return sq_add_wrap(acc, (int32_t)p * (int32_t)v);
}

/* Blocks along a sequence (rows of the block bitmap). */
static inline uint32_t sq_attn_blocks(uint32_t seq)
{
    return (seq + SQ_ATTN_BLK - 1u) >> SQ_ATTN_BLK_LOG2;
}

/* Rule 5 for one query/key pair; bbit is the MASK bit of their blocks (ignored
 * without SQ_ATTN_BLOCK). */
static inline int sq_attn_cand(uint32_t flags, uint32_t window, uint32_t n_global, uint32_t p,
                               uint32_t j, int bbit)
{
    if ((flags & SQ_ATTN_CAUSAL) && j > p)
        return 0;
    int is_local = 1; /* not `local`: a keyword of OpenCL C */
    if (flags & (SQ_ATTN_WINDOW | SQ_ATTN_BLOCK)) {
        uint32_t dist = p > j ? p - j : j - p;
        is_local = ((flags & SQ_ATTN_WINDOW) && dist < window) || ((flags & SQ_ATTN_BLOCK) && bbit);
    }
    int glob = (flags & SQ_ATTN_GLOBAL) && (j < n_global || p < n_global);
    return is_local || glob;
}

/* A key range [*lo, *hi) inside block kb holding every candidate of query p
 * in that block (the hull of the window and global intervals); empty
 * (lo == hi) when rule 5 leaves nothing in the block, which kernels then skip
 * without touching it. Keys inside the range are still checked with
 * sq_attn_cand. */
static inline void sq_attn_block_range(uint32_t flags, uint32_t window, uint32_t n_global,
                                       uint32_t seq, uint32_t p, uint32_t kb, int bbit,
                                       uint32_t *lo, uint32_t *hi)
{
    uint32_t b0 = kb << SQ_ATTN_BLK_LOG2;
    uint32_t b1 = b0 + SQ_ATTN_BLK < seq ? b0 + SQ_ATTN_BLK : seq;
    if ((flags & SQ_ATTN_CAUSAL) && b1 > p + 1u)
        b1 = p + 1u;
    *lo = *hi = b0;
    if (b1 <= b0)
        return;
    if (!(flags & (SQ_ATTN_WINDOW | SQ_ATTN_BLOCK)) || ((flags & SQ_ATTN_BLOCK) && bbit) ||
        ((flags & SQ_ATTN_GLOBAL) && p < n_global)) {
        *hi = b1;
        return;
    }
    uint32_t l = b1, h = b0;
    if (flags & SQ_ATTN_WINDOW) {
        /* |p - j| < window: j in (p - window, p + window) */
        uint32_t wl = p >= window ? p - window + 1u : 0u;
        uint64_t wh = (uint64_t)p + window;
        uint32_t a = wl > b0 ? wl : b0;
        uint32_t z = wh < b1 ? (uint32_t)wh : b1;
        if (a < z) {
            l = a;
            h = z;
        }
    }
    if ((flags & SQ_ATTN_GLOBAL) && n_global > b0) {
        uint32_t z = n_global < b1 ? n_global : b1;
        l = b0;
        if (z > h)
            h = z;
    }
    if (l < h) {
        *lo = l;
        *hi = h;
    }
}

/* MASK bit for query block qb and key block kb. */
static inline int sq_attn_mask_bit(const uint8_t *mask, uint32_t qb, uint32_t kb)
{
    return (mask[qb * SQ_ATTN_MASK_ROW_BYTES + (kb >> 3)] >> (kb & 7u)) & 1u;
}

/* Order-preserving map of an int32 score to uint32 (offset binary). */
static inline uint32_t sq_attn_score_key(int32_t s)
{
    return (uint32_t)s ^ 0x80000000u;
}

/* Rule 2 over n scores of which cand[j] != 0 are candidates (all of them
 * when cand is NULL, as for a kernel's compacted candidate list): sets sel[j]
 * (1 selected, 0 not) and returns the number selected. Works by a bitwise
 * search for T (one counting pass per score bit, as the RTL does), so it needs
 * no sort and no scratch beyond sel. Inline, like every per-element rule, so
 * an HLS project needs no host C file. */
static inline uint32_t sq_attn_topk_select(const int32_t *s, const uint8_t *cand, uint32_t n,
                                           uint32_t k, uint8_t *sel)
{
    uint32_t n_cand = 0, kmin = UINT32_MAX, kmax = 0;
    for (uint32_t j = 0; j < n; j++) {
        if (cand && !cand[j])
            continue;
        uint32_t key = sq_attn_score_key(s[j]);
        kmin = key < kmin ? key : kmin;
        kmax = key > kmax ? key : kmax;
        n_cand++;
    }
    if (k >= n_cand) {
        for (uint32_t j = 0; j < n; j++)
            sel[j] = !cand || cand[j];
        return n_cand;
    }
    /* T = the largest t with #{key >= t} >= k, decided one bit at a time
     * below the prefix every candidate shares (bits where kmin, kmax agree). */
    uint32_t diff = kmin ^ kmax;
    int top = 31;
    while (top >= 0 && !(diff >> top))
        top--;
    uint32_t t = top < 0 ? kmax : kmax & ~(uint32_t)(((uint64_t)2 << top) - 1u);
    for (int b = top; b >= 0; b--) {
        uint32_t try_t = t | (1u << b);
        uint32_t ge = 0;
        for (uint32_t j = 0; j < n; j++)
            ge += (!cand || cand[j]) && sq_attn_score_key(s[j]) >= try_t;
        if (ge >= k)
            t = try_t;
    }
    uint32_t gt = 0;
    for (uint32_t j = 0; j < n; j++)
        gt += (!cand || cand[j]) && sq_attn_score_key(s[j]) > t;
    uint32_t ties = k - gt;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t key = sq_attn_score_key(s[j]);
        sel[j] = 0;
        if (cand && !cand[j])
            continue;
        if (key > t) {
            sel[j] = 1;
        } else if (key == t && ties > 0) {
            sel[j] = 1;
            ties--;
        }
    }
    return k;
}


/* One attention call, golden reference. Shapes as in spec.h (SQ_OP_ATTN). */
typedef struct {
    uint32_t flags; /* SQ_ATTN_* */
    uint32_t seq, queries, heads, kv_heads, head_dim, kv_cap;
    uint32_t window, n_global, topk;
    const int8_t *q;               /* (heads, queries, head_dim) */
    const int8_t *k;               /* (kv_heads, kv_cap, head_dim) */
    const int8_t *v;               /* (kv_heads, kv_cap, head_dim) */
    const uint8_t *mask;           /* (nb, SQ_ATTN_MASK_ROW_BYTES), SQ_ATTN_BLOCK only */
    const sq_attn_quant_t *quant;  /* (heads) */
    int8_t *o;                     /* (heads, queries, head_dim) */
} sq_attn_t;

/* Work of one call: (query, key) pairs scored (candidates) and selected. */
typedef struct {
    uint64_t scored;
    uint64_t selected;
} sq_attn_work_t;

/* Returns 0, or -1 when the shape or flags are outside spec.h's limits
 * (seq, queries <= seq, kv_cap >= seq, heads a multiple of kv_heads, head_dim,
 * window and topk >= 1 when used) or a quant entry is out of range. */
int sq_attn_check(const sq_attn_t *a);

/* sq_attn_check without the quant table (which may be NULL). */
int sq_attn_check_shape(const sq_attn_t *a);

/* The work of a call without computing it: candidates and selected pairs
 * follow from the pattern alone (top-k keeps min(topk, candidates) per
 * query). Added to *work; the shape must be valid. */
void sq_attn_pattern_work(const sq_attn_t *a, sq_attn_work_t *work);

/* Rules 1 to 3 for one query row, indexed by key position j < seq. */
typedef struct {
    uint8_t cand[SQ_ATTN_MAX_SEQ]; /* rule 5 */
    int32_t s[SQ_ATTN_MAX_SEQ];    /* scores, candidates only */
    uint8_t sel[SQ_ATTN_MAX_SEQ];  /* rule 2 */
    uint32_t e[SQ_ATTN_MAX_SEQ];   /* exponents, 0 unless selected (set when n_sel > 0) */
    uint32_t n_cand, n_sel, sum;   /* sum of e (0 when nothing is selected) */
} sq_attn_row_t;

/* Fills r for query i of head h of a checked call (sq_attn_check). */
void sq_attn_row(const sq_attn_t *a, uint32_t h, uint32_t i, sq_attn_row_t *r);

/* Computes O; adds the work done to *work when work is not NULL. Returns 0
 * or -1 (sq_attn_check). */
int sq_attn_ref(const sq_attn_t *a, sq_attn_work_t *work);

/* Host side: quant constants for one head from real scales (scale_o is the
 * output's scale). Returns 0, or -1 when a scale is not representable. */
int sq_attn_quant_make(double scale_q, double scale_k, double scale_v, double scale_o,
                       uint32_t head_dim, sq_attn_quant_t *out);

/* fp32 attention with the same pattern rules (top-k on fp32 scores), the
 * accuracy yardstick: q (heads, queries, head_dim), k and v (kv_heads,
 * kv_cap, head_dim), o (heads, queries, head_dim); a query without
 * candidates gets 0. Scores are scaled by 1/sqrt(head_dim). Shape fields
 * and flags come from a (its pointers are ignored). */
int sq_attn_f32(const sq_attn_t *a, const float *q, const float *k, const float *v, float *o);

#endif /* SPARQ_ATTN_H */
