// sparq GEMM unit: a quantized R x C output-stationary systolic matmul with
// the Vitis RTL kernel interface (one 512-bit AXI4 master to device memory,
// an AXI4-Lite ap_ctrl_hs control slave). See docs/gemm_rtl.md.
//
// Dataflow: command fetch (sq_gemm_seq) -> operand loads into multi-slot
// row buffers (sq_gemm_loader, sq_gemm_rowbuf) -> one step per cycle into the
// array (sq_gemm_feeder, sq_gemm_array of sq_gemm_pe) -> per-column requant
// epilogue and row writes (sq_gemm_out of sq_gemm_epi).
//
// Output-stationary because every layer here is int8 x int8 into int32: the
// accumulators never leave the PEs (no partial-sum traffic over K), the K
// reduction length is unbounded by buffer sizes, and the result of a tile is
// drained while the next tile already streams in, so the array stays busy
// back to back. It also lets 2:4 sparsity skip work: the PE picks the two
// nonzero positions of a group of four streamed activations.
module sq_gemm_top
#(
  parameter int unsigned R = sq_spec_pkg::SqArrayRows,
  parameter int unsigned C = sq_spec_pkg::SqArrayCols
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  // AXI4 master: read address / data
  output logic             m_axi_arvalid_o,
  input  logic             m_axi_arready_i,
  output logic [sq_gemm_pkg::AddrW-1:0] m_axi_araddr_o,
  output logic [7:0]       m_axi_arlen_o,
  output logic [2:0]       m_axi_arsize_o,
  output logic [1:0]       m_axi_arburst_o,
  input  logic             m_axi_rvalid_i,
  output logic             m_axi_rready_o,
  input  logic [sq_gemm_pkg::BeatW-1:0] m_axi_rdata_i,
  input  logic             m_axi_rlast_i,
  input  logic [1:0]       m_axi_rresp_i,
  // AXI4 master: write address / data / response
  output logic             m_axi_awvalid_o,
  input  logic             m_axi_awready_i,
  output logic [sq_gemm_pkg::AddrW-1:0] m_axi_awaddr_o,
  output logic [7:0]       m_axi_awlen_o,
  output logic [2:0]       m_axi_awsize_o,
  output logic [1:0]       m_axi_awburst_o,
  output logic             m_axi_wvalid_o,
  input  logic             m_axi_wready_i,
  output logic [sq_gemm_pkg::BeatW-1:0] m_axi_wdata_o,
  output logic [sq_gemm_pkg::BeatBytes-1:0] m_axi_wstrb_o,
  output logic             m_axi_wlast_o,
  input  logic             m_axi_bvalid_i,
  output logic             m_axi_bready_o,
  input  logic [1:0]       m_axi_bresp_i,
  // AXI4-Lite control slave
  input  logic             s_axil_awvalid_i,
  output logic             s_axil_awready_o,
  input  logic [7:0]       s_axil_awaddr_i,
  input  logic             s_axil_wvalid_i,
  output logic             s_axil_wready_o,
  input  logic [31:0]      s_axil_wdata_i,
  input  logic [3:0]       s_axil_wstrb_i,
  output logic             s_axil_bvalid_o,
  input  logic             s_axil_bready_i,
  output logic [1:0]       s_axil_bresp_o,
  input  logic             s_axil_arvalid_i,
  output logic             s_axil_arready_o,
  input  logic [7:0]       s_axil_araddr_i,
  output logic             s_axil_rvalid_o,
  input  logic             s_axil_rready_i,
  output logic [31:0]      s_axil_rdata_o,
  output logic [1:0]       s_axil_rresp_o,
  output logic             interrupt_o,
  // sticky: a read or write response was not OKAY (also visible in traces)
  output logic             axi_err_o
);
  localparam int unsigned RW = (R > 1) ? $clog2(R) : 1;
  localparam int unsigned RowIdxW = $clog2((R > C) ? R : C);

  // ---- control -----------------------------------------------------------------
  logic        start, done, stall;
  logic [63:0] cmd_addr, mem_base;
  logic [31:0] ncmd;
  sq_ctrl u_ctrl (
    .clk_i, .rst_ni,
    .awvalid_i(s_axil_awvalid_i), .awready_o(s_axil_awready_o), .awaddr_i(s_axil_awaddr_i),
    .wvalid_i(s_axil_wvalid_i), .wready_o(s_axil_wready_o), .wdata_i(s_axil_wdata_i),
    .wstrb_i(s_axil_wstrb_i), .bvalid_o(s_axil_bvalid_o), .bready_i(s_axil_bready_i),
    .bresp_o(s_axil_bresp_o), .arvalid_i(s_axil_arvalid_i), .arready_o(s_axil_arready_o),
    .araddr_i(s_axil_araddr_i), .rvalid_o(s_axil_rvalid_o), .rready_i(s_axil_rready_i),
    .rdata_o(s_axil_rdata_o), .rresp_o(s_axil_rresp_o), .interrupt_o,
    .start_o(start), .done_i(done), .stall_i(stall),
    .cmd_addr_o(cmd_addr), .ncmd_o(ncmd), .mem_base_o(mem_base)
  );

  // ---- command sequencer -----------------------------------------------------------
  sq_gemm_pkg::gemm_cfg_t        cfg;
  logic             go, gemm_done, fetch, seq_arvalid;
  logic [sq_gemm_pkg::AddrW-1:0] seq_araddr;
  sq_gemm_seq u_seq (
    .clk_i, .rst_ni,
    .start_i(start), .cmd_addr_i(cmd_addr), .ncmd_i(ncmd), .done_o(done),
    .fetch_o(fetch), .arvalid_o(seq_arvalid), .arready_i(m_axi_arready_i),
    .araddr_o(seq_araddr), .rvalid_i(m_axi_rvalid_i), .rdata_i(m_axi_rdata_i),
    .cfg_o(cfg), .go_o(go), .gemm_done_i(gemm_done)
  );

  // ---- loader ---------------------------------------------------------------------
  logic             ld_arvalid, ld_rready;
  logic [sq_gemm_pkg::AddrW-1:0] ld_araddr;
  logic [7:0]       ld_arlen;
  logic             bw_valid;
  logic [sq_gemm_pkg::WSlotW-1:0] bw_slot;
  logic [2:0]            bw_kind;
  logic [RowIdxW-1:0] bw_row;
  logic [6:0]       bw_q;
  logic [5:0]       bw_off;
  logic [sq_gemm_pkg::BeatW-1:0] bw_data;
  logic [sq_gemm_pkg::BeatW*(1 << sq_gemm_pkg::WSlotW)-1:0]   ld_bias;
  logic [2*sq_gemm_pkg::BeatW*(1 << sq_gemm_pkg::WSlotW)-1:0] ld_quant;
  logic             job_valid, job_pop;
  sq_gemm_pkg::job_t             job;
  logic             rel_w, rel_a, rel_a_slot;
  logic [sq_gemm_pkg::WSlotW-1:0] rel_w_slot;
  sq_gemm_loader #(.R(R), .C(C)) u_loader (
    .clk_i, .rst_ni, .cfg_i(cfg), .go_i(go),
    .arvalid_o(ld_arvalid), .arready_i(m_axi_arready_i && !fetch), .araddr_o(ld_araddr),
    .arlen_o(ld_arlen), .rvalid_i(m_axi_rvalid_i && !fetch), .rdata_i(m_axi_rdata_i),
    .rlast_i(m_axi_rlast_i), .rready_o(ld_rready),
    .bw_valid_o(bw_valid), .bw_kind_o(bw_kind), .bw_slot_o(bw_slot), .bw_row_o(bw_row),
    .bw_q_o(bw_q), .bw_off_o(bw_off), .bw_data_o(bw_data),
    .bias_o(ld_bias), .quant_o(ld_quant),
    .job_valid_o(job_valid), .job_o(job), .job_pop_i(job_pop),
    .rel_w_i(rel_w), .rel_w_slot_i(rel_w_slot), .rel_a_i(rel_a), .rel_a_slot_i(rel_a_slot)
  );

  assign m_axi_arvalid_o = fetch ? seq_arvalid : ld_arvalid;
  assign m_axi_araddr_o = mem_base + (fetch ? seq_araddr : ld_araddr);
  assign m_axi_arlen_o = fetch ? 8'd1 : ld_arlen;
  assign m_axi_arsize_o = 3'd6;
  assign m_axi_arburst_o = 2'b01;
  assign m_axi_rready_o = fetch ? 1'b1 : ld_rready;

  // ---- row buffers ------------------------------------------------------------------
  logic             a_re, a_slot, w_re, m_re;
  logic [sq_gemm_pkg::WSlotW-1:0] w_slot;
  logic [$clog2(sq_gemm_pkg::RowWords)-1:0] a_word, w_word;
  logic [$clog2(sq_gemm_pkg::MetaWords)-1:0] m_word;
  logic [5:0]       a_pos, w_pos, m_pos;
  logic [32*R-1:0]  a_bytes;
  logic [16*C-1:0]  w_bytes;
  logic [8*C-1:0]   m_bytes;

  for (genvar i = 0; i < R; i++) begin : g_abuf
    sq_gemm_rowbuf #(.Words(sq_gemm_pkg::RowWords), .NBytes(4)) u_buf (
      .clk_i,
      .we_i(bw_valid && bw_kind == sq_gemm_pkg::KindA && bw_row == RowIdxW'(i)),
      .wslot_i(bw_slot[0]), .wq_i(bw_q), .woff_i(bw_off), .wdata_i(bw_data),
      .re_i(a_re), .rslot_i(a_slot), .rword_i(a_word), .pos_i(a_pos), .bytes_o(a_bytes[32*i +: 32])
    );
  end
  for (genvar j = 0; j < C; j++) begin : g_wbuf
    sq_gemm_rowbuf #(.Words(sq_gemm_pkg::RowWords), .SlotW(sq_gemm_pkg::WSlotW), .NBytes(2)) u_buf (
      .clk_i,
      .we_i(bw_valid && bw_kind == sq_gemm_pkg::KindW && bw_row == RowIdxW'(j)),
      .wslot_i(bw_slot), .wq_i(bw_q), .woff_i(bw_off), .wdata_i(bw_data),
      .re_i(w_re), .rslot_i(w_slot), .rword_i(w_word), .pos_i(w_pos), .bytes_o(w_bytes[16*j +: 16])
    );
    sq_gemm_rowbuf #(.Words(sq_gemm_pkg::MetaWords), .SlotW(sq_gemm_pkg::WSlotW)) u_meta (
      .clk_i,
      .we_i(bw_valid && bw_kind == sq_gemm_pkg::KindMeta && bw_row == RowIdxW'(j)),
      .wslot_i(bw_slot), .wq_i(bw_q), .woff_i(bw_off), .wdata_i(bw_data),
      .re_i(m_re), .rslot_i(w_slot), .rword_i(m_word), .pos_i(m_pos), .bytes_o(m_bytes[8*j +: 8])
    );
  end

  // ---- feeder, array, output ---------------------------------------------------------
  logic             running_q, running_d, final_issued, row_pop, out_idle;
  logic [31:0]      rows_issued, rows_popped;
  logic [32*R-1:0]  arr_a;
  logic [sq_gemm_pkg::WbusW*C-1:0] arr_w;
  sq_gemm_pkg::tile_t            tile;
  logic [sq_gemm_pkg::BeatW-1:0]   ep_bias;
  logic [2*sq_gemm_pkg::BeatW-1:0] ep_quant;
  sq_gemm_feeder #(.R(R), .C(C)) u_feeder (
    .clk_i, .rst_ni, .cfg_i(cfg), .go_i(go), .running_i(running_q),
    .job_valid_i(job_valid), .job_i(job), .job_pop_o(job_pop),
    .rel_w_o(rel_w), .rel_w_slot_o(rel_w_slot), .rel_a_o(rel_a), .rel_a_slot_o(rel_a_slot),
    .a_re_o(a_re), .a_slot_o(a_slot), .a_word_o(a_word), .a_pos_o(a_pos), .a_bytes_i(a_bytes),
    .w_re_o(w_re), .w_slot_o(w_slot), .w_word_o(w_word), .w_pos_o(w_pos), .w_bytes_i(w_bytes),
    .m_re_o(m_re), .m_word_o(m_word), .m_pos_o(m_pos), .m_bytes_i(m_bytes),
    .bias_i(ld_bias), .quant_i(ld_quant),
    .a_o(arr_a), .w_o(arr_w), .tile_o(tile), .bias_o(ep_bias), .quant_o(ep_quant),
    .row_pop_i(row_pop), .final_issued_o(final_issued), .rows_issued_o(rows_issued),
    .stall_o(stall)
  );

  logic [C-1:0]    lane_valid;
  logic [RW*C-1:0] lane_row;
  logic [32*C-1:0] lane_acc;
  sq_gemm_pkg::tile_t last_tile;
  sq_gemm_array #(.R(R), .C(C)) u_array (
    .clk_i, .rst_ni, .a_i(arr_a), .w_i(arr_w), .tile_i(tile),
    .lane_valid_o(lane_valid), .lane_row_o(lane_row), .lane_acc_o(lane_acc),
    .last_tile_o(last_tile)
  );

  logic [sq_gemm_pkg::AddrW-1:0] out_awaddr;
  sq_gemm_out #(.R(R), .C(C)) u_out (
    .clk_i, .rst_ni, .cfg_i(cfg),
    .lane_valid_i(lane_valid), .lane_row_i(lane_row), .lane_acc_i(lane_acc),
    .last_tile_i(last_tile), .bias_i(ep_bias), .quant_i(ep_quant),
    .awvalid_o(m_axi_awvalid_o), .awready_i(m_axi_awready_i), .awaddr_o(out_awaddr),
    .awlen_o(m_axi_awlen_o), .wvalid_o(m_axi_wvalid_o), .wready_i(m_axi_wready_i),
    .wdata_o(m_axi_wdata_o), .wstrb_o(m_axi_wstrb_o), .wlast_o(m_axi_wlast_o),
    .bvalid_i(m_axi_bvalid_i), .bready_o(m_axi_bready_o),
    .row_pop_o(row_pop), .rows_popped_o(rows_popped), .idle_o(out_idle)
  );
  assign m_axi_awaddr_o = mem_base + out_awaddr;
  assign m_axi_awsize_o = 3'd6;
  assign m_axi_awburst_o = 2'b01;

  // A GEMM is done when its final job was fed, every row it produced left the
  // FIFO, and every write was acknowledged (so the next command sees them).
  assign gemm_done = running_q && final_issued && rows_issued == rows_popped && out_idle;
  always_comb begin
    running_d = running_q;
    if (go) begin
      running_d = 1'b1;
    end else if (gemm_done) begin
      running_d = 1'b0;
    end
  end

  logic err_q, err_d;
  assign err_d = err_q || (m_axi_rvalid_i && m_axi_rready_o && m_axi_rresp_i != 2'b00) ||
                 (m_axi_bvalid_i && m_axi_bresp_i != 2'b00);
  assign axi_err_o = err_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      running_q <= 1'b0;
      err_q <= 1'b0;
    end else begin
      running_q <= running_d;
      err_q <= err_d;
    end
  end
endmodule
