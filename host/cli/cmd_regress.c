/* sparq regress: a constrained-random co-simulation campaign. Cases of a unit
 * (runtime/regress.h: case i is a function of (seed, i) alone) run on a
 * level, each output compared with the golden reference computed on the
 * host; a summary per unit, and each failing case as one line with the
 * command that reruns it alone. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "runtime/case_file.h"
#include "runtime/device.h"
#include "runtime/gemm_case.h"
#include "runtime/regress.h"
#include "util/err.h"

static const char *const CMD = "regress";

static void help(void)
{
    printf("usage: sparq regress [flags]\n"
           "Runs constrained-random cases of a unit on a level and compares every output with\n"
           "the golden reference computed on the host. Case i depends on (seed, i) alone, so\n"
           "a campaign can be cut into ranges run apart with the same cases.\n\n"
           "  --unit gemm|attn|all     unit(s) to exercise (default all)\n"
           "  --cases N                cases per unit (default 100)\n"
           "  --seed S                 campaign seed, 0..2^63-1 (default 1)\n"
           "  --first I                index of the first case (default 0)\n"
           "  --backend L              level: " SQ_CLI_BACKENDS " (default csim)\n"
           "  --max-work W             attention: bound on queries*seq*heads*head_dim per\n"
           "                           case (default 65536)\n"
           "  --dump FILE              write every case (inputs, golden, the level's output)\n"
           "                           for the independent oracle (tests/oracle.py)\n"
           "  --json                   print the summary as one JSON object\n"
           "  --help                   this text\n" SQ_CLI_MAX_MEM_HELP "\n"
           "GEMM cases cover every weight format and epilogue, dims of 1, odd dims and the\n"
           "array's and the K chunk's edges, -128 and saturation; attention cases every\n"
           "pattern combination, decode and prefill, grouped-query heads, edge shapes and\n"
           "values (runtime/regress.h). Prints per unit: cases, failures, cases/s; then each\n"
           "failing case with a command that reruns it. Exit 1 on any failure.\n");
}

typedef struct {
    int units[SQ_REGRESS_UNITS];
    uint64_t cases, seed, first, max_work;
    const char *backend, *dump;
    int json;
} regress_opts_t;

static int u64_flag(const char *flag, const char *arg, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(arg, &end, 10);
    if (end == arg || *end || arg[0] == '-' || v < lo || v > hi) {
        sq_cli_error(CMD, "%s must be an integer in [%llu, %llu], got '%s'", flag,
                     (unsigned long long)lo, (unsigned long long)hi, arg);
        return -1;
    }
    *out = v;
    return 0;
}

/* Returns 0 to run, 1 after --help, -1 on a usage error (already printed). */
static int parse(int argc, char **argv, regress_opts_t *o)
{
    static const struct option opts[] = {
        {"unit", required_argument, NULL, 'u'},     {"cases", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 'S'},     {"first", required_argument, NULL, 'f'},
        {"backend", required_argument, NULL, 'b'},  {"max-work", required_argument, NULL, 'W'},
        {"dump", required_argument, NULL, 'd'},     {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    *o = (regress_opts_t){.units = {1, 1}, .cases = 100, .seed = 1, .max_work = 65536,
                          .backend = "csim"};
    int c;
    optind = 1;
    while ((c = sq_cli_getopt(CMD, argc, argv, opts)) != -1) {
        switch (c) {
        case 'u':
            if (!strcmp(optarg, "all")) {
                o->units[SQ_REGRESS_GEMM] = o->units[SQ_REGRESS_ATTN] = 1;
            } else if (!strcmp(optarg, "gemm") || !strcmp(optarg, "attn")) {
                o->units[SQ_REGRESS_GEMM] = !strcmp(optarg, "gemm");
                o->units[SQ_REGRESS_ATTN] = !strcmp(optarg, "attn");
            } else {
                sq_cli_error(CMD, "--unit must be gemm, attn or all, got '%s'", optarg);
                return -1;
            }
            break;
        case 'n':
            if (u64_flag("--cases", optarg, 1, 1000000000ull, &o->cases))
                return -1;
            break;
        case 'S':
            if (u64_flag("--seed", optarg, 0, INT64_MAX, &o->seed))
                return -1;
            break;
        case 'f':
            if (u64_flag("--first", optarg, 0, INT64_MAX, &o->first))
                return -1;
            break;
        case 'b':
            if (sq_cli_backend(CMD, optarg) != 0)
                return -1;
            o->backend = optarg;
            break;
        case 'W':
            if (u64_flag("--max-work", optarg, 1, 1ull << 40, &o->max_work))
                return -1;
            break;
        case 'd':
            o->dump = optarg;
            break;
        case 'j':
            o->json = 1;
            break;
        case 'h':
            help();
            return 1;
        default:
            return -1;
        }
    }
    if (optind < argc) {
        sq_cli_error(CMD, "unexpected argument '%s' (see sparq regress --help)", argv[optind]);
        return -1;
    }
    if (o->first > INT64_MAX - o->cases) {
        sq_cli_error(CMD, "--first + --cases must stay below 2^63");
        return -1;
    }
    return 0;
}

/* What one unit's campaign needs: its device (reopened larger on demand). */
typedef struct {
    const regress_opts_t *o;
    sq_dev_t *dev;
    uint64_t dev_bytes;
    sq_case_file_t *dump;
    uint64_t failures;
} run_t;

static int device_for(run_t *r, uint64_t need)
{
    if (r->dev && need <= r->dev_bytes) {
        sq_dev_free_all(r->dev);
        return 0;
    }
    sq_dev_close(r->dev);
    r->dev = NULL;
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, r->o->backend);
    /* room for the largest case the generators draw, so most runs open once */
    cfg.mem_bytes = need > (16u << 20) ? (need + 4095) & ~4095ull : 16u << 20;
    r->dev_bytes = cfg.mem_bytes;
    return sq_dev_open(&cfg, &r->dev);
}

static void fail(run_t *r, const char *unit, uint64_t i, const char *what, const char *why)
{
    r->failures++;
    /* an attention case also depends on --max-work */
    char work[48] = "";
    if (!strcmp(unit, "attn"))
        snprintf(work, sizeof work, " --max-work %llu", (unsigned long long)r->o->max_work);
    printf("FAIL %s case %llu (%s): %s: rerun: sparq regress --unit %s --seed %llu --first %llu "
           "--cases 1%s --backend %s\n",
           unit, (unsigned long long)i, what, why, unit, (unsigned long long)r->o->seed,
           (unsigned long long)i, work, r->o->backend);
    fflush(stdout);
}

/* Returned by a case beyond --max-mem (the line is printed already). */
#define OVER_LIMIT 1

/* --max-mem for one case: its host buffers, the read-back output and the
 * device memory it runs in (the largest so far). */
static int over_limit(run_t *r, const char *unit, uint64_t i, const char *what, uint64_t host,
                      uint64_t dev)
{
    uint64_t mem = dev > (16u << 20) ? dev : 16u << 20;
    char line[300];
    snprintf(line, sizeof line, "%s case %llu (%s) with its device memory", unit,
             (unsigned long long)i, what);
    return sq_cli_mem_check(CMD, line, host + (mem > r->dev_bytes ? mem : r->dev_bytes));
}

/* One case; 0, OVER_LIMIT, or an SQ_ERR_* for a failure of the campaign
 * itself (a level's error or a mismatch is a failed case, reported, and 0). */
static int gemm_case(run_t *r, uint64_t i)
{
    sq_regress_gemm_t c;
    sq_regress_gemm(r->o->seed, i, &c);
    char what[96];
    snprintf(what, sizeof what, "%ux%ux%u flags 0x%x operands seed %llu", c.m, c.n, c.k,
             c.flags, (unsigned long long)c.seed);
    uint64_t host, dev;
    sq_gemm_case_bytes(c.m, c.n, c.k, c.flags, &host, &dev);
    if (over_limit(r, "gemm", i, what, 2 * host, dev))
        return OVER_LIMIT;
    sq_gemm_case_t gc;
    int rc = sq_gemm_case_build(&gc, c.m, c.n, c.k, c.flags, c.seed);
    uint64_t cmd;
    void *out = NULL;
    if (!rc)
        rc = device_for(r, sq_gemm_case_dev_bytes(&gc));
    if (!rc && !(out = malloc(gc.b.c)))
        rc = sq_err(SQ_ERR_MEM, "out of memory");
    if (!rc)
        rc = sq_gemm_case_place(r->dev, &gc, &cmd);
    if (rc) { /* the campaign cannot go on: no device, no memory */
        free(out);
        sq_gemm_case_free(&gc);
        return rc;
    }
    if (sq_dev_run(r->dev, cmd, 1, 0) || sq_gemm_case_read(r->dev, &gc, out)) {
        fail(r, "gemm", i, what, sq_err_msg());
    } else {
        uint64_t first, bad = sq_gemm_case_mismatches(&gc, out, &first);
        if (bad) {
            char why[96];
            snprintf(why, sizeof why, "%llu mismatches, first C[%llu][%llu]",
                     (unsigned long long)bad, (unsigned long long)(first / c.n),
                     (unsigned long long)(first % c.n));
            fail(r, "gemm", i, what, why);
        }
        if (r->dump)
            rc = sq_case_file_gemm(r->dump, &gc, out);
    }
    free(out);
    sq_gemm_case_free(&gc);
    return rc;
}

static int attn_case(run_t *r, uint64_t i)
{
    sq_attn_params_t p;
    sq_regress_attn(r->o->seed, i, r->o->max_work, &p);
    char what[200];
    snprintf(what, sizeof what,
             "flags 0x%x seq %u queries %u heads %u/%u dim %u kv_cap %u window %u global %u "
             "topk %u density %.2f range %d",
             p.flags, p.seq, p.queries, p.heads, p.kv_heads, p.head_dim, p.kv_cap, p.window,
             p.n_global, p.topk, p.block_density, p.int8_range);
    uint64_t host, dev;
    sq_attn_case_bytes(&p, &host, &dev);
    if (over_limit(r, "attn", i, what, 2 * host, dev))
        return OVER_LIMIT;
    sq_attn_case_t ac;
    int rc = sq_attn_case_build(&ac, &p);
    uint64_t cmd;
    int8_t *out = NULL;
    if (!rc)
        rc = device_for(r, sq_attn_case_dev_bytes(&ac));
    if (!rc && !(out = malloc(ac.b.o)))
        rc = sq_err(SQ_ERR_MEM, "out of memory");
    if (!rc)
        rc = sq_attn_case_place(r->dev, &ac, &cmd);
    if (rc) {
        free(out);
        sq_attn_case_free(&ac);
        return rc;
    }
    if (sq_dev_run(r->dev, cmd, 1, 0) || sq_attn_case_read(r->dev, &ac, out)) {
        fail(r, "attn", i, what, sq_err_msg());
    } else {
        uint64_t first, bad = sq_attn_case_mismatches(&ac, out, &first);
        if (bad) {
            char why[96];
            snprintf(why, sizeof why, "%llu mismatches, first O[%llu]", (unsigned long long)bad,
                     (unsigned long long)first);
            fail(r, "attn", i, what, why);
        }
        /* the output, and the softmax of the first and the last row */
        if (r->dump && !(rc = sq_case_file_attn(r->dump, &ac, out)) &&
            !(rc = sq_case_file_softmax(r->dump, &ac, 0, 0)))
            rc = sq_case_file_softmax(r->dump, &ac, p.heads - 1, p.queries - 1);
    }
    free(out);
    sq_attn_case_free(&ac);
    return rc;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int sq_cmd_regress(int argc, char **argv)
{
    regress_opts_t o;
    int p = parse(argc, argv, &o);
    if (p != 0)
        return p > 0 ? 0 : SQ_EXIT_USAGE;
    sq_case_file_t *dump = NULL;
    if (o.dump && sq_case_file_open(o.dump, &dump)) {
        sq_cli_error(CMD, "%s", sq_err_msg());
        return SQ_EXIT_USAGE;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "backend", o.backend);
    cJSON_AddNumberToObject(j, "seed", (double)o.seed);
    cJSON_AddNumberToObject(j, "first", (double)o.first);
    int rc = 0;
    uint64_t failures = 0;
    for (int u = 0; u < SQ_REGRESS_UNITS && !rc; u++) {
        if (!o.units[u])
            continue;
        const char *name = sq_regress_unit_name[u];
        run_t r = {.o = &o, .dump = dump};
        double t0 = now();
        uint64_t done = 0;
        for (uint64_t i = o.first; i < o.first + o.cases && !rc; i++, done++) {
            rc = u == SQ_REGRESS_GEMM ? gemm_case(&r, i) : attn_case(&r, i);
            if ((done + 1) % 16 == 0)
                sq_cli_progress(name, (size_t)(done + 1), (size_t)o.cases);
        }
        sq_cli_progress_end();
        double secs = now() - t0;
        sq_dev_close(r.dev);
        failures += r.failures;
        if (rc)
            break;
        double rate = secs > 0 ? (double)done / secs : 0;
        if (o.json) {
            cJSON *e = cJSON_AddObjectToObject(j, name);
            cJSON_AddNumberToObject(e, "cases", (double)done);
            cJSON_AddNumberToObject(e, "failures", (double)r.failures);
            cJSON_AddNumberToObject(e, "seconds", secs);
            cJSON_AddNumberToObject(e, "cases_per_second", rate);
        } else {
            printf("regress %s: %llu cases (%llu..%llu), %llu failures, %.1f cases/s, seed %llu, "
                   "backend %s\n",
                   name, (unsigned long long)done, (unsigned long long)o.first,
                   (unsigned long long)(o.first + done - 1), (unsigned long long)r.failures,
                   rate, (unsigned long long)o.seed, o.backend);
        }
    }
    if (!rc && o.json) {
        cJSON_AddNumberToObject(j, "failures", (double)failures);
        char *text = cJSON_PrintUnformatted(j);
        if (text)
            puts(text);
        free(text);
    }
    cJSON_Delete(j);
    if (sq_case_file_close(dump) && !rc)
        rc = SQ_ERR_IO;
    if (rc == OVER_LIMIT)
        return SQ_EXIT_USAGE;
    if (rc) {
        sq_cli_error(CMD, "%s", sq_err_msg());
        return SQ_EXIT_FAIL;
    }
    return failures ? SQ_EXIT_FAIL : 0;
}
