/* Command-processor benchmark (bench/cp.sh writes bench/results/cp.md):
 *
 *  1. a decode step of a stories260K-shaped model as one stream (per layer
 *     the fused QKV GEMM, attention over pos + 1 keys, the output projection,
 *     W1|W3 and W2; then the classifier: 26 descriptors, each reading the
 *     previous one's output), at position 100: cycles and wall time as one
 *     launch of the accelerator kernel and as host-driven launches of the
 *     unit kernels on rtl, and the model level's cycles (= rtl's);
 *  2. the command processor's dispatch overhead: 64 small independent GEMMs
 *     back to back on one unit, one launch against the unit kernel;
 *  3. Verilator speed: simulated cycles per CPU second of the accelerator
 *     kernel and of the unit kernels on the same work, in this one run.
 *
 * Every output is compared with the golden ref level. Prints markdown. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/attn_case.h"
#include "runtime/desc.h"
#include "runtime/device.h"
#include "runtime/gemm_case.h"
#include "util/err.h"

#define MEM (64u << 20)

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_cp: %s: %s\n", what, sq_err_msg());
    exit(1);
}

static sq_dev_t *open_level(const char *level, int unit_launches)
{
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, level);
    cfg.mem_bytes = MEM;
    cfg.unit_launches = unit_launches;
    sq_dev_t *dev;
    if (sq_dev_open(&cfg, &dev))
        die(level);
    return dev;
}

/* A stream placed on a device, and where its outputs are. */
typedef struct {
    uint64_t cmd;
    uint32_t n;
    uint64_t out[64], out_len[64];
    int n_out;
} stream_t;

static void gemm_desc(sq_dev_t *dev, uint32_t m, uint32_t n, uint32_t k, uint32_t flags,
                      uint64_t seed, uint64_t a_from, uint8_t *d, stream_t *s)
{
    sq_gemm_case_t gc;
    uint64_t one;
    if (sq_gemm_case_build(&gc, m, n, k, flags, seed) || sq_gemm_case_place(dev, &gc, &one) ||
        sq_dev_read(dev, one, d, SQ_DESC_BYTES))
        die("gemm case");
    if (a_from)
        sq_desc_set_addr(d, SQ_GEMM_W_A_LO, a_from);
    s->out[s->n_out] = gc.d.c;
    s->out_len[s->n_out++] = gc.b.c;
    sq_gemm_case_free(&gc);
}

/* stories260K's decode step: dim 64, 8 heads of 8, 4 KV heads, hidden 172,
 * vocab 512, 5 layers; every descriptor depends on the previous one. */
static void decode_stream(sq_dev_t *dev, stream_t *s)
{
    enum { LAYERS = 5, DIM = 64, HEADS = 8, KV = 4, HD = 8, HIDDEN = 172, VOCAB = 512, CAP = 256 };
    uint8_t d[32][SQ_DESC_BYTES];
    memset(s, 0, sizeof *s);
    uint32_t i = 0;
    uint64_t x = 0, seed = 1;
    const uint32_t dep1[SQ_DESC_DEPS] = {1, 0, 0};
    for (int l = 0; l < LAYERS; l++) {
        gemm_desc(dev, 1, DIM + 2 * KV * HD, DIM, 0, seed++, x, d[i], s);
        uint64_t qkv = s->out[s->n_out - 1];
        if (i)
            sq_desc_set_deps(d[i], dep1);
        i++;
        sq_attn_params_t p = {.seq = 1, .queries = 1, .heads = HEADS, .kv_heads = KV,
                              .head_dim = HD, .kv_cap = CAP, .flags = SQ_ATTN_CAUSAL,
                              .int8_range = 60, .seed = seed++};
        sq_attn_case_t ac;
        uint64_t one;
        if (sq_attn_case_build(&ac, &p) || sq_attn_case_place(dev, &ac, &one) ||
            sq_dev_read(dev, one, d[i], SQ_DESC_BYTES))
            die("attention case");
        sq_desc_set_addr(d[i], SQ_ATTN_W_Q_LO, qkv);
        /* pos + 1 keys */
        sq_desc_set_patch(d[i], 0, sq_desc_patch_word(SQ_ATTN_W_SEQ, 0, 0, 1));
        sq_desc_set_deps(d[i], dep1);
        s->out[s->n_out] = ac.d.o;
        s->out_len[s->n_out++] = ac.b.o;
        x = ac.d.o;
        sq_attn_case_free(&ac);
        i++;
        const uint32_t nk[3][2] = {{DIM, DIM}, {2 * HIDDEN, DIM}, {DIM, HIDDEN}};
        for (int g = 0; g < 3; g++) {
            gemm_desc(dev, 1, nk[g][0], nk[g][1], SQ_GEMM_BIAS, seed++, x, d[i], s);
            sq_desc_set_deps(d[i], dep1);
            x = s->out[s->n_out - 1];
            i++;
        }
    }
    gemm_desc(dev, 1, VOCAB, DIM, SQ_GEMM_OUT32, seed++, x, d[i], s);
    sq_desc_set_deps(d[i], dep1);
    i++;
    s->n = i;
    if (sq_dev_put(dev, d, (uint64_t)i * SQ_DESC_BYTES, &s->cmd))
        die("stream");
}

