/* The attention unit's cycle model (level "model") against the Verilated RTL
 * (level "rtl"): cycles and stall cycles equal, device-memory bytes and MACs
 * equal, outputs bit exact, over random configurations of every pattern
 * combination on several memory systems, streams of several descriptors,
 * fixed shapes up to seq 512 and head_dim 128, and real-model runs (eval
 * with integer attention on stories260K). The rtl comparisons run only when
 * the rtl level is built into the binary. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/attn_case.h"
#include "runtime/device.h"
#include "sparq/spec.h"
#include "runtime/regress.h"
#include "testutil.h"
#include "util/err.h"

extern const sq_level_ops_t sq_level_rtl __attribute__((weak));

/* Memory systems at 300 MHz: bytes per cycle 64, 48, 16, 100, 128 and read
 * latencies of 30, 9, 0, 1 and 60 cycles (the budget and latency rules both
 * shape the stalls). */
static const struct {
    double gbps, latency_ns;
} mems[] = {{19.2, 100}, {14.4, 30}, {4.8, 100}, {30, 0}, {19.2, 3.3}, {38.4, 200}, {14.4, 0}};
#define N_MEMS (sizeof mems / sizeof mems[0])

/* Runs n cases as one command stream (their descriptors back to back) on a
 * level with memory system mem; checks every output against the golden
 * answer and returns the counters. */
static void run_stream(const char *level, sq_attn_case_t *ac, int n, size_t mem,
                       sq_dev_stats_t *st)
{
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, level);
    cfg.mem_gbps = mems[mem].gbps;
    cfg.mem_latency_ns = mems[mem].latency_ns;
    cfg.mem_bytes = (4096u + sq_test_attn_stream_bytes(ac, n) + 63) & ~63ull;
    sq_dev_t *dev;
    ck_assert_msg(sq_dev_open(&cfg, &dev) == 0, "%s", sq_err_msg());
    sq_test_attn_stream(dev, ac, n, st);
    sq_dev_close(dev);
}

/* Model and rtl on the same stream: every counter equal. Returns the cycles. */
static uint64_t compare(sq_attn_case_t *ac, int n, size_t mem, const char *what)
{
    sq_dev_stats_t r, m;
    run_stream("rtl", ac, n, mem, &r);
    run_stream("model", ac, n, mem, &m);
    ck_assert_msg(m.cycles == r.cycles && m.stall_cycles == r.stall_cycles,
                  "%s, memory %zu: model %llu cycles (%llu stalls), rtl %llu (%llu)", what, mem,
                  (unsigned long long)m.cycles, (unsigned long long)m.stall_cycles,
                  (unsigned long long)r.cycles, (unsigned long long)r.stall_cycles);
    ck_assert_uint_eq(m.bytes_read, r.bytes_read);
    ck_assert_uint_eq(m.bytes_written, r.bytes_written);
    ck_assert_uint_eq(m.macs, r.macs);
    ck_assert_uint_eq(m.commands, r.commands);
    ck_assert_uint_lt(m.stall_cycles, m.cycles);
    return m.cycles;
}

static void build(sq_attn_case_t *ac, const sq_attn_params_t *p)
{
    char what[256];
    sq_test_attn_describe(p, what, sizeof what);
    ck_assert_msg(sq_attn_case_build(ac, p) == 0, "%s: %s", what, sq_err_msg());
}

/* 48 random configurations (all 32 pattern combinations, decode, prefill,
 * GQA, tied scores), each on one of the memory systems; every fourth runs
 * as a stream of two descriptors with the next configuration. */
START_TEST(test_random_vs_rtl)
{
    if (&sq_level_rtl == NULL)
        return;
    const uint64_t seed = 0xA7713;
    int count = 48, streams = 0;
    uint64_t cycles = 0;
    for (int t = 0; t < count; t++) {
        sq_attn_params_t p[2];
        sq_attn_case_t ac[2];
        int n = t % 4 == 3 && t + 1 < count ? 2 : 1;
        for (int i = 0; i < n; i++) {
            sq_regress_attn(seed, (uint64_t)(t + i), 400000, &p[i]);
            build(&ac[i], &p[i]);
        }
        char what[300];
        sq_test_attn_describe(&p[0], what, sizeof what);
        snprintf(what + strlen(what), sizeof what - strlen(what), " (config %d, %d descriptors)",
                 t, n);
        cycles += compare(ac, n, (size_t)t % N_MEMS, what);
        for (int i = 0; i < n; i++)
            sq_attn_case_free(&ac[i]);
        streams += n > 1;
        t += n - 1;
    }
    ck_assert_int_gt(streams, 5);
    fprintf(stderr, "attn_model: %d random configurations (%d two-descriptor streams), %llu "
            "cycles, model = rtl\n", count, streams, (unsigned long long)cycles);
}
END_TEST

