/* sparq sweep: design-space table of the GEMM unit over array sizes, from the
 * cycle model (the `model` level), either for a compiled model generating
 * greedy tokens (decode, the same program `generate` runs) or for synthetic
 * GEMM shapes (e.g. a prefill-sized layer). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_accel.h"
#include "cli/cli_model.h"
#include "model/sampler.h"
#include "runtime/gemm_case.h"
#include "sparq/spec.h"
#include "util/err.h"

#define CMD "sweep"
#define MAX_POINTS 16
#define MAX_SHAPES 16

static void help(void)
{
    puts("usage: sparq sweep [flags]\n"
         "Runs the GEMM unit's cycle model (level `model`) for each array size and prints a\n"
         "design-space table: PEs, peak GOP/s (2 ops per MAC, 2 MACs per PE per cycle),\n"
         "cycles and device latency per token, tokens/s, MAC utilization, device-memory\n"
         "bytes per token and the fraction of cycles the array waited on memory; for a\n"
         "model also the runs and PCIe bytes per token and the latency with the host\n"
         "interaction (--launch-us per run, host bytes at --pcie-gbps). The sweep maps the\n"
         "linears (the model level has no vector unit yet): the host's own work (norms,\n"
         "attention, ...) is the same at every point and not in these figures;\n"
         "generate --report measures it.\n\n"
         "  --array RxC[,RxC...]  array sizes (default 8x8,16x16,32x32; each side 1..256)\n"
         "  --model FILE          llama2.c checkpoint (default " SQ_DEFAULT_MODEL ")\n"
         "  --tokenizer FILE      tokenizer.bin (default " SQ_DEFAULT_TOKENIZER ")\n"
         "  --recipe R            compression recipe (default w8a8)\n"
         "  --tokens N            greedy decode positions per point (default 16)\n"
         "  --shape MxNxK[,...]   instead of a model: one synthetic int8 GEMM of each shape\n"
         "                        per point (a 'token' is then one pass over the shapes)\n"
         "  --target T            memory system: ddr4 (default), u250, u280 or f2\n"
         "  --clock-mhz F         kernel clock (default 300)\n"
         "  --launch-us U         host cost of one kernel run (default 30; docs/integer_layer.md)\n"
         "  --pcie-gbps G         PCIe bandwidth of host transfers (default 9)\n"
         "  --json                one JSON object on stdout instead of the table\n"
         "  --help");
}

typedef struct {
    uint32_t r, c;
    uint64_t tokens;
    sq_dev_stats_t t;
    uint64_t runs, pcie_bytes; /* host interaction over the tokens (models only) */
} point_t;

typedef struct {
    const char *model, *tok, *recipe, *target;
    double clock_mhz, launch_us, pcie_gbps;
    long tokens;
    int json;
    uint32_t n_points, n_shapes;
    uint32_t arr[MAX_POINTS][2];
    uint32_t shapes[MAX_SHAPES][3];
} sweep_opts_t;

/* Parses "AxB[xC],..." into up to max tuples of `dims` values in [1, hi]. */
static int parse_list(const char *flag, const char *arg, unsigned dims, uint32_t hi,
                      uint32_t (*out)[3], uint32_t max, uint32_t *n)
{
    const char *p = arg;
    *n = 0;
    while (*p) {
        if (*n == max) {
            sq_cli_error(CMD, "%s: at most %u entries", flag, max);
            return -1;
        }
        for (unsigned d = 0; d < dims; d++) {
            char *end;
            unsigned long v = strtoul(p, &end, 10);
            if (end == p || v < 1 || v > hi || (d + 1 < dims ? *end != 'x' : (*end && *end != ','))) {
                sq_cli_error(CMD, "%s: bad entry in '%s' (want %s, each 1..%u)", flag, arg,
                             dims == 2 ? "RxC" : "MxNxK", hi);
                return -1;
            }
            out[*n][d] = (uint32_t)v;
            p = end + (*end == 'x');
        }
        (*n)++;
        if (*p == ',')
            p++;
    }
    if (*n == 0) {
        sq_cli_error(CMD, "%s: empty list", flag);
        return -1;
    }
    return 0;
}

