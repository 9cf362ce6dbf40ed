// GEMM core: one patched GEMM descriptor at a time on the core command
// interface of docs/accelerator.md (cmd_valid/cmd_ready/cmd, a cmd_done pulse
// when its last write has been acknowledged, idle, stall, mem_base) and the
// unit's AXI4 master to device memory. The standalone kernel sq_gemm_top puts
// sq_ctrl and sq_fetch in front of it; the accelerator top sq_accel_top puts
// the command processor there. See docs/gemm_rtl.md.
//
// Dataflow: command stage (sq_gemm_seq) -> operand loads into multi-slot
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
module sq_gemm_core
#(
  parameter int unsigned R = sq_spec_pkg::SqArrayRows,
  parameter int unsigned C = sq_spec_pkg::SqArrayCols
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  // command interface
  input  logic             cmd_valid_i,
  output logic             cmd_ready_o,
  input  logic [1023:0]    cmd_i,
  output logic             cmd_done_o,
  output logic             idle_o,
  output logic             stall_o,
  input  logic [63:0]      mem_base_i,
  // AXI4 master: read address / data
  output logic             arvalid_o,
  input  logic             arready_i,
  output logic [sq_gemm_pkg::AddrW-1:0] araddr_o,
  output logic [7:0]       arlen_o,
  input  logic             rvalid_i,
  output logic             rready_o,
  input  logic [sq_gemm_pkg::BeatW-1:0] rdata_i,
  input  logic             rlast_i,
  // AXI4 master: write address / data / response
  output logic             awvalid_o,
  input  logic             awready_i,
  output logic [sq_gemm_pkg::AddrW-1:0] awaddr_o,
  output logic [7:0]       awlen_o,
  output logic             wvalid_o,
  input  logic             wready_i,
  output logic [sq_gemm_pkg::BeatW-1:0] wdata_o,
  output logic [sq_gemm_pkg::BeatBytes-1:0] wstrb_o,
  output logic             wlast_o,
  input  logic             bvalid_i,
  output logic             bready_o
);
  localparam int unsigned RW = (R > 1) ? $clog2(R) : 1;
  localparam int unsigned RowIdxW = $clog2((R > C) ? R : C);

  // ---- command stage ---------------------------------------------------------------
  sq_gemm_pkg::gemm_cfg_t cfg;
  logic             go, gemm_done;
  sq_gemm_seq u_seq (
    .clk_i, .rst_ni, .cmd_valid_i, .cmd_ready_o, .cmd_i, .cmd_done_o,
    .cfg_o(cfg), .go_o(go), .gemm_done_i(gemm_done)
  );
  // between commands nothing is in flight: a GEMM is done only when its last
  // write has been acknowledged
  assign idle_o = cmd_ready_o;

  // GEMV mode (docs/gemm_rtl.md): an int8, int4 or 2:4 GEMM with M <= C/2
  // (int4 and 2:4 C/4) rows of A runs as C^T = W A^T, weight rows on the
  // array rows, so that decode streams weights at the port's rate instead of
  // feeding M array rows. Activation row m uses columns 2m, 2m+1 (int4 and
  // 2:4 4m..4m+3). 2:4 only from K = SqGemvSpKMin on: below it a row's code
  // burst (a whole beat for K/8 bytes) costs more than the halved values save.
  logic gv, w4, sp;
  assign w4 = ({27'd0, cfg.flags} & sq_spec_pkg::SqGemmW4) != 32'd0;
  assign sp = ({27'd0, cfg.flags} & sq_spec_pkg::SqGemmSp24) != 32'd0;
  assign gv = cfg.m != '0 &&
              ((w4 || sp) ? {cfg.m, 2'b00} <= (sq_gemm_pkg::DimW + 2)'(C) :
                            {1'b0, cfg.m, 1'b0} <= (sq_gemm_pkg::DimW + 2)'(C)) &&
              (!sp || cfg.k >= sq_gemm_pkg::DimW'(sq_gemm_pkg::GemvSpKMin));

  // ---- loader ---------------------------------------------------------------------
  logic [sq_gemm_pkg::AddrW-1:0] ld_araddr;
  logic             bw_valid;
  logic [6:0]       bw_base;
  logic [2:0]            bw_kind;
  logic [RowIdxW-1:0] bw_row;
  logic [6:0]       bw_q;
  logic [5:0]       bw_off;
  logic [sq_gemm_pkg::BeatW-1:0] bw_data;
  logic [sq_gemm_pkg::BeatW*(1 << sq_gemm_pkg::WSlotW)-1:0]   ld_bias;
  logic [2*sq_gemm_pkg::BeatW*(1 << sq_gemm_pkg::WSlotW)-1:0] ld_quant;
  logic             job_valid, job_pop;
  sq_gemm_pkg::job_t             job;
  logic             rel_w, rel_a;
  logic [sq_gemm_pkg::ASlotW-1:0] rel_a_slot;
  logic [sq_gemm_pkg::WSlotW-1:0] rel_w_slot;
  sq_gemm_loader #(.R(R), .C(C)) u_loader (
    .clk_i, .rst_ni, .cfg_i(cfg), .go_i(go), .gv_i(gv),
    .arvalid_o, .arready_i, .araddr_o(ld_araddr), .arlen_o, .rvalid_i, .rdata_i, .rlast_i,
    .rready_o,
    .bw_valid_o(bw_valid), .bw_kind_o(bw_kind), .bw_base_o(bw_base), .bw_row_o(bw_row),
    .bw_q_o(bw_q), .bw_off_o(bw_off), .bw_data_o(bw_data),
    .bias_o(ld_bias), .quant_o(ld_quant),
    .job_valid_o(job_valid), .job_o(job), .job_pop_i(job_pop),
    .rel_w_i(rel_w), .rel_w_slot_i(rel_w_slot), .rel_a_i(rel_a), .rel_a_slot_i(rel_a_slot)
  );

  // device addresses are offsets from SQ_REG_MEM
  assign araddr_o = mem_base_i + ld_araddr;

  // ---- row buffers ------------------------------------------------------------------
  logic             a_re, w_re, m_re;
  logic [$clog2(2 * sq_gemm_pkg::RowWords)-1:0] a_addr;
  logic [$clog2(4 * sq_gemm_pkg::RowWords)-1:0] w_addr;
  logic [$clog2(4 * sq_gemm_pkg::MetaWords)-1:0] m_addr;
  logic [5:0]       a_pos, w_pos, m_pos;
  logic [32*R-1:0]  a_bytes;
  logic [16*C-1:0]  w_bytes;
  logic [16*C-1:0]  m_bytes;
  // words a beat may fill from its region's base: a slot (GEMV: GWords; the
  // int4 activation chunk 2 * GWords)
  logic [6:0]       row_lim, w_lim;
  assign row_lim = gv ? 7'(sq_gemm_pkg::GWords) : 7'(sq_gemm_pkg::RowWords);
  assign w_lim = (gv && (w4 || sp)) ? 7'(2 * sq_gemm_pkg::GWords) : row_lim;

  for (genvar i = 0; i < R; i++) begin : g_abuf
    sq_gemm_rowbuf #(.Depth(2 * sq_gemm_pkg::RowWords), .NBytes(4)) u_buf (
      .clk_i,
      .we_i(bw_valid && bw_kind == sq_gemm_pkg::KindA && bw_row == RowIdxW'(i)),
      .wbase_i(bw_base[5:0]), .wq_i(bw_q), .wlim_i(row_lim), .woff_i(bw_off), .wdata_i(bw_data),
      .re_i(a_re), .raddr_i(a_addr), .pos_i(a_pos), .bytes_o(a_bytes[32*i +: 32])
    );
  end
  for (genvar j = 0; j < C; j++) begin : g_wbuf
    // GEMV: activation row m fills the W buffers of its 2 (int4 and 2:4 4)
    // columns, and column j reads its 2 bytes of the step at 2 (j mod 2)
    // (int4 and 2:4 2 (j mod 4)) past the step's first
    logic w_we;
    logic [5:0] pos;
    assign w_we = bw_valid && bw_kind == sq_gemm_pkg::KindW &&
                  (!gv ? bw_row == RowIdxW'(j) :
                   (w4 || sp) ? bw_row == RowIdxW'(j / 4) : bw_row == RowIdxW'(j / 2));
    assign pos = !gv ? w_pos : (w4 || sp) ? w_pos + 6'(2 * (j % 4)) : w_pos + 6'(2 * (j % 2));
    sq_gemm_rowbuf #(.Depth(4 * sq_gemm_pkg::RowWords), .NBytes(2)) u_buf (
      .clk_i, .we_i(w_we),
      .wbase_i(bw_base), .wq_i(bw_q), .wlim_i(w_lim), .woff_i(bw_off), .wdata_i(bw_data),
      .re_i(w_re), .raddr_i(w_addr), .pos_i(pos), .bytes_o(w_bytes[16*j +: 16])
    );
    // 2:4 codes, or group factors (2 bytes a step)
    sq_gemm_rowbuf #(.Depth(4 * sq_gemm_pkg::MetaWords), .NBytes(2)) u_meta (
      .clk_i,
      .we_i(bw_valid && bw_kind == sq_gemm_pkg::KindMeta && bw_row == RowIdxW'(j)),
      .wbase_i(bw_base[3:0]), .wq_i(bw_q), .wlim_i(7'(sq_gemm_pkg::MetaWords)), .woff_i(bw_off),
      .wdata_i(bw_data),
      .re_i(m_re), .raddr_i(m_addr), .pos_i(m_pos), .bytes_o(m_bytes[16*j +: 16])
    );
  end

  // ---- feeder, array, output ---------------------------------------------------------
  logic             running_q, running_d, final_issued, row_pop, out_idle;
  logic [31:0]      rows_issued, rows_popped;
  logic [32*R-1:0]  arr_a;
  logic [16*R-1:0]  arr_g;
  logic [sq_gemm_pkg::WbusW*C-1:0] arr_w;
  sq_gemm_pkg::tile_t            tile;
  logic [sq_gemm_pkg::BeatW-1:0]   ep_bias;
  logic [2*sq_gemm_pkg::BeatW-1:0] ep_quant;
  sq_gemm_feeder #(.R(R), .C(C)) u_feeder (
    .clk_i, .rst_ni, .cfg_i(cfg), .go_i(go), .gv_i(gv), .running_i(running_q),
    .job_valid_i(job_valid), .job_i(job), .job_pop_o(job_pop),
    .rel_w_o(rel_w), .rel_w_slot_o(rel_w_slot), .rel_a_o(rel_a), .rel_a_slot_o(rel_a_slot),
    .a_re_o(a_re), .a_addr_o(a_addr), .a_pos_o(a_pos), .a_bytes_i(a_bytes),
    .w_re_o(w_re), .w_addr_o(w_addr), .w_pos_o(w_pos), .w_bytes_i(w_bytes),
    .m_re_o(m_re), .m_addr_o(m_addr), .m_pos_o(m_pos), .m_bytes_i(m_bytes),
    .bias_i(ld_bias), .quant_i(ld_quant),
    .a_o(arr_a), .g_o(arr_g), .w_o(arr_w), .tile_o(tile), .bias_o(ep_bias), .quant_o(ep_quant),
    .row_pop_i(row_pop), .final_issued_o(final_issued), .rows_issued_o(rows_issued),
    .stall_o
  );

  logic [C-1:0]    lane_valid;
  logic [RW*C-1:0] lane_row;
  logic [32*C-1:0] lane_acc;
  sq_gemm_pkg::tile_t last_tile;
  sq_gemm_array #(.R(R), .C(C), .Xdsp(1'b1)) u_array (
    .clk_i, .rst_ni, .a_i(arr_a), .g_i(arr_g), .w_i(arr_w), .tile_i(tile),
    .lane_valid_o(lane_valid), .lane_row_o(lane_row), .lane_acc_o(lane_acc),
    .last_tile_o(last_tile)
  );

  logic [sq_gemm_pkg::AddrW-1:0] out_awaddr;
  sq_gemm_out #(.R(R), .C(C)) u_out (
    .clk_i, .rst_ni, .cfg_i(cfg), .gv_i(gv),
    .lane_valid_i(lane_valid), .lane_row_i(lane_row), .lane_acc_i(lane_acc),
    .last_tile_i(last_tile), .bias_i(ep_bias), .quant_i(ep_quant),
    .awvalid_o, .awready_i, .awaddr_o(out_awaddr), .awlen_o, .wvalid_o, .wready_i, .wdata_o,
    .wstrb_o, .wlast_o, .bvalid_i, .bready_o,
    .row_pop_o(row_pop), .rows_popped_o(rows_popped), .idle_o(out_idle)
  );
  assign awaddr_o = mem_base_i + out_awaddr;

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

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      running_q <= 1'b0;
    end else begin
      running_q <= running_d;
    end
  end
endmodule
