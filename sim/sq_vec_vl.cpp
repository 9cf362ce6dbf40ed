// The Verilated vector unit as an sq_kernel_t (the glue is sq_vl_kernel.hpp).
#include "sq_vec_vl.h"

#include "Vsq_vec_top.h"
#include "sq_vl_kernel.hpp"

namespace sq_vl {
template <> struct ports<Vsq_vec_top> : unit_ports<Vsq_vec_top> {};
} // namespace sq_vl

extern "C" int sq_vec_vl_create(const char *fst_path, sq_kernel_t **out)
{
    return sq_vl::create<Vsq_vec_top>("sq_vec_top", fst_path, out);
}
