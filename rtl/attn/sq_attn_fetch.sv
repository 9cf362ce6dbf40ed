// Read engine of the attention core: fetches `len` bytes (1..4096) at any
// byte address into a buffer, and hands out 16 consecutive bytes starting at
// byte `pos` of the request (one chunk per cycle: a head_dim row is
// head_dim/16 chunks). A request of several K or V rows (a key block, at
// most 32 rows of 128 bytes) is one INCR burst of up to 65 64-byte beats,
// split in two where it would cross a 4 KB boundary (AXI4 forbids a burst
// to cross one); the core then reads row after row from the buffer without
// paying the memory latency again.
//
// The buffer is four LUT-RAM banks, one per 16-byte lane of a beat, addressed
// by beat. A chunk spans two consecutive 16-byte words, which always sit in
// different banks, so each bank is read once and a 16-byte shifter aligns the
// pair: no select over the whole buffer. Bytes past the request read what
// an earlier request left there; the core zeroes the lanes past head_dim.
module sq_attn_fetch (
  input  logic         clk_i,
  input  logic         rst_ni,
  input  logic         start_i,
  input  logic [63:0]  addr_i,
  input  logic [12:0]  len_i,
  output logic         done_o,
  output logic         stall_o,
  // chunk access: bytes pos .. pos+15 of the last request
  input  logic [12:0]  pos_i,
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
  logic [5:0]     off_q, off_d;     // byte offset of the request in its first beat
  logic [63:0]    cur_q, cur_d;     // address of the next burst (beat aligned)
  logic [6:0]     left_q, left_d;   // beats not yet requested (1..65)
  logic [6:0]     beat_q, beat_d;   // buffer beat the next data beat goes to
  logic           done_q, done_d;
  logic [6:0]     nbeats;
  logic [6:0]     to_4k, nburst;
  logic [13:0]    base;
  logic [9:0]     w;         // 16-byte word of the buffer holding byte `base`
  logic [27:0]    bank_ra;   // per bank: the beat holding word w or w + 1
  logic [511:0]   bank_rd;
  logic [1:0]     bank_hi;   // bank of word w + 1
  logic [127:0]   word_lo, word_hi;

  // bytes [addr % 64, addr % 64 + len) of the beats fetched
  assign nbeats = 7'(({7'd0, addr_i[5:0]} + len_i - 13'd1) >> 6) + 7'd1;
  // beats up to the next 4 KB boundary, and the burst's beats
  assign to_4k = 7'd64 - {1'b0, cur_q[11:6]};
  assign nburst = (left_q < to_4k) ? left_q : to_4k;
  assign arvalid_o = (st_q == FAddr);
  assign araddr_o = cur_q;
  assign arlen_o = {1'b0, nburst - 7'd1};
  assign rready_o = (st_q == FData);
  assign done_o = done_q;
  assign stall_o = (st_q == FAddr && !arready_i) || (st_q == FData && !rvalid_i);
  assign base = {8'd0, off_q} + {1'b0, pos_i};

  assign w = base[13:4];
  assign bank_hi = w[1:0] + 2'd1;

  always_comb begin
    for (int unsigned b = 0; b < 4; b++) begin
      bank_ra[7*b +: 7] = 7'(w[9:2] + ((2'(b) < w[1:0]) ? 8'd1 : 8'd0));
    end
  end

  for (genvar b = 0; b < 4; b++) begin : g_bank
    sq_attn_lutram #(.Depth(128), .Width(128)) u_bank (
      .clk_i, .we_i(st_q == FData && rvalid_i), .waddr_i(beat_q),
      .wdata_i(rdata_i[128*b +: 128]), .raddr_i(bank_ra[7*b +: 7]),
      .rdata_o(bank_rd[128*b +: 128])
    );
  end

  assign word_lo = bank_rd[128*w[1:0] +: 128];
  assign word_hi = bank_rd[128*bank_hi +: 128];
  assign chunk_o = 128'({word_hi, word_lo} >> {base[3:0], 3'd0});

  always_comb begin
    st_d = st_q;
    off_d = off_q;
    cur_d = cur_q;
    left_d = left_q;
    beat_d = beat_q;
    done_d = 1'b0;
    unique case (st_q)
      FIdle: begin
        if (start_i) begin
          off_d = addr_i[5:0];
          cur_d = {addr_i[63:6], 6'd0};
          left_d = nbeats;
          beat_d = 7'd0;
          st_d = FAddr;
        end
      end
      FAddr: begin
        if (arready_i) begin
          cur_d = cur_q + {51'd0, nburst, 6'd0};
          left_d = left_q - nburst;
          st_d = FData;
        end
      end
      FData: begin
        if (rvalid_i) begin
          beat_d = beat_q + 7'd1;
          if (rlast_i) begin
            // the rest of a request that crosses a 4 KB boundary
            if (left_q != 7'd0) begin
              st_d = FAddr;
            end else begin
              st_d = FIdle;
              done_d = 1'b1;
            end
          end
        end
      end
      default: st_d = FIdle;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      st_q <= FIdle;
      off_q <= 6'd0;
      cur_q <= 64'd0;
      left_q <= 7'd0;
      beat_q <= 7'd0;
      done_q <= 1'b0;
    end else begin
      st_q <= st_d;
      off_q <= off_d;
      cur_q <= cur_d;
      left_q <= left_d;
      beat_q <= beat_d;
      done_q <= done_d;
    end
  end
endmodule
