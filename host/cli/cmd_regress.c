/* sparq regress: a constrained-random co-simulation campaign. Cases of a unit
 * (runtime/regress.h: case i is a function of (seed, i) alone) run on a
 * level, each output compared with the golden reference computed on the
 * host; a summary per unit, and each failing case as one line with the
 * command that reruns it alone.
 *
 * Under mpirun the cases are dealt round robin over the ranks (case i to
 * rank i mod N: neighbouring cases differ most in cost, e.g. the attention
 * pattern cycles with i), each rank keeps its failing lines and its first
 * campaign error, and rank 0 prints what one process would have printed:
 * the failing lines in case order up to the first error, then the error or
 * the summary (only the cases/s differ). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "dist/dist.h"
#include "runtime/case_file.h"
#include "runtime/device.h"
#include "runtime/gemm_case.h"
#include "runtime/regress.h"
#include "util/err.h"

static const char *const CMD = "regress";

static void help(void)
{
    if (sq_dist_rank() != 0)
        return;
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
           "  --corrupt K              check the checker: flip one output bit of every case\n"
           "                           whose index is a multiple of K, which must fail\n"
           "  --help                   this text\n" SQ_CLI_MAX_MEM_HELP "\n"
           "GEMM cases cover every weight format and epilogue, dims of 1, odd dims and the\n"
           "array's and the K chunk's edges, -128 and saturation; attention cases every\n"
           "pattern combination, decode and prefill, grouped-query heads, edge shapes and\n"
           "values (runtime/regress.h). Prints per unit: cases, failures, cases/s; then each\n"
           "failing case with a command that reruns it. Exit 1 on any failure.\n\n"
           "Under mpirun -np N the cases are spread over the ranks and the output is the one\n"
           "process's (but the cases/s); --dump needs one process.\n");
}

typedef struct {
    int units[SQ_REGRESS_UNITS];
    uint64_t cases, seed, first, max_work, corrupt;
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
        {"corrupt", required_argument, NULL, 'C'},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
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
        case 'C':
            if (u64_flag("--corrupt", optarg, 1, INT64_MAX, &o->corrupt))
                return -1;
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
    if (o->dump && sq_dist_size() > 1) {
        sq_cli_error(CMD, "--dump writes one file: run it without mpirun");
        return -1;
    }
    return 0;
}

/* A failing case's line, kept (over several ranks) until rank 0 prints every
 * rank's in case order. */
typedef struct {
    uint64_t i;
    char *line;
} failure_t;

