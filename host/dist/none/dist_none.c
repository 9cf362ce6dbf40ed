/* host/dist/dist.h for a build without MPI: one rank. A collective over one
 * rank is a copy; there is no other rank to send to. */
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"
#include "util/err.h"

int sq_dist_init(void)
{
    int n = sq_dist_launched();
    if (n > 1 || n < 0)
        return sq_err(SQ_ERR_ARG, "started by an MPI launcher, but this sparq was built without "
                      "MPI (install libopenmpi-dev and rebuild with make MPI=1)");
    return 0;
}

void sq_dist_finalize(void)
{
}

int sq_dist_rank(void)
{
    return 0;
}

int sq_dist_size(void)
{
    return 1;
}

const char *sq_dist_name(void)
{
    return "none";
}

int sq_dist_available(void)
{
    return 0;
}

static int check_root(int root)
{
    return root == 0 ? 0 : sq_err(SQ_ERR_ARG, "dist: no rank %d (one rank)", root);
}

int sq_dist_bcast(void *buf, size_t n, int root)
{
    (void)buf;
    (void)n;
    return check_root(root);
}

int sq_dist_gather(const void *send, size_t n, void *recv, int root)
{
    int rc = check_root(root);
    if (!rc && n)
        memmove(recv, send, n);
    return rc;
}

int sq_dist_sum_i32(int32_t *v, size_t n)
{
    (void)v;
    (void)n;
    return 0;
}

int sq_dist_sum_u64(uint64_t *v, size_t n)
{
    (void)v;
    (void)n;
    return 0;
}

int sq_dist_max_int(int *v)
{
    (void)v;
    return 0;
}

int sq_dist_send(const void *buf, size_t n, int dest, int tag)
{
    (void)buf;
    (void)n;
    (void)tag;
    return sq_err(SQ_ERR_ARG, "dist: cannot send to rank %d: one rank", dest);
}

int sq_dist_recv(void *buf, size_t n, int src, int tag)
{
    (void)buf;
    (void)n;
    (void)tag;
    return sq_err(SQ_ERR_ARG, "dist: cannot receive from rank %d: one rank", src);
}

int sq_dist_isend(const void *buf, size_t n, int dest, int tag, sq_dist_req_t *req)
{
    (void)req;
    return sq_dist_send(buf, n, dest, tag);
}

int sq_dist_wait(sq_dist_req_t *req)
{
    (void)req;
    return 0;
}

void sq_dist_abort(int code)
{
    exit(code);
}
