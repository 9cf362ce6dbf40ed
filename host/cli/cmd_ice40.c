/* sparq ice40: one random GEMM on the iCE40 UP5K build (bitstreams/ice40) over
 * its UART, on a board (--port) or on the Verilated top (--sim), checked
 * against the golden reference. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/sq_ice40_vl.h"
#include "cli/cli.h"
#include "ice40/ice40.h"
#include "util/err.h"

#define CMD "ice40"

static void usage(void)
{
    printf("usage: sparq ice40 (--port DEV | --sim) [--m M] [--n N] [--k K] [--relu] [--out32]\n"
           "                   [--bias] [--seed S]\n"
           "Runs one random M x N x K int8 GEMM (default 8x8x16) on the iCE40 UP5K build of\n"
           "the GEMM unit (bitstreams/ice40/README.md) and compares every output with the\n"
           "golden reference. Operands, descriptor and result share the board's 32 KiB.\n"
           "  --port DEV   the board's serial port (115200 8N1), e.g. /dev/ttyUSB1\n"
           "  --sim        the same RTL under Verilator, driven through its UART pins\n"
           "  --m, --n, --k  dimensions, each in [1, 65535] (default 8, 8, 16)\n"
           "  --relu, --out32, --bias  GEMM flags (int32 outputs with --out32)\n"
           "  --seed S     operand seed (default 1)\n" SQ_CLI_MAX_MEM_HELP
           "Prints the board's geometry, its cycle count and mismatches; exit 1 on any.\n");
}

int sq_cmd_ice40(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'}, {"sim", no_argument, NULL, 'S'},
        {"m", required_argument, NULL, 'm'},    {"n", required_argument, NULL, 'n'},
        {"k", required_argument, NULL, 'k'},    {"relu", no_argument, NULL, 'r'},
        {"out32", no_argument, NULL, 'o'},      {"bias", no_argument, NULL, 'B'},
        {"seed", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *port = NULL;
    int sim = 0, c;
    long dims[3] = {8, 8, 16}, seed = 1;
    uint32_t flags = 0;
    while ((c = sq_cli_getopt(CMD, argc, argv, opts)) != -1) {
        switch (c) {
        case 'p': port = optarg; break;
        case 'S': sim = 1; break;
        case 'm':
        case 'n':
        case 'k': {
            const char *flag = c == 'm' ? "--m" : c == 'n' ? "--n" : "--k";
            if (sq_cli_long(CMD, flag, optarg, 1, 65535, &dims[c == 'm' ? 0 : c == 'n' ? 1 : 2]))
                return SQ_EXIT_USAGE;
            break;
        }
        case 'r': flags |= SQ_GEMM_RELU; break;
        case 'o': flags |= SQ_GEMM_OUT32; break;
        case 'B': flags |= SQ_GEMM_BIAS; break;
        case 's':
            if (sq_cli_long(CMD, "--seed", optarg, 0, 0x7fffffffL, &seed))
                return SQ_EXIT_USAGE;
            break;
        case 'h': usage(); return 0;
        default: return SQ_EXIT_USAGE;
        }
    }
    if (optind != argc || (!port) == !sim) {
        sq_cli_error(CMD, "give one of --port DEV and --sim (see sparq ice40 --help)");
        return SQ_EXIT_USAGE;
    }
    uint64_t host, dev;
    sq_gemm_case_bytes((uint32_t)dims[0], (uint32_t)dims[1], (uint32_t)dims[2], flags, &host, &dev);
    if (dev > SQ_ICE40_MEM_BYTES) {
        sq_cli_error(CMD, "a %ldx%ldx%ld GEMM needs about %llu bytes; the board has %u", dims[0],
                     dims[1], dims[2], (unsigned long long)dev, SQ_ICE40_MEM_BYTES);
        return SQ_EXIT_USAGE;
    }
    sq_gemm_case_t gc;
    if (sq_gemm_case_build(&gc, (uint32_t)dims[0], (uint32_t)dims[1], (uint32_t)dims[2], flags,
                           (uint64_t)seed) != 0) {
        sq_cli_error(CMD, "%s", sq_err_msg());
        sq_gemm_case_free(&gc);
        return SQ_EXIT_FAIL;
    }
    sq_ice40_io_t io;
    sq_ice40_sim_t *s = NULL;
    int rc = 0, serial = 0;
    if (sim) {
        s = sq_ice40_sim_create();
        if (!s)
            rc = sq_err(SQ_ERR_MEM, "out of memory for the Verilated top");
        io = (sq_ice40_io_t){.ctx = s, .send = sq_ice40_sim_send, .recv = sq_ice40_sim_recv};
    } else {
        rc = sq_ice40_serial_open(port, &io);
        serial = rc >= 0;
        rc = rc < 0 ? rc : 0;
    }
    void *out = rc ? NULL : malloc(gc.b.c);
    unsigned rows = 0, cols = 0;
    uint32_t cycles = 0;
    if (!rc && !out)
        rc = sq_err(SQ_ERR_MEM, "out of memory");
    if (!rc)
        rc = sq_ice40_ident(&io, &rows, &cols);
    if (!rc)
        rc = sq_ice40_gemm(&io, &gc, out, &cycles);
    uint64_t first, bad = rc ? 0 : sq_gemm_case_mismatches(&gc, out, &first);
    if (rc)
        sq_cli_error(CMD, "%s", sq_err_msg());
    else
        printf("board %s\narray %ux%u\nshape %ldx%ldx%ld\nboard_cycles %u\nmismatches %llu\n",
               sim ? "sim" : port, rows, cols, dims[0], dims[1], dims[2], cycles,
               (unsigned long long)bad);
    if (s)
        sq_ice40_sim_destroy(s);
    if (serial)
        sq_ice40_serial_close(&io);
    free(out);
    sq_gemm_case_free(&gc);
    return rc || bad ? SQ_EXIT_FAIL : 0;
}
