// Output path: one epilogue lane per column, a deskew that lines the columns
// of each result row up again, a FIFO of 2R rows (the feeder only starts a
// tile when R rows of it are free) and the AXI4 write master. A row of C
// results is C bytes (int8) or 4C bytes (OUT32) at an arbitrary byte address,
// so it goes out as one burst of the beats it touches, with byte strobes.
// GEMV mode (gv_i): array row r holds output n0+r of activation row m as two
// partial sums, in columns 2m and 2m+1 (sq_gemm_feeder); column 2m+1 drains
// row r one cycle after column 2m, their sum (exact: int32 wrapping
// addition) goes into epilogue lane r with that lane's parameters (taken
// with m = 0 and kept for the others), and the deskew lines the lanes up
// into M output rows per tile, two cycles apart. int4 and 2:4 GEMV: four
// partial sums, in columns 4m..4m+3, added as they drain, rows four cycles
// apart.
module sq_gemm_out
#(
  parameter int unsigned R = sq_spec_pkg::SqArrayRows,
  parameter int unsigned C = sq_spec_pkg::SqArrayCols,
  localparam int unsigned RW = (R > 1) ? $clog2(R) : 1
) (
  input  logic          clk_i,
  input  logic          rst_ni,
  input  sq_gemm_pkg::gemm_cfg_t     cfg_i,
  input  logic          gv_i,
  // from the array
  input  logic [C-1:0]    lane_valid_i,
  input  logic [RW*C-1:0] lane_row_i,
  input  logic [32*C-1:0] lane_acc_i,
  input  sq_gemm_pkg::tile_t last_tile_i,
  input  logic [sq_gemm_pkg::BeatW-1:0]   bias_i,
  input  logic [2*sq_gemm_pkg::BeatW-1:0] quant_i,
  // AXI4 write channels
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
  output logic             bready_o,
  // status
  output logic             row_pop_o,
  output logic [31:0]      rows_popped_o,
  output logic             idle_o
);
  localparam int unsigned PayW = 32 * C;             // widest row (OUT32)
  localparam int unsigned ShW = PayW + sq_gemm_pkg::BeatW;        // row shifted to its byte offset
  localparam int unsigned Lat = 3;                   // sq_gemm_epi stages

  logic out32, g4;
  assign out32 = (({27'd0, cfg_i.flags} & sq_spec_pkg::SqGemmOut32) != 32'd0);
  // int4 and 2:4 GEMV: four partial sums per output
  assign g4 = gv_i && (({27'd0, cfg_i.flags} & (sq_spec_pkg::SqGemmW4 | sq_spec_pkg::SqGemmSp24))
                       != 32'd0);

  // ---- epilogue lanes and deskew ---------------------------------------------
  logic [31:0] val [C];
  logic        lv [C];
  logic [31:0] row_val [C];
  // GEMV: activation row m's partial sums of array row r are in columns
  // 2m, 2m+1 (int4 4m..4m+3), and column j drains row r one cycle after
  // column j-1: ps_q[j] keeps the group's sum up to column j of the row
  // column j+1 drains now, and a group's last column (gl) completes it.
  logic [32*C-1:0] ps;
  logic [32*C-1:0] gsum;
  logic [C-1:0]    gl;
  for (genvar j = 0; j < C; j++) begin : g_ps
    logic [31:0] acc;
    assign acc = lane_acc_i[32*j +: 32];
    if (j % 2 == 0) begin : g_even
      // the first column of an int8 group; int4: the first or the third
      logic [31:0] p_q;
      always_ff @(posedge clk_i) begin
        if (gv_i && lane_valid_i[j]) begin
          p_q <= (g4 && j % 4 == 2) ? ps[32*(j-1) +: 32] + acc : acc;
        end
      end
      assign ps[32*j +: 32] = p_q;
      assign gsum[32*j +: 32] = '0;
      assign gl[j] = 1'b0;
    end else begin : g_odd
      assign gsum[32*j +: 32] = ps[32*(j-1) +: 32] + acc;
      // a group inside M ends here
      assign gl[j] = gv_i && lane_valid_i[j] &&
                     (g4 ? j % 4 == 3 && 18'(j / 4) < {1'b0, cfg_i.m} :
                           18'(j / 2) < {1'b0, cfg_i.m});
      if (j % 4 == 1) begin : g_mid
        // int4: the first two columns' sum
        logic [31:0] p_q;
        always_ff @(posedge clk_i) begin
          if (g4 && lane_valid_i[j]) begin
            p_q <= gsum[32*j +: 32];
          end
        end
        assign ps[32*j +: 32] = p_q;
      end else begin : g_end
        assign ps[32*j +: 32] = '0;
      end
    end
  end
  for (genvar j = 0; j < C; j++) begin : g_lane
    // GEMV: lane j is output n0+j; the group that completes array row j now
    // (at most one: the groups' last columns drain different rows), its sum,
    // and whether it is the tile's first (activation row 0), whose bias and
    // quant parameters the lane keeps for the others
    logic gsel, g0;
    logic [31:0] gacc;
    always_comb begin
      gsel = 1'b0;
      g0 = 1'b0;
      gacc = '0;
      for (int unsigned c = 1; c < C; c += 2) begin
        if (gl[c] && 32'(lane_row_i[RW*c +: RW]) == j) begin
          gsel = 1'b1;
          g0 = g4 ? c == 3 : c == 1;
          gacc = gsum[32*c +: 32];
        end
      end
    end
    sq_gemm_epi u_epi (
      .clk_i, .rst_ni,
      .bias_en_i((({27'd0, cfg_i.flags} & sq_spec_pkg::SqGemmBias) != 32'd0)),
      .out32_i(out32),
      .relu_i((({27'd0, cfg_i.flags} & sq_spec_pkg::SqGemmRelu) != 32'd0)),
      .valid_i(gv_i ? gsel : lane_valid_i[j]),
      .row0_i(gv_i ? g0 : lane_valid_i[j] && lane_row_i[RW*j +: RW] == '0),
      .acc_i(gv_i ? gacc : lane_acc_i[32*j +: 32]),
      .bias_i(bias_i[32*j +: 32]),
      .mult_i(quant_i[64*j +: 32]),
      .shift_i(quant_i[64*j + 32 +: 32]),
      .valid_o(lv[j]),
      .val_o(val[j])
    );
    if (j == C - 1) begin : g_last
      assign row_val[j] = val[j];
    end else begin : g_delay
      logic [31:0] sr_q [C-1-j];
      always_ff @(posedge clk_i) begin
        sr_q[0] <= val[j];
        for (int unsigned d = 1; d < C - 1 - j; d++) begin
          sr_q[d] <= sr_q[d-1];
        end
      end
      assign row_val[j] = sr_q[C-2-j];
    end
  end

  // A row is complete when lane 0's value has passed the deskew (in GEMV mode
  // the only lane with a row each tile; otherwise the same cycle as the last
  // lane's).
  logic row_done;
  if (C == 1) begin : g_done1
    assign row_done = lv[0];
  end else begin : g_done
    logic [C-2:0] lv0_q;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        lv0_q <= '0;
      end else begin
        lv0_q <= (C == 2) ? (C-1)'(lv[0]) : (C-1)'({lv0_q, lv[0]});
      end
    end
    assign row_done = lv0_q[C-2];
  end

  // GEMV: a tile's M rows (activation rows 0..M-1, 2 or 4 cycles apart) come
  // out in order and tiles do not interleave, so a count of rows modulo M
  // is the row's m (it is back at 0 when a GEMM ends).
  logic [sq_gemm_pkg::DimW-1:0] gm_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      gm_q <= '0;
    end else if (gv_i && row_done) begin
      gm_q <= gm_q + 1'b1 == cfg_i.m ? '0 : gm_q + 1'b1;
    end
  end

  // Row identity follows the last column through the epilogue latency.
  logic [RW-1:0]      rid_row_q [Lat];
  logic [sq_gemm_pkg::TileW-1:0] rid_tile_q [Lat];
  sq_gemm_pkg::tile_t rid_tile;
  always_ff @(posedge clk_i) begin
    rid_row_q[0] <= lane_row_i[RW*(C-1) +: RW];
    rid_tile_q[0] <= last_tile_i;
    for (int unsigned d = 1; d < Lat; d++) begin
      rid_row_q[d] <= rid_row_q[d-1];
      rid_tile_q[d] <= rid_tile_q[d-1];
    end
  end
  assign rid_tile = rid_tile_q[Lat-1];

  // ---- row FIFO -----------------------------------------------------------------
  typedef struct packed {
    logic [sq_gemm_pkg::DimW:0] m;
    logic [sq_gemm_pkg::DimW:0] n0;
    logic [sq_gemm_pkg::DimW:0] ncols;
    logic [PayW-1:0] data;
  } orow_t;

  orow_t in_row, head;
  logic  f_empty, f_full, f_pop;
  logic [$clog2(2 * R):0] f_cnt;
  always_comb begin
    in_row.m = gv_i ? {1'b0, gm_q} : rid_tile.m0 + 18'(rid_row_q[Lat-1]);
    in_row.n0 = rid_tile.n0;
    in_row.ncols = rid_tile.ncols;
    for (int unsigned j = 0; j < C; j++) begin
      in_row.data[32*j +: 32] = row_val[j];
    end
  end
  sq_fifo #(.Width($bits(in_row)), .DepthLog2($clog2(2 * R))) u_rows (
    .clk_i, .rst_ni,
    .push_i(row_done), .wdata_i(in_row),
    .pop_i(f_pop), .rdata_o(head),
    .empty_o(f_empty), .full_o(f_full), .count_o(f_cnt)
  );

  // ---- AXI4 write master ----------------------------------------------------------
  logic              cur_q, cur_d, skip_q, skip_d, aw_done_q, aw_done_d;
  logic [sq_gemm_pkg::AddrW-1:0]  addr_q, addr_d;
  logic [7:0]        nbeats_q, nbeats_d, beat_q, beat_d;
  logic [ShW-1:0]    data_q;
  logic [ShW/8-1:0]  strb_q;
  logic [9:0]        outstanding_q, outstanding_d;
  logic [31:0]       popped_q, popped_d;

  logic [PayW-1:0]   pay;
  logic [PayW/8-1:0] pmask;
  logic [sq_gemm_pkg::DimW:0]     nbytes;
  logic [sq_gemm_pkg::AddrW-1:0]  haddr;
  logic [35:0]       prod;
  logic              finish, aw_fire, w_fire;

  // GEMV write combining: a tile's row of activation row m is T outputs (16
  // bytes at int8), and the next tile's row of m follows it in memory, so a
  // row that ends inside a beat (and is not m's last) keeps that beat back
  // (pnd_*[m]) and the next row of m merges into it: at int8 four tiles
  // share a write beat instead of taking one each. Rows of other m come in
  // between, hence one pending beat per activation row.
  localparam int unsigned G = (C > 1) ? C / 2 : 1;
  localparam int unsigned GW = (G > 1) ? $clog2(G) : 1;
  logic [sq_gemm_pkg::BeatW-1:0]     pnd_data_q [G];
  logic [sq_gemm_pkg::BeatBytes-1:0] pnd_strb_q [G];
  logic [G-1:0]      pnd_v_q;
  logic [GW-1:0]     hm;
  logic              hold;
  logic [7:0]        nb;
  logic [ShW-1:0]    mdata;
  logic [ShW/8-1:0]  mstrb;
  assign hm = GW'(head.m);

  // The head row's payload, strobes and address, computed only when it is
  // popped: the writer costs nothing while idle.
  always_comb begin
    pay = '0;
    pmask = '0;
    nbytes = '0;
    prod = '0;
    haddr = '0;
    nb = '0;
    hold = 1'b0;
    mdata = '0;
    mstrb = '0;
    if (f_pop) begin
      for (int unsigned j = 0; j < C; j++) begin
        if (out32) begin
          pay[32*j +: 32] = head.data[32*j +: 32];
        end else begin
          pay[8*j +: 8] = head.data[32*j +: 8];
        end
      end
      nbytes = out32 ? (head.ncols << 2) : head.ncols;
      for (int unsigned b = 0; b < PayW / 8; b++) begin
        pmask[b] = 18'(b) < nbytes;
      end
      prod = 36'(head.m) * 36'(cfg_i.n) + 36'(head.n0);
      haddr = cfg_i.c + (out32 ? {26'd0, prod, 2'b00} : {28'd0, prod});
      nb = 8'((({12'd0, haddr[5:0]} + nbytes - 18'd1) >> 6) + 18'd1);
      hold = gv_i && 6'(haddr[5:0] + 6'(nbytes)) != 6'd0 &&
             head.n0 + head.ncols < {1'b0, cfg_i.n};
      mdata = ShW'(pay) << {haddr[5:0], 3'b000};
      mstrb = (ShW / 8)'(pmask) << haddr[5:0];
      if (gv_i && pnd_v_q[hm]) begin
        mdata[sq_gemm_pkg::BeatW-1:0] = mdata[sq_gemm_pkg::BeatW-1:0] | pnd_data_q[hm];
        mstrb[sq_gemm_pkg::BeatBytes-1:0] = mstrb[sq_gemm_pkg::BeatBytes-1:0] | pnd_strb_q[hm];
      end
    end
  end

  // the pending beats: the held row's last beat (beat nb - 1 of its two at most)
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      pnd_v_q <= '0;
    end else if (f_pop && gv_i) begin
      pnd_v_q[hm] <= hold;
    end
  end
  always_ff @(posedge clk_i) begin
    if (f_pop && hold) begin
      pnd_data_q[hm] <= sq_gemm_pkg::BeatW'(nb == 8'd1 ? mdata : mdata >> sq_gemm_pkg::BeatW);
      pnd_strb_q[hm] <= sq_gemm_pkg::BeatBytes'(nb == 8'd1 ? mstrb : mstrb >> sq_gemm_pkg::BeatBytes);
    end
  end

  assign aw_fire = awvalid_o && awready_i;
  assign w_fire = wvalid_o && wready_i;
  assign awvalid_o = cur_q && !skip_q && !aw_done_q;
  assign awaddr_o = {addr_q[63:6], 6'd0};
  assign awlen_o = nbeats_q - 8'd1;
  assign wvalid_o = cur_q && !skip_q && beat_q != nbeats_q;
  assign wdata_o = data_q[sq_gemm_pkg::BeatW-1:0];
  assign wstrb_o = strb_q[sq_gemm_pkg::BeatBytes-1:0];
  assign wlast_o = beat_q + 8'd1 == nbeats_q;
  assign bready_o = 1'b1;
  assign finish = cur_q && (skip_q || ((aw_done_q || aw_fire) &&
                  (beat_q == nbeats_q || (w_fire && wlast_o))));
  assign f_pop = !f_empty && (!cur_q || finish);
  assign row_pop_o = f_pop;
  assign rows_popped_o = popped_q;
  assign idle_o = !cur_q && f_empty && outstanding_q == '0;

  always_comb begin
    cur_d = cur_q;
    skip_d = skip_q;
    aw_done_d = aw_done_q || aw_fire;
    addr_d = addr_q;
    nbeats_d = nbeats_q;
    beat_d = beat_q;
    popped_d = popped_q;
    outstanding_d = outstanding_q + (aw_fire ? 10'd1 : 10'd0) - (bvalid_i ? 10'd1 : 10'd0);
    if (w_fire) begin
      beat_d = beat_q + 8'd1;
    end
    if (finish) begin
      cur_d = 1'b0;
    end
    if (f_pop) begin
      popped_d = popped_q + 32'd1;
      cur_d = 1'b1;
      // a held row whose only beat is kept back writes nothing now
      skip_d = head.m >= {1'b0, cfg_i.m} || (hold && nb == 8'd1);
      aw_done_d = 1'b0;
      addr_d = haddr;
      nbeats_d = nb - {7'd0, hold};
      beat_d = 8'd0;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      cur_q <= 1'b0;
      skip_q <= 1'b0;
      aw_done_q <= 1'b0;
      addr_q <= '0;
      nbeats_q <= '0;
      beat_q <= '0;
      data_q <= '0;
      strb_q <= '0;
      outstanding_q <= '0;
      popped_q <= '0;
    end else begin
      cur_q <= cur_d;
      skip_q <= skip_d;
      aw_done_q <= aw_done_d;
      addr_q <= addr_d;
      nbeats_q <= nbeats_d;
      beat_q <= beat_d;
      // the row's beats, shifted out as they are written
      if (f_pop) begin
        data_q <= mdata;
        strb_q <= mstrb;
      end else if (w_fire) begin
        data_q <= data_q >> sq_gemm_pkg::BeatW;
        strb_q <= strb_q >> sq_gemm_pkg::BeatBytes;
      end
      outstanding_q <= outstanding_d;
      popped_q <= popped_d;
    end
  end
endmodule
