// One on-chip row (of A, W or 2:4 codes) in 2^SlotW buffer slots.
// A fetched beat covers row bytes [q*64 - off, q*64 - off + 64); it arrives
// rotated by off bytes (sq_gemm_loader), so it splits into the upper part of
// row word q-1 and the lower part of word q. Even and odd words live in two
// banks, so both parts are written in one cycle without a realignment buffer.
// Reads are synchronous and hold their value until the next read enable.
module sq_gemm_rowbuf
#(
  parameter int unsigned Words = sq_gemm_pkg::RowWords,
  parameter int unsigned SlotW = 1,
  parameter int unsigned QW = 7
) (
  input  logic             clk_i,
  input  logic             we_i,
  input  logic [SlotW-1:0] wslot_i,
  input  logic [QW-1:0]    wq_i,
  input  logic [5:0]       woff_i,
  input  logic [sq_gemm_pkg::BeatW-1:0] wdata_i,
  input  logic             re_i,
  input  logic [SlotW-1:0] rslot_i,
  input  logic [$clog2(Words)-1:0] rword_i,
  output logic [sq_gemm_pkg::BeatW-1:0] rdata_o
);
  localparam int unsigned BankDepth = (1 << SlotW) * Words / 2;
  localparam int unsigned AW = $clog2(BankDepth);

  logic [sq_gemm_pkg::BeatW-1:0] bank0 [BankDepth];
  logic [sq_gemm_pkg::BeatW-1:0] bank1 [BankDepth];
  logic [sq_gemm_pkg::BeatW-1:0] rd0_q, rd1_q;
  logic             sel_q;

  logic [63:0]   lo_mask;
  logic [QW-1:0] qm1;
  logic          lo_ok, hi_ok;
  logic [63:0]   be0, be1;
  logic [AW-1:0] wa0, wa1, ra;

  assign lo_mask = woff_i == 6'd0 ? {64{1'b1}} : ((64'd1 << (7'd64 - {1'b0, woff_i})) - 64'd1);
  assign qm1 = wq_i - 1'b1;
  assign lo_ok = we_i && wq_i < QW'(Words);
  assign hi_ok = we_i && woff_i != 6'd0 && wq_i != '0 && qm1 < QW'(Words);
  assign ra = {rslot_i, rword_i[$clog2(Words)-1:1]};

  always_comb begin
    be0 = 64'd0;
    be1 = 64'd0;
    wa0 = {wslot_i, wq_i[$clog2(Words)-1:1]};
    wa1 = wa0;
    if (wq_i[0] == 1'b0) begin
      // word q in bank 0, word q-1 in bank 1
      be0 = lo_ok ? lo_mask : 64'd0;
      be1 = hi_ok ? ~lo_mask : 64'd0;
      wa1 = {wslot_i, qm1[$clog2(Words)-1:1]};
    end else begin
      be1 = lo_ok ? lo_mask : 64'd0;
      be0 = hi_ok ? ~lo_mask : 64'd0;
      wa0 = {wslot_i, qm1[$clog2(Words)-1:1]};
    end
  end

`ifdef VERILATOR
  // Same write as below. Verilator unrolls a per-byte enable loop into 128
  // delayed assignments per instance (10x the model's code and build time), so
  // the simulation writes the word through a bit mask instead.
  logic [sq_gemm_pkg::BeatW-1:0] bm0, bm1;
  for (genvar b = 0; b < 64; b++) begin : g_bm
    assign bm0[8*b +: 8] = {8{be0[b]}};
    assign bm1[8*b +: 8] = {8{be1[b]}};
  end
  always_ff @(posedge clk_i) begin
    if (|be0) begin
      bank0[wa0] <= (bank0[wa0] & ~bm0) | (wdata_i & bm0);
    end
    if (|be1) begin
      bank1[wa1] <= (bank1[wa1] & ~bm1) | (wdata_i & bm1);
    end
  end
`else
  // Byte-enable write as in the vendor BRAM templates.
  always_ff @(posedge clk_i) begin
    for (int unsigned b = 0; b < 64; b++) begin
      if (be0[b]) begin
        bank0[wa0][8*b +: 8] <= wdata_i[8*b +: 8];
      end
      if (be1[b]) begin
        bank1[wa1][8*b +: 8] <= wdata_i[8*b +: 8];
      end
    end
  end
`endif

  always_ff @(posedge clk_i) begin
    if (re_i) begin
      rd0_q <= bank0[ra];
      rd1_q <= bank1[ra];
      sel_q <= rword_i[0];
    end
  end

  assign rdata_o = sel_q ? rd1_q : rd0_q;
endmodule
