/* Random attention problems with golden answers (see runtime/attn_case.h). */
#include "runtime/attn_case.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/rand.h"

/* Standard normal (Box-Muller). */
static float rnd_normal(uint64_t *s)
{
    double u = sq_rand_unit(s), v = sq_rand_unit(s);
    return (float)(sqrt(-2.0 * log(u + 0x1.0p-60)) * cos(6.283185307179586 * v));
}

void sq_attn_case_free(sq_attn_case_t *ac)
{
    free(ac->q);
    free(ac->k);
    free(ac->v);
    free(ac->mask);
    free(ac->quant);
    free(ac->golden);
    free(ac->qf);
    free(ac->kf);
    free(ac->vf);
    free(ac->scale_o);
    memset(ac, 0, sizeof *ac);
}

/* Per-head int8 scales from fp32 data (one scale per block of len values). */
static void quantize_heads(const float *x, int8_t *q, size_t heads, size_t len, float *scale)
{
    for (size_t h = 0; h < heads; h++)
        scale[h] = sq_quant_i8(x + h * len, len, q + h * len);
}

static int draw(sq_attn_case_t *ac, const sq_attn_params_t *p, uint64_t *s)
{
    const sq_attn_desc_t *d = &ac->d;
    size_t qlen = (size_t)d->queries * d->head_dim, kvlen = (size_t)d->kv_cap * d->head_dim;
    uint32_t group = d->heads / d->kv_heads;
    if (p->int8_range) {
        int r = p->int8_range;
        for (uint64_t i = 0; i < ac->b.q; i++)
            ac->q[i] = (int8_t)((int)(sq_rand(s) % (uint64_t)(2 * r + 1)) - r);
        for (uint64_t i = 0; i < ac->b.k; i++) {
            ac->k[i] = (int8_t)((int)(sq_rand(s) % (uint64_t)(2 * r + 1)) - r);
            ac->v[i] = (int8_t)((int)(sq_rand(s) % 256) - 128);
        }
        for (uint32_t h = 0; h < d->heads; h++) {
            double sq = (1.0 + (double)(sq_rand(s) % 100)) / 2000.0;
            double sv = (1.0 + (double)(sq_rand(s) % 100)) / 100.0;
            double so = sv * (0.5 + (double)(sq_rand(s) % 5) * 0.5);
            ac->scale_o[h] = (float)so;
            if (sq_attn_quant_make(sq, sq, sv, so, d->head_dim, &ac->quant[h]) != 0)
                return sq_err(SQ_ERR_ARG, "attn case: scales not representable");
        }
        return 0;
    }
    ac->qf = malloc(ac->b.q * sizeof(float));
    ac->kf = malloc(ac->b.k * sizeof(float));
    ac->vf = malloc(ac->b.v * sizeof(float));
    float *sq = malloc(d->heads * sizeof(float));
    float *sk = malloc(d->kv_heads * sizeof(float));
    float *sv = malloc(d->kv_heads * sizeof(float));
    int rc = 0;
    if (!ac->qf || !ac->kf || !ac->vf || !sq || !sk || !sv) {
        rc = sq_err(SQ_ERR_MEM, "out of memory drawing attention data");
    } else {
        for (uint64_t i = 0; i < ac->b.q; i++)
            ac->qf[i] = rnd_normal(s);
        for (uint64_t i = 0; i < ac->b.k; i++) {
            ac->kf[i] = rnd_normal(s);
            ac->vf[i] = rnd_normal(s);
        }
        quantize_heads(ac->qf, ac->q, d->heads, qlen, sq);
        quantize_heads(ac->kf, ac->k, d->kv_heads, kvlen, sk);
        quantize_heads(ac->vf, ac->v, d->kv_heads, kvlen, sv);
        for (uint32_t h = 0; h < d->heads && !rc; h++) {
            uint32_t g = h / group;
            /* O is a convex combination of V rows: V's scale covers it */
            ac->scale_o[h] = sv[g];
            if (sq_attn_quant_make(sq[h], sk[g], sv[g], sv[g], d->head_dim, &ac->quant[h]) != 0)
                rc = sq_err(SQ_ERR_ARG, "attn case: scales not representable");
        }
    }
    free(sq);
    free(sk);
    free(sv);
    return rc;
}

