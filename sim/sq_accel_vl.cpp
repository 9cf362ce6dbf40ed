// The Verilated accelerator kernel as an sq_kernel_t (the glue is sq_vl_kernel.hpp).
#include "sq_accel_vl.h"

#include "Vsq_accel_top.h"
#include "sq_vl_kernel.hpp"

namespace sq_vl {
template <> struct ports<Vsq_accel_top> {
    static const unsigned n = SQ_ACCEL_PORTS;
    static void in(Vsq_accel_top *t, const sq_kernel_pins_t *p)
    {
        SQ_VL_AXI_IN(t, m_axi_cp_, p->axi[SQ_ACCEL_PORT_CP]);
        SQ_VL_AXI_IN(t, m_axi_gemm_, p->axi[SQ_ACCEL_PORT_GEMM]);
        SQ_VL_AXI_IN(t, m_axi_attn_, p->axi[SQ_ACCEL_PORT_ATTN]);
        SQ_VL_AXI_IN(t, m_axi_vec_, p->axi[SQ_ACCEL_PORT_VEC]);
    }
    static void out(Vsq_accel_top *t, sq_kernel_pins_t *p)
    {
        SQ_VL_AXI_OUT(t, m_axi_cp_, p->axi[SQ_ACCEL_PORT_CP]);
        SQ_VL_AXI_OUT(t, m_axi_gemm_, p->axi[SQ_ACCEL_PORT_GEMM]);
        SQ_VL_AXI_OUT(t, m_axi_attn_, p->axi[SQ_ACCEL_PORT_ATTN]);
        SQ_VL_AXI_OUT(t, m_axi_vec_, p->axi[SQ_ACCEL_PORT_VEC]);
    }
};
} // namespace sq_vl

extern "C" int sq_accel_vl_create(const char *fst_path, sq_kernel_t **out)
{
    return sq_vl::create<Vsq_accel_top>("sq_accel_top", fst_path, out);
}
