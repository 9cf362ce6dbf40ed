/* The distributed layer (host/dist/dist.h): one process without a launcher
 * in either build; with Open MPI, every call over mpirun -np 2 and -np 4
 * (tests/dist_check.c), a leak in sparq's code still reported under MPI, and
 * commands that do not spread over ranks refused; without MPI, a launch over
 * several ranks refused. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "dist/dist.h"
#include "testutil.h"
#include "util/err.h"

static char out[1 << 14], err[1 << 16];

/* Whether this build has MPI; prints that `who` is skipped when not. */
static int have_mpi(const char *who)
{
    if (sq_dist_available())
        return 1;
    fprintf(stderr, "dist: built without MPI (make MPI=0 or no mpicc): %s skipped\n", who);
    return 0;
}

/* Without a launcher every build is one rank and never starts MPI. */
START_TEST(test_single_rank)
{
    ck_assert_int_eq(sq_dist_launched(), 0);
    ck_assert_int_eq(sq_dist_init(), 0);
    ck_assert_int_eq(sq_dist_rank(), 0);
    ck_assert_int_eq(sq_dist_size(), 1);
    unsigned char a[5] = {1, 2, 3, 4, 5}, b[5] = {0};
    ck_assert_int_eq(sq_dist_bcast(a, sizeof a, 0), 0);
    ck_assert_int_eq(sq_dist_gather(a, sizeof a, b, 0), 0);
    ck_assert_mem_eq(a, b, sizeof a);
    int32_t v[2] = {INT32_MAX, -7};
    uint64_t u = UINT64_MAX;
    int m = 3;
    ck_assert_int_eq(sq_dist_sum_i32(v, 2), 0);
    ck_assert_int_eq(sq_dist_sum_u64(&u, 1), 0);
    ck_assert_int_eq(sq_dist_max_int(&m), 0);
    ck_assert(v[0] == INT32_MAX && v[1] == -7 && u == UINT64_MAX && m == 3);
    /* there is no other rank */
    ck_assert_int_eq(sq_dist_bcast(a, 1, 1), SQ_ERR_ARG);
    ck_assert_int_eq(sq_dist_gather(a, 1, b, 1), SQ_ERR_ARG);
    ck_assert_int_eq(sq_dist_send(a, 1, 0, 0), SQ_ERR_ARG);
    ck_assert_int_eq(sq_dist_recv(a, 1, 1, 0), SQ_ERR_ARG);
    sq_dist_finalize();
    ck_assert_ptr_nonnull(strstr(sq_dist_name(), sq_dist_available() ? "Open MPI" : "none"));
}
END_TEST

START_TEST(test_ranks)
{
    if (!have_mpi("mpirun -np 2 and 4 of dist_check"))
        return;
    for (int np = 2; np <= 4; np += 2) {
        int rc = sq_run_mpi(np, SQ_DIST_CHECK_BIN, "", out, sizeof out, err, sizeof err);
        if (rc != 0)
            fprintf(stderr, "%s", err);
        ck_assert_int_eq(rc, 0);
        char want[64];
        snprintf(want, sizeof want, "%d ranks: ok", np);
        ck_assert_ptr_nonnull(strstr(out, want));
        ck_assert_ptr_null(strstr(err, "LeakSanitizer"));
    }
}
END_TEST

/* The suppressions of MPI's own allocations leave sparq's leaks reported. */
START_TEST(test_leak_reported)
{
    if (!have_mpi("the leak check under mpirun"))
        return;
    int rc = sq_run_mpi_report(2, SQ_DIST_CHECK_BIN, "--leak", out, sizeof out, err, sizeof err);
    ck_assert_int_eq(rc, SQ_EXIT_SANITIZER);
    ck_assert_ptr_nonnull(strstr(err, "LeakSanitizer"));
    ck_assert_ptr_nonnull(strstr(err, "dist_check.c"));
    ck_assert_ptr_nonnull(strstr(err, "77 byte"));
}
END_TEST

START_TEST(test_launch_guard)
{
    if (sq_dist_available()) {
        /* a command that does not spread over ranks: one line, from rank 0 */
        int rc = sq_run_mpi(2, SQ_SPARQ_BIN, "gemm --backend ref --shape 2x2x2", out, sizeof out,
                            err, sizeof err);
        ck_assert_int_eq(rc, 2);
        const char *line = strstr(err, "sparq gemm: does not spread over MPI ranks");
        ck_assert_ptr_nonnull(line);
        ck_assert_ptr_null(strstr(line + 1, "sparq gemm:"));
        ck_assert_str_eq(out, "");
    } else {
        /* a build without MPI started by a launcher over two ranks */
        int rc = sq_run_cli("sweep --shape 8x8x8 --array 4x4 && OMPI_COMM_WORLD_SIZE=2 "
                            SQ_SPARQ_BIN " sweep --shape 8x8x8 --array 4x4",
                            out, sizeof out, err, sizeof err);
        ck_assert_int_eq(rc, 2);
        ck_assert_ptr_nonnull(strstr(err, "built without MPI"));
    }
}
END_TEST

Suite *dist_suite(void)
{
    Suite *s = suite_create("dist");
    TCase *tc = sq_tcase(s, "local", 30);
    tcase_add_test(tc, test_single_rank);
    tc = sq_tcase(s, "mpirun", 180);
    tcase_add_test(tc, test_ranks);
    tcase_add_test(tc, test_leak_reported);
    tcase_add_test(tc, test_launch_guard);
    return s;
}
