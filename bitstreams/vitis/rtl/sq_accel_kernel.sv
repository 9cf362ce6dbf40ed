// The accelerator (rtl/cp/sq_accel_top: command processor, U GEMM units,
// attention and vector units) as the Vitis RTL kernel sq_accel_kernel, named
// and registered as the HLS one (hls/cp/sq_cp.c; include/sparq/kernels.h).
// One AXI4 master interface per port of sq_accel_top:
//   m_axi_gmem   the command processor's (descriptors, profile records), on
//                the argument `mem` as the HLS kernel's only port
//   m_axi_gemm0 .. m_axi_gemm7   GEMM unit c's, for c < U; the others idle
//   m_axi_attn, m_axi_vec         the attention and vector units'
// A packaged IP's ports cannot depend on a parameter, so the kernel always has
// SqGemmCusMax GEMM interfaces and U (set at packaging, Makefile CUS) says how
// many have a unit; the idle ones never issue a request. Every port adds
// SQ_REG_MEM to its addresses (one flat device memory); the kernel.xml
// arguments of the other ports (xclbingen) exist because v++ wants one per
// interface.
`include "sq_vitis_ports.svh"

// GEMM unit c's interface m_axi_gemm<c> on slice c of the top's packed pins,
// or idle when the kernel has fewer units.
`define SQ_ACCEL_GEMM(c) \
  if (c < U) begin : g_gemm``c \
    assign m_axi_gemm``c``_arvalid = gemm_arvalid[c]; \
    assign gemm_arready[c] = m_axi_gemm``c``_arready; \
    assign m_axi_gemm``c``_araddr = gemm_araddr[64*c +: 64]; \
    assign m_axi_gemm``c``_arlen = gemm_arlen[8*c +: 8]; \
    assign m_axi_gemm``c``_arsize = gemm_arsize[3*c +: 3]; \
    assign m_axi_gemm``c``_arburst = gemm_arburst[2*c +: 2]; \
    assign gemm_rvalid[c] = m_axi_gemm``c``_rvalid; \
    assign m_axi_gemm``c``_rready = gemm_rready[c]; \
    assign gemm_rdata[512*c +: 512] = m_axi_gemm``c``_rdata; \
    assign gemm_rlast[c] = m_axi_gemm``c``_rlast; \
    assign gemm_rresp[2*c +: 2] = m_axi_gemm``c``_rresp; \
    assign m_axi_gemm``c``_awvalid = gemm_awvalid[c]; \
    assign gemm_awready[c] = m_axi_gemm``c``_awready; \
    assign m_axi_gemm``c``_awaddr = gemm_awaddr[64*c +: 64]; \
    assign m_axi_gemm``c``_awlen = gemm_awlen[8*c +: 8]; \
    assign m_axi_gemm``c``_awsize = gemm_awsize[3*c +: 3]; \
    assign m_axi_gemm``c``_awburst = gemm_awburst[2*c +: 2]; \
    assign m_axi_gemm``c``_wvalid = gemm_wvalid[c]; \
    assign gemm_wready[c] = m_axi_gemm``c``_wready; \
    assign m_axi_gemm``c``_wdata = gemm_wdata[512*c +: 512]; \
    assign m_axi_gemm``c``_wstrb = gemm_wstrb[64*c +: 64]; \
    assign m_axi_gemm``c``_wlast = gemm_wlast[c]; \
    assign gemm_bvalid[c] = m_axi_gemm``c``_bvalid; \
    assign m_axi_gemm``c``_bready = gemm_bready[c]; \
    assign gemm_bresp[2*c +: 2] = m_axi_gemm``c``_bresp; \
  end else begin : g_gemm``c \
    assign m_axi_gemm``c``_arvalid = 1'b0; \
    assign m_axi_gemm``c``_araddr = '0; \
    assign m_axi_gemm``c``_arlen = '0; \
    assign m_axi_gemm``c``_arsize = '0; \
    assign m_axi_gemm``c``_arburst = '0; \
    assign m_axi_gemm``c``_rready = 1'b1; \
    assign m_axi_gemm``c``_awvalid = 1'b0; \
    assign m_axi_gemm``c``_awaddr = '0; \
    assign m_axi_gemm``c``_awlen = '0; \
    assign m_axi_gemm``c``_awsize = '0; \
    assign m_axi_gemm``c``_awburst = '0; \
    assign m_axi_gemm``c``_wvalid = 1'b0; \
    assign m_axi_gemm``c``_wdata = '0; \
    assign m_axi_gemm``c``_wstrb = '0; \
    assign m_axi_gemm``c``_wlast = 1'b0; \
    assign m_axi_gemm``c``_bready = 1'b1; \
    /* an idle master never sees a handshake */ \
    logic unused_in; \
    assign unused_in = ^{m_axi_gemm``c``_arready, m_axi_gemm``c``_rvalid, \
                         m_axi_gemm``c``_rdata, m_axi_gemm``c``_rlast, \
                         m_axi_gemm``c``_rresp, m_axi_gemm``c``_awready, \
                         m_axi_gemm``c``_wready, m_axi_gemm``c``_bvalid, \
                         m_axi_gemm``c``_bresp}; \
  end

