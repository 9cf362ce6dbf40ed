// Command sequencer: fetches SqDescWords-word descriptors (two 64-byte beats
// each; the host keeps the stream 64-byte aligned) over the read channel, runs each GEMM
// descriptor to completion (all results written and acknowledged, so the next
// command may read them), and skips other opcodes and malformed GEMMs (the
// host validates them before starting the kernel).
module sq_gemm_seq
(
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             start_i,
  input  logic [63:0]      cmd_addr_i,
  input  logic [31:0]      ncmd_i,
  output logic             done_o,
  // read channel while fetch_o
  output logic             fetch_o,
  output logic             arvalid_o,
  input  logic             arready_i,
  output logic [sq_gemm_pkg::AddrW-1:0] araddr_o,
  input  logic             rvalid_i,
  input  logic [sq_gemm_pkg::BeatW-1:0] rdata_i,
  // GEMM engine
  output sq_gemm_pkg::gemm_cfg_t        cfg_o,
  output logic             go_o,
  input  logic             gemm_done_i
);
  typedef enum logic [2:0] {Idle, FetchAr, FetchR, Decode, Run, Next} state_e;

  state_e      state_q, state_d;
  logic [31:0] idx_q, idx_d, ncmd_q, ncmd_d;
  logic [63:0] addr_q, addr_d;
  logic        beat_q, beat_d;
  logic [2*sq_gemm_pkg::BeatW-1:0] desc_q, desc_d;
  sq_gemm_pkg::gemm_cfg_t   cfg_q, cfg_d;

  logic [7:0]  w_op;
  logic [31:0] w_flags, w_m, w_n, w_k;
  logic        dims_ok, gemm_ok;
  // the opcode byte of the stream header (spec.h); the rest is for a command processor
  assign w_op = desc_q[32 * sq_spec_pkg::SqGemmWOpcode +: 8];
  assign w_flags = desc_q[32 * sq_spec_pkg::SqGemmWFlags +: 32];
  assign w_m = desc_q[32 * sq_spec_pkg::SqGemmWM +: 32];
  assign w_n = desc_q[32 * sq_spec_pkg::SqGemmWN +: 32];
  assign w_k = desc_q[32 * sq_spec_pkg::SqGemmWK +: 32];
  assign dims_ok = w_m != 0 && w_n != 0 && w_k != 0 && w_m <= sq_spec_pkg::SqGemmMaxDim &&
                   w_n <= sq_spec_pkg::SqGemmMaxDim && w_k <= sq_spec_pkg::SqGemmMaxDim;
  assign gemm_ok = w_op == 8'(sq_spec_pkg::SqOpGemm) && dims_ok && (w_flags & ~sq_spec_pkg::SqGemmFlagsAll) == 0 &&
                   !((w_flags & sq_spec_pkg::SqGemmW4) != 0 && (w_flags & sq_spec_pkg::SqGemmSp24) != 0);

  assign fetch_o = state_q == FetchAr || state_q == FetchR;
  assign arvalid_o = state_q == FetchAr;
  assign araddr_o = addr_q;
  assign cfg_o = cfg_q;

  always_comb begin
    state_d = state_q;
    idx_d = idx_q;
    ncmd_d = ncmd_q;
    addr_d = addr_q;
    beat_d = beat_q;
    desc_d = desc_q;
    cfg_d = cfg_q;
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
      FetchAr: begin
        beat_d = 1'b0;
        if (arready_i) begin
          state_d = FetchR;
        end
      end
      FetchR: begin
        if (rvalid_i) begin
          if (beat_q) begin
            desc_d[sq_gemm_pkg::BeatW +: sq_gemm_pkg::BeatW] = rdata_i;
            state_d = Decode;
          end else begin
            desc_d[0 +: sq_gemm_pkg::BeatW] = rdata_i;
          end
          beat_d = 1'b1;
        end
      end
      Decode: begin
        cfg_d.flags = w_flags[4:0];
        cfg_d.m = w_m[sq_gemm_pkg::DimW-1:0];
        cfg_d.n = w_n[sq_gemm_pkg::DimW-1:0];
        cfg_d.k = w_k[sq_gemm_pkg::DimW-1:0];
        cfg_d.a = {desc_q[32 * sq_spec_pkg::SqGemmWAHi +: 32], desc_q[32 * sq_spec_pkg::SqGemmWALo +: 32]};
        cfg_d.w = {desc_q[32 * sq_spec_pkg::SqGemmWWHi +: 32], desc_q[32 * sq_spec_pkg::SqGemmWWLo +: 32]};
        cfg_d.meta = {desc_q[32 * sq_spec_pkg::SqGemmWMetaHi +: 32], desc_q[32 * sq_spec_pkg::SqGemmWMetaLo +: 32]};
        cfg_d.bias = {desc_q[32 * sq_spec_pkg::SqGemmWBiasHi +: 32], desc_q[32 * sq_spec_pkg::SqGemmWBiasLo +: 32]};
        cfg_d.quant = {desc_q[32 * sq_spec_pkg::SqGemmWQuantHi +: 32], desc_q[32 * sq_spec_pkg::SqGemmWQuantLo +: 32]};
        cfg_d.c = {desc_q[32 * sq_spec_pkg::SqGemmWCHi +: 32], desc_q[32 * sq_spec_pkg::SqGemmWCLo +: 32]};
        if (gemm_ok) begin
          state_d = Run;
        end else begin
          state_d = Next;
        end
      end
      Run: begin
        // go is raised in the first Run cycle only (cfg_q is valid by then).
        if (gemm_done_i) begin
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
      default: state_d = Idle;
    endcase
  end

  logic run_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= Idle;
      idx_q <= 32'd0;
      ncmd_q <= 32'd0;
      addr_q <= 64'd0;
      beat_q <= 1'b0;
      desc_q <= '0;
      cfg_q <= '0;
      run_q <= 1'b0;
    end else begin
      state_q <= state_d;
      idx_q <= idx_d;
      ncmd_q <= ncmd_d;
      addr_q <= addr_d;
      beat_q <= beat_d;
      desc_q <= desc_d;
      cfg_q <= cfg_d;
      run_q <= state_q == Run;
    end
  end
  assign go_o = state_q == Run && !run_q;
endmodule
