/* Run reports: per layer and op, where it ran (matmul, attention or vector
 * unit, or host), cycles, MAC utilization, bytes moved in device memory,
 * stalls; totals; the end-to-end latency per phase (prefill, decode): device
 * cycles at a clock, plus the host interaction of a card (a launch latency
 * per run and the PCIe transfer of the bytes the host writes and reads),
 * plus the host's own work measured in the run; a terminal table, a JSON file
 * and a roofline plot (SVG). */
#ifndef SQ_REPORT_H
#define SQ_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "runtime/device.h"

/* Memory systems of the brief's targets (the array and clock stay ours). A
 * card has `channels` independent memory channels and each AXI port of a
 * kernel is connected to one of them (bitstreams/vitis: hbm.cfg, ddr.cfg), so a port sees
 * one channel's bandwidth, never the card's aggregate. */
typedef struct {
    const char *name;
    const char *desc;
    int channels;
    double mem_gbps; /* one channel: what one port reads and writes, GB/s */
} sq_target_t;

/* NULL name gives the default (one DDR4 channel); unknown names return NULL. */
const sq_target_t *sq_target_find(const char *name);
/* "ddr4, u250, u280, f2" for help and error texts. */
const char *sq_target_names(void);

/* Host interaction of a card (docs/integer_layer.md, "Latency"). Defaults:
 * a kernel run costs 30 us from the host's start to its completion seen by
 * the host (Xilinx: 30-60 us per dispatch, SDAccel 2018.2 documentation
 * "Reducing Overhead of Kernel Enqueing"; XRT users measure 16-100 us per
 * run, XRT issues 6601 and 8687), and PCIe Gen3 x16 moves 9 GB/s (xbutil validate on
 * Alveo: 8.5-9.6 GB/s host to card, 12.2 GB/s card to host, Vitis Tutorials
 * XD099 "Determine the Maximum Achievable Throughput"; the slower direction). */
#define SQ_LAUNCH_US_DEFAULT 30.0
#define SQ_PCIE_GBPS_DEFAULT 9.0

/* Phases of a generation: the prompt (one run with the integer layer, one
 * run per token and op otherwise) and the decode steps. */
typedef enum { SQ_PHASE_PREFILL, SQ_PHASE_DECODE, SQ_PHASES } sq_phase_t;

typedef struct {
    uint64_t steps;       /* host steps: prompts prefilled, or decode steps */
    uint64_t tokens;      /* positions computed (a batched step computes one per sequence) */
    uint64_t runs;        /* kernel launches */
    uint64_t cycles;      /* device cycles (0 on levels that count none) */
    uint64_t host_written, host_read; /* bytes over PCIe */
    double wall_s;        /* wall time of the phase on this host */
    double cpu_s;         /* CPU time of this process in the phase */
    double dev_cpu_s;     /* of which inside device calls (a simulation's, not a card's) */
} sq_report_phase_t;

/* A phase's latency per step, split by where it goes. */
typedef struct {
    int device_counted;   /* 0: the level counts no cycles (device_s unknown, 0) */
    double runs, pcie_bytes;
    double device_s, launch_s, pcie_s, host_s, total_s;
} sq_report_latency_t;

typedef struct {
    int layer;         /* -1 for whole-model ops (embedding, final norm, classifier) */
    char op[16];       /* "q", "attn", "rmsnorm", ... */
    const char *unit;  /* "matmul", "attention", "vector" or "host" */
    uint64_t calls;
    sq_dev_stats_t s;  /* accumulated over calls */
} sq_report_op_t;

typedef struct {
    char model[128], recipe[64], level[16];
    const sq_target_t *target;
    double clock_mhz;
    unsigned array_rows, array_cols;
    uint64_t tokens;
    sq_report_op_t *ops;
    size_t n_ops, cap;
    double launch_us, pcie_gbps; /* host interaction model (defaults above) */
    sq_report_phase_t phase[SQ_PHASES];
    uint64_t sequences;          /* decoded at once (batch), 1 by default */
    double dev_cpu_s;            /* CPU time inside device calls, from the programs */
    /* phase bookkeeping: the one in flight and the counters at its start */
    int cur;
    sq_dev_stats_t at;
    double t0, cpu0, dev0;
} sq_report_t;

void sq_report_init(sq_report_t *r, const char *model, const char *recipe, const char *level,
                    const sq_target_t *target, double clock_mhz);
void sq_report_free(sq_report_t *r);
/* Accumulates one call of (layer, op) on unit; s may be NULL for host ops. */
int sq_report_add(sq_report_t *r, int layer, const char *op, const char *unit,
                  const sq_dev_stats_t *s);

/* Totals over every op. */
void sq_report_totals(const sq_report_t *r, sq_dev_stats_t *t);
/* Phases: begin snapshots dev's counters (dev may be NULL for a host run)
 * and the clock; end adds what happened since to phase ph, with the steps
 * and tokens the caller ran. The programs add the CPU time of their device
 * calls (sq_report_dev_time), which separates the host's own work from a
 * simulator's. The host's work is CPU time, not wall time: on a shared
 * machine the wall time also counts other processes. */
void sq_report_phase_begin(sq_report_t *r, sq_dev_t *dev, sq_phase_t ph);
void sq_report_phase_end(sq_report_t *r, sq_dev_t *dev, uint64_t steps, uint64_t tokens);
void sq_report_dev_time(sq_report_t *r, double seconds);
/* CPU seconds used by this process so far. */
double sq_report_cpu_s(void);
/* Phase ph per step: device cycles / clock + runs x launch latency + host
 * bytes / PCIe bandwidth + the host's own work (CPU time measured in the
 * run). Returns 0 when the phase ran no step. */
int sq_report_latency(const sq_report_t *r, sq_phase_t ph, sq_report_latency_t *out);
/* Decode seconds per step (sq_report_latency's total, device cycles of a
 * level that counts none taken as 0); 0 when nothing was decoded. */
double sq_report_latency_s(const sq_report_t *r);

void sq_report_print(const sq_report_t *r, FILE *f);
int sq_report_write_json(const sq_report_t *r, const char *path);
/* Log-log roofline of the accelerator ops: compute roof of the array at the
 * clock, memory roof of the target's bandwidth, one point per op. */
int sq_report_write_roofline_svg(const sq_report_t *r, const char *path);

#endif
