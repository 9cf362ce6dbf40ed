// Simple dual-port RAM: one write port, one synchronous read port whose
// output holds until the next read enable. yosys maps it to LUT RAM or block
// RAM by its size; a read of the address being written returns the old
// contents.
//
// Not in FST waveforms: the units hold thousands of these (one per byte lane
// of every buffer), and tracing their ports and contents made three quarters
// of the Verilated C++ (the 16x16 GEMM unit: 21.7 of 28.1 MB, compiled on
// every build). The buffers' address, enable and data nets stay traced in
// the modules that instantiate them.
/* verilator tracing_off */
module sq_ram_sdp #(
  parameter int unsigned Width = 8,
  parameter int unsigned Depth = 64,
  localparam int unsigned AW = (Depth > 1) ? $clog2(Depth) : 1
) (
  input  logic             clk_i,
  input  logic             we_i,
  input  logic [AW-1:0]    waddr_i,
  input  logic [Width-1:0] wdata_i,
  input  logic             re_i,
  input  logic [AW-1:0]    raddr_i,
  output logic [Width-1:0] rdata_o
);
  logic [Width-1:0] mem [Depth];

  // The read comes first, so it sees the old contents. The write is blocking
  // because mem is private to this process: Verilator then stores directly
  // instead of queueing a delayed write (flag, index, value) that every one of
  // the thousands of lane RAMs would set up and test on every clock; yosys
  // infers the same memory either way.
  always_ff @(posedge clk_i) begin
    if (re_i) begin
      rdata_o <= mem[raddr_i];
    end
    if (we_i) begin
      mem[waddr_i] = wdata_i;
    end
  end
endmodule
/* verilator tracing_on */
