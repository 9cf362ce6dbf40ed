/* Cycle driver for Verilated kernels; contract in sq_sim.h. */
#include "sq_sim.h"

#include <inttypes.h>
#include <stdlib.h>

#include "sparq/spec.h"
#include "util/err.h"

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
    sq_mem_drive(s->mem, s->k->pins.axi, s->k->nports);
    eval(s, 0);
    sq_mem_commit(s->mem, s->k->pins.axi, s->k->nports);
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

unsigned sq_axil_access(sq_axil_t *b, int write, uint32_t off, uint32_t *value,
                        void (*step)(void *ctx, int clk), void *ctx)
{
    if (write) {
        b->awvalid = b->wvalid = 1;
        b->awaddr = (uint8_t)off;
        b->wdata = *value;
        b->wstrb = 0xF;
        b->bready = 1;
    } else {
        b->arvalid = 1;
        b->araddr = (uint8_t)off;
        b->rready = 1;
    }
    int addr = 0, data = 0, done = 0;
    unsigned t = 0;
    while (t < SQ_SIM_REG_TIMEOUT && !done) {
        step(ctx, 0);
        if (write) {
            addr |= b->awvalid && b->awready;
            data |= b->wvalid && b->wready;
            done = addr && data && b->bvalid;
        } else {
            addr |= b->arvalid && b->arready;
            if (addr && b->rvalid) {
                *value = b->rdata;
                done = 1;
            }
        }
        step(ctx, 1);
        t++;
        if (addr)
            b->awvalid = b->arvalid = 0;
        if (data)
            b->wvalid = 0;
    }
    b->awvalid = b->wvalid = b->bready = b->arvalid = b->rready = 0;
    return done ? t : 0;
}

/* sq_sim_tick in the two halves sq_axil_access samples between. */
static void sim_step(void *ctx, int clk)
{
    sq_sim_t *s = ctx;
    if (clk == 0) {
        sq_mem_drive(s->mem, s->k->pins.axi, s->k->nports);
        eval(s, 0);
    } else {
        sq_mem_commit(s->mem, s->k->pins.axi, s->k->nports);
        eval(s, 1);
        s->cycles++;
    }
}

int sq_sim_reg_write(sq_sim_t *s, uint32_t off, uint32_t value)
{
    if (!sq_axil_access(&s->k->pins.axil, 1, off, &value, sim_step, s))
        return sq_err(SQ_ERR_DEV, "rtl: control register write at 0x%02x got no response", off);
    return 0;
}

int sq_sim_reg_read(sq_sim_t *s, uint32_t off, uint32_t *value)
{
    if (!sq_axil_access(&s->k->pins.axil, 0, off, value, sim_step, s))
        return sq_err(SQ_ERR_DEV, "rtl: control register read at 0x%02x got no response", off);
    return 0;
}

static int read64(const sq_ctrl_t *c, uint32_t lo, uint64_t *v)
{
    uint32_t l, h;
    int rc = c->reg_read(c->ctx, lo, &l);
    if (rc == 0)
        rc = c->reg_read(c->ctx, lo + 4, &h);
    if (rc == 0)
        *v = (uint64_t)h << 32 | l;
    return rc;
}

int sq_ctrl_start(const sq_ctrl_t *c, uint64_t mem_base, uint64_t cmd_addr, uint32_t n_cmds,
                  const sq_cp_args_t *cp)
{
    int rc = 0;
    uint32_t ctrl = 0;
    if ((rc = c->reg_read(c->ctx, SQ_REG_CTRL, &ctrl)) != 0)
        return rc;
    if (!(ctrl & SQ_CTRL_IDLE))
        return sq_err(SQ_ERR_DEV, "%s: kernel is not idle (ctrl 0x%x)", c->level, ctrl);
    /* done is signalled on the interrupt pin, so the wait does not poll the bus */
    if ((rc = c->reg_write(c->ctx, SQ_REG_GIE, 1)) || (rc = c->reg_write(c->ctx, SQ_REG_IER, 1)) ||
        (rc = c->reg_write(c->ctx, SQ_REG_MEM_LO, (uint32_t)mem_base)) ||
        (rc = c->reg_write(c->ctx, SQ_REG_MEM_HI, (uint32_t)(mem_base >> 32))) ||
        (rc = c->reg_write(c->ctx, SQ_REG_CMD_LO, (uint32_t)cmd_addr)) ||
        (rc = c->reg_write(c->ctx, SQ_REG_CMD_HI, (uint32_t)(cmd_addr >> 32))) ||
        (rc = c->reg_write(c->ctx, SQ_REG_NCMD, n_cmds)))
        return rc;
    for (unsigned i = 0; cp && i < SQ_RUN_POS; i++)
        if ((rc = c->reg_write(c->ctx, SQ_REG_POS0 + 4 * i, cp->pos[i])))
            return rc;
    if (cp && ((rc = c->reg_write(c->ctx, SQ_REG_PROF_LO, (uint32_t)cp->prof)) ||
               (rc = c->reg_write(c->ctx, SQ_REG_PROF_HI, (uint32_t)(cp->prof >> 32)))))
        return rc;
    return c->reg_write(c->ctx, SQ_REG_CTRL, SQ_CTRL_START);
}

