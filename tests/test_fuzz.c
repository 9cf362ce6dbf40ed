/* The fuzz corpus and the saved crashes replayed under ASan + UBSan: every
 * file of fuzz/corpus/<target>/ and fuzz/crashes/<target>/ through its
 * target (build/san/sparq-fuzz, fuzz/targets.h) must end in a clean exit,
 * with no allocation above 2 GiB;
 * and every seed (seed-*) must still be accepted by its loader, so the seeds
 * keep reaching past the first check as formats evolve (`make fuzz-seeds`
 * rewrites them). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "testutil.h"

static const char *const targets[] = {"llama", "tokenizer", "safetensors", "gguf",
                                      "sqm",   "sqm-crc",   "xclbin",      "desc"};

/* Files of dir whose names start with prefix, appended to argv from *n. */
static void list(const char *dir, const char *prefix, char **argv, int *n, int cap)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, strlen(prefix)))
            continue;
        ck_assert_int_lt(*n, cap - 1);
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        argv[*n] = malloc(len);
        snprintf(argv[*n], len, "%s/%s", dir, e->d_name);
        (*n)++;
    }
    closedir(d);
}

/* Runs sparq-fuzz [--accept] target on the files; returns how many it got.
 * Fails with the tail of its stderr unless it exits 0. */
static int replay(const char *target, int accept, const char *const *dirs, int n_dirs,
                  const char *prefix)
{
    enum { CAP = 8192 };
    char **argv = calloc(CAP, sizeof *argv);
    int n = 0;
    argv[n++] = strdup(SQ_FUZZ_BIN);
    if (accept)
        argv[n++] = strdup("--accept");
    argv[n++] = strdup(target);
    int first = n;
    for (int i = 0; i < n_dirs; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s/%s", SQ_FUZZ_DIR, dirs[i], target);
        list(dir, prefix, argv, &n, CAP);
    }
    int files = n - first;
    if (files) {
        char errpath[] = "/tmp/sq_fuzz_err_XXXXXX";
        int efd = mkstemp(errpath);
        ck_assert_int_ge(efd, 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            dup2(efd, 2);
            /* an allocation above 2 GiB from an input of at most a few MB is
             * a finding (a size taken from a header unchecked), as under
             * OSS-Fuzz's malloc limit */
            setenv("ASAN_OPTIONS", "detect_leaks=1:max_allocation_size_mb=2048", 1);
            execv(argv[0], argv);
            _exit(127);
        }
        close(efd);
        int st;
        ck_assert_int_eq(waitpid(pid, &st, 0), pid);
        size_t len;
        char *err = sq_slurp(errpath, &len);
        unlink(errpath);
        const char *tail = err && len > 1500 ? err + len - 1500 : err ? err : "";
        ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0,
                      "sparq-fuzz %s%s on %d files: %s %d (%d is a sanitizer report); stderr "
                      "ends: %s",
                      accept ? "--accept " : "", target, files,
                      WIFEXITED(st) ? "exit" : "signal",
                      WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), SQ_EXIT_SANITIZER, tail);
        free(err);
    }
    for (int i = 0; i < n; i++)
        free(argv[i]);
    free(argv);
    return files;
}

START_TEST(test_corpus_and_crashes_replay_clean)
{
    static const char *const dirs[] = {"corpus", "crashes"};
    const char *t = targets[_i];
    ck_assert_int_gt(replay(t, 0, dirs, 2, ""), 0);
}
END_TEST

START_TEST(test_seeds_still_load)
{
    static const char *const dirs[] = {"corpus"};
    const char *t = targets[_i];
    ck_assert_msg(replay(t, 1, dirs, 1, "seed-") > 0, "%s has no seed-* files", t);
}
END_TEST

Suite *fuzz_suite(void)
{
    Suite *s = suite_create("fuzz");
    int n = (int)(sizeof targets / sizeof targets[0]);
    TCase *tc = sq_tcase(s, "replay", 300);
    tcase_add_loop_test(tc, test_corpus_and_crashes_replay_clean, 0, n);
    tcase_add_loop_test(tc, test_seeds_still_load, 0, n);
    return s;
}