module sq_accel_kernel
#(
  parameter int unsigned R = sq_spec_pkg::SqArrayRows,
  parameter int unsigned C = sq_spec_pkg::SqArrayCols,
  // GEMM compute units (1 .. SqGemmCusMax)
  parameter int unsigned U = 1
) (
  input  logic         ap_clk,
  input  logic         ap_rst_n,
  `SQ_VITIS_M_AXI_PORTS(m_axi_gmem)
  `SQ_VITIS_M_AXI_PORTS(m_axi_gemm0)
  `SQ_VITIS_M_AXI_PORTS(m_axi_attn)
  `SQ_VITIS_M_AXI_PORTS(m_axi_vec)
  `SQ_VITIS_M_AXI_PORTS(m_axi_gemm1)
  `SQ_VITIS_M_AXI_PORTS(m_axi_gemm2)
  `SQ_VITIS_M_AXI_PORTS(m_axi_gemm3)
  `SQ_VITIS_M_AXI_PORTS(m_axi_gemm4)
  `SQ_VITIS_M_AXI_PORTS(m_axi_gemm5)
  `SQ_VITIS_M_AXI_PORTS(m_axi_gemm6)
  `SQ_VITIS_M_AXI_PORTS(m_axi_gemm7)
  `SQ_VITIS_CONTROL_PORTS
);
  // one interface per unit the top can have (the list above)
  if (sq_spec_pkg::SqGemmCusMax != 8 || U < 1 || U > sq_spec_pkg::SqGemmCusMax) begin : g_bad_u
    $error("sq_accel_kernel: U must be 1 .. 8, one m_axi_gemm<c> interface per unit");
  end

  // the top's GEMM pins, unit c's at [w*c +: w]
  logic [U-1:0]     gemm_arvalid, gemm_arready, gemm_rvalid, gemm_rready, gemm_rlast;
  logic [U-1:0]     gemm_awvalid, gemm_awready, gemm_wvalid, gemm_wready, gemm_wlast;
  logic [U-1:0]     gemm_bvalid, gemm_bready;
  logic [64*U-1:0]  gemm_araddr, gemm_awaddr, gemm_wstrb;
  logic [8*U-1:0]   gemm_arlen, gemm_awlen;
  logic [3*U-1:0]   gemm_arsize, gemm_awsize;
  logic [2*U-1:0]   gemm_arburst, gemm_awburst, gemm_rresp, gemm_bresp;
  logic [512*U-1:0] gemm_rdata, gemm_wdata;

  `SQ_ACCEL_GEMM(0)
  `SQ_ACCEL_GEMM(1)
  `SQ_ACCEL_GEMM(2)
  `SQ_ACCEL_GEMM(3)
  `SQ_ACCEL_GEMM(4)
  `SQ_ACCEL_GEMM(5)
  `SQ_ACCEL_GEMM(6)
  `SQ_ACCEL_GEMM(7)

  sq_accel_top #(.R(R), .C(C), .U(U)) u_accel (
    .clk_i(ap_clk), .rst_ni(ap_rst_n),
    `SQ_VITIS_M_AXI_CONN(m_axi_cp, m_axi_gmem)
    `SQ_VITIS_M_AXI_CONN(m_axi_gemm, gemm)
    `SQ_VITIS_M_AXI_CONN(m_axi_attn, m_axi_attn)
    `SQ_VITIS_M_AXI_CONN(m_axi_vec, m_axi_vec)
    `SQ_VITIS_CONTROL_CONN
    // a non-OKAY response is visible in simulation traces; a Vitis kernel
    // has no port for it
    /* verilator lint_off PINCONNECTEMPTY */
    .axi_err_o()
    /* verilator lint_on PINCONNECTEMPTY */
  );
endmodule
`undef SQ_ACCEL_GEMM
