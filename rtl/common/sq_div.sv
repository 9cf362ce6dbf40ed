// Sequential restoring divider, one quotient bit per cycle: quot =
// floor(dividend / divisor), rem = dividend mod divisor. A division starts at
// quotient bit top_i and ends at bit 0, so it takes top_i + 1 cycles after
// start_i and done_o rises in the cycle after the last (the caller guarantees
// dividend < 2^(top_i+1) and a quotient of at most QuotW bits). The caller
// streams the dividend in, MSB first: num_bit_i is dividend bit bit_o. So a
// constant dividend (the softmax's 2^46) costs no register, and a run-time one
// is held by the caller. A zero divisor gives an all-ones quotient, which
// neither unit uses (both override those results, as the C rules do).
// Users: the attention unit's softmax reciprocal floor(2^46 / sum)
// (include/sparq/attn.h) and the vector unit's sigmoid, rule 2 reciprocal,
// rsqrt and LayerNorm mean (include/sparq/vec.h).
module sq_div #(
  parameter int unsigned MaxBits = 64, // the longest division, in quotient bits
  parameter int unsigned QuotW = 64,   // quotient bits kept
  parameter int unsigned DivW = 32
) (
  input  logic                       clk_i,
  input  logic                       rst_ni,
  input  logic                       start_i,
  input  logic [$clog2(MaxBits)-1:0] top_i,
  input  logic [DivW-1:0]            divisor_i,
  output logic [$clog2(MaxBits)-1:0] bit_o,
  input  logic                       num_bit_i,
  output logic                       done_o,
  output logic [QuotW-1:0]           quot_o,
  output logic [DivW-1:0]            rem_o
);
  localparam int unsigned BitW = $clog2(MaxBits);
  logic [BitW-1:0]  bit_q, bit_d;
  logic             busy_q, busy_d, done_q, done_d;
  logic [DivW-1:0]  rem_q, rem_d, div_q, div_d;
  logic [QuotW-1:0] quot_q, quot_d;
  logic [DivW:0]    shifted;
  logic             take;

  assign bit_o = bit_q;
  assign done_o = done_q;
  assign quot_o = quot_q;
  assign rem_o = rem_q;
  // the remainder stays below the divisor, so DivW bits hold it
  assign shifted = {rem_q, num_bit_i};
  assign take = shifted >= {1'b0, div_q};

  always_comb begin
    bit_d = bit_q;
    busy_d = busy_q;
    done_d = 1'b0;
    rem_d = rem_q;
    quot_d = quot_q;
    div_d = div_q;
    if (start_i) begin
      busy_d = 1'b1;
      bit_d = top_i;
      rem_d = '0;
      quot_d = '0;
      div_d = divisor_i;
    end else if (busy_q) begin
      rem_d = DivW'(take ? shifted - {1'b0, div_q} : shifted);
      quot_d = {quot_q[QuotW-2:0], take};
      if (bit_q == '0) begin
        busy_d = 1'b0;
        done_d = 1'b1;
      end else begin
        bit_d = bit_q - 1'b1;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      bit_q <= '0;
      busy_q <= 1'b0;
      done_q <= 1'b0;
      rem_q <= '0;
      quot_q <= '0;
      div_q <= '0;
    end else begin
      bit_q <= bit_d;
      busy_q <= busy_d;
      done_q <= done_d;
      rem_q <= rem_d;
      quot_q <= quot_d;
      div_q <= div_d;
    end
  end
endmodule
