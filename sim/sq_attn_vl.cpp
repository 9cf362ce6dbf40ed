// The Verilated attention unit as an sq_kernel_t (the glue is sq_vl_kernel.hpp).
#include "sq_attn_vl.h"

#include "Vsq_attn_top.h"
#include "sq_vl_kernel.hpp"

namespace sq_vl {
template <> struct ports<Vsq_attn_top> : unit_ports<Vsq_attn_top> {};
} // namespace sq_vl

extern "C" int sq_attn_vl_create(const char *fst_path, sq_kernel_t **out)
{
    return sq_vl::create<Vsq_attn_top>("sq_attn_top", fst_path, out);
}
