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

/* What the vector unit does for one SQ_OP_VEC descriptor (desc: a private
 * copy of its SQ_DESC_BYTES bytes, patches applied): the body of
 * sq_vec_kernel's loop, for a command processor to dispatch to. */
void sq_vec_exec(SQ_GLOBAL uint8_t *mem, const uint8_t *desc);

/* Argument indices of the unit tops, in signature order: XRT sets kernel
 * arguments by index (host/runtime/level_xrt.c) and the xclbin metadata
 * (bitstreams/vitis/xclbingen.c) numbers them the same way. */
enum { SQ_KARG_MEM = 0, SQ_KARG_CMD = 1, SQ_KARG_NCMD = 2, SQ_KARG_COUNT = 3 };

#endif