static int parse(int argc, char **argv, sweep_opts_t *o)
{
    *o = (sweep_opts_t){.model = SQ_DEFAULT_MODEL, .tok = SQ_DEFAULT_TOKENIZER,
                        .recipe = "w8a8", .clock_mhz = 300.0, .launch_us = SQ_LAUNCH_US_DEFAULT,
                        .pcie_gbps = SQ_PCIE_GBPS_DEFAULT, .tokens = 16, .n_points = 3,
                        .arr = {{8, 8}, {16, 16}, {32, 32}}};
    static const struct option opts[] = {
        {"array", required_argument, NULL, 'a'},  {"model", required_argument, NULL, 'm'},
        {"tokenizer", required_argument, NULL, 'z'}, {"recipe", required_argument, NULL, 'r'},
        {"tokens", required_argument, NULL, 'n'}, {"shape", required_argument, NULL, 's'},
        {"target", required_argument, NULL, 't'}, {"clock-mhz", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, 'j'},         {"help", no_argument, NULL, 'h'},
        {"launch-us", required_argument, NULL, 'L'}, {"pcie-gbps", required_argument, NULL, 'P'},
        {NULL, 0, NULL, 0}};
    uint32_t tmp[MAX_POINTS][3];
    int c;
    optind = 1;
    while ((c = sq_cli_getopt(CMD, argc, argv, opts)) != -1) {
        switch (c) {
        case 'a':
            if (parse_list("--array", optarg, 2, 256, tmp, MAX_POINTS, &o->n_points))
                return -1;
            for (uint32_t i = 0; i < o->n_points; i++) {
                o->arr[i][0] = tmp[i][0];
                o->arr[i][1] = tmp[i][1];
            }
            break;
        case 's':
            if (parse_list("--shape", optarg, 3, SQ_GEMM_MAX_DIM, o->shapes, MAX_SHAPES,
                           &o->n_shapes))
                return -1;
            break;
        case 'm': o->model = optarg; break;
        case 'z': o->tok = optarg; break;
        case 'r': o->recipe = optarg; break;
        case 'n':
            if (sq_cli_long(CMD, "--tokens", optarg, 1, 1 << 20, &o->tokens))
                return -1;
            break;
        case 't':
            if (!sq_target_find(optarg)) {
                sq_cli_error(CMD, "--target must be one of %s, got '%s'", sq_target_names(),
                             optarg);
                return -1;
            }
            o->target = optarg;
            break;
        case 'c':
            if (sq_cli_double(CMD, "--clock-mhz", optarg, 1, 2000, &o->clock_mhz))
                return -1;
            break;
        case 'L':
            if (sq_cli_double(CMD, "--launch-us", optarg, 0, 1e6, &o->launch_us))
                return -1;
            break;
        case 'P':
            if (sq_cli_double(CMD, "--pcie-gbps", optarg, 1e-3, 1e4, &o->pcie_gbps))
                return -1;
            break;
        case 'j': o->json = 1; break;
        case 'h': help(); return 1;
        default: return -1;
        }
    }
    if (optind < argc) {
        sq_cli_error(CMD, "unexpected argument '%s'", argv[optind]);
        return -1;
    }
    return 0;
}

