/* sparq over several processes: what the commands need from MPI (rank, size,
 * broadcast, gather, reductions, point-to-point), behind one API with two
 * implementations chosen at build time (host/dist/dist.mk):
 *   host/dist/mpi/dist_mpi.c    Open MPI (Debian's libopenmpi-dev, 4.1)
 *   host/dist/none/dist_none.c  one process, for a build without MPI
 * Commands never call MPI themselves. Every rank runs the same binary on the
 * same architecture, so buffers travel as raw bytes.
 *
 * MPI starts only when a launcher started the process (mpirun, or srun with
 * PMIx): a plain `sparq ...` is one rank without MPI_Init, because Open MPI
 * 4.1's singleton init forks an `orted --hnp` daemon and takes ~0.7 s
 * (docs/mpi.md). All functions return 0 or an SQ_ERR_* code with a message
 * (util/err.h); collectives must be called by every rank in the same order. */
#ifndef SQ_DIST_H
#define SQ_DIST_H

#include <stddef.h>
#include <stdint.h>

/* Ranks a launcher started this process among, read from its environment:
 * 0 when no launcher started it, -1 when one did but did not say how many
 * (PMIx alone). Shared by both implementations. */
int sq_dist_launched(void);

/* Starts the layer once per process (later calls return the first result).
 * Under a launcher, initialises MPI; fails with SQ_ERR_ARG when launched over
 * several ranks by a build without MPI (each process would run alone and
 * print the same output N times). */
int sq_dist_init(void);
/* Ends MPI if sq_dist_init started it; a no-op otherwise. */
void sq_dist_finalize(void);

/* This process's rank in [0, size) and the number of ranks (0 and 1 before
 * sq_dist_init or without a launcher). */
int sq_dist_rank(void);
int sq_dist_size(void);
/* "Open MPI 4.1.4" (the library's own version line) or "none". */
const char *sq_dist_name(void);
/* Whether this build can run over several ranks (MPI is linked in). */
int sq_dist_available(void);

/* Root's n bytes of buf to every rank's buf. */
int sq_dist_bcast(void *buf, size_t n, int root);
/* Every rank's n bytes of send, in rank order, into root's recv (size * n
 * bytes; other ranks' recv is unused and may be NULL). */
int sq_dist_gather(const void *send, size_t n, void *recv, int root);
/* Element-wise sums over every rank, in place, the result on every rank.
 * Integer sums wrap modulo 2^32 (2^64) like the array's accumulators, so the
 * result is the same bits whatever order the ranks are combined in. */
int sq_dist_sum_i32(int32_t *v, size_t n);
int sq_dist_sum_u64(uint64_t *v, size_t n);
/* The largest v over every rank, on every rank (e.g. an exit code). */
int sq_dist_max_int(int *v);
/* Blocking point-to-point: n bytes to rank dest (not this rank), and n bytes
 * from rank src with the same tag (tag >= 0). */
int sq_dist_send(const void *buf, size_t n, int dest, int tag);
int sq_dist_recv(void *buf, size_t n, int src, int tag);
/* A send in flight: buf must stay untouched until sq_dist_wait. Stages of a
 * ring (the pipeline's last rank sends back to rank 0) use it, because two
 * blocking sends of messages above MPI's eager limit would wait on each
 * other. */
typedef struct {
    unsigned char h[16]; /* the implementation's request */
    int active;
} sq_dist_req_t;
int sq_dist_isend(const void *buf, size_t n, int dest, int tag, sq_dist_req_t *req);
/* Waits for req's send to complete (no-op for a request not in flight). */
int sq_dist_wait(sq_dist_req_t *req);

/* Ends every rank of the job with code (MPI_Abort), or this process when
 * MPI is not running: for an error one rank met while its peers wait on it. */
void sq_dist_abort(int code) __attribute__((noreturn));

#endif
