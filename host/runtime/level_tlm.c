/* The "tlm" execution level: the rtl level's Verilated kernels (the
 * accelerator kernel and the three unit kernels) on the SystemC TLM-2.0
 * platform of sim/sq_tlm.h (docs/tlm.md). Same RTL, same memory timing
 * rules, so the same outputs and cycles as rtl; the stream checks, bounds
 * and counters are the rtl level's (runtime/level_rtl.h). */
#include <stdlib.h>

#include "../../sim/sq_tlm.h"
#include "runtime/device.h"
#include "runtime/level_rtl.h"
#include "util/err.h"

typedef struct {
    sq_units_t u;
    sq_tlm_t *tlm;
} tlm_t;

static int tlm_unit_run(void *ctx, sq_unit_t unit, uint64_t cmd_addr, uint32_t n_cmds,
                        uint64_t max_cycles, sq_sim_run_t *out)
{
    tlm_t *t = ctx;
    int k = unit == SQ_UNIT_ATTN ? SQ_TLM_ATTN : unit == SQ_UNIT_VEC ? SQ_TLM_VEC : SQ_TLM_GEMM;
    return sq_tlm_run(t->tlm, k, cmd_addr, n_cmds, max_cycles, out);
}

static int tlm_accel_run(void *ctx, uint64_t cmd_addr, uint32_t n_cmds, const sq_cp_args_t *cp,
                         uint64_t max_cycles, sq_sim_run_t *out)
{
    tlm_t *t = ctx;
    return sq_tlm_run_cp(t->tlm, cmd_addr, n_cmds, cp, max_cycles, out);
}

static int tlm_open(const sq_dev_config_t *cfg, uint8_t *mem, void **state)
{
    (void)mem; /* the modeled memory lives in the platform */
    tlm_t *t = calloc(1, sizeof *t);
    if (!t)
        return sq_err(SQ_ERR_MEM, "tlm: out of host memory");
    sq_mem_t *m = NULL;
    sq_kernels_t k;
    int rc = sq_units_create(cfg, "tlm", &m, &t->u.latency, &k);
    if (rc == 0)
        rc = sq_tlm_open(cfg->clock_mhz, m, k.gemm, k.attn, k.vec, k.accel, &t->tlm);
    if (rc != 0) {
        free(t);
        return rc;
    }
    t->u = (sq_units_t){"tlm", m, t->u.latency, t, tlm_unit_run, tlm_accel_run};
    *state = t;
    return 0;
}

static void tlm_close(void *state)
{
    tlm_t *t = state;
    if (!t)
        return;
    sq_tlm_close(t->tlm);
    free(t);
}

static int tlm_write(void *state, uint64_t addr, const void *src, size_t n)
{
    return sq_tlm_write(((tlm_t *)state)->tlm, addr, src, n);
}

static int tlm_read(void *state, uint64_t addr, void *dst, size_t n)
{
    return sq_tlm_read(((tlm_t *)state)->tlm, addr, dst, n);
}

static int tlm_run(void *state, uint64_t cmd_addr, uint32_t n_cmds, uint64_t max_cycles,
                   sq_dev_stats_t *add)
{
    return sq_units_run(&((tlm_t *)state)->u, cmd_addr, n_cmds, max_cycles, add);
}

static int tlm_run_stream(void *state, const sq_stream_run_t *r, sq_dev_stats_t *add)
{
    return sq_units_run_stream(&((tlm_t *)state)->u, r, add);
}

const sq_level_ops_t sq_level_tlm = {
    .name = "tlm",
    .open = tlm_open,
    .close = tlm_close,
    .write = tlm_write,
    .read = tlm_read,
    .run = tlm_run,
    .run_stream = tlm_run_stream,
    .profiles = 1,
    .caps = SQ_LEVEL_CAP_VEC | SQ_LEVEL_CAP_GSCALE,
};
