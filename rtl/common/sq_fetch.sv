// Descriptor fetcher of a standalone unit kernel (sq_<unit>_top = sq_ctrl +
// sq_fetch + sq_<unit>_core): walks the ncmd descriptors at cmd_addr one at a
// time, each SqDescBytes as one two-beat burst (the host keeps the stream
// 64-byte aligned), and hands the descriptors whose opcode byte is Opcode to
// the core over its command interface (docs/accelerator.md), waiting for the
// core's cmd_done before it fetches the next: a standalone unit runs one
// descriptor at a time, in order. Other opcodes (another unit's, or NOP) are
// skipped. A core may finish a command in the cycle it accepts it (a
// malformed one it refuses to run).
//
// Timing per descriptor: Next (1 cycle) -> FetchAr (until arready) -> FetchR
// (two beats) -> Issue (the core accepts in this cycle) -> Wait (until
// cmd_done) -> Next. The read channel is the fetcher's while fetch_o.
module sq_fetch #(
  parameter int unsigned Opcode = 0
) (
  input  logic          clk_i,
  input  logic          rst_ni,
  input  logic          start_i,
  input  logic [63:0]   cmd_addr_i,
  input  logic [31:0]   ncmd_i,
  output logic          done_o,
  // read channel while fetch_o (addresses are offsets from SQ_REG_MEM)
  output logic          fetch_o,
  output logic          arvalid_o,
  input  logic          arready_i,
  output logic [63:0]   araddr_o,
  input  logic          rvalid_i,
  input  logic [511:0]  rdata_i,
  // the core's command interface
  output logic          cmd_valid_o,
  input  logic          cmd_ready_i,
  output logic [1023:0] cmd_o,
  input  logic          cmd_done_i
);
  typedef enum logic [2:0] {Idle, Next, FetchAr, FetchR, Issue, Wait} state_e;

  state_e        state_q, state_d;
  logic [31:0]   idx_q, idx_d, ncmd_q, ncmd_d;
  logic [63:0]   addr_q, addr_d;
  logic          beat_q, beat_d;
  logic [1023:0] desc_q, desc_d;
  logic          mine;

  // the opcode byte of the stream header (spec.h)
  assign mine = desc_q[7:0] == 8'(Opcode);
  assign fetch_o = state_q == FetchAr || state_q == FetchR;
  assign arvalid_o = state_q == FetchAr;
  assign araddr_o = addr_q;
  assign cmd_valid_o = state_q == Issue && mine;
  assign cmd_o = desc_q;

  always_comb begin
    state_d = state_q;
    idx_d = idx_q;
    ncmd_d = ncmd_q;
    addr_d = addr_q;
    beat_d = beat_q;
    desc_d = desc_q;
    done_o = 1'b0;
    unique case (state_q)
      Idle: begin
        if (start_i) begin
          idx_d = 32'd0;
          ncmd_d = ncmd_i;
          addr_d = cmd_addr_i;
          state_d = Next;
        end
      end
      Next: begin
        if (idx_q == ncmd_q) begin
          done_o = 1'b1;
          state_d = Idle;
        end else begin
          idx_d = idx_q + 32'd1;
          state_d = FetchAr;
          if (idx_q != 32'd0) begin
            addr_d = addr_q + 64'(sq_spec_pkg::SqDescBytes);
          end
        end
      end
      FetchAr: begin
        beat_d = 1'b0;
        if (arready_i) begin
          state_d = FetchR;
        end
      end
      FetchR: begin
        if (rvalid_i) begin
          if (beat_q) begin
            desc_d[512 +: 512] = rdata_i;
            state_d = Issue;
          end else begin
            desc_d[0 +: 512] = rdata_i;
          end
          beat_d = 1'b1;
        end
      end
      Issue: begin
        if (!mine) begin
          state_d = Next;
        end else if (cmd_ready_i) begin
          state_d = cmd_done_i ? Next : Wait;
        end
      end
      Wait: begin
        if (cmd_done_i) begin
          state_d = Next;
        end
      end
      default: state_d = Idle;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= Idle;
      idx_q <= 32'd0;
      ncmd_q <= 32'd0;
      addr_q <= 64'd0;
      beat_q <= 1'b0;
    end else begin
      state_q <= state_d;
      idx_q <= idx_d;
      ncmd_q <= ncmd_d;
      addr_q <= addr_d;
      beat_q <= beat_d;
    end
  end

  // the descriptor register is written before it is read
  always_ff @(posedge clk_i) begin
    desc_q <= desc_d;
  end
endmodule
