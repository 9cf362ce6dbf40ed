/* The Verilated GEMM unit (rtl/gemm/sq_gemm_top.sv) as an sq_kernel_t. */
#ifndef SQ_GEMM_VL_H
#define SQ_GEMM_VL_H

#include "sq_sim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Creates the model (array geometry fixed at build time: SQ_ARRAY_ROWS x
 * SQ_ARRAY_COLS). With fst_path non-NULL every edge is dumped to that FST
 * file. Returns 0, SQ_ERR_MEM, or SQ_ERR_IO when the trace cannot be opened.
 * The caller owns *out (release with (*out)->destroy((*out)->model)). */
int sq_gemm_vl_create(const char *fst_path, sq_kernel_t **out);
/* The same unit Verilated at two other array sizes (R x C), so that the cycle
 * model's rules that depend on R and C are checked against RTL
 * (tests/test_cycle_model.c); unit kernel only, no accelerator kernel. */
int sq_gemm_vl_create_8x8(const char *fst_path, sq_kernel_t **out);
int sq_gemm_vl_create_4x8(const char *fst_path, sq_kernel_t **out);

#ifdef __cplusplus
}
#endif

#endif
