/* One model and one campaign over MPI ranks (issue 13): `sparq regress`
 * prints under mpirun -np 2 and -np 4 what one process prints (failing
 * lines in case order, the summary, the first error); `generate --pipeline
 * N` and `--tensor N` give one process's text and logits, bit for bit, over
 * the formats a row split cuts differently (int8, int4 groups, 2:4); several
 * sequences in flight over a pipeline; the per-rank report; the usage
 * errors. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dist/dist.h"
#include "testutil.h"

#define M "--model " SQ_MODEL_PATH " --tokenizer " SQ_TOK_PATH
#define GEN "generate " M " --prompt 'Once upon a time' --steps 12 --temperature 0.8 --seed 5 "

static char out[1 << 16], out2[1 << 16], err[1 << 14], err2[1 << 14];

/* Drops the rate from regress's summary lines ("..., 12.3 cases/s, ..."),
 * the one thing a run over ranks may print differently. */
static void drop_rates(char *s)
{
    char *p;
    while ((p = strstr(s, " cases/s"))) {
        char *q = p;
        while (q > s && q[-1] != ',')
            q--;
        memmove(q, p + strlen(" cases/s"), strlen(p + strlen(" cases/s")) + 1);
    }
}

static int mpi_skipped(const char *what)
{
    if (sq_dist_available())
        return 0;
    fprintf(stderr, "parallel: built without MPI: %s skipped\n", what);
    return 1;
}

/* --corrupt flips a bit of every 7th case's output: each must be caught,
 * and the failing lines come back from the ranks in case order. */
START_TEST(test_regress_ranks)
{
    if (mpi_skipped("the regress comparisons"))
        return;
    const char *args = "regress --unit all --cases 40 --seed 9 --backend ref --max-work 4096 "
                       "--corrupt 7";
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 1);
    drop_rates(out);
    int fails = 0;
    for (const char *p = out; (p = strstr(p, "FAIL ")); p++)
        fails++;
    ck_assert_int_eq(fails, 12); /* cases 0, 7, ..., 35 of each unit */
    ck_assert_ptr_nonnull(strstr(out, "regress attn: 40 cases (0..39), 6 failures,"));
    for (int np = 2; np <= 4; np += 2) {
        int rc = sq_run_mpi(np, SQ_SPARQ_BIN, args, out2, sizeof out2, err2, sizeof err2);
        ck_assert_msg(rc == 1, "-np %d: exit %d: %s", np, rc, err2);
        drop_rates(out2);
        ck_assert_msg(!strcmp(out, out2), "-np %d:\n%s\nvs one process:\n%s", np, out2, out);
    }
    /* a campaign error: rank 0 prints the first one, as one process does */
    args = "regress --unit gemm --cases 8 --seed 9 --backend ref --max-mem 1M";
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 2);
    ck_assert_int_eq(sq_run_mpi(4, SQ_SPARQ_BIN, args, out2, sizeof out2, err2, sizeof err2), 2);
    ck_assert_str_eq(out2, out);
    char *line = strstr(err2, "sparq regress:");
    ck_assert_ptr_nonnull(line);
    ck_assert_ptr_null(strstr(line + 1, "sparq regress:"));
    /* (the ranks' leak-check suppression summaries may follow the line) */
    ck_assert_msg(!strncmp(line, err, strlen(err)), "%s\nvs one process's\n%s", line, err);
}
END_TEST

/* One process's text and logits file, then the split's. */
static void same_as_one(int np, const char *split, const char *extra)
{
    char l1[] = "/tmp/sq_logits1_XXXXXX", ln[] = "/tmp/sq_logitsn_XXXXXX", args[2048];
    close(mkstemp(l1));
    close(mkstemp(ln));
    snprintf(args, sizeof args, GEN "%s --logits %s", extra, l1);
    int rc = sq_run_cli(args, out, sizeof out, err, sizeof err);
    ck_assert_msg(rc == 0, "%s: exit %d: %s", args, rc, err);
    snprintf(args, sizeof args, GEN "%s --%s %d --logits %s", extra, split, np, ln);
    rc = sq_run_mpi(np, SQ_SPARQ_BIN, args, out2, sizeof out2, err2, sizeof err2);
    ck_assert_msg(rc == 0, "%s: exit %d: %s", args, rc, err2);
    ck_assert_msg(!strcmp(out, out2), "%s: text\n%s\nvs one process's\n%s", args, out2, out);
    size_t n1, nn;
    char *a = sq_slurp(l1, &n1), *b = sq_slurp(ln, &nn);
    ck_assert(a && b);
    ck_assert_uint_eq(n1, 12 * 512 * sizeof(float)); /* 12 positions of 512 logits */
    ck_assert_msg(n1 == nn && !memcmp(a, b, n1), "%s: logits differ from one process's", args);
    free(a);
    free(b);
    /* the report: every rank, and what bounds the token */
    char head[64];
    snprintf(head, sizeof head, "%s over %d ranks", split, np);
    ck_assert_msg(strstr(err2, head) && strstr(err2, " bound"), "%s", err2);
    unlink(l1);
    unlink(ln);
}

START_TEST(test_pipeline_same_bits)
{
    if (mpi_skipped("the pipeline comparisons"))
        return;
    /* 5 layers: stages of 2 and 3, then 1, 1, 1, 2 */
    same_as_one(2, "pipeline", "--recipe w8a8 --backend model --offload linears");
    ck_assert_ptr_nonnull(strstr(err2, "   1     2-4 "));
    same_as_one(4, "pipeline", "--attn window:4,global:1");
}
END_TEST

