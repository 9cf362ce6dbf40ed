// Prefetch buffer on the GEMM unit's read channel (sq_accel_top): lets a
// GEMM fetch its constant operands while it waits for its dependencies, so
// its weights stream in while another unit computes. The runtime guarantees
// that no descriptor of a stream writes a GEMM's W, META, BIAS or QUANT
// (runtime/desc.h), so they may be read early.
//
// On start (from sq_cp: the head of the GEMM queue waits for its
// dependencies and the unit is idle) it plans up to four ranges of the
// descriptor, in this order, each cut to what is left of the buffer's
// PfBeats beats: BIAS and QUANT of the first N tile (C columns), the 2:4
// codes of the first N tile, then W from its start (with K up to a chunk,
// W's rows are in the order the loader reads them). It then issues their
// bursts (at most 64 beats, split at 4 KB like the loader's), one range
// after another, one cycle per range switch, until every range is issued or
// the unit accepts a command (stop). The beats land in the buffer in issue
// order.
//
// The core's read bursts pass through: a burst whose beats all lie inside an
// issued range is a hit, answered from the buffer (each beat once it has
// arrived); any other burst goes to memory unchanged. Data returns to the
// core in the order of its requests, so a hit behind a miss waits for it.
// Memory's beats go to the buffer or the core by a tag per burst. With no
// range planned the unit's channel is untouched: same requests, same cycle.
// clear (the unit finished the descriptor, or a run starts) empties the
// ranges; every prefetched beat has arrived by then, since the GEMM's own
// reads, which finish before it does, follow them.
module sq_cp_prefetch #(
  parameter int unsigned C = sq_spec_pkg::SqArrayCols,
  parameter int unsigned PfBeatsLog2 = 6,
  localparam int unsigned PfBeats = 1 << PfBeatsLog2,
  localparam int unsigned BW = PfBeatsLog2 + 1
) (
  input  logic          clk_i,
  input  logic          rst_ni,
  input  logic [63:0]   mem_base_i,
  input  logic          start_i,
  input  logic [1023:0] desc_i,
  input  logic          stop_i,
  input  logic          clear_i,
  // the core's read channel
  input  logic          c_arvalid_i,
  output logic          c_arready_o,
  input  logic [63:0]   c_araddr_i,
  input  logic [7:0]    c_arlen_i,
  output logic          c_rvalid_o,
  input  logic          c_rready_i,
  output logic [511:0]  c_rdata_o,
  output logic          c_rlast_o,
  // the port's read channel
  output logic          m_arvalid_o,
  input  logic          m_arready_i,
  output logic [63:0]   m_araddr_o,
  output logic [7:0]    m_arlen_o,
  input  logic          m_rvalid_i,
  output logic          m_rready_o,
  input  logic [511:0]  m_rdata_i,
  input  logic          m_rlast_i
);
  localparam int unsigned NR = 4;

  // ---- plan: beat ranges of the constant operands ------------------------------------
  logic [31:0] flags, n, k;
  logic [63:0] a_w, a_meta, a_bias, a_quant;
  assign flags = desc_i[32 * sq_spec_pkg::SqGemmWFlags +: 32];
  assign n = desc_i[32 * sq_spec_pkg::SqGemmWN +: 32];
  assign k = desc_i[32 * sq_spec_pkg::SqGemmWK +: 32];
  assign a_w = desc_i[32 * sq_spec_pkg::SqGemmWWLo +: 64];
  assign a_meta = desc_i[32 * sq_spec_pkg::SqGemmWMetaLo +: 64];
  assign a_bias = desc_i[32 * sq_spec_pkg::SqGemmWBiasLo +: 64];
  assign a_quant = desc_i[32 * sq_spec_pkg::SqGemmWQuantLo +: 64];

  logic        w4, sp, bias_en, out32;
  logic [17:0] wrow, mrow, ncols;
  logic [63:0] p_addr [NR];
  logic [35:0] p_len [NR];
  assign w4 = (flags & sq_spec_pkg::SqGemmW4) != 32'd0;
  assign sp = (flags & sq_spec_pkg::SqGemmSp24) != 32'd0;
  assign bias_en = (flags & sq_spec_pkg::SqGemmBias) != 32'd0;
  assign out32 = (flags & sq_spec_pkg::SqGemmOut32) != 32'd0;
  // as sq_gemm_loader: bytes per weight row and per 2:4 code row
  assign wrow = w4 ? 18'((k + 32'd1) >> 1) : sp ? 18'(((k + 32'd3) >> 2) << 1) : 18'(k);
  assign mrow = 18'((((k + 32'd3) >> 2) + 32'd1) >> 1);
  assign ncols = n > 32'(C) ? 18'(C) : 18'(n);
  always_comb begin
    p_addr[0] = a_bias;
    p_len[0] = bias_en ? 36'(ncols) << 2 : 36'd0;
    p_addr[1] = a_quant;
    p_len[1] = out32 ? 36'd0 : 36'(ncols) << 3;
    p_addr[2] = a_meta;
    p_len[2] = sp ? 36'(ncols) * 36'(mrow) : 36'd0;
    p_addr[3] = a_w;
    p_len[3] = 36'(n[17:0]) * 36'(wrow);
  end

  // first beat and beat count of each range, and where it goes in the buffer
  logic [57:0]   lo_d [NR];
  logic [BW-1:0] nb_d [NR], base_d [NR], left [NR + 1];
  logic [63:0]   abs_addr [NR];
  logic [36:0]   beats [NR];
  always_comb begin
    left[0] = BW'(PfBeats);
    for (int unsigned r = 0; r < NR; r++) begin
      abs_addr[r] = mem_base_i + p_addr[r];
      lo_d[r] = abs_addr[r][63:6];
      beats[r] = p_len[r] == 36'd0 ? 37'd0 :
                 ((37'(abs_addr[r][5:0]) + 37'(p_len[r]) - 37'd1) >> 6) + 37'd1;
      base_d[r] = BW'(PfBeats) - left[r];
      nb_d[r] = beats[r] > 37'(left[r]) ? left[r] : BW'(beats[r]);
      left[r + 1] = left[r] - nb_d[r];
    end
  end

  // ---- issue -------------------------------------------------------------------------
  logic [57:0]   lo_q [NR];
  logic [BW-1:0] nb_q [NR], base_q [NR];
  logic [2:0]    r_q, r_d;         // range being issued; NR when done
  logic [BW-1:0] off_q, off_d;     // its beats issued
  logic [BW-1:0] issued_q, issued_d, arrived_q, arrived_d;
  logic          active_q, active_d;
  logic [57:0]   pf_beat;
  logic [6:0]    to_4k, pf_len;
  logic [15:0]   pf_rem;
  logic          pf_ar;
  logic          tag_push, tag_pop, tag_empty, tag_full, tag_head;
  logic [6:0]    tag_cnt;

  assign pf_beat = lo_q[r_q[1:0]] + 58'(off_q);
  assign to_4k = 7'd64 - {1'b0, pf_beat[5:0]};
  assign pf_rem = 16'(nb_q[r_q[1:0]]) - 16'(off_q);
  assign pf_len = pf_rem < 16'(to_4k) ? pf_rem[6:0] : to_4k;
  assign pf_ar = active_q && !stop_i && r_q != 3'(NR) && off_q != nb_q[r_q[1:0]] && !tag_full;

  // ---- the core's bursts: hit or miss ------------------------------------------------
  logic [57:0]   c_beat;
  logic [8:0]    c_beats;
  logic          hit;
  logic [BW-1:0] hit_idx;
  assign c_beat = c_araddr_i[63:6];
  assign c_beats = {1'b0, c_arlen_i} + 9'd1;
  logic [58:0] rel_end [NR];
  always_comb begin
    hit = 1'b0;
    hit_idx = '0;
    for (int unsigned r = 0; r < NR; r++) begin
      rel_end[r] = {1'b0, c_beat} + 59'(c_beats) - {1'b0, lo_q[r]};
      if (nb_q[r] != '0 && c_beat >= lo_q[r] && rel_end[r] <= 59'(nb_q[r]) &&
          59'(base_q[r]) + rel_end[r] <= 59'(issued_q)) begin
        hit = 1'b1;
        hit_idx = base_q[r] + BW'(c_beat - lo_q[r]);
      end
    end
  end

  // core bursts in request order: {hit, first buffer beat, beats}
  logic          cq_push, cq_pop, cq_empty, cq_full;
  logic [5:0]    cq_cnt;
  logic [BW+8:0] cq_in, cq_head;
  logic          cq_hit;
  logic [BW-1:0] cq_idx;
  logic [7:0]    cq_len;
  logic [7:0]    cbeat_q, cbeat_d;
  assign cq_in = {hit, hit_idx, c_arlen_i};
  assign {cq_hit, cq_idx, cq_len} = cq_head;
  sq_fifo #(.Width(BW + 9), .DepthLog2(5)) u_cq (
    .clk_i, .rst_ni, .push_i(cq_push), .wdata_i(cq_in), .pop_i(cq_pop),
    .rdata_o(cq_head), .empty_o(cq_empty), .full_o(cq_full), .count_o(cq_cnt)
  );
  // memory bursts in flight: 1 = prefetch, 0 = the core's
  sq_fifo #(.Width(1), .DepthLog2(6)) u_tags (
    .clk_i, .rst_ni, .push_i(tag_push), .wdata_i(pf_ar), .pop_i(tag_pop),
    .rdata_o(tag_head), .empty_o(tag_empty), .full_o(tag_full), .count_o(tag_cnt)
  );

  assign m_arvalid_o = pf_ar || (c_arvalid_i && !hit && !cq_full && !tag_full);
  assign m_araddr_o = pf_ar ? {pf_beat, 6'd0} : c_araddr_i;
  assign m_arlen_o = pf_ar ? 8'(pf_len - 7'd1) : c_arlen_i;
  assign c_arready_o = !pf_ar && !cq_full && (hit || (m_arready_i && !tag_full));
  assign cq_push = c_arvalid_i && c_arready_o;
  assign tag_push = m_arvalid_o && m_arready_i;

  // ---- return path -------------------------------------------------------------------
  logic [511:0] buf_q [PfBeats];
  logic [BW-1:0] rd_idx;
  logic          pf_beat_in, from_mem;
  assign pf_beat_in = m_rvalid_i && !tag_empty && tag_head;
  assign from_mem = !cq_empty && !cq_hit;
  assign rd_idx = cq_idx + BW'(cbeat_q);
  assign m_rready_o = (!tag_empty && tag_head) || (from_mem && c_rready_i);
  assign c_rvalid_o = !cq_empty && (cq_hit ? rd_idx < arrived_q
                                           : m_rvalid_i && !tag_empty && !tag_head);
  assign c_rdata_o = cq_hit ? buf_q[rd_idx[PfBeatsLog2-1:0]] : m_rdata_i;
  assign c_rlast_o = cq_hit ? cbeat_q == cq_len : m_rlast_i;
  assign cq_pop = c_rvalid_o && c_rready_i && c_rlast_o;
  assign tag_pop = m_rvalid_i && m_rready_o && m_rlast_i;

  always_comb begin
    r_d = r_q;
    off_d = off_q;
    issued_d = issued_q;
    arrived_d = arrived_q + (pf_beat_in ? BW'(1) : BW'(0));
    active_d = active_q && !stop_i;
    cbeat_d = cbeat_q;
    if (c_rvalid_o && c_rready_i) begin
      cbeat_d = c_rlast_o ? 8'd0 : cbeat_q + 8'd1;
    end
    if (start_i) begin
      r_d = 3'd0;
      off_d = '0;
      issued_d = '0;
      arrived_d = '0;
      active_d = 1'b1;
    end else if (clear_i) begin
      r_d = 3'(NR);
      active_d = 1'b0;
      issued_d = '0;
      arrived_d = '0;
    end else if (active_q && !stop_i && r_q != 3'(NR)) begin
      if (off_q == nb_q[r_q[1:0]]) begin
        r_d = r_q + 3'd1;
        off_d = '0;
      end else if (pf_ar && m_arready_i) begin
        off_d = off_q + BW'(pf_len);
        issued_d = issued_q + BW'(pf_len);
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      r_q <= 3'(NR);
      off_q <= '0;
      issued_q <= '0;
      arrived_q <= '0;
      active_q <= 1'b0;
      cbeat_q <= 8'd0;
      for (int unsigned r = 0; r < NR; r++) begin
        lo_q[r] <= '0;
        nb_q[r] <= '0;
        base_q[r] <= '0;
      end
    end else begin
      r_q <= r_d;
      off_q <= off_d;
      issued_q <= issued_d;
      arrived_q <= arrived_d;
      active_q <= active_d;
      cbeat_q <= cbeat_d;
      for (int unsigned r = 0; r < NR; r++) begin
        if (start_i) begin
          lo_q[r] <= lo_d[r];
          nb_q[r] <= nb_d[r];
          base_q[r] <= base_d[r];
        end else if (clear_i) begin
          nb_q[r] <= '0;
        end
      end
    end
  end

  // buffer contents need no reset: a beat is read only after it arrived
  always_ff @(posedge clk_i) begin
    if (pf_beat_in) begin
      buf_q[arrived_q[PfBeatsLog2-1:0]] <= m_rdata_i;
    end
  end
endmodule
