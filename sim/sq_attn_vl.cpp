// Thin C++ glue between the Verilated attention unit and the C harness: copies the
// pins of sq_kernel_pins_t to and from the model's ports. No logic lives here.
#include "sq_attn_vl.h"

#include <cstdio>
#include <cstring>
#include <new>

#include "Vsq_attn_top.h"
#include "verilated.h"
#include "verilated_fst_c.h"

extern "C" {
#include "util/err.h"
}

namespace {

struct attn_vl {
    sq_kernel_t k;
    VerilatedContext ctx;
    Vsq_attn_top *top = nullptr;
    VerilatedFstC *fst = nullptr;
};

void eval(void *model, sq_kernel_pins_t *p, int clk, uint64_t time)
{
    attn_vl *g = static_cast<attn_vl *>(model);
    Vsq_attn_top *t = g->top;
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

void destroy(void *model)
{
    attn_vl *g = static_cast<attn_vl *>(model);
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

} // namespace

extern "C" int sq_attn_vl_create(const char *fst_path, sq_kernel_t **out)
{
    attn_vl *g = new (std::nothrow) attn_vl;
    if (!g)
        return sq_err(SQ_ERR_MEM, "rtl: out of host memory");
    g->ctx.traceEverOn(fst_path != nullptr);
    g->top = new (std::nothrow) Vsq_attn_top(&g->ctx, "sq_attn_top");
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
    g->k.eval = eval;
    g->k.destroy = destroy;
    *out = &g->k;
    return 0;
}
