// The Verilated GEMM unit as an sq_kernel_t (the glue is sq_vl_kernel.hpp).
#include "sq_gemm_vl.h"

#include "Vsq_gemm_top.h"
#include "sq_vl_kernel.hpp"

namespace sq_vl {
template <> struct ports<Vsq_gemm_top> : unit_ports<Vsq_gemm_top> {};
} // namespace sq_vl

extern "C" int sq_gemm_vl_create(const char *fst_path, sq_kernel_t **out)
{
    return sq_vl::create<Vsq_gemm_top>("sq_gemm_top", fst_path, out);
}
