/* sparq sweep: design-space exploration on the cycle model (the `model`
 * level). A design point takes one value of each dimension of dims[] below
 * (recipe, attention pattern, memory target, array size); for each point the
 * compiled model generates greedy tokens (the program `generate` runs), or
 * synthetic GEMM shapes run (--shape). The table gives latency, utilization,
 * bytes and DSPs per point, perplexity on held-out text per (recipe,
 * pattern), and marks the Pareto front over latency, DSPs and perplexity.
 *
 * Under mpirun the points are spread over the ranks in contiguous blocks,
 * and rank 0 gathers them and prints what one process prints, byte for byte,
 * errors included. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_accel.h"
#include "cli/cli_model.h"
#include "compress/recipe.h"
#include "dist/dist.h"
#include "model/eval.h"
#include "model/sampler.h"
#include "report/pareto.h"
#include "report/resources.h"
#include "runtime/gemm_case.h"
#include "sparq/spec.h"
#include "util/err.h"

#define CMD "sweep"
#define MAX_VALUES 64      /* per dimension */
#define MAX_POINTS 100000
#define MAX_SHAPES 16
#define STORY_SEP "<|endoftext|>"

/* ---------------------------------------------------------------------------
 * Dimensions of the design space. A new one (e.g. compute units) is one entry
 * of dims[] plus the field its apply function sets. */

typedef struct {
    const char *recipe;
    const char *attn; /* NULL: fp32 attention on the host, as without --attn */
    const char *target;
    uint32_t rows, cols;
    uint32_t cus; /* GEMM compute units */
} design_t;

typedef struct {
    const char *name;  /* the flag --name, the JSON key and the table column */
    const char *help;
    const char *deflt;
    int commas;        /* values are comma-separated (else one per flag: they hold commas) */
    int accuracy;      /* changes the model's outputs: perplexity is measured per value */
    int model_only;    /* meaningless for --shape */
    int (*check)(const char *v); /* 0, or -1 after printing why */
    void (*apply)(design_t *d, const char *v);
} dim_t;

static int check_recipe(const char *v)
{
    sq_recipe_t r;
    if (sq_recipe_parse(v, &r) == 0)
        return 0;
    sq_cli_error(CMD, "--recipe: %s", sq_err_msg());
    return -1;
}

static int check_attn(const char *v)
{
    (void)v; /* a pattern is checked against the model's shape when it opens */
    return 0;
}

static int check_target(const char *v)
{
    if (sq_target_find(v))
        return 0;
    sq_cli_error(CMD, "--target must be one of %s, got '%s'", sq_target_names(), v);
    return -1;
}

static int parse_array(const char *v, uint32_t *r, uint32_t *c)
{
    unsigned a, b;
    char tail;
    if (sscanf(v, "%ux%u%c", &a, &b, &tail) != 2 || a < 1 || b < 1 || a > 256 || b > 256)
        return -1;
    *r = a;
    *c = b;
    return 0;
}

static int check_array(const char *v)
{
    uint32_t r, c;
    if (parse_array(v, &r, &c) == 0)
        return 0;
    sq_cli_error(CMD, "--array: bad entry '%s' (want RxC, each side 1..256)", v);
    return -1;
}

static int check_cus(const char *v)
{
    uint32_t u;
    return sq_cli_cus(CMD, v, &u);
}

static void apply_cus(design_t *d, const char *v)
{
    d->cus = (uint32_t)atoi(v);
}

static void apply_recipe(design_t *d, const char *v)
{
    d->recipe = v;
}

static void apply_attn(design_t *d, const char *v)
{
    d->attn = strcmp(v, "off") ? v : NULL;
}

static void apply_target(design_t *d, const char *v)
{
    d->target = v;
}

static void apply_array(design_t *d, const char *v)
{
    parse_array(v, &d->rows, &d->cols);
}

/* The first dimension varies slowest: each rank then opens each recipe once. */
static const dim_t dims[] = {
    {"recipe", "compression recipe (docs/compression.md)", "w8a8", 0, 1, 1, check_recipe,
     apply_recipe},
    {"attn", "attention: off (fp32 on the host) or a --attn pattern such as window:8,global:1",
     "off", 0, 1, 1, check_attn, apply_attn},
    {"target", "memory system: ddr4, u250, u280 or f2 (a port reads one channel)", "ddr4", 1, 0, 0, check_target,
     apply_target},
    {"array", "GEMM array RxC, each side 1..256", "8x8,16x16,32x32", 1, 0, 0, check_array,
     apply_array},
    {"cus", "GEMM compute units of that array, each on its own memory channel", "1", 1, 0, 0,
     check_cus, apply_cus},
};
#define N_DIMS (sizeof dims / sizeof dims[0])

/* ---------------------------------------------------------------------------
 * Options */

typedef struct {
    const char *model, *tok, *text, *svg;
    double clock_mhz, launch_us, pcie_gbps;
    long tokens, heldout;
    int json, timing_only;
    uint32_t n_shapes;
    uint32_t shapes[MAX_SHAPES][3];
    const char *vals[N_DIMS][MAX_VALUES];
    uint32_t n_vals[N_DIMS];
    int given[N_DIMS];
    char *dups[N_DIMS * (MAX_VALUES + 1)]; /* copies of the arguments, split in place */
    size_t n_dups;
} sweep_opts_t;

