// One on-chip row (of A, W or 2:4 codes) of Depth words, stored as 64
// byte-lane RAMs (sq_ram_sdp) so that each byte has its own write address.
// The loader fills a region of words from wbase_i on (a buffer slot): a
// fetched beat q covers row bytes [q*64 - off, q*64 - off + 64); it arrives
// rotated by off bytes (sq_gemm_loader), so lanes [0, 64-off) belong to
// region word q and the other lanes to word q-1: one write per beat, no
// realignment buffer. Words at or past wlim_i (the region's size) are not
// written, so a row's tail never spills into the next region. A read fetches
// one word into the lanes' output registers, which hold it until the next
// read enable; bytes_o are the NBytes lanes from pos_i on (wrapping at 64),
// so only they leave the buffer.
module sq_gemm_rowbuf
#(
  parameter int unsigned Depth = sq_gemm_pkg::RowWords,
  parameter int unsigned QW = 7,
  parameter int unsigned NBytes = 1,
  localparam int unsigned AW = $clog2(Depth)
) (
  input  logic             clk_i,
  input  logic             we_i,
  input  logic [AW-1:0]    wbase_i,
  input  logic [QW-1:0]    wq_i,
  input  logic [QW-1:0]    wlim_i,
  input  logic [5:0]       woff_i,
  input  logic [sq_gemm_pkg::BeatW-1:0] wdata_i,
  input  logic             re_i,
  input  logic [AW-1:0]    raddr_i,
  input  logic [5:0]       pos_i,
  output logic [8*NBytes-1:0] bytes_o
);
  logic [QW-1:0] qm1;
  logic          lo_ok, hi_ok;
  logic [AW-1:0] lo_addr, hi_addr;
  logic [sq_gemm_pkg::BeatW-1:0] lanes;

  assign qm1 = wq_i - 1'b1;
  assign lo_ok = we_i && wq_i < wlim_i;
  assign hi_ok = we_i && woff_i != 6'd0 && wq_i != '0 && qm1 < wlim_i;
  assign lo_addr = wbase_i + AW'(wq_i);
  assign hi_addr = wbase_i + AW'(qm1);

  for (genvar b = 0; b < 64; b++) begin : g_lane
    logic lo;
    assign lo = 7'(b) + {1'b0, woff_i} < 7'd64;
    sq_ram_sdp #(.Width(8), .Depth(Depth)) u_ram (
      .clk_i,
      .we_i(lo ? lo_ok : hi_ok),
      .waddr_i(lo ? lo_addr : hi_addr),
      .wdata_i(wdata_i[8*b +: 8]),
      .re_i, .raddr_i,
      .rdata_o(lanes[8*b +: 8])
    );
  end

  for (genvar e = 0; e < NBytes; e++) begin : g_byte
    logic [5:0] p;
    assign p = pos_i + 6'(e);
    assign bytes_o[8*e +: 8] = lanes[8*p +: 8];
  end
endmodule
