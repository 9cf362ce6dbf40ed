/* Random GEMM problems with golden answers (see runtime/gemm_case.h). */
#include "runtime/gemm_case.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/desc.h"
#include "util/err.h"
#include "util/rand.h"

/* One row of int8 values in [lo, hi]: usually uniform, sometimes pinned at
 * an extreme so products and sums saturate the epilogue. */
static void rnd_row(uint64_t *s, int8_t *row, size_t len, int lo, int hi)
{
    unsigned mode = (unsigned)(sq_rand(s) % 16);
    for (size_t i = 0; i < len; i++) {
        int v = lo + (int)(sq_rand(s) % (uint64_t)(hi - lo + 1));
        row[i] = (int8_t)(mode == 0 ? lo : mode == 1 ? hi : v);
    }
}

void sq_gemm_case_free(sq_gemm_case_t *gc)
{
    free(gc->a);
    free(gc->w);
    free(gc->meta);
    free(gc->bias);
    free(gc->quant);
    free(gc->gscale);
    free(gc->golden);
    memset(gc, 0, sizeof *gc);
}

static int draw_weights(sq_gemm_case_t *gc, uint64_t *s)
{
    const sq_gemm_desc_t *d = &gc->d;
    size_t row = sq_w_row_bytes(d->flags, d->k), mrow = sq_meta_row_bytes(d->k);
    int8_t *dense = malloc(d->k);
    if (!dense)
        return sq_err(SQ_ERR_MEM, "out of memory drawing weights");
    for (size_t j = 0; j < d->n; j++) {
        uint8_t *w = gc->w + j * row;
        if (d->flags & SQ_GEMM_W4) {
            rnd_row(s, dense, d->k, -8, 7);
            sq_i4_pack_row(dense, d->k, w);
        } else if (d->flags & SQ_GEMM_SP24) {
            rnd_row(s, dense, d->k, -128, 127);
            sq_sp24_encode_row(dense, d->k, (int8_t *)w, gc->meta + j * mrow);
        } else {
            rnd_row(s, (int8_t *)w, d->k, -128, 127);
        }
    }
    free(dense);
    return 0;
}

static int draw_epilogue(sq_gemm_case_t *gc, uint64_t *s)
{
    const sq_gemm_desc_t *d = &gc->d;
    if (d->flags & SQ_GEMM_BIAS) {
        for (size_t j = 0; j < d->n; j++)
            gc->bias[j] = (int32_t)(sq_rand(s) % (1u << 21)) - (1 << 20);
        /* wrap-around of the int32 accumulation */
        gc->bias[0] = INT32_MAX;
        if (d->n > 1)
            gc->bias[1] = INT32_MIN;
    }
    if (d->flags & SQ_GEMM_OUT32)
        return 0;
    /* Typical |acc| for uniform int8 operands is ~74^2 * sqrt(k); a scale of
     * 64 / that, times 2^[-5, 2], spans tiny outputs to heavy saturation. */
    double wmag = (d->flags & SQ_GEMM_W4) ? 4.6 : 74.0;
    double natural = 64.0 / (74.0 * wmag * sqrt((double)d->k));
    for (size_t j = 0; j < d->n; j++) {
        double scale = natural * exp2(7.0 * sq_rand_unit(s) - 5.0);
        uint64_t edge = sq_rand(s) % 16;
        /* a power of two (mult 2^30) makes exact ties of the rounding shift
         * common, where a random scale almost never gives one */
        if (edge < 4)
            scale = exp2(round(log2(scale)));
        if (sq_scale_to_fixed(scale, &gc->quant[j].mult, &gc->quant[j].shift) != 0)
            return sq_err(SQ_ERR_ARG, "requant scale %g not representable", scale);
        /* the smallest multiplier and no shift: the raw sum, saturated */
        if (edge == 4)
            gc->quant[j] = (sq_quant_t){1, 0};
    }
    return 0;
}

/* Q15 group factors: uniform, except whole channels at 0, 2^15 (the group
 * sums unscaled) and 65535 (the largest, just under 2x). */
static void draw_gscale(sq_gemm_case_t *gc, uint64_t *s)
{
    const sq_gemm_desc_t *d = &gc->d;
    size_t ng = (d->k + d->group - 1) / d->group;
    for (size_t j = 0; j < d->n; j++) {
        uint64_t mode = sq_rand(s) % 8;
        for (size_t g = 0; g < ng; g++)
            gc->gscale[j * ng + g] = mode == 0   ? 0
                                     : mode == 1 ? 32768
                                     : mode == 2 ? 65535
                                                 : (uint16_t)(sq_rand(s) % 65536);
    }
}

int sq_gemm_case_build(sq_gemm_case_t *gc, uint32_t m, uint32_t n, uint32_t k, uint32_t flags,
                       uint64_t seed)
{
    return sq_gemm_case_build_group(gc, m, n, k, flags, 0, seed);
}

