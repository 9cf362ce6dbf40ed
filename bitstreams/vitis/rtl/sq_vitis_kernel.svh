// Body of a Vitis RTL kernel around one sparq unit: the port names Vivado's
// IP packager and v++ expect (ap_clk, ap_rst_n, m_axi_gmem_*,
// s_axi_control_*, interrupt), wired straight to the unit's ports. The unit
// already has the Vitis interface (ap_ctrl_hs register map of
// include/sparq/spec.h, 64-bit 512-bit AXI4 master), so the wrapper adds no
// logic. Included by sq_gemm_kernel.sv and sq_attn_kernel.sv after they
// define SQ_VITIS_NAME (the kernel, named as the HLS top so one host path
// runs either) and SQ_VITIS_UNIT (the unit's top module and its parameters).
module `SQ_VITIS_NAME (
  input  logic         ap_clk,
  input  logic         ap_rst_n,
  output logic         m_axi_gmem_arvalid,
  input  logic         m_axi_gmem_arready,
  output logic [63:0]  m_axi_gmem_araddr,
  output logic [7:0]   m_axi_gmem_arlen,
  output logic [2:0]   m_axi_gmem_arsize,
  output logic [1:0]   m_axi_gmem_arburst,
  input  logic         m_axi_gmem_rvalid,
  output logic         m_axi_gmem_rready,
  input  logic [511:0] m_axi_gmem_rdata,
  input  logic         m_axi_gmem_rlast,
  input  logic [1:0]   m_axi_gmem_rresp,
  output logic         m_axi_gmem_awvalid,
  input  logic         m_axi_gmem_awready,
  output logic [63:0]  m_axi_gmem_awaddr,
  output logic [7:0]   m_axi_gmem_awlen,
  output logic [2:0]   m_axi_gmem_awsize,
  output logic [1:0]   m_axi_gmem_awburst,
  output logic         m_axi_gmem_wvalid,
  input  logic         m_axi_gmem_wready,
  output logic [511:0] m_axi_gmem_wdata,
  output logic [63:0]  m_axi_gmem_wstrb,
  output logic         m_axi_gmem_wlast,
  input  logic         m_axi_gmem_bvalid,
  output logic         m_axi_gmem_bready,
  input  logic [1:0]   m_axi_gmem_bresp,
  input  logic         s_axi_control_awvalid,
  output logic         s_axi_control_awready,
  input  logic [7:0]   s_axi_control_awaddr,
  input  logic         s_axi_control_wvalid,
  output logic         s_axi_control_wready,
  input  logic [31:0]  s_axi_control_wdata,
  input  logic [3:0]   s_axi_control_wstrb,
  output logic         s_axi_control_bvalid,
  input  logic         s_axi_control_bready,
  output logic [1:0]   s_axi_control_bresp,
  input  logic         s_axi_control_arvalid,
  output logic         s_axi_control_arready,
  input  logic [7:0]   s_axi_control_araddr,
  output logic         s_axi_control_rvalid,
  input  logic         s_axi_control_rready,
  output logic [31:0]  s_axi_control_rdata,
  output logic [1:0]   s_axi_control_rresp,
  output logic         interrupt
);
  `SQ_VITIS_UNIT u_unit (
    .clk_i(ap_clk), .rst_ni(ap_rst_n),
    .m_axi_arvalid_o(m_axi_gmem_arvalid), .m_axi_arready_i(m_axi_gmem_arready),
    .m_axi_araddr_o(m_axi_gmem_araddr), .m_axi_arlen_o(m_axi_gmem_arlen),
    .m_axi_arsize_o(m_axi_gmem_arsize), .m_axi_arburst_o(m_axi_gmem_arburst),
    .m_axi_rvalid_i(m_axi_gmem_rvalid), .m_axi_rready_o(m_axi_gmem_rready),
    .m_axi_rdata_i(m_axi_gmem_rdata), .m_axi_rlast_i(m_axi_gmem_rlast),
    .m_axi_rresp_i(m_axi_gmem_rresp),
    .m_axi_awvalid_o(m_axi_gmem_awvalid), .m_axi_awready_i(m_axi_gmem_awready),
    .m_axi_awaddr_o(m_axi_gmem_awaddr), .m_axi_awlen_o(m_axi_gmem_awlen),
    .m_axi_awsize_o(m_axi_gmem_awsize), .m_axi_awburst_o(m_axi_gmem_awburst),
    .m_axi_wvalid_o(m_axi_gmem_wvalid), .m_axi_wready_i(m_axi_gmem_wready),
    .m_axi_wdata_o(m_axi_gmem_wdata), .m_axi_wstrb_o(m_axi_gmem_wstrb),
    .m_axi_wlast_o(m_axi_gmem_wlast),
    .m_axi_bvalid_i(m_axi_gmem_bvalid), .m_axi_bready_o(m_axi_gmem_bready),
    .m_axi_bresp_i(m_axi_gmem_bresp),
    .s_axil_awvalid_i(s_axi_control_awvalid), .s_axil_awready_o(s_axi_control_awready),
    .s_axil_awaddr_i(s_axi_control_awaddr),
    .s_axil_wvalid_i(s_axi_control_wvalid), .s_axil_wready_o(s_axi_control_wready),
    .s_axil_wdata_i(s_axi_control_wdata), .s_axil_wstrb_i(s_axi_control_wstrb),
    .s_axil_bvalid_o(s_axi_control_bvalid), .s_axil_bready_i(s_axi_control_bready),
    .s_axil_bresp_o(s_axi_control_bresp),
    .s_axil_arvalid_i(s_axi_control_arvalid), .s_axil_arready_o(s_axi_control_arready),
    .s_axil_araddr_i(s_axi_control_araddr),
    .s_axil_rvalid_o(s_axi_control_rvalid), .s_axil_rready_i(s_axi_control_rready),
    .s_axil_rdata_o(s_axi_control_rdata), .s_axil_rresp_o(s_axi_control_rresp),
    .interrupt_o(interrupt),
    // a non-OKAY response is visible in simulation traces; a Vitis kernel
    // has no port for it
    /* verilator lint_off PINCONNECTEMPTY */
    .axi_err_o()
    /* verilator lint_on PINCONNECTEMPTY */
  );
endmodule
`undef SQ_VITIS_NAME
`undef SQ_VITIS_UNIT
