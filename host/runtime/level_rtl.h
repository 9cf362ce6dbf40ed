/* What the rtl and tlm levels share. Both run the same Verilated units on
 * sq_mem's timing rules (sim/sq_mem.h), so they convert the device config to
 * memory parameters, check a command stream, bound its cycles and count its
 * work the same way; they differ only in how a unit is clocked and how its
 * control registers are reached (sim/sq_sim.h, sim/sq_tlm.h). */
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
} sq_units_t;

/* The device memory cfg describes, timed in cycles of cfg's clock (*latency:
 * its read latency in cycles), and both units' Verilated models (waveforms
 * to cfg->fst_path and PATH.attn.fst). Returns 0, or SQ_ERR_ARG / SQ_ERR_MEM
 * / SQ_ERR_IO with nothing left allocated. The caller owns all three. */
int sq_units_create(const sq_dev_config_t *cfg, const char *level, sq_mem_t **mem,
                    uint32_t *latency, sq_kernel_t **gemm, sq_kernel_t **attn);

/* sq_level_ops_t.run for a stream of one unit: validates every descriptor
 * (one-line SQ_ERR_ARG naming it), derives a cycle bound when max_cycles is
 * 0, runs it through u->run and adds cycles, bytes and MACs to add. */
int sq_units_run(const sq_units_t *u, uint64_t cmd_addr, uint32_t n_cmds, uint64_t max_cycles,
                 sq_dev_stats_t *add);

#endif
