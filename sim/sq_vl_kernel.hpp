// Thin C++ glue between a Verilated kernel and the C harness, shared by every
// unit: copies the pins of sq_kernel_pins_t to and from the model's ports. The
// units' tops have the same Vitis kernel interface (one AXI4 master, one
// AXI4-Lite slave), so one template serves them all. No logic lives here.
// Included by sq_<unit>_vl.cpp after its Vsq_<unit>_top.h.
#ifndef SQ_VL_KERNEL_HPP
#define SQ_VL_KERNEL_HPP

#include <cstdio>
#include <cstring>
#include <new>

#include "sq_sim.h"
#include "verilated.h"
#include "verilated_fst_c.h"

extern "C" {
#include "util/err.h"
}

namespace sq_vl {

template <class Top> struct model {
    sq_kernel_t k;
    VerilatedContext ctx;
    Top *top = nullptr;
    VerilatedFstC *fst = nullptr;
};

template <class Top> void eval(void *m, sq_kernel_pins_t *p, int clk, uint64_t time)
{
    model<Top> *g = static_cast<model<Top> *>(m);
    Top *t = g->top;
    const sq_axi_t &a = p->axi;
    const sq_axil_t &l = p->axil;
    t->clk_i = clk;
    t->rst_ni = p->rst_n;
    t->m_axi_arready_i = a.arready;
    t->m_axi_rvalid_i = a.rvalid;
    t->m_axi_rlast_i = a.rlast;
    t->m_axi_rresp_i = a.rresp;
    std::memcpy(t->m_axi_rdata_i.data(), a.rdata, sizeof a.rdata);
    t->m_axi_awready_i = a.awready;
    t->m_axi_wready_i = a.wready;
    t->m_axi_bvalid_i = a.bvalid;
    t->m_axi_bresp_i = a.bresp;
    t->s_axil_awvalid_i = l.awvalid;
    t->s_axil_awaddr_i = l.awaddr;
    t->s_axil_wvalid_i = l.wvalid;
    t->s_axil_wdata_i = l.wdata;
    t->s_axil_wstrb_i = l.wstrb;
    t->s_axil_bready_i = l.bready;
    t->s_axil_arvalid_i = l.arvalid;
    t->s_axil_araddr_i = l.araddr;
    t->s_axil_rready_i = l.rready;
    t->eval();
    if (g->fst)
        g->fst->dump(time);
    sq_axi_t &o = p->axi;
    o.arvalid = t->m_axi_arvalid_o;
    o.araddr = t->m_axi_araddr_o;
    o.arlen = t->m_axi_arlen_o;
    o.rready = t->m_axi_rready_o;
    o.awvalid = t->m_axi_awvalid_o;
    o.awaddr = t->m_axi_awaddr_o;
    o.awlen = t->m_axi_awlen_o;
    o.wvalid = t->m_axi_wvalid_o;
    o.wlast = t->m_axi_wlast_o;
    std::memcpy(o.wdata, t->m_axi_wdata_o.data(), sizeof o.wdata);
    o.wstrb = t->m_axi_wstrb_o;
    o.bready = t->m_axi_bready_o;
    sq_axil_t &lo = p->axil;
    lo.awready = t->s_axil_awready_o;
    lo.wready = t->s_axil_wready_o;
    lo.bvalid = t->s_axil_bvalid_o;
    lo.arready = t->s_axil_arready_o;
    lo.rvalid = t->s_axil_rvalid_o;
    lo.rdata = t->s_axil_rdata_o;
    p->interrupt = t->interrupt_o;
}

template <class Top> void destroy(void *m)
{
    model<Top> *g = static_cast<model<Top> *>(m);
    if (!g)
        return;
    g->top->final();
    if (g->fst) {
        g->fst->close();
        delete g->fst;
    }
    delete g->top;
    delete g;
}

/* Creates a Verilated kernel Top (instance name `name`) as an sq_kernel_t:
 * the contract of sq_gemm_vl_create in sq_gemm_vl.h. */
template <class Top> int create(const char *name, const char *fst_path, sq_kernel_t **out)
{
    model<Top> *g = new (std::nothrow) model<Top>;
    if (!g)
        return sq_err(SQ_ERR_MEM, "rtl: out of host memory");
    g->ctx.traceEverOn(fst_path != nullptr);
    g->top = new (std::nothrow) Top(&g->ctx, name);
    if (!g->top) {
        delete g;
        return sq_err(SQ_ERR_MEM, "rtl: out of host memory");
    }
    if (fst_path) {
        FILE *probe = std::fopen(fst_path, "wb");
        if (!probe) {
            delete g->top;
            delete g;
            return sq_err(SQ_ERR_IO, "rtl: cannot write waveform file %s", fst_path);
        }
        std::fclose(probe);
        g->fst = new VerilatedFstC;
        g->top->trace(g->fst, 99);
        g->fst->open(fst_path);
    }
    std::memset(&g->k.pins, 0, sizeof g->k.pins);
    g->k.model = g;
    g->k.eval = eval<Top>;
    g->k.destroy = destroy<Top>;
    *out = &g->k;
    return 0;
}

} // namespace sq_vl

#endif