/* Greedy decode of o->tokens positions from BOS through the compiled program. */
static int run_model(const sweep_opts_t *o, sq_cli_model_t *cm, point_t *pt)
{
    sq_cli_accel_t acc;
    sq_cli_accel_init(&acc);
    acc.backend = "model";
    acc.target = o->target;
    acc.clock_mhz = o->clock_mhz;
    acc.array_rows = pt->r;
    acc.array_cols = pt->c;
    /* the sweep maps the linears onto each array on the model level, which
     * has no vector unit yet (docs/integer_layer.md) */
    acc.offload_linears = 1;
    int rc = sq_cli_accel_open(CMD, &acc, cm, o->model, o->recipe);
    if (rc) {
        sq_cli_accel_close(CMD, &acc);
        return rc;
    }
    const sq_llama_t *m = &cm->model;
    long steps = o->tokens < m->cfg.seq_len ? o->tokens : m->cfg.seq_len;
    sq_llama_state_t s = {0};
    int err = sq_llama_state_build(&s, &m->cfg);
    int token = SQ_TOK_BOS;
    sq_report_phase_begin(&acc.rep, acc.dev, SQ_PHASE_DECODE);
    for (long pos = 0; !err && pos < steps; pos++) {
        err = sq_llama_forward(m, &s, token, pos, &cm->ex);
        if (!err)
            token = sq_argmax(s.logits, m->cfg.vocab_size);
    }
    sq_report_phase_end(&acc.rep, acc.dev, (uint64_t)steps, (uint64_t)steps);
    pt->runs = acc.rep.phase[SQ_PHASE_DECODE].runs;
    pt->pcie_bytes = acc.rep.phase[SQ_PHASE_DECODE].host_written +
                     acc.rep.phase[SQ_PHASE_DECODE].host_read;
    sq_llama_state_free(&s);
    if (err) {
        sq_cli_error(CMD, "%s", sq_err_msg());
        rc = sq_cli_exit_code(err);
    } else {
        sq_report_totals(&acc.rep, &pt->t);
        pt->tokens = acc.rep.tokens ? acc.rep.tokens : (uint64_t)steps;
    }
    int crc = sq_cli_accel_close(CMD, &acc);
    return rc ? rc : crc;
}

/* One pass over the synthetic shapes on a fresh model level. */
static int run_shapes(const sweep_opts_t *o, point_t *pt)
{
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, "model");
    cfg.mem_gbps = sq_target_find(o->target)->mem_gbps;
    cfg.clock_mhz = o->clock_mhz;
    cfg.array_rows = pt->r;
    cfg.array_cols = pt->c;
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < o->n_shapes; i++) {
        sq_gemm_case_t gc;
        sq_dev_t *dev = NULL;
        uint64_t cmd;
        rc = sq_gemm_case_build(&gc, o->shapes[i][0], o->shapes[i][1], o->shapes[i][2], 0, 1);
        uint64_t need = rc ? 0 : sq_gemm_case_dev_bytes(&gc);
        if (need > cfg.mem_bytes)
            cfg.mem_bytes = need;
        if (rc == 0)
            rc = sq_dev_open(&cfg, &dev);
        if (rc == 0)
            rc = sq_gemm_case_place(dev, &gc, &cmd);
        if (rc == 0)
            rc = sq_dev_run(dev, cmd, 1, 0);
        if (rc == 0) {
            sq_dev_stats_t st;
            sq_dev_stats(dev, &st);
            pt->t.cycles += st.cycles;
            pt->t.stall_cycles += st.stall_cycles;
            pt->t.bytes_read += st.bytes_read;
            pt->t.bytes_written += st.bytes_written;
            pt->t.macs += st.macs;
            pt->t.commands += st.commands;
        }
        sq_dev_close(dev);
        sq_gemm_case_free(&gc);
    }
    pt->tokens = 1;
    if (rc) {
        sq_cli_error(CMD, "%s", sq_err_msg());
        return sq_cli_exit_code(rc);
    }
    return 0;
}

typedef struct {
    double pes, peak_gops, cyc_tok, us_tok, tok_s, util, bytes_tok, stall;
    double runs_tok, pcie_tok, e2e_us_tok; /* models: with the host interaction */
} derived_t;