static void help(void)
{
    if (sq_dist_rank() != 0)
        return;
    puts("usage: sparq sweep [flags]\n"
         "Runs the cycle model (level `model`) at every design point, the product of the\n"
         "value lists below, and prints a table: DSPs (resource model), cycles and modeled\n"
         "latency per token, tokens/s, MAC utilization, device-memory bytes per token, the\n"
         "fraction of cycles the array waited on memory, perplexity on held-out text, and\n"
         "the Pareto front over latency, DSPs and perplexity; for a model also the runs and\n"
         "PCIe bytes per token and the latency with the host interaction (--launch-us per\n"
         "run, host bytes at --pcie-gbps). The sweep maps the linears alone (as --offload\n"
         "linears): the host's own work (norms, attention, ...) is the same at\n"
         "every point and not in these figures; generate --report measures it. Under mpirun the points are spread over the ranks\n"
         "and the output is the same as one process's.\n\n"
         "design dimensions (a flag given again adds values):");
    for (size_t d = 0; d < N_DIMS; d++)
        printf("  --%-7s V%s  %s (default %s)\n", dims[d].name, dims[d].commas ? "[,V...]" : "       ",
               dims[d].help, dims[d].deflt);
    puts("\n"
         "  --model FILE          llama2.c checkpoint (default " SQ_DEFAULT_MODEL "), or a dummy\n"
         "                        model (generate --help; perplexity is not measured on it)\n"
         "  --tokenizer FILE      tokenizer.bin (default " SQ_DEFAULT_TOKENIZER ")\n"
         "  --tokens N            greedy decode positions per point (default 16)\n"
         "  --text FILE           stories separated by " STORY_SEP " (default " SQ_DEFAULT_STORIES ")\n"
         "  --heldout H           the last H stories of the text are scored for perplexity,\n"
         "                        the ones before calibrate the recipes (default 2)\n"
         "  --shape MxNxK[,...]   instead of a model: one synthetic int8 GEMM of each shape\n"
         "                        per point (a 'token' is then one pass over the shapes)\n"
         "  --clock-mhz F         kernel clock (default 300)\n"
         "  --launch-us U         host cost of one kernel run (default 30; docs/integer_layer.md)\n"
         "  --pcie-gbps G         PCIe bandwidth of host transfers (default 9)\n"
         "  --timing-only         the model level counts without computing outputs (the greedy\n"
         "                        tokens are then not the model's; for dummy models' timing)\n"
         "  --json                one JSON object on stdout instead of the table\n"
         "  --svg FILE            Pareto plot: latency against DSPs, coloured by perplexity\n"
         SQ_CLI_MAX_MEM_HELP
         "  --help");
}

static void opts_free(sweep_opts_t *o)
{
    for (size_t i = 0; i < o->n_dups; i++)
        free(o->dups[i]);
    o->n_dups = 0;
}

/* Adds the values of one flag to dimension d (the first use replaces the
 * defaults). */
static int add_values(sweep_opts_t *o, size_t d, const char *arg)
{
    const dim_t *dm = &dims[d];
    if (!o->given[d]) {
        o->given[d] = 1;
        o->n_vals[d] = 0;
    }
    if (o->n_dups == sizeof o->dups / sizeof o->dups[0]) {
        sq_cli_error(CMD, "--%s: too many values", dm->name);
        return -1;
    }
    char *dup = strdup(arg);
    if (!dup) {
        sq_cli_error(CMD, "out of memory");
        return -1;
    }
    o->dups[o->n_dups++] = dup;
    char *p = dup;
    for (;;) {
        char *end = dm->commas ? strchr(p, ',') : NULL;
        if (end)
            *end = 0;
        if (!*p) {
            sq_cli_error(CMD, "--%s: empty value in '%s'", dm->name, arg);
            return -1;
        }
        if (o->n_vals[d] == MAX_VALUES) {
            sq_cli_error(CMD, "--%s: at most %d values", dm->name, MAX_VALUES);
            return -1;
        }
        if (dm->check(p))
            return -1;
        o->vals[d][o->n_vals[d]++] = p;
        if (!end)
            return 0;
        p = end + 1;
    }
}

/* Parses "MxNxK,..." into o->shapes. */
static int parse_shapes(sweep_opts_t *o, const char *arg)
{
    const char *p = arg;
    o->n_shapes = 0;
    while (*p) {
        if (o->n_shapes == MAX_SHAPES) {
            sq_cli_error(CMD, "--shape: at most %d entries", MAX_SHAPES);
            return -1;
        }
        for (unsigned d = 0; d < 3; d++) {
            char *end;
            unsigned long v = strtoul(p, &end, 10);
            if (end == p || v < 1 || v > SQ_GEMM_MAX_DIM ||
                (d < 2 ? *end != 'x' : (*end && *end != ','))) {
                sq_cli_error(CMD, "--shape: bad entry in '%s' (want MxNxK, each 1..%u)", arg,
                             SQ_GEMM_MAX_DIM);
                return -1;
            }
            o->shapes[o->n_shapes][d] = (uint32_t)v;
            p = end + (*end == 'x');
        }
        o->n_shapes++;
        if (*p == ',')
            p++;
    }
    if (o->n_shapes == 0) {
        sq_cli_error(CMD, "--shape: empty list");
        return -1;
    }
    return 0;
}

