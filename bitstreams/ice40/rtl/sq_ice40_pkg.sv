// The one configuration of the iCE40 UP5K build (bitstreams/ice40): read by
// yosys for the bitstream and by Verilator for the model the tests drive, so
// the two cannot differ. The host side reads BitCycles from here too
// (bitstreams/ice40/ice40.mk).
package sq_ice40_pkg;
  // GEMM array: 2 x 2 PEs, two int8 MACs each, on the UP5K's 8 SB_MAC16s
  localparam int unsigned R = 2;
  localparam int unsigned C = 2;
  // on-chip memory: one SB_SPRAM256KA, 16K x 16 bits (32 KiB, byte addresses)
  localparam int unsigned MemAddrW = 15;
  // the iCEBreaker's 12 MHz oscillator halved (sq_ice40_board); UART 8N1 at
  // 115200 baud (52 cycles a bit, 0.2% fast)
  localparam int unsigned ClkHz = 6_000_000;
  localparam int unsigned Baud = 115_200;
  localparam int unsigned BitCycles = (ClkHz + Baud / 2) / Baud;
  // status byte of a 'G' command
  localparam logic [7:0] StOk = 8'd0;
  localparam logic [7:0] StOpcode = 8'd1;    // not a GEMM descriptor
  localparam logic [7:0] StFlags = 8'd2;     // W4, 2:4 or group scales: not in this build
  localparam logic [7:0] StRange = 8'd3;     // a dimension 0 or > 65535, an address past memory
endpackage
