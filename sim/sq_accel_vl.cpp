// The Verilated accelerator kernel as an sq_kernel_t (the glue is sq_vl_kernel.hpp).
// Compiled once per Verilated build: SQ_ACCEL_U GEMM units, model class
// SQ_ACCEL_TOP (rtl/cp/cp.mk); the U == 1 build also holds the dispatcher.
#include "sq_accel_vl.h"

#include <cstdint>
#include <type_traits>

#ifndef SQ_ACCEL_U
#define SQ_ACCEL_U 1
#endif
#if SQ_ACCEL_U == 1
#include "Vsq_accel_top.h"
#define SQ_ACCEL_TOP Vsq_accel_top
#else
#include "Vsq_accel_top_u4.h"
#define SQ_ACCEL_TOP Vsq_accel_top_u4
#endif
#include "sq_vl_kernel.hpp"

#include "sparq/spec.h"

static_assert(SQ_ACCEL_PORTS + SQ_GEMM_CUS_MAX - 1 <= SQ_AXI_MAX_PORTS,
              "sq_kernel_pins_t holds a port for every GEMM unit");

namespace sq_vl {
// Bits [lsb, lsb + w) (w <= 64) of a packed port, whatever C++ type
// Verilator gave it for its width.
static inline uint64_t mask(unsigned w) { return w >= 64 ? ~0ull : (1ull << w) - 1; }
template <class T>
static typename std::enable_if<std::is_integral<T>::value, uint64_t>::type get(const T &v, unsigned lsb,
                                                                           unsigned w)
{
    return (static_cast<uint64_t>(v) >> lsb) & mask(w);
}
template <std::size_t N> static uint64_t get(const VlWide<N> &v, unsigned lsb, unsigned w)
{
    uint64_t r = 0;
    for (unsigned i = 0; i < w; i++)
        r |= static_cast<uint64_t>((v[(lsb + i) / 32] >> ((lsb + i) % 32)) & 1u) << i;
    return r;
}
template <class T>
static typename std::enable_if<std::is_integral<T>::value>::type put(T &v, unsigned lsb, unsigned w,
                                                                     uint64_t x)
{
    uint64_t m = mask(w) << lsb;
    v = static_cast<T>((static_cast<uint64_t>(v) & ~m) | ((x << lsb) & m));
}
template <std::size_t N> static void put(VlWide<N> &v, unsigned lsb, unsigned w, uint64_t x)
{
    for (unsigned i = 0; i < w; i++) {
        unsigned b = lsb + i;
        v[b / 32] = (v[b / 32] & ~(1u << (b % 32))) | (static_cast<uint32_t>((x >> i) & 1u) << (b % 32));
    }
}

template <> struct ports<SQ_ACCEL_TOP> {
    static const unsigned n = SQ_ACCEL_PORTS + SQ_ACCEL_U - 1;
    static void in(SQ_ACCEL_TOP *t, const sq_kernel_pins_t *p)
    {
        SQ_VL_AXI_IN(t, m_axi_cp_, p->axi[SQ_ACCEL_PORT_CP]);
        SQ_VL_AXI_IN(t, m_axi_attn_, p->axi[SQ_ACCEL_PORT_ATTN]);
        SQ_VL_AXI_IN(t, m_axi_vec_, p->axi[SQ_ACCEL_PORT_VEC]);
        for (unsigned u = 0; u < SQ_ACCEL_U; u++) {
            const sq_axi_t &a = p->axi[SQ_ACCEL_PORT_GEMM_CU(u)];
            put(t->m_axi_gemm_arready_i, u, 1, a.arready);
            put(t->m_axi_gemm_rvalid_i, u, 1, a.rvalid);
            put(t->m_axi_gemm_rlast_i, u, 1, a.rlast);
            put(t->m_axi_gemm_rresp_i, 2 * u, 2, a.rresp);
            std::memcpy(t->m_axi_gemm_rdata_i.data() + SQ_AXI_BEAT_WORDS * u, a.rdata, sizeof a.rdata);
            put(t->m_axi_gemm_awready_i, u, 1, a.awready);
            put(t->m_axi_gemm_wready_i, u, 1, a.wready);
            put(t->m_axi_gemm_bvalid_i, u, 1, a.bvalid);
            put(t->m_axi_gemm_bresp_i, 2 * u, 2, a.bresp);
        }
    }
    static void out(SQ_ACCEL_TOP *t, sq_kernel_pins_t *p)
    {
        SQ_VL_AXI_OUT(t, m_axi_cp_, p->axi[SQ_ACCEL_PORT_CP]);
        SQ_VL_AXI_OUT(t, m_axi_attn_, p->axi[SQ_ACCEL_PORT_ATTN]);
        SQ_VL_AXI_OUT(t, m_axi_vec_, p->axi[SQ_ACCEL_PORT_VEC]);
        for (unsigned u = 0; u < SQ_ACCEL_U; u++) {
            sq_axi_t &o = p->axi[SQ_ACCEL_PORT_GEMM_CU(u)];
            o.arvalid = static_cast<uint8_t>(get(t->m_axi_gemm_arvalid_o, u, 1));
            o.araddr = get(t->m_axi_gemm_araddr_o, 64 * u, 64);
            o.arlen = static_cast<uint8_t>(get(t->m_axi_gemm_arlen_o, 8 * u, 8));
            o.rready = static_cast<uint8_t>(get(t->m_axi_gemm_rready_o, u, 1));
            o.awvalid = static_cast<uint8_t>(get(t->m_axi_gemm_awvalid_o, u, 1));
            o.awaddr = get(t->m_axi_gemm_awaddr_o, 64 * u, 64);
            o.awlen = static_cast<uint8_t>(get(t->m_axi_gemm_awlen_o, 8 * u, 8));
            o.wvalid = static_cast<uint8_t>(get(t->m_axi_gemm_wvalid_o, u, 1));
            o.wlast = static_cast<uint8_t>(get(t->m_axi_gemm_wlast_o, u, 1));
            std::memcpy(o.wdata, t->m_axi_gemm_wdata_o.data() + SQ_AXI_BEAT_WORDS * u, sizeof o.wdata);
            o.wstrb = get(t->m_axi_gemm_wstrb_o, 64 * u, 64);
            o.bready = static_cast<uint8_t>(get(t->m_axi_gemm_bready_o, u, 1));
        }
    }
};
} // namespace sq_vl

#if SQ_ACCEL_U == 1
extern "C" int sq_accel_vl_create_u4(const char *fst_path, sq_kernel_t **out);

extern "C" int sq_accel_vl_create(unsigned cus, const char *fst_path, sq_kernel_t **out)
{
    if (cus == 1)
        return sq_vl::create<Vsq_accel_top>("sq_accel_top", fst_path, out);
    if (cus == SQ_ACCEL_VL_CUS_ALT)
        return sq_accel_vl_create_u4(fst_path, out);
    return sq_err(SQ_ERR_ARG, "rtl: the accelerator kernel is Verilated with 1 or %u GEMM units, "
                              "not %u (rtl/cp/cp.mk)", SQ_ACCEL_VL_CUS_ALT, cus);
}
#else
extern "C" int sq_accel_vl_create_u4(const char *fst_path, sq_kernel_t **out)
{
    return sq_vl::create<Vsq_accel_top_u4>("sq_accel_top", fst_path, out);
}
#endif
