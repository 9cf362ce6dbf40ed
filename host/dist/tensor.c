/* Tensor parallelism: every integer GEMM split over the ranks
 * (dist/parallel.h). The wrapper sits between the compressed layer
 * (compress/qlinear.c, which quantizes activations and dequantizes int32
 * results on the host) and the GEMM runner (the device's, or the golden
 * reference), so it sees int32 results and nothing else changes. */
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"
#include "dist/parallel.h"
#include "util/err.h"

/* A rank's share of a weight operand on its device: rows [lo, hi) of w as
 * they are (a column split; ws NULL), or inputs [lo, hi) of every row,
 * repacked into ws and meta (a row split). */
typedef struct {
    const void *w; /* the whole operand it was cut from */
    size_t lo, hi;
    int rows;      /* a row split's */
    uint8_t *ws, *meta;
} shard_t;

struct sq_tensor {
    sq_gemm_runner_t inner;   /* the runner wrapped */
    sq_qscratch_t *scratch;
    sq_llama_exec_t inner_ex; /* the linear hook wrapped */
    sq_tensor_place_fn place;
    void *place_ctx;
    const sq_link_t *link;
    int rank, size;
    sq_wkind_t kind;          /* the matrix in flight */
    shard_t *shards;
    size_t n_shards, cap_shards;
    int8_t *act;              /* a row-split call's activations */
    int32_t *part;            /* a column-split call's own columns */
    size_t act_cap, part_cap;
    sq_traffic_t t;
};

/* The matmuls after a column-split one take its output, so they split by
 * rows (Megatron-LM's pairing: Q/K/V then O, W1/W3 then W2). */
static int by_rows(sq_wkind_t kind)
{
    return kind == SQ_W_O || kind == SQ_W_2;
}

/* K of a row split is cut where the packed formats' rows can be cut: a
 * byte of two int4, and a 2:4 metadata byte (two groups of 4 inputs). */
static size_t k_align(uint32_t flags)
{
    return flags & SQ_GEMM_SP24 ? 8 : flags & SQ_GEMM_W4 ? 2 : 1;
}

static int grow(void **buf, size_t *cap, size_t bytes)
{
    if (bytes <= *cap)
        return 0;
    void *n = realloc(*buf, bytes);
    if (!n)
        return sq_err(SQ_ERR_MEM, "tensor split: out of memory");
    *buf = n;
    *cap = bytes;
    return 0;
}

static int run_inner(sq_tensor_t *t, const sq_gemm_t *g)
{
    if (t->inner.run)
        return t->inner.run(t->inner.ctx, g);
    return sq_gemm_ref(g) ? sq_err(SQ_ERR_ARG, "golden GEMM rejected a %zux%zu shard", g->n, g->k)
                          : 0;
}

static shard_t *find_shard(sq_tensor_t *t, const void *w, size_t lo, size_t hi, int rows)
{
    for (size_t i = 0; i < t->n_shards; i++)
        if (t->shards[i].w == w && t->shards[i].lo == lo && t->shards[i].hi == hi &&
            t->shards[i].rows == rows)
            return &t->shards[i];
    return NULL;
}

static int new_shard(sq_tensor_t *t, shard_t **out)
{
    if (t->n_shards == t->cap_shards) {
        size_t cap = t->cap_shards ? 2 * t->cap_shards : 16;
        shard_t *n = realloc(t->shards, cap * sizeof *n);
        if (!n)
            return sq_err(SQ_ERR_MEM, "tensor split: out of memory");
        t->shards = n;
        t->cap_shards = cap;
    }
    *out = &t->shards[t->n_shards];
    **out = (shard_t){0};
    return 0;
}

/* Output columns [n0, n1) of g's weights uploaded on first use: their rows
 * of the operand as they are. */
