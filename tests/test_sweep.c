/* sparq sweep over design points: the DSP model at the synthesized sizes,
 * the Pareto front, every dimension in the JSON, perplexity on the held-out
 * stories equal to `sparq eval` calibrated on the others, the plot, bad
 * input, and the same bytes (table, JSON, SVG, errors) from mpirun -np 2 and
 * -np 4 as from one process. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dist/dist.h"
#include "report/pareto.h"
#include "report/resources.h"
#include "testutil.h"

#define SAMPLE SQ_SHARED_DIR "/data/tinystories_sample.txt"
#define M "--model " SQ_MODEL_PATH " --tokenizer " SQ_TOK_PATH
#define SEP "<|endoftext|>"

static char out[1 << 16], out2[1 << 16], err[1 << 14], err2[1 << 14];

/* Short stories for fast perplexity under ASan: the first ~160 bytes (to a
 * word boundary) of each story of the sample, written as three files: all of
 * them, the first n - 2 (calibration) and the last 2 (held out). */
typedef struct {
    char *all, *calib, *held;
    int n;
} texts_t;

static texts_t make_texts(void)
{
    size_t len;
    char *s = sq_slurp(SAMPLE, &len);
    ck_assert_ptr_nonnull(s);
    char story[8][200];
    int n = 0;
    for (char *p = s; n < 8;) {
        char *sep = strstr(p, SEP);
        if (sep)
            *sep = 0;
        p += strspn(p, "\n");
        if (*p) {
            size_t k = strlen(p) < 160 ? strlen(p) : 160;
            while (k < strlen(p) && k > 0 && p[k] != ' ')
                k--;
            memcpy(story[n], p, k);
            story[n][k] = 0;
            n++;
        }
        if (!sep)
            break;
        p = sep + strlen(SEP);
    }
    free(s);
    ck_assert_int_ge(n, 4);
    char buf[3][2048];
    size_t l[3] = {0};
    for (int i = 0; i < n; i++) {
        l[0] += (size_t)snprintf(buf[0] + l[0], sizeof buf[0] - l[0], "%s\n" SEP "\n", story[i]);
        int part = i < n - 2 ? 1 : 2;
        l[part] += (size_t)snprintf(buf[part] + l[part], sizeof buf[part] - l[part],
                                    "%s\n" SEP "\n", story[i]);
    }
    return (texts_t){sq_tmpfile(buf[0], l[0]), sq_tmpfile(buf[1], l[1]), sq_tmpfile(buf[2], l[2]),
                     n};
}

static void free_texts(texts_t *t)
{
    unlink(t->all);
    unlink(t->calib);
    unlink(t->held);
    free(t->all);
    free(t->calib);
    free(t->held);
}

START_TEST(test_dsp_model_and_front)
{
    /* bench/results/gemm_synth.md: yosys 0.23 on xcup */
    ck_assert_uint_eq(sq_gemm_dsps(8, 8), 229);
    ck_assert_uint_eq(sq_gemm_dsps(16, 16), 837);
    sq_pareto_point_t p[] = {
        {"a", 100, 10, 4},   /* front */
        {"b", 200, 5, 4},    /* front: faster */
        {"c", 200, 10, 4},   /* dominated by a */
        {"d", 100, 10, 4},   /* equal to a: both stay */
        {"e", 50, 50, 3.5},  /* front: fewest DSPs, best ppl */
        {"f", 300, 5, NAN},  /* no ppl: b is as fast with fewer DSPs */
        {"g", 50, 50, 3.6},  /* dominated by e on ppl alone */
    };
    unsigned char front[7];
    sq_pareto_front(p, 7, front);
    const unsigned char want[7] = {1, 1, 0, 1, 1, 0, 0};
    ck_assert_mem_eq(front, want, 7);
}
END_TEST

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(o, k);
    ck_assert_msg(cJSON_IsNumber(v), "no number '%s'", k);
    return v->valuedouble;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(o, k);
    ck_assert_msg(cJSON_IsString(v), "no string '%s'", k);
    return v->valuestring;
}

/* `sparq eval` of the held-out stories, calibrated on the others. */
static double eval_ppl(const texts_t *t, const char *recipe, const char *attn)
{
    char args[1024];
    snprintf(args, sizeof args, "eval " M " --recipe %s --calib %s --text %s%s%s", recipe,
             t->calib, t->held, attn ? " --attn " : "", attn ? attn : "");
    ck_assert_int_eq(sq_run_cli(args, out2, sizeof out2, err2, sizeof err2), 0);
    double ppl;
    ck_assert_int_eq(sscanf(out2, "ppl %lf", &ppl), 1);
    return ppl;
}

