/* Pipeline parallelism: this rank's stage of the layers, with several
 * sequences in flight (dist/parallel.h).
 *
 * Rank 0 schedules: it embeds a sequence's next position, runs its stage and
 * passes the residual stream on; every later rank serves the messages of the
 * rank before it in arrival order; the last one sends the logits back to
 * rank 0, which picks the sequence's next token (sq_pipeline_hooks_t). While
 * one sequence's position is in a later stage, rank 0 starts another's, so
 * with as many sequences as stages no stage waits for the ring to come
 * round. Messages between two ranks keep their order (MPI's non-overtaking
 * rule), so the logits come back in the order positions left rank 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dist/dist.h"
#include "dist/parallel.h"
#include "util/err.h"

#define TAG_X 13      /* a position and its residual stream, to the next stage */
#define TAG_LOGITS 14 /* a position's logits, from the last stage to rank 0 */
#define MSG_QUIT 3    /* kind of the message that ends the run */

/* What travels ahead of the dim (or vocab) floats of a message. */
typedef struct {
    int32_t seq, token, pos, kind; /* kind: SQ_PIPELINE_PROMPT or _DECODE, or MSG_QUIT */
} msg_t;

/* One sequence on this rank: its KV cache and scratch, and its send buffer
 * (a message stays untouched until its send completed). */
typedef struct {
    sq_llama_state_t s;
    msg_t *out;
    sq_dist_req_t req;
    int token, pos, kind; /* rank 0: the position to run next, or SQ_PIPELINE_DONE */
    int inflight;         /* rank 0: a position in the later stages */
} seq_t;

