// iCE40 UP5K top: the GEMM unit's small configuration (sq_ice40_gemm), 32 KiB
// of single-port RAM (one SB_SPRAM256KA, inferred) and a UART command
// interface, so a board on a USB serial port can run GEMMs.
//
// Protocol (bitstreams/ice40/README.md; host/ice40/ speaks it), little-endian:
//   'I'                      -> 'S' 'Q' R C
//   'W' addr:2 len:2 data    -> 'K'       write len bytes at addr
//   'R' addr:2 len:2         -> len bytes read from addr
//   'G' addr:2               -> status:1 cycles:4
//                               run the GEMM descriptor at addr (status 0: done)
//   anything else            -> '?'
// Addresses wrap at 32 KiB. The GEMM engine owns the memory while it runs.
module sq_ice40_top (
  input  logic clk_i,
  input  logic rx_i,
  output logic tx_o,
  output logic led_busy_no,  // on (low) while a GEMM runs
  output logic led_err_no    // on (low) after a GEMM that returned an error status
);
  localparam int unsigned AW = sq_ice40_pkg::MemAddrW;

  // ---- power-on reset: 15 cycles (iCE40 flip-flops start at their init value) --
  logic [3:0] por_q = '0;
  logic       rst_n;
  always_ff @(posedge clk_i) begin
    if (por_q != 4'hF) por_q <= por_q + 4'd1;
  end
  assign rst_n = por_q == 4'hF;

  // ---- UART ---------------------------------------------------------------------
  logic       rx_valid, tx_valid, tx_ready;
  logic [7:0] rx_data, tx_data;
  sq_ice40_uart u_uart (
    .clk_i, .rst_ni(rst_n), .rx_i, .tx_o,
    .rx_valid_o(rx_valid), .rx_data_o(rx_data),
    .tx_valid_i(tx_valid), .tx_data_i(tx_data), .tx_ready_o(tx_ready)
  );

  // ---- memory: 16K x 16 bits, byte writes ------------------------------------------
  logic [AW-1:0] addr;
  logic          we;
  logic [7:0]    wdata;
  // ram_style "huge": yosys maps it to the SB_SPRAM256KA (the UP5K has only
  // 30 4-kbit block RAMs)
  (* ram_style = "huge" *)
  logic [15:0]   mem [1 << (AW - 1)];
  logic [15:0]   rword_q;
  logic          rhi_q;
  logic [7:0]    rdata;
  always_ff @(posedge clk_i) begin
    // the SPRAM's read data holds during a write (yosys: rdwr no_change)
    if (we) begin
      if (!addr[0]) mem[addr[AW-1:1]][7:0] <= wdata;
      if (addr[0]) mem[addr[AW-1:1]][15:8] <= wdata;
    end else begin
      rword_q <= mem[addr[AW-1:1]];
    end
    rhi_q <= addr[0];
  end
  assign rdata = rhi_q ? rword_q[15:8] : rword_q[7:0];

  // ---- GEMM engine ------------------------------------------------------------------
  logic          g_start, g_done;
  logic [7:0]    g_status;
  logic [31:0]   g_cycles;
  logic [AW-1:0] g_addr;
  logic          g_we;
  logic [7:0]    g_wdata;
  logic [AW-1:0] c_addr_q;
  logic [7:0]    alo_q;         // address low byte of the command header
  logic [AW-1:0] hdr_addr;      // the header's address, with its high byte
  sq_ice40_gemm u_gemm (
    .clk_i, .rst_ni(rst_n), .start_i(g_start), .desc_i(hdr_addr),
    .done_o(g_done), .status_o(g_status), .cycles_o(g_cycles),
    .mem_addr_o(g_addr), .mem_we_o(g_we), .mem_wdata_o(g_wdata), .mem_rdata_i(rdata)
  );

  // ---- command interpreter -----------------------------------------------------------
  typedef enum logic [3:0] {
    Cmd, Hdr, WrData, WrAck, RdAddr, RdSend, Run, Reply
  } state_e;
  state_e      state_q;
  logic [7:0]  cmd_q;
  logic [2:0]  hdr_q;          // header bytes still to come
  logic [15:0] len_q;
  logic [2:0]  rep_n_q;        // reply bytes still to send
  logic [39:0] rep_q;          // reply, sent low byte first
  logic        err_q;

  // W, R: 4 header bytes (address, length), G: 2 (address)
  logic addr_lo, addr_hi;
  assign addr_lo = hdr_q == (cmd_q == "G" ? 3'd2 : 3'd4);
  assign addr_hi = hdr_q == (cmd_q == "G" ? 3'd1 : 3'd3);
  assign hdr_addr = AW'({rx_data, alo_q});
  assign g_start = state_q == Hdr && rx_valid && hdr_q == 3'd1 && cmd_q == "G";
  assign addr = state_q == Run ? g_addr : c_addr_q;
  assign we = state_q == Run ? g_we : state_q == WrData && rx_valid;
  assign wdata = state_q == Run ? g_wdata : rx_data;
  assign tx_valid = state_q == Reply || state_q == RdSend;
  assign tx_data = state_q == RdSend ? rdata : rep_q[7:0];
  assign led_busy_no = state_q != Run;
  assign led_err_no = !err_q;

  always_ff @(posedge clk_i or negedge rst_n) begin
    if (!rst_n) begin
      state_q <= Cmd;
      cmd_q <= '0;
      hdr_q <= '0;
      len_q <= '0;
      c_addr_q <= '0;
      alo_q <= '0;
      rep_n_q <= '0;
      rep_q <= '0;
      err_q <= 1'b0;
    end else begin
      unique case (state_q)
        Cmd: if (rx_valid) begin
          cmd_q <= rx_data;
          unique case (rx_data)
            "W", "R": begin
              hdr_q <= 3'd4;
              state_q <= Hdr;
            end
            "G": begin
              hdr_q <= 3'd2;
              state_q <= Hdr;
            end
            "I": begin
              rep_q <= {8'd0, 8'(sq_ice40_pkg::C), 8'(sq_ice40_pkg::R), "Q", "S"};
              rep_n_q <= 3'd4;
              state_q <= Reply;
            end
            default: begin
              rep_q <= {32'd0, "?"};
              rep_n_q <= 3'd1;
              state_q <= Reply;
            end
          endcase
        end
        Hdr: if (rx_valid) begin
          hdr_q <= hdr_q - 3'd1;
          if (addr_lo) alo_q <= rx_data;
          else if (addr_hi) c_addr_q <= hdr_addr;
          else len_q <= {rx_data, len_q[15:8]};
          if (hdr_q == 3'd1) begin
            unique case (cmd_q)
              "G": state_q <= Run;
              "W": state_q <= len_q[15:8] == 8'd0 && rx_data == 8'd0 ? WrAck : WrData;
              default: state_q <= len_q[15:8] == 8'd0 && rx_data == 8'd0 ? Cmd : RdAddr;
            endcase
          end
        end
        WrData: if (rx_valid) begin
          c_addr_q <= c_addr_q + 1'b1;
          len_q <= len_q - 16'd1;
          if (len_q == 16'd1) state_q <= WrAck;
        end
        WrAck: begin
          rep_q <= {32'd0, "K"};
          rep_n_q <= 3'd1;
          state_q <= Reply;
        end
        RdAddr: state_q <= RdSend;   // the memory reads c_addr_q; then rdata holds it
        RdSend: if (tx_ready) begin
          c_addr_q <= c_addr_q + 1'b1;
          len_q <= len_q - 16'd1;
          state_q <= len_q == 16'd1 ? Cmd : RdAddr;
        end
        Run: if (g_done) begin
          rep_q <= {g_cycles, g_status};
          rep_n_q <= 3'd5;
          err_q <= g_status != sq_ice40_pkg::StOk;
          state_q <= Reply;
        end
        Reply: if (tx_ready) begin
          rep_q <= {8'd0, rep_q[39:8]};
          rep_n_q <= rep_n_q - 3'd1;
          if (rep_n_q == 3'd1) state_q <= Cmd;
        end
        default: state_q <= Cmd;
      endcase
    end
  end
endmodule
