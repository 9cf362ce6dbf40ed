/* The Verilated vector unit (rtl/common/sq_unit_top.sv with the vector core) as an sq_kernel_t. */
#ifndef SQ_VEC_VL_H
#define SQ_VEC_VL_H

#include "sq_sim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Creates the model. With fst_path non-NULL every edge is dumped to that FST
 * file. Returns 0, SQ_ERR_MEM, or SQ_ERR_IO when the trace cannot be opened.
 * The caller owns *out (release with (*out)->destroy((*out)->model)). */
int sq_vec_vl_create(const char *fst_path, sq_kernel_t **out);

#ifdef __cplusplus
}
#endif

#endif