static derived_t derive(const sweep_opts_t *o, const point_t *p)
{
    derived_t d = {0};
    double tok = (double)p->tokens, cyc = (double)p->t.cycles;
    d.pes = (double)p->r * p->c;
    d.peak_gops = 2.0 * SQ_PE_MACS * d.pes * o->clock_mhz / 1e3;
    d.cyc_tok = cyc / tok;
    d.us_tok = d.cyc_tok / o->clock_mhz;
    d.tok_s = d.us_tok > 0 ? 1e6 / d.us_tok : 0;
    d.util = cyc > 0 ? (double)p->t.macs / (cyc * SQ_PE_MACS * d.pes) : 0;
    d.bytes_tok = (double)(p->t.bytes_read + p->t.bytes_written) / tok;
    d.stall = cyc > 0 ? (double)p->t.stall_cycles / cyc : 0;
    d.runs_tok = (double)p->runs / tok;
    d.pcie_tok = (double)p->pcie_bytes / tok;
    d.e2e_us_tok = d.us_tok + d.runs_tok * o->launch_us + d.pcie_tok / (o->pcie_gbps * 1e3);
    return d;
}

static void print_table(const sweep_opts_t *o, const point_t *pts)
{
    const sq_target_t *t = sq_target_find(o->target);
    if (o->n_shapes)
        printf("sweep: %u synthetic int8 GEMM shape(s) per pass, level model, %s (%.1f GB/s), "
               "%.0f MHz\n", o->n_shapes, t->name, t->mem_gbps, o->clock_mhz);
    else
        printf("sweep: %s, recipe %s, %ld greedy decode tokens, level model, %s (%.1f GB/s), "
               "%.0f MHz\n", o->model, o->recipe, o->tokens, t->name, t->mem_gbps, o->clock_mhz);
    printf("%-8s %6s %9s %11s %11s %10s %7s %11s %7s", "array", "PEs", "peak GOP/s",
           o->n_shapes ? "cycles/pass" : "cycles/tok", o->n_shapes ? "us/pass" : "us/tok",
           o->n_shapes ? "passes/s" : "tokens/s", "util", o->n_shapes ? "bytes/pass" : "bytes/tok",
           "stall");
    if (!o->n_shapes)
        printf(" %9s %10s %10s %10s", "runs/tok", "PCIe B/tok", "e2e us/tok", "e2e tok/s");
    putchar('\n');
    for (uint32_t i = 0; i < o->n_points; i++) {
        derived_t d = derive(o, &pts[i]);
        char arr[24];
        snprintf(arr, sizeof arr, "%ux%u", pts[i].r, pts[i].c);
        printf("%-8s %6.0f %9.1f %11.0f %11.2f %10.0f %7.3f %11.0f %7.3f", arr, d.pes,
               d.peak_gops, d.cyc_tok, d.us_tok, d.tok_s, d.util, d.bytes_tok, d.stall);
        if (!o->n_shapes)
            printf(" %9.1f %10.0f %10.1f %10.0f", d.runs_tok, d.pcie_tok, d.e2e_us_tok,
                   d.e2e_us_tok > 0 ? 1e6 / d.e2e_us_tok : 0.0);
        putchar('\n');
    }
    if (!o->n_shapes)
        printf("e2e: device + %.1f us per run + PCIe at %.1f GB/s, without the host's own work "
               "(generate --report measures it)\n", o->launch_us, o->pcie_gbps);
}

