/* sparq gemm: one random GEMM (runtime/gemm_case.h) on a level, checked
 * output by output against the golden reference computed on the host. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_accel.h"
#include "runtime/device.h"
#include "runtime/gemm_case.h"
#include "sparq/spec.h"
#include "util/err.h"

static const char *const CMD = "gemm";

static void help(void)
{
    printf("usage: sparq gemm [flags]\n"
           "Runs one C = epilogue(A.W^T + bias) descriptor with random saturating operands on a\n"
           "level, computes the golden reference on the host and compares every output.\n\n"
           "  --backend L              level: " SQ_CLI_BACKENDS " (default csim)\n"
           "  --shape MxNxK            A is MxK, W is NxK, C is MxN; each in [1, %u] (default 64x64x64)\n"
           "  --wbits 8|4              weight width (default 8)\n"
           "  --sparse 2:4             2:4 structured-sparse int8 weights\n"
           "  --group G                one Q15 scale per G inputs of a weight row (SQ_GEMM_GSCALE;\n"
           "                           G = K or a power of two from %u)\n"
           "  --relu                   clamp outputs at 0\n"
           "  --out int8|int32         requantized int8 (default) or raw int32 outputs\n"
           "  --bias                   add a per-channel int32 bias\n"
           "  --seed S                 operand seed (default 1)\n"
           "  --target T               memory system: ddr4 (default), u250, u280 or f2; each AXI\n"
           "                           port reads one channel of it\n"
           "  --cus U                  GEMM compute units, each on its own port and channel: the\n"
           "                           GEMM runs as U descriptors, split along N when M = 1, else\n"
           "                           along M (default 1; at most the target's channels)\n"
           "  --json                   print one JSON object instead of lines\n"
           "  --trace-fst FILE         rtl, tlm: dump the kernel's waveform to FILE (FST)\n"
           "  --help                   this text\n" SQ_CLI_MAX_MEM_HELP "\n"
           "Prints mismatches, work counters and, on levels that count cycles, cycles and\n"
           "mac_utilization = useful MACs / (cycles * %u * %u * %u). Exit 1 on any mismatch.\n",
           SQ_GEMM_MAX_DIM, SQ_GEMM_GROUP_MIN, SQ_ARRAY_ROWS, SQ_ARRAY_COLS, SQ_PE_MACS);
}

static int parse_shape(const char *s, uint32_t dims[3])
{
    static const char *const names[3] = {"--shape M", "--shape N", "--shape K"};
    char buf[64];
    if (strlen(s) >= sizeof buf) {
        sq_cli_error(CMD, "--shape must be MxNxK, got '%s'", s);
        return -1;
    }
    strcpy(buf, s);
    char *p = buf;
    for (int i = 0; i < 3; i++) {
        char *x = strchr(p, 'x');
        if ((i < 2) != (x != NULL)) {
            sq_cli_error(CMD, "--shape must be MxNxK, got '%s'", s);
            return -1;
        }
        if (x)
            *x = 0;
        long v;
        if (sq_cli_long(CMD, names[i], p, 1, SQ_GEMM_MAX_DIM, &v) != 0)
            return -1;
        dims[i] = (uint32_t)v;
        p = x + 1;
    }
    return 0;
}

typedef struct {
    const char *backend;
    uint32_t dims[3];
    uint32_t flags;
    uint32_t group; /* --group, with SQ_GEMM_GSCALE */
    long seed;
    int json;
    const char *fst; /* --trace-fst, or NULL */
    const sq_target_t *target;
    uint32_t cus;
} gemm_opts_t;

