// Board wrapper of the iCE40 build: halves the iCEBreaker's 12 MHz oscillator
// to the 6 MHz sq_ice40_top runs at (sq_ice40_pkg::ClkHz). The top does not
// close at 12 MHz: sq_gemm_epi's last stage (a 64-bit rounding add, a shift by
// 0..62 and the int8 saturation in one cycle) takes about 105 ns in iCE40
// carry chains and LUT4s (bench/results/ice40.md). nextpnr promotes the
// divided clock to a global buffer.
module sq_ice40_board (
  input  logic clk_12m_i,
  input  logic rx_i,
  output logic tx_o,
  output logic led_busy_no,
  output logic led_err_no
);
  logic clk_q = 1'b0;
  always_ff @(posedge clk_12m_i) clk_q <= !clk_q;

  sq_ice40_top u_top (.clk_i(clk_q), .rx_i, .tx_o, .led_busy_no, .led_err_no);
endmodule