int sq_attn_case_build(sq_attn_case_t *ac, const sq_attn_params_t *p)
{
    memset(ac, 0, sizeof *ac);
    sq_attn_desc_t *d = &ac->d;
    d->flags = p->flags;
    d->seq = p->seq;
    d->queries = p->queries;
    d->heads = p->heads;
    d->kv_heads = p->kv_heads;
    d->head_dim = p->head_dim;
    d->kv_cap = p->kv_cap ? p->kv_cap : p->seq;
    d->window = p->window;
    d->n_global = p->n_global;
    d->topk = p->topk;
    sq_attn_desc_view(d, NULL, &ac->a);
    if (sq_attn_check_shape(&ac->a) != 0)
        return sq_err(SQ_ERR_ARG,
                      "attention shape or pattern outside the unit: need 1 <= queries <= seq <= "
                      "%u, heads (<= %u) a multiple of kv-heads, 1 <= head-dim <= %u, window and "
                      "topk >= 1",
                      SQ_ATTN_MAX_SEQ, SQ_ATTN_MAX_HEADS, SQ_ATTN_MAX_DIM);
    if (p->int8_range < 0 || p->int8_range > 128 || !(p->block_density >= 0.0) ||
        p->block_density > 1.0)
        return sq_err(SQ_ERR_ARG, "attn case: int8 range in [0, 128], density in [0, 1]");
    sq_attn_desc_bytes(d, &ac->b);
    uint32_t nb = sq_attn_blocks(d->seq);
    ac->q = malloc(ac->b.q);
    ac->k = malloc(ac->b.k);
    ac->v = malloc(ac->b.v);
    ac->mask = calloc((size_t)nb * SQ_ATTN_MASK_ROW_BYTES, 1);
    ac->quant = malloc(d->heads * sizeof *ac->quant);
    ac->golden = malloc(ac->b.o);
    ac->scale_o = malloc(d->heads * sizeof(float));
    if (!ac->q || !ac->k || !ac->v || !ac->mask || !ac->quant || !ac->golden || !ac->scale_o)
        return sq_err(SQ_ERR_MEM, "out of memory building an attention case");
    uint64_t s = p->seed;
    int rc = draw(ac, p, &s);
    if (rc)
        return rc;
    for (uint32_t qb = 0; qb < nb; qb++)
        for (uint32_t kb = 0; kb < nb; kb++)
            if (sq_rand_unit(&s) < p->block_density)
                ac->mask[qb * SQ_ATTN_MASK_ROW_BYTES + kb / 8] |= (uint8_t)(1u << (kb % 8));
    ac->a.q = ac->q;
    ac->a.k = ac->k;
    ac->a.v = ac->v;
    ac->a.mask = ac->mask;
    ac->a.quant = ac->quant;
    ac->a.o = ac->golden;
    if (sq_attn_ref(&ac->a, &ac->work) != 0)
        return sq_err(SQ_ERR_ARG, "attn case rejected by the golden reference");
    return 0;
}

#define ALIGN 64u

uint64_t sq_attn_case_dev_bytes(const sq_attn_case_t *ac)
{
    const sq_attn_bytes_t *b = &ac->b;
    uint64_t sizes[] = {b->q, b->k, b->v, b->mask, b->quant, b->o, SQ_DESC_BYTES};
    uint64_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        total += (sizes[i] + ALIGN - 1) / ALIGN * ALIGN;
    return total;
}

void sq_attn_case_bytes(const sq_attn_params_t *p, uint64_t *host, uint64_t *dev)
{
    sq_attn_case_t ac = {.d = {.flags = p->flags, .seq = p->seq, .queries = p->queries,
                               .heads = p->heads, .kv_heads = p->kv_heads,
                               .head_dim = p->head_dim, .kv_cap = p->kv_cap ? p->kv_cap : p->seq}};
    sq_attn_desc_bytes(&ac.d, &ac.b);
    const sq_attn_bytes_t *b = &ac.b;
    uint64_t mask = (uint64_t)sq_attn_blocks(p->seq) * SQ_ATTN_MASK_ROW_BYTES;
    uint64_t fp32 = p->int8_range ? 0 : (b->q + b->k + b->v) * sizeof(float);
    /* the golden reference's row scratch (sq_attn_row_t and the accumulators) */
    uint64_t row = (uint64_t)SQ_ATTN_MAX_SEQ * 13 + (uint64_t)SQ_ATTN_MAX_DIM * 4;
    *host = b->q + b->k + b->v + mask + b->quant + b->o + fp32 + (uint64_t)p->heads * 4 + row;
    *dev = sq_attn_case_dev_bytes(&ac);
}

int sq_attn_case_place(sq_dev_t *dev, sq_attn_case_t *ac, uint64_t *cmd_addr)
{
    sq_attn_desc_t *d = &ac->d;
    const sq_attn_bytes_t *b = &ac->b;
    int rc;
    /* the memory image is little-endian, as is every host we build on */
    if ((rc = sq_dev_put(dev, ac->q, b->q, &d->q)) || (rc = sq_dev_put(dev, ac->k, b->k, &d->k)) ||
        (rc = sq_dev_put(dev, ac->v, b->v, &d->v)) ||
        (rc = sq_dev_put(dev, ac->mask, b->mask, &d->mask)) ||
        (rc = sq_dev_put(dev, ac->quant, b->quant, &d->quant)) ||
        (rc = sq_dev_put(dev, NULL, b->o, &d->o)))
        return rc;
    uint8_t desc[SQ_DESC_BYTES];
    sq_attn_desc_encode(d, desc);
    return sq_dev_put(dev, desc, sizeof desc, cmd_addr);
}

int sq_attn_case_read(sq_dev_t *dev, const sq_attn_case_t *ac, int8_t *out)
{
    return sq_dev_read(dev, ac->d.o, out, (size_t)ac->b.o);
}

uint64_t sq_attn_case_mismatches(const sq_attn_case_t *ac, const int8_t *out, uint64_t *first)
{
    uint64_t count = 0;
    *first = ac->b.o;
    for (uint64_t i = 0; i < ac->b.o; i++)
        if (out[i] != ac->golden[i] && count++ == 0)
            *first = i;
    return count;
}

int sq_attn_case_error(const sq_attn_case_t *ac, double *max, double *mean, double *ref_mean)
{
    if (!ac->qf)
        return -1;
    float *of = malloc(ac->b.o * sizeof(float));
    if (!of || sq_attn_f32(&ac->a, ac->qf, ac->kf, ac->vf, of) != 0) {
        free(of);
        return -1;
    }
    double mx = 0.0, sum = 0.0, ref = 0.0;
    uint64_t per_head = (uint64_t)ac->d.queries * ac->d.head_dim;
    for (uint64_t i = 0; i < ac->b.o; i++) {
        double e = fabs((double)ac->golden[i] * ac->scale_o[i / per_head] - of[i]);
        mx = e > mx ? e : mx;
        sum += e;
        ref += fabs(of[i]);
    }
    free(of);
    *max = mx;
    *mean = sum / (double)ac->b.o;
    *ref_mean = ref / (double)ac->b.o;
    return 0;
}
