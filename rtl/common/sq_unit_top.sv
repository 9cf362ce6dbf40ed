// A unit as a standalone kernel with the Vitis RTL kernel interface: one
// 512-bit AXI4 master to device memory and the AXI4-Lite ap_ctrl_hs control
// slave (sq_ctrl, the register map of every unit), sq_fetch handing the
// descriptors of opcode Opcode one at a time to the unit's core, the same core
// sq_accel_top puts behind its command processor. Opcode picks the core:
// SqOpAttn sq_attn_core (include/sparq/attn.h), SqOpVec sq_vec_core
// (include/sparq/vec.h); a build lists only its unit's core, the other branch
// is never elaborated. The GEMM unit has its own top (sq_gemm_top, sized by R
// and C). Without a command processor the control block's registers past its
// own map are not used: ext_rdata is tied to 0 and the write port left open.
// Verilated and synthesized per unit with Opcode set (rtl/<unit>/<unit>.mk).
module sq_unit_top #(
  parameter int unsigned Opcode = sq_spec_pkg::SqOpAttn
) (
  input  logic         clk_i,
  input  logic         rst_ni,
  // AXI4 master: read address / data
  output logic         m_axi_arvalid_o,
  input  logic         m_axi_arready_i,
  output logic [63:0]  m_axi_araddr_o,
  output logic [7:0]   m_axi_arlen_o,
  output logic [2:0]   m_axi_arsize_o,
  output logic [1:0]   m_axi_arburst_o,
  input  logic         m_axi_rvalid_i,
  output logic         m_axi_rready_o,
  input  logic [511:0] m_axi_rdata_i,
  input  logic         m_axi_rlast_i,
  input  logic [1:0]   m_axi_rresp_i,
  // AXI4 master: write address / data / response
  output logic         m_axi_awvalid_o,
  input  logic         m_axi_awready_i,
  output logic [63:0]  m_axi_awaddr_o,
  output logic [7:0]   m_axi_awlen_o,
  output logic [2:0]   m_axi_awsize_o,
  output logic [1:0]   m_axi_awburst_o,
  output logic         m_axi_wvalid_o,
  input  logic         m_axi_wready_i,
  output logic [511:0] m_axi_wdata_o,
  output logic [63:0]  m_axi_wstrb_o,
  output logic         m_axi_wlast_o,
  input  logic         m_axi_bvalid_i,
  output logic         m_axi_bready_o,
  input  logic [1:0]   m_axi_bresp_i,
  // AXI4-Lite control slave
  input  logic         s_axil_awvalid_i,
  output logic         s_axil_awready_o,
  input  logic [7:0]   s_axil_awaddr_i,
  input  logic         s_axil_wvalid_i,
  output logic         s_axil_wready_o,
  input  logic [31:0]  s_axil_wdata_i,
  input  logic [3:0]   s_axil_wstrb_i,
  output logic         s_axil_bvalid_o,
  input  logic         s_axil_bready_i,
  output logic [1:0]   s_axil_bresp_o,
  input  logic         s_axil_arvalid_i,
  output logic         s_axil_arready_o,
  input  logic [7:0]   s_axil_araddr_i,
  output logic         s_axil_rvalid_o,
  input  logic         s_axil_rready_i,
  output logic [31:0]  s_axil_rdata_o,
  output logic [1:0]   s_axil_rresp_o,
  output logic         interrupt_o,
  // sticky: a read or write response was not OKAY
  output logic         axi_err_o
);
  logic          start, done, stall, fetch, f_arvalid;
  logic [63:0]   cmd_addr, mem_base, f_araddr, c_araddr;
  logic [31:0]   ncmd;
  logic          cmd_valid, cmd_ready, cmd_done, c_arvalid, c_rready;
  logic [7:0]    c_arlen;
  logic [1023:0] cmd;
  logic          err_q, err_d;

  sq_ctrl u_ctrl (
    .clk_i, .rst_ni,
    .awvalid_i(s_axil_awvalid_i), .awready_o(s_axil_awready_o), .awaddr_i(s_axil_awaddr_i),
    .wvalid_i(s_axil_wvalid_i), .wready_o(s_axil_wready_o), .wdata_i(s_axil_wdata_i),
    .wstrb_i(s_axil_wstrb_i), .bvalid_o(s_axil_bvalid_o), .bready_i(s_axil_bready_i),
    .bresp_o(s_axil_bresp_o), .arvalid_i(s_axil_arvalid_i), .arready_o(s_axil_arready_o),
    .araddr_i(s_axil_araddr_i), .rvalid_o(s_axil_rvalid_o), .rready_i(s_axil_rready_i),
    .rdata_o(s_axil_rdata_o), .rresp_o(s_axil_rresp_o), .interrupt_o,
    .start_o(start), .done_i(done), .stall_i(stall),
    .cmd_addr_o(cmd_addr), .ncmd_o(ncmd), .mem_base_o(mem_base),
    .ext_rdata_i(32'd0), .ext_raddr_o(), .ext_we_o(), .ext_waddr_o(), .ext_wdata_o(),
    .ext_wmask_o()
  );

  sq_fetch #(.Opcode(Opcode)) u_fetch (
    .clk_i, .rst_ni, .start_i(start), .cmd_addr_i(cmd_addr), .ncmd_i(ncmd), .done_o(done),
    .fetch_o(fetch), .arvalid_o(f_arvalid), .arready_i(m_axi_arready_i), .araddr_o(f_araddr),
    .rvalid_i(m_axi_rvalid_i), .rdata_i(m_axi_rdata_i),
    .cmd_valid_o(cmd_valid), .cmd_ready_i(cmd_ready), .cmd_o(cmd), .cmd_done_i(cmd_done)
  );

  // the cores share one command and memory interface (docs/accelerator.md)
  `define SQ_UNIT_CORE_PORTS \
    .clk_i, .rst_ni, \
    .cmd_valid_i(cmd_valid), .cmd_ready_o(cmd_ready), .cmd_i(cmd), .cmd_done_o(cmd_done), \
    .idle_o(), .stall_o(stall), .mem_base_i(mem_base), \
    .arvalid_o(c_arvalid), .arready_i(m_axi_arready_i && !fetch), .araddr_o(c_araddr), \
    .arlen_o(c_arlen), .rvalid_i(m_axi_rvalid_i && !fetch), .rready_o(c_rready), \
    .rdata_i(m_axi_rdata_i), .rlast_i(m_axi_rlast_i), \
    .awvalid_o(m_axi_awvalid_o), .awready_i(m_axi_awready_i), .awaddr_o(m_axi_awaddr_o), \
    .awlen_o(m_axi_awlen_o), .wvalid_o(m_axi_wvalid_o), .wready_i(m_axi_wready_i), \
    .wdata_o(m_axi_wdata_o), .wstrb_o(m_axi_wstrb_o), .wlast_o(m_axi_wlast_o), \
    .bvalid_i(m_axi_bvalid_i), .bready_o(m_axi_bready_o)
  if (Opcode == sq_spec_pkg::SqOpAttn) begin : g_attn
    sq_attn_core u_core (`SQ_UNIT_CORE_PORTS);
  end else if (Opcode == sq_spec_pkg::SqOpVec) begin : g_vec
    sq_vec_core u_core (`SQ_UNIT_CORE_PORTS);
  end
  `undef SQ_UNIT_CORE_PORTS

  // the fetcher owns the read channel between commands, the core during one
  assign m_axi_arvalid_o = fetch ? f_arvalid : c_arvalid;
  assign m_axi_araddr_o = fetch ? mem_base + f_araddr : c_araddr;
  assign m_axi_arlen_o = fetch ? 8'd1 : c_arlen;
  assign m_axi_rready_o = fetch ? 1'b1 : c_rready;
  // 64-byte beats, incrementing bursts
  assign m_axi_arsize_o = 3'b110;
  assign m_axi_arburst_o = 2'b01;
  assign m_axi_awsize_o = 3'b110;
  assign m_axi_awburst_o = 2'b01;
  assign axi_err_o = err_q;

  always_comb begin
    err_d = err_q;
    if ((m_axi_rvalid_i && m_axi_rready_o && m_axi_rresp_i != 2'b00) ||
        (m_axi_bvalid_i && m_axi_bready_o && m_axi_bresp_i != 2'b00)) begin
      err_d = 1'b1;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      err_q <= 1'b0;
    end else begin
      err_q <= err_d;
    end
  end
endmodule
