// Sequential restoring divider for the softmax reciprocal: quot = floor(2^46
// / divisor), one quotient bit per cycle (47 cycles), one division per query
// row. The divisor (the exponent sum) is at least 2^15, so the quotient fits
// 32 bits (sq_attn_recip in include/sparq/attn.h).
module sq_attn_div (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        start_i,
  input  logic [31:0] divisor_i,
  output logic        done_o,
  output logic [31:0] quot_o
);
  logic [5:0]  bit_q, bit_d;
  logic        busy_q, busy_d, done_q, done_d;
  logic [32:0] rem_q, rem_d;
  logic [46:0] quot_q, quot_d;
  logic [31:0] div_q, div_d;
  logic [32:0] shifted;

  assign done_o = done_q;
  assign quot_o = quot_q[31:0];
  // dividend 2^46: its only set bit enters the remainder at bit 46
  assign shifted = {rem_q[31:0], (bit_q == 6'd46)};

  always_comb begin
    bit_d = bit_q;
    busy_d = busy_q;
    done_d = 1'b0;
    rem_d = rem_q;
    quot_d = quot_q;
    div_d = div_q;
    if (start_i) begin
      busy_d = 1'b1;
      bit_d = 6'd46;
      rem_d = 33'd0;
      quot_d = 47'd0;
      div_d = divisor_i;
    end else if (busy_q) begin
      if (shifted >= {1'b0, div_q}) begin
        rem_d = shifted - {1'b0, div_q};
        quot_d = {quot_q[45:0], 1'b1};
      end else begin
        rem_d = shifted;
        quot_d = {quot_q[45:0], 1'b0};
      end
      if (bit_q == 6'd0) begin
        busy_d = 1'b0;
        done_d = 1'b1;
      end else begin
        bit_d = bit_q - 6'd1;
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      bit_q <= 6'd0;
      busy_q <= 1'b0;
      done_q <= 1'b0;
      rem_q <= 33'd0;
      quot_q <= 47'd0;
      div_q <= 32'd0;
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
