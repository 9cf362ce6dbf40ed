/* Whole-op golden vector unit; the rules are in include/sparq/vec.h. Rows
 * are independent: each op is a loop over M rows of the element rules, in
 * the passes a row buffer in hardware makes (statistics first, then the
 * elements). */
#include "sparq/vec.h"

#include <stdlib.h>

#include "sparq/desc.h"

/* The flags each function accepts, and those it requires. */
static const struct {
    uint32_t allowed, required;
} FUNC_FLAGS[SQ_VEC_FUNCS] = {
    [SQ_VEC_GATHER] = {0, 0},
    [SQ_VEC_NORM] = {SQ_VEC_Q8 | SQ_VEC_BIAS | SQ_VEC_LN, 0},
    [SQ_VEC_ADD] = {SQ_VEC_ACC | SQ_VEC_BIAS, 0},
    [SQ_VEC_DEQ] = {SQ_VEC_ACC | SQ_VEC_BIAS, 0},
    [SQ_VEC_ROPE] = {SQ_VEC_ACC | SQ_VEC_ROT | SQ_VEC_BIAS, SQ_VEC_ACC},
    [SQ_VEC_SWIGLU] = {SQ_VEC_ACC | SQ_VEC_Q8, SQ_VEC_ACC | SQ_VEC_Q8},
    [SQ_VEC_GELU] = {SQ_VEC_ACC | SQ_VEC_BIAS | SQ_VEC_Q8, 0},
    [SQ_VEC_QUANT] = {SQ_VEC_ACC | SQ_VEC_BIAS | SQ_VEC_Q8, SQ_VEC_Q8},
    [SQ_VEC_ARGMAX] = {0, 0},
    [SQ_VEC_COPY] = {0, 0},
};

int sq_vec_check_shape(const sq_vec_t *v)
{
    if (v->func >= SQ_VEC_FUNCS || (v->flags & ~FUNC_FLAGS[v->func].allowed) ||
        (v->flags & FUNC_FLAGS[v->func].required) != FUNC_FLAGS[v->func].required)
        return -1;
    if (v->m < 1 || v->m > SQ_VEC_MAX_M || v->n < 1 || v->n > SQ_VEC_MAX_N)
        return -1;
    uint32_t seg = v->seg ? v->seg : v->n;
    if (seg > v->n || v->n % seg)
        return -1;
    switch (v->func) {
    case SQ_VEC_GATHER:
        return v->p[0] >= 1 ? 0 : -1;
    case SQ_VEC_NORM:
        return v->p[1] < (1u << 29) ? 0 : -1; /* E < 2^61 keeps v < 2^62 */
    case SQ_VEC_ROPE: /* TAB holds the rotation table or the bias, not both */
        return v->p[1] <= SQ_VEC_FRAC_MAX && (!(v->flags & SQ_VEC_ROT) || seg % 2 == 0) &&
                       (v->flags & (SQ_VEC_ROT | SQ_VEC_BIAS)) != (SQ_VEC_ROT | SQ_VEC_BIAS)
                   ? 0
                   : -1;
    case SQ_VEC_SWIGLU:
        return v->p[1] <= SQ_VEC_FRAC_MAX ? 0 : -1;
    case SQ_VEC_GELU:
        return v->p[1] >= 16 && v->p[1] <= SQ_VEC_FRAC_MAX ? 0 : -1;
    default:
        return 0;
    }
}

typedef struct {
    const sq_vec_t *v;
    uint32_t seg, in_esize;
} op_t;

static size_t in_at(const op_t *o, uint32_t m, uint32_t j)
{
    const sq_vec_t *v = o->v;
    return (size_t)m * v->in_stride + (size_t)(j / o->seg) * v->in_seg_stride +
           (size_t)(j % o->seg) * o->in_esize;
}

static size_t out_at(const op_t *o, uint32_t m, uint32_t j, uint32_t esize)
{
    const sq_vec_t *v = o->v;
    return (size_t)m * v->out_stride + (size_t)(j / o->seg) * v->out_seg_stride +
           (size_t)(j % o->seg) * esize;
}

static int32_t ld_i32(const uint8_t *p)
{
    return (int32_t)sq_ld32(p);
}

static sq_vec_rec_t ld_rec(const uint8_t *p)
{
    sq_vec_rec_t r = {ld_i32(p), ld_i32(p + 4)};
    return r;
}