/* Returns 0 to run, 1 after --help, -1 on a usage error (already printed). */
static int parse(int argc, char **argv, gemm_opts_t *o)
{
    static const struct option opts[] = {
        {"backend", required_argument, NULL, 'b'}, {"shape", required_argument, NULL, 's'},
        {"wbits", required_argument, NULL, 'w'},   {"sparse", required_argument, NULL, 'p'},
        {"relu", no_argument, NULL, 'r'},          {"out", required_argument, NULL, 'o'},
        {"bias", no_argument, NULL, 'B'},          {"seed", required_argument, NULL, 'S'},
        {"json", no_argument, NULL, 'j'},          {"help", no_argument, NULL, 'h'},
        {"trace-fst", required_argument, NULL, 'T'}, {"group", required_argument, NULL, 'g'},
        {"target", required_argument, NULL, 't'},  {"cus", required_argument, NULL, 'u'},
        {NULL, 0, NULL, 0},
    };
    *o = (gemm_opts_t){.backend = "csim", .dims = {64, 64, 64}, .seed = 1, .cus = 1,
                       .target = sq_target_find(NULL)};
    int c;
    long v;
    optind = 1;
    while ((c = sq_cli_getopt(CMD, argc, argv, opts)) != -1) {
        switch (c) {
        case 'b':
            if (sq_cli_backend(CMD, optarg) != 0)
                return -1;
            o->backend = optarg;
            break;
        case 's':
            if (parse_shape(optarg, o->dims) != 0)
                return -1;
            break;
        case 'w':
            if (strcmp(optarg, "8") && strcmp(optarg, "4")) {
                sq_cli_error(CMD, "--wbits must be 8 or 4, got '%s'", optarg);
                return -1;
            }
            o->flags = (o->flags & ~SQ_GEMM_W4) | (optarg[0] == '4' ? SQ_GEMM_W4 : 0);
            break;
        case 'p':
            if (strcmp(optarg, "2:4")) {
                sq_cli_error(CMD, "--sparse must be 2:4, got '%s'", optarg);
                return -1;
            }
            o->flags |= SQ_GEMM_SP24;
            break;
        case 'g':
            if (sq_cli_long(CMD, "--group", optarg, 1, SQ_GEMM_MAX_DIM, &v) != 0)
                return -1;
            o->group = (uint32_t)v;
            o->flags |= SQ_GEMM_GSCALE;
            break;
        case 'r':
            o->flags |= SQ_GEMM_RELU;
            break;
        case 'o':
            if (strcmp(optarg, "int8") && strcmp(optarg, "int32")) {
                sq_cli_error(CMD, "--out must be int8 or int32, got '%s'", optarg);
                return -1;
            }
            o->flags = (o->flags & ~SQ_GEMM_OUT32) | (strcmp(optarg, "int32") ? 0 : SQ_GEMM_OUT32);
            break;
        case 'B':
            o->flags |= SQ_GEMM_BIAS;
            break;
        case 'S':
            if (sq_cli_long(CMD, "--seed", optarg, 0, 0x7fffffffL, &v) != 0)
                return -1;
            o->seed = v;
            break;
        case 'j':
            o->json = 1;
            break;
        case 'T':
            o->fst = optarg;
            break;
        case 't':
            if (!(o->target = sq_target_find(optarg))) {
                sq_cli_error(CMD, "--target must be one of %s, got '%s'", sq_target_names(),
                             optarg);
                return -1;
            }
            break;
        case 'u':
            if (sq_cli_cus(CMD, optarg, &o->cus))
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
        sq_cli_error(CMD, "unexpected argument '%s' (see sparq gemm --help)", argv[optind]);
        return -1;
    }
    if ((o->flags & SQ_GEMM_W4) && (o->flags & SQ_GEMM_SP24)) {
        sq_cli_error(CMD, "--wbits 4 and --sparse 2:4 cannot be combined");
        return -1;
    }
    if (sq_cli_cus_fit(CMD, o->cus, o->target))
        return -1;
    if (o->fst && strcmp(o->backend, "rtl") != 0 && strcmp(o->backend, "tlm") != 0) {
        sq_cli_error(CMD, "--trace-fst needs --backend rtl or tlm (only the RTL has waveforms)");
        return -1;
    }
    return 0;
}

static void report(const gemm_opts_t *o, const sq_dev_stats_t *st, uint64_t mismatches)
{
    double util = st->cycles ? (double)st->macs / ((double)st->cycles * SQ_ARRAY_ROWS * SQ_ARRAY_COLS * SQ_PE_MACS)
                             : 0.0;
    const char *out = (o->flags & SQ_GEMM_OUT32) ? "int32" : "int8";
    if (!o->json) {
        printf("target %s\ncus %u\n", o->target->name, o->cus);
        printf("backend %s\nshape %ux%ux%u\nwbits %d\nsparse %s\nrelu %d\nout %s\nbias %d\n"
               "group %u\n",
               o->backend, o->dims[0], o->dims[1], o->dims[2], (o->flags & SQ_GEMM_W4) ? 4 : 8,
               (o->flags & SQ_GEMM_SP24) ? "2:4" : "none", !!(o->flags & SQ_GEMM_RELU), out,
               !!(o->flags & SQ_GEMM_BIAS), o->group);
        printf("macs %llu\nbytes_read %llu\nbytes_written %llu\n", (unsigned long long)st->macs,
               (unsigned long long)st->bytes_read, (unsigned long long)st->bytes_written);
        if (st->cycles)
            printf("cycles %llu\nstall_cycles %llu\nmac_utilization %.4f\n",
                   (unsigned long long)st->cycles, (unsigned long long)st->stall_cycles, util);
        printf("mismatches %llu\n", (unsigned long long)mismatches);
        return;
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "backend", o->backend);
    cJSON_AddStringToObject(j, "target", o->target->name);
    cJSON_AddNumberToObject(j, "cus", o->cus);
    cJSON_AddNumberToObject(j, "m", o->dims[0]);
    cJSON_AddNumberToObject(j, "n", o->dims[1]);
    cJSON_AddNumberToObject(j, "k", o->dims[2]);
    cJSON_AddNumberToObject(j, "wbits", (o->flags & SQ_GEMM_W4) ? 4 : 8);
    cJSON_AddStringToObject(j, "sparse", (o->flags & SQ_GEMM_SP24) ? "2:4" : "none");
    cJSON_AddBoolToObject(j, "relu", (o->flags & SQ_GEMM_RELU) != 0);
    cJSON_AddStringToObject(j, "out", out);
    cJSON_AddBoolToObject(j, "bias", (o->flags & SQ_GEMM_BIAS) != 0);
    cJSON_AddNumberToObject(j, "group", o->group);
    cJSON_AddNumberToObject(j, "seed", (double)o->seed);
    cJSON_AddNumberToObject(j, "array_rows", SQ_ARRAY_ROWS);
    cJSON_AddNumberToObject(j, "array_cols", SQ_ARRAY_COLS);
    cJSON_AddNumberToObject(j, "macs", (double)st->macs);
    cJSON_AddNumberToObject(j, "bytes_read", (double)st->bytes_read);
    cJSON_AddNumberToObject(j, "bytes_written", (double)st->bytes_written);
    if (st->cycles) {
        cJSON_AddNumberToObject(j, "cycles", (double)st->cycles);
        cJSON_AddNumberToObject(j, "stall_cycles", (double)st->stall_cycles);
        cJSON_AddNumberToObject(j, "mac_utilization", util);
    }
    cJSON_AddNumberToObject(j, "mismatches", (double)mismatches);
    char *text = cJSON_PrintUnformatted(j);
    if (text)
        puts(text);
    free(text);
    cJSON_Delete(j);
}

int sq_cmd_gemm(int argc, char **argv)
{
    gemm_opts_t o;
    int p = parse(argc, argv, &o);
    if (p != 0)
        return p > 0 ? 0 : SQ_EXIT_USAGE;

    /* what the request takes, before any of it is allocated */
    uint64_t host, need, c_bytes = (uint64_t)o.dims[0] * o.dims[1] * ((o.flags & SQ_GEMM_OUT32) ? 4 : 1);
    sq_gemm_case_bytes(o.dims[0], o.dims[1], o.dims[2], o.flags, &host, &need);
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, o.backend);
    cfg.fst_path = o.fst;
    cfg.mem_gbps = o.target->mem_gbps;
    cfg.gemm_cus = o.cus;
    need += (uint64_t)o.cus * SQ_DESC_BYTES;
    if (need > cfg.mem_bytes)
        cfg.mem_bytes = need;
    char what[96];
    snprintf(what, sizeof what, "a %ux%ux%u gemm (operands, golden and read-back C)", o.dims[0],
             o.dims[1], o.dims[2]);
    if (sq_cli_mem_need(CMD, what, host + c_bytes) ||
        sq_cli_mem_need(CMD, "its device memory", cfg.mem_bytes))
        return SQ_EXIT_USAGE;
    sq_gemm_case_t gc;
    sq_dev_t *dev = NULL;
    void *out = NULL;
    int rc = sq_gemm_case_build_group(&gc, o.dims[0], o.dims[1], o.dims[2], o.flags, o.group,
                                      (uint64_t)o.seed);
    uint64_t cmd = 0, first = 0, mismatches = 0;
    if (rc == 0)
        rc = sq_dev_open(&cfg, &dev);
    if (rc == 0)
        rc = sq_gemm_case_place(dev, &gc, &cmd);
    uint32_t n_cmds = 1;
    if (rc == 0)
        rc = sq_gemm_case_split(dev, &gc, &cmd, &n_cmds);
    if (rc == 0)
        rc = sq_dev_run(dev, cmd, n_cmds, 0);
    if (rc == 0 && !(out = malloc(gc.b.c)))
        rc = sq_err(SQ_ERR_MEM, "out of memory reading C");
    if (rc == 0)
        rc = sq_gemm_case_read(dev, &gc, out);
    if (rc == 0) {
        sq_dev_stats_t st;
        sq_dev_stats(dev, &st);
        mismatches = sq_gemm_case_mismatches(&gc, out, &first);
        report(&o, &st, mismatches);
        if (mismatches) {
            uint32_t n = gc.d.n;
            sq_cli_error(CMD, "%llu mismatches; first at C[%llu][%llu]", (unsigned long long)mismatches,
                         (unsigned long long)(first / n), (unsigned long long)(first % n));
        }
    } else {
        sq_cli_error(CMD, "%s", sq_err_msg());
    }
    free(out);
    sq_dev_close(dev);
    sq_gemm_case_free(&gc);
    return rc ? SQ_EXIT_FAIL : mismatches ? SQ_EXIT_FAIL : 0;
}
