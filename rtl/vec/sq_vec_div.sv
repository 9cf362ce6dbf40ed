// Sequential restoring divider of the vector unit: quot = floor(dividend /
// divisor), rem = dividend mod divisor, one quotient bit per cycle from bit
// bits-1 down (the caller guarantees dividend < 2^bits), so a division takes
// bits cycles after start and done_o rises in the cycle after the last. Its
// uses (include/sparq/vec.h): the sigmoid's 1/(1+e) (31 bits), rule 2's
// reciprocal (53), rsqrt's 2^61 / r (62) and LayerNorm's mean (50). A zero
// divisor gives all-ones, which the core never uses (it overrides those
// results, as the C rules do for an all-zero row).
module sq_vec_div (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        start_i,
  input  logic [63:0] dividend_i,
  input  logic [31:0] divisor_i,
  input  logic [6:0]  bits_i,
  output logic        done_o,
  output logic [63:0] quot_o,
  output logic [32:0] rem_o
);
  logic [6:0]  bit_q, bit_d;
  logic        busy_q, busy_d, done_q, done_d;
  logic [32:0] rem_q, rem_d;
  logic [63:0] quot_q, quot_d, num_q, num_d;
  logic [31:0] div_q, div_d;
  logic [33:0] shifted;

  assign done_o = done_q;
  assign quot_o = quot_q;
  assign rem_o = rem_q;
  assign shifted = {rem_q, num_q[bit_q[5:0]]};

  always_comb begin
    bit_d = bit_q;
    busy_d = busy_q;
    done_d = 1'b0;
    rem_d = rem_q;
    quot_d = quot_q;
    num_d = num_q;
    div_d = div_q;
    if (start_i) begin
      busy_d = 1'b1;
      bit_d = bits_i - 7'd1;
      rem_d = 33'd0;
      quot_d = 64'd0;
      num_d = dividend_i;
      div_d = divisor_i;
    end else if (busy_q) begin
      quot_d[bit_q[5:0]] = shifted >= {2'b0, div_q};
      rem_d = 33'(shifted >= {2'b0, div_q} ? shifted - {2'b0, div_q} : shifted);
      if (bit_q == 7'd0) begin
        busy_d = 1'b0;
        done_d = 1'b1;
      end else begin
        bit_d = bit_q - 7'd1;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      bit_q <= 7'd0;
      busy_q <= 1'b0;
      done_q <= 1'b0;
      rem_q <= 33'd0;
      quot_q <= 64'd0;
      num_q <= 64'd0;
      div_q <= 32'd0;
    end else begin
      bit_q <= bit_d;
      busy_q <= busy_d;
      done_q <= done_d;
      rem_q <= rem_d;
      quot_q <= quot_d;
      num_q <= num_d;
      div_q <= div_d;
    end
  end
endmodule