static int parse(int argc, char **argv, sweep_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->model = SQ_DEFAULT_MODEL;
    o->tok = SQ_DEFAULT_TOKENIZER;
    o->text = SQ_DEFAULT_STORIES;
    o->clock_mhz = 300.0;
    o->launch_us = SQ_LAUNCH_US_DEFAULT;
    o->pcie_gbps = SQ_PCIE_GBPS_DEFAULT;
    o->tokens = 16;
    o->heldout = 2;
    for (size_t d = 0; d < N_DIMS; d++)
        if (add_values(o, d, dims[d].deflt))
            return -1;
    memset(o->given, 0, sizeof o->given);
    struct option opts[N_DIMS + 15];
    size_t k = 0;
    for (size_t d = 0; d < N_DIMS; d++)
        opts[k++] = (struct option){dims[d].name, required_argument, NULL, 0x200 + (int)d};
    static const struct option rest[] = {
        {"model", required_argument, NULL, 'm'},  {"tokenizer", required_argument, NULL, 'z'},
        {"tokens", required_argument, NULL, 'n'}, {"text", required_argument, NULL, 'x'},
        {"heldout", required_argument, NULL, 'H'}, {"shape", required_argument, NULL, 's'},
        {"clock-mhz", required_argument, NULL, 'c'}, {"json", no_argument, NULL, 'j'},
        {"svg", required_argument, NULL, 'g'},    {"help", no_argument, NULL, 'h'},
        {"launch-us", required_argument, NULL, 'L'}, {"pcie-gbps", required_argument, NULL, 'P'},
        {"timing-only", no_argument, NULL, 'T'},
        {NULL, 0, NULL, 0}};
    memcpy(opts + k, rest, sizeof rest);
    int c;
    optind = 1;
    while ((c = sq_cli_getopt(CMD, argc, argv, opts)) != -1) {
        if (c >= 0x200 && c < 0x200 + (int)N_DIMS) {
            if (add_values(o, (size_t)(c - 0x200), optarg))
                return -1;
            continue;
        }
        switch (c) {
        case 'm': o->model = optarg; break;
        case 'z': o->tok = optarg; break;
        case 'x': o->text = optarg; break;
        case 'g': o->svg = optarg; break;
        case 'j': o->json = 1; break;
        case 'T': o->timing_only = 1; break;
        case 's':
            if (parse_shapes(o, optarg))
                return -1;
            break;
        case 'n':
            if (sq_cli_long(CMD, "--tokens", optarg, 1, 1 << 20, &o->tokens))
                return -1;
            break;
        case 'H':
            if (sq_cli_long(CMD, "--heldout", optarg, 1, 1 << 20, &o->heldout))
                return -1;
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
        case 'h': help(); return 1;
        default: return -1;
        }
    }
    if (optind < argc) {
        sq_cli_error(CMD, "unexpected argument '%s'", argv[optind]);
        return -1;
    }
    double n = 1;
    for (size_t d = 0; d < N_DIMS; d++) {
        if (o->n_shapes && dims[d].model_only) {
            if (o->given[d]) {
                sq_cli_error(CMD, "--%s does not apply to --shape", dims[d].name);
                return -1;
            }
            o->n_vals[d] = 1; /* the default stands in, unused */
        }
        n *= o->n_vals[d];
    }
    if (n > MAX_POINTS) {
        sq_cli_error(CMD, "%.0f design points; at most %d", n, MAX_POINTS);
        return -1;
    }
    return 0;
}

static size_t n_points(const sweep_opts_t *o)
{
    size_t n = 1;
    for (size_t d = 0; d < N_DIMS; d++)
        n *= o->n_vals[d];
    return n;
}

/* Point i's value index in each dimension (the first dimension slowest). */
static void digits(const sweep_opts_t *o, size_t i, uint32_t dig[N_DIMS])
{
    for (size_t d = N_DIMS; d-- > 0;) {
        dig[d] = (uint32_t)(i % o->n_vals[d]);
        i /= o->n_vals[d];
    }
}

static size_t index_of(const sweep_opts_t *o, const uint32_t dig[N_DIMS])
{
    size_t i = 0;
    for (size_t d = 0; d < N_DIMS; d++)
        i = i * o->n_vals[d] + dig[d];
    return i;
}

static design_t design_of(const sweep_opts_t *o, size_t i)
{
    uint32_t dig[N_DIMS];
    digits(o, i, dig);
    design_t ds = {0};
    for (size_t d = 0; d < N_DIMS; d++)
        dims[d].apply(&ds, o->vals[d][dig[d]]);
    return ds;
}

/* The point that measures perplexity for point i: the same values in the
 * accuracy dimensions, the first value in every other. */
static size_t accuracy_point(const sweep_opts_t *o, size_t i)
{
    uint32_t dig[N_DIMS];
    digits(o, i, dig);
    for (size_t d = 0; d < N_DIMS; d++)
        if (!dims[d].accuracy)
            dig[d] = 0;
    return index_of(o, dig);
}

/* ---------------------------------------------------------------------------
 * Held-out text */

typedef struct {
    char *text;   /* the whole file */
    char *calib;  /* stories 1 .. n - heldout, a copy */
    const char *held; /* the last heldout stories, inside text */
    long n_stories;
} split_t;

static int story_nonempty(const char *p, const char *end)
{
    for (; p < end; p++)
        if (*p != '\n' && *p != '\r' && *p != ' ' && *p != '\t')
            return 1;
    return 0;
}

