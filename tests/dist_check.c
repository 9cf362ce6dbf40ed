/* The distributed layer (host/dist/dist.h) on every rank of an mpirun:
 * broadcast, gather, the wrapping sums (checked against 128-bit arithmetic),
 * max, a ring of point-to-point messages past Open MPI's eager limit (blocking,
 * and sends in flight), and the errors for a bad peer and a short message. Each rank checks what it can
 * see; exit 0 and "dist_check: ok" from rank 0 only when every rank passed.
 * tests/test_dist.c runs it with -np 2 and -np 4.
 *   --leak   also leaks 77 bytes from this file on rank 0: LeakSanitizer must
 *            still report a leak in sparq's code under MPI (the suppressions
 *            of util/sanitize.c cover MPI's own allocations only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"
#include "util/err.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "dist_check rank %d: %s:%d: ", sq_dist_rank(), __FILE__, __LINE__);     \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static void check_collectives(int r, int n)
{
    /* broadcast from the last rank */
    unsigned char b[1000];
    for (size_t i = 0; i < sizeof b; i++)
        b[i] = r == n - 1 ? (unsigned char)(i * 7 + 3) : 0;
    CHECK(sq_dist_bcast(b, sizeof b, n - 1) == 0, "bcast: %s", sq_err_msg());
    for (size_t i = 0; i < sizeof b; i++)
        CHECK(b[i] == (unsigned char)(i * 7 + 3), "bcast: byte %zu is %u", i, b[i]);

    /* gather three bytes per rank on rank 0, in rank order */
    unsigned char mine[3] = {(unsigned char)r, (unsigned char)(2 * r), (unsigned char)(255 - r)};
    unsigned char *all = r == 0 ? malloc(3 * (size_t)n) : NULL;
    CHECK(sq_dist_gather(mine, sizeof mine, all, 0) == 0, "gather: %s", sq_err_msg());
    for (int k = 0; r == 0 && k < n; k++)
        CHECK(all[3 * k] == k && all[3 * k + 1] == 2 * k && all[3 * k + 2] == 255 - k,
              "gather: rank %d's bytes are %u %u %u", k, all[3 * k], all[3 * k + 1], all[3 * k + 2]);
    free(all);

    /* int32 sums wrap: the oracle sums in 128 bits and reduces mod 2^32 */
    int32_t v[4] = {INT32_MAX, r, -1000 * r, INT32_MIN};
    CHECK(sq_dist_sum_i32(v, 4) == 0, "sum_i32: %s", sq_err_msg());
    __int128 want[4] = {0};
    for (int k = 0; k < n; k++) {
        want[0] += INT32_MAX;
        want[1] += k;
        want[2] += -1000 * k;
        want[3] += INT32_MIN;
    }
    for (int i = 0; i < 4; i++) {
        uint32_t w = (uint32_t)(unsigned __int128)want[i];
        CHECK((uint32_t)v[i] == w, "sum_i32[%d] = %d, want %d", i, v[i], (int32_t)w);
    }
    uint64_t u[2] = {UINT64_MAX, (uint64_t)r << 40};
    CHECK(sq_dist_sum_u64(u, 2) == 0, "sum_u64: %s", sq_err_msg());
    unsigned __int128 wu0 = (unsigned __int128)UINT64_MAX * (unsigned)n, wu1 = 0;
    for (int k = 0; k < n; k++)
        wu1 += (unsigned __int128)k << 40;
    CHECK(u[0] == (uint64_t)wu0 && u[1] == (uint64_t)wu1, "sum_u64 = %llu %llu",
          (unsigned long long)u[0], (unsigned long long)u[1]);

    int m = r == n / 2 ? 7 : r % 3;
    CHECK(sq_dist_max_int(&m) == 0 && m == 7, "max_int = %d, want 7", m);
}

/* Each rank sends 64 KiB (past the shared-memory eager limit, so the
 * rendezvous path runs) to the next rank and receives the previous one's;
 * even ranks send first so the ring cannot deadlock. */
