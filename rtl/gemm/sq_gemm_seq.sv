// Command stage of the GEMM core: accepts one patched descriptor on the
// core's command interface (docs/accelerator.md) while idle, decodes it into
// the configuration every stage reads (held until the GEMM is done), starts
// the engine in the next cycle, and signals cmd_done when the GEMM is done
// (all results written and acknowledged, so a dependent command may read
// them). A descriptor that is not a well-formed GEMM (the host validates
// every one before a run) is finished in the cycle it is accepted, without
// touching memory, so a bad command can never hang the unit.
module sq_gemm_seq
(
  input  logic             clk_i,
  input  logic             rst_ni,
  input  logic             cmd_valid_i,
  output logic             cmd_ready_o,
  input  logic [1023:0]    cmd_i,
  output logic             cmd_done_o,
  // GEMM engine
  output sq_gemm_pkg::gemm_cfg_t cfg_o,
  output logic             go_o,
  input  logic             gemm_done_i
);
  logic        run_q, run_d, go_q;
  sq_gemm_pkg::gemm_cfg_t cfg_q, cfg_d;

  logic [7:0]  w_op;
  logic [31:0] w_flags, w_m, w_n, w_k, w_group;
  logic        dims_ok, gemm_ok, accept, gsc, group_ok;
  logic [4:0]  gshift;
  // the opcode byte of the stream header (spec.h)
  assign w_op = cmd_i[32 * sq_spec_pkg::SqGemmWOpcode +: 8];
  assign w_flags = cmd_i[32 * sq_spec_pkg::SqGemmWFlags +: 32];
  assign w_m = cmd_i[32 * sq_spec_pkg::SqGemmWM +: 32];
  assign w_n = cmd_i[32 * sq_spec_pkg::SqGemmWN +: 32];
  assign w_k = cmd_i[32 * sq_spec_pkg::SqGemmWK +: 32];
  assign dims_ok = w_m != 0 && w_n != 0 && w_k != 0 && w_m <= sq_spec_pkg::SqGemmMaxDim &&
                   w_n <= sq_spec_pkg::SqGemmMaxDim && w_k <= sq_spec_pkg::SqGemmMaxDim;
  assign w_group = cmd_i[32 * sq_spec_pkg::SqGemmWGroup +: 32];
  // group scales (spec.h): a group is k or a power of two in [SqGemmGroupMin,
  // k], not with 2:4 weights; a group of k is 2^17 positions (> any k) here
  assign gsc = (w_flags & sq_spec_pkg::SqGemmGscale) != 0;
  assign group_ok = !gsc || ((w_flags & sq_spec_pkg::SqGemmSp24) == 0 &&
                    (w_group == w_k || (w_group >= sq_spec_pkg::SqGemmGroupMin &&
                                        w_group <= w_k && (w_group & (w_group - 1)) == 0)));
  always_comb begin
    gshift = 5'd17;
    if (w_group != w_k) begin
      for (int unsigned b = 5; b < 17; b++) begin
        if (w_group[b]) begin
          gshift = 5'(b);
        end
      end
    end
  end
  assign gemm_ok = w_op == 8'(sq_spec_pkg::SqOpGemm) && dims_ok && group_ok &&
                   (w_flags & ~(sq_spec_pkg::SqGemmFlagsAll | sq_spec_pkg::SqGemmGscale)) == 0 &&
                   !((w_flags & sq_spec_pkg::SqGemmW4) != 0 && (w_flags & sq_spec_pkg::SqGemmSp24) != 0);

  assign cmd_ready_o = !run_q;
  assign accept = cmd_valid_i && !run_q;
  assign cmd_done_o = (accept && !gemm_ok) || (run_q && gemm_done_i);
  assign cfg_o = cfg_q;
  // go is raised in the first cycle after the accept (cfg_q is valid by then)
  assign go_o = run_q && !go_q;

  always_comb begin
    cfg_d = cfg_q;
    run_d = run_q;
    if (accept) begin
      cfg_d.flags = w_flags[4:0];
      cfg_d.gsc = gsc;
      cfg_d.gshift = gshift;
      cfg_d.ng = (sq_gemm_pkg::DimW + 1)'(({1'b0, w_k} + (33'd1 << gshift) - 33'd1) >> gshift);
      cfg_d.gscale = {cmd_i[32 * sq_spec_pkg::SqGemmWGscaleHi +: 32],
                      cmd_i[32 * sq_spec_pkg::SqGemmWGscaleLo +: 32]};
      cfg_d.m = w_m[sq_gemm_pkg::DimW-1:0];
      cfg_d.n = w_n[sq_gemm_pkg::DimW-1:0];
      cfg_d.k = w_k[sq_gemm_pkg::DimW-1:0];
      cfg_d.a = {cmd_i[32 * sq_spec_pkg::SqGemmWAHi +: 32], cmd_i[32 * sq_spec_pkg::SqGemmWALo +: 32]};
      cfg_d.w = {cmd_i[32 * sq_spec_pkg::SqGemmWWHi +: 32], cmd_i[32 * sq_spec_pkg::SqGemmWWLo +: 32]};
      cfg_d.meta = {cmd_i[32 * sq_spec_pkg::SqGemmWMetaHi +: 32], cmd_i[32 * sq_spec_pkg::SqGemmWMetaLo +: 32]};
      cfg_d.bias = {cmd_i[32 * sq_spec_pkg::SqGemmWBiasHi +: 32], cmd_i[32 * sq_spec_pkg::SqGemmWBiasLo +: 32]};
      cfg_d.quant = {cmd_i[32 * sq_spec_pkg::SqGemmWQuantHi +: 32], cmd_i[32 * sq_spec_pkg::SqGemmWQuantLo +: 32]};
      cfg_d.c = {cmd_i[32 * sq_spec_pkg::SqGemmWCHi +: 32], cmd_i[32 * sq_spec_pkg::SqGemmWCLo +: 32]};
      run_d = gemm_ok;
    end else if (run_q && gemm_done_i) begin
      run_d = 1'b0;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      run_q <= 1'b0;
      go_q <= 1'b0;
      cfg_q <= '0;
    end else begin
      run_q <= run_d;
      go_q <= run_q;
      cfg_q <= cfg_d;
    end
  end
endmodule