/* Splits o->text at the story boundary before the last o->heldout stories
 * (empty stories are not counted, as sq_eval_text skips them). */
static int split_text(const sweep_opts_t *o, split_t *sp)
{
    memset(sp, 0, sizeof *sp);
    sp->text = sq_cli_read_text(sq_cli_find_data(o->text));
    if (!sp->text) {
        sq_cli_error(CMD, "%s", sq_err_msg());
        return SQ_EXIT_USAGE;
    }
    size_t cap = 64, *start = malloc(cap * sizeof *start);
    char *p = sp->text;
    while (start) {
        char *sep = strstr(p, STORY_SEP);
        char *end = sep ? sep : p + strlen(p);
        if (story_nonempty(p, end)) {
            if ((size_t)sp->n_stories == cap) {
                size_t *s2 = realloc(start, 2 * cap * sizeof *start);
                if (!s2) {
                    free(start);
                    start = NULL;
                    break;
                }
                start = s2;
                cap *= 2;
            }
            start[sp->n_stories++] = (size_t)(p - sp->text);
        }
        if (!sep)
            break;
        p = sep + strlen(STORY_SEP);
    }
    if (!start) {
        sq_cli_error(CMD, "out of memory");
        return SQ_EXIT_FAIL;
    }
    int rc = 0;
    if (o->heldout >= sp->n_stories) {
        sq_cli_error(CMD, "--heldout %ld leaves no story to calibrate on ('%s' has %ld)",
                     o->heldout, o->text, sp->n_stories);
        rc = SQ_EXIT_USAGE;
    } else {
        size_t off = start[sp->n_stories - o->heldout];
        sp->held = sp->text + off;
        sp->calib = strndup(sp->text, off);
        if (!sp->calib) {
            sq_cli_error(CMD, "out of memory");
            rc = SQ_EXIT_FAIL;
        }
    }
    free(start);
    return rc;
}

static void split_free(split_t *sp)
{
    free(sp->text);
    free(sp->calib);
    memset(sp, 0, sizeof *sp);
}

/* ---------------------------------------------------------------------------
 * One design point */

/* What a point measured; gathered over the ranks as raw bytes. */
typedef struct {
    int32_t rc;          /* the point's exit code, 0 when it ran */
    int32_t attn_unit;   /* attention ran on the attention unit */
    char err[256];       /* its error line when rc != 0 */
    uint64_t tokens;     /* decode positions (1 pass for --shape) */
    sq_dev_stats_t t;    /* the device's counters over them */
    double nll;          /* perplexity points: summed NLL on the held-out stories */
    uint64_t nll_tokens; /* and the tokens scored (0: not measured) */
    uint64_t runs, pcie_bytes; /* host interaction over the tokens (models only) */
} result_t;

/* The model of the recipe a rank is working on (a rank meets its points in
 * order, so each recipe is opened once). */
typedef struct {
    const char *recipe;
    sq_cli_model_t cm;
} model_cache_t;

static int cache_get(const sweep_opts_t *o, const split_t *sp, model_cache_t *mc,
                     const char *recipe, sq_cli_model_t **cm)
{
    if (!mc->recipe || strcmp(mc->recipe, recipe)) {
        if (mc->recipe)
            sq_cli_model_close(&mc->cm);
        mc->recipe = NULL;
        int rc = sq_cli_model_open_text(CMD, o->model, o->tok, recipe, sp->calib, &mc->cm);
        if (rc)
            return rc;
        mc->recipe = recipe;
    }
    *cm = &mc->cm;
    return 0;
}

/* Perplexity of the held-out stories with the recipe's host execution (the
 * same bits as every level) and the attention pattern on the golden
 * reference. GGUF models are not scored (sq_eval_text needs llama2.c's
 * tokenizer). */
static int measure_ppl(const split_t *sp, sq_cli_model_t *cm, const design_t *ds, result_t *res)
{
    if (cm->bpe || cm->dummy)
        return 0;
    sq_qmodel_exec(&cm->q, &cm->ex);
    sq_attn_exec_t ae;
    memset(&ae, 0, sizeof ae);
    int rc = 0;
    if (ds->attn) {
        rc = sq_attn_exec_init(&ae, &cm->model.cfg, ds->attn, 1);
        if (!rc)
            sq_attn_exec_install(&ae, &cm->ex);
    }
    sq_eval_result_t r;
    if (!rc)
        rc = sq_eval_text(&cm->model, &cm->tok, sp->held, &cm->ex, NULL, &r);
    sq_attn_exec_free(&ae);
    if (rc) {
        sq_cli_error(CMD, "%s", sq_err_msg());
        return sq_cli_exit_code(rc);
    }
    res->nll = r.nll;
    res->nll_tokens = r.tokens;
    return 0;
}

/* Greedy decode of o->tokens positions from BOS through the compiled
 * program on the model level. */
