// AXI4-Lite control slave with the Vitis ap_ctrl_hs register map
// (include/sparq/spec.h SQ_REG_*), plus read-only cycle and stall counters.
// ap_start is cleared when the core accepts it (ap_ready); ap_done is
// clear-on-read; ISR bits toggle on write, as Vitis HLS kernels do.
// Registers past this map (a kernel top's own: sq_accel_top's positions and
// counters) go through the ext_* port: every write is presented there, and a
// read of an offset this block does not decode returns ext_rdata_i, which the
// top derives from ext_raddr_o in the same cycle.
module sq_ctrl
(
  input  logic        clk_i,
  input  logic        rst_ni,
  // AXI4-Lite slave
  input  logic        awvalid_i,
  output logic        awready_o,
  input  logic [7:0]  awaddr_i,
  input  logic        wvalid_i,
  output logic        wready_o,
  input  logic [31:0] wdata_i,
  input  logic [3:0]  wstrb_i,
  output logic        bvalid_o,
  input  logic        bready_i,
  output logic [1:0]  bresp_o,
  input  logic        arvalid_i,
  output logic        arready_o,
  input  logic [7:0]  araddr_i,
  output logic        rvalid_o,
  input  logic        rready_i,
  output logic [31:0] rdata_o,
  output logic [1:0]  rresp_o,
  output logic        interrupt_o,
  // core
  output logic        start_o,
  input  logic        done_i,
  input  logic        stall_i,
  output logic [63:0] cmd_addr_o,
  output logic [31:0] ncmd_o,
  // SQ_REG_MEM, the base the core adds to every device address it issues:
  // descriptors carry offsets into device memory, as the HLS tops index
  // mem[] (on a card XRT writes the buffer's address here; simulation 0)
  output logic [63:0] mem_base_o,
  // the top's registers: read data for ext_raddr_o; write strobe, address,
  // data and byte mask
  input  logic [31:0] ext_rdata_i,
  output logic [7:0]  ext_raddr_o,
  output logic        ext_we_o,
  output logic [7:0]  ext_waddr_o,
  output logic [31:0] ext_wdata_o,
  output logic [31:0] ext_wmask_o
);
  logic        start_q, start_d, done_q, done_d, ready_q, ready_d, busy_q, busy_d;
  logic        gie_q, gie_d;
  logic [1:0]  ier_q, ier_d, isr_q, isr_d;
  logic [63:0] mem_q, mem_d, cmd_q, cmd_d, cycles_q, cycles_d, stall_q, stall_d;
  logic [31:0] ncmd_q, ncmd_d;
  logic        bvalid_q, bvalid_d, rvalid_q, rvalid_d;
  logic [31:0] rdata_q, rdata_d;
  logic        do_write, do_read;
  logic [31:0] wmask;

  assign do_write = awvalid_i && wvalid_i && !bvalid_q;
  assign awready_o = do_write;
  assign wready_o = do_write;
  assign bvalid_o = bvalid_q;
  assign bresp_o = 2'b00;
  assign do_read = arvalid_i && !rvalid_q;
  assign arready_o = do_read;
  assign rvalid_o = rvalid_q;
  assign rdata_o = rdata_q;
  assign rresp_o = 2'b00;
  assign interrupt_o = gie_q && |(isr_q & ier_q);
  assign start_o = start_q && !busy_q;
  assign cmd_addr_o = cmd_q;
  assign ncmd_o = ncmd_q;
  assign mem_base_o = mem_q;
  assign wmask = {{8{wstrb_i[3]}}, {8{wstrb_i[2]}}, {8{wstrb_i[1]}}, {8{wstrb_i[0]}}};
  assign ext_we_o = do_write;
  assign ext_raddr_o = araddr_i;
  assign ext_waddr_o = awaddr_i;
  assign ext_wdata_o = wdata_i;
  assign ext_wmask_o = wmask;

  always_comb begin
    start_d = start_q;
    done_d = done_q;
    ready_d = ready_q;
    busy_d = busy_q;
    gie_d = gie_q;
    ier_d = ier_q;
    isr_d = isr_q;
    mem_d = mem_q;
    cmd_d = cmd_q;
    ncmd_d = ncmd_q;
    cycles_d = cycles_q;
    stall_d = stall_q;
    bvalid_d = bvalid_q && !bready_i;
    rvalid_d = rvalid_q && !rready_i;
    rdata_d = rdata_q;

    if (busy_q) begin
      cycles_d = cycles_q + 64'd1;
      if (stall_i) begin
        stall_d = stall_q + 64'd1;
      end
    end
    if (start_o) begin
      start_d = 1'b0;
      busy_d = 1'b1;
      ready_d = 1'b1;
      cycles_d = 64'd0;
      stall_d = 64'd0;
      if (ier_q[1]) begin
        isr_d[1] = 1'b1;
      end
    end
    if (done_i) begin
      busy_d = 1'b0;
      done_d = 1'b1;
      if (ier_q[0]) begin
        isr_d[0] = 1'b1;
      end
    end

    if (do_read) begin
      rvalid_d = 1'b1;
      unique case (araddr_i)
        sq_spec_pkg::SqRegCtrl: begin
          rdata_d = 32'd0;
          rdata_d[sq_spec_pkg::SqCtrlStartBit] = start_q;
          rdata_d[sq_spec_pkg::SqCtrlDoneBit] = done_q;
          rdata_d[sq_spec_pkg::SqCtrlIdleBit] = !busy_q;
          rdata_d[sq_spec_pkg::SqCtrlReadyBit] = ready_q;
          done_d = 1'b0;
          ready_d = 1'b0;
        end
        sq_spec_pkg::SqRegGie: rdata_d = {31'd0, gie_q};
        sq_spec_pkg::SqRegIer: rdata_d = {30'd0, ier_q};
        sq_spec_pkg::SqRegIsr: rdata_d = {30'd0, isr_q};
        sq_spec_pkg::SqRegMemLo: rdata_d = mem_q[31:0];
        sq_spec_pkg::SqRegMemHi: rdata_d = mem_q[63:32];
        sq_spec_pkg::SqRegCmdLo: rdata_d = cmd_q[31:0];
        sq_spec_pkg::SqRegCmdHi: rdata_d = cmd_q[63:32];
        sq_spec_pkg::SqRegNcmd: rdata_d = ncmd_q;
        sq_spec_pkg::SqRegCyclesLo: rdata_d = cycles_q[31:0];
        sq_spec_pkg::SqRegCyclesHi: rdata_d = cycles_q[63:32];
        sq_spec_pkg::SqRegStallLo: rdata_d = stall_q[31:0];
        sq_spec_pkg::SqRegStallHi: rdata_d = stall_q[63:32];
        default: rdata_d = ext_rdata_i;
      endcase
    end

    if (do_write) begin
      bvalid_d = 1'b1;
      unique case (awaddr_i)
        sq_spec_pkg::SqRegCtrl: begin
          if (wstrb_i[0] && wdata_i[sq_spec_pkg::SqCtrlStartBit]) begin
            start_d = 1'b1;
          end
        end
        sq_spec_pkg::SqRegGie: if (wstrb_i[0]) gie_d = wdata_i[0];
        sq_spec_pkg::SqRegIer: if (wstrb_i[0]) ier_d = wdata_i[1:0];
        sq_spec_pkg::SqRegIsr: if (wstrb_i[0]) isr_d = isr_d ^ wdata_i[1:0];
        sq_spec_pkg::SqRegMemLo: mem_d[31:0] = (mem_q[31:0] & ~wmask) | (wdata_i & wmask);
        sq_spec_pkg::SqRegMemHi: mem_d[63:32] = (mem_q[63:32] & ~wmask) | (wdata_i & wmask);
        sq_spec_pkg::SqRegCmdLo: cmd_d[31:0] = (cmd_q[31:0] & ~wmask) | (wdata_i & wmask);
        sq_spec_pkg::SqRegCmdHi: cmd_d[63:32] = (cmd_q[63:32] & ~wmask) | (wdata_i & wmask);
        sq_spec_pkg::SqRegNcmd: ncmd_d = (ncmd_q & ~wmask) | (wdata_i & wmask);
        default: ;
      endcase
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      start_q <= 1'b0;
      done_q <= 1'b0;
      ready_q <= 1'b0;
      busy_q <= 1'b0;
      gie_q <= 1'b0;
      ier_q <= 2'b00;
      isr_q <= 2'b00;
      mem_q <= 64'd0;
      cmd_q <= 64'd0;
      ncmd_q <= 32'd0;
      cycles_q <= 64'd0;
      stall_q <= 64'd0;
      bvalid_q <= 1'b0;
      rvalid_q <= 1'b0;
      rdata_q <= 32'd0;
    end else begin
      start_q <= start_d;
      done_q <= done_d;
      ready_q <= ready_d;
      busy_q <= busy_d;
      gie_q <= gie_d;
      ier_q <= ier_d;
      isr_q <= isr_d;
      mem_q <= mem_d;
      cmd_q <= cmd_d;
      ncmd_q <= ncmd_d;
      cycles_q <= cycles_d;
      stall_q <= stall_d;
      bvalid_q <= bvalid_d;
      rvalid_q <= rvalid_d;
      rdata_q <= rdata_d;
    end
  end
endmodule
