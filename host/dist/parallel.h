/* One model over several MPI ranks, each driving its own device (issue 13):
 *
 * pipeline  the layers split into contiguous stages, one per rank
 *           (sq_pipeline_*): rank r runs layers [L r / N, L (r + 1) / N) and
 *           passes the residual stream (dim floats) to rank r + 1; the last
 *           rank sends the logits back to rank 0, which samples. Several
 *           sequences (micro-batches of one position each) are in flight at
 *           once, so that with as many sequences as stages every stage has
 *           work while the others run theirs.
 * tensor    every integer matmul split over the ranks (sq_tensor_*): Q, K, V,
 *           W1, W3 and the classifier by output columns, the matmuls after
 *           them (W_O, W2) by rows (the reduction dimension K); the int32
 *           results are combined with an all-reduce that adds modulo 2^32,
 *           like the array's accumulators, so the sums are one rank's bits.
 *
 * Both run the recipe path (host/sched/program.c: linears on the device, the
 * rest on the host) or the golden host path. Host ops (norms, RoPE,
 * attention on the host, SwiGLU) run on every rank of a tensor split: the
 * column-split outputs are combined too (each element from one rank, the
 * others adding 0), where Megatron keeps heads local; the report models the
 * collectives that this implementation runs.
 *
 * Each module counts what it hands to MPI; sq_parallel_report gathers every
 * rank's device counters and traffic on rank 0 and prints, per rank, cycles,
 * device bytes and bytes communicated per token, and a modeled multi-device
 * latency per token over a link (report/link.h), saying whether the link or
 * compute bounds it. An error on one rank ends the whole job (MPI_Abort):
 * its peers would otherwise wait for it forever. */
#ifndef SQ_PARALLEL_H
#define SQ_PARALLEL_H

#include <stdint.h>
#include <stdio.h>

#include "compress/qlinear.h"
#include "model/llama.h"
#include "report/link.h"

/* What one rank handed to MPI. */
typedef struct {
    uint64_t sent;        /* bytes sent point to point */
    uint64_t messages;    /* point-to-point messages */
    uint64_t coll_bytes;  /* bytes of its buffer in collectives (all-reduce, broadcast) */
    uint64_t collectives;
    double link_s;        /* modeled time of those transfers on the report's link */
    /* a pipeline: wall time of the run on this machine, and the part of it
     * spent waiting for another rank's message */
    double run_s, wait_s;
} sq_traffic_t;

typedef struct sq_pipeline sq_pipeline_t;

/* This rank's stage of m for nseq sequences (a KV cache each), its layers
 * run with ex's hooks (its device, its attention); m must outlive the
 * pipeline. Fails when there are more ranks than layers, or for the
 * integer layer (ex->forward runs whole tokens). */
int sq_pipeline_attach(sq_pipeline_t **out, const sq_llama_t *m, const sq_llama_exec_t *ex,
                       int nseq, const sq_link_t *link);
void sq_pipeline_free(sq_pipeline_t *p);

/* What a sequence runs next (sq_pipeline_hooks_t.next). */
enum { SQ_PIPELINE_DONE, SQ_PIPELINE_PROMPT, SQ_PIPELINE_DECODE };

typedef struct {
    /* Rank 0 only: sequence seq's next position, from the logits of its
     * last one (NULL before its first): *token at *pos, a prompt or a decode
     * position, or SQ_PIPELINE_DONE. */
    int (*next)(void *ctx, int seq, const float *logits, int *token, int *pos);
    /* Every rank: its report's phases (prompt, then decode), as one process
     * would mark them: every prompt position runs before the first decode
     * position. */
    void (*phase_begin)(void *ctx, int decode);
    void (*phase_end)(void *ctx, uint64_t steps, uint64_t positions);
    void *ctx;
} sq_pipeline_hooks_t;

/* Every rank: runs the sequences until rank 0's next says every one is
 * done; *positions gets the positions this rank ran. An error on one rank
 * of several ends the job (sq_parallel_fail). */
int sq_pipeline_run(sq_pipeline_t *p, const sq_pipeline_hooks_t *h, uint64_t *positions);
/* This rank's stage: layers [*lo, *hi). */
void sq_pipeline_layers(const sq_pipeline_t *p, int32_t *lo, int32_t *hi);

typedef struct sq_tensor sq_tensor_t;

/* Uploads a host array (a weight shard) where the wrapped runner finds it;
 * NULL when the runner is the golden reference on the host. */
typedef int (*sq_tensor_place_fn)(void *ctx, const void *host, size_t bytes);

/* Wraps scratch's GEMM runner (the device's, or the golden reference) and
 * ex's linear hook (to know which matrix a GEMM belongs to). Row-split
 * weight shards are cut on first use and uploaded with place. */
int sq_tensor_attach(sq_tensor_t **out, sq_qscratch_t *scratch, sq_llama_exec_t *ex,
                     sq_tensor_place_fn place, void *place_ctx, const sq_link_t *link);
void sq_tensor_free(sq_tensor_t *t);

/* This rank's share of a split of n units into `size` parts: [*lo, *hi). */
void sq_parallel_share(uint64_t n, int size, int rank, uint64_t *lo, uint64_t *hi);

/* What one rank did, for the report. */
typedef struct {
    int32_t rank, layer_lo, layer_hi; /* its stage (all layers for a tensor split) */
    uint64_t tokens;                  /* positions run */
    int32_t seqs;                     /* sequences in flight (a pipeline) */
    uint64_t cycles, bytes;           /* its device's cycles and memory traffic */
    uint64_t weights;                 /* weight bytes resident on its device */
    sq_traffic_t traffic;
} sq_rank_stats_t;

/* Traffic of a pipeline or tensor split so far (NULL: zeros). */
sq_traffic_t sq_pipeline_traffic(const sq_pipeline_t *p);
sq_traffic_t sq_tensor_traffic(const sq_tensor_t *t);

/* Collective: gathers every rank's stats on rank 0, which prints the per-rank
 * table and the modeled latency per token (mode "pipeline" or "tensor", at
 * clock_mhz, on link) on f. */
int sq_parallel_report(const char *mode, const sq_rank_stats_t *mine, double clock_mhz,
                       const sq_link_t *link, FILE *f);

/* Prints "sparq CMD: rank R: MSG" and ends every rank with exit code 1 (after
 * an error on one rank of a split whose peers are waiting for it). */
void sq_parallel_fail(const char *cmd, const char *msg) __attribute__((noreturn));

#endif