struct sq_pipeline {
    const sq_llama_t *m;
    sq_llama_exec_t ex; /* this rank's hooks: its device, its attention */
    seq_t *seqs;
    msg_t *in; /* ranks above 0: the message being served */
    int nseq, l0, l1, rank, size;
    const sq_link_t *link;
    sq_traffic_t t;
    uint64_t positions[2]; /* run by this rank: prompt, decode */
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

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A receive from another rank, its wait counted (the stage is idle). */
static int recv(sq_pipeline_t *p, size_t n, int src, int tag)
{
    double t0 = now_s();
    int rc = sq_dist_recv(p->in, n, src, tag);
    p->t.wait_s += now_s() - t0;
    return rc;
}

static float *payload(msg_t *msg)
{
    return (float *)(msg + 1);
}

static size_t msg_bytes(size_t floats)
{
    return sizeof(msg_t) + floats * sizeof(float);
}

/* Sends q's message of `floats` values to dest, counting it as link traffic. */
static int send(sq_pipeline_t *p, seq_t *q, size_t floats, int dest, int tag)
{
    size_t n = msg_bytes(floats);
    p->t.sent += n;
    p->t.messages++;
    p->t.link_s += sq_link_time_s(p->link, n);
    return sq_dist_isend(q->out, n, dest, tag, &q->req);
}

/* One position of sequence `seq` through this stage's layers, then on to the
 * next stage, or (the last stage) its logits to rank 0. */
static int run_stage(sq_pipeline_t *p, int seq, int token, int pos, int kind)
{
    const sq_llama_config_t *c = &p->m->cfg;
    seq_t *q = &p->seqs[seq];
    p->positions[kind == SQ_PIPELINE_DECODE]++;
    int rc = sq_llama_forward_layers(p->m, &q->s, token, pos, p->l0, p->l1, &p->ex);
    if (rc || p->size == 1)
        return rc;
    double t0 = now_s();
    rc = sq_dist_wait(&q->req); /* the previous position's message left */
    p->t.wait_s += now_s() - t0;
    if (rc)
        return rc;
    *q->out = (msg_t){seq, token, pos, kind};
    if (p->rank < p->size - 1) {
        memcpy(payload(q->out), q->s.x, (size_t)c->dim * sizeof(float));
        return send(p, q, (size_t)c->dim, p->rank + 1, TAG_X);
    }
    memcpy(payload(q->out), q->s.logits, (size_t)c->vocab_size * sizeof(float));
    return send(p, q, (size_t)c->vocab_size, 0, TAG_LOGITS);
}

/* The prompt phase ends on every rank at the first decode position: a
 * prompt of one sequence still in flight would count its position as
 * decode (rank 0 holds decode positions back until none is). */
static void phase_switch(sq_pipeline_t *p, const sq_pipeline_hooks_t *h)
{
    h->phase_end(h->ctx, (uint64_t)p->nseq, p->positions[0]);
    h->phase_begin(h->ctx, 1);
}

/* Rank 0: the schedule. Each round starts every sequence that has a
 * position to run, then waits for the oldest one in flight to come back. */
static int run_first(sq_pipeline_t *p, const sq_pipeline_hooks_t *h, int *decoding)
{
    int rc = 0, *fifo = malloc((size_t)p->nseq * sizeof *fifo), head = 0, count = 0;
    if (!fifo)
        return sq_err(SQ_ERR_MEM, "out of memory");
    const sq_llama_config_t *c = &p->m->cfg;
    for (int b = 0; b < p->nseq; b++) {
        seq_t *q = &p->seqs[b];
        q->kind = h->next(h->ctx, b, NULL, &q->token, &q->pos);
    }
    while (!rc) {
        int prompts = 0;
        for (int b = 0; b < p->nseq; b++)
            prompts += p->seqs[b].kind == SQ_PIPELINE_PROMPT;
        for (int b = 0; !rc && b < p->nseq; b++) {
            seq_t *q = &p->seqs[b];
            if (q->inflight || q->kind == SQ_PIPELINE_DONE ||
                (q->kind == SQ_PIPELINE_DECODE && prompts))
                continue;
            if (q->kind == SQ_PIPELINE_DECODE && !*decoding) {
                phase_switch(p, h);
                *decoding = 1;
            }
            rc = run_stage(p, b, q->token, q->pos, q->kind);
            q->inflight = 1;
            fifo[(head + count++) % p->nseq] = b;
        }
        if (rc || !count)
            break;
        seq_t *q = &p->seqs[fifo[head]];
        if (p->size > 1) {
            msg_t *in = p->in;
            rc = recv(p, msg_bytes((size_t)c->vocab_size), p->size - 1, TAG_LOGITS);
            if (!rc && in->seq != fifo[head])
                rc = sq_err(SQ_ERR_FMT, "pipeline: logits of sequence %d came back, expected %d",
                            in->seq, fifo[head]);
            if (!rc)
                memcpy(q->s.logits, payload(in), (size_t)c->vocab_size * sizeof(float));
        }
        head = (head + 1) % p->nseq;
        count--;
        q->inflight = 0;
        if (!rc)
            q->kind = h->next(h->ctx, (int)(q - p->seqs), q->s.logits, &q->token, &q->pos);
    }
    free(fifo);
    /* a message of the usual size: the stages receive no other */
    *p->in = (msg_t){-1, 0, 0, MSG_QUIT};
    if (!rc && p->size > 1)
        rc = sq_dist_send(p->in, msg_bytes((size_t)c->dim), 1, TAG_X);
    return rc;
}

/* A later rank: serves the previous stage's messages until it says quit,
 * and passes the quit on. */
static int run_later(sq_pipeline_t *p, const sq_pipeline_hooks_t *h, int *decoding)
{
    const sq_llama_config_t *c = &p->m->cfg;
    size_t n = msg_bytes((size_t)c->dim);
    for (;;) {
        msg_t *in = p->in;
        int rc = recv(p, n, p->rank - 1, TAG_X);
        if (rc)
            return rc;
        if (in->kind == MSG_QUIT)
            return p->rank < p->size - 1 ? sq_dist_send(in, n, p->rank + 1, TAG_X) : 0;
        if (in->seq < 0 || in->seq >= p->nseq ||
            (in->kind != SQ_PIPELINE_PROMPT && in->kind != SQ_PIPELINE_DECODE))
            return sq_err(SQ_ERR_FMT, "pipeline: malformed message (sequence %d, kind %d)",
                          in->seq, in->kind);
        if (in->kind == SQ_PIPELINE_DECODE && !*decoding) {
            phase_switch(p, h);
            *decoding = 1;
        }
        memcpy(p->seqs[in->seq].s.x, payload(in), (size_t)c->dim * sizeof(float));
        rc = run_stage(p, in->seq, in->token, in->pos, in->kind);
        if (rc)
            return rc;
    }
}

int sq_pipeline_run(sq_pipeline_t *p, const sq_pipeline_hooks_t *h, uint64_t *positions)
{
    int decoding = 0;
    double t0 = now_s();
    h->phase_begin(h->ctx, 0);
    int rc = p->rank == 0 ? run_first(p, h, &decoding) : run_later(p, h, &decoding);
    for (int b = 0; b < p->nseq; b++) {
        int wrc = sq_dist_wait(&p->seqs[b].req);
        rc = rc ? rc : wrc;
    }
    if (decoding)
        h->phase_end(h->ctx, p->positions[1], p->positions[1]);
    else
        h->phase_end(h->ctx, (uint64_t)p->nseq, p->positions[0]);
    *positions = p->positions[0] + p->positions[1];
    p->t.run_s = now_s() - t0;
    if (rc && p->size > 1) /* the other stages are blocked on this one */
        sq_parallel_fail("generate", sq_err_msg());
    return rc;
}

int sq_pipeline_attach(sq_pipeline_t **out, const sq_llama_t *m, const sq_llama_exec_t *ex,
                       int nseq, const sq_link_t *link)
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
    size_t floats = (size_t)(m->cfg.dim > m->cfg.vocab_size ? m->cfg.dim : m->cfg.vocab_size);
    p->m = m;
    p->ex = *ex;
    p->rank = rank;
    p->size = size;
    p->link = link;
    p->seqs = calloc((size_t)nseq, sizeof *p->seqs);
    p->in = malloc(msg_bytes(floats));
    int rc = p->seqs && p->in ? 0 : sq_err(SQ_ERR_MEM, "out of memory");
    for (int b = 0; !rc && b < nseq; b++) {
        seq_t *q = &p->seqs[b];
        rc = sq_llama_state_build(&q->s, &m->cfg);
        if (rc)
            break;
        p->nseq++; /* freed by sq_pipeline_free from here on */
        if (!(q->out = malloc(msg_bytes(floats))))
            rc = sq_err(SQ_ERR_MEM, "out of memory for %d sequences' buffers", nseq);
    }
    if (rc) {
        sq_pipeline_free(p);
        return rc;
    }
    uint64_t lo, hi;
    sq_parallel_share((uint64_t)m->cfg.n_layers, size, rank, &lo, &hi);
    p->l0 = (int)lo;
    p->l1 = (int)hi;
    *out = p;
    return 0;
}

void sq_pipeline_free(sq_pipeline_t *p)
{
    if (!p)
        return;
    for (int b = 0; b < p->nseq; b++) {
        sq_llama_state_free(&p->seqs[b].s);
        free(p->seqs[b].out);
    }
    free(p->seqs);
    free(p->in);
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
