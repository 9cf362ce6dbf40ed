/* Pipeline parallelism: this rank's stage of the layers (dist/parallel.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"
#include "dist/parallel.h"
#include "util/err.h"

/* Tag of the residual stream passed between stages. */
#define TAG_X 13

struct sq_pipeline {
    const sq_llama_t *m;
    sq_llama_exec_t inner;  /* this rank's hooks: its device, its attention */
    sq_llama_state_t s;     /* this stage's scratch and KV cache */
    int l0, l1, rank, size;
    const sq_link_t *link;
    sq_traffic_t t;
};

void sq_parallel_share(uint64_t n, int size, int rank, uint64_t *lo, uint64_t *hi)
{
    *lo = n * (uint64_t)rank / (uint64_t)size;
    *hi = n * (uint64_t)(rank + 1) / (uint64_t)size;
}

void sq_parallel_fail(const char *cmd, const char *msg)
{
    fprintf(stderr, "sparq %s: rank %d: %s\n", cmd, sq_dist_rank(), msg);
    fflush(stderr);
    sq_dist_abort(1);
}

/* One position through this stage: the stream from the previous stage (or
 * the token's embedding), this rank's layers, the stream to the next stage;
 * the last stage's logits to every rank. */
static int forward(void *ctx, int token, int pos, float *logits)
{
    sq_pipeline_t *p = ctx;
    const sq_llama_config_t *c = &p->m->cfg;
    size_t xb = (size_t)c->dim * sizeof(float), lb = (size_t)c->vocab_size * sizeof(float);
    int rc = 0;
    if (p->rank > 0)
        rc = sq_dist_recv(p->s.x, xb, p->rank - 1, TAG_X);
    if (!rc)
        rc = sq_llama_forward_layers(p->m, &p->s, token, pos, p->l0, p->l1, &p->inner);
    if (!rc && p->rank < p->size - 1) {
        rc = sq_dist_send(p->s.x, xb, p->rank + 1, TAG_X);
        p->t.sent += xb;
        p->t.messages++;
        p->t.link_s += sq_link_time_s(p->link, xb);
    }
    if (!rc) {
        /* every rank samples from the same logits; the model counts what a
         * deployment sends instead: the sampled token (4 bytes) to stage 0 */
        rc = sq_dist_bcast(p->s.logits, lb, p->size - 1);
        if (p->size > 1) {
            p->t.coll_bytes += lb;
            p->t.collectives++;
        }
        if (p->rank == p->size - 1 && p->size > 1)
            p->t.link_s += sq_link_time_s(p->link, sizeof(int32_t));
    }
    if (rc) /* the other stages are blocked on this one */
        sq_parallel_fail("generate", sq_err_msg());
    memcpy(logits, p->s.logits, lb);
    return 0;
}

int sq_pipeline_attach(sq_pipeline_t **out, const sq_llama_t *m, sq_llama_exec_t *ex,
                       const sq_link_t *link)
{
    *out = NULL;
    int size = sq_dist_size(), rank = sq_dist_rank();
    if (size > m->cfg.n_layers)
        return sq_err(SQ_ERR_ARG, "--pipeline %d: more stages than the model's %d layers", size,
                      m->cfg.n_layers);
    if (ex->forward)
        return sq_err(SQ_ERR_ARG, "--pipeline splits the layers of the recipe path; the "
                      "integer layer runs whole tokens (add --offload linears)");
    sq_pipeline_t *p = calloc(1, sizeof *p);
    if (!p)
        return sq_err(SQ_ERR_MEM, "out of memory");
    int rc = sq_llama_state_build(&p->s, &m->cfg);
    if (rc) {
        free(p);
        return rc;
    }
    uint64_t lo, hi;
    sq_parallel_share((uint64_t)m->cfg.n_layers, size, rank, &lo, &hi);
    p->m = m;
    p->inner = *ex;
    p->l0 = (int)lo;
    p->l1 = (int)hi;
    p->rank = rank;
    p->size = size;
    p->link = link;
    *ex = (sq_llama_exec_t){.forward = forward, .fwd_ctx = p};
    *out = p;
    return 0;
}

void sq_pipeline_free(sq_pipeline_t *p)
{
    if (!p)
        return;
    sq_llama_state_free(&p->s);
    free(p);
}

sq_traffic_t sq_pipeline_traffic(const sq_pipeline_t *p)
{
    return p ? p->t : (sq_traffic_t){0};
}

void sq_pipeline_layers(const sq_pipeline_t *p, int32_t *lo, int32_t *hi)
{
    *lo = p->l0;
    *hi = p->l1;
}