/* n independent 1 x 16 x 16 GEMMs. */
static void small_stream(sq_dev_t *dev, uint32_t n, stream_t *s)
{
    uint8_t d[64][SQ_DESC_BYTES];
    memset(s, 0, sizeof *s);
    for (uint32_t i = 0; i < n; i++)
        gemm_desc(dev, 1, 16, 16, 0, 100 + i, 0, d[i], s);
    s->n = n;
    if (sq_dev_put(dev, d, (uint64_t)n * SQ_DESC_BYTES, &s->cmd))
        die("stream");
}

/* One big descriptor of each unit. */
static void big_stream(sq_dev_t *dev, int attn, stream_t *s)
{
    uint8_t d[SQ_DESC_BYTES];
    memset(s, 0, sizeof *s);
    if (attn) {
        sq_attn_params_t p = {.seq = 512, .queries = 4, .heads = 8, .kv_heads = 4,
                              .head_dim = 64, .flags = SQ_ATTN_CAUSAL, .seed = 9};
        sq_attn_case_t ac;
        if (sq_attn_case_build(&ac, &p) || sq_attn_case_place(dev, &ac, &s->cmd))
            die("attention case");
        s->out[0] = ac.d.o;
        s->out_len[0] = ac.b.o;
        sq_attn_case_free(&ac);
    } else {
        gemm_desc(dev, 256, 256, 256, 0, 7, 0, d, s);
        if (sq_dev_put(dev, d, SQ_DESC_BYTES, &s->cmd))
            die("stream");
    }
    s->n_out = 1;
    s->n = 1;
}

typedef struct {
    sq_dev_stats_t st;
    double wall, cpu;
    uint8_t *out;
    size_t out_len;
} result_t;

static void run(const char *level, int unit_launches, void (*build)(sq_dev_t *, stream_t *),
                sq_dev_stats_t *per, result_t *r)
{
    sq_dev_t *dev = open_level(level, unit_launches);
    stream_t s;
    build(dev, &s);
    sq_run_args_t args = {.pos = {100}, .per_desc = per};
    double w0 = wall_now(), c0 = cpu_now();
    if (sq_dev_run_args(dev, s.cmd, s.n, &args, 0))
        die(level);
    r->wall = wall_now() - w0;
    r->cpu = cpu_now() - c0;
    sq_dev_stats(dev, &r->st);
    r->out_len = 0;
    for (int o = 0; o < s.n_out; o++)
        r->out_len += s.out_len[o];
    r->out = malloc(r->out_len);
    size_t at = 0;
    for (int o = 0; o < s.n_out; o++) {
        if (sq_dev_read(dev, s.out[o], r->out + at, s.out_len[o]))
            die("read");
        at += s.out_len[o];
    }
    sq_dev_close(dev);
}

static void check(const result_t *golden, const result_t *r, const char *what)
{
    if (golden->out_len != r->out_len || memcmp(golden->out, r->out, r->out_len)) {
        fprintf(stderr, "bench_cp: %s differs from the golden\n", what);
        exit(1);
    }
}

static void small16(sq_dev_t *dev, stream_t *s)
{
    small_stream(dev, 64, s);
}

static void big_gemm(sq_dev_t *dev, stream_t *s)
{
    big_stream(dev, 0, s);
}

static void big_attn(sq_dev_t *dev, stream_t *s)
{
    big_stream(dev, 1, s);
}