/* Fixed shapes at the edges: seq 512 decode at head_dim 128 and 8, a GQA
 * prefill with every pattern, seq 1, and top-k over tied scores. */
START_TEST(test_shapes_vs_rtl)
{
    if (&sq_level_rtl == NULL)
        return;
    static const sq_attn_params_t shapes[] = {
        {.seq = 512, .queries = 1, .heads = 2, .kv_heads = 1, .head_dim = 128,
         .flags = SQ_ATTN_CAUSAL, .seed = 1},
        {.seq = 512, .queries = 2, .heads = 1, .kv_heads = 1, .head_dim = 8,
         .flags = SQ_ATTN_CAUSAL | SQ_ATTN_WINDOW | SQ_ATTN_TOPK, .window = 100, .topk = 16,
         .seed = 2},
        {.seq = 300, .queries = 3, .heads = 4, .kv_heads = 2, .head_dim = 100,
         .flags = SQ_ATTN_WINDOW | SQ_ATTN_GLOBAL | SQ_ATTN_BLOCK, .window = 20, .n_global = 5,
         .block_density = 0.3, .seed = 3},
        {.seq = 64, .queries = 64, .heads = 4, .kv_heads = 2, .head_dim = 24,
         .flags = SQ_ATTN_FLAGS_ALL, .window = 9, .n_global = 2, .topk = 5,
         .block_density = 0.5, .seed = 4},
        {.seq = 1, .queries = 1, .heads = 1, .kv_heads = 1, .head_dim = 128, .seed = 5},
        {.seq = 96, .queries = 8, .heads = 2, .kv_heads = 2, .head_dim = 16,
         .flags = SQ_ATTN_TOPK, .topk = 7, .int8_range = 1, .seed = 6},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        sq_attn_case_t ac;
        build(&ac, &shapes[i]);
        char what[256];
        sq_test_attn_describe(&shapes[i], what, sizeof what);
        uint64_t c = compare(&ac, 1, i % N_MEMS, what);
        fprintf(stderr, "attn_model: %s: %llu cycles, model = rtl\n", what, (unsigned long long)c);
        sq_attn_case_free(&ac);
    }
}
END_TEST

/* Fills st with the totals of the attention ops in an eval report. */
static void eval_attn(const char *level, const char *text, const char *attn, sq_dev_stats_t *st,
                      uint64_t *total)
{
    char json[] = "/tmp/sq_am_XXXXXX";
    close(mkstemp(json));
    char args[1024], out[4096], err[1 << 14];
    snprintf(args, sizeof args, "eval --model " SQ_MODEL_PATH " --tokenizer " SQ_TOK_PATH
             " --recipe w8a8 --text %s --attn %s --offload linears --backend %s --report %s", text, attn, level,
             json);
    ck_assert_msg(sq_run_cli(args, out, sizeof out, err, sizeof err) == 0, "%s", err);
    size_t n;
    char *body = sq_slurp(json, &n);
    ck_assert_ptr_nonnull(body);
    cJSON *j = cJSON_Parse(body);
    ck_assert_ptr_nonnull(j);
    memset(st, 0, sizeof *st);
    cJSON *op;
    cJSON_ArrayForEach(op, cJSON_GetObjectItem(j, "ops"))
    {
        if (strcmp(cJSON_GetObjectItem(op, "op")->valuestring, "attn"))
            continue;
        st->cycles += (uint64_t)cJSON_GetObjectItem(op, "cycles")->valuedouble;
        st->stall_cycles += (uint64_t)cJSON_GetObjectItem(op, "stall_cycles")->valuedouble;
        st->bytes_read += (uint64_t)cJSON_GetObjectItem(op, "bytes_read")->valuedouble;
        st->commands += (uint64_t)cJSON_GetObjectItem(op, "commands")->valuedouble;
    }
    *total = (uint64_t)cJSON_GetObjectItem(cJSON_GetObjectItem(j, "total"), "cycles")->valuedouble;
    cJSON_Delete(j);
    free(body);
    unlink(json);
    char svg[64];
    snprintf(svg, sizeof svg, "%s.svg", json);
    unlink(svg);
}

/* stories260K with integer attention on its unit, one descriptor per token
 * and layer: the model's attention cycles and the whole run's equal the rtl's. */
