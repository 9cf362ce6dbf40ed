/* The tlm level (SystemC TLM-2.0 platform around the Verilated units) against
 * the golden reference and the rtl level: outputs bit exact, cycles, stalls,
 * bytes and MACs equal to the rtl's (same RTL, same memory rules), on GEMM
 * modes and odd shapes, attention patterns in decode and prefill, command
 * streams of several descriptors, several opens in one process, a real
 * model through the CLI, and the errors: a hang bounded by max_cycles, a bad
 * descriptor, a second open, a bad --backend. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/attn_case.h"
#include "runtime/device.h"
#include "runtime/gemm_case.h"
#include "sparq/spec.h"
#include "runtime/regress.h"
#include "testutil.h"
#include "util/err.h"

extern const sq_level_ops_t sq_level_tlm __attribute__((weak));

/* (gbps, latency ns) at 300 MHz: 64 B/cycle and 30 cycles, 48 B/cycle and 9,
 * 16 B/cycle and 30, 100 B/cycle and none. */
static const struct {
    double gbps, latency_ns;
} mems[] = {{19.2, 100}, {14.4, 30}, {4.8, 100}, {30, 0}};
#define N_MEMS (sizeof mems / sizeof mems[0])

static sq_dev_t *open_level(const char *level, size_t mem, uint64_t bytes)
{
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, level);
    cfg.mem_gbps = mems[mem].gbps;
    cfg.mem_latency_ns = mems[mem].latency_ns;
    cfg.mem_bytes = (bytes + 4096 + 63) & ~63ull;
    sq_dev_t *dev;
    ck_assert_msg(sq_dev_open(&cfg, &dev) == 0, "%s: %s", level, sq_err_msg());
    return dev;
}

/* Runs n GEMM cases as one stream on a level; checks every output bit
 * against the golden answer and returns the counters. */
static void gemm_stream(const char *level, sq_gemm_case_t *gc, int n, size_t mem,
                        sq_dev_stats_t *st)
{
    uint64_t bytes = (uint64_t)n * SQ_DESC_BYTES;
    for (int i = 0; i < n; i++)
        bytes += sq_gemm_case_dev_bytes(&gc[i]) + 64;
    sq_dev_t *dev = open_level(level, mem, bytes);
    uint8_t stream[4 * SQ_DESC_BYTES];
    uint64_t cmd = 0;
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(sq_gemm_case_place(dev, &gc[i], &cmd), 0);
        ck_assert_int_eq(sq_dev_read(dev, cmd, stream + i * SQ_DESC_BYTES, SQ_DESC_BYTES), 0);
    }
    if (n > 1)
        ck_assert_int_eq(sq_dev_put(dev, stream, (uint64_t)n * SQ_DESC_BYTES, &cmd), 0);
    ck_assert_msg(sq_dev_run(dev, cmd, (uint32_t)n, 0) == 0, "%s: %s", level, sq_err_msg());
    for (int i = 0; i < n; i++) {
        void *out = malloc(gc[i].b.c);
        ck_assert_int_eq(sq_gemm_case_read(dev, &gc[i], out), 0);
        uint64_t first;
        uint64_t bad = sq_gemm_case_mismatches(&gc[i], out, &first);
        ck_assert_msg(bad == 0, "%s: GEMM %ux%ux%u flags 0x%x: %llu outputs differ, first at %llu",
                      level, gc[i].d.m, gc[i].d.n, gc[i].d.k, gc[i].d.flags,
                      (unsigned long long)bad, (unsigned long long)first);
        free(out);
    }
    sq_dev_stats(dev, st);
    sq_dev_close(dev);
}

static void assert_same(const sq_dev_stats_t *t, const sq_dev_stats_t *r, const char *what)
{
    ck_assert_msg(t->cycles == r->cycles && t->stall_cycles == r->stall_cycles,
                  "%s: tlm %llu cycles (%llu stalls), rtl %llu (%llu)", what,
                  (unsigned long long)t->cycles, (unsigned long long)t->stall_cycles,
                  (unsigned long long)r->cycles, (unsigned long long)r->stall_cycles);
    ck_assert_uint_gt(t->cycles, 0);
    ck_assert_uint_eq(t->bytes_read, r->bytes_read);
    ck_assert_uint_eq(t->bytes_written, r->bytes_written);
    ck_assert_uint_eq(t->macs, r->macs);
    ck_assert_uint_eq(t->commands, r->commands);
}

/* Every GEMM mode (group scales too) and the odd shapes (M = 1, K = 1, N and
 * K not multiples of the array or a beat), one per memory system; the last
 * runs as a stream of three descriptors. */
