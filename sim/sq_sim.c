/* Cycle driver for Verilated kernels; contract in sq_sim.h. */
#include "sq_sim.h"

#include <inttypes.h>
#include <stdlib.h>

#include "sparq/spec.h"
#include "util/err.h"

/* An AXI4-Lite access that takes longer than this is a broken slave. */
#define REG_TIMEOUT 64u

struct sq_sim {
    sq_kernel_t *k;
    sq_mem_t *mem;
    int owns_mem;
    uint64_t cycles;
    uint64_t mem_base;
};

static void eval(sq_sim_t *s, int clk)
{
    s->k->eval(s->k->model, &s->k->pins, clk, 2 * s->cycles + (uint64_t)clk);
}

void sq_sim_tick(sq_sim_t *s)
{
    sq_mem_drive(s->mem, &s->k->pins.axi);
    eval(s, 0);
    sq_mem_commit(s->mem, &s->k->pins.axi);
    eval(s, 1);
    s->cycles++;
}

static int create(sq_kernel_t *k, sq_mem_t *mem, int owns_mem, sq_sim_t **out)
{
    sq_sim_t *s = calloc(1, sizeof *s);
    if (!s) {
        k->destroy(k->model);
        if (owns_mem)
            sq_mem_destroy(mem);
        return sq_err(SQ_ERR_MEM, "rtl: out of host memory");
    }
    s->k = k;
    s->mem = mem;
    s->owns_mem = owns_mem;
    k->pins.rst_n = 0;
    for (int i = 0; i < 4; i++)
        sq_sim_tick(s);
    k->pins.rst_n = 1;
    sq_sim_tick(s);
    *out = s;
    return 0;
}

int sq_sim_create(sq_kernel_t *k, sq_mem_t *mem, sq_sim_t **out)
{
    return create(k, mem, 1, out);
}

int sq_sim_create_shared(sq_kernel_t *k, sq_sim_t *owner, sq_sim_t **out)
{
    return create(k, owner->mem, 0, out);
}

void sq_sim_destroy(sq_sim_t *s)
{
    if (!s)
        return;
    s->k->destroy(s->k->model);
    if (s->owns_mem)
        sq_mem_destroy(s->mem);
    free(s);
}

sq_mem_t *sq_sim_mem(sq_sim_t *s)
{
    return s->mem;
}

uint64_t sq_sim_cycles(const sq_sim_t *s)
{
    return s->cycles;
}

void sq_sim_set_mem_base(sq_sim_t *s, uint64_t base)
{
    s->mem_base = base;
}

int sq_sim_reg_write(sq_sim_t *s, uint32_t off, uint32_t value)
{
    sq_axil_t *b = &s->k->pins.axil;
    b->awvalid = b->wvalid = 1;
    b->awaddr = (uint8_t)off;
    b->wdata = value;
    b->wstrb = 0xF;
    b->bready = 1;
    int aw = 0, w = 0, resp = 0;
    for (unsigned t = 0; t < REG_TIMEOUT && !resp; t++) {
        sq_mem_drive(s->mem, &s->k->pins.axi);
        eval(s, 0);
        if (b->awvalid && b->awready)
            aw = 1;
        if (b->wvalid && b->wready)
            w = 1;
        if (aw && w && b->bvalid)
            resp = 1;
        sq_mem_commit(s->mem, &s->k->pins.axi);
        eval(s, 1);
        s->cycles++;
        if (aw)
            b->awvalid = 0;
        if (w)
            b->wvalid = 0;
    }
    b->awvalid = b->wvalid = 0;
    b->bready = 0;
    if (!resp)
        return sq_err(SQ_ERR_DEV, "rtl: control register write at 0x%02x got no response", off);
    return 0;
}