static void check_ring(int r, int n)
{
    enum { N = 64 << 10 };
    unsigned char *out = malloc(N), *in = malloc(N);
    int next = (r + 1) % n, prev = (r + n - 1) % n;
    for (int i = 0; i < N; i++)
        out[i] = (unsigned char)(i * 31 + r);
    int rc = 0;
    for (int step = 0; step < 2 && !rc; step++)
        rc = (step == r % 2) ? sq_dist_send(out, N, next, 5) : sq_dist_recv(in, N, prev, 5);
    CHECK(rc == 0, "ring: %s", sq_err_msg());
    for (int i = 0; !rc && i < N; i++)
        if (in[i] != (unsigned char)(i * 31 + prev)) {
            CHECK(0, "ring: byte %d from rank %d is %u", i, prev, in[i]);
            break;
        }
    free(out);
    free(in);
}

/* The same ring with every rank sending first: blocking sends of 64 KiB
 * would all wait for a receive, a send in flight (sq_dist_isend) does not,
 * and its buffer is the caller's until sq_dist_wait. */
static void check_iring(int r, int n)
{
    enum { N = 64 << 10 };
    unsigned char *out = malloc(N), *in = malloc(N);
    int next = (r + 1) % n, prev = (r + n - 1) % n;
    for (int i = 0; i < N; i++)
        out[i] = (unsigned char)(i * 17 + r);
    sq_dist_req_t req = {0};
    int rc = sq_dist_isend(out, N, next, 6, &req);
    CHECK(rc == 0 && req.active, "isend: %s", sq_err_msg());
    if (!rc)
        rc = sq_dist_recv(in, N, prev, 6);
    CHECK(rc == 0, "iring recv: %s", sq_err_msg());
    CHECK(sq_dist_wait(&req) == 0 && !req.active, "wait: %s", sq_err_msg());
    CHECK(sq_dist_wait(&req) == 0, "a second wait failed: %s", sq_err_msg());
    for (int i = 0; !rc && i < N; i++)
        if (in[i] != (unsigned char)(i * 17 + prev)) {
            CHECK(0, "iring: byte %d from rank %d is %u", i, prev, in[i]);
            break;
        }
    CHECK(sq_dist_isend(out, 4, r, 6, &req) == SQ_ERR_ARG && !req.active,
          "isend to itself was accepted");
    free(out);
    free(in);
}

static void check_errors(int r, int n)
{
    char buf[16] = {0};
    CHECK(sq_dist_send(buf, 4, r, 1) == SQ_ERR_ARG, "send to itself was accepted");
    CHECK(sq_dist_recv(buf, 4, n, 1) == SQ_ERR_ARG, "recv from rank %d was accepted", n);
    CHECK(sq_dist_gather(buf, 1, NULL, -1) == SQ_ERR_ARG, "gather to rank -1 was accepted");
    /* rank 1 expects 12 bytes and gets 10: an error naming both */
    if (r == 0)
        CHECK(sq_dist_send(buf, 10, 1, 9) == 0, "send: %s", sq_err_msg());
    if (r == 1) {
        CHECK(sq_dist_recv(buf, 12, 0, 9) == SQ_ERR_FMT, "a short message was accepted");
        CHECK(strstr(sq_err_msg(), "10 bytes") != NULL, "short message: '%s'", sq_err_msg());
    }
}

int main(int argc, char **argv)
{
    int leak = argc > 1 && !strcmp(argv[1], "--leak");
    if (sq_dist_init()) {
        fprintf(stderr, "dist_check: %s\n", sq_err_msg());
        return 1;
    }
    int r = sq_dist_rank(), n = sq_dist_size();
    if (n < 2) {
        fprintf(stderr, "dist_check: needs at least 2 ranks (mpirun -np N), has %d\n", n);
        sq_dist_finalize();
        return 1;
    }
    check_collectives(r, n);
    check_ring(r, n);
    check_iring(r, n);
    check_errors(r, n);
    int bad = failures > 0;
    if (sq_dist_max_int(&bad) != 0)
        bad = 1;
    if (r == 0 && !bad)
        printf("dist_check: %s, %d ranks: ok\n", sq_dist_name(), n);
    if (leak && r == 0) {
        char *p = malloc(77);
        p[0] = 1;
        p = NULL;
    }
    sq_dist_finalize();
    return bad;
}
