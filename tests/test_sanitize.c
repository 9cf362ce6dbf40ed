/* The sanitized binaries end with their own exit code on a sanitizer report
 * (host/util/sanitize.c), so a crash is told apart from a clean error (exit
 * 1): an out-of-bounds read, undefined behaviour and a leak, each in a child
 * of this (sanitized) test runner. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "testutil.h"

/* Runs what in a child with stderr silenced; returns its exit status. */
static int child_exit(int what)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stderr))
            _exit(3);
        volatile int sink = 0;
        if (what == 0) {
            char *p = malloc(4);
            sink = p[sink + 8]; /* heap-buffer-overflow */
            free(p);
        } else if (what == 1) {
            volatile int x = INT_MAX;
            sink = x + 1; /* signed overflow */
        } else {
            void *volatile p = malloc(16);
            p = NULL; /* leaked: LeakSanitizer reports it at exit */
            (void)p;
        }
        exit(sink == 12345);
    }
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert(WIFEXITED(st));
    return WEXITSTATUS(st);
}

START_TEST(test_reports_exit_with_their_code)
{
    ck_assert_int_eq(child_exit(0), SQ_EXIT_SANITIZER);
    ck_assert_int_eq(child_exit(1), SQ_EXIT_SANITIZER);
    ck_assert_int_eq(child_exit(2), SQ_EXIT_SANITIZER);
}
END_TEST

Suite *sanitize_suite(void)
{
    Suite *s = suite_create("sanitize");
    TCase *tc = sq_tcase(s, "exitcode", 30);
    tcase_add_test(tc, test_reports_exit_with_their_code);
    return s;
}