static int print_json(const sweep_opts_t *o, const point_t *pts)
{
    const sq_target_t *t = sq_target_find(o->target);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "level", "model");
    cJSON_AddStringToObject(j, "target", t->name);
    cJSON_AddNumberToObject(j, "mem_gbps", t->mem_gbps);
    cJSON_AddNumberToObject(j, "clock_mhz", o->clock_mhz);
    cJSON_AddNumberToObject(j, "launch_us", o->launch_us);
    cJSON_AddNumberToObject(j, "pcie_gbps", o->pcie_gbps);
    if (o->n_shapes) {
        cJSON *sh = cJSON_AddArrayToObject(j, "shapes");
        for (uint32_t i = 0; i < o->n_shapes; i++) {
            char buf[48];
            snprintf(buf, sizeof buf, "%ux%ux%u", o->shapes[i][0], o->shapes[i][1],
                     o->shapes[i][2]);
            cJSON_AddItemToArray(sh, cJSON_CreateString(buf));
        }
    } else {
        cJSON_AddStringToObject(j, "model", o->model);
        cJSON_AddStringToObject(j, "recipe", o->recipe);
        cJSON_AddNumberToObject(j, "tokens", (double)o->tokens);
    }
    cJSON *arr = cJSON_AddArrayToObject(j, "points");
    for (uint32_t i = 0; i < o->n_points; i++) {
        derived_t d = derive(o, &pts[i]);
        cJSON *p = cJSON_CreateObject();
        cJSON_AddNumberToObject(p, "array_rows", pts[i].r);
        cJSON_AddNumberToObject(p, "array_cols", pts[i].c);
        cJSON_AddNumberToObject(p, "pes", d.pes);
        cJSON_AddNumberToObject(p, "peak_gops", d.peak_gops);
        cJSON_AddNumberToObject(p, "cycles_per_token", d.cyc_tok);
        cJSON_AddNumberToObject(p, "latency_us_per_token", d.us_tok);
        cJSON_AddNumberToObject(p, "tokens_per_s", d.tok_s);
        cJSON_AddNumberToObject(p, "mac_utilization", d.util);
        cJSON_AddNumberToObject(p, "bytes_per_token", d.bytes_tok);
        cJSON_AddNumberToObject(p, "stall_fraction", d.stall);
        cJSON_AddNumberToObject(p, "cycles", (double)pts[i].t.cycles);
        cJSON_AddNumberToObject(p, "macs", (double)pts[i].t.macs);
        cJSON_AddNumberToObject(p, "commands", (double)pts[i].t.commands);
        if (!o->n_shapes) {
            cJSON_AddNumberToObject(p, "runs_per_token", d.runs_tok);
            cJSON_AddNumberToObject(p, "pcie_bytes_per_token", d.pcie_tok);
            cJSON_AddNumberToObject(p, "e2e_us_per_token", d.e2e_us_tok);
        }
        cJSON_AddItemToArray(arr, p);
    }
    char *text = cJSON_Print(j);
    cJSON_Delete(j);
    if (!text) {
        sq_cli_error(CMD, "out of memory");
        return SQ_EXIT_FAIL;
    }
    puts(text);
    free(text);
    return 0;
}

int sq_cmd_sweep(int argc, char **argv)
{
    sweep_opts_t o;
    int p = parse(argc, argv, &o);
    if (p != 0)
        return p > 0 ? 0 : SQ_EXIT_USAGE;
    sq_cli_model_t cm;
    int rc = 0;
    if (!o.n_shapes && (rc = sq_cli_model_open(CMD, o.model, o.tok, o.recipe, NULL, &cm)))
        return rc;
    point_t pts[MAX_POINTS] = {{0}};
    for (uint32_t i = 0; rc == 0 && i < o.n_points; i++) {
        pts[i].r = o.arr[i][0];
        pts[i].c = o.arr[i][1];
        if (sq_cli_progress_enabled())
            sq_cli_progress("sweep", i, o.n_points);
        rc = o.n_shapes ? run_shapes(&o, &pts[i]) : run_model(&o, &cm, &pts[i]);
    }
    if (sq_cli_progress_enabled())
        sq_cli_progress_end();
    if (!o.n_shapes)
        sq_cli_model_close(&cm);
    if (rc)
        return rc;
    if (o.json)
        return print_json(&o, pts);
    print_table(&o, pts);
    return 0;
}
