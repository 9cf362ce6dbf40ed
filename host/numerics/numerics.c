/* Whole-buffer golden operations; the rules are in include/sparq/numerics.h. */
#include "sparq/numerics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int sq_w_row_decode(uint32_t flags, const void *w_row, const uint8_t *meta_row,
                    size_t k, int8_t *out)
{
    if (flags & SQ_GEMM_W4) {
        for (size_t i = 0; i < k; i++)
            out[i] = sq_i4_get(w_row, i);
        return 0;
    }
    if (!(flags & SQ_GEMM_SP24)) {
        memcpy(out, w_row, k);
        return 0;
    }
    const int8_t *vals = w_row;
    for (size_t g = 0; g * 4 < k; g++) {
        uint8_t code = sq_sp24_code(meta_row, g);
        unsigned p0 = sq_sp24_pos(code, 0), p1 = sq_sp24_pos(code, 1);
        if (p0 >= p1)
            return -1;
        int8_t group[4] = {0, 0, 0, 0};
        group[p0] = vals[2 * g];
        group[p1] = vals[2 * g + 1];
        for (size_t j = 0; j < 4 && g * 4 + j < k; j++)
            out[g * 4 + j] = group[j];
    }
    return 0;
}

void sq_sp24_encode_row(const int8_t *dense, size_t k, int8_t *vals, uint8_t *meta)
{
    memset(meta, 0, sq_meta_row_bytes(k));
    for (size_t g = 0; g * 4 < k; g++) {
        int v[4];
        for (size_t j = 0; j < 4; j++)
            v[j] = g * 4 + j < k ? dense[g * 4 + j] : 0;
        /* the two largest magnitudes; on ties the lower position wins */
        unsigned best = 0, second = 1;
        if (abs(v[1]) > abs(v[0])) {
            best = 1;
            second = 0;
        }
        for (unsigned j = 2; j < 4; j++) {
            if (abs(v[j]) > abs(v[best])) {
                second = best;
                best = j;
            } else if (abs(v[j]) > abs(v[second])) {
                second = j;
            }
        }
        unsigned p0 = best < second ? best : second;
        unsigned p1 = best < second ? second : best;
        vals[2 * g] = (int8_t)v[p0];
        vals[2 * g + 1] = (int8_t)v[p1];
        uint8_t code = (uint8_t)(p0 | (p1 << 2));
        meta[g / 2] |= (g & 1) ? (uint8_t)(code << 4) : code;
    }
}

void sq_i4_pack_row(const int8_t *vals, size_t k, uint8_t *packed)
{
    memset(packed, 0, (k + 1) / 2);
    for (size_t i = 0; i < k; i++)
        sq_i4_set(packed, i, vals[i]);
}

int sq_scale_to_fixed(double scale, int32_t *mult, uint32_t *shift)
{
    if (!(scale > 0) || !isfinite(scale))
        return -1;
    int e;
    double frac = frexp(scale, &e); /* scale = frac * 2^e, frac in [0.5, 1) */
    int64_t m = llround(frac * 2147483648.0); /* frac * 2^31, in [2^30, 2^31] */
    if (m == ((int64_t)1 << 31)) {
        m >>= 1;
        e++;
    }
    int s = 31 - e; /* scale = m * 2^-31 * 2^e */
    if (s < 0 || s > (int)SQ_SHIFT_MAX)
        return -1;
    *mult = (int32_t)m;
    *shift = (uint32_t)s;
    return 0;
}

float sq_quant_i8(const float *x, size_t n, int8_t *q)
{
    float amax = 0.0f;
    for (size_t i = 0; i < n; i++) {
        float a = fabsf(x[i]);
        if (a > amax)
            amax = a;
    }
    float s = amax > 0.0f ? amax / 127.0f : 1.0f;
    sq_quant_i8_static(x, n, s, q);
    return s;
}

void sq_quant_i8_static(const float *x, size_t n, float s, int8_t *q)
{
    for (size_t i = 0; i < n; i++) {
        float r = roundf(x[i] / s);
        /* NaN (an activation that overflowed) fails every comparison, and
         * converting it to int is undefined: it becomes 0 */
        q[i] = (int8_t)(r > 127.0f ? 127 : r < -127.0f ? -127 : r == r ? (int)r : 0);
    }
}

int sq_gemm_ref(const sq_gemm_t *g)
{
    if ((g->flags & ~(SQ_GEMM_FLAGS_ALL | SQ_GEMM_GSCALE)) ||
        ((g->flags & SQ_GEMM_W4) && (g->flags & SQ_GEMM_SP24)))
        return -1;
    size_t group = (g->flags & SQ_GEMM_GSCALE) ? g->group : g->k;
    if (group < 1 || group > g->k)
        return -1;
    size_t ng = (g->k + group - 1) / group;
    if (!(g->flags & SQ_GEMM_OUT32)) {
        for (size_t j = 0; j < g->n; j++)
            if (g->quant[j].mult < 1 || g->quant[j].shift > SQ_SHIFT_MAX)
                return -1;
    }
    int8_t wrow[SQ_GEMM_MAX_DIM];
    size_t wbytes = sq_w_row_bytes(g->flags, g->k);
    size_t mbytes = sq_meta_row_bytes(g->k);
    for (size_t j = 0; j < g->n; j++) {
        const uint8_t *w = (const uint8_t *)g->w + j * wbytes;
        const uint8_t *meta = g->meta ? g->meta + j * mbytes : NULL;
        if (sq_w_row_decode(g->flags, w, meta, g->k, wrow) != 0)
            return -1;
        int32_t bias = (g->flags & SQ_GEMM_BIAS) ? g->bias[j] : 0;
        sq_quant_t q = (g->flags & SQ_GEMM_OUT32) ? (sq_quant_t){0, 0} : g->quant[j];
        for (size_t i = 0; i < g->m; i++) {
            const int8_t *a = g->a + i * g->k;
            int32_t acc = 0;
            for (size_t gi = 0; gi < ng; gi++) {
                int32_t p = 0;
                size_t t1 = (gi + 1) * group < g->k ? (gi + 1) * group : g->k;
                for (size_t t = gi * group; t < t1; t++)
                    p = sq_mac(p, a[t], wrow[t]);
                acc = (g->flags & SQ_GEMM_GSCALE) ? sq_gscale_add(acc, p, g->gscale[j * ng + gi])
                                                  : p;
            }
            int32_t v = sq_epilogue(g->flags, acc, bias, q);
            if (g->flags & SQ_GEMM_OUT32)
                ((int32_t *)g->c)[i * g->n + j] = v;
            else
                ((int8_t *)g->c)[i * g->n + j] = (int8_t)v;
        }
    }
    return 0;
}
