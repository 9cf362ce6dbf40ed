/* What the rtl and tlm levels share. Both run the same Verilated kernels
 * (the accelerator kernel with the command processor, and each unit's own
 * kernel) on sq_mem's timing rules (sim/sq_mem.h), so they convert the
 * device config to memory parameters, check a command stream, bound its
 * cycles and count its work the same way; they differ only in how a kernel
 * is clocked and how its control registers are reached (sim/sq_sim.h,
 * sim/sq_tlm.h). */
#ifndef SQ_LEVEL_RTL_H
#define SQ_LEVEL_RTL_H

#include "../../sim/sq_sim.h"
#include "runtime/desc.h"
#include "runtime/device.h"

typedef struct {
    const char *level; /* prefix of the error messages */
    sq_mem_t *mem;     /* the units' device memory */
    uint32_t latency;  /* its read latency in cycles */
    void *ctx;
    /* Runs a checked stream of one unit's descriptors (sq_sim_run's contract). */
    int (*run)(void *ctx, sq_unit_t unit, uint64_t cmd_addr, uint32_t n_cmds,
               uint64_t max_cycles, sq_sim_run_t *out);
    /* Runs a checked stream on the accelerator kernel (sq_sim_run_cp's). */
    int (*run_cp)(void *ctx, uint64_t cmd_addr, uint32_t n_cmds, const sq_cp_args_t *cp,
                  uint64_t max_cycles, sq_sim_run_t *out);
} sq_units_t;

/* The Verilated kernels of the rtl and tlm levels. */
typedef struct {
    sq_kernel_t *gemm, *attn, *vec; /* the unit kernels */
    sq_kernel_t *accel; /* the command processor with the three cores */
} sq_kernels_t;

/* The device memory cfg describes, timed in cycles of cfg's clock (*latency:
 * its read latency in cycles; channels per cfg->mem_shared), and the four
 * Verilated kernels (waveforms to cfg->fst_path for the GEMM unit,
 * PATH.attn.fst, PATH.vec.fst and PATH.accel.fst). Returns 0, or
 * SQ_ERR_ARG / SQ_ERR_MEM / SQ_ERR_IO with nothing left allocated. The caller owns them all. */
int sq_units_create(const sq_dev_config_t *cfg, const char *level, sq_mem_t **mem,
                    uint32_t *latency, sq_kernels_t *k);
/* Destroys the kernels of k that are not NULL. */
void sq_kernels_destroy(sq_kernels_t *k);

/* sq_level_ops_t.run for a stream of one unit: validates every descriptor
 * (one-line SQ_ERR_ARG naming it), derives a cycle bound when max_cycles is
 * 0, runs it through u->run and adds cycles, bytes and MACs to add. */
int sq_units_run(const sq_units_t *u, uint64_t cmd_addr, uint32_t n_cmds, uint64_t max_cycles,
                 sq_dev_stats_t *add);

/* sq_level_ops_t.run_stream on the accelerator kernel: bounds the cycles of
 * the (validated) stream when r->max_cycles is 0, runs it through u->run_cp
 * and adds the run's cycles, the units' stall cycles and every port's bytes
 * to add. A descriptor the command processor refused (its status register)
 * is a one-line SQ_ERR_DEV naming it. */
int sq_units_run_stream(const sq_units_t *u, const sq_stream_run_t *r, sq_dev_stats_t *add);

#endif
