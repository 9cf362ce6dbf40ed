// Requantization epilogue for one output column, exactly sq_epilogue in
// include/sparq/numerics.h: bias add wrapping at 32 bits, 64-bit product with
// the channel multiplier, arithmetic shift 0..62 rounding half up, saturation
// to int8, ReLU; or (OUT32) the biased int32 value, ReLU applied. Three
// pipeline stages; the channel's parameters are latched with row 0 of a tile.
// A stage's data registers load only with a valid input (val_o is read only
// with valid_o), so an idle lane does not toggle.
module sq_gemm_epi (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic        bias_en_i,
  input  logic        out32_i,
  input  logic        relu_i,
  input  logic        valid_i,
  input  logic        row0_i,
  input  logic [31:0] acc_i,
  input  logic [31:0] bias_i,
  input  logic [31:0] mult_i,
  input  logic [31:0] shift_i,
  output logic        valid_o,
  output logic [31:0] val_o
);
  logic [31:0] bias_q, mult_q;
  logic [5:0]  shift_q;
  logic [31:0] bias_e, mult_e;
  logic [5:0]  shift_e;

  // stage registers
  logic        v1_q, v2_q, v3_q;
  logic [31:0] s1_q, s1_d, s2_sum_q, out_q, out_d;
  logic [31:0] m1_q;
  logic [5:0]  sh1_q, sh2_q;
  logic signed [63:0] p2_q, p2_d, rnd, shifted;

  assign bias_e = row0_i ? bias_i : bias_q;
  assign mult_e = row0_i ? mult_i : mult_q;
  assign shift_e = row0_i ? shift_i[5:0] : shift_q;
  assign s1_d = acc_i + (bias_en_i ? bias_e : 32'd0);
  assign p2_d = $signed(s1_q) * $signed(m1_q);

  always_comb begin
    rnd = p2_q;
    if (sh2_q != 6'd0) begin
      rnd = p2_q + (64'sd1 <<< (sh2_q - 6'd1));
    end
    shifted = rnd >>> sh2_q;
    if (out32_i) begin
      out_d = s2_sum_q;
    end else if (shifted > 64'sd127) begin
      out_d = 32'd127;
    end else if (shifted < -64'sd128) begin
      out_d = 32'hFFFF_FF80;
    end else begin
      out_d = shifted[31:0];
    end
    if (relu_i && out_d[31]) begin
      out_d = 32'd0;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      bias_q <= '0;
      mult_q <= '0;
      shift_q <= '0;
      v1_q <= 1'b0;
      v2_q <= 1'b0;
      v3_q <= 1'b0;
      s1_q <= '0;
      m1_q <= '0;
      sh1_q <= '0;
      sh2_q <= '0;
      s2_sum_q <= '0;
      p2_q <= '0;
      out_q <= '0;
    end else begin
      v1_q <= valid_i;
      v2_q <= v1_q;
      v3_q <= v2_q;
      if (valid_i) begin
        bias_q <= bias_e;
        mult_q <= mult_e;
        shift_q <= shift_e;
        s1_q <= s1_d;
        m1_q <= mult_e;
        sh1_q <= shift_e;
      end
      if (v1_q) begin
        p2_q <= p2_d;
        sh2_q <= sh1_q;
        s2_sum_q <= s1_q;
      end
      if (v2_q) begin
        out_q <= out_d;
      end
    end
  end

  assign valid_o = v3_q;
  assign val_o = out_q;
endmodule
