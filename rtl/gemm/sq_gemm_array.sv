// R x C output-stationary systolic array with input skew and result drain.
// Row i's activations are delayed i cycles and column j's weights j cycles,
// so PE(i,j) sees step t at cycle t+i+j. PEs come in pairs of rows (R is
// even) that share their multipliers and finish a step PeLat cycles after a
// single-cycle PE would (sq_gemm_pe). When the tile's last step's result is
// in PE(0,0), a drain token starts down column 0 (row r read r cycles later,
// once PE(r,0) captured it) and moves one column right per cycle, the same
// wavefront as the captures: every column emits one result per cycle, in row
// order, for R cycles.
// Group scales (Gs, sq_gemm_pe): row i's GEMV factor g_i takes the same skew
// and path as its activations, and each PE hands a group's partial sum to
// its right neighbour (fwd).
// Port arrays are flattened vectors (element i at [W*i +: W]) because yosys
// 0.23 accepts no unpacked array ports.
module sq_gemm_array #(
  parameter int unsigned R = sq_spec_pkg::SqArrayRows,
  parameter int unsigned C = sq_spec_pkg::SqArrayCols,
  parameter bit Gs = 1'b1,
  parameter bit Xdsp = 1'b0,   // sq_gemm_pe: DSP48E2 primitives for the products
  localparam int unsigned RW = (R > 1) ? $clog2(R) : 1,
  // cycles the PE pipeline adds before a result can be drained (sq_gemm_pe;
  // the GEMM cycle model's PE_LAT)
  localparam int unsigned PeLat = 4,
  localparam int unsigned WB = sq_gemm_pkg::WbusW
) (
  input  logic              clk_i,
  input  logic              rst_ni,
  input  logic [32*R-1:0]   a_i,
  input  logic [16*R-1:0]   g_i,
  input  logic [WB*C-1:0]   w_i,
  input  sq_gemm_pkg::tile_t tile_i,
  // per column: one drained accumulator per cycle
  output logic [C-1:0]      lane_valid_o,
  output logic [RW*C-1:0]   lane_row_o,
  output logic [32*C-1:0]   lane_acc_o,
  // identity of the tile the last column is draining
  output sq_gemm_pkg::tile_t last_tile_o
);
  // a_h[i*(C+1)+j] enters PE(i,j) from the left, w_v[p*C+j] the pair of
  // rows 2p, 2p+1 at column j from above.
  // Unpacked, not one (R+1)*C*WB-bit vector, which Verilator would rebuild
  // by concatenation every cycle.
  logic [31:0]         a_h [R*(C+1)];
  logic [15:0]         g_h [R*(C+1)];
  logic [31:0]         f_h [R*(C+1)];
  logic [WB-1:0]       w_v [(R/2+1)*C];
  logic [31:0]         res [R*C];

  // ---- input skew -------------------------------------------------------
  for (genvar i = 0; i < R; i++) begin : g_askew
    assign f_h[i*(C+1)] = '0;
    if (i == 0) begin : g_direct
      assign a_h[0] = a_i[31:0];
      assign g_h[0] = Gs ? g_i[15:0] : 16'd0;
    end else begin : g_delay
      logic [31:0] sr_q [i];
      always_ff @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          for (int unsigned d = 0; d < i; d++) begin
            sr_q[d] <= '0;
          end
        end else begin
          sr_q[0] <= a_i[32*i +: 32];
          for (int unsigned d = 1; d < i; d++) begin
            sr_q[d] <= sr_q[d-1];
          end
        end
      end
      assign a_h[i*(C+1)] = sr_q[i-1];
      if (Gs) begin : g_gskew
        logic [15:0] gr_q [i];
        always_ff @(posedge clk_i or negedge rst_ni) begin
          if (!rst_ni) begin
            for (int unsigned d = 0; d < i; d++) begin
              gr_q[d] <= '0;
            end
          end else begin
            gr_q[0] <= g_i[16*i +: 16];
            for (int unsigned d = 1; d < i; d++) begin
              gr_q[d] <= gr_q[d-1];
            end
          end
        end
        assign g_h[i*(C+1)] = gr_q[i-1];
      end else begin : g_nog
        assign g_h[i*(C+1)] = '0;
      end
    end
  end

  for (genvar j = 0; j < C; j++) begin : g_wskew
    if (j == 0) begin : g_direct
      assign w_v[0] = w_i[WB-1:0];
    end else begin : g_delay
      logic [WB-1:0] sr_q [j];
      always_ff @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          for (int unsigned d = 0; d < j; d++) begin
            sr_q[d] <= '0;
          end
        end else begin
          sr_q[0] <= w_i[WB*j +: WB];
          for (int unsigned d = 1; d < j; d++) begin
            sr_q[d] <= sr_q[d-1];
          end
        end
      end
      assign w_v[j] = sr_q[j-1];
    end
  end

  // ---- PE grid: pairs of rows (sq_gemm_pe) -----------------------------
  for (genvar p = 0; p < R / 2; p++) begin : g_pair
    for (genvar j = 0; j < C; j++) begin : g_col
      localparam int unsigned T = 2 * p * (C + 1) + j;  // top row's a_h index
      localparam int unsigned B = T + C + 1;            // bottom row's
      sq_gemm_pe #(.Gs(Gs), .Xdsp(Xdsp)) u_pe (
        .clk_i, .rst_ni,
        .a_i({a_h[B], a_h[T]}),
        .g_i({g_h[B], g_h[T]}),
        .fwd_i({f_h[B], f_h[T]}),
        .w_i(w_v[p*C+j]),
        .a_o({a_h[B+1], a_h[T+1]}),
        .g_o({g_h[B+1], g_h[T+1]}),
        .fwd_o({f_h[B+1], f_h[T+1]}),
        .w_o(w_v[(p+1)*C+j]),
        .res_o({res[(2*p+1)*C+j], res[2*p*C+j]})
      );
    end
  end

  // ---- drain tokens -----------------------------------------------------
  // Column 0's token is combinational; column j's is column j-1's, one cycle
  // later.
  logic [C-1:0]        tok_valid;
  logic [RW-1:0]       tok_row [C];
  logic [sq_gemm_pkg::TileW-1:0] tok_tile [C];
  logic [C-1:0]        tokq_valid;
  logic [RW-1:0]       tokq_row [C];
  logic [sq_gemm_pkg::TileW-1:0] tokq_tile [C];
  logic [RW-1:0]       cnt_q, cnt_d;
  logic                busy_q, busy_d;
  sq_gemm_pkg::tile_t  tile_q, tile_d;
  sq_gemm_pkg::wbus_t  w0;
  logic [PeLat:0]      last_q;
  logic                start;
  logic                tok0_valid;
  logic [RW-1:0]       tok0_row;
  sq_gemm_pkg::tile_t  tok0_tile;

  // PE(0,0)'s result of the tile's last step is readable PeLat + 1 cycles
  // after the step enters it (one cycle for a PE without a pipeline)
  assign w0 = w_v[0];
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      last_q <= '0;
    end else begin
      last_q <= {last_q[PeLat-1:0], w0.valid && w0.last};
    end
  end
  assign start = last_q[PeLat];

  always_comb begin
    cnt_d = cnt_q;
    busy_d = busy_q;
    tile_d = tile_q;
    tok0_valid = 1'b0;
    tok0_row = '0;
    tok0_tile = tile_q;
    if (start) begin
      tok0_valid = 1'b1;
      tok0_tile = tile_i;
      tile_d = tile_i;
      cnt_d = RW'(1);
      busy_d = R > 1;
    end else if (busy_q) begin
      tok0_valid = 1'b1;
      tok0_row = cnt_q;
      cnt_d = cnt_q + 1'b1;
      busy_d = cnt_q != RW'(R - 1);
    end
  end

  assign tok_valid[0] = tok0_valid;
  assign tok_row[0] = tok0_row;
  assign tok_tile[0] = tok0_tile;
  for (genvar j = 1; j < C; j++) begin : g_tok
    assign tok_valid[j] = tokq_valid[j-1];
    assign tok_row[j] = tokq_row[j-1];
    assign tok_tile[j] = tokq_tile[j-1];
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      cnt_q <= '0;
      busy_q <= 1'b0;
      tile_q <= '0;
      tokq_valid <= '0;
      for (int unsigned j = 0; j < C; j++) begin
        tokq_row[j] <= '0;
        tokq_tile[j] <= '0;
      end
    end else begin
      cnt_q <= cnt_d;
      busy_q <= busy_d;
      tile_q <= tile_d;
      tokq_valid <= tok_valid;
      for (int unsigned j = 0; j < C; j++) begin
        tokq_row[j] <= tok_row[j];
        tokq_tile[j] <= tok_tile[j];
      end
    end
  end

  for (genvar j = 0; j < C; j++) begin : g_lane
    assign lane_valid_o[j] = tok_valid[j];
    assign lane_row_o[RW*j +: RW] = tok_row[j];
    assign lane_acc_o[32*j +: 32] = res[32'(tok_row[j]) * C + j];
  end
  assign last_tile_o = tok_tile[C-1];
endmodule