START_TEST(test_gemm_vs_rtl)
{
    if (&sq_level_tlm == NULL)
        return;
    static const struct {
        uint32_t m, n, k, flags;
    } cases[] = {
        {64, 64, 64, 0},
        {33, 17, 5, SQ_GEMM_RELU},
        {1, 40, 1, 0},
        {1, 96, 64, SQ_GEMM_W4},
        {20, 48, 100, SQ_GEMM_SP24 | SQ_GEMM_BIAS},
        {1, 40, 300, SQ_GEMM_W4 | SQ_GEMM_GSCALE | SQ_GEMM_BIAS}, /* group drawn */
        {20, 17, 200, SQ_GEMM_GSCALE | SQ_GEMM_OUT32},
        {17, 31, 9, SQ_GEMM_OUT32},
        {18, 16, 66, SQ_GEMM_W4 | SQ_GEMM_RELU | SQ_GEMM_BIAS},
        {5, 3, 7, SQ_GEMM_SP24 | SQ_GEMM_OUT32 | SQ_GEMM_BIAS},
        {48, 40, 32, SQ_GEMM_SP24 | SQ_GEMM_RELU},
    };
    size_t nc = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < nc; i++) {
        int n = i + 3 == nc ? 3 : 1;
        sq_gemm_case_t gc[3];
        for (int j = 0; j < n; j++)
            ck_assert_msg(sq_gemm_case_build(&gc[j], cases[i + j].m, cases[i + j].n,
                                             cases[i + j].k, cases[i + j].flags, 7 + i + j) == 0,
                          "%s", sq_err_msg());
        sq_dev_stats_t t, r;
        gemm_stream("tlm", gc, n, i % N_MEMS, &t);
        gemm_stream("rtl", gc, n, i % N_MEMS, &r);
        char what[128];
        snprintf(what, sizeof what, "GEMM %ux%ux%u flags 0x%x (%d descriptors)", cases[i].m,
                 cases[i].n, cases[i].k, cases[i].flags, n);
        assert_same(&t, &r, what);
        for (int j = 0; j < n; j++)
            sq_gemm_case_free(&gc[j]);
        i += (size_t)n - 1;
    }
}
END_TEST

static void attn_stream(const char *level, sq_attn_case_t *ac, int n, size_t mem,
                        sq_dev_stats_t *st)
{
    sq_dev_t *dev = open_level(level, mem, sq_test_attn_stream_bytes(ac, n));
    sq_test_attn_stream(dev, ac, n, st);
    sq_dev_close(dev);
}

/* Decode and prefill with each pattern, then random configurations (pattern
 * combinations, GQA, tied scores); the last two run as one stream. */
START_TEST(test_attn_vs_rtl)
{
    if (&sq_level_tlm == NULL)
        return;
    static const sq_attn_params_t fixed[] = {
        {.seq = 96, .queries = 1, .heads = 2, .kv_heads = 1, .head_dim = 64, .seed = 1},
        {.seq = 40, .queries = 40, .heads = 2, .kv_heads = 2, .head_dim = 16,
         .flags = SQ_ATTN_CAUSAL, .seed = 2},
        {.seq = 80, .queries = 1, .heads = 4, .kv_heads = 2, .head_dim = 32,
         .flags = SQ_ATTN_CAUSAL | SQ_ATTN_WINDOW | SQ_ATTN_GLOBAL, .window = 16, .n_global = 2,
         .seed = 3},
        {.seq = 64, .queries = 8, .heads = 1, .kv_heads = 1, .head_dim = 24,
         .flags = SQ_ATTN_BLOCK, .block_density = 0.5, .seed = 4},
        {.seq = 48, .queries = 4, .heads = 2, .kv_heads = 1, .head_dim = 8,
         .flags = SQ_ATTN_TOPK | SQ_ATTN_CAUSAL, .topk = 5, .int8_range = 3, .seed = 5},
    };
    size_t nf = sizeof fixed / sizeof fixed[0], total = nf + 6;
    const uint64_t seed = 0x7117;
    for (size_t t = 0; t < total; t++) {
        sq_attn_params_t p[2];
        sq_attn_case_t ac[2];
        int n = t + 2 == total ? 2 : 1;
        for (int j = 0; j < n; j++) {
            if (t + j < nf)
                p[j] = fixed[t + j];
            else
                sq_regress_attn(seed, (t + j) * 5, 60000, &p[j]);
            char what[256];
            sq_test_attn_describe(&p[j], what, sizeof what);
            ck_assert_msg(sq_attn_case_build(&ac[j], &p[j]) == 0, "%s: %s", what, sq_err_msg());
        }
        sq_dev_stats_t tl, r;
        attn_stream("tlm", ac, n, t % N_MEMS, &tl);
        attn_stream("rtl", ac, n, t % N_MEMS, &r);
        char what[300];
        sq_test_attn_describe(&p[0], what, sizeof what);
        assert_same(&tl, &r, what);
        for (int j = 0; j < n; j++)
            sq_attn_case_free(&ac[j]);
        t += (size_t)n - 1;
    }
}
END_TEST

