/* The Verilated accelerator kernel (rtl/cp/sq_accel_top.sv: the command
 * processor and the unit cores) as an sq_kernel_t with four AXI4 masters:
 * port 0 the command processor's, port 1 the GEMM unit's, port 2 the
 * attention unit's, port 3 the vector unit's (their channels: sim/sq_mem.h). */
#ifndef SQ_ACCEL_VL_H
#define SQ_ACCEL_VL_H

#include "sq_sim.h"

#ifdef __cplusplus
extern "C" {
#endif

enum {
    SQ_ACCEL_PORT_CP = 0,
    SQ_ACCEL_PORT_GEMM = 1,
    SQ_ACCEL_PORT_ATTN = 2,
    SQ_ACCEL_PORT_VEC = 3,
    SQ_ACCEL_PORTS = 4
};

/* Creates the model; the contract of sq_gemm_vl_create (sq_gemm_vl.h). */
int sq_accel_vl_create(const char *fst_path, sq_kernel_t **out);

#ifdef __cplusplus
}
#endif

#endif