static int run_model(const sweep_opts_t *o, sq_cli_model_t *cm, const design_t *ds,
                     result_t *res)
{
    sq_qmodel_exec(&cm->q, &cm->ex);
    sq_cli_accel_t acc;
    sq_cli_accel_init(&acc);
    acc.backend = "model";
    acc.target = ds->target;
    acc.clock_mhz = o->clock_mhz;
    acc.array_rows = ds->rows;
    acc.array_cols = ds->cols;
    acc.cus = ds->cus;
    acc.attn = ds->attn;
    /* the sweep maps the linears alone onto each array (the array is what it
     * varies; the rest of the layer is the same at every point) */
    acc.offload_linears = 1;
    acc.timing_only = o->timing_only;
    int rc = sq_cli_accel_open(CMD, &acc, cm, o->model, ds->recipe);
    if (rc) {
        sq_cli_accel_close(CMD, &acc);
        return rc;
    }
    res->attn_unit = acc.attn && !acc.ae.fp32;
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
    res->runs = acc.rep.phase[SQ_PHASE_DECODE].runs;
    res->pcie_bytes = acc.rep.phase[SQ_PHASE_DECODE].host_written +
                      acc.rep.phase[SQ_PHASE_DECODE].host_read;
    sq_llama_state_free(&s);
    if (err) {
        sq_cli_error(CMD, "%s", sq_err_msg());
        rc = sq_cli_exit_code(err);
    } else {
        sq_report_totals(&acc.rep, &res->t);
        res->tokens = acc.rep.tokens ? acc.rep.tokens : (uint64_t)steps;
        if (!res->t.cycles) {
            sq_cli_error(CMD, "recipe '%s' puts no layer on the accelerator (its units are "
                         "integer: use a recipe such as w8a8)", ds->recipe);
            rc = SQ_EXIT_USAGE;
        }
    }
    int crc = sq_cli_accel_close(CMD, &acc);
    return rc ? rc : crc;
}

/* One pass over the synthetic shapes on a fresh model level. */
static int run_shapes(const sweep_opts_t *o, const design_t *ds, result_t *res)
{
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, "model");
    cfg.mem_gbps = sq_target_find(ds->target)->mem_gbps;
    cfg.clock_mhz = o->clock_mhz;
    cfg.array_rows = ds->rows;
    cfg.array_cols = ds->cols;
    cfg.gemm_cus = ds->cus;
    if (sq_cli_cus_fit(CMD, ds->cus, sq_target_find(ds->target)))
        return SQ_EXIT_USAGE;
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < o->n_shapes; i++) {
        sq_gemm_case_t gc;
        sq_dev_t *dev = NULL;
        uint64_t cmd;
        uint64_t host, dev_bytes;
        sq_gemm_case_bytes(o->shapes[i][0], o->shapes[i][1], o->shapes[i][2], 0, &host, &dev_bytes);
        if (sq_cli_mem_check(CMD, "a sweep point (its gemm and device memory)",
                             host + (dev_bytes > cfg.mem_bytes ? dev_bytes : cfg.mem_bytes)))
            return SQ_EXIT_USAGE;
        rc = sq_gemm_case_build(&gc, o->shapes[i][0], o->shapes[i][1], o->shapes[i][2], 0, 1);
        uint64_t need = rc ? 0 : sq_gemm_case_dev_bytes(&gc) + (uint64_t)ds->cus * SQ_DESC_BYTES;
        if (need > cfg.mem_bytes)
            cfg.mem_bytes = need;
        if (rc == 0)
            rc = sq_dev_open(&cfg, &dev);
        uint32_t n_cmds = 1;
        if (rc == 0)
            rc = sq_gemm_case_place(dev, &gc, &cmd);
        if (rc == 0)
            rc = sq_gemm_case_split(dev, &gc, &cmd, &n_cmds);
        if (rc == 0)
            rc = sq_dev_run(dev, cmd, n_cmds, 0);
        if (rc == 0) {
            sq_dev_stats_t st;
            sq_dev_stats(dev, &st);
            res->t.cycles += st.cycles;
            res->t.stall_cycles += st.stall_cycles;
            res->t.bytes_read += st.bytes_read;
            res->t.bytes_written += st.bytes_written;
            res->t.macs += st.macs;
            res->t.commands += st.commands;
        }
        sq_dev_close(dev);
        sq_gemm_case_free(&gc);
    }
    res->tokens = 1;
    if (rc) {
        sq_cli_error(CMD, "%s", sq_err_msg());
        return sq_cli_exit_code(rc);
    }
    return 0;
}

/* Runs point i into res; its error line, if any, lands in res->err. */
static void run_point(const sweep_opts_t *o, const split_t *sp, model_cache_t *mc, size_t i,
                      result_t *res)
{
    design_t ds = design_of(o, i);
    memset(res, 0, sizeof *res);
    sq_cli_error_capture(res->err, sizeof res->err);
    if (o->n_shapes) {
        res->rc = run_shapes(o, &ds, res);
    } else {
        sq_cli_model_t *cm;
        res->rc = cache_get(o, sp, mc, ds.recipe, &cm);
        if (!res->rc && accuracy_point(o, i) == i)
            res->rc = measure_ppl(sp, cm, &ds, res);
        if (!res->rc)
            res->rc = run_model(o, cm, &ds, res);
    }
    sq_cli_error_capture(NULL, 0);
}

/* ---------------------------------------------------------------------------
 * Output (rank 0) */

typedef struct {
    double pes, dsps, peak_gops, cyc_tok, us_tok, tok_s, util, bytes_tok, stall, ppl;
    double runs_tok, pcie_tok, e2e_us_tok; /* models: with the host interaction */
    uint64_t ppl_tokens;
} derived_t;

