/* C signatures of the HLS kernel tops in hls/: synthesised by Vitis HLS,
 * compiled by gcc for the csim level and as OpenCL C kernels for the opencl
 * level (SQ_KERNEL, SQ_GLOBAL: spec.h), and the interface (m_axi memory plus the
 * s_axilite registers of include/sparq/spec.h) the RTL kernels reproduce. */
#ifndef SPARQ_KERNELS_H
#define SPARQ_KERNELS_H

#ifndef __OPENCL_C_VERSION__ /* spec.h gives OpenCL C its types */
#include <stdint.h>
#endif

#include "spec.h"

/* Executes n_cmds descriptors at byte address cmd_addr of mem. Descriptors
 * other than SQ_OP_GEMM are skipped; the host validates the stream first
 * (host/runtime/desc.h), the kernel trusts it. Registers: mem at
 * SQ_REG_MEM_LO, cmd_addr at SQ_REG_CMD_LO, n_cmds at SQ_REG_NCMD. */
SQ_KERNEL void sq_gemm_kernel(SQ_GLOBAL uint8_t *mem, uint64_t cmd_addr, uint32_t n_cmds);

/* The attention unit's top, same contract and registers: executes the
 * SQ_OP_ATTN descriptors and skips the rest. */
SQ_KERNEL void sq_attn_kernel(SQ_GLOBAL uint8_t *mem, uint64_t cmd_addr, uint32_t n_cmds);

/* The vector unit's top, same contract and registers: executes the
 * SQ_OP_VEC descriptors and skips the rest. */
SQ_KERNEL void sq_vec_kernel(SQ_GLOBAL uint8_t *mem, uint64_t cmd_addr, uint32_t n_cmds);

/* One patched descriptor on a unit: what each unit's top does per
 * descriptor of its opcode (others are ignored), and what the command
 * processor below calls. desc is a private copy (SQ_DESC_BYTES). */
void sq_gemm_exec(SQ_GLOBAL uint8_t *mem, const uint8_t *desc);
void sq_attn_exec(SQ_GLOBAL uint8_t *mem, const uint8_t *desc);
void sq_vec_exec(SQ_GLOBAL uint8_t *mem, const uint8_t *desc);

/* The accelerator kernel (hls/cp/sq_cp.c; the RTL's is rtl/cp/sq_accel_top):
 * runs the whole stream in one launch, fetching each descriptor in order,
 * adding the positions pos0..pos7 as its patches say (the stream header,
 * spec.h) and running it on its unit. One descriptor at a time, so every
 * dependency holds. A descriptor for no unit of this kernel, or with a patch
 * outside its body, stops the run there (the runtime rejects both before a
 * launch). prof is the profile-record address of the RTL kernel's register
 * map (SQ_REG_PROF_LO); this kernel counts no cycles and writes none.
 * Registers: those of the unit tops, pos_i at SQ_REG_POS0 + 4 i, prof at
 * SQ_REG_PROF_LO. */
SQ_KERNEL void sq_accel_kernel(SQ_GLOBAL uint8_t *mem, uint64_t cmd_addr, uint32_t n_cmds,
                               uint32_t pos0, uint32_t pos1, uint32_t pos2, uint32_t pos3,
                               uint32_t pos4, uint32_t pos5, uint32_t pos6, uint32_t pos7,
                               uint64_t prof);

/* Argument indices of the tops, in signature order: XRT sets kernel
 * arguments by index (host/runtime/level_xrt.c) and the xclbin metadata
 * (bitstreams/vitis/xclbingen.c) numbers them the same way. The unit tops
 * have the first three, the accelerator kernel all of them. */
enum {
    SQ_KARG_MEM = 0,
    SQ_KARG_CMD = 1,
    SQ_KARG_NCMD = 2,
    SQ_KARG_COUNT = 3,
    SQ_KARG_POS0 = 3, /* pos_i at SQ_KARG_POS0 + i */
    SQ_KARG_PROF = SQ_KARG_POS0 + SQ_RUN_POS,
    SQ_KARG_ACCEL_COUNT
};

#endif
