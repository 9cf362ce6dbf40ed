// Small RAM with a synchronous write and an asynchronous read: the shape of
// FPGA distributed RAM (yosys maps it to RAM32M16/RAM64M8), and cheap to
// simulate. The attention core keeps its row buffers in these, where a wide
// register file would cost a multiplexer per bit on every access.
module sq_attn_lutram #(
  parameter int unsigned Depth = 8,
  parameter int unsigned Width = 128,
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

  assign rdata_o = mem_q[raddr_i];

  // Like sq_attn_ram, the write port is the template synthesis maps to RAM.
  always_ff @(posedge clk_i) begin
    if (we_i) begin
      mem_q[waddr_i] <= wdata_i;
    end
  end
endmodule