static int columns_placed(sq_tensor_t *t, const sq_gemm_t *g, size_t n0, size_t n1)
{
    if (!t->place || find_shard(t, g->w, n0, n1, 0))
        return 0;
    shard_t *s;
    int rc = new_shard(t, &s);
    if (rc)
        return rc;
    *s = (shard_t){.w = g->w, .lo = n0, .hi = n1};
    t->n_shards++;
    size_t row = sq_w_row_bytes(g->flags, g->k), mrow = sq_meta_row_bytes(g->k);
    rc = t->place(t->place_ctx, (const uint8_t *)g->w + n0 * row, (n1 - n0) * row);
    if (!rc && (g->flags & SQ_GEMM_SP24))
        rc = t->place(t->place_ctx, g->meta + n0 * mrow, (n1 - n0) * mrow);
    return rc;
}

/* The shard of g's weights for inputs [k0, k1), cut and uploaded on first
 * use. */
static int shard_for(sq_tensor_t *t, const sq_gemm_t *g, size_t k0, size_t k1, shard_t **out)
{
    if ((*out = find_shard(t, g->w, k0, k1, 1)))
        return 0;
    shard_t *s;
    int rc = new_shard(t, &s);
    if (rc)
        return rc;
    *s = (shard_t){.w = g->w, .lo = k0, .hi = k1, .rows = 1};
    size_t row = sq_w_row_bytes(g->flags, g->k), srow = sq_w_row_bytes(g->flags, k1 - k0);
    size_t off = sq_w_row_bytes(g->flags, k0);
    size_t mrow = sq_meta_row_bytes(g->k), smrow = sq_meta_row_bytes(k1 - k0);
    size_t moff = sq_meta_row_bytes(k0);
    int sp = (g->flags & SQ_GEMM_SP24) != 0;
    s->ws = malloc(g->n * srow);
    s->meta = sp ? malloc(g->n * smrow) : NULL;
    if (!s->ws || (sp && !s->meta)) {
        free(s->ws);
        free(s->meta);
        return sq_err(SQ_ERR_MEM, "tensor split: out of memory");
    }
    for (size_t j = 0; j < g->n; j++) {
        memcpy(s->ws + j * srow, (const uint8_t *)g->w + j * row + off, srow);
        if (sp)
            memcpy(s->meta + j * smrow, g->meta + j * mrow + moff, smrow);
    }
    t->n_shards++;
    if (t->place) {
        rc = t->place(t->place_ctx, s->ws, g->n * srow);
        if (!rc && sp)
            rc = t->place(t->place_ctx, s->meta, g->n * smrow);
    }
    *out = s;
    return rc;
}

/* This rank's output columns [n0, n1), scattered into a zeroed C. */
static int by_columns(sq_tensor_t *t, const sq_gemm_t *g)
{
    uint64_t n0, n1;
    sq_parallel_share(g->n, t->size, t->rank, &n0, &n1);
    memset(g->c, 0, g->m * g->n * sizeof(int32_t));
    if (n1 == n0)
        return 0;
    size_t nn = (size_t)(n1 - n0);
    int rc = grow((void **)&t->part, &t->part_cap, g->m * nn * sizeof(int32_t));
    if (!rc)
        rc = columns_placed(t, g, (size_t)n0, (size_t)n1);
    if (rc)
        return rc;
    sq_gemm_t s = *g;
    s.n = nn;
    s.w = (const uint8_t *)g->w + n0 * sq_w_row_bytes(g->flags, g->k);
    if (g->flags & SQ_GEMM_SP24)
        s.meta = g->meta + n0 * sq_meta_row_bytes(g->k);
    s.c = t->part;
    if ((rc = run_inner(t, &s)))
        return rc;
    for (size_t i = 0; i < g->m; i++)
        memcpy((int32_t *)g->c + i * g->n + n0, t->part + i * nn, nn * sizeof(int32_t));
    return 0;
}

