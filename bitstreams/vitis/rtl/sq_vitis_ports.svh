// Port lists and connections of the Vitis RTL kernels, shared by
// sq_vitis_kernel.svh (one unit, one AXI4 master) and sq_accel_kernel.sv (the
// accelerator, 3 + SqGemmCusMax masters), so both spell the names Vivado's IP
// packager and v++ expect (m_axi_<bundle>_*, s_axi_control_*) the same way.
`ifndef SQ_VITIS_PORTS_SVH
`define SQ_VITIS_PORTS_SVH

// One 512-bit AXI4 master interface p (e.g. m_axi_gmem) in a port list.
`define SQ_VITIS_M_AXI_PORTS(p) \
  output logic         p``_arvalid, \
  input  logic         p``_arready, \
  output logic [63:0]  p``_araddr, \
  output logic [7:0]   p``_arlen, \
  output logic [2:0]   p``_arsize, \
  output logic [1:0]   p``_arburst, \
  input  logic         p``_rvalid, \
  output logic         p``_rready, \
  input  logic [511:0] p``_rdata, \
  input  logic         p``_rlast, \
  input  logic [1:0]   p``_rresp, \
  output logic         p``_awvalid, \
  input  logic         p``_awready, \
  output logic [63:0]  p``_awaddr, \
  output logic [7:0]   p``_awlen, \
  output logic [2:0]   p``_awsize, \
  output logic [1:0]   p``_awburst, \
  output logic         p``_wvalid, \
  input  logic         p``_wready, \
  output logic [511:0] p``_wdata, \
  output logic [63:0]  p``_wstrb, \
  output logic         p``_wlast, \
  input  logic         p``_bvalid, \
  output logic         p``_bready, \
  input  logic [1:0]   p``_bresp,

// The AXI4-Lite control slave and the interrupt, last in a port list.
`define SQ_VITIS_CONTROL_PORTS \
  input  logic         s_axi_control_awvalid, \
  output logic         s_axi_control_awready, \
  input  logic [7:0]   s_axi_control_awaddr, \
  input  logic         s_axi_control_wvalid, \
  output logic         s_axi_control_wready, \
  input  logic [31:0]  s_axi_control_wdata, \
  input  logic [3:0]   s_axi_control_wstrb, \
  output logic         s_axi_control_bvalid, \
  input  logic         s_axi_control_bready, \
  output logic [1:0]   s_axi_control_bresp, \
  input  logic         s_axi_control_arvalid, \
  output logic         s_axi_control_arready, \
  input  logic [7:0]   s_axi_control_araddr, \
  output logic         s_axi_control_rvalid, \
  input  logic         s_axi_control_rready, \
  output logic [31:0]  s_axi_control_rdata, \
  output logic [1:0]   s_axi_control_rresp, \
  output logic         interrupt

// A unit's AXI4 master u (its pins u_*_o / u_*_i, e.g. m_axi_cp) to the
// kernel's interface p, in an instance's connection list.
`define SQ_VITIS_M_AXI_CONN(u, p) \
  .u``_arvalid_o(p``_arvalid), .u``_arready_i(p``_arready), \
  .u``_araddr_o(p``_araddr), .u``_arlen_o(p``_arlen), \
  .u``_arsize_o(p``_arsize), .u``_arburst_o(p``_arburst), \
  .u``_rvalid_i(p``_rvalid), .u``_rready_o(p``_rready), \
  .u``_rdata_i(p``_rdata), .u``_rlast_i(p``_rlast), .u``_rresp_i(p``_rresp), \
  .u``_awvalid_o(p``_awvalid), .u``_awready_i(p``_awready), \
  .u``_awaddr_o(p``_awaddr), .u``_awlen_o(p``_awlen), \
  .u``_awsize_o(p``_awsize), .u``_awburst_o(p``_awburst), \
  .u``_wvalid_o(p``_wvalid), .u``_wready_i(p``_wready), \
  .u``_wdata_o(p``_wdata), .u``_wstrb_o(p``_wstrb), .u``_wlast_o(p``_wlast), \
  .u``_bvalid_i(p``_bvalid), .u``_bready_o(p``_bready), .u``_bresp_i(p``_bresp),

// The control slave and the interrupt, last in an instance's connection list
// (before axi_err_o, which a Vitis kernel has no port for).
`define SQ_VITIS_CONTROL_CONN \
  .s_axil_awvalid_i(s_axi_control_awvalid), .s_axil_awready_o(s_axi_control_awready), \
  .s_axil_awaddr_i(s_axi_control_awaddr), \
  .s_axil_wvalid_i(s_axi_control_wvalid), .s_axil_wready_o(s_axi_control_wready), \
  .s_axil_wdata_i(s_axi_control_wdata), .s_axil_wstrb_i(s_axi_control_wstrb), \
  .s_axil_bvalid_o(s_axi_control_bvalid), .s_axil_bready_i(s_axi_control_bready), \
  .s_axil_bresp_o(s_axi_control_bresp), \
  .s_axil_arvalid_i(s_axi_control_arvalid), .s_axil_arready_o(s_axi_control_arready), \
  .s_axil_araddr_i(s_axi_control_araddr), \
  .s_axil_rvalid_o(s_axi_control_rvalid), .s_axil_rready_i(s_axi_control_rready), \
  .s_axil_rdata_o(s_axi_control_rdata), .s_axil_rresp_o(s_axi_control_rresp), \
  .interrupt_o(interrupt),

`endif
