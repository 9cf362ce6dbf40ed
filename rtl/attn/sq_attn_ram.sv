// Simple dual-port RAM with a registered read (one write and one read per
// cycle), the shape FPGA block RAM offers; the attention core keeps its
// per-query lists (scores, key indices, exponents, selection) in these.
// Not sq_ram_sdp (the GEMM unit's lane RAM, with a read enable and a blocking
// write for Verilator's sake): with it in their place, re_i tied high,
// `make synth-attn` counted 467 more LUTs for the same 8 BRAM36.
module sq_attn_ram #(
  parameter int unsigned Depth = 4096,
  parameter int unsigned Width = 32,
  localparam int unsigned AW = $clog2(Depth)
) (
  input  logic             clk_i,
  input  logic             we_i,
  input  logic [AW-1:0]    waddr_i,
  input  logic [Width-1:0] wdata_i,
  input  logic [AW-1:0]    raddr_i,
  output logic [Width-1:0] rdata_o
);
  logic [Width-1:0] mem_q [Depth];
  logic [Width-1:0] rdata_q;

  assign rdata_o = rdata_q;

  // Memories are the one place always_ff does more than load q <= d: this is
  // the template synthesis maps to block RAM.
  always_ff @(posedge clk_i) begin
    if (we_i) begin
      mem_q[waddr_i] <= wdata_i;
    end
    rdata_q <= mem_q[raddr_i];
  end
endmodule
