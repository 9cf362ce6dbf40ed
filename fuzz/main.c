/* sparq-fuzz: runs one fuzz target (fuzz/targets.h) on inputs.
 *
 *   sparq-fuzz TARGET FILE...   each file once, in order (the replay `make
 *                               test` runs under ASan + UBSan; also how a
 *                               crash AFL++ saved is reproduced)
 *   sparq-fuzz --accept TARGET FILE...
 *                               the same, and exit 1 unless the loader
 *                               accepts every file (the seeds must stay
 *                               valid as formats evolve)
 *   sparq-fuzz TARGET           under afl-fuzz, in a build by afl-clang-fast:
 *                               AFL++'s persistent mode, the input in shared
 *                               memory (fuzz/fuzz.mk, `make fuzz`)
 *
 * Replay prints each file's name on stderr before running it, so the last
 * name before a sanitizer report is the culprit; it exits 0 when every file
 * ran to its end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h> /* AFL++'s persistent-mode macros call read() */

#include "targets.h"
#include "util/bytes.h"
#include "util/err.h"

#ifdef __AFL_FUZZ_TESTCASE_LEN
__AFL_FUZZ_INIT();
/* Inputs per forked process before AFL++ starts a fresh one. */
#define AFL_LOOPS 10000
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: sparq-fuzz [--accept] TARGET [FILE...]\ntargets:\n");
    for (const sq_fuzz_target_t *t = sq_fuzz_targets; t->name; t++)
        fprintf(f, "  %-12s %s\n", t->name, t->what);
}

int main(int argc, char **argv)
{
    int accept = argc > 1 && !strcmp(argv[1], "--accept");
    argc -= accept;
    argv += accept;
    if (argc < 2 || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const sq_fuzz_target_t *t = sq_fuzz_find(argv[1]);
    if (!t) {
        fprintf(stderr, "sparq-fuzz: unknown target '%s'\n", argv[1]);
        usage(stderr);
        return 2;
    }
    if (t->setup && t->setup() != 0) {
        fprintf(stderr, "sparq-fuzz %s: %s\n", t->name, sq_err_msg());
        return 1;
    }
#ifdef __AFL_FUZZ_TESTCASE_LEN
    /* the fork server starts here, after the setup, in both modes (afl-cmin
     * and afl-showmap run the replay mode on a file) */
    __AFL_INIT();
    if (argc == 2) {
        const uint8_t *buf = __AFL_FUZZ_TESTCASE_BUF;
        while (__AFL_LOOP(AFL_LOOPS))
            t->run(buf, (size_t)__AFL_FUZZ_TESTCASE_LEN);
        return 0;
    }
#endif
    if (argc == 2) {
        fprintf(stderr, "sparq-fuzz: give input files (this build is not AFL++'s)\n");
        return 2;
    }
    for (int i = 2; i < argc; i++) {
        uint8_t *data;
        size_t n;
        fprintf(stderr, "sparq-fuzz %s: %s\n", t->name, argv[i]);
        if (sq_file_read(argv[i], &data, &n) != 0) {
            fprintf(stderr, "sparq-fuzz: %s\n", sq_err_msg());
            return 1;
        }
        int ok = t->run(data, n);
        free(data);
        if (accept && !ok) {
            fprintf(stderr, "sparq-fuzz %s: %s refused: %s\n", t->name, argv[i], sq_err_msg());
            return 1;
        }
    }
    return 0;
}
