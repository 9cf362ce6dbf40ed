/* FPGA resources of the units as a function of their parameters, for design
 * sweeps. Fitted to our own synthesis runs (yosys 0.23, synth_xilinx -family
 * xcup), not to a vendor flow: see each figure's source. */
#ifndef SQ_RESOURCES_H
#define SQ_RESOURCES_H

#include <stdint.h>

/* DSP48E2 slices of the GEMM unit with an R x C array:
 *   2 R C   each PE's two int8 multipliers
 *   4 C     each output column's requantization lane (a 32x32 product)
 *   5       address products
 * which is how rtl/gemm maps under yosys, and exact at both sizes
 * synthesized (bench/results/gemm_synth.md: 8x8 165, 16x16 581), i.e. 2.27
 * DSPs per PE at 16x16 all told. A vendor flow that packs two int8 MACs
 * sharing an operand into one DSP48E2 (AMD WP486) would need about half the
 * PE term. */
uint64_t sq_gemm_dsps(uint32_t rows, uint32_t cols);

/* DSP48E2 slices of the attention unit, whatever the GEMM array
 * (bench/results/attn.md, `make synth-attn`). */
#define SQ_ATTN_DSPS 47

#endif
