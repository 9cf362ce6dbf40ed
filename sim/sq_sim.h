/* Cycle driver for a Verilated kernel with the Vitis RTL kernel interface:
 * ticks the clock with the device-memory model on the AXI4 master, drives the
 * AXI4-Lite control registers, and runs a command stream with the ap_ctrl_hs
 * handshake under a cycle bound. Kernel-agnostic: a unit only supplies an
 * sq_kernel_t (its thin C++ wrapper, e.g. sim/sq_gemm_vl.cpp). */
#ifndef SQ_SIM_H
#define SQ_SIM_H

#include <stdint.h>

#include "sparq/spec.h"
#include "sq_axi.h"
#include "sq_mem.h"

typedef struct sq_kernel {
    void *model;
    unsigned nports; /* AXI4 masters in pins.axi: 1 for a unit kernel */
    sq_kernel_pins_t pins;
    /* Sets the clock pin to clk, copies the input pins into the model,
     * evaluates it, copies the output pins back and (when tracing) dumps the
     * waveform at time. */
    void (*eval)(void *model, sq_kernel_pins_t *pins, int clk, uint64_t time);
    /* Finishes the model (final blocks, trace file) and frees it. */
    void (*destroy)(void *model);
} sq_kernel_t;

typedef struct sq_sim sq_sim_t;

/* Takes ownership of k (freed with its destroy) and mem, and resets the
 * kernel. Returns 0 or SQ_ERR_MEM; on failure both are freed. */
int sq_sim_create(sq_kernel_t *k, sq_mem_t *mem, sq_sim_t **out);
/* A second kernel on owner's memory (the device's units share one device
 * memory and run one at a time): takes ownership of k, not of the memory.
 * Destroy it before owner. Returns 0 or SQ_ERR_MEM; on failure k is freed. */
int sq_sim_create_shared(sq_kernel_t *k, sq_sim_t *owner, sq_sim_t **out);
/* Frees the kernel, the memory (unless shared) and the simulator; accepts
 * NULL. */
void sq_sim_destroy(sq_sim_t *s);

sq_mem_t *sq_sim_mem(sq_sim_t *s);
/* Cycles simulated since creation. */
uint64_t sq_sim_cycles(const sq_sim_t *s);

/* The value sq_sim_run writes to SQ_REG_MEM, which the kernel adds to every
 * device address: 0 by default (the rtl level's memory model starts at the
 * device's address 0); a card's XRT writes its buffer's address there. */
void sq_sim_set_mem_base(sq_sim_t *s, uint64_t base);

/* One clock cycle: memory drives, kernel settles, handshakes commit, edge. */
void sq_sim_tick(sq_sim_t *s);

/* An AXI4-Lite access that takes more cycles than this is a broken slave. */
#define SQ_SIM_REG_TIMEOUT 64u

/* AXI4-Lite accesses; fail with SQ_ERR_DEV if the slave does not answer
 * within SQ_SIM_REG_TIMEOUT cycles. */
int sq_sim_reg_write(sq_sim_t *s, uint32_t off, uint32_t value);
int sq_sim_reg_read(sq_sim_t *s, uint32_t off, uint32_t *value);

/* The run arguments of a kernel with a command processor (sq_accel_top):
 * the positions its patches add and the profile buffer (0: no records). */
typedef struct {
    const uint32_t *pos; /* SQ_RUN_POS entries */
    uint64_t prof;
} sq_cp_args_t;

typedef struct {
    uint64_t cycles;       /* kernel's cycle counter: ap_start to ap_done */
    uint64_t stall_cycles; /* kernel's memory-stall counter */
    uint64_t sim_cycles;   /* cycles simulated, including register traffic */
    /* read only from a kernel with a command processor: its status
     * (SQ_CP_ERR_*) and the descriptor it names, and per unit slot the busy
     * cycles, stall cycles and port bytes (SQ_REG_UNIT0 ...) */
    uint32_t cp_status, cp_err_desc;
    uint64_t unit_busy[SQ_CP_UNITS], unit_stall[SQ_CP_UNITS];
    uint64_t unit_rbytes[SQ_CP_UNITS], unit_wbytes[SQ_CP_UNITS];
} sq_sim_run_t;

/* Writes the command registers (and with cp, the positions and profile
 * address), starts the kernel, waits for ap_done (through the interrupt pin)
 * at most max_cycles, and reads the counters (with cp, the command
 * processor's too). A timeout or a memory-model error is SQ_ERR_DEV with a
 * one-line message; after a timeout the kernel must be recreated. */
int sq_sim_run_cp(sq_sim_t *s, uint64_t cmd_addr, uint32_t n_cmds, const sq_cp_args_t *cp,
                  uint64_t max_cycles, sq_sim_run_t *out);
/* sq_sim_run_cp without command-processor arguments: a unit kernel. */
int sq_sim_run(sq_sim_t *s, uint64_t cmd_addr, uint32_t n_cmds, uint64_t max_cycles,
               sq_sim_run_t *out);

/* One AXI4-Lite access on a kernel's control pins b, clock by clock:
 * step(ctx, 0) settles a cycle with the clock low (memory drives, kernel
 * evaluates), step(ctx, 1) commits it and raises the clock; the handshakes
 * are taken in between. Writes *value, or reads into it. Returns the cycles
 * taken, or 0 when the slave did not answer within SQ_SIM_REG_TIMEOUT. */
unsigned sq_axil_access(sq_axil_t *b, int write, uint32_t off, uint32_t *value,
                        void (*step)(void *ctx, int clk), void *ctx);

/* The host's side of one ap_ctrl_hs run, for every harness that reaches a
 * kernel's control registers its own way (sq_sim_run above; the SystemC
 * platform's host in sq_tlm.cpp, over TLM sockets), in two halves around the
 * wait for the interrupt pin, which each harness does its own way. */
typedef struct {
    const char *level; /* prefix of the error messages */
    void *ctx;
    /* 0, or an SQ_ERR_* code with its message set */
    int (*reg_write)(void *ctx, uint32_t off, uint32_t value);
    int (*reg_read)(void *ctx, uint32_t off, uint32_t *value);
} sq_ctrl_t;

/* Checks that the kernel is idle, enables the interrupt on ap_done, writes
 * the memory base and command registers (with cp non-NULL, the positions
 * and the profile address too) and sets ap_start. */
int sq_ctrl_start(const sq_ctrl_t *c, uint64_t mem_base, uint64_t cmd_addr, uint32_t n_cmds,
                  const sq_cp_args_t *cp);
/* Once the interrupt pin is high (irq nonzero) or max_cycles passed without
 * it (a timeout error): checks ap_done, clears the interrupt, reads the
 * counters into out (all but sim_cycles; with cp, the command processor's
 * status and per-unit counters too) and checks mem, the kernel's device
 * memory, for out-of-range accesses. */
int sq_ctrl_finish(const sq_ctrl_t *c, sq_mem_t *mem, int irq, uint32_t n_cmds,
                   const sq_cp_args_t *cp, uint64_t max_cycles, sq_sim_run_t *out);

#endif