static void st_rec(uint8_t *p, sq_vec_rec_t r)
{
    sq_st32(p, (uint32_t)r.mult);
    sq_st32(p + 4, (uint32_t)r.shift);
}

/* The value the function starts from: rule 1 with SQ_VEC_ACC (channel ch of
 * the CHAN table), else IN itself; plus the bias with SQ_VEC_BIAS. */
static int32_t input(const op_t *o, const uint8_t *src, uint32_t ch, sq_vec_rec_t rec,
                     uint32_t j)
{
    const sq_vec_t *v = o->v;
    int32_t x = ld_i32(src);
    if (v->flags & SQ_VEC_ACC)
        x = sq_vec_requant2(x, ld_i32(v->chan + 8u * ch), sq_ld32(v->chan + 8u * ch + 4u), rec,
                            (int32_t)v->p[0]);
    if (v->flags & SQ_VEC_BIAS)
        x = sq_sat32((int64_t)x + ld_i32(v->tab + 4u * (size_t)j));
    return x;
}

/* Rule 2 over a row of int64 values, written as int8 with its record. */
static void quant_row(const op_t *o, uint32_t m, const int64_t *y, int32_t frac)
{
    const sq_vec_t *v = o->v;
    uint64_t z = 0;
    for (uint32_t j = 0; j < v->n; j++) {
        uint64_t a = (uint64_t)sq_vec_abs64(y[j]);
        z = a > z ? a : z;
    }
    sq_vec_dq_t dq;
    st_rec(v->rec_out + (size_t)m * SQ_VEC_REC_BYTES, sq_vec_dq_prep(z, frac, &dq));
    for (uint32_t j = 0; j < v->n; j++)
        v->out[out_at(o, m, j, 1)] = (uint8_t)sq_vec_dq_apply(y[j], dq);
}

static void norm_row(const op_t *o, uint32_t m, int64_t *y)
{
    const sq_vec_t *v = o->v;
    int64_t mu = 0;
    if (v->flags & SQ_VEC_LN) {
        int64_t sum = 0;
        for (uint32_t j = 0; j < v->n; j++)
            sum += ld_i32(v->in + in_at(o, m, j));
        mu = sq_vec_mean(sum, v->n);
    }
    uint64_t dmax = 0;
    for (uint32_t j = 0; j < v->n; j++) {
        uint64_t a = (uint64_t)sq_vec_abs64(ld_i32(v->in + in_at(o, m, j)) - mu);
        dmax = a > dmax ? a : dmax;
    }
    uint32_t k = sq_vec_norm_k(dmax);
    uint64_t ss = 0;
    for (uint32_t j = 0; j < v->n; j++) {
        int64_t d = sq_rshift_round(ld_i32(v->in + in_at(o, m, j)) - mu, k);
        ss += (uint64_t)(d * d);
    }
    uint64_t eps = (uint64_t)v->p[0] | ((uint64_t)v->p[1] << 32);
    sq_vec_rec_t sc = sq_vec_norm_scale(ss, eps, k, (int32_t)v->p[2]);
    for (uint32_t j = 0; j < v->n; j++) {
        int64_t d = sq_rshift_round(ld_i32(v->in + in_at(o, m, j)) - mu, k);
        int32_t x = sq_vec_norm_elem(d, ld_i32(v->chan + 4u * (size_t)j), sc);
        if (v->flags & SQ_VEC_BIAS)
            x = sq_sat32((int64_t)x + ld_i32(v->tab + 4u * (size_t)j));
        y[j] = x;
    }
}

static void store32(const op_t *o, uint32_t m, uint32_t j, int64_t x)
{
    sq_st32(o->v->out + out_at(o, m, j, 4), (uint32_t)sq_sat32(x));
}

