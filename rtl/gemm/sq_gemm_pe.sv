// Output-stationary PE: two int8 multipliers per cycle into one int32
// accumulator (wrapping, as sq_mac). The 2:4 position code selects which two
// of the four streamed activations meet the two weights, so a 2:4 step covers
// four K positions in the cycle a dense step covers two. Activations move
// right, weights and control move down, one PE per cycle. On the tile's last
// step the finished sum is copied to res_o, where the drain reads it while the
// accumulator already starts the next tile. Only valid steps load the
// registers (a_o and w_o's payload are only read with a valid w_o), so an idle
// PE does not toggle. In int4 GEMV mode (w_i.nib) the four streamed bytes are
// eight int4 weights: w0 meets the low nibble of byte code[1:0], w1 the high
// nibble of byte code[3:2], so four columns cover a step's eight K positions.
module sq_gemm_pe
(
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic [31:0] a_i,
  input  sq_gemm_pkg::wbus_t       w_i,
  output logic [31:0] a_o,
  output sq_gemm_pkg::wbus_t       w_o,
  output logic [31:0] res_o
);
  logic [31:0] a_q, acc_q, acc_d, res_q;
  sq_gemm_pkg::wbus_t       w_q;
  logic [7:0]         b0, b1;
  logic signed [7:0]  x0, x1;
  logic signed [15:0] p0, p1;
  logic signed [31:0] sum;

  assign b0 = a_i[{w_i.code[1:0], 3'b000} +: 8];
  assign b1 = a_i[{w_i.code[3:2], 3'b000} +: 8];
  assign x0 = w_i.nib ? {{4{b0[3]}}, b0[3:0]} : b0;
  assign x1 = w_i.nib ? {{4{b1[7]}}, b1[7:4]} : b1;
  assign p0 = x0 * $signed(w_i.w0);
  assign p1 = x1 * $signed(w_i.w1);
  assign sum = 32'(p0) + 32'(p1);

  assign acc_d = (w_i.first ? 32'd0 : acc_q) + sum;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      a_q <= '0;
      w_q <= '0;
      acc_q <= '0;
      res_q <= '0;
    end else if (w_i.valid) begin
      a_q <= a_i;
      w_q <= w_i;
      acc_q <= acc_d;
      if (w_i.last) begin
        res_q <= acc_d;
      end
    end else begin
      w_q.valid <= 1'b0;
    end
  end

  assign a_o = a_q;
  assign w_o = w_q;
  assign res_o = res_q;
endmodule
