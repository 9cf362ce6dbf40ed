/* sparq attn: one random attention call (runtime/attn_case.h) on a level,
 * checked output by output against the golden reference computed on the
 * host, with its error against fp32 attention. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "runtime/attn_case.h"
#include "runtime/device.h"
#include "sparq/spec.h"
#include "util/err.h"

static const char *const CMD = "attn";

static void help(void)
{
    printf("usage: sparq attn [flags]\n"
           "Runs one sparse attention descriptor (int8 Q, K, V quantized per head from N(0,1)\n"
           "data) on a level, computes the golden reference on the host and compares every\n"
           "output; also reports the error of the integer result against fp32 attention.\n\n"
           "  --backend B              level: " SQ_CLI_BACKENDS " (default csim)\n"
           "  --seq L                  keys (KV cache length), 1..%u (default 128)\n"
           "  --queries Q              queries, the last Q positions: 1 = decode,\n"
           "                           L = prefill (default L)\n"
           "  --heads H                query heads (default 4)\n"
           "  --kv-heads G             KV heads, H a multiple of G (default H)\n"
           "  --head-dim D             1..%u (default 64)\n"
           "  --causal                 keys after the query are masked\n"
           "  --window W               only keys within W positions of the query\n"
           "  --global N               the first N positions attend and are attended by all\n"
           "  --block-density d        random %ux%u block bitmap with this fraction of blocks\n"
           "  --topk K                 keep the K largest scores of each query\n"
           "  --seed S                 data seed (default 1)\n"
           "  --json                   print one JSON object instead of lines\n"
           "  --help                   this text\n" SQ_CLI_MAX_MEM_HELP "\n"
           "Window and block are unioned, global adds to them, causal limits all, top-k\n"
           "picks among what is left (include/sparq/attn.h). Prints mismatches, density\n"
           "(selected / all query-key pairs), scored_density, work counters, err_max and\n"
           "err_mean (vs fp32), and cycles on levels that count them. Exit 1 on any mismatch.\n",
           SQ_ATTN_MAX_SEQ, SQ_ATTN_MAX_DIM, SQ_ATTN_BLK, SQ_ATTN_BLK);
}

typedef struct {
    const char *backend;
    sq_attn_params_t p;
    int json;
} attn_opts_t;

static int num(const char *flag, long lo, long hi, uint32_t *out)
{
    long v;
    if (sq_cli_long(CMD, flag, optarg, lo, hi, &v) != 0)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* Returns 0 to run, 1 after --help, -1 on a usage error (already printed). */
