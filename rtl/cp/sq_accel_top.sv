// sparq accelerator kernel: the command processor (sq_cp) and the unit cores
// behind one Vitis RTL kernel interface, so a whole command stream (a token's
// layers, every unit) is one launch (docs/accelerator.md).
//
//   s_axil   one AXI4-Lite ap_ctrl_hs slave: the spec.h map (sq_ctrl), plus
//            the run's positions (SQ_REG_POS0..7), the profile buffer
//            address (SQ_REG_PROF), the command processor's status and the
//            per-unit busy, stall and byte counters (SQ_REG_UNIT0 ...)
//   m_axi_cp    descriptor fetch and profile records (sq_cp)
//   m_axi_gemm  the U GEMM cores (compute units), each through its prefetch
//               buffer: one AXI4 master per unit, packed [U] (unit u's bits
//               at [w*u +: w]), for U == 1 the single-port kernel's pins
//   m_axi_attn  the attention core (slot 1)
//   m_axi_vec   the vector core (slot 2)
//
// The interrupt, ap_done and the cycle counter are sq_ctrl's; SQ_REG_STALL
// counts cycles in which any unit waited on memory. Device addresses are
// offsets from SQ_REG_MEM on every port.
module sq_accel_top
#(
  parameter int unsigned R = sq_spec_pkg::SqArrayRows,
  parameter int unsigned C = sq_spec_pkg::SqArrayCols,
  // GEMM compute units (1 .. SqGemmCusMax)
  parameter int unsigned U = 1
) (
  input  logic         clk_i,
  input  logic         rst_ni,
  // AXI4 master: command processor (descriptors, profile records)
  output logic         m_axi_cp_arvalid_o,
  input  logic         m_axi_cp_arready_i,
  output logic [63:0]  m_axi_cp_araddr_o,
  output logic [7:0]   m_axi_cp_arlen_o,
  output logic [2:0]   m_axi_cp_arsize_o,
  output logic [1:0]   m_axi_cp_arburst_o,
  input  logic         m_axi_cp_rvalid_i,
  output logic         m_axi_cp_rready_o,
  input  logic [511:0] m_axi_cp_rdata_i,
  input  logic         m_axi_cp_rlast_i,
  input  logic [1:0]   m_axi_cp_rresp_i,
  output logic         m_axi_cp_awvalid_o,
  input  logic         m_axi_cp_awready_i,
  output logic [63:0]  m_axi_cp_awaddr_o,
  output logic [7:0]   m_axi_cp_awlen_o,
  output logic [2:0]   m_axi_cp_awsize_o,
  output logic [1:0]   m_axi_cp_awburst_o,
  output logic         m_axi_cp_wvalid_o,
  input  logic         m_axi_cp_wready_i,
  output logic [511:0] m_axi_cp_wdata_o,
  output logic [63:0]  m_axi_cp_wstrb_o,
  output logic         m_axi_cp_wlast_o,
  input  logic         m_axi_cp_bvalid_i,
  output logic         m_axi_cp_bready_o,
  input  logic [1:0]   m_axi_cp_bresp_i,
  // AXI4 masters: GEMM units, unit u's pins at [w*u +: w]
  output logic [U-1:0]     m_axi_gemm_arvalid_o,
  input  logic [U-1:0]     m_axi_gemm_arready_i,
  output logic [64*U-1:0]  m_axi_gemm_araddr_o,
  output logic [8*U-1:0]   m_axi_gemm_arlen_o,
  output logic [3*U-1:0]   m_axi_gemm_arsize_o,
  output logic [2*U-1:0]   m_axi_gemm_arburst_o,
  input  logic [U-1:0]     m_axi_gemm_rvalid_i,
  output logic [U-1:0]     m_axi_gemm_rready_o,
  input  logic [512*U-1:0] m_axi_gemm_rdata_i,
  input  logic [U-1:0]     m_axi_gemm_rlast_i,
  input  logic [2*U-1:0]   m_axi_gemm_rresp_i,
  output logic [U-1:0]     m_axi_gemm_awvalid_o,
  input  logic [U-1:0]     m_axi_gemm_awready_i,
  output logic [64*U-1:0]  m_axi_gemm_awaddr_o,
  output logic [8*U-1:0]   m_axi_gemm_awlen_o,
  output logic [3*U-1:0]   m_axi_gemm_awsize_o,
  output logic [2*U-1:0]   m_axi_gemm_awburst_o,
  output logic [U-1:0]     m_axi_gemm_wvalid_o,
  input  logic [U-1:0]     m_axi_gemm_wready_i,
  output logic [512*U-1:0] m_axi_gemm_wdata_o,
  output logic [64*U-1:0]  m_axi_gemm_wstrb_o,
  output logic [U-1:0]     m_axi_gemm_wlast_o,
  input  logic [U-1:0]     m_axi_gemm_bvalid_i,
  output logic [U-1:0]     m_axi_gemm_bready_o,
  input  logic [2*U-1:0]   m_axi_gemm_bresp_i,
  // AXI4 master: attention unit
  output logic         m_axi_attn_arvalid_o,
  input  logic         m_axi_attn_arready_i,
  output logic [63:0]  m_axi_attn_araddr_o,
  output logic [7:0]   m_axi_attn_arlen_o,
  output logic [2:0]   m_axi_attn_arsize_o,
  output logic [1:0]   m_axi_attn_arburst_o,
  input  logic         m_axi_attn_rvalid_i,
  output logic         m_axi_attn_rready_o,
  input  logic [511:0] m_axi_attn_rdata_i,
  input  logic         m_axi_attn_rlast_i,
  input  logic [1:0]   m_axi_attn_rresp_i,
  output logic         m_axi_attn_awvalid_o,
  input  logic         m_axi_attn_awready_i,
  output logic [63:0]  m_axi_attn_awaddr_o,
  output logic [7:0]   m_axi_attn_awlen_o,
  output logic [2:0]   m_axi_attn_awsize_o,
  output logic [1:0]   m_axi_attn_awburst_o,
  output logic         m_axi_attn_wvalid_o,
  input  logic         m_axi_attn_wready_i,
  output logic [511:0] m_axi_attn_wdata_o,
  output logic [63:0]  m_axi_attn_wstrb_o,
  output logic         m_axi_attn_wlast_o,
  input  logic         m_axi_attn_bvalid_i,
  output logic         m_axi_attn_bready_o,
  input  logic [1:0]   m_axi_attn_bresp_i,
  // AXI4 master: vector unit
  output logic         m_axi_vec_arvalid_o,
  input  logic         m_axi_vec_arready_i,
  output logic [63:0]  m_axi_vec_araddr_o,
  output logic [7:0]   m_axi_vec_arlen_o,
  output logic [2:0]   m_axi_vec_arsize_o,
  output logic [1:0]   m_axi_vec_arburst_o,
  input  logic         m_axi_vec_rvalid_i,
  output logic         m_axi_vec_rready_o,
  input  logic [511:0] m_axi_vec_rdata_i,
  input  logic         m_axi_vec_rlast_i,
  input  logic [1:0]   m_axi_vec_rresp_i,
  output logic         m_axi_vec_awvalid_o,
  input  logic         m_axi_vec_awready_i,
  output logic [63:0]  m_axi_vec_awaddr_o,
  output logic [7:0]   m_axi_vec_awlen_o,
  output logic [2:0]   m_axi_vec_awsize_o,
  output logic [1:0]   m_axi_vec_awburst_o,
  output logic         m_axi_vec_wvalid_o,
  input  logic         m_axi_vec_wready_i,
  output logic [511:0] m_axi_vec_wdata_o,
  output logic [63:0]  m_axi_vec_wstrb_o,
  output logic         m_axi_vec_wlast_o,
  input  logic         m_axi_vec_bvalid_i,
  output logic         m_axi_vec_bready_o,
  input  logic [1:0]   m_axi_vec_bresp_i,
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
  // sticky: a read or write response on any port was not OKAY
  output logic         axi_err_o
);
  // unit slots: GEMM unit 0, attention, vector, then GEMM units 1 .. U-1
  localparam int unsigned NU = sq_spec_pkg::SqCpUnits + U - 1;
  localparam int unsigned UGemm = 0;
  localparam int unsigned UAttn = 1;
  localparam int unsigned UVec = 2;

  // ---- control registers -------------------------------------------------------------
  logic        start, done, any_stall;
  logic [63:0] cmd_addr, mem_base;
  logic [31:0] ncmd;
  logic [31:0] ext_rdata, ext_wdata, ext_wmask;
  logic [7:0]  ext_raddr, ext_waddr;
  logic        ext_we;
  sq_ctrl u_ctrl (
    .clk_i, .rst_ni,
    .awvalid_i(s_axil_awvalid_i), .awready_o(s_axil_awready_o), .awaddr_i(s_axil_awaddr_i),
    .wvalid_i(s_axil_wvalid_i), .wready_o(s_axil_wready_o), .wdata_i(s_axil_wdata_i),
    .wstrb_i(s_axil_wstrb_i), .bvalid_o(s_axil_bvalid_o), .bready_i(s_axil_bready_i),
    .bresp_o(s_axil_bresp_o), .arvalid_i(s_axil_arvalid_i), .arready_o(s_axil_arready_o),
    .araddr_i(s_axil_araddr_i), .rvalid_o(s_axil_rvalid_o), .rready_i(s_axil_rready_i),
    .rdata_o(s_axil_rdata_o), .rresp_o(s_axil_rresp_o), .interrupt_o,
    .start_o(start), .done_i(done), .stall_i(any_stall),
    .cmd_addr_o(cmd_addr), .ncmd_o(ncmd), .mem_base_o(mem_base),
    .ext_rdata_i(ext_rdata), .ext_raddr_o(ext_raddr), .ext_we_o(ext_we),
    .ext_waddr_o(ext_waddr), .ext_wdata_o(ext_wdata), .ext_wmask_o(ext_wmask)
  );

  // positions and profile address (read/write), status and counters (read)
  logic [31:0]   pos_q [sq_spec_pkg::SqRunPos];
  logic [255:0]  pos_flat;
  logic [63:0]   prof_q;
  logic [7:0]    status;
  logic [31:0]   err_desc;
  logic [64*NU-1:0] busy, stall, rbytes, wbytes;
  logic [63:0]   cp_rbytes, cp_wbytes;
  always_comb begin
    for (int unsigned i = 0; i < sq_spec_pkg::SqRunPos; i++) begin
      pos_flat[32*i +: 32] = pos_q[i];
    end
  end

  // the register window has the three units' counters; slot 0's (GEMM) add
  // up every GEMM unit's
  localparam int unsigned NW = sq_spec_pkg::SqCpUnits;
  logic [64*NW-1:0] w_busy, w_stall, w_rbytes, w_wbytes;
  always_comb begin
    w_busy = busy[64*NW-1:0];
    w_stall = stall[64*NW-1:0];
    w_rbytes = rbytes[64*NW-1:0];
    w_wbytes = wbytes[64*NW-1:0];
    for (int unsigned s = NW; s < NU; s++) begin
      w_busy[63:0] = w_busy[63:0] + busy[64*s +: 64];
      w_stall[63:0] = w_stall[63:0] + stall[64*s +: 64];
      w_rbytes[63:0] = w_rbytes[63:0] + rbytes[64*s +: 64];
      w_wbytes[63:0] = w_wbytes[63:0] + wbytes[64*s +: 64];
    end
  end
  logic [63:0] ctr;   // the 64-bit counter a read in the unit window addresses
  logic [1:0]  ctr_unit;
  always_comb begin
    ctr_unit = 2'((ext_raddr - sq_spec_pkg::SqRegUnit0) >> 5);
    unique case (ext_raddr[4:3])
      2'd0: ctr = w_busy[64*ctr_unit +: 64];
      2'd1: ctr = w_stall[64*ctr_unit +: 64];
      2'd2: ctr = w_rbytes[64*ctr_unit +: 64];
      default: ctr = w_wbytes[64*ctr_unit +: 64];
    endcase
    ext_rdata = 32'd0;
    if (ext_raddr >= sq_spec_pkg::SqRegPos0 && ext_raddr < sq_spec_pkg::SqRegProfLo) begin
      ext_rdata = pos_q[3'((ext_raddr - sq_spec_pkg::SqRegPos0) >> 2)];
    end else if (ext_raddr >= sq_spec_pkg::SqRegUnit0 &&
                 32'(ext_raddr) < 32'(sq_spec_pkg::SqRegUnit0) + NW * sq_spec_pkg::SqRegUnitStride) begin
      ext_rdata = ext_raddr[2] ? ctr[63:32] : ctr[31:0];
    end else begin
      unique case (ext_raddr)
        sq_spec_pkg::SqRegProfLo: ext_rdata = prof_q[31:0];
        sq_spec_pkg::SqRegProfHi: ext_rdata = prof_q[63:32];
        sq_spec_pkg::SqRegCpStatus: ext_rdata = {24'd0, status};
        sq_spec_pkg::SqRegCpErrDesc: ext_rdata = err_desc;
        sq_spec_pkg::SqRegCpRbytesLo: ext_rdata = cp_rbytes[31:0];
        sq_spec_pkg::SqRegCpRbytesHi: ext_rdata = cp_rbytes[63:32];
        sq_spec_pkg::SqRegCpWbytesLo: ext_rdata = cp_wbytes[31:0];
        sq_spec_pkg::SqRegCpWbytesHi: ext_rdata = cp_wbytes[63:32];
        default: ext_rdata = 32'd0;
      endcase
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      for (int unsigned i = 0; i < sq_spec_pkg::SqRunPos; i++) begin
        pos_q[i] <= 32'd0;
      end
      prof_q <= 64'd0;
    end else if (ext_we) begin
      for (int unsigned i = 0; i < sq_spec_pkg::SqRunPos; i++) begin
        if (32'(ext_waddr) == 32'(sq_spec_pkg::SqRegPos0) + 4 * i) begin
          pos_q[i] <= (pos_q[i] & ~ext_wmask) | (ext_wdata & ext_wmask);
        end
      end
      if (ext_waddr == sq_spec_pkg::SqRegProfLo) begin
        prof_q[31:0] <= (prof_q[31:0] & ~ext_wmask) | (ext_wdata & ext_wmask);
      end
      if (ext_waddr == sq_spec_pkg::SqRegProfHi) begin
        prof_q[63:32] <= (prof_q[63:32] & ~ext_wmask) | (ext_wdata & ext_wmask);
      end
    end
  end

  function automatic logic [6:0] popcount(input logic [63:0] v);
    popcount = 7'd0;
    for (int unsigned i = 0; i < 64; i++) begin
      popcount = popcount + 7'(v[i]);
    end
  endfunction

  // ---- command processor -------------------------------------------------------------
  logic [NU-1:0]      cmd_valid, cmd_ready, cmd_done, unit_stall, unit_rbeat;
  logic [1024*NU-1:0] cmd;
  logic [7*NU-1:0]    unit_wbytes;
  logic [U-1:0]       pf_start;
  logic [1024*U-1:0]  pf_desc;
  sq_cp #(.NGemm(U), .NUnits(NU), .Present('1)) u_cp (
    .clk_i, .rst_ni,
    .start_i(start), .cmd_addr_i(cmd_addr), .ncmd_i(ncmd), .pos_i(pos_flat), .prof_i(prof_q),
    .mem_base_i(mem_base), .done_o(done), .status_o(status), .err_desc_o(err_desc),
    .busy_o(busy), .stall_o(stall), .rbytes_o(rbytes), .wbytes_o(wbytes),
    .cp_rbytes_o(cp_rbytes), .cp_wbytes_o(cp_wbytes),
    .cmd_valid_o(cmd_valid), .cmd_ready_i(cmd_ready), .cmd_o(cmd), .cmd_done_i(cmd_done),
    .unit_stall_i(unit_stall), .unit_rbeat_i(unit_rbeat), .unit_wbytes_i(unit_wbytes),
    .pf_start_o(pf_start), .pf_desc_o(pf_desc),
    .arvalid_o(m_axi_cp_arvalid_o), .arready_i(m_axi_cp_arready_i), .araddr_o(m_axi_cp_araddr_o),
    .arlen_o(m_axi_cp_arlen_o), .rvalid_i(m_axi_cp_rvalid_i), .rready_o(m_axi_cp_rready_o),
    .rdata_i(m_axi_cp_rdata_i), .rlast_i(m_axi_cp_rlast_i),
    .awvalid_o(m_axi_cp_awvalid_o), .awready_i(m_axi_cp_awready_i), .awaddr_o(m_axi_cp_awaddr_o),
    .awlen_o(m_axi_cp_awlen_o), .wvalid_o(m_axi_cp_wvalid_o), .wready_i(m_axi_cp_wready_i),
    .wdata_o(m_axi_cp_wdata_o), .wstrb_o(m_axi_cp_wstrb_o), .wlast_o(m_axi_cp_wlast_o),
    .bvalid_i(m_axi_cp_bvalid_i), .bready_o(m_axi_cp_bready_o)
  );
  assign any_stall = |unit_stall;

  // Each core's clock runs while it holds a command or is offered one: an idle
  // core is quiet (its cmd_done came after its last write response), so no
  // edge is lost, and with its clock stopped it costs neither power nor
  // simulation time.
  logic [NU-1:0] core_clk;
  for (genvar u = 0; u < NU; u++) begin : g_gate
    sq_clk_gate u_gate (.clk_i, .en_i(cmd_valid[u] || !cmd_ready[u]), .clk_o(core_clk[u]));
  end

  // ---- GEMM units: slot 0 and slots NW .. NU-1, each core behind its prefetch buffer --
  for (genvar u = 0; u < U; u++) begin : g_gemm
    localparam int unsigned S = u == 0 ? UGemm : NW + u - 1;
    logic         g_arvalid, g_arready, g_rvalid, g_rready, g_rlast;
    logic [63:0]  g_araddr;
    logic [7:0]   g_arlen;
    logic [511:0] g_rdata;
    sq_gemm_core #(.R(R), .C(C)) u_gemm (
      .clk_i(core_clk[S]), .rst_ni,
      .cmd_valid_i(cmd_valid[S]), .cmd_ready_o(cmd_ready[S]),
      .cmd_i(cmd[1024*S +: 1024]), .cmd_done_o(cmd_done[S]), .idle_o(),
      .stall_o(unit_stall[S]), .mem_base_i(mem_base),
      .arvalid_o(g_arvalid), .arready_i(g_arready), .araddr_o(g_araddr), .arlen_o(g_arlen),
      .rvalid_i(g_rvalid), .rready_o(g_rready), .rdata_i(g_rdata), .rlast_i(g_rlast),
      .awvalid_o(m_axi_gemm_awvalid_o[u]), .awready_i(m_axi_gemm_awready_i[u]),
      .awaddr_o(m_axi_gemm_awaddr_o[64*u +: 64]), .awlen_o(m_axi_gemm_awlen_o[8*u +: 8]),
      .wvalid_o(m_axi_gemm_wvalid_o[u]), .wready_i(m_axi_gemm_wready_i[u]),
      .wdata_o(m_axi_gemm_wdata_o[512*u +: 512]), .wstrb_o(m_axi_gemm_wstrb_o[64*u +: 64]),
      .wlast_o(m_axi_gemm_wlast_o[u]),
      .bvalid_i(m_axi_gemm_bvalid_i[u]), .bready_o(m_axi_gemm_bready_o[u])
    );
    sq_cp_prefetch #(.C(C)) u_pf (
      .clk_i, .rst_ni, .mem_base_i(mem_base),
      .start_i(pf_start[u]), .desc_i(pf_desc[1024*u +: 1024]),
      .stop_i(cmd_valid[S] && cmd_ready[S]), .clear_i(cmd_done[S] || start),
      .c_arvalid_i(g_arvalid), .c_arready_o(g_arready), .c_araddr_i(g_araddr),
      .c_arlen_i(g_arlen), .c_rvalid_o(g_rvalid), .c_rready_i(g_rready), .c_rdata_o(g_rdata),
      .c_rlast_o(g_rlast),
      .m_arvalid_o(m_axi_gemm_arvalid_o[u]), .m_arready_i(m_axi_gemm_arready_i[u]),
      .m_araddr_o(m_axi_gemm_araddr_o[64*u +: 64]), .m_arlen_o(m_axi_gemm_arlen_o[8*u +: 8]),
      .m_rvalid_i(m_axi_gemm_rvalid_i[u]), .m_rready_o(m_axi_gemm_rready_o[u]),
      .m_rdata_i(m_axi_gemm_rdata_i[512*u +: 512]), .m_rlast_i(m_axi_gemm_rlast_i[u])
    );
    assign unit_rbeat[S] = m_axi_gemm_rvalid_i[u] && m_axi_gemm_rready_o[u];
    assign unit_wbytes[7*S +: 7] = (m_axi_gemm_wvalid_o[u] && m_axi_gemm_wready_i[u])
                                   ? popcount(m_axi_gemm_wstrb_o[64*u +: 64]) : 7'd0;
    assign m_axi_gemm_arsize_o[3*u +: 3] = 3'd6;
    assign m_axi_gemm_arburst_o[2*u +: 2] = 2'b01;
    assign m_axi_gemm_awsize_o[3*u +: 3] = 3'd6;
    assign m_axi_gemm_awburst_o[2*u +: 2] = 2'b01;
  end

  // ---- slot 1: attention core ----------------------------------------------------------
  sq_attn_core u_attn (
    .clk_i(core_clk[UAttn]), .rst_ni,
    .cmd_valid_i(cmd_valid[UAttn]), .cmd_ready_o(cmd_ready[UAttn]),
    .cmd_i(cmd[1024*UAttn +: 1024]), .cmd_done_o(cmd_done[UAttn]), .idle_o(),
    .stall_o(unit_stall[UAttn]), .mem_base_i(mem_base),
    .arvalid_o(m_axi_attn_arvalid_o), .arready_i(m_axi_attn_arready_i),
    .araddr_o(m_axi_attn_araddr_o), .arlen_o(m_axi_attn_arlen_o),
    .rvalid_i(m_axi_attn_rvalid_i), .rready_o(m_axi_attn_rready_o),
    .rdata_i(m_axi_attn_rdata_i), .rlast_i(m_axi_attn_rlast_i),
    .awvalid_o(m_axi_attn_awvalid_o), .awready_i(m_axi_attn_awready_i),
    .awaddr_o(m_axi_attn_awaddr_o), .awlen_o(m_axi_attn_awlen_o),
    .wvalid_o(m_axi_attn_wvalid_o), .wready_i(m_axi_attn_wready_i),
    .wdata_o(m_axi_attn_wdata_o), .wstrb_o(m_axi_attn_wstrb_o), .wlast_o(m_axi_attn_wlast_o),
    .bvalid_i(m_axi_attn_bvalid_i), .bready_o(m_axi_attn_bready_o)
  );

  // ---- slot 2: vector core -------------------------------------------------------------
  sq_vec_core u_vec (
    .clk_i(core_clk[UVec]), .rst_ni,
    .cmd_valid_i(cmd_valid[UVec]), .cmd_ready_o(cmd_ready[UVec]),
    .cmd_i(cmd[1024*UVec +: 1024]), .cmd_done_o(cmd_done[UVec]), .idle_o(),
    .stall_o(unit_stall[UVec]), .mem_base_i(mem_base),
    .arvalid_o(m_axi_vec_arvalid_o), .arready_i(m_axi_vec_arready_i),
    .araddr_o(m_axi_vec_araddr_o), .arlen_o(m_axi_vec_arlen_o),
    .rvalid_i(m_axi_vec_rvalid_i), .rready_o(m_axi_vec_rready_o),
    .rdata_i(m_axi_vec_rdata_i), .rlast_i(m_axi_vec_rlast_i),
    .awvalid_o(m_axi_vec_awvalid_o), .awready_i(m_axi_vec_awready_i),
    .awaddr_o(m_axi_vec_awaddr_o), .awlen_o(m_axi_vec_awlen_o),
    .wvalid_o(m_axi_vec_wvalid_o), .wready_i(m_axi_vec_wready_i),
    .wdata_o(m_axi_vec_wdata_o), .wstrb_o(m_axi_vec_wstrb_o), .wlast_o(m_axi_vec_wlast_o),
    .bvalid_i(m_axi_vec_bvalid_i), .bready_o(m_axi_vec_bready_o)
  );

  // ---- what each unit's port moves, for the per-descriptor counters -------------------------
  assign unit_rbeat[UAttn] = m_axi_attn_rvalid_i && m_axi_attn_rready_o;
  assign unit_rbeat[UVec] = m_axi_vec_rvalid_i && m_axi_vec_rready_o;
  assign unit_wbytes[7*UAttn +: 7] = (m_axi_attn_wvalid_o && m_axi_attn_wready_i)
                                     ? popcount(m_axi_attn_wstrb_o) : 7'd0;
  assign unit_wbytes[7*UVec +: 7] = (m_axi_vec_wvalid_o && m_axi_vec_wready_i)
                                    ? popcount(m_axi_vec_wstrb_o) : 7'd0;

  // 64-byte beats, incrementing bursts, on every port
  assign m_axi_cp_arsize_o = 3'd6;
  assign m_axi_cp_arburst_o = 2'b01;
  assign m_axi_cp_awsize_o = 3'd6;
  assign m_axi_cp_awburst_o = 2'b01;
  assign m_axi_attn_arsize_o = 3'd6;
  assign m_axi_attn_arburst_o = 2'b01;
  assign m_axi_attn_awsize_o = 3'd6;
  assign m_axi_attn_awburst_o = 2'b01;
  assign m_axi_vec_arsize_o = 3'd6;
  assign m_axi_vec_arburst_o = 2'b01;
  assign m_axi_vec_awsize_o = 3'd6;
  assign m_axi_vec_awburst_o = 2'b01;

  logic err_q, err_d, gemm_err;
  always_comb begin
    gemm_err = 1'b0;
    for (int unsigned u = 0; u < U; u++) begin
      gemm_err = gemm_err ||
                 (m_axi_gemm_rvalid_i[u] && m_axi_gemm_rready_o[u] &&
                  m_axi_gemm_rresp_i[2*u +: 2] != 2'b00) ||
                 (m_axi_gemm_bvalid_i[u] && m_axi_gemm_bready_o[u] &&
                  m_axi_gemm_bresp_i[2*u +: 2] != 2'b00);
    end
  end
  assign err_d = err_q ||
                 (m_axi_cp_rvalid_i && m_axi_cp_rready_o && m_axi_cp_rresp_i != 2'b00) ||
                 (m_axi_cp_bvalid_i && m_axi_cp_bready_o && m_axi_cp_bresp_i != 2'b00) ||
                 gemm_err ||
                 (m_axi_attn_rvalid_i && m_axi_attn_rready_o && m_axi_attn_rresp_i != 2'b00) ||
                 (m_axi_attn_bvalid_i && m_axi_attn_bready_o && m_axi_attn_bresp_i != 2'b00) ||
                 (m_axi_vec_rvalid_i && m_axi_vec_rready_o && m_axi_vec_rresp_i != 2'b00) ||
                 (m_axi_vec_bvalid_i && m_axi_vec_bready_o && m_axi_vec_bresp_i != 2'b00);
  assign axi_err_o = err_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      err_q <= 1'b0;
    end else begin
      err_q <= err_d;
    end
  end
endmodule
