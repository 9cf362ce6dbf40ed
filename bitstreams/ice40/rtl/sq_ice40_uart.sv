// UART 8N1, one start bit, eight data bits LSB first, one stop bit; a bit
// lasts BitCycles clock cycles. The receiver samples mid-bit after a
// two-flop synchronizer and drops a start bit that does not last to its middle
// (a glitch); a byte whose stop bit is low (framing error) is dropped too.
module sq_ice40_uart
#(
  parameter int unsigned BitCycles = sq_ice40_pkg::BitCycles
) (
  input  logic       clk_i,
  input  logic       rst_ni,
  input  logic       rx_i,
  output logic       tx_o,
  // received byte, valid one cycle
  output logic       rx_valid_o,
  output logic [7:0] rx_data_o,
  // byte to send, taken when tx_ready_o
  input  logic       tx_valid_i,
  input  logic [7:0] tx_data_i,
  output logic       tx_ready_o
);
  localparam int unsigned CW = $clog2(BitCycles + 1);

  // ---- receiver -------------------------------------------------------------
  logic [1:0]    sync_q;
  logic          rx_busy_q;
  logic [CW-1:0] rx_cnt_q;
  logic [3:0]    rx_bit_q;
  logic [7:0]    rx_sh_q;
  logic          rx_valid_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      sync_q <= 2'b11;
      rx_busy_q <= 1'b0;
      rx_cnt_q <= '0;
      rx_bit_q <= '0;
      rx_sh_q <= '0;
      rx_valid_q <= 1'b0;
    end else begin
      sync_q <= {sync_q[0], rx_i};
      rx_valid_q <= 1'b0;
      if (!rx_busy_q) begin
        if (!sync_q[1]) begin
          // start bit seen: its middle is half a bit on
          rx_busy_q <= 1'b1;
          rx_cnt_q <= CW'(BitCycles / 2);
          rx_bit_q <= '0;
        end
      end else if (rx_cnt_q != '0) begin
        rx_cnt_q <= rx_cnt_q - 1'b1;
      end else begin
        rx_cnt_q <= CW'(BitCycles - 1);
        if (rx_bit_q == 4'd0 && sync_q[1]) begin
          rx_busy_q <= 1'b0;  // glitch, not a start bit
        end else if (rx_bit_q == 4'd9) begin
          rx_busy_q <= 1'b0;
          rx_valid_q <= sync_q[1];
        end else begin
          rx_bit_q <= rx_bit_q + 1'b1;
          if (rx_bit_q != 4'd0) begin
            rx_sh_q <= {sync_q[1], rx_sh_q[7:1]};
          end
        end
      end
    end
  end
  assign rx_valid_o = rx_valid_q;
  assign rx_data_o = rx_sh_q;

  // ---- transmitter ----------------------------------------------------------
  logic [9:0]    tx_sh_q;
  logic [3:0]    tx_left_q;
  logic [CW-1:0] tx_cnt_q;
  assign tx_ready_o = tx_left_q == '0;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      tx_sh_q <= '1;
      tx_left_q <= '0;
      tx_cnt_q <= '0;
    end else if (tx_left_q == '0) begin
      if (tx_valid_i) begin
        tx_sh_q <= {1'b1, tx_data_i, 1'b0};
        tx_left_q <= 4'd10;
        tx_cnt_q <= CW'(BitCycles - 1);
      end
    end else if (tx_cnt_q != '0) begin
      tx_cnt_q <= tx_cnt_q - 1'b1;
    end else begin
      tx_sh_q <= {1'b1, tx_sh_q[9:1]};
      tx_left_q <= tx_left_q - 1'b1;
      tx_cnt_q <= CW'(BitCycles - 1);
    end
  end
  assign tx_o = tx_sh_q[0];
endmodule