/* This rank's inputs [k0, k1): int32 partial sums of every output. */
static int by_k(sq_tensor_t *t, const sq_gemm_t *g)
{
    size_t a = k_align(g->flags), units = (g->k + a - 1) / a;
    uint64_t u0, u1;
    sq_parallel_share(units, t->size, t->rank, &u0, &u1);
    size_t k0 = (size_t)u0 * a, k1 = (size_t)u1 * a < g->k ? (size_t)u1 * a : g->k;
    if (k1 <= k0) {
        memset(g->c, 0, g->m * g->n * sizeof(int32_t));
        return 0;
    }
    size_t kk = k1 - k0;
    shard_t *sh = NULL;
    int rc = grow((void **)&t->act, &t->act_cap, g->m * kk);
    if (!rc)
        rc = shard_for(t, g, k0, k1, &sh);
    if (rc)
        return rc;
    for (size_t i = 0; i < g->m; i++)
        memcpy(t->act + i * kk, g->a + i * g->k + k0, kk);
    sq_gemm_t s = *g;
    s.k = kk;
    s.a = t->act;
    s.w = sh->ws;
    s.meta = sh->meta;
    return run_inner(t, &s);
}

static int gemm(void *ctx, const sq_gemm_t *g)
{
    sq_tensor_t *t = ctx;
    if (!(g->flags & SQ_GEMM_OUT32) || (g->flags & (SQ_GEMM_BIAS | SQ_GEMM_RELU | SQ_GEMM_GSCALE)))
        return sq_err(SQ_ERR_ARG, "tensor split: only plain int32-result GEMMs are split");
    int rc = by_rows(t->kind) ? by_k(t, g) : by_columns(t, g);
    /* a rank's error leaves the others in the all-reduce */
    if (rc)
        sq_parallel_fail("generate", sq_err_msg());
    size_t bytes = g->m * g->n * sizeof(int32_t);
    if ((rc = sq_dist_sum_i32(g->c, g->m * g->n)))
        sq_parallel_fail("generate", sq_err_msg());
    if (t->size > 1) {
        t->t.coll_bytes += bytes;
        t->t.collectives++;
    }
    t->t.link_s += sq_link_allreduce_s(t->link, bytes, t->size);
    return 0;
}

static int linear(void *ctx, int layer, sq_wkind_t kind, const float *x, float *y)
{
    sq_tensor_t *t = ctx;
    t->kind = kind;
    return t->inner_ex.linear(t->inner_ex.ctx, layer, kind, x, y);
}

int sq_tensor_attach(sq_tensor_t **out, sq_qscratch_t *scratch, sq_llama_exec_t *ex,
                     sq_tensor_place_fn place, void *place_ctx, const sq_link_t *link)
{
    *out = NULL;
    if (ex->forward)
        return sq_err(SQ_ERR_ARG, "--tensor splits the matmuls of the recipe path; the integer "
                      "layer runs whole tokens (add --offload linears)");
    if (!ex->linear)
        return sq_err(SQ_ERR_ARG, "--tensor splits integer matmuls: give an integer recipe "
                      "(e.g. --recipe w8a8)");
    sq_tensor_t *t = calloc(1, sizeof *t);
    if (!t)
        return sq_err(SQ_ERR_MEM, "out of memory");
    t->inner = scratch->runner;
    t->scratch = scratch;
    t->inner_ex = *ex;
    t->place = place;
    t->place_ctx = place_ctx;
    t->link = link;
    t->rank = sq_dist_rank();
    t->size = sq_dist_size();
    scratch->runner = (sq_gemm_runner_t){gemm, t};
    ex->linear = linear;
    ex->ctx = t;
    *out = t;
    return 0;
}

void sq_tensor_free(sq_tensor_t *t)
{
    if (!t)
        return;
    t->scratch->runner = t->inner;
    for (size_t i = 0; i < t->n_shards; i++) {
        free(t->shards[i].ws);
        free(t->shards[i].meta);
    }
    free(t->shards);
    free(t->act);
    free(t->part);
    free(t);
}

sq_traffic_t sq_tensor_traffic(const sq_tensor_t *t)
{
    return t ? t->t : (sq_traffic_t){0};
}
