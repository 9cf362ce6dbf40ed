/* Run reports: per layer and op, where it ran (matmul unit, attention unit or
 * host), cycles, MAC utilization, bytes moved in device memory, stalls; totals;
 * modeled latency per token at a clock and for a named FPGA target; a terminal
 * table, a JSON file and a roofline plot (SVG). */
#ifndef SQ_REPORT_H
#define SQ_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "runtime/device.h"

/* Memory systems of the brief's targets (the array and clock stay ours). */
typedef struct {
    const char *name;
    const char *desc;
    double mem_gbps;
} sq_target_t;

/* NULL name gives the default (one DDR4 channel); unknown names return NULL. */
const sq_target_t *sq_target_find(const char *name);
/* "ddr4, u250, u280, f2" for help and error texts. */
const char *sq_target_names(void);

typedef struct {
    int layer;         /* -1 for whole-model ops (embedding, final norm, classifier) */
    char op[16];       /* "q", "attn", "rmsnorm", ... */
    const char *unit;  /* "matmul", "attention" or "host" */
    uint64_t calls;
    sq_dev_stats_t s;  /* accumulated over calls */
} sq_report_op_t;

typedef struct {
    char model[128], recipe[64], level[16];
    const sq_target_t *target;
    double clock_mhz;
    unsigned array_rows, array_cols;
    uint64_t tokens;
    /* the device's launches and host transfers over those tokens (the
     * caller sets them from sq_dev_stats: a per-op row cannot hold a launch
     * that runs many ops) */
    uint64_t launches, host_bytes_written, host_bytes_read;
    sq_report_op_t *ops;
    size_t n_ops, cap;
} sq_report_t;

void sq_report_init(sq_report_t *r, const char *model, const char *recipe, const char *level,
                    const sq_target_t *target, double clock_mhz);
void sq_report_free(sq_report_t *r);
/* Accumulates one call of (layer, op) on unit; s may be NULL for host ops. */
int sq_report_add(sq_report_t *r, int layer, const char *op, const char *unit,
                  const sq_dev_stats_t *s);

/* Totals over every op. */
void sq_report_totals(const sq_report_t *r, sq_dev_stats_t *t);
/* Modeled accelerator seconds per token (cycles / tokens / clock); 0 when no
 * cycles were counted. Host ops are not modeled. */
double sq_report_latency_s(const sq_report_t *r);

void sq_report_print(const sq_report_t *r, FILE *f);
int sq_report_write_json(const sq_report_t *r, const char *path);
/* Log-log roofline of the accelerator ops: compute roof of the array at the
 * clock, memory roof of the target's bandwidth, one point per op. */
int sq_report_write_roofline_svg(const sq_report_t *r, const char *path);

#endif