int sq_ctrl_finish(const sq_ctrl_t *c, sq_mem_t *mem, int irq, uint32_t n_cmds,
                   const sq_cp_args_t *cp, uint64_t max_cycles, sq_sim_run_t *out)
{
    if (!irq)
        return sq_err(SQ_ERR_DEV, "%s: kernel did not finish %u commands within %" PRIu64
                                  " cycles (hang or bound too small)", c->level, n_cmds,
                      max_cycles);
    int rc = 0;
    uint32_t ctrl = 0;
    if ((rc = c->reg_read(c->ctx, SQ_REG_CTRL, &ctrl)) != 0)
        return rc;
    if (!(ctrl & SQ_CTRL_DONE))
        return sq_err(SQ_ERR_DEV, "%s: interrupt without ap_done (ctrl 0x%x)", c->level, ctrl);
    if ((rc = c->reg_write(c->ctx, SQ_REG_ISR, 1)) != 0)
        return rc;
    if ((rc = read64(c, SQ_REG_CYCLES_LO, &out->cycles)) ||
        (rc = read64(c, SQ_REG_STALL_LO, &out->stall_cycles)))
        return rc;
    if (cp) {
        if ((rc = c->reg_read(c->ctx, SQ_REG_CP_STATUS, &out->cp_status)) ||
            (rc = c->reg_read(c->ctx, SQ_REG_CP_ERR_DESC, &out->cp_err_desc)))
            return rc;
        for (unsigned u = 0; u < SQ_CP_UNITS; u++) {
            uint32_t at = SQ_REG_UNIT0 + u * SQ_REG_UNIT_STRIDE;
            if ((rc = read64(c, at + SQ_REG_UNIT_BUSY, &out->unit_busy[u])) ||
                (rc = read64(c, at + SQ_REG_UNIT_STALL, &out->unit_stall[u])) ||
                (rc = read64(c, at + SQ_REG_UNIT_RBYTES, &out->unit_rbytes[u])) ||
                (rc = read64(c, at + SQ_REG_UNIT_WBYTES, &out->unit_wbytes[u])))
                return rc;
        }
    }
    const char *merr = sq_mem_error(mem);
    if (merr) {
        rc = sq_err(SQ_ERR_DEV, "%s: %s", c->level, merr);
        sq_mem_clear_error(mem);
        return rc;
    }
    return 0;
}

static int sim_reg_write(void *s, uint32_t off, uint32_t value)
{
    return sq_sim_reg_write(s, off, value);
}

static int sim_reg_read(void *s, uint32_t off, uint32_t *value)
{
    return sq_sim_reg_read(s, off, value);
}

int sq_sim_run_cp(sq_sim_t *s, uint64_t cmd_addr, uint32_t n_cmds, const sq_cp_args_t *cp,
                  uint64_t max_cycles, sq_sim_run_t *out)
{
    const sq_ctrl_t c = {"rtl", s, sim_reg_write, sim_reg_read};
    uint64_t start = s->cycles;
    *out = (sq_sim_run_t){0};
    int rc = sq_ctrl_start(&c, s->mem_base, cmd_addr, n_cmds, cp);
    if (rc == 0) {
        for (uint64_t waited = 0; !s->k->pins.interrupt && waited < max_cycles; waited++)
            sq_sim_tick(s);
        rc = sq_ctrl_finish(&c, s->mem, s->k->pins.interrupt, n_cmds, cp, max_cycles, out);
    }
    out->sim_cycles = s->cycles - start;
    return rc;
}

int sq_sim_run(sq_sim_t *s, uint64_t cmd_addr, uint32_t n_cmds, uint64_t max_cycles,
               sq_sim_run_t *out)
{
    return sq_sim_run_cp(s, cmd_addr, n_cmds, NULL, max_cycles, out);
}