static derived_t derive(const sweep_opts_t *o, const result_t *all, size_t i)
{
    const result_t *p = &all[i];
    design_t ds = design_of(o, i);
    derived_t d = {0};
    double tok = (double)p->tokens, cyc = (double)p->t.cycles;
    d.pes = (double)ds.rows * ds.cols * ds.cus;
    d.dsps = (double)sq_gemm_dsps(ds.rows, ds.cols) * ds.cus + (p->attn_unit ? SQ_ATTN_DSPS : 0);
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
    const result_t *a = o->n_shapes ? NULL : &all[accuracy_point(o, i)];
    d.ppl_tokens = a ? a->nll_tokens : 0;
    d.ppl = d.ppl_tokens ? exp(a->nll / (double)d.ppl_tokens) : NAN;
    return d;
}

/* Dimensions shown per point: those with more than one value. */
static int varies(const sweep_opts_t *o, size_t d)
{
    return o->n_vals[d] > 1;
}

static void describe_accuracy(const sweep_opts_t *o, const split_t *sp, char *buf, size_t cap)
{
    long first = sp->n_stories - o->heldout + 1;
    if (!strncmp(o->model, SQ_DUMMY_PREFIX, strlen(SQ_DUMMY_PREFIX))) {
        snprintf(buf, cap, "not measured (a dummy model's weights are random)");
        return;
    }
    snprintf(buf, cap, "perplexity on stories %ld-%ld of %s (held out; recipes calibrate on "
             "stories 1-%ld)", first, sp->n_stories, o->text, first - 1);
}

static void print_table(const sweep_opts_t *o, const split_t *sp, const derived_t *dv,
                        const unsigned char *front)
{
    size_t n = n_points(o);
    if (o->n_shapes)
        printf("sweep: %u synthetic int8 GEMM shape(s) per pass, level model, %.0f MHz\n",
               o->n_shapes, o->clock_mhz);
    else
        printf("sweep: %s, %ld greedy decode tokens per point, level model, %.0f MHz\n",
               o->model, o->tokens, o->clock_mhz);
    for (size_t d = 0; d < N_DIMS; d++)
        if (!varies(o, d) && !(o->n_shapes && dims[d].model_only))
            printf("%s: %s\n", dims[d].name, o->vals[d][0]);
    if (!o->n_shapes) {
        char acc[512];
        describe_accuracy(o, sp, acc, sizeof acc);
        if (dv[0].ppl_tokens)
            printf("ppl: %s, %llu tokens\n", acc, (unsigned long long)dv[0].ppl_tokens);
        else
            printf("ppl: %s\n", acc);
    }
    printf("DSPs: GEMM unit 3RC + 4C + 5, +%d with the attention unit (yosys, "
           "bench/results/gemm_synth.md)\n", SQ_ATTN_DSPS);
    int width[N_DIMS];
    for (size_t d = 0; d < N_DIMS; d++) {
        width[d] = (int)strlen(dims[d].name);
        for (uint32_t v = 0; v < o->n_vals[d]; v++)
            if ((int)strlen(o->vals[d][v]) > width[d])
                width[d] = (int)strlen(o->vals[d][v]);
    }
    for (size_t d = 0; d < N_DIMS; d++)
        if (varies(o, d))
            printf("%-*s ", width[d], dims[d].name);
    const char *unit = o->n_shapes ? "pass" : "tok";
    char c1[16], c2[16], c3[16], c4[16];
    snprintf(c1, sizeof c1, "cycles/%s", unit);
    snprintf(c2, sizeof c2, "us/%s", unit);
    snprintf(c3, sizeof c3, "%s/s", o->n_shapes ? "passes" : "tokens");
    snprintf(c4, sizeof c4, "bytes/%s", unit);
    printf("%6s %6s %11s %11s %10s %7s %11s %7s", "PEs", "DSPs", c1, c2, c3, "util", c4, "stall");
    if (!o->n_shapes)
        printf(" %9s %9s %10s %10s %10s", "ppl", "runs/tok", "PCIe B/tok", "e2e us/tok",
               "e2e tok/s");
    printf(" %s\n", "pareto");
    for (size_t i = 0; i < n; i++) {
        uint32_t dig[N_DIMS];
        digits(o, i, dig);
        for (size_t d = 0; d < N_DIMS; d++)
            if (varies(o, d))
                printf("%-*s ", width[d], o->vals[d][dig[d]]);
        const derived_t *v = &dv[i];
        printf("%6.0f %6.0f %11.0f %11.2f %10.0f %7.3f %11.0f %7.3f", v->pes, v->dsps, v->cyc_tok,
               v->us_tok, v->tok_s, v->util, v->bytes_tok, v->stall);
        if (!o->n_shapes) {
            if (isnan(v->ppl))
                printf(" %9s", "-");
            else
                printf(" %9.4f", v->ppl);
            printf(" %9.1f %10.0f %10.1f %10.0f", v->runs_tok, v->pcie_tok, v->e2e_us_tok,
                   v->e2e_us_tok > 0 ? 1e6 / v->e2e_us_tok : 0.0);
        }
        puts(front[i] ? " *" : "");
    }
    if (!o->n_shapes)
        printf("e2e: device + %.1f us per run + PCIe at %.1f GB/s, without the host's own work "
               "(generate --report measures it)\n", o->launch_us, o->pcie_gbps);
}