START_TEST(test_dims_json)
{
    texts_t t = make_texts();
    char svg[] = "/tmp/sq_sweep_XXXXXX";
    close(mkstemp(svg));
    char args[1024];
    snprintf(args, sizeof args, "sweep " M " --text %s --tokens 2 --recipe w8a8 --recipe w8a8s "
             "--attn off --attn window:4,global:1 --target ddr4,u280 --array 4x4 --array 8x8 "
             "--json --svg %s", t.all, svg);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 0);
    cJSON *j = cJSON_Parse(out);
    ck_assert_ptr_nonnull(j);
    const cJSON *pts = cJSON_GetObjectItem(j, "points");
    ck_assert_int_eq(cJSON_GetArraySize(pts), 16);
    /* the first dimension varies slowest */
    static const char *const recipe[] = {"w8a8", "w8a8s"};
    static const char *const attn[] = {"off", "window:4,global:1"};
    static const char *const target[] = {"ddr4", "u280"};
    static const char *const array[] = {"4x4", "8x8"};
    double ppl[2][2], cyc_off[2] = {0}, cyc_on[2] = {0};
    size_t n = 0;
    sq_pareto_point_t pp[16];
    unsigned char front[16];
    for (int r = 0; r < 2; r++)
        for (int a = 0; a < 2; a++)
            for (int g = 0; g < 2; g++)
                for (int s = 0; s < 2; s++, n++) {
                    const cJSON *p = cJSON_GetArrayItem(pts, (int)n);
                    ck_assert_str_eq(str(p, "recipe"), recipe[r]);
                    ck_assert_str_eq(str(p, "attn"), attn[a]);
                    ck_assert_str_eq(str(p, "target"), target[g]);
                    ck_assert_str_eq(str(p, "array"), array[s]);
                    /* a port sees one channel: an HBM pseudo-channel, not the card's 460 GB/s */
                    ck_assert_double_eq(num(p, "mem_gbps"), g ? 14.4 : 19.2);
                    ck_assert_double_eq(num(p, "mem_channels"), g ? 32 : 1);
                    uint32_t side = s ? 8 : 4;
                    /* 3RC + 4C + 5, and the attention unit's 47 when it runs there */
                    ck_assert_double_eq(num(p, "dsps"),
                                        (double)sq_gemm_dsps(side, side) + (a ? 47 : 0));
                    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(p, "attention_unit")) == (a == 1));
                    /* one perplexity per (recipe, pattern) */
                    if (g == 0 && s == 0)
                        ppl[r][a] = num(p, "ppl");
                    ck_assert_double_eq(num(p, "ppl"), ppl[r][a]);
                    ck_assert(num(p, "ppl_tokens") > 20);
                    if (r == 0 && g == 0)
                        (a ? cyc_on : cyc_off)[s] = num(p, "cycles_per_token");
                    pp[n] = (sq_pareto_point_t){"", num(p, "dsps"),
                                                num(p, "latency_us_per_token"), num(p, "ppl")};
                    front[n] = cJSON_IsTrue(cJSON_GetObjectItem(p, "pareto"));
                }
    /* the attention unit's cycles add to the token */
    ck_assert(cyc_on[0] > cyc_off[0] && cyc_on[1] > cyc_off[1]);
    /* the front: no point of it dominated, every other point dominated,
     * checked pairwise here rather than with sq_pareto_front */
    for (size_t i = 0; i < n; i++) {
        int dominated = 0;
        for (size_t k = 0; k < n; k++) {
            const sq_pareto_point_t *x = &pp[k], *y = &pp[i];
            if (x->dsps <= y->dsps && x->latency_us <= y->latency_us && x->ppl <= y->ppl &&
                (x->dsps < y->dsps || x->latency_us < y->latency_us || x->ppl < y->ppl))
                dominated = 1;
        }
        ck_assert_msg(front[i] == !dominated, "point %zu: pareto %d, dominated %d", i, front[i],
                      dominated);
    }
    /* perplexity of the held-out stories, as `sparq eval` scores them */
    for (int r = 0; r < 2; r++)
        for (int a = 0; a < 2; a++) {
            double e = eval_ppl(&t, recipe[r], a ? attn[a] : NULL);
            ck_assert_msg(fabs(e - ppl[r][a]) <= 1e-6 * e, "%s %s: sweep ppl %.6f, eval %.6f",
                          recipe[r], attn[a], ppl[r][a], e);
        }
    ck_assert(ppl[0][1] != ppl[0][0] && ppl[1][0] != ppl[0][0]);
    cJSON_Delete(j);
    size_t len;
    char *s = sq_slurp(svg, &len);
    ck_assert_ptr_nonnull(s);
    ck_assert_ptr_nonnull(strstr(s, "<svg"));
    ck_assert_ptr_nonnull(strstr(s, "Pareto front"));
    int circles = 0;
    for (char *c = s; (c = strstr(c, "<circle")); c++)
        circles++;
    ck_assert_int_eq(circles, 16 + 1); /* the points and the legend's ring */
    free(s);
    unlink(svg);
    free_texts(&t);
}
END_TEST