static void run_row(const op_t *o, uint32_t m, int64_t *y)
{
    const sq_vec_t *v = o->v;
    sq_vec_rec_t rec = {0, 0};
    if (v->flags & SQ_VEC_ACC)
        rec = ld_rec(v->rec_in + (size_t)m * SQ_VEC_REC_BYTES);
    switch (v->func) {
    case SQ_VEC_GATHER: {
        uint32_t id = sq_ld32(v->in + (size_t)m * v->in_stride);
        for (uint32_t j = 0; j < v->n; j++) {
            int32_t x = 0;
            if (id < v->p[0]) {
                const uint8_t *ch = v->chan + 8u * (size_t)id;
                x = sq_vec_gather_elem((int8_t)v->tab[(size_t)id * v->tab_stride + j],
                                       ld_i32(ch), sq_ld32(ch + 4));
            }
            store32(o, m, j, x);
        }
        return;
    }
    case SQ_VEC_NORM:
        norm_row(o, m, y);
        if (v->flags & SQ_VEC_Q8)
            quant_row(o, m, y, (int32_t)v->p[3]);
        else
            for (uint32_t j = 0; j < v->n; j++)
                store32(o, m, j, y[j]);
        return;
    case SQ_VEC_ADD:
    case SQ_VEC_DEQ:
        for (uint32_t j = 0; j < v->n; j++) {
            int64_t x = input(o, v->in + in_at(o, m, j), j, rec, j);
            if (v->func == SQ_VEC_ADD)
                x += ld_i32(v->in2 + (size_t)m * v->in2_stride + 4u * (size_t)j);
            store32(o, m, j, x);
        }
        return;
    case SQ_VEC_ROPE:
        for (uint32_t j = 0; j < v->n; j++) {
            int32_t y0 = input(o, v->in + in_at(o, m, j), j, rec, j);
            if (!(v->flags & SQ_VEC_ROT)) {
                v->out[out_at(o, m, j, 1)] =
                    (uint8_t)sq_sat8(sq_rshift_round(y0, v->p[1]));
                continue;
            }
            int32_t y1 = input(o, v->in + in_at(o, m, j + 1), j + 1, rec, j + 1);
            const uint8_t *cs = v->tab + (size_t)m * v->tab_stride + 2u * (j % o->seg);
            int8_t q0, q1;
            sq_vec_rope_pair(y0, y1, (int16_t)(cs[0] | cs[1] << 8), (int16_t)(cs[2] | cs[3] << 8),
                             v->p[1], &q0, &q1);
            v->out[out_at(o, m, j, 1)] = (uint8_t)q0;
            v->out[out_at(o, m, j + 1, 1)] = (uint8_t)q1;
            j++;
        }
        return;
    case SQ_VEC_SWIGLU:
        for (uint32_t j = 0; j < v->n; j++) {
            int32_t a = input(o, v->in + in_at(o, m, j), j, rec, j);
            int32_t b = input(o, v->in2 + (size_t)m * v->in2_stride + 4u * (size_t)j, v->n + j,
                              rec, j);
            y[j] = sq_vec_swiglu(a, b, v->p[1]);
        }
        quant_row(o, m, y, 2 * (int32_t)v->p[1]);
        return;
    case SQ_VEC_GELU:
        for (uint32_t j = 0; j < v->n; j++)
            y[j] = sq_vec_gelu(input(o, v->in + in_at(o, m, j), j, rec, j), v->p[1]);
        if (v->flags & SQ_VEC_Q8)
            quant_row(o, m, y, (int32_t)v->p[1]);
        else
            for (uint32_t j = 0; j < v->n; j++)
                store32(o, m, j, y[j]);
        return;
    case SQ_VEC_QUANT:
        for (uint32_t j = 0; j < v->n; j++)
            y[j] = input(o, v->in + in_at(o, m, j), j, rec, j);
        quant_row(o, m, y, (int32_t)v->p[1]);
        return;
    case SQ_VEC_ARGMAX: {
        uint32_t best = 0;
        int32_t top = ld_i32(v->in + in_at(o, m, 0));
        for (uint32_t j = 1; j < v->n; j++) {
            int32_t x = ld_i32(v->in + in_at(o, m, j));
            if (x > top) {
                top = x;
                best = j;
            }
        }
        sq_st32(v->out + out_at(o, m, 0, 4), best);
        return;
    }
    case SQ_VEC_COPY:
        for (uint32_t j = 0; j < v->n; j++)
            v->out[out_at(o, m, j, 1)] = v->in[in_at(o, m, j)];
        return;
    default:
        return;
    }
}

int sq_vec_ref(const sq_vec_t *v)
{
    if (sq_vec_check_shape(v) != 0)
        return -1;
    op_t o = {v, v->seg ? v->seg : v->n, sq_vec_in_esize(v->func)};
    int64_t *y = malloc((size_t)v->n * sizeof *y);
    if (!y)
        return -1;
    for (uint32_t m = 0; m < v->m; m++)
        run_row(&o, m, y);
    free(y);
    return 0;
}
