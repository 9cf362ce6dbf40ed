/* The `csim` level: the HLS kernels of hls/ compiled by gcc, called on the
 * device memory image exactly as the hardware would be (memory base, command
 * address, descriptor count, and for the accelerator kernel the positions):
 * a stream is one call of sq_accel_kernel (hls/cp), the unit kernels serve
 * the host-driven path. It counts work, not cycles. */
#include <stdlib.h>

#include "runtime/desc.h"
#include "runtime/device.h"
#include "sparq/kernels.h"
#include "util/err.h"

typedef struct {
    uint8_t *mem;
} csim_state_t;

static int csim_open(const sq_dev_config_t *cfg, uint8_t *mem, void **state)
{
    (void)cfg;
    csim_state_t *s = calloc(1, sizeof *s);
    if (!s)
        return sq_err(SQ_ERR_MEM, "out of memory opening level 'csim'");
    s->mem = mem;
    *state = s;
    return 0;
}

static void csim_close(void *state)
{
    free(state);
}

/* The device hands over runs of one opcode; each opcode is one kernel. */
static int csim_run(void *state, uint64_t cmd_addr, uint32_t n_cmds, uint64_t max_cycles,
                    sq_dev_stats_t *add)
{
    (void)max_cycles;
    csim_state_t *s = state;
    uint32_t op = sq_desc_opcode(s->mem + cmd_addr);
    switch (op) {
    case SQ_OP_GEMM:
        sq_gemm_kernel(s->mem, cmd_addr, n_cmds);
        break;
    case SQ_OP_ATTN:
        sq_attn_kernel(s->mem, cmd_addr, n_cmds);
        for (uint32_t i = 0; i < n_cmds; i++) {
            sq_attn_desc_t d;
            sq_attn_desc_decode(s->mem + cmd_addr + (uint64_t)i * SQ_DESC_BYTES, &d);
            sq_attn_desc_work(&d, (d.flags & SQ_ATTN_BLOCK) ? s->mem + d.mask : NULL, add);
        }
        break;
    case SQ_OP_VEC:
        sq_vec_kernel(s->mem, cmd_addr, n_cmds);
        break;
    default:
        return sq_err(SQ_ERR_DEV, "csim: no kernel for opcode %u", (unsigned)op);
    }
    for (uint32_t i = 0; i < n_cmds; i++)
        sq_desc_work(s->mem + cmd_addr + (uint64_t)i * SQ_DESC_BYTES, add);
    return 0;
}

static int csim_run_stream(void *state, const sq_stream_run_t *r, sq_dev_stats_t *add)
{
    (void)add; /* no cycles; the device adds the work */
    csim_state_t *s = state;
    const uint32_t *p = r->pos;
    sq_accel_kernel(s->mem, r->cmd_addr, r->n_cmds, p[0], p[1], p[2], p[3], p[4], p[5], p[6],
                    p[7], 0);
    return 0;
}

const sq_level_ops_t sq_level_csim = {
    .name = "csim",
    .open = csim_open,
    .close = csim_close,
    .write = NULL,
    .read = NULL,
    .run = csim_run,
    .run_stream = csim_run_stream,
    .caps = SQ_LEVEL_CAP_VEC | SQ_LEVEL_CAP_GSCALE,
};
