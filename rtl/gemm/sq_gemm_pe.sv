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
//
// Group scales (SQ_GEMM_GSCALE, w_i.gsc; docs/gemm_rtl.md "Group scales"):
// the accumulator holds the open group's partial sum. On a step that closes
// a group (w_i.gend) a scaling PE (w_i.sc) adds sq_rshift_round(p * gs, 15)
// to its scaled sum tot and restarts the partial sum; gs is the column's
// factor (w_i.gs) or, in GEMV mode, the row's (g_i); the feeder sets exactly
// one of them. In GEMV mode a group's partial sum is spread over the row's 2
// or 4 active columns, and the scale must see it whole: PE(i,j) hands its
// part to PE(i,j+1) through fwd_o (registered; PE(i,j+1) sees the same step
// one cycle later, and w_i.fin adds it on that closing step), and only the
// last active column scales.
// With Gs = 0 (the iCE40 build) none of this is generated.
module sq_gemm_pe
#(
  parameter bit Gs = 1'b1
) (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic [31:0] a_i,
  input  logic [15:0] g_i,
  input  logic [31:0] fwd_i,
  input  sq_gemm_pkg::wbus_t       w_i,
  output logic [31:0] a_o,
  output logic [15:0] g_o,
  output logic [31:0] fwd_o,
  output sq_gemm_pkg::wbus_t       w_o,
  output logic [31:0] res_o
);
  logic [31:0] a_q, acc_q, acc_d, res_q, res_d;
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

  if (Gs) begin : g_gs
    logic [31:0] tot_q, tot_d, grp, fwd_q, scaled;
    logic [15:0] g_q, gs;
    logic signed [48:0] prod;
    logic close;
    assign close = w_i.gsc && w_i.gend;
    assign grp = (w_i.first ? 32'd0 : acc_q) + 32'(sum) + ((w_i.fin && close) ? fwd_i : 32'd0);
    assign gs = w_i.gs | g_i;
    assign prod = $signed(grp) * $signed({1'b0, gs});
    // sq_rshift_round(p * gs, 15) modulo 2^32, as the golden's int32 cast
    assign scaled = 32'((prod + 49'sd16384) >>> 15);
    assign tot_d = (w_i.first ? 32'd0 : tot_q) + ((close && w_i.sc) ? scaled : 32'd0);
    assign acc_d = close ? 32'd0 : grp;
    assign res_d = w_i.gsc ? tot_d : acc_d;
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        tot_q <= '0;
        fwd_q <= '0;
        g_q <= '0;
      end else if (w_i.valid) begin
        tot_q <= tot_d;
        g_q <= g_i;
        if (close && !w_i.sc) begin
          fwd_q <= grp;
        end
      end
    end
    assign g_o = g_q;
    assign fwd_o = fwd_q;
  end else begin : g_plain
    assign acc_d = (w_i.first ? 32'd0 : acc_q) + sum;
    assign res_d = acc_d;
    assign g_o = '0;
    assign fwd_o = '0;
  end

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
        res_q <= res_d;
      end
    end else begin
      w_q.valid <= 1'b0;
    end
  end

  assign a_o = a_q;
  assign w_o = w_q;
  assign res_o = res_q;
endmodule
