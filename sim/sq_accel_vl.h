/* The Verilated accelerator kernel (rtl/cp/sq_accel_top.sv: the command
 * processor and the unit cores) as an sq_kernel_t with 3 + U AXI4 masters:
 * port 0 the command processor's, port 1 GEMM unit 0's, port 2 the
 * attention unit's, port 3 the vector unit's, port 3 + c GEMM unit c's
 * (c = 1 .. U-1); sim/sq_mem.h times port p on channel p. */
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
    SQ_ACCEL_PORTS = 4 /* with one GEMM unit */
};
/* The port of GEMM unit c. */
#define SQ_ACCEL_PORT_GEMM_CU(c) ((c) ? (unsigned)SQ_ACCEL_PORT_VEC + (c) : (unsigned)SQ_ACCEL_PORT_GEMM)

/* GEMM unit counts with a Verilated build (rtl/cp/cp.mk, which reads these
 * numbers): the default kernel's 1 at the default array, and
 * SQ_ACCEL_VL_CUS_ALT at an SQ_ACCEL_VL_ALT_ROWS x SQ_ACCEL_VL_ALT_COLS
 * array. The units, their ports and the command processor's slots do not
 * depend on the array, and four 16x16 arrays were 44% of a clean
 * `make test`'s generated C++ (the model of any array runs on the model
 * level). */
#define SQ_ACCEL_VL_CUS_ALT 4u
#define SQ_ACCEL_VL_ALT_ROWS 8u
#define SQ_ACCEL_VL_ALT_COLS 8u

/* Creates the model with `cus` GEMM units (1 or SQ_ACCEL_VL_CUS_ALT; any
 * other count fails with SQ_ERR_ARG and a one-line message); otherwise the
 * contract of sq_gemm_vl_create (sq_gemm_vl.h). */
int sq_accel_vl_create(unsigned cus, const char *fst_path, sq_kernel_t **out);

#ifdef __cplusplus
}
#endif

#endif
