/* Every shell script of the tree parses (bash -n). The long flows (make
 * synth, the benches, the tables) run for minutes to hours before their last
 * lines; a syntax error there surfaced only at the end of a 30-minute yosys
 * run (synth_gemm.sh, fixed in cd3ea9c), so it is caught here instead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

/* bash -n on one file; its exit status. */
static int parses(const char *path)
{
    char cmd[4352];
    snprintf(cmd, sizeof cmd, "bash -n '%s' 2>/dev/null", path);
    return system(cmd);
}

START_TEST(test_all_scripts_parse)
{
    FILE *f = popen("find " SQ_SRC_DIR " \\( -name build -o -name .venv -o -name .git \\) -prune"
                    " -o -name '*.sh' -type f -print",
                    "r");
    ck_assert_ptr_nonnull(f);
    char path[4096];
    int n = 0;
    while (fgets(path, sizeof path, f)) {
        path[strcspn(path, "\n")] = '\0';
        ck_assert_msg(parses(path) == 0, "%s does not parse (bash -n)", path);
        n++;
    }
    pclose(f);
    ck_assert_int_ge(n, 10); /* scripts/, bench/, bitstreams/: the search found them */
}
END_TEST

/* The check fails on the defect it is for: a quote left open. */
START_TEST(test_open_quote_caught)
{
    static const char line[] = "awk -f \"$(dirname \"$0\")/t.awk \"$OUT/s.txt\" | tee \"$OUT/t.md\"\n";
    char *path = sq_tmpfile(line, sizeof line - 1);
    ck_assert_ptr_nonnull(path);
    ck_assert_int_ne(parses(path), 0);
    unlink(path);
    free(path);
}
END_TEST

Suite *scripts_suite(void)
{
    Suite *s = suite_create("scripts");
    TCase *tc = sq_tcase(s, "scripts", 60);
    tcase_add_test(tc, test_all_scripts_parse);
    tcase_add_test(tc, test_open_quote_caught);
    return s;
}
