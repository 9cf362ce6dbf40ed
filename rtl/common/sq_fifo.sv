// Synchronous FIFO, first-word fall-through: rdata_o is the head while
// !empty_o. Depth is a power of two.
module sq_fifo #(
  parameter int unsigned Width = 8,
  parameter int unsigned DepthLog2 = 2
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             push_i,
  input  logic [Width-1:0] wdata_i,
  input  logic             pop_i,
  output logic [Width-1:0] rdata_o,
  output logic             empty_o,
  output logic             full_o,
  output logic [DepthLog2:0] count_o
);
  localparam int unsigned Depth = 1 << DepthLog2;

  logic [Width-1:0] mem_q [Depth];
  logic [DepthLog2-1:0] rd_q, rd_d, wr_q, wr_d;
  logic [DepthLog2:0] cnt_q, cnt_d;
  logic do_push, do_pop;

  assign do_push = push_i && !full_o;
  assign do_pop = pop_i && !empty_o;
  assign rdata_o = mem_q[rd_q];
  assign empty_o = cnt_q == '0;
  assign full_o = cnt_q == (DepthLog2 + 1)'(Depth);
  assign count_o = cnt_q;

  always_comb begin
    rd_d = rd_q;
    wr_d = wr_q;
    cnt_d = cnt_q;
    if (do_push) begin
      wr_d = wr_q + 1'b1;
    end
    if (do_pop) begin
      rd_d = rd_q + 1'b1;
    end
    if (do_push && !do_pop) begin
      cnt_d = cnt_q + 1'b1;
    end else if (do_pop && !do_push) begin
      cnt_d = cnt_q - 1'b1;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rd_q <= '0;
      wr_q <= '0;
      cnt_q <= '0;
    end else begin
      rd_q <= rd_d;
      wr_q <= wr_d;
      cnt_q <= cnt_d;
    end
  end

  // Storage needs no reset; written only on an accepted push.
  always_ff @(posedge clk_i) begin
    if (do_push) begin
      mem_q[wr_q] <= wdata_i;
    end
  end
endmodule
