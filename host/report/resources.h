/* FPGA resources of the units as a function of their parameters, for design
 * sweeps. Fitted to our own synthesis runs (yosys 0.23, synth_xilinx -family
 * xcup), not to a vendor flow: see each figure's source. */
#ifndef SQ_RESOURCES_H
#define SQ_RESOURCES_H

#include <stdint.h>

/* DSP48E2 slices of the GEMM unit with an R x C array:
 *   R C     the int8 products: two rows of a column share two DSP48E2s
 *           (WP486 packing, four MACs; docs/gemm_rtl.md "DSP packing")
 *   2 R C   each PE's group-scale product (32 x 17 bits, two DSP48E2s)
 *   4 C     each output column's requantization lane (a 32x32 product)
 *   5       address products
 * which is how rtl/gemm maps under yosys (bench/results/gemm_synth.md). */
uint64_t sq_gemm_dsps(uint32_t rows, uint32_t cols);

/* DSP48E2 slices of the attention unit, whatever the GEMM array
 * (bench/results/attn.md, `make synth-attn`). */
#define SQ_ATTN_DSPS 47

#endif