START_TEST(test_bad_input)
{
    texts_t t = make_texts();
    char args[1024];
    snprintf(args, sizeof args, "sweep " M " --text %s --heldout %d", t.all, t.n);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 2);
    ck_assert_ptr_nonnull(strstr(err, "leaves no story to calibrate on"));
    ck_assert_int_eq(sq_run_cli("sweep --shape 8x8x8 --recipe w8a8", out, sizeof out, err,
                                sizeof err), 2);
    ck_assert_ptr_nonnull(strstr(err, "--recipe does not apply to --shape"));
    /* the default text is the whole sample, which sweep splits itself (a
     * "#calib" name is not a file it can open), found from the project root
     * (this test's own process) */
    ck_assert_int_eq(chdir(SQ_SRC_DIR), 0);
    ck_assert_msg(sq_run_cli("sweep " M " --tokens 1 --recipe w8a8 --array 4x4", out, sizeof out,
                             err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(sq_run_cli("sweep --text /nonexistent/x.txt", out, sizeof out, err,
                                sizeof err), 2);
    ck_assert_int_eq(sq_run_cli("sweep --recipe w9 --shape 8x8x8", out, sizeof out, err,
                                sizeof err), 2);
    ck_assert_int_eq(sq_run_cli("sweep --target ddr4, --shape 8x8x8", out, sizeof out, err,
                                sizeof err), 2);
    ck_assert_ptr_nonnull(strstr(err, "empty value"));
    snprintf(args, sizeof args, "sweep " M " --text %s --tokens 1 --array 4x4 --recipe fp32",
             t.all);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 2);
    ck_assert_ptr_nonnull(strstr(err, "puts no layer on the accelerator"));
    /* a bad pattern fails at the point that opens it: one line */
    snprintf(args, sizeof args, "sweep " M " --text %s --tokens 1 --array 4x4 --attn off "
             "--attn bogus:3", t.all);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 2);
    ck_assert_ptr_nonnull(strstr(err, "sparq sweep: attention spec 'bogus:3'"));
    ck_assert_ptr_null(strchr(strchr(err, '\n') + 1, '\n'));
    ck_assert_str_eq(out, "");
    free_texts(&t);
}
END_TEST

/* One process and mpirun -np 2 / -np 4: the same table, JSON, SVG and error
 * bytes. 18 points, so 4 ranks get uneven blocks (4, 5, 4, 5). */
START_TEST(test_ranks_same_bytes)
{
    if (!sq_dist_available()) {
        fprintf(stderr, "sweep: built without MPI: the mpirun comparisons skipped\n");
        return;
    }
    texts_t t = make_texts();
    char svg1[] = "/tmp/sq_sweep1_XXXXXX", svgn[] = "/tmp/sq_sweepn_XXXXXX";
    close(mkstemp(svg1));
    close(mkstemp(svgn));
    char base[1024], args[1200];
    snprintf(base, sizeof base, "sweep " M " --text %s --tokens 2 --recipe w8a8 --recipe w4g32 "
             "--recipe w8a8s --attn off --attn window:4,global:1 --array 4x4,8x8,16x16", t.all);
    for (int json = 0; json < 2; json++) {
        snprintf(args, sizeof args, "%s%s --svg %s", base, json ? " --json" : "", svg1);
        ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 0);
        snprintf(args, sizeof args, "%s%s --svg %s", base, json ? " --json" : "", svgn);
        int np = json ? 4 : 2;
        int rc = sq_run_mpi(np, SQ_SPARQ_BIN, args, out2, sizeof out2, err2, sizeof err2);
        if (rc)
            fprintf(stderr, "%s", err2);
        ck_assert_int_eq(rc, 0);
        ck_assert_msg(!strcmp(out, out2), "-np %d output differs:\n%s\nvs one process:\n%s", np,
                      out2, out);
        size_t l1, ln;
        char *s1 = sq_slurp(svg1, &l1), *sn = sq_slurp(svgn, &ln);
        ck_assert(s1 && sn && l1 == ln && !memcmp(s1, sn, l1));
        free(s1);
        free(sn);
    }
    cJSON *j = cJSON_Parse(out);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "points")), 18);
    cJSON_Delete(j);
    /* a point failing on some rank: rank 0 prints the line one process prints */
    snprintf(args, sizeof args, "%s --attn bogus:3", base);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 2);
    ck_assert_int_eq(sq_run_mpi(4, SQ_SPARQ_BIN, args, out2, sizeof out2, err2, sizeof err2), 2);
    char *line = strstr(err2, "sparq sweep:");
    ck_assert_ptr_nonnull(line);
    ck_assert_ptr_null(strstr(line + 1, "sparq sweep:"));
    ck_assert(!strncmp(line, err, strlen(err)));
    ck_assert_str_eq(out2, "");
    unlink(svg1);
    unlink(svgn);
    free_texts(&t);
}
END_TEST

Suite *sweep_suite(void)
{
    Suite *s = suite_create("sweep");
    TCase *tc = sq_tcase(s, "model", 30);
    tcase_add_test(tc, test_dsp_model_and_front);
    tc = sq_tcase(s, "cli", 240);
    tcase_add_test(tc, test_dims_json);
    tcase_add_test(tc, test_bad_input);
    tc = sq_tcase(s, "mpirun", 300);
    tcase_add_test(tc, test_ranks_same_bytes);
    return s;
}
