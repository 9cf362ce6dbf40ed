/* sparq accelerator kernel's command processor: Vitis HLS C, also compiled
 * by gcc for the csim level and as OpenCL C for the opencl level, beside the
 * unit kernels (hls/gemm, hls/attn, hls/vec) whose per-descriptor functions
 * it calls.
 *
 *   for each descriptor of the stream, in order:
 *     fetch    SQ_DESC_BYTES from device memory into a private copy
 *     check    its opcode has a unit here and its patches target the body
 *              (the runtime checks both first; the kernel stops rather than
 *              run a descriptor it cannot, as the RTL's command processor)
 *     patch    sq_desc_apply_patches with the run's positions
 *     run      sq_gemm_exec / sq_attn_exec / sq_vec_exec (NOP: nothing)
 *
 * One descriptor at a time, so every dependency of the stream header holds
 * by construction; the RTL's command processor (rtl/cp/sq_cp.sv) overlaps
 * units where the dependencies allow, with the same results. The dispatch is
 * a switch, not a table of function pointers: neither Vitis HLS nor OpenCL C
 * has those. A unit is one case in cp_unit and one in cp_dispatch. The s_axilite
 * offsets are literals (Vitis HLS does not expand macros in pragmas); each
 * names its spec.h macro, and tests/test_cp.c checks them. */
#include "../common/sq_desc_fetch.h"
#include "sparq/desc.h"
#include "sparq/kernels.h"
#include "sparq/spec.h"

/* 1 when this kernel has a unit for opcode op (NOP: the fence). */
static int cp_unit(uint32_t op)
{
    return op == SQ_OP_NOP || op == SQ_OP_GEMM || op == SQ_OP_ATTN || op == SQ_OP_VEC;
}

static void cp_dispatch(SQ_GLOBAL uint8_t *mem, const uint8_t *desc)
{
    switch (sq_desc_opcode(desc)) {
    case SQ_OP_GEMM:
        sq_gemm_exec(mem, desc);
        break;
    case SQ_OP_ATTN:
        sq_attn_exec(mem, desc);
        break;
    case SQ_OP_VEC:
        sq_vec_exec(mem, desc);
        break;
    default: /* NOP: every earlier descriptor has finished */
        break;
    }
}

SQ_KERNEL void sq_accel_kernel(SQ_GLOBAL uint8_t *mem, uint64_t cmd_addr, uint32_t n_cmds,
                               uint32_t pos0, uint32_t pos1, uint32_t pos2, uint32_t pos3,
                               uint32_t pos4, uint32_t pos5, uint32_t pos6, uint32_t pos7,
                               uint64_t prof)
{
#pragma HLS INTERFACE m_axi port=mem offset=slave bundle=gmem
#pragma HLS INTERFACE s_axilite port=mem offset=0x10      /* SQ_REG_MEM_LO */
#pragma HLS INTERFACE s_axilite port=cmd_addr offset=0x1C /* SQ_REG_CMD_LO */
#pragma HLS INTERFACE s_axilite port=n_cmds offset=0x28   /* SQ_REG_NCMD */
#pragma HLS INTERFACE s_axilite port=pos0 offset=0x40     /* SQ_REG_POS0 */
#pragma HLS INTERFACE s_axilite port=pos1 offset=0x44     /* SQ_REG_POS0 + 4 */
#pragma HLS INTERFACE s_axilite port=pos2 offset=0x48     /* SQ_REG_POS0 + 8 */
#pragma HLS INTERFACE s_axilite port=pos3 offset=0x4C     /* SQ_REG_POS0 + 12 */
#pragma HLS INTERFACE s_axilite port=pos4 offset=0x50     /* SQ_REG_POS0 + 16 */
#pragma HLS INTERFACE s_axilite port=pos5 offset=0x54     /* SQ_REG_POS0 + 20 */
#pragma HLS INTERFACE s_axilite port=pos6 offset=0x58     /* SQ_REG_POS0 + 24 */
#pragma HLS INTERFACE s_axilite port=pos7 offset=0x5C     /* SQ_REG_POS0 + 28 */
#pragma HLS INTERFACE s_axilite port=prof offset=0x60     /* SQ_REG_PROF_LO */
#pragma HLS INTERFACE s_axilite port=return               /* ap_ctrl_hs at SQ_REG_CTRL */
    const uint32_t pos[SQ_RUN_POS] = {pos0, pos1, pos2, pos3, pos4, pos5, pos6, pos7};
    (void)prof; /* no cycle counter, no records */
cmd_loop:
    for (uint32_t i = 0; i < n_cmds; i++) {
        uint8_t desc[SQ_DESC_BYTES];
        sq_desc_fetch(mem, cmd_addr + (uint64_t)i * SQ_DESC_BYTES, desc);
        if (!cp_unit(sq_desc_opcode(desc)) || !sq_desc_patch_ok(sq_desc_word(desc, SQ_DESC_W_PATCH0)) ||
            !sq_desc_patch_ok(sq_desc_word(desc, SQ_DESC_W_PATCH1)))
            break;
        sq_desc_apply_patches(desc, pos);
        cp_dispatch(mem, desc);
    }
}