int sq_gemm_case_build_group(sq_gemm_case_t *gc, uint32_t m, uint32_t n, uint32_t k,
                             uint32_t flags, uint32_t group, uint64_t seed)
{
    memset(gc, 0, sizeof *gc);
    gc->d.flags = flags;
    gc->d.m = m;
    gc->d.n = n;
    gc->d.k = k;
    uint64_t s = seed;
    if ((flags & SQ_GEMM_GSCALE) && group == 0) {
        /* spec.h: k or a power of two from SQ_GEMM_GROUP_MIN */
        const uint32_t sizes[4] = {SQ_GEMM_GROUP_MIN, 64, 128, k};
        group = sizes[sq_rand(&s) % 4];
        group = group > k ? k : group;
    }
    gc->d.group = (flags & SQ_GEMM_GSCALE) ? group : 0;
    /* the check leaves its message; a bad request is an argument error here */
    if (sq_gemm_desc_check_shape(&gc->d))
        return SQ_ERR_ARG;
    sq_gemm_desc_bytes(&gc->d, &gc->b);
    const sq_gemm_bytes_t *b = &gc->b;
    /* +1 keeps malloc(0) out of the picture for unused operands */
    if (!(gc->a = malloc(b->a)) || !(gc->w = calloc(1, b->w)) ||
        !(gc->meta = calloc(1, b->meta + 1)) || !(gc->bias = malloc(b->bias + 1)) ||
        !(gc->quant = malloc(b->quant + 1)) || !(gc->gscale = malloc(b->gscale + 1)) ||
        !(gc->golden = malloc(b->c)))
        return sq_err(SQ_ERR_MEM, "out of memory for a %ux%ux%u gemm", m, n, k);
    for (size_t i = 0; i < m; i++)
        rnd_row(&s, gc->a + i * k, k, -128, 127);
    int rc;
    if ((rc = draw_weights(gc, &s)) || (rc = draw_epilogue(gc, &s)))
        return rc;
    if (flags & SQ_GEMM_GSCALE)
        draw_gscale(gc, &s);
    sq_gemm_t g = {
        .m = m,
        .n = n,
        .k = k,
        .flags = flags,
        .a = gc->a,
        .w = gc->w,
        .meta = gc->meta,
        .bias = gc->bias,
        .quant = gc->quant,
        .c = gc->golden,
        .group = gc->d.group,
        .gscale = gc->gscale,
    };
    if (sq_gemm_ref(&g) != 0)
        return sq_err(SQ_ERR_ARG, "golden reference rejected the %ux%ux%u gemm", m, n, k);
    return 0;
}

uint64_t sq_gemm_case_dev_bytes(const sq_gemm_case_t *gc)
{
    const sq_gemm_bytes_t *b = &gc->b;
    /* every piece starts on a 64-byte allocation boundary */
    return b->a + b->w + b->meta + b->bias + b->quant + b->c + b->gscale + SQ_DESC_BYTES + 8 * 64;
}

void sq_gemm_case_bytes(uint32_t m, uint32_t n, uint32_t k, uint32_t flags, uint64_t *host,
                        uint64_t *dev)
{
    sq_gemm_case_t gc = {.d = {.flags = flags, .m = m, .n = n, .k = k, .group = 1}};
    sq_gemm_desc_bytes(&gc.d, &gc.b);
    const sq_gemm_bytes_t *b = &gc.b;
    /* the operands, the golden C and a k-element scratch row */
    *host = b->a + b->w + b->meta + b->bias + b->quant + b->c + b->gscale + k;
    *dev = sq_gemm_case_dev_bytes(&gc);
}

int sq_gemm_case_place(sq_dev_t *dev, sq_gemm_case_t *gc, uint64_t *cmd_addr)
{
    sq_gemm_desc_t *d = &gc->d;
    const sq_gemm_bytes_t *b = &gc->b;
    int rc;
    if ((rc = sq_dev_put(dev, gc->a, b->a, &d->a)) || (rc = sq_dev_put(dev, gc->w, b->w, &d->w)) ||
        (rc = sq_dev_put(dev, gc->meta, b->meta, &d->meta)) ||
        (rc = sq_dev_put(dev, gc->bias, b->bias, &d->bias)) ||
        (rc = sq_dev_put(dev, gc->quant, b->quant, &d->quant)) ||
        (rc = sq_dev_put(dev, gc->gscale, b->gscale, &d->gscale)) ||
        (rc = sq_dev_put(dev, NULL, b->c, &d->c)))
        return rc;
    uint8_t desc[SQ_DESC_BYTES];
    sq_gemm_desc_encode(d, desc);
    return sq_dev_put(dev, desc, sizeof desc, cmd_addr);
}

int sq_gemm_case_split(sq_dev_t *dev, const sq_gemm_case_t *gc, uint64_t *cmd_addr,
                       uint32_t *n_cmds)
{
    uint32_t cus = sq_dev_gemm_cus(dev);
    *n_cmds = 1;
    if (cus == 1)
        return 0;
    uint8_t parts[SQ_GEMM_CUS_MAX][SQ_DESC_BYTES];
    sq_gemm_desc_t part;
    *n_cmds = 0;
    for (uint32_t j = 0; j < cus; j++)
        if (sq_gemm_desc_split(&gc->d, cus, j, &part))
            sq_gemm_desc_encode(&part, parts[(*n_cmds)++]);
    return sq_dev_put(dev, parts, (uint64_t)*n_cmds * SQ_DESC_BYTES, cmd_addr);
}

int sq_gemm_case_read(sq_dev_t *dev, const sq_gemm_case_t *gc, void *out)
{
    return sq_dev_read(dev, gc->d.c, out, (size_t)gc->b.c);
}

uint64_t sq_gemm_case_mismatches(const sq_gemm_case_t *gc, const void *out, uint64_t *first)
{
    uint64_t count = 0, elems = (uint64_t)gc->d.m * gc->d.n;
    int wide = (gc->d.flags & SQ_GEMM_OUT32) != 0;
    *first = elems;
    for (uint64_t i = 0; i < elems; i++) {
        int differs = wide ? ((const int32_t *)out)[i] != ((const int32_t *)gc->golden)[i]
                           : ((const int8_t *)out)[i] != ((const int8_t *)gc->golden)[i];
        if (differs && count++ == 0)
            *first = i;
    }
    return count;
}