START_TEST(test_eval_vs_rtl)
{
    if (&sq_level_rtl == NULL)
        return;
    static const char story[] = "Once upon a time, there was a little girl named Lily.";
    char *text = sq_tmpfile(story, sizeof story - 1);
    static const char *attns[] = {"window:8,global:2", "topk:4,block:0.5"};
    for (size_t i = 0; i < 2; i++) {
        sq_dev_stats_t r, m;
        uint64_t rt, mt;
        eval_attn("rtl", text, attns[i], &r, &rt);
        eval_attn("model", text, attns[i], &m, &mt);
        ck_assert_uint_gt(r.commands, 10);
        ck_assert_msg(m.cycles == r.cycles && m.stall_cycles == r.stall_cycles,
                      "--attn %s: model %llu attention cycles, rtl %llu", attns[i],
                      (unsigned long long)m.cycles, (unsigned long long)r.cycles);
        ck_assert_uint_eq(m.bytes_read, r.bytes_read);
        ck_assert_msg(mt == rt, "--attn %s: model %llu cycles in all, rtl %llu", attns[i],
                      (unsigned long long)mt, (unsigned long long)rt);
        fprintf(stderr, "attn_model: eval --attn %s: %llu attention cycles of %llu, model = rtl\n",
                attns[i], (unsigned long long)m.cycles, (unsigned long long)mt);
    }
    unlink(text);
    free(text);
}
END_TEST

/* Runs one case on the model level alone and returns its counters. */
static void model_case(const sq_attn_params_t *p, sq_dev_stats_t *st)
{
    sq_attn_case_t ac;
    build(&ac, p);
    run_stream("model", &ac, 1, 0, st);
    ck_assert_uint_eq(st->macs, (ac.work.scored + ac.work.selected) * p->head_dim);
    ck_assert_uint_eq(st->bytes_written, (uint64_t)p->heads * p->queries * p->head_dim);
    ck_assert_uint_lt(st->stall_cycles, st->cycles);
    sq_attn_case_free(&ac);
}

/* Without the rtl: attention cycles are counted, follow the work (a window
 * of 16, a quarter of the keys, costs less than a third of dense, which pays
 * a memory latency per key block for its K rows and one for its V rows, not
 * one per key; top-k reads fewer bytes, but its threshold passes over the
 * scores now cost more than the V rows it saves), and the CLI runs the
 * attention unit on the model level. */
START_TEST(test_model_alone)
{
    sq_attn_params_t p = {.seq = 128, .queries = 4, .heads = 2, .kv_heads = 1, .head_dim = 64,
                          .seed = 9};
    sq_dev_stats_t dense, win, topk;
    model_case(&p, &dense);
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, "model");
    uint64_t latency = (uint64_t)(cfg.mem_latency_ns * cfg.clock_mhz / 1e3);
    ck_assert_uint_gt(dense.cycles, 2ull * 4 * (128 / SQ_ATTN_BLK) * 2 * latency);
    ck_assert_uint_lt(dense.cycles, 2ull * 4 * 128 * latency);
    p.flags = SQ_ATTN_WINDOW;
    p.window = 16;
    model_case(&p, &win);
    ck_assert_uint_lt(win.cycles * 3, dense.cycles);
    p.flags = SQ_ATTN_TOPK;
    p.topk = 8;
    model_case(&p, &topk);
    ck_assert_uint_lt(topk.bytes_read, dense.bytes_read);
    static char out[1 << 12], err[1 << 12];
    ck_assert_int_eq(sq_run_cli("attn --backend model --seq 40 --heads 2 --window 4 --json", out,
                                sizeof out, err, sizeof err), 0);
    cJSON *j = cJSON_Parse(out);
    ck_assert_ptr_nonnull(j);
    ck_assert(cJSON_GetObjectItem(j, "cycles")->valuedouble > 0);
    ck_assert_int_eq((int)cJSON_GetObjectItem(j, "mismatches")->valuedouble, 0);
    cJSON_Delete(j);
}
END_TEST

Suite *attn_model_suite(void)
{
    Suite *s = suite_create("attn_model");
    TCase *tc = sq_tcase(s, "model", 60);
    tcase_add_test(tc, test_model_alone);
    tc = sq_tcase(s, "vs_rtl", 300);
    tcase_add_test(tc, test_random_vs_rtl);
    tcase_add_test(tc, test_shapes_vs_rtl);
    tcase_add_test(tc, test_eval_vs_rtl);
    return s;
}