static int parse(int argc, char **argv, attn_opts_t *o)
{
    static const struct option opts[] = {
        {"backend", required_argument, NULL, 'b'}, {"seq", required_argument, NULL, 'L'},
        {"queries", required_argument, NULL, 'Q'}, {"heads", required_argument, NULL, 'H'},
        {"kv-heads", required_argument, NULL, 'G'}, {"head-dim", required_argument, NULL, 'D'},
        {"causal", no_argument, NULL, 'c'},        {"window", required_argument, NULL, 'W'},
        {"global", required_argument, NULL, 'N'},  {"block-density", required_argument, NULL, 'B'},
        {"topk", required_argument, NULL, 'K'},    {"seed", required_argument, NULL, 'S'},
        {"json", no_argument, NULL, 'j'},          {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    *o = (attn_opts_t){.backend = "csim", .p = {.seq = 128, .heads = 4, .head_dim = 64, .seed = 1}};
    sq_attn_params_t *p = &o->p;
    int c, rc = 0;
    long seed;
    optind = 1;
    while (rc == 0 && (c = sq_cli_getopt(CMD, argc, argv, opts)) != -1) {
        switch (c) {
        case 'b':
            if (sq_cli_backend(CMD, optarg) != 0)
                return -1;
            o->backend = optarg;
            break;
        case 'L': rc = num("--seq", 1, SQ_ATTN_MAX_SEQ, &p->seq); break;
        case 'Q': rc = num("--queries", 1, SQ_ATTN_MAX_SEQ, &p->queries); break;
        case 'H': rc = num("--heads", 1, SQ_ATTN_MAX_HEADS, &p->heads); break;
        case 'G': rc = num("--kv-heads", 1, SQ_ATTN_MAX_HEADS, &p->kv_heads); break;
        case 'D': rc = num("--head-dim", 1, SQ_ATTN_MAX_DIM, &p->head_dim); break;
        case 'c': p->flags |= SQ_ATTN_CAUSAL; break;
        case 'W':
            p->flags |= SQ_ATTN_WINDOW;
            rc = num("--window", 1, 0x7fffffffL, &p->window);
            break;
        case 'N':
            p->flags |= SQ_ATTN_GLOBAL;
            rc = num("--global", 0, 0x7fffffffL, &p->n_global);
            break;
        case 'B':
            p->flags |= SQ_ATTN_BLOCK;
            rc = sq_cli_double(CMD, "--block-density", optarg, 0.0, 1.0, &p->block_density);
            break;
        case 'K':
            p->flags |= SQ_ATTN_TOPK;
            rc = num("--topk", 1, 0x7fffffffL, &p->topk);
            break;
        case 'S':
            rc = sq_cli_long(CMD, "--seed", optarg, 0, 0x7fffffffL, &seed);
            p->seed = (uint64_t)seed;
            break;
        case 'j': o->json = 1; break;
        case 'h': help(); return 1;
        default: return -1;
        }
    }
    if (rc)
        return -1;
    if (optind < argc) {
        sq_cli_error(CMD, "unexpected argument '%s' (see sparq attn --help)", argv[optind]);
        return -1;
    }
    if (!p->queries)
        p->queries = p->seq;
    if (!p->kv_heads)
        p->kv_heads = p->heads;
    if (p->queries > p->seq) {
        sq_cli_error(CMD, "--queries %u exceeds --seq %u", p->queries, p->seq);
        return -1;
    }
    if (p->heads % p->kv_heads) {
        sq_cli_error(CMD, "--heads %u is not a multiple of --kv-heads %u", p->heads, p->kv_heads);
        return -1;
    }
    return 0;
}

typedef struct {
    uint64_t mismatches;
    double density, scored_density, err_max, err_mean, ref_mean;
} attn_result_t;

static void report(const attn_opts_t *o, const sq_dev_stats_t *st, const attn_result_t *r)
{
    const sq_attn_params_t *p = &o->p;
    if (!o->json) {
        printf("backend %s\nseq %u\nqueries %u\nheads %u\nkv_heads %u\nhead_dim %u\n", o->backend,
               p->seq, p->queries, p->heads, p->kv_heads, p->head_dim);
        printf("causal %d\nwindow %u\nglobal %u\nblock_density %g\ntopk %u\n",
               !!(p->flags & SQ_ATTN_CAUSAL), (p->flags & SQ_ATTN_WINDOW) ? p->window : 0,
               (p->flags & SQ_ATTN_GLOBAL) ? p->n_global : 0,
               (p->flags & SQ_ATTN_BLOCK) ? p->block_density : 1.0,
               (p->flags & SQ_ATTN_TOPK) ? p->topk : 0);
        printf("density %.6f\nscored_density %.6f\n", r->density, r->scored_density);
        printf("macs %llu\nbytes_read %llu\nbytes_written %llu\n", (unsigned long long)st->macs,
               (unsigned long long)st->bytes_read, (unsigned long long)st->bytes_written);
        if (st->cycles)
            printf("cycles %llu\nstall_cycles %llu\n", (unsigned long long)st->cycles,
                   (unsigned long long)st->stall_cycles);
        printf("err_max %.6f\nerr_mean %.6f\nref_mean_abs %.6f\n", r->err_max, r->err_mean,
               r->ref_mean);
        printf("mismatches %llu\n", (unsigned long long)r->mismatches);
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "backend", o->backend);
    cJSON_AddNumberToObject(j, "seq", p->seq);
    cJSON_AddNumberToObject(j, "queries", p->queries);
    cJSON_AddNumberToObject(j, "heads", p->heads);
    cJSON_AddNumberToObject(j, "kv_heads", p->kv_heads);
    cJSON_AddNumberToObject(j, "head_dim", p->head_dim);
    cJSON_AddBoolToObject(j, "causal", (p->flags & SQ_ATTN_CAUSAL) != 0);
    cJSON_AddNumberToObject(j, "window", (p->flags & SQ_ATTN_WINDOW) ? p->window : 0);
    cJSON_AddNumberToObject(j, "global", (p->flags & SQ_ATTN_GLOBAL) ? p->n_global : 0);
    cJSON_AddNumberToObject(j, "block_density", (p->flags & SQ_ATTN_BLOCK) ? p->block_density : 1.0);
    cJSON_AddNumberToObject(j, "topk", (p->flags & SQ_ATTN_TOPK) ? p->topk : 0);
    cJSON_AddNumberToObject(j, "seed", (double)p->seed);
    cJSON_AddNumberToObject(j, "density", r->density);
    cJSON_AddNumberToObject(j, "scored_density", r->scored_density);
    cJSON_AddNumberToObject(j, "macs", (double)st->macs);
    cJSON_AddNumberToObject(j, "bytes_read", (double)st->bytes_read);
    cJSON_AddNumberToObject(j, "bytes_written", (double)st->bytes_written);
    if (st->cycles) {
        cJSON_AddNumberToObject(j, "cycles", (double)st->cycles);
        cJSON_AddNumberToObject(j, "stall_cycles", (double)st->stall_cycles);
    }
    cJSON_AddNumberToObject(j, "err_max", r->err_max);
    cJSON_AddNumberToObject(j, "err_mean", r->err_mean);
    cJSON_AddNumberToObject(j, "ref_mean_abs", r->ref_mean);
    cJSON_AddNumberToObject(j, "mismatches", (double)r->mismatches);
    char *text = cJSON_PrintUnformatted(j);
    if (text)
        puts(text);
    free(text);
    cJSON_Delete(j);
}

int sq_cmd_attn(int argc, char **argv)
{
    attn_opts_t o;
    int p = parse(argc, argv, &o);
    if (p != 0)
        return p > 0 ? 0 : SQ_EXIT_USAGE;

    /* what the request takes, before any of it is allocated */
    uint64_t host, need;
    sq_attn_case_bytes(&o.p, &host, &need);
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, o.backend);
    if (need > cfg.mem_bytes)
        cfg.mem_bytes = need;
    uint64_t o_bytes = (uint64_t)o.p.heads * o.p.queries * o.p.head_dim;
    if (sq_cli_mem_need(CMD, "the attention case (operands, fp32 originals, golden, read-back O)",
                        host + o_bytes * (1 + sizeof(float))) ||
        sq_cli_mem_need(CMD, "its device memory", cfg.mem_bytes))
        return SQ_EXIT_USAGE;
    sq_attn_case_t ac;
    sq_dev_t *dev = NULL;
    int8_t *out = NULL;
    int rc = sq_attn_case_build(&ac, &o.p);
    if (rc == SQ_ERR_ARG) {
        sq_cli_error(CMD, "%s", sq_err_msg());
        sq_attn_case_free(&ac);
        return SQ_EXIT_USAGE;
    }
    uint64_t cmd = 0, first = 0;
    attn_result_t r = {0};
    if (rc == 0)
        rc = sq_dev_open(&cfg, &dev);
    if (rc == 0)
        rc = sq_attn_case_place(dev, &ac, &cmd);
    if (rc == 0)
        rc = sq_dev_run(dev, cmd, 1, 0);
    if (rc == 0 && !(out = malloc(ac.b.o)))
        rc = sq_err(SQ_ERR_MEM, "out of memory reading O");
    if (rc == 0)
        rc = sq_attn_case_read(dev, &ac, out);
    if (rc == 0) {
        sq_dev_stats_t st;
        sq_dev_stats(dev, &st);
        r.mismatches = sq_attn_case_mismatches(&ac, out, &first);
        double pairs = (double)o.p.heads * o.p.queries * o.p.seq;
        r.density = (double)ac.work.selected / pairs;
        r.scored_density = (double)ac.work.scored / pairs;
        sq_attn_case_error(&ac, &r.err_max, &r.err_mean, &r.ref_mean);
        report(&o, &st, &r);
        if (r.mismatches) {
            uint64_t row = first / o.p.head_dim;
            sq_cli_error(CMD, "%llu mismatches; first at O[head %llu][query %llu][%llu]",
                         (unsigned long long)r.mismatches,
                         (unsigned long long)(row / o.p.queries),
                         (unsigned long long)(row % o.p.queries),
                         (unsigned long long)(first % o.p.head_dim));
        }
    } else {
        sq_cli_error(CMD, "%s", sq_err_msg());
    }
    free(out);
    sq_dev_close(dev);
    sq_attn_case_free(&ac);
    return rc ? SQ_EXIT_FAIL : r.mismatches ? SQ_EXIT_FAIL : 0;
}