/* SystemC elaborates once per process: the platform is kept and reset per
 * open, at another clock and memory each time; a second open at the same
 * time is refused with one line, and an rtl device beside it is fine. */
START_TEST(test_reopen)
{
    if (&sq_level_tlm == NULL)
        return;
    sq_gemm_case_t gc;
    ck_assert_int_eq(sq_gemm_case_build(&gc, 24, 20, 40, SQ_GEMM_BIAS, 3), 0);
    uint64_t first = 0;
    for (int i = 0; i < 4; i++) {
        sq_dev_config_t cfg;
        sq_dev_config_default(&cfg, "tlm");
        cfg.clock_mhz = i % 2 ? 250 : 300;
        cfg.mem_gbps = cfg.clock_mhz * 64 / 1e3; /* 64 B/cycle and 30 cycles either way */
        cfg.mem_latency_ns = 30e3 / cfg.clock_mhz;
        cfg.mem_bytes = 1u << (20 + i);
        sq_dev_t *dev, *other;
        ck_assert_msg(sq_dev_open(&cfg, &dev) == 0, "%s", sq_err_msg());
        ck_assert_int_eq(sq_dev_open(&cfg, &other), SQ_ERR_DEV);
        ck_assert_ptr_null(other);
        ck_assert_ptr_nonnull(strstr(sq_err_msg(), "tlm device is open already"));
        ck_assert_ptr_null(strchr(sq_err_msg(), '\n'));
        sq_dev_config_t rc;
        sq_dev_config_default(&rc, "rtl");
        rc.mem_bytes = 1u << 20;
        ck_assert_int_eq(sq_dev_open(&rc, &other), 0);
        uint64_t cmd;
        ck_assert_int_eq(sq_gemm_case_place(dev, &gc, &cmd), 0);
        ck_assert_msg(sq_dev_run(dev, cmd, 1, 0) == 0, "%s", sq_err_msg());
        ck_assert_int_eq(sq_dev_run(dev, cmd, 1, 0), 0); /* twice on one open */
        int8_t out[24 * 20];
        ck_assert_int_eq(sq_gemm_case_read(dev, &gc, out), 0);
        sq_assert_i8_eq(out, (const int8_t *)gc.golden, sizeof out);
        sq_dev_stats_t st;
        sq_dev_stats(dev, &st);
        ck_assert_uint_eq(st.commands, 2);
        if (i == 0)
            first = st.cycles;
        ck_assert_uint_eq(st.cycles, first);
        sq_dev_close(other);
        sq_dev_close(dev);
    }
    sq_gemm_case_free(&gc);
}
END_TEST

/* A bound too small for the work ends the run with one line instead of a
 * simulation whose clock never stops; a bad descriptor is refused before
 * any work; the device stays usable after the refusal. */
START_TEST(test_errors)
{
    if (&sq_level_tlm == NULL)
        return;
    sq_gemm_case_t gc;
    ck_assert_int_eq(sq_gemm_case_build(&gc, 32, 32, 32, 0, 4), 0);
    sq_dev_t *dev = open_level("tlm", 0, sq_gemm_case_dev_bytes(&gc) + 1024);
    uint64_t cmd;
    ck_assert_int_eq(sq_gemm_case_place(dev, &gc, &cmd), 0);
    uint32_t d[SQ_DESC_WORDS];
    ck_assert_int_eq(sq_dev_read(dev, cmd, d, sizeof d), 0);
    uint32_t bad[SQ_DESC_WORDS];
    memcpy(bad, d, sizeof bad);
    bad[SQ_GEMM_W_M] = SQ_GEMM_MAX_DIM + 1;
    ck_assert_int_eq(sq_dev_write(dev, cmd, bad, sizeof bad), 0);
    ck_assert_int_ne(sq_dev_run(dev, cmd, 1, 0), 0);
    ck_assert_ptr_null(strchr(sq_err_msg(), '\n'));
    ck_assert_int_eq(sq_dev_write(dev, cmd, d, sizeof d), 0);
    ck_assert_msg(sq_dev_run(dev, cmd, 1, 0) == 0, "%s", sq_err_msg());
    ck_assert_int_eq(sq_dev_run(dev, cmd, 1, 50), SQ_ERR_DEV);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "tlm: kernel did not finish 1 commands within 50"));
    sq_dev_close(dev);
    sq_gemm_case_free(&gc);

    static char out[1 << 12], err[1 << 12];
    ck_assert_int_eq(sq_run_cli("gemm --backend tlmx", out, sizeof out, err, sizeof err), 2);
    ck_assert_ptr_nonnull(strstr(err, sq_dev_level_names()));
    ck_assert_ptr_eq(strchr(err, '\n'), err + strlen(err) - 1);
}
END_TEST

