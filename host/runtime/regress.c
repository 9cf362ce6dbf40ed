/* Constrained-random regression cases (constraints in runtime/regress.h). */
#include "runtime/regress.h"

#include <string.h>

#include "sparq/spec.h"
#include "util/rand.h"

const char *const sq_regress_unit_name[SQ_REGRESS_UNITS] = {"gemm", "attn"};

uint32_t sq_regress_pick_mn(uint64_t *s)
{
    uint64_t r = sq_rand(s);
    switch (r % 5) {
    case 0:
        return 1;
    case 1:
        return SQ_ARRAY_ROWS * (uint32_t)(1 + (r >> 8) % 3) + (uint32_t)((r >> 16) % 3) - 1;
    case 2:
        return 1 + (uint32_t)((r >> 8) % 8);
    default:
        return 1 + (uint32_t)((r >> 8) % 70);
    }
}

uint32_t sq_regress_pick_k(uint64_t *s)
{
    uint64_t r = sq_rand(s);
    switch (r % 6) {
    case 0:
        return 1 + (uint32_t)((r >> 8) % 8);
    case 1:
        return SQ_GEMM_TILE_K - 3 + (uint32_t)((r >> 8) % 8);
    case 2:
        return 2 * SQ_GEMM_TILE_K + 1 + (uint32_t)((r >> 8) % 4);
    default:
        return 1 + (uint32_t)((r >> 8) % 150);
    }
}

void sq_regress_gemm(uint64_t seed, uint64_t i, sq_regress_gemm_t *c)
{
    uint64_t s = sq_rand_stream(seed ^ SQ_REGRESS_GEMM, i);
    c->m = sq_regress_pick_mn(&s);
    c->n = sq_regress_pick_mn(&s);
    c->k = sq_regress_pick_k(&s);
    uint64_t r = sq_rand(&s);
    static const uint32_t formats[3] = {0, SQ_GEMM_W4, SQ_GEMM_SP24};
    c->flags = formats[r % 3];
    c->flags |= (r >> 8 & 1) ? SQ_GEMM_RELU : 0;
    c->flags |= (r >> 9 & 1) ? SQ_GEMM_OUT32 : 0;
    c->flags |= (r >> 10 & 1) ? SQ_GEMM_BIAS : 0;
    /* one dimension of 1 in every eight cases, whatever the draw */
    switch (r >> 11 & 7) {
    case 0: c->m = 1; break;
    case 1: c->n = 1; break;
    case 2: c->k = 1; break;
    default: break;
    }
    c->seed = sq_rand(&s) & 0x7fffffff;
}

static uint32_t pick(uint64_t *s, const uint32_t *v, size_t n)
{
    return v[sq_rand(s) % n];
}

void sq_regress_attn(uint64_t seed, uint64_t i, uint64_t max_work, sq_attn_params_t *p)
{
    static const uint32_t seqs[] = {1, 2, 5, 31, 32, 33, 64, 97, 130, 200};
    static const uint32_t dims[] = {1, 8, 13, 16, 32, 64, 128};
    static const uint32_t hs[][2] = {{1, 1}, {2, 1}, {2, 2}, {4, 2}, {6, 3}, {8, 4}, {8, 1}};
    static const uint32_t ranges[] = {0, 2, 20, 128};
    static const double dens[] = {0.0, 0.25, 0.5, 0.9};
    uint64_t s = sq_rand_stream(seed ^ SQ_REGRESS_ATTN, i);
    memset(p, 0, sizeof *p);
    /* consecutive cases cycle through every pattern combination */
    p->flags = (uint32_t)(i % 32);
    p->seq = pick(&s, seqs, sizeof seqs / sizeof seqs[0]);
    int mode = (int)(sq_rand(&s) % 3);
    p->queries = mode == 0 ? 1 : mode == 1 ? p->seq : 1 + (uint32_t)(sq_rand(&s) % p->seq);
    const uint32_t *h = hs[sq_rand(&s) % (sizeof hs / sizeof hs[0])];
    p->heads = h[0];
    p->kv_heads = h[1];
    p->head_dim = pick(&s, dims, sizeof dims / sizeof dims[0]);
    while ((uint64_t)p->queries * p->seq * p->heads * p->head_dim > max_work && p->queries > 1)
        p->queries /= 2;
    p->kv_cap = p->seq + (uint32_t)(sq_rand(&s) % 3);
    p->window = 1 + (uint32_t)(sq_rand(&s) % (p->seq + 40));
    p->n_global = (uint32_t)(sq_rand(&s) % (p->seq / 4 + 3));
    p->topk = 1 + (uint32_t)(sq_rand(&s) % (p->seq + 4));
    p->block_density = dens[sq_rand(&s) % 4];
    p->int8_range = (int)pick(&s, ranges, sizeof ranges / sizeof ranges[0]);
    p->seed = sq_rand(&s);
}
