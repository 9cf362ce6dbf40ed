// Clock gate: clk_o runs while en_i, sampled while the clock is low, so the
// gated clock never glitches. The accelerator kernel gives each unit core its
// own: an idle core takes no clock edges, which saves its switching power on
// the FPGA and, under Verilator, the evaluation of its flip-flops and the
// logic behind them (an idle 16x16 GEMM array otherwise costs the attention
// unit's simulation most of its speed, bench/results/cp.md). On UltraScale+
// it is the global buffer's own enable (BUFGCE); in simulation the classic
// latch-and-AND cell.
module sq_clk_gate (
  input  logic clk_i,
  input  logic en_i,
  output logic clk_o
);
`ifdef SYNTHESIS
  BUFGCE u_bufgce (.I(clk_i), .CE(en_i), .O(clk_o));
`else
  logic en_l;
  always_latch begin
    if (!clk_i) begin
      en_l = en_i;
    end
  end
  assign clk_o = clk_i && en_l;
`endif
endmodule