int main(void)
{
    /* 1. the decode step */
    result_t gold, one, units, model;
    sq_dev_stats_t per[32], per_m[32];
    run("ref", 0, decode_stream, NULL, &gold);
    run("rtl", 0, decode_stream, per, &one);
    run("rtl", 1, decode_stream, NULL, &units);
    run("model", 0, decode_stream, per_m, &model);
    check(&gold, &one, "rtl, one launch");
    check(&gold, &units, "rtl, unit launches");
    check(&gold, &model, "model");
    if (one.st.cycles != model.st.cycles) {
        fprintf(stderr, "bench_cp: model %" PRIu64 " cycles, rtl %" PRIu64 "\n",
                model.st.cycles, one.st.cycles);
        return 1;
    }
    uint64_t busy[2] = {0, 0};
    for (uint32_t i = 0; i < 26; i++)
        busy[(i % 5) == 1 ? 1 : 0] += per[i].cycles;
    printf("## A decode step as one launch\n\n");
    printf("stories260K's shapes (dim 64, 8 heads of 8 over 4 KV heads, hidden 172, vocab "
           "512, 5 layers): per layer the fused QKV GEMM, attention over pos + 1 = 101 keys "
           "(the position patched into the descriptor), the output projection, W1|W3 and "
           "W2, then the classifier; 26 descriptors, each depending on the previous one. "
           "The norms, RoPE and SwiGLU between them are the vector unit's and not in this "
           "stream. DDR4 model: 19.2 GB/s per port, 100 ns, 300 MHz. Outputs equal the "
           "golden ref level's on every run.\n\n");
    printf("| run | launches | cycles | of which units busy (GEMM / attention) | wall s | "
           "simulated cycles / CPU s |\n|---|---:|---:|---|---:|---:|\n");
    printf("| rtl, one launch of the accelerator kernel | %" PRIu64 " | %" PRIu64
           " | %" PRIu64 " / %" PRIu64 " | %.3f | %.0f |\n",
           one.st.launches, one.st.cycles, busy[0], busy[1], one.wall,
           (double)one.st.cycles / one.cpu);
    printf("| rtl, the unit kernels launched by the host | %" PRIu64 " | %" PRIu64
           " | | %.3f | %.0f |\n",
           units.st.launches, units.st.cycles, units.wall, (double)units.st.cycles / units.cpu);
    printf("| model, one launch | %" PRIu64 " | %" PRIu64 " (= rtl) | | %.3f | |\n\n",
           model.st.launches, model.st.cycles, model.wall);
    printf("The unit launches' cycles are each kernel's own, summed: a card adds a launch "
           "latency per launch on top (tens of microseconds each through XRT).\n\n");

    /* 2. dispatch overhead */
    result_t g2, cp2, u2;
    sq_dev_stats_t per2[64];
    run("ref", 0, small16, NULL, &g2);
    run("rtl", 0, small16, per2, &cp2);
    run("rtl", 1, small16, NULL, &u2);
    check(&g2, &cp2, "small GEMMs, one launch");
    check(&g2, &u2, "small GEMMs, unit kernel");
    uint64_t b2 = 0;
    for (int i = 0; i < 64; i++)
        b2 += per2[i].cycles;
    printf("## Dispatch overhead\n\n");
    printf("64 independent 1 x 16 x 16 GEMMs on one unit (one descriptor's own work: "
           "%.1f cycles on average).\n\n",
           (double)b2 / 64);
    printf("| run | cycles | cycles per descriptor beyond the unit's busy cycles |\n"
           "|---|---:|---:|\n");
    printf("| accelerator kernel (fetch ahead, two-entry queue per unit) | %" PRIu64
           " | %.2f |\n",
           cp2.st.cycles, (double)(cp2.st.cycles - b2) / 64);
    printf("| GEMM unit kernel (fetches each descriptor after the last is done) | %" PRIu64
           " | %.2f |\n\n",
           u2.st.cycles, (double)(u2.st.cycles - b2) / 64);

    /* 3. simulation speed */
    printf("## Verilator speed\n\n");
    printf("Simulated kernel cycles per CPU second of this process (register traffic and "
           "the host's validation included), the same work on each kernel, in this run.\n\n");
    printf("| work | kernel | cycles | cycles / CPU s |\n|---|---|---:|---:|\n");
    struct {
        const char *name;
        void (*build)(sq_dev_t *, stream_t *);
    } works[] = {{"GEMM 256 x 256 x 256", big_gemm},
                 {"attention, seq 512, 4 queries, 8 heads of 64", big_attn},
                 {"the decode step above", decode_stream}};
    for (size_t w = 0; w < sizeof works / sizeof works[0]; w++) {
        result_t a, u;
        run("rtl", 0, works[w].build, NULL, &a);
        run("rtl", 1, works[w].build, NULL, &u);
        check(&a, &u, works[w].name);
        printf("| %s | accelerator (sq_accel_top) | %" PRIu64 " | %.0f |\n", works[w].name,
               a.st.cycles, (double)a.st.cycles / a.cpu);
        printf("| %s | unit kernel(s) | %" PRIu64 " | %.0f |\n", works[w].name, u.st.cycles,
               (double)u.st.cycles / u.cpu);
        free(a.out);
        free(u.out);
    }
    free(gold.out);
    free(one.out);
    free(units.out);
    free(model.out);
    free(g2.out);
    free(cp2.out);
    free(u2.out);
    return 0;
}