/* The CLI on tlm: gemm and attn checked against the golden reference with
 * the rtl's cycles, a waveform on request. */
START_TEST(test_cli)
{
    if (&sq_level_tlm == NULL)
        return;
    static char o1[1 << 12], o2[1 << 12], err[1 << 12];
    char fst[64] = "/tmp/sq_tlm_XXXXXX";
    close(mkstemp(fst));
    char args[256];
    snprintf(args, sizeof args, "gemm --backend tlm --shape 40x24x56 --sparse 2:4 --json "
             "--trace-fst %s", fst);
    ck_assert_msg(sq_run_cli(args, o1, sizeof o1, err, sizeof err) == 0, "%s", err);
    ck_assert_int_eq(sq_run_cli("gemm --backend rtl --shape 40x24x56 --sparse 2:4 --json", o2,
                                sizeof o2, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(o1, "\"mismatches\":0"));
    ck_assert_str_eq(strstr(o1, "\"m\":"), strstr(o2, "\"m\":")); /* all but the backend */
    struct stat sb;
    ck_assert_int_eq(stat(fst, &sb), 0);
    ck_assert_int_gt(sb.st_size, 1000);
    unlink(fst);
    strcat(fst, ".attn.fst");
    unlink(fst);
    const char *attn = "attn --seq 70 --queries 3 --heads 2 --kv-heads 1 --head-dim 16 --causal "
                       "--window 9 --json --backend ";
    snprintf(args, sizeof args, "%stlm", attn);
    ck_assert_msg(sq_run_cli(args, o1, sizeof o1, err, sizeof err) == 0, "%s", err);
    snprintf(args, sizeof args, "%srtl", attn);
    ck_assert_int_eq(sq_run_cli(args, o2, sizeof o2, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(o1, "\"cycles\":"));
    ck_assert_str_eq(strstr(o1, "\"seq\":"), strstr(o2, "\"seq\":"));
}
END_TEST

/* stories260K, w8a8, greedy: the same text on tlm as on the golden
 * reference, and integer attention on its unit gives ref's perplexity. */
START_TEST(test_model)
{
    if (&sq_level_tlm == NULL)
        return;
    static char t[1 << 14], r[1 << 14], err[1 << 14];
    const char *gen = "generate --model " SQ_MODEL_PATH " --tokenizer " SQ_TOK_PATH
                      " --recipe w8a8 --steps 16 --temperature 0 --offload linears --backend ";
    char args[1024];
    snprintf(args, sizeof args, "%stlm", gen);
    ck_assert_msg(sq_run_cli(args, t, sizeof t, err, sizeof err) == 0, "%s", err);
    snprintf(args, sizeof args, "%sref", gen);
    ck_assert_msg(sq_run_cli(args, r, sizeof r, err, sizeof err) == 0, "%s", err);
    ck_assert_ptr_nonnull(strstr(t, "Once upon a time"));
    ck_assert_str_eq(t, r);

    static const char story[] = "Once upon a time, there was a little girl named Lily.";
    char *text = sq_tmpfile(story, sizeof story - 1);
    const char *ev = "eval --model " SQ_MODEL_PATH " --tokenizer " SQ_TOK_PATH
                     " --recipe w8a8 --attn window:8,global:2 --offload linears --text";
    snprintf(args, sizeof args, "%s %s --backend tlm", ev, text);
    ck_assert_msg(sq_run_cli(args, t, sizeof t, err, sizeof err) == 0, "%s", err);
    snprintf(args, sizeof args, "%s %s --backend ref", ev, text);
    ck_assert_msg(sq_run_cli(args, r, sizeof r, err, sizeof err) == 0, "%s", err);
    ck_assert_ptr_nonnull(strstr(t, "ppl "));
    ck_assert_str_eq(t, r);
    unlink(text);
    free(text);
}
END_TEST

Suite *tlm_suite(void)
{
    Suite *s = suite_create("tlm");
    TCase *tc = sq_tcase(s, "vs_rtl", 120);
    tcase_add_test(tc, test_gemm_vs_rtl);
    tcase_add_test(tc, test_attn_vs_rtl);
    tc = sq_tcase(s, "platform", 60);
    tcase_add_test(tc, test_reopen);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_cli);
    tc = sq_tcase(s, "model", 120);
    tcase_add_test(tc, test_model);
    return s;
}
