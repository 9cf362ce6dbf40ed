/* host/dist/dist.h on Open MPI. MPI starts only under a launcher (see
 * dist.h); a process nobody launched is one rank and never touches MPI, so a
 * collective over it is a copy, as in dist_none.c. Errors come back as codes
 * (MPI_ERRORS_RETURN), not as an abort of the whole job. */
#include <limits.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"
#include "util/err.h"

static struct {
    int done, rc; /* sq_dist_init ran, and what it returned */
    int mpi;      /* MPI_Init was called by us */
    int rank, size;
    MPI_Op sum_u32, sum_u64;
} g = {.size = 1};

/* MPI_SUM's behaviour on overflow is the implementation's; these wrap, like
 * the int32 accumulators they combine. */
static void add_u32(void *in, void *inout, int *len, MPI_Datatype *type)
{
    (void)type;
    const uint32_t *a = in;
    uint32_t *b = inout;
    for (int i = 0; i < *len; i++)
        b[i] += a[i];
}

static void add_u64(void *in, void *inout, int *len, MPI_Datatype *type)
{
    (void)type;
    const uint64_t *a = in;
    uint64_t *b = inout;
    for (int i = 0; i < *len; i++)
        b[i] += a[i];
}

/* An MPI return code as an sq_err code and message. */
static int check(int rc, const char *what)
{
    if (rc == MPI_SUCCESS)
        return 0;
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS)
        len = 0;
    msg[len] = 0;
    return sq_err(SQ_ERR_DEV, "MPI %s failed on rank %d: %s", what, g.rank, msg);
}

static int check_count(size_t n, const char *what)
{
    if (n > INT_MAX)
        return sq_err(SQ_ERR_ARG, "MPI %s: %zu bytes is more than one message carries (%d)", what,
                      n, INT_MAX);
    return 0;
}

static int check_rank(int r, const char *what)
{
    if (r < 0 || r >= g.size)
        return sq_err(SQ_ERR_ARG, "MPI %s: no rank %d (%d ranks)", what, r, g.size);
    return 0;
}

int sq_dist_init(void)
{
    if (g.done)
        return g.rc;
    g.done = 1;
    if (!sq_dist_launched())
        return 0;
    g.sum_u32 = g.sum_u64 = MPI_OP_NULL;
    int rc = check(MPI_Init(NULL, NULL), "init");
    g.mpi = rc == 0;
    if (!rc)
        rc = check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "errhandler");
    if (!rc)
        rc = check(MPI_Comm_rank(MPI_COMM_WORLD, &g.rank), "rank");
    if (!rc)
        rc = check(MPI_Comm_size(MPI_COMM_WORLD, &g.size), "size");
    if (!rc)
        rc = check(MPI_Op_create(add_u32, 1, &g.sum_u32), "op_create");
    if (!rc)
        rc = check(MPI_Op_create(add_u64, 1, &g.sum_u64), "op_create");
    g.rc = rc;
    return rc;
}

void sq_dist_finalize(void)
{
    if (!g.mpi)
        return;
    if (g.sum_u32 != MPI_OP_NULL)
        MPI_Op_free(&g.sum_u32);
    if (g.sum_u64 != MPI_OP_NULL)
        MPI_Op_free(&g.sum_u64);
    MPI_Finalize();
    g.mpi = 0;
}

int sq_dist_rank(void)
{
    return g.rank;
}

int sq_dist_size(void)
{
    return g.size;
}

const char *sq_dist_name(void)
{
    /* "Open MPI v4.1.4, package: Debian OpenMPI, ..." up to the first comma;
     * MPI_Get_library_version may be called before MPI_Init */
    static char name[MPI_MAX_LIBRARY_VERSION_STRING];
    if (!name[0]) {
        int len = 0;
        if (MPI_Get_library_version(name, &len) != MPI_SUCCESS)
            len = 0;
        name[len] = 0;
        name[strcspn(name, ",\n")] = 0;
        if (!name[0])
            strcpy(name, "MPI");
    }
    return name;
}

int sq_dist_available(void)
{
    return 1;
}

