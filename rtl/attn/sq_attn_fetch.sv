// Read engine of the attention core: fetches `len` bytes (1..128) at any
// byte address as one INCR burst of up to three 64-byte beats into a buffer,
// and hands out 16 consecutive bytes starting at byte `pos` of the request
// (one chunk per cycle: a head_dim row is head_dim/16 chunks).
//
// The buffer is four LUT-RAM banks, one per 16-byte lane of a beat, addressed
// by beat. A chunk spans two consecutive 16-byte words, which always sit in
// different banks, so each bank is read once and a 16-byte shifter aligns the
// pair: no select over the whole 192-byte buffer.
module sq_attn_fetch (
  input  logic         clk_i,
  input  logic         rst_ni,
  input  logic         start_i,
  input  logic [63:0]  addr_i,
  input  logic [7:0]   len_i,
  output logic         done_o,
  output logic         stall_o,
  // chunk access: bytes pos .. pos+15 of the last request
  input  logic [7:0]   pos_i,
  output logic [127:0] chunk_o,
  // AXI4 read address / data
  output logic         arvalid_o,
  input  logic         arready_i,
  output logic [63:0]  araddr_o,
  output logic [7:0]   arlen_o,
  input  logic         rvalid_i,
  output logic         rready_o,
  input  logic [511:0] rdata_i,
  input  logic         rlast_i
);
  typedef enum logic [1:0] {FIdle, FAddr, FData} fstate_e;

  fstate_e        st_q, st_d;
  logic [63:0]    addr_q, addr_d;
  logic [7:0]     len_q, len_d;
  logic [1:0]     beat_q, beat_d;
  logic           done_q, done_d;
  logic [1:0]     last_beat;
  logic [8:0]     base;
  logic [4:0]     w;         // 16-byte word of the buffer holding byte `base`
  logic [7:0]     bank_ra;   // per bank: the beat holding word w or w + 1
  logic [511:0]   bank_rd;
  logic [1:0]     bank_hi;   // bank of word w + 1
  logic [127:0]   word_lo, word_hi;

  // bytes [addr % 64, addr % 64 + len) of the beats fetched
  assign last_beat = 2'(({3'd0, addr_q[5:0]} + {1'b0, len_q} - 9'd1) >> 6);
  assign arvalid_o = (st_q == FAddr);
  assign araddr_o = {addr_q[63:6], 6'd0};
  assign arlen_o = {6'd0, last_beat};
  assign rready_o = (st_q == FData);
  assign done_o = done_q;
  assign stall_o = (st_q == FAddr && !arready_i) || (st_q == FData && !rvalid_i);
  assign base = {3'd0, addr_q[5:0]} + {1'b0, pos_i};

  assign w = base[8:4];
  assign bank_hi = w[1:0] + 2'd1;

  always_comb begin
    for (int unsigned b = 0; b < 4; b++) begin
      bank_ra[2*b +: 2] = 2'(w[4:2] + ((2'(b) < w[1:0]) ? 3'd1 : 3'd0));
    end
  end

  for (genvar b = 0; b < 4; b++) begin : g_bank
    sq_attn_lutram #(.Depth(4), .Width(128)) u_bank (
      .clk_i, .we_i(st_q == FData && rvalid_i), .waddr_i(beat_q),
      .wdata_i(rdata_i[128*b +: 128]), .raddr_i(bank_ra[2*b +: 2]),
      .rdata_o(bank_rd[128*b +: 128])
    );
  end

  // words past the 12 of the buffer read 0
  assign word_lo = (w < 5'd12) ? bank_rd[128*w[1:0] +: 128] : 128'd0;
  assign word_hi = (w < 5'd11) ? bank_rd[128*bank_hi +: 128] : 128'd0;
  assign chunk_o = 128'({word_hi, word_lo} >> {base[3:0], 3'd0});

  always_comb begin
    st_d = st_q;
    addr_d = addr_q;
    len_d = len_q;
    beat_d = beat_q;
    done_d = 1'b0;
    unique case (st_q)
      FIdle: begin
        if (start_i) begin
          addr_d = addr_i;
          len_d = len_i;
          beat_d = 2'd0;
          st_d = FAddr;
        end
      end
      FAddr: begin
        if (arready_i) begin
          st_d = FData;
        end
      end
      FData: begin
        if (rvalid_i) begin
          beat_d = beat_q + 2'd1;
          if (rlast_i) begin
            st_d = FIdle;
            done_d = 1'b1;
          end
        end
      end
      default: st_d = FIdle;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      st_q <= FIdle;
      addr_q <= 64'd0;
      len_q <= 8'd0;
      beat_q <= 2'd0;
      done_q <= 1'b0;
    end else begin
      st_q <= st_d;
      addr_q <= addr_d;
      len_q <= len_d;
      beat_q <= beat_d;
      done_q <= done_d;
    end
  end
endmodule