/* What one unit's campaign needs: its device (reopened larger on demand). */
typedef struct {
    const regress_opts_t *o;
    sq_dev_t *dev;
    uint64_t dev_bytes;
    sq_case_file_t *dump;
    uint64_t failures;
    int keep;          /* keep the lines (several ranks) instead of printing them */
    failure_t *fails;  /* the kept lines, in this rank's case order */
    size_t n_fails, cap_fails;
    int oom;           /* a line could not be kept */
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
    char work[96] = "";
    if (!strcmp(unit, "attn"))
        snprintf(work, sizeof work, " --max-work %llu", (unsigned long long)r->o->max_work);
    if (r->o->corrupt)
        snprintf(work + strlen(work), sizeof work - strlen(work), " --corrupt %llu",
                 (unsigned long long)r->o->corrupt);
    char line[1024];
    snprintf(line, sizeof line,
             "FAIL %s case %llu (%s): %s: rerun: sparq regress --unit %s --seed %llu --first %llu "
             "--cases 1%s --backend %s",
             unit, (unsigned long long)i, what, why, unit, (unsigned long long)r->o->seed,
             (unsigned long long)i, work, r->o->backend);
    if (!r->keep) {
        puts(line);
        fflush(stdout);
        return;
    }
    if (r->n_fails == r->cap_fails) {
        size_t cap = r->cap_fails ? 2 * r->cap_fails : 16;
        failure_t *n = realloc(r->fails, cap * sizeof *n);
        if (!n) {
            r->oom = 1;
            return;
        }
        r->fails = n;
        r->cap_fails = cap;
    }
    if (!(r->fails[r->n_fails].line = strdup(line))) {
        r->oom = 1;
        return;
    }
    r->fails[r->n_fails++].i = i;
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
        if (r->o->corrupt && i % r->o->corrupt == 0)
            ((uint8_t *)out)[0] ^= 1;
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
        if (r->o->corrupt && i % r->o->corrupt == 0)
            out[0] ^= 1;
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

/* One unit's share of the campaign on this rank: cases first + j for
 * j = rank, rank + size, ... Stops at the first campaign error (its case in
 * *err_i, its line in err, which the caller prints). */
static int run_share(run_t *r, int u, uint64_t *err_i, char *err, size_t cap)
{
    const regress_opts_t *o = r->o;
    uint64_t rank = (uint64_t)sq_dist_rank(), size = (uint64_t)sq_dist_size();
    const char *name = sq_regress_unit_name[u];
    int rc = 0;
    /* a rank's --max-mem line is its error, printed by rank 0 in turn */
    if (r->keep)
        sq_cli_error_capture(err, cap);
    for (uint64_t j = rank; j < o->cases && !rc && !r->oom; j += size) {
        uint64_t i = o->first + j;
        rc = u == SQ_REGRESS_GEMM ? gemm_case(r, i) : attn_case(r, i);
        if (rc)
            *err_i = i;
        if ((j / size + 1) % 16 == 0 && rank == 0)
            sq_cli_progress(name, (size_t)(j + 1), (size_t)o->cases);
    }
    if (r->keep)
        sq_cli_error_capture(NULL, 0);
    if (rank == 0)
        sq_cli_progress_end();
    if (!rc && r->oom) {
        rc = sq_err(SQ_ERR_MEM, "out of memory");
        *err_i = o->first; /* before every case: no rank's lines can be trusted */
    }
    if (rc && rc != OVER_LIMIT)
        snprintf(err, cap, "%s", sq_err_msg());
    return rc;
}

/* What a rank tells rank 0 about its share of a unit. */
typedef struct {
    uint64_t err_i;   /* its first campaign error's case, UINT64_MAX for none */
    uint64_t n_fails; /* failing lines */
    uint64_t bytes;   /* of the lines, sent next: (uint64 case, line, NUL) each */
    int32_t err_rc;
    char err[500];
} share_t;

static int cmp_failure(const void *a, const void *b)
{
    uint64_t x = ((const failure_t *)a)->i, y = ((const failure_t *)b)->i;
    return x < y ? -1 : x > y;
}

static uint8_t *pack_failures(const run_t *r, uint64_t *bytes)
{
    *bytes = 0;
    for (size_t f = 0; f < r->n_fails; f++)
        *bytes += sizeof(uint64_t) + strlen(r->fails[f].line) + 1;
    uint8_t *b = malloc(*bytes ? *bytes : 1), *p = b;
    for (size_t f = 0; b && f < r->n_fails; f++) {
        memcpy(p, &r->fails[f].i, sizeof(uint64_t));
        p += sizeof(uint64_t);
        size_t n = strlen(r->fails[f].line) + 1;
        memcpy(p, r->fails[f].line, n);
        p += n;
    }
    return b;
}

/* Rank 0 gathers every rank's share of unit u and prints, as one process
 * would have, the failing lines before the first campaign error in case
 * order, then that error; returns the campaign's code (0, OVER_LIMIT or
 * SQ_ERR_*), the same on every rank, and the failures in *failures. */
static int combine(run_t *r, int u, int rc, uint64_t err_i, const char *err, uint64_t *failures)
{
    int rank = sq_dist_rank(), size = sq_dist_size();
    share_t mine = {.err_i = rc ? err_i : UINT64_MAX, .n_fails = r->n_fails, .err_rc = rc};
    snprintf(mine.err, sizeof mine.err, "%s", err);
    uint8_t *blob = pack_failures(r, &mine.bytes);
    share_t *all = rank == 0 ? calloc((size_t)size, sizeof *all) : NULL;
    int bad = !blob || (rank == 0 && !all), crc = 0;
    if (sq_dist_max_int(&bad) || bad) {
        crc = bad ? sq_err(SQ_ERR_MEM, "out of memory") : SQ_ERR_DEV;
    } else if (!(crc = sq_dist_gather(&mine, sizeof mine, all, 0))) {
        if (rank != 0 && mine.bytes)
            crc = sq_dist_send(blob, mine.bytes, 0, u);
    }
    /* rank 0: every rank's lines, sorted by case */
    failure_t *f = NULL;
    uint8_t **blobs = NULL;
    size_t n = 0;
    uint64_t first_err = UINT64_MAX;
    int who = -1;
    if (rank == 0 && !crc) {
        size_t total = 0;
        for (int q = 0; q < size; q++) {
            total += all[q].n_fails;
            if (all[q].err_i < first_err)
                first_err = all[q].err_i, who = q;
        }
        f = calloc(total ? total : 1, sizeof *f);
        blobs = calloc((size_t)size, sizeof *blobs);
        if (!f || !blobs)
            crc = sq_err(SQ_ERR_MEM, "out of memory");
        for (int q = 0; q < size && !crc; q++) {
            if (!all[q].bytes)
                continue;
            if (q == 0) {
                blobs[q] = blob;
                blob = NULL;
            } else if (!(blobs[q] = malloc(all[q].bytes))) {
                crc = sq_err(SQ_ERR_MEM, "out of memory");
            } else {
                crc = sq_dist_recv(blobs[q], all[q].bytes, q, u);
            }
            for (uint64_t k = 0, off = 0; !crc && k < all[q].n_fails; k++, n++) {
                memcpy(&f[n].i, blobs[q] + off, sizeof(uint64_t));
                f[n].line = (char *)blobs[q] + off + sizeof(uint64_t);
                off += sizeof(uint64_t) + strlen(f[n].line) + 1;
            }
        }
    }
    if (rank == 0 && !crc) {
        qsort(f, n, sizeof *f, cmp_failure);
        *failures = 0;
        for (size_t k = 0; k < n && f[k].i < first_err; k++, ++*failures)
            puts(f[k].line);
        if (who >= 0) {
            sq_cli_error(CMD, "%s", all[who].err);
            crc = all[who].err_rc;
        }
        fflush(stdout);
    } else if (rank == 0) {
        sq_cli_error(CMD, "%s", sq_err_msg());
    }
    for (int q = 0; blobs && q < size; q++)
        free(blobs[q]);
    free(blobs);
    free(f);
    free(all);
    free(blob);
    /* every rank goes on, or stops, and exits with rank 0 */
    if ((sq_dist_bcast(&crc, sizeof crc, 0) || sq_dist_bcast(failures, sizeof *failures, 0)) &&
        !crc)
        crc = SQ_ERR_DEV;
    return crc;
}

int sq_cmd_regress(int argc, char **argv)
{
    int rank = sq_dist_rank();
    /* every rank parses the same arguments; rank 0 alone says what is wrong */
    char quiet[512];
    if (rank != 0)
        sq_cli_error_capture(quiet, sizeof quiet);
    regress_opts_t o;
    int p = parse(argc, argv, &o);
    sq_cli_error_capture(NULL, 0);
    if (p != 0)
        return p > 0 ? 0 : SQ_EXIT_USAGE;
    sq_case_file_t *dump = NULL;
    if (o.dump && sq_case_file_open(o.dump, &dump)) {
        sq_cli_error(CMD, "%s", sq_err_msg());
        return SQ_EXIT_USAGE;
    }
    int keep = sq_dist_size() > 1;
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
        run_t r = {.o = &o, .dump = dump, .keep = keep};
        double t0 = now();
        uint64_t err_i = 0;
        char err[500] = "";
        rc = run_share(&r, u, &err_i, err, sizeof err);
        sq_dev_close(r.dev);
        if (keep) {
            rc = combine(&r, u, rc, err_i, err, &r.failures);
            for (size_t f = 0; f < r.n_fails; f++)
                free(r.fails[f].line);
            free(r.fails);
        }
        double secs = now() - t0;
        failures += r.failures;
        if (rc)
            break;
        /* every case ran: the campaign stops at its first error */
        uint64_t done = o.cases;
        double rate = secs > 0 ? (double)done / secs : 0;
        if (rank != 0)
            continue;
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
    if (!rc && o.json && rank == 0) {
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
        /* over several ranks rank 0 printed the error in its turn */
        if (!keep)
            sq_cli_error(CMD, "%s", sq_err_msg());
        return SQ_EXIT_FAIL;
    }
    return failures ? SQ_EXIT_FAIL : 0;
}
