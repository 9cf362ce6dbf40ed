// R x C output-stationary systolic array with input skew and result drain.
// Row i's activations are delayed i cycles and column j's weights j cycles,
// so PE(i,j) sees step t at cycle t+i+j. When the tile's last step leaves
// PE(0,0), a drain token starts down column 0 (row r read r cycles later, the
// cycle after PE(r,0) captured it) and moves one column right per cycle, the
// same wavefront as the captures: every column emits one result per cycle, in
// row order, for R cycles.
module sq_gemm_array
  import sq_spec_pkg::*;
  import sq_gemm_pkg::*;
#(
  parameter int unsigned R = SqArrayRows,
  parameter int unsigned C = SqArrayCols,
  localparam int unsigned RW = (R > 1) ? $clog2(R) : 1
) (
  input  logic          clk_i,
  input  logic          rst_ni,
  input  logic [31:0]   a_i [R],
  input  wbus_t         w_i [C],
  input  tile_t         tile_i,
  // per column: one drained accumulator per cycle
  output logic          lane_valid_o [C],
  output logic [RW-1:0] lane_row_o [C],
  output logic [31:0]   lane_acc_o [C],
  output tile_t         lane_tile_o [C]
);
  logic [31:0] a_h [R][C+1];
  wbus_t       w_v [R+1][C];
  logic [31:0] res [R][C];

  // ---- input skew -------------------------------------------------------
  for (genvar i = 0; i < R; i++) begin : g_askew
    if (i == 0) begin : g_direct
      assign a_h[i][0] = a_i[i];
    end else begin : g_delay
      logic [31:0] sr_q [i];
      always_ff @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          for (int unsigned d = 0; d < i; d++) begin
            sr_q[d] <= '0;
          end
        end else begin
          sr_q[0] <= a_i[i];
          for (int unsigned d = 1; d < i; d++) begin
            sr_q[d] <= sr_q[d-1];
          end
        end
      end
      assign a_h[i][0] = sr_q[i-1];
    end
  end

  for (genvar j = 0; j < C; j++) begin : g_wskew
    if (j == 0) begin : g_direct
      assign w_v[0][j] = w_i[j];
    end else begin : g_delay
      wbus_t sr_q [j];
      always_ff @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          for (int unsigned d = 0; d < j; d++) begin
            sr_q[d] <= '0;
          end
        end else begin
          sr_q[0] <= w_i[j];
          for (int unsigned d = 1; d < j; d++) begin
            sr_q[d] <= sr_q[d-1];
          end
        end
      end
      assign w_v[0][j] = sr_q[j-1];
    end
  end

  // ---- PE grid ----------------------------------------------------------
  for (genvar i = 0; i < R; i++) begin : g_row
    for (genvar j = 0; j < C; j++) begin : g_col
      sq_gemm_pe u_pe (
        .clk_i, .rst_ni,
        .a_i(a_h[i][j]),
        .w_i(w_v[i][j]),
        .a_o(a_h[i][j+1]),
        .w_o(w_v[i+1][j]),
        .res_o(res[i][j])
      );
    end
  end

  // ---- drain tokens -----------------------------------------------------
  typedef struct packed {
    logic          valid;
    logic [RW-1:0] row;
    tile_t         tile;
  } tok_t;

  tok_t          tok [C];
  tok_t          tok_q [C];
  logic [RW-1:0] cnt_q, cnt_d;
  logic          busy_q, busy_d;
  tile_t         tile_q, tile_d;
  logic          start;

  assign start = w_v[1][0].valid && w_v[1][0].last;

  always_comb begin
    cnt_d = cnt_q;
    busy_d = busy_q;
    tile_d = tile_q;
    tok[0] = '0;
    if (start) begin
      tok[0].valid = 1'b1;
      tok[0].row = '0;
      tok[0].tile = tile_i;
      tile_d = tile_i;
      cnt_d = RW'(1);
      busy_d = R > 1;
    end else if (busy_q) begin
      tok[0].valid = 1'b1;
      tok[0].row = cnt_q;
      tok[0].tile = tile_q;
      cnt_d = cnt_q + 1'b1;
      busy_d = cnt_q != RW'(R - 1);
    end
  end

  for (genvar j = 1; j < C; j++) begin : g_tok
    assign tok[j] = tok_q[j-1];
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      cnt_q <= '0;
      busy_q <= 1'b0;
      tile_q <= '0;
      for (int unsigned j = 0; j < C; j++) begin
        tok_q[j] <= '0;
      end
    end else begin
      cnt_q <= cnt_d;
      busy_q <= busy_d;
      tile_q <= tile_d;
      tok_q <= tok;
    end
  end

  for (genvar j = 0; j < C; j++) begin : g_lane
    assign lane_valid_o[j] = tok[j].valid;
    assign lane_row_o[j] = tok[j].row;
    assign lane_acc_o[j] = res[tok[j].row][j];
    assign lane_tile_o[j] = tok[j].tile;
  end
endmodule
