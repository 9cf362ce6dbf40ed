/* The tlm level's SystemC TLM-2.0 platform (docs/tlm.md) behind a C API: the
 * Verilated kernels (the accelerator kernel with the command processor, and
 * the GEMM and attention units' own) as clocked modules whose AXI4 masters
 * reach the modeled device memory (sq_mem.h) through TLM initiator sockets,
 * and a host whose AXI4-Lite register accesses reach each kernel through a
 * target socket with b_transport.
 *
 * SystemC elaborates once per process, so the platform is built on the first
 * open and kept; each open installs new kernels and memory into it and resets
 * them. One tlm device may be open at a time. */
#ifndef SQ_TLM_H
#define SQ_TLM_H

#include <stddef.h>
#include <stdint.h>

#include "sq_sim.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { SQ_TLM_GEMM, SQ_TLM_ATTN, SQ_TLM_ACCEL, SQ_TLM_VEC };

typedef struct sq_tlm sq_tlm_t;

/* Installs mem and the four kernels (ownership passes to the platform, also
 * on failure), clocks them at clock_mhz and resets them. SQ_ERR_DEV when a
 * tlm device is open already or SystemC fails. */
int sq_tlm_open(double clock_mhz, sq_mem_t *mem, sq_kernel_t *gemm, sq_kernel_t *attn,
                sq_kernel_t *vec, sq_kernel_t *accel, sq_tlm_t **out);
/* Frees the kernels and the memory; the platform stays for the next open.
 * Accepts NULL. */
void sq_tlm_close(sq_tlm_t *t);

/* Host access to device memory, through the memory's TLM debug transport. */
int sq_tlm_write(sq_tlm_t *t, uint64_t addr, const void *src, size_t n);
int sq_tlm_read(sq_tlm_t *t, uint64_t addr, void *dst, size_t n);

/* sq_sim_run's contract for one unit (SQ_TLM_GEMM, SQ_TLM_ATTN or SQ_TLM_VEC), with the
 * host's register accesses as TLM transactions. */
int sq_tlm_run(sq_tlm_t *t, int unit, uint64_t cmd_addr, uint32_t n_cmds, uint64_t max_cycles,
               sq_sim_run_t *out);
/* sq_sim_run_cp's contract on the accelerator kernel. */
int sq_tlm_run_cp(sq_tlm_t *t, uint64_t cmd_addr, uint32_t n_cmds, const sq_cp_args_t *cp,
                  uint64_t max_cycles, sq_sim_run_t *out);

#ifdef __cplusplus
}
#endif

#endif