/* Several sequences in flight over the stages: each sequence's text is its
 * own single run's (sequence b samples with --seed 5 + b), in one process
 * (--pipeline 1) and over 2 and 4 ranks, prompts of different lengths
 * (a lone BOS among them) included. */
START_TEST(test_pipeline_microbatches)
{
    static const char *prompts[] = {"Once upon a time", "", "The cat sat"};
    const char *dev = "--steps 12 --temperature 0.8 --recipe w8a8 --backend model "
                      "--offload linears";
    char want[4096] = "", args[2048], one[1024];
    for (int b = 0; b < 3; b++) {
        snprintf(args, sizeof args, "generate " M " --prompt '%s' --seed %d %s", prompts[b],
                 5 + b, dev);
        int rc = sq_run_cli(args, one, sizeof one, err, sizeof err);
        ck_assert_msg(rc == 0, "%s: exit %d: %s", args, rc, err);
        strncat(want, one, sizeof want - strlen(want) - 1);
    }
    for (int np = 1; np <= 4; np *= 2) {
        if (np > 1 && mpi_skipped("the micro-batch comparisons"))
            return;
        snprintf(args, sizeof args,
                 "generate " M " --prompt '%s' --prompt '%s' --prompt '%s' --seed 5 %s "
                 "--pipeline %d",
                 prompts[0], prompts[1], prompts[2], dev, np);
        int rc = np == 1 ? sq_run_cli(args, out, sizeof out, err2, sizeof err2)
                         : sq_run_mpi(np, SQ_SPARQ_BIN, args, out, sizeof out, err2, sizeof err2);
        ck_assert_msg(rc == 0, "%s: exit %d: %s", args, rc, err2);
        ck_assert_msg(!strcmp(out, want), "-np %d: texts\n%s\nvs their own runs'\n%s", np, out,
                      want);
        ck_assert_msg(strstr(err2, "with this run's 3 sequences in flight"), "%s", err2);
    }
}
END_TEST

START_TEST(test_tensor_same_bits)
{
    if (mpi_skipped("the tensor comparisons"))
        return;
    /* int4 groups (a row split cuts each group's GEMM) on a device level, and
     * 2:4 (cut at 8 inputs) and int8 on the golden reference */
    same_as_one(2, "tensor", "--recipe w4g32 --backend csim --offload linears");
    same_as_one(4, "tensor", "--recipe 2:4,w8a8");
    same_as_one(4, "tensor", "--recipe w8a8 --backend model --offload linears");
}
END_TEST

START_TEST(test_bad_input)
{
    /* one process: a split needs its ranks */
    ck_assert_int_eq(sq_run_cli(GEN "--pipeline 2", out, sizeof out, err, sizeof err), 2);
    ck_assert_ptr_nonnull(strstr(err, "--pipeline 2 needs 2 MPI ranks"));
    ck_assert_int_eq(sq_run_cli(GEN "--tensor 1 --pipeline 1", out, sizeof out, err, sizeof err),
                     2);
    ck_assert_int_eq(sq_run_cli(GEN "--link carrier-pigeon", out, sizeof out, err, sizeof err),
                     2);
    /* --pipeline 1 is one process's run, with the report */
    ck_assert_int_eq(sq_run_cli(GEN, out2, sizeof out2, err2, sizeof err2), 0);
    ck_assert_int_eq(sq_run_cli(GEN "--pipeline 1", out, sizeof out, err, sizeof err), 0);
    ck_assert_str_eq(out, out2);
    ck_assert_ptr_nonnull(strstr(err, "pipeline over 1 rank"));
    /* one logits file is one sequence's */
    ck_assert_int_eq(sq_run_cli(GEN "--prompt 'The' --logits /dev/null --pipeline 1", out,
                                sizeof out, err, sizeof err),
                     2);
    ck_assert_ptr_nonnull(strstr(err, "--logits writes one sequence's logits"));
    ck_assert_str_eq(out, "");
    /* several sequences on the recipe path need stages to be in flight in */
    ck_assert_int_eq(sq_run_cli(GEN "--prompt 'The'", out, sizeof out, err, sizeof err), 2);
    ck_assert_ptr_nonnull(strstr(err, "or over a --pipeline"));
    if (mpi_skipped("the mpirun usage errors"))
        return;
    const char *bad[][2] = {
        {GEN, "give --pipeline 2 or --tensor 2"},
        {GEN "--pipeline 3", "--pipeline 3 needs 3 MPI ranks"},
        {GEN "--tensor 2", "--tensor splits integer matmuls"},
        {GEN "--tensor 2 --recipe w8a8 --backend ref --calib " SQ_SHARED_DIR
             "/data/tinystories_sample.txt",
         "add --offload linears"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = sq_run_mpi(2, SQ_SPARQ_BIN, bad[i][0], out, sizeof out, err, sizeof err);
        ck_assert_msg(rc == 2, "%s: exit %d: %s", bad[i][0], rc, err);
        char *line = strstr(err, "sparq generate:");
        ck_assert_msg(line && strstr(line, bad[i][1]), "%s: %s", bad[i][0], err);
        ck_assert_msg(!strstr(line + 1, "sparq generate:"), "more than one line: %s", err);
        ck_assert_str_eq(out, "");
    }
}
END_TEST

Suite *parallel_suite(void)
{
    Suite *s = suite_create("parallel");
    TCase *tc = sq_tcase(s, "regress", 300);
    tcase_add_test(tc, test_regress_ranks);
    tc = sq_tcase(s, "generate", 300);
    tcase_add_test(tc, test_pipeline_same_bits);
    tcase_add_test(tc, test_pipeline_microbatches);
    tcase_add_test(tc, test_tensor_same_bits);
    tcase_add_test(tc, test_bad_input);
    return s;
}
