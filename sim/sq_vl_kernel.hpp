// Thin C++ glue between a Verilated kernel and the C harness, shared by every
// kernel: copies the pins of sq_kernel_pins_t to and from the model's ports.
// The tops have the same Vitis kernel interface (AXI4 masters, one AXI4-Lite
// slave), so one template serves them all; each names its masters in a
// ports<> specialisation. No logic lives here. Included by sq_<top>_vl.cpp
// after its Vsq_<top>_top.h.
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

// The AXI4 master pins of one port, into and out of a model whose ports are
// named PRE##arvalid_o, PRE##arready_i, ... (m_axi_ for a unit kernel).
#define SQ_VL_AXI_IN(t, pre, a)                                                   \
    do {                                                                        \
        (t)->pre##arready_i = (a).arready;                                      \
        (t)->pre##rvalid_i = (a).rvalid;                                        \
        (t)->pre##rlast_i = (a).rlast;                                          \
        (t)->pre##rresp_i = (a).rresp;                                          \
        std::memcpy((t)->pre##rdata_i.data(), (a).rdata, sizeof (a).rdata);     \
        (t)->pre##awready_i = (a).awready;                                      \
        (t)->pre##wready_i = (a).wready;                                        \
        (t)->pre##bvalid_i = (a).bvalid;                                        \
        (t)->pre##bresp_i = (a).bresp;                                          \
    } while (0)
#define SQ_VL_AXI_OUT(t, pre, o)                                                  \
    do {                                                                        \
        (o).arvalid = (t)->pre##arvalid_o;                                      \
        (o).araddr = (t)->pre##araddr_o;                                        \
        (o).arlen = (t)->pre##arlen_o;                                          \
        (o).rready = (t)->pre##rready_o;                                        \
        (o).awvalid = (t)->pre##awvalid_o;                                      \
        (o).awaddr = (t)->pre##awaddr_o;                                        \
        (o).awlen = (t)->pre##awlen_o;                                          \
        (o).wvalid = (t)->pre##wvalid_o;                                        \
        (o).wlast = (t)->pre##wlast_o;                                          \
        std::memcpy((o).wdata, (t)->pre##wdata_o.data(), sizeof (o).wdata);     \
        (o).wstrb = (t)->pre##wstrb_o;                                          \
        (o).bready = (t)->pre##bready_o;                                        \
    } while (0)

// A top's AXI4 masters, in port order (sq_mem.h): each sq_<top>_vl.cpp
// specialises it before calling create().
template <class Top> struct ports;

// The single m_axi_ port of a unit kernel.
template <class Top> struct unit_ports {
    static const unsigned n = 1;
    static void in(Top *t, const sq_kernel_pins_t *p) { SQ_VL_AXI_IN(t, m_axi_, p->axi[0]); }
    static void out(Top *t, sq_kernel_pins_t *p) { SQ_VL_AXI_OUT(t, m_axi_, p->axi[0]); }
};

template <class Top> void eval(void *m, sq_kernel_pins_t *p, int clk, uint64_t time)
{
    model<Top> *g = static_cast<model<Top> *>(m);
    Top *t = g->top;
    const sq_axil_t &l = p->axil;
    t->clk_i = clk;
    t->rst_ni = p->rst_n;
    ports<Top>::in(t, p);
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
    ports<Top>::out(t, p);
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

/* Attaches f to t when Top was Verilated with --trace-fst (it then has
 * trace()); false for a build without waveforms. */
template <class Top>
auto attach_fst(Top *t, VerilatedFstC *f, int) -> decltype(t->trace(f, 99), bool())
{
    t->trace(f, 99);
    return true;
}
template <class Top> bool attach_fst(Top *, VerilatedFstC *, long)
{
    return false;
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
        if (!attach_fst(g->top, g->fst, 0)) {
            std::remove(fst_path);
            delete g->fst;
            delete g->top;
            delete g;
            return sq_err(SQ_ERR_ARG, "rtl: this %s build has no waveforms (Verilated without "
                          "--trace-fst): drop --fst", name);
        }
        g->fst->open(fst_path);
    }
    std::memset(&g->k.pins, 0, sizeof g->k.pins);
    g->k.model = g;
    g->k.nports = ports<Top>::n;
    g->k.eval = eval<Top>;
    g->k.destroy = destroy<Top>;
    *out = &g->k;
    return 0;
}

} // namespace sq_vl

#endif