int sq_sim_reg_read(sq_sim_t *s, uint32_t off, uint32_t *value)
{
    sq_axil_t *b = &s->k->pins.axil;
    b->arvalid = 1;
    b->araddr = (uint8_t)off;
    b->rready = 1;
    int ar = 0, got = 0;
    for (unsigned t = 0; t < REG_TIMEOUT && !got; t++) {
        sq_mem_drive(s->mem, &s->k->pins.axi);
        eval(s, 0);
        if (b->arvalid && b->arready)
            ar = 1;
        if (ar && b->rvalid) {
            *value = b->rdata;
            got = 1;
        }
        sq_mem_commit(s->mem, &s->k->pins.axi);
        eval(s, 1);
        s->cycles++;
        if (ar)
            b->arvalid = 0;
    }
    b->arvalid = 0;
    b->rready = 0;
    if (!got)
        return sq_err(SQ_ERR_DEV, "rtl: control register read at 0x%02x got no response", off);
    return 0;
}

static int read64(sq_sim_t *s, uint32_t lo, uint64_t *v)
{
    uint32_t l, h;
    int rc = sq_sim_reg_read(s, lo, &l);
    if (rc == 0)
        rc = sq_sim_reg_read(s, lo + 4, &h);
    if (rc == 0)
        *v = (uint64_t)h << 32 | l;
    return rc;
}

int sq_sim_run(sq_sim_t *s, uint64_t cmd_addr, uint32_t n_cmds, uint64_t max_cycles,
               sq_sim_run_t *out)
{
    uint64_t start = s->cycles;
    int rc = 0;
    uint32_t ctrl = 0;
    if ((rc = sq_sim_reg_read(s, SQ_REG_CTRL, &ctrl)) != 0)
        return rc;
    if (!(ctrl & SQ_CTRL_IDLE))
        return sq_err(SQ_ERR_DEV, "rtl: kernel is not idle (ctrl 0x%x)", ctrl);
    /* done is signalled on the interrupt pin, so the wait does not poll the bus */
    if ((rc = sq_sim_reg_write(s, SQ_REG_GIE, 1)) || (rc = sq_sim_reg_write(s, SQ_REG_IER, 1)) ||
        (rc = sq_sim_reg_write(s, SQ_REG_MEM_LO, (uint32_t)s->mem_base)) ||
        (rc = sq_sim_reg_write(s, SQ_REG_MEM_HI, (uint32_t)(s->mem_base >> 32))) ||
        (rc = sq_sim_reg_write(s, SQ_REG_CMD_LO, (uint32_t)cmd_addr)) ||
        (rc = sq_sim_reg_write(s, SQ_REG_CMD_HI, (uint32_t)(cmd_addr >> 32))) ||
        (rc = sq_sim_reg_write(s, SQ_REG_NCMD, n_cmds)) ||
        (rc = sq_sim_reg_write(s, SQ_REG_CTRL, SQ_CTRL_START)))
        return rc;
    uint64_t waited = 0;
    while (!s->k->pins.interrupt) {
        if (waited++ >= max_cycles)
            return sq_err(SQ_ERR_DEV, "rtl: kernel did not finish %u commands within %" PRIu64
                                      " cycles (hang or bound too small)", n_cmds, max_cycles);
        sq_sim_tick(s);
    }
    if ((rc = sq_sim_reg_read(s, SQ_REG_CTRL, &ctrl)) != 0)
        return rc;
    if (!(ctrl & SQ_CTRL_DONE))
        return sq_err(SQ_ERR_DEV, "rtl: interrupt without ap_done (ctrl 0x%x)", ctrl);
    if ((rc = sq_sim_reg_write(s, SQ_REG_ISR, 1)) != 0)
        return rc;
    if ((rc = read64(s, SQ_REG_CYCLES_LO, &out->cycles)) ||
        (rc = read64(s, SQ_REG_STALL_LO, &out->stall_cycles)))
        return rc;
    out->sim_cycles = s->cycles - start;
    const char *merr = sq_mem_error(s->mem);
    if (merr) {
        rc = sq_err(SQ_ERR_DEV, "rtl: %s", merr);
        sq_mem_clear_error(s->mem);
        return rc;
    }
    return 0;
}
