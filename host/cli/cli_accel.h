/* Running a CLI model on an accelerator level with a report: the flags
 * --backend, --report, --clock-mhz, --target, --array, --attn, --offload,
 * --launch-us and --pcie-gbps shared by generate, eval and embed. */
#ifndef SQ_CLI_ACCEL_H
#define SQ_CLI_ACCEL_H

#include <stdio.h>

#include "cli/cli_model.h"
#include "model/attn_exec.h"
#include "report/report.h"
#include "runtime/device.h"
#include "sched/llama_int.h"
#include "sched/program.h"

typedef struct {
    const char *backend;     /* NULL: golden host path, no device */
    const char *report_path; /* JSON report (and a roofline SVG beside it), or NULL */
    const char *target;      /* memory system name, NULL = ddr4 */
    double clock_mhz;
    uint32_t array_rows, array_cols; /* model level's array; 0 = SQ_ARRAY_ROWS x COLS */
    uint32_t cus;            /* GEMM compute units (0: 1) */
    const char *attn;        /* --attn pattern spec (model/attn_exec.h), or NULL */
    int offload_linears;     /* --offload linears: only the linears on the device */
    const char *calib;       /* calibration text of the integer layer (NULL: default) */
    int stage, stages;       /* a pipeline stage (cli_parallel.h): only its layers'
                                weights go to the device; stages 0 = every layer */
    int shards;              /* a tensor split uploads its own shards: no weights */
    double launch_us, pcie_gbps; /* host interaction model of the report */
    int rows, seqs;          /* integer layer: longest prompt run at once, sequences */
    uint64_t mem_bytes;      /* device memory (0: the level's default) */
    int timing_only;         /* --timing-only: the model level counts, computes no outputs */
    sq_attn_exec_t ae;       /* the attention hook when attn is set */
    sq_dev_t *dev;
    sq_program_t *prog;      /* linears on the device (fp32 runs, --offload linears) */
    sq_intlayer_t *ilayer;   /* or the whole token (integer recipes) */
    sq_report_t rep;
} sq_cli_accel_t;

/* getopt_long entries for the shared flags, and their handler: returns 1 when
 * c was one of them, 0 when not, -1 after printing a bad value. */
#define SQ_CLI_ACCEL_OPTS                                                                          \
    {"backend", required_argument, NULL, 0x101}, {"report", required_argument, NULL, 0x102},       \
        {"clock-mhz", required_argument, NULL, 0x103}, {"target", required_argument, NULL, 0x104}, \
        {"array", required_argument, NULL, 0x105}, {"attn", required_argument, NULL, 0x106},    \
        {"offload", required_argument, NULL, 0x107},                                              \
        {"launch-us", required_argument, NULL, 0x108},                                            \
        {"pcie-gbps", required_argument, NULL, 0x109},                                            \
        {"timing-only", no_argument, NULL, 0x10A}, {"cus", required_argument, NULL, 0x10B}
#define SQ_CLI_ACCEL_HELP                                                                          \
    "  --backend L         run the compiled model on level L: " SQ_CLI_BACKENDS "\n"              \
    "  --report FILE.json  per-op report (JSON, a roofline SVG beside it, a table on stderr)\n"    \
    "  --clock-mhz F       kernel clock for modeled latency (default 300)\n"                       \
    "  --target T          memory system: ddr4 (default), u250, u280 or f2; each AXI port\n"     \
    "                      reads one channel (19.2 GB/s DDR4, 14.4 GB/s HBM2)\n"                 \
    "  --array RxC         array size of the model backend (default 16x16; rtl is built for it)\n"  \
    "  --cus U             GEMM compute units, each with its own AXI port on its own memory\n"  \
    "                      channel; every GEMM is split across them (default 1; at most the\n" \
    "                      target's channels and 8; rtl is built for 1 and 4)\n"                \
    "  --attn SPEC         integer attention (int8 Q/K/V, integer softmax) with a pattern:\n"      \
    "                      dense, window:W, global:N, block:D, topk:K, comma-combined; add\n"   \
    "                      fp32 for fp32 attention with the same pattern (model/attn_exec.h).\n" \
    "                      With --backend it runs on the level's attention unit, else on the\n" \
    "                      golden reference\n"                                                       \
    "  --offload linears   with --backend and an integer recipe, run only the linears on the\n" \
    "                      device (the rest on the host) instead of the whole token (the\n"    \
    "                      integer layer, docs/integer_layer.md), for levels without a\n"     \
    "                      vector unit yet\n"                                                    \
    "  --launch-us U       report: host-side cost of one kernel run (default 30, XRT/OpenCL\n"   \
    "                      dispatch as Xilinx documents it; docs/integer_layer.md)\n"           \
    "  --pcie-gbps G       report: PCIe bandwidth of the host's transfers (default 9, xbutil\n"  \
    "                      DMA test on Alveo Gen3 x16; docs/integer_layer.md)\n"         \
    "  --timing-only       with --backend model: cycles and bytes only, no outputs computed\n" \
    "                      (the text is then meaningless; for dummy models' timing)\n"          \
    SQ_CLI_MAX_MEM_HELP

/* --cus: an integer in 1 .. SQ_GEMM_CUS_MAX into *out, else one line and -1. */
int sq_cli_cus(const char *cmd, const char *arg, uint32_t *out);
/* Each GEMM compute unit reads its own memory channel: more units (cus, 0
 * for 1) than target t has channels is one line and -1. */
int sq_cli_cus_fit(const char *cmd, uint32_t cus, const sq_target_t *t);

void sq_cli_accel_init(sq_cli_accel_t *a);
int sq_cli_accel_flag(const char *cmd, sq_cli_accel_t *a, int c, const char *arg);

/* Starts the report and, with --backend, opens the level into a->dev (the
 * caller compiles its model onto it into a->prog). Prints one line and
 * returns an exit code on failure. */
int sq_cli_accel_open_dev(const char *cmd, sq_cli_accel_t *a, const char *model_name,
                          const char *recipe);
/* Opens the level, compiles cm's model onto it and installs the program in
 * cm->ex: with an integer recipe the whole token (the integer layer,
 * calibrated on a->calib), else (or with --offload linears) the linears with
 * the rest on the host; with --attn installs the attention hook too (on the
 * level's attention unit when there is a level). Without --backend and --attn
 * does nothing. Prints one line and returns an exit code on failure. */
int sq_cli_accel_open(const char *cmd, sq_cli_accel_t *a, sq_cli_model_t *cm,
                      const char *model_name, const char *recipe);
/* With --attn: one line on f with the pattern's density (selected / causal
 * pairs) and the integer attention's error against fp32 on the activations
 * it saw. */
void sq_cli_accel_print_attn(const sq_cli_accel_t *a, FILE *f);
/* Report phases around the runs a command makes (no-ops without a report). */
void sq_cli_accel_phase_begin(sq_cli_accel_t *a, sq_phase_t ph);
void sq_cli_accel_phase_end(sq_cli_accel_t *a, uint64_t steps, uint64_t tokens);
/* Writes the report (when asked) and frees everything; returns an exit code. */
int sq_cli_accel_close(const char *cmd, sq_cli_accel_t *a);

#endif