int sq_dist_bcast(void *buf, size_t n, int root)
{
    int rc = check_rank(root, "bcast");
    if (!rc)
        rc = check_count(n, "bcast");
    if (rc || g.size == 1)
        return rc;
    return check(MPI_Bcast(buf, (int)n, MPI_BYTE, root, MPI_COMM_WORLD), "bcast");
}

int sq_dist_gather(const void *send, size_t n, void *recv, int root)
{
    int rc = check_rank(root, "gather");
    if (!rc)
        rc = check_count(n, "gather");
    if (rc)
        return rc;
    if (g.size == 1) {
        if (n)
            memmove(recv, send, n);
        return 0;
    }
    return check(MPI_Gather(send, (int)n, MPI_BYTE, recv, (int)n, MPI_BYTE, root, MPI_COMM_WORLD),
                 "gather");
}

static int sum(void *v, size_t n, MPI_Datatype type, MPI_Op op)
{
    int rc = check_count(n, "sum");
    if (rc || g.size == 1)
        return rc;
    return check(MPI_Allreduce(MPI_IN_PLACE, v, (int)n, type, op, MPI_COMM_WORLD), "allreduce");
}

int sq_dist_sum_i32(int32_t *v, size_t n)
{
    return sum(v, n, MPI_UINT32_T, g.sum_u32);
}

int sq_dist_sum_u64(uint64_t *v, size_t n)
{
    return sum(v, n, MPI_UINT64_T, g.sum_u64);
}

int sq_dist_max_int(int *v)
{
    if (g.size == 1)
        return 0;
    return check(MPI_Allreduce(MPI_IN_PLACE, v, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD), "allreduce");
}

/* Point-to-point needs another rank; a blocking send to oneself would hang. */
static int check_peer(int peer, int tag, size_t n, const char *what)
{
    int rc = check_rank(peer, what);
    if (!rc && peer == g.rank)
        rc = sq_err(SQ_ERR_ARG, "MPI %s: rank %d cannot address itself", what, peer);
    if (!rc && tag < 0)
        rc = sq_err(SQ_ERR_ARG, "MPI %s: negative tag %d", what, tag);
    if (!rc)
        rc = check_count(n, what);
    return rc;
}

int sq_dist_send(const void *buf, size_t n, int dest, int tag)
{
    int rc = check_peer(dest, tag, n, "send");
    if (rc)
        return rc;
    return check(MPI_Send(buf, (int)n, MPI_BYTE, dest, tag, MPI_COMM_WORLD), "send");
}

int sq_dist_recv(void *buf, size_t n, int src, int tag)
{
    int rc = check_peer(src, tag, n, "recv");
    if (rc)
        return rc;
    MPI_Status st;
    int got = 0;
    rc = check(MPI_Recv(buf, (int)n, MPI_BYTE, src, tag, MPI_COMM_WORLD, &st), "recv");
    if (!rc)
        rc = check(MPI_Get_count(&st, MPI_BYTE, &got), "get_count");
    if (!rc && (size_t)got != n)
        rc = sq_err(SQ_ERR_FMT, "MPI recv: %d bytes from rank %d, expected %zu", got, src, n);
    return rc;
}

_Static_assert(sizeof(MPI_Request) <= sizeof(((sq_dist_req_t *)0)->h),
               "sq_dist_req_t holds an MPI_Request");

int sq_dist_isend(const void *buf, size_t n, int dest, int tag, sq_dist_req_t *req)
{
    int rc = sq_dist_wait(req);
    if (!rc)
        rc = check_peer(dest, tag, n, "isend");
    if (rc)
        return rc;
    MPI_Request r;
    rc = check(MPI_Isend(buf, (int)n, MPI_BYTE, dest, tag, MPI_COMM_WORLD, &r), "isend");
    if (!rc) {
        memcpy(req->h, &r, sizeof r);
        req->active = 1;
    }
    return rc;
}

int sq_dist_wait(sq_dist_req_t *req)
{
    if (!req->active)
        return 0;
    MPI_Request r;
    memcpy(&r, req->h, sizeof r);
    req->active = 0;
    return check(MPI_Wait(&r, MPI_STATUS_IGNORE), "wait");
}

void sq_dist_abort(int code)
{
    if (g.mpi && g.size > 1)
        MPI_Abort(MPI_COMM_WORLD, code);
    exit(code);
}
