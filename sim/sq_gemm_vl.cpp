// The Verilated GEMM unit as an sq_kernel_t (the glue is sq_vl_kernel.hpp).
// Built once per Verilated array size (sim/sim.mk): SQ_VL_TOP names the
// model class, SQ_VL_HDR its header and SQ_VL_FN the create function; the
// default is the SQ_ARRAY_ROWS x SQ_ARRAY_COLS build.
#include "sq_gemm_vl.h"

#ifndef SQ_VL_TOP
#define SQ_VL_TOP Vsq_gemm_top
#define SQ_VL_HDR "Vsq_gemm_top.h"
#define SQ_VL_FN sq_gemm_vl_create
#endif
#include SQ_VL_HDR
#include "sq_vl_kernel.hpp"

namespace sq_vl {
template <> struct ports<SQ_VL_TOP> : unit_ports<SQ_VL_TOP> {};
} // namespace sq_vl

extern "C" int SQ_VL_FN(const char *fst_path, sq_kernel_t **out)
{
    return sq_vl::create<SQ_VL_TOP>("sq_gemm_top", fst_path, out);
}