static int print_json(const sweep_opts_t *o, const split_t *sp, const result_t *all,
                      const derived_t *dv, const unsigned char *front)
{
    size_t n = n_points(o);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "level", "model");
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
        char acc[512];
        describe_accuracy(o, sp, acc, sizeof acc);
        cJSON_AddStringToObject(j, "model", o->model);
        cJSON_AddNumberToObject(j, "tokens", (double)o->tokens);
        cJSON_AddStringToObject(j, "accuracy", acc);
    }
    cJSON_AddStringToObject(j, "dsp_model", "GEMM unit 3RC + 4C + 5, + attention unit 47");
    cJSON *dj = cJSON_AddObjectToObject(j, "dimensions");
    for (size_t d = 0; d < N_DIMS; d++) {
        if (o->n_shapes && dims[d].model_only)
            continue;
        cJSON *a = cJSON_AddArrayToObject(dj, dims[d].name);
        for (uint32_t v = 0; v < o->n_vals[d]; v++)
            cJSON_AddItemToArray(a, cJSON_CreateString(o->vals[d][v]));
    }
    cJSON *arr = cJSON_AddArrayToObject(j, "points");
    for (size_t i = 0; i < n; i++) {
        const derived_t *v = &dv[i];
        design_t ds = design_of(o, i);
        uint32_t dig[N_DIMS];
        digits(o, i, dig);
        cJSON *p = cJSON_CreateObject();
        for (size_t d = 0; d < N_DIMS; d++)
            if (!(o->n_shapes && dims[d].model_only))
                cJSON_AddStringToObject(p, dims[d].name, o->vals[d][dig[d]]);
        cJSON_AddNumberToObject(p, "array_rows", ds.rows);
        cJSON_AddNumberToObject(p, "array_cols", ds.cols);
        cJSON_AddNumberToObject(p, "gemm_cus", ds.cus);
        const sq_target_t *tg = sq_target_find(ds.target);
        cJSON_AddNumberToObject(p, "mem_gbps", tg->mem_gbps);
        cJSON_AddNumberToObject(p, "mem_channels", tg->channels);
        cJSON_AddNumberToObject(p, "pes", v->pes);
        cJSON_AddNumberToObject(p, "dsps", v->dsps);
        cJSON_AddBoolToObject(p, "attention_unit", all[i].attn_unit);
        cJSON_AddNumberToObject(p, "peak_gops", v->peak_gops);
        cJSON_AddNumberToObject(p, "cycles_per_token", v->cyc_tok);
        cJSON_AddNumberToObject(p, "latency_us_per_token", v->us_tok);
        cJSON_AddNumberToObject(p, "tokens_per_s", v->tok_s);
        cJSON_AddNumberToObject(p, "mac_utilization", v->util);
        cJSON_AddNumberToObject(p, "bytes_per_token", v->bytes_tok);
        cJSON_AddNumberToObject(p, "stall_fraction", v->stall);
        cJSON_AddNumberToObject(p, "cycles", (double)all[i].t.cycles);
        cJSON_AddNumberToObject(p, "macs", (double)all[i].t.macs);
        cJSON_AddNumberToObject(p, "commands", (double)all[i].t.commands);
        if (!o->n_shapes) {
            if (isnan(v->ppl))
                cJSON_AddNullToObject(p, "ppl");
            else
                cJSON_AddNumberToObject(p, "ppl", v->ppl);
            cJSON_AddNumberToObject(p, "ppl_tokens", (double)v->ppl_tokens);
            cJSON_AddNumberToObject(p, "runs_per_token", v->runs_tok);
            cJSON_AddNumberToObject(p, "pcie_bytes_per_token", v->pcie_tok);
            cJSON_AddNumberToObject(p, "e2e_us_per_token", v->e2e_us_tok);
        }
        cJSON_AddBoolToObject(p, "pareto", front[i]);
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

/* Label of point i on the plot: its array, then every other varying value. */
static void label(const sweep_opts_t *o, size_t i, char *buf, size_t cap)
{
    uint32_t dig[N_DIMS];
    digits(o, i, dig);
    design_t ds = design_of(o, i);
    size_t len = (size_t)snprintf(buf, cap, "%ux%u", ds.rows, ds.cols);
    for (size_t d = 0; d < N_DIMS; d++)
        if (varies(o, d) && dims[d].apply != apply_array && len < cap)
            len += (size_t)snprintf(buf + len, cap - len, " %s", o->vals[d][dig[d]]);
}

static int write_svg(const sweep_opts_t *o, const derived_t *dv, const unsigned char *front)
{
    size_t n = n_points(o);
    sq_pareto_point_t *pp = calloc(n, sizeof *pp);
    if (!pp) {
        sq_cli_error(CMD, "out of memory");
        return SQ_EXIT_FAIL;
    }
    for (size_t i = 0; i < n; i++) {
        label(o, i, pp[i].label, sizeof pp[i].label);
        pp[i].dsps = dv[i].dsps;
        pp[i].latency_us = dv[i].us_tok;
        pp[i].ppl = dv[i].ppl;
    }
    char title[256];
    if (o->n_shapes)
        snprintf(title, sizeof title, "sweep: %u GEMM shape(s) per pass, %.0f MHz", o->n_shapes,
                 o->clock_mhz);
    else
        snprintf(title, sizeof title, "sweep: %s, %ld decode tokens, %.0f MHz", o->model,
                 o->tokens, o->clock_mhz);
    int rc = sq_pareto_write_svg(o->svg, title, pp, n, front);
    free(pp);
    if (rc) {
        sq_cli_error(CMD, "%s", sq_err_msg());
        return sq_cli_exit_code(rc);
    }
    return 0;
}

/* Rank 0: the first failing point's error, or the outputs. */
static int report(const sweep_opts_t *o, const split_t *sp, const result_t *all)
{
    size_t n = n_points(o);
    for (size_t i = 0; i < n; i++)
        if (all[i].rc) {
            sq_cli_error(CMD, "%s", all[i].err);
            return all[i].rc;
        }
    derived_t *dv = calloc(n, sizeof *dv);
    sq_pareto_point_t *pp = calloc(n, sizeof *pp);
    unsigned char *front = calloc(n, 1);
    int rc = 0;
    if (!dv || !pp || !front) {
        sq_cli_error(CMD, "out of memory");
        rc = SQ_EXIT_FAIL;
    }
    for (size_t i = 0; !rc && i < n; i++) {
        dv[i] = derive(o, all, i);
        pp[i] = (sq_pareto_point_t){.dsps = dv[i].dsps, .latency_us = dv[i].us_tok,
                                    .ppl = dv[i].ppl};
    }
    if (!rc)
        sq_pareto_front(pp, n, front);
    if (!rc && o->svg)
        rc = write_svg(o, dv, front);
    if (!rc && o->json)
        rc = print_json(o, sp, all, dv, front);
    else if (!rc)
        print_table(o, sp, dv, front);
    free(dv);
    free(pp);
    free(front);
    return rc;
}

/* ---------------------------------------------------------------------------
 * The command */

/* Rank r's points: the contiguous block [first(r), first(r + 1)). Blocks,
 * not a round robin, because opening a recipe (GPTQ: seconds) costs more than
 * a decode point: with the recipe the slowest dimension, a rank compresses
 * at most ceil(recipes / ranks) + 1 models. */
static size_t first_point(size_t n, int size, int r)
{
    return n * (size_t)r / (size_t)size;
}

/* Runs this rank's points in order until one fails, and gathers every rank's
 * results on rank 0. Returns the gathered array on rank 0, NULL elsewhere or
 * on failure (*rc set). */
static result_t *run_points(const sweep_opts_t *o, const split_t *sp, int *rc)
{
    int rank = sq_dist_rank(), size = sq_dist_size();
    size_t n = n_points(o), per = (n + (size_t)size - 1) / (size_t)size;
    size_t lo = first_point(n, size, rank), hi = first_point(n, size, rank + 1);
    result_t *mine = calloc(per, sizeof *mine);
    result_t *got = rank == 0 ? calloc(per * (size_t)size, sizeof *got) : NULL;
    result_t *all = rank == 0 ? calloc(n, sizeof *all) : NULL;
    int oom = !mine || (rank == 0 && (!got || !all));
    if (oom)
        sq_cli_error(CMD, "out of memory");
    model_cache_t mc = {0};
    for (size_t i = lo; !oom && i < hi; i++) {
        if (rank == 0)
            sq_cli_progress("sweep", i - lo, hi - lo);
        run_point(o, sp, &mc, i, &mine[i - lo]);
        if (mine[i - lo].rc)
            break;
    }
    if (rank == 0)
        sq_cli_progress_end();
    if (mc.recipe)
        sq_cli_model_close(&mc.cm);
    /* every rank reaches the collectives, whatever happened before */
    if (sq_dist_max_int(&oom)) {
        sq_cli_error(CMD, "%s", sq_err_msg());
        oom = 1;
    }
    if (!oom && sq_dist_gather(mine, per * sizeof *mine, got, 0)) {
        sq_cli_error(CMD, "%s", sq_err_msg());
        oom = 1;
    }
    for (int r = 0; !oom && rank == 0 && r < size; r++)
        for (size_t i = first_point(n, size, r); i < first_point(n, size, r + 1); i++)
            all[i] = got[(size_t)r * per + i - first_point(n, size, r)];
    free(mine);
    free(got);
    if (oom) {
        free(all);
        *rc = SQ_EXIT_FAIL;
        return NULL;
    }
    return all;
}

int sq_cmd_sweep(int argc, char **argv)
{
    int rank = sq_dist_rank();
    /* every rank parses the same arguments; rank 0 alone says what is wrong */
    char quiet[512];
    if (rank != 0)
        sq_cli_error_capture(quiet, sizeof quiet);
    sweep_opts_t o;
    split_t sp = {0};
    int p = parse(argc, argv, &o), rc = 0;
    /* a dummy model scores no text */
    if (p == 0 && !o.n_shapes && strncmp(o.model, SQ_DUMMY_PREFIX, strlen(SQ_DUMMY_PREFIX)))
        rc = split_text(&o, &sp);
    sq_cli_error_capture(NULL, 0);
    if (p != 0 || rc) {
        opts_free(&o);
        split_free(&sp);
        return p > 0 ? 0 : p < 0 ? SQ_EXIT_USAGE : rc;
    }
    result_t *all = run_points(&o, &sp, &rc);
    if (all)
        rc = report(&o, &sp, all);
    /* every rank exits with rank 0's verdict */
    if (sq_dist_bcast(&rc, sizeof rc, 0) && !rc)
        rc = SQ_EXIT_FAIL;
    free(all);
    opts_free(&o);
    split_free(&sp);
    return rc;
}
