// Vector core: executes one patched SQ_OP_VEC descriptor at a time on the core
// command interface of docs/accelerator.md (cmd_valid/cmd_ready/cmd, a
// cmd_done pulse once its last write has been acknowledged, idle, stall,
// mem_base), bit-exact with sq_vec_ref (include/sparq/vec.h, rules 1-12). A
// descriptor of another opcode, or one it cannot run (function, empty
// shape), is finished in the cycle it is accepted, without memory traffic.
// The standalone kernel sq_unit_top puts sq_ctrl and sq_fetch in front of it.
//
// Each row is the passes of hls/vec/sq_vec.c, in the order of the rules:
// statistics first (LayerNorm's sum, max |d|, sum of squares, rule 2's row
// maximum), then the elements. A pass recomputes its values from memory, as
// the HLS unit does, instead of keeping a row of up to 2^16 64-bit values
// on chip. One element at a time:
//   loads:   each operand word (or byte) through one of six one-line read
//            buffers (IN, IN2, CHAN, TAB, SWIGLU's up channels, REC_IN), a
//            hit in one cycle, a miss one single-beat burst; the buffers
//            are emptied at every descriptor, since a descriptor may read
//            what the one before it wrote;
//   value:   rule 1 / bias / the norm's element in one cycle; the sigmoid
//            (SWIGLU, GELU) through the sequential divider (sq_div);
//   action:  a statistic, or a write into a one-line write-combining buffer
//            that goes out as one strobed beat (waiting for its response)
//            when a write falls on another line, and at the end.
// Row statistics between passes: LayerNorm's mean (divider), rsqrt (a
// bit-serial isqrt, then the divider) and rule 2's reciprocal (divider).
// Every step takes a fixed number of cycles: what varies is only where the
// loads hit (the addresses), so the cycle model (host/runtime/vec_model.c)
// follows it exactly. Memory accesses are one at a time: the unit is simple,
// and its cost is the memory's.
module sq_vec_core (
  input  logic          clk_i,
  input  logic          rst_ni,
  // command interface
  input  logic          cmd_valid_i,
  output logic          cmd_ready_o,
  input  logic [1023:0] cmd_i,
  output logic          cmd_done_o,
  output logic          idle_o,
  output logic          stall_o,
  input  logic [63:0]   mem_base_i,
  // AXI4 master read
  output logic          arvalid_o,
  input  logic          arready_i,
  output logic [63:0]   araddr_o,
  output logic [7:0]    arlen_o,
  input  logic          rvalid_i,
  output logic          rready_o,
  input  logic [511:0]  rdata_i,
  input  logic          rlast_i,
  // AXI4 master write
  output logic          awvalid_o,
  input  logic          awready_i,
  output logic [63:0]   awaddr_o,
  output logic [7:0]    awlen_o,
  output logic          wvalid_o,
  input  logic          wready_i,
  output logic [511:0]  wdata_o,
  output logic [63:0]   wstrb_o,
  output logic          wlast_o,
  input  logic          bvalid_i,
  output logic          bready_o
);
  // the generated constants used here (yosys 0.23 takes no import in a module)
  localparam int unsigned SqOpVecCode = sq_vec_pkg::SqOpVecCode;
  localparam int unsigned SqVecAccBit = sq_vec_pkg::SqVecAccBit;
  localparam int unsigned SqVecAdd = sq_vec_pkg::SqVecAdd;
  localparam int unsigned SqVecBiasBit = sq_vec_pkg::SqVecBiasBit;
  localparam int unsigned SqVecCopy = sq_vec_pkg::SqVecCopy;
  localparam int unsigned SqVecDeq = sq_vec_pkg::SqVecDeq;
  localparam int unsigned SqVecDqShift = sq_vec_pkg::SqVecDqShift;
  localparam int unsigned SqVecFuncs = sq_vec_pkg::SqVecFuncs;
  localparam int unsigned SqVecGather = sq_vec_pkg::SqVecGather;
  localparam int unsigned SqVecGelu = sq_vec_pkg::SqVecGelu;
  localparam int unsigned SqVecGeluC1 = sq_vec_pkg::SqVecGeluC1;
  localparam int unsigned SqVecGeluC2 = sq_vec_pkg::SqVecGeluC2;
  localparam int unsigned SqVecInv127 = sq_vec_pkg::SqVecInv127;
  localparam int unsigned SqVecLog2e = sq_vec_pkg::SqVecLog2e;
  localparam int unsigned SqVecLnBit = sq_vec_pkg::SqVecLnBit;
  localparam int unsigned SqVecNorm = sq_vec_pkg::SqVecNorm;
  localparam int unsigned SqVecNormBits = sq_vec_pkg::SqVecNormBits;
  localparam int unsigned SqVecQ8Bit = sq_vec_pkg::SqVecQ8Bit;
  localparam int unsigned SqVecQuant = sq_vec_pkg::SqVecQuant;
  localparam int unsigned SqVecRecBytes = sq_vec_pkg::SqVecRecBytes;
  localparam int unsigned SqVecRope = sq_vec_pkg::SqVecRope;
  localparam int unsigned SqVecRotBit = sq_vec_pkg::SqVecRotBit;
  localparam int unsigned SqVecSwiglu = sq_vec_pkg::SqVecSwiglu;
  localparam int unsigned SqVecWChanLo = sq_vec_pkg::SqVecWChanLo;
  localparam int unsigned SqVecWFlags = sq_vec_pkg::SqVecWFlags;
  localparam int unsigned SqVecWFunc = sq_vec_pkg::SqVecWFunc;
  localparam int unsigned SqVecWIn2Lo = sq_vec_pkg::SqVecWIn2Lo;
  localparam int unsigned SqVecWIn2Stride = sq_vec_pkg::SqVecWIn2Stride;
  localparam int unsigned SqVecWInLo = sq_vec_pkg::SqVecWInLo;
  localparam int unsigned SqVecWInSegStride = sq_vec_pkg::SqVecWInSegStride;
  localparam int unsigned SqVecWInStride = sq_vec_pkg::SqVecWInStride;
  localparam int unsigned SqVecWM = sq_vec_pkg::SqVecWM;
  localparam int unsigned SqVecWN = sq_vec_pkg::SqVecWN;
  localparam int unsigned SqVecWOutLo = sq_vec_pkg::SqVecWOutLo;
  localparam int unsigned SqVecWOutSegStride = sq_vec_pkg::SqVecWOutSegStride;
  localparam int unsigned SqVecWOutStride = sq_vec_pkg::SqVecWOutStride;
  localparam int unsigned SqVecWP0 = sq_vec_pkg::SqVecWP0;
  localparam int unsigned SqVecWRecInLo = sq_vec_pkg::SqVecWRecInLo;
  localparam int unsigned SqVecWRecOutLo = sq_vec_pkg::SqVecWRecOutLo;
  localparam int unsigned SqVecWSeg = sq_vec_pkg::SqVecWSeg;
  localparam int unsigned SqVecWTabLo = sq_vec_pkg::SqVecWTabLo;
  localparam int unsigned SqVecWTabStride = sq_vec_pkg::SqVecWTabStride;

  typedef enum logic [4:0] {
    SIdle, SRow, SPass, SElem, SLd, SRdAr, SRdR, SVal, SGelu, SSig0, SSigW, SSig1, SAct,
    SWr, SWrAw, SWrW, SWrB, SNext, SMean, SMeanW, SMeanF, SRsq0, SSqrt, SRsqW, SRsqF,
    SDq0, SDqW, SDqF, SRowEnd, SFlush, SDone
  } state_e;

  // passes of a row (hls/vec/sq_vec.c's loops)
  typedef enum logic [3:0] {
    PSum, PDmax, PSs, PMax, PQ8, POut32, POut8, PArg, PGather, PNone
  } pass_e;

  // loads: element operands (bits 0-6), then row operands (bits 7-11)
  localparam int unsigned LX0 = 0, LC0M = 1, LC0S = 2, LX1 = 3, LC1M = 4, LC1S = 5, LT = 6;
  localparam int unsigned LRecM = 7, LRecS = 8, LId = 9, LGM = 10, LGS = 11, NLd = 12;
  // read buffers
  localparam int unsigned BIn = 0, BIn2 = 1, BChan = 2, BTab = 3, BChan2 = 4, BRec = 5;
  localparam int unsigned NBuf = 6;

  // ---- rules of include/sparq/vec.h (and numerics.h, attn.h) ----------------------
  // sq_rshift_round, shifts 0..62
  function automatic logic signed [63:0] rsr(input logic signed [63:0] x, input logic [5:0] s);
    if (s == 6'd0) begin
      rsr = x;
    end else begin
      rsr = (x + (64'sd1 <<< (s - 6'd1))) >>> s;
    end
  endfunction

  function automatic logic signed [31:0] sat32(input logic signed [63:0] x);
    if (x > 64'sd2147483647) begin
      sat32 = 32'sh7FFFFFFF;
    end else if (x < -64'sd2147483648) begin
      sat32 = 32'sh80000000;
    end else begin
      sat32 = x[31:0];
    end
  endfunction

  function automatic logic [7:0] sat8(input logic signed [63:0] x);
    if (x > 64'sd127) begin
      sat8 = 8'h7F;
    end else if (x < -64'sd128) begin
      sat8 = 8'h80;
    end else begin
      sat8 = x[7:0];
    end
  endfunction

  // sq_vec_clamp_shift of a 33-bit sum
  function automatic logic [5:0] clamp_shift(input logic signed [32:0] s);
    if (s < 33'sd0) begin
      clamp_shift = 6'd0;
    end else if (s > 33'sd62) begin
      clamp_shift = 6'd62;
    end else begin
      clamp_shift = s[5:0];
    end
  endfunction

  // sq_vec_bitlen
  function automatic logic [6:0] bitlen(input logic [63:0] v);
    bitlen = 7'd0;
    for (int i = 0; i < 64; i++) begin
      if (v[i]) begin
        bitlen = 7'(i + 1);
      end
    end
  endfunction

  function automatic logic signed [63:0] sext(input logic [31:0] w);
    sext = 64'($signed(w));
  endfunction

  function automatic logic [63:0] abs64(input logic signed [63:0] v);
    abs64 = v < 64'sd0 ? 64'(-v) : 64'(v);
  endfunction

  // sq_vec_scale2: v * 2^-sh (rounded right shift, or exact left shift)
  function automatic logic signed [63:0] scale2(input logic signed [63:0] v,
                                                input logic signed [7:0] sh);
    if (sh > 8'sd0) begin
      scale2 = rsr(v, sh[5:0]);
    end else begin
      scale2 = v <<< 6'(-sh);
    end
  endfunction

  // rule 1: sq_vec_requant2
  function automatic logic signed [31:0] requant2(input logic [31:0] acc, input logic [31:0] cm,
                                                  input logic [5:0] cs, input logic [31:0] rm,
                                                  input logic [31:0] rs, input logic [31:0] adj);
    logic signed [31:0] t;
    t = sat32(rsr(sext(acc) * sext(cm), cs));
    requant2 = sat32(rsr(sext(t) * sext(rm),
                         clamp_shift(33'($signed(rs)) + 33'($signed(adj)))));
  endfunction

  // rule 2 per element: sq_vec_dq_apply
  function automatic logic [7:0] dq_apply(input logic signed [63:0] y, input logic signed [7:0] sh,
                                          input logic [31:0] r);
    dq_apply = sat8(rsr(scale2(y, sh) * $signed({32'd0, r}), 6'(SqVecDqShift)));
  endfunction

  // rule 9: sq_vec_rec_norm of p * 2^-s, p > 0; {mult, shift}
  function automatic logic [63:0] rec_norm(input logic [63:0] p, input logic signed [31:0] s);
    logic signed [7:0] b;
    logic [63:0] m;
    b = 8'(bitlen(p)) - 8'sd31;
    if (b > 8'sd0) begin
      m = (p + (64'd1 << 6'(b - 8'sd1))) >> 6'(b);
    end else begin
      m = p << 6'(-b);
    end
    if (m == 64'h80000000) begin
      m = 64'h40000000;
      b = b + 8'sd1;
    end
    rec_norm = {32'(s - 32'(b)), m[31:0]};
  endfunction

  // rule 5, the exponent: sq_attn_exp(min(rshift_round(|x| LOG2E, frac + 22), U_ZERO))
  function automatic logic [15:0] sig_exp(input logic [31:0] x, input logic [5:0] frac);
    logic signed [63:0] t;
    logic [11:0] u;
    logic [15:0] tab;
    t = rsr($signed(abs64(sext(x))) * $signed(64'(SqVecLog2e)), frac + 6'd22);
    if (t >= 64'sd4096) begin
      sig_exp = 16'd0;
    end else begin
      u = t[11:0];
      tab = sq_attn_pkg::sq_attn_exp2(u[7:0]);
      if (u[11:8] == 4'd0) begin
        sig_exp = tab;
      end else begin
        sig_exp = 16'(({1'b0, tab} + (17'd1 << (u[11:8] - 4'd1))) >> u[11:8]);
      end
    end
  endfunction

  // ---- descriptor fields ------------------------------------------------------------
  logic [1023:0] desc_q, desc_d;
  logic [3:0]  func;
  logic [4:0]  flags;
  logic [31:0] m_rows, n, seg, in_stride, in_seg_stride, in2_stride, out_stride, out_seg_stride;
  logic [31:0] tab_stride, p0, p1, p2, p3;
  logic [63:0] chan_base, tab_base;
  logic        acc, q8, bias, ln, rot;
  assign func = desc_q[32*SqVecWFunc +: 4];
  assign flags = desc_q[32*SqVecWFlags +: 5];
  assign m_rows = desc_q[32*SqVecWM +: 32];
  assign n = desc_q[32*SqVecWN +: 32];
  assign seg = desc_q[32*SqVecWSeg +: 32] == 32'd0 ? n : desc_q[32*SqVecWSeg +: 32];
  assign in_stride = desc_q[32*SqVecWInStride +: 32];
  assign in_seg_stride = desc_q[32*SqVecWInSegStride +: 32];
  assign in2_stride = desc_q[32*SqVecWIn2Stride +: 32];
  assign out_stride = desc_q[32*SqVecWOutStride +: 32];
  assign out_seg_stride = desc_q[32*SqVecWOutSegStride +: 32];
  assign chan_base = desc_q[32*SqVecWChanLo +: 64];
  assign tab_base = desc_q[32*SqVecWTabLo +: 64];
  assign tab_stride = desc_q[32*SqVecWTabStride +: 32];
  assign p0 = desc_q[32*SqVecWP0 +: 32];
  assign p1 = desc_q[32*(SqVecWP0 + 1) +: 32];
  assign p2 = desc_q[32*(SqVecWP0 + 2) +: 32];
  assign p3 = desc_q[32*(SqVecWP0 + 3) +: 32];
  assign acc = flags[SqVecAccBit];
  assign q8 = flags[SqVecQ8Bit];
  assign bias = flags[SqVecBiasBit];
  assign ln = flags[SqVecLnBit];
  assign rot = flags[SqVecRotBit];

  // ---- state ------------------------------------------------------------------------
  state_e             st_q, st_d, ret_q, ret_d;
  pass_e              pass_q, pass_d;
  logic [31:0]        row_q, row_d, j_q, j_d, jj_q, jj_d;
  logic [63:0]        in_row_q, in_row_d, in2_row_q, in2_row_d, out_row_q, out_row_d;
  logic [63:0]        tab_row_q, tab_row_d, rin_q, rin_d, rout_q, rout_d;
  logic [63:0]        in_sb_q, in_sb_d, out_sb_q, out_sb_d;
  logic [NLd-1:0]     lmask_q, lmask_d;
  logic [3:0]         ld_q, ld_d;
  logic [32*NLd-1:0]  ldv_q, ldv_d;        // loaded words, by load
  logic [NBuf-1:0]    bv_q, bv_d;          // read buffer valid
  logic [58*NBuf-1:0] btag_q, btag_d;      // its line address
  logic [512*NBuf-1:0] bline_q, bline_d;   // its line
  logic               wv_q, wv_d;          // write-combining buffer
  logic [57:0]        wtag_q, wtag_d;
  logic [511:0]       wline_q, wline_d;
  logic [63:0]        wstrb_q, wstrb_d;
  logic [1:0]         wcnt_q, wcnt_d;      // queued writes (item 0, then 1)
  logic               wi_q, wi_d;
  logic [63:0]        wadr0_q, wadr0_d, wadr1_q, wadr1_d;
  logic [31:0]        wdat0_q, wdat0_d, wdat1_q, wdat1_d;
  logic               wword_q, wword_d;    // 4-byte items (else bytes)
  state_e             wret_q, wret_d, fret_q, fret_d;
  logic signed [63:0] va_q, va_d, vb_q, vb_d, sum_q, sum_d, mu_q, mu_d;
  logic [63:0]        dmax_q, dmax_d, ss_q, ss_d, z_q, z_d, v_q, v_d;
  logic [5:0]         k_q, k_d;
  logic [31:0]        scm_q, scm_d;
  logic [5:0]         scs_q, scs_d;
  logic signed [7:0]  dqsh_q, dqsh_d;
  logic [31:0]        dqr_q, dqr_d;
  logic [31:0]        zn_q, zn_d;
  logic [31:0]        sx_q, sx_d;          // the sigmoid's input
  logic [7:0]         q0_q, q0_d, q1_q, q1_d;
  logic signed [31:0] top_q, top_d;
  logic [31:0]        best_q, best_d;
  logic [5:0]         nsh_q, nsh_d;        // rsqrt's even shift n
  logic [63:0]        sqv_q, sqv_d;
  logic [35:0]        sqrem_q, sqrem_d;
  logic [31:0]        root_q, root_d;
  logic [4:0]         sqi_q, sqi_d;

  // loaded words
  logic [31:0] x0, c0m, c0s, x1, c1m, c1s, tw, recm, recs, gid, gm, gs;
  assign x0 = ldv_q[32*LX0 +: 32];
  assign c0m = ldv_q[32*LC0M +: 32];
  assign c0s = ldv_q[32*LC0S +: 32];
  assign x1 = ldv_q[32*LX1 +: 32];
  assign c1m = ldv_q[32*LC1M +: 32];
  assign c1s = ldv_q[32*LC1S +: 32];
  assign tw = ldv_q[32*LT +: 32];
  assign recm = ldv_q[32*LRecM +: 32];
  assign recs = ldv_q[32*LRecS +: 32];
  assign gid = ldv_q[32*LId +: 32];
  assign gm = ldv_q[32*LGM +: 32];
  assign gs = ldv_q[32*LGS +: 32];

  logic live; // GATHER: the row's token id names a table row
  assign live = gid < p0;

  // ---- submodules ---------------------------------------------------------------------
  // divisions of up to 64 quotient bits; the dividend is held in num_q for
  // the divider to take one bit a cycle
  logic        div_start, div_done;
  logic [63:0] div_num, num_q, div_quot;
  logic [31:0] div_den, div_rem;
  logic [5:0]  div_top, div_bit;
  sq_div #(.MaxBits(64), .QuotW(64)) u_div (
    .clk_i, .rst_ni, .start_i(div_start), .top_i(div_top), .divisor_i(div_den),
    .bit_o(div_bit), .num_bit_i(num_q[div_bit]), .done_o(div_done), .quot_o(div_quot),
    .rem_o(div_rem)
  );

  // ---- the load in ld_q: address, byte or word, buffer --------------------------------
  logic [63:0] la;
  logic        lbyte;
  logic [2:0]  lbuf;
  always_comb begin
    la = 64'd0;
    lbyte = 1'b0;
    lbuf = 3'(BIn);
    unique case (32'(ld_q))
      LX0: begin
        lbyte = func == 4'(SqVecCopy);
        la = in_sb_q + (lbyte ? 64'(jj_q) : 64'(jj_q) << 2);
      end
      LC0M: begin
        la = chan_base + (func == 4'(SqVecNorm) ? 64'(j_q) << 2 : 64'(j_q) << 3);
        lbuf = 3'(BChan);
      end
      LC0S: begin
        la = chan_base + (64'(j_q) << 3) + 64'd4;
        lbuf = 3'(BChan);
      end
      LX1: begin
        if (rot) begin
          la = in_sb_q + (64'(jj_q) << 2) + 64'd4;
        end else begin
          la = in2_row_q + (64'(j_q) << 2);
          lbuf = 3'(BIn2);
        end
      end
      LC1M, LC1S: begin
        if (rot) begin
          la = chan_base + (64'(j_q) << 3) + 64'd8;
          lbuf = 3'(BChan);
        end else begin
          la = chan_base + ((64'(n) + 64'(j_q)) << 3);
          lbuf = 3'(BChan2);
        end
        la = la + (32'(ld_q) == LC1S ? 64'd4 : 64'd0);
      end
      LT: begin
        lbuf = 3'(BTab);
        if (func == 4'(SqVecGather)) begin
          lbyte = 1'b1;
          la = tab_base + 64'(gid) * 64'(tab_stride) + 64'(j_q);
        end else if (rot) begin
          la = tab_row_q + (64'(jj_q) << 1);
        end else begin
          la = tab_base + (64'(j_q) << 2);
        end
      end
      LRecM, LRecS: begin
        la = rin_q + (32'(ld_q) == LRecS ? 64'd4 : 64'd0);
        lbuf = 3'(BRec);
      end
      LId: la = in_row_q;
      LGM, LGS: begin
        la = chan_base + (64'(gid) << 3) + (32'(ld_q) == LGS ? 64'd4 : 64'd0);
        lbuf = 3'(BChan);
      end
      default: ;
    endcase
  end

  logic         lhit;
  logic [511:0] lline;
  logic [31:0]  lword;
  assign lhit = bv_q[lbuf] && btag_q[58*lbuf +: 58] == la[63:6];
  assign lline = bline_q[512*lbuf +: 512];
  assign lword = lbyte ? {24'd0, lline[8*la[5:0] +: 8]} : lline[32*la[5:2] +: 32];

  // ---- which loads an element or a row needs ------------------------------------------
  logic [NLd-1:0] elem_mask, row_mask;
  logic           swiglu, value_pass;
  assign swiglu = func == 4'(SqVecSwiglu);
  assign value_pass = pass_q == PMax || pass_q == PQ8 || pass_q == POut32 ||
                      pass_q == POut8;
  always_comb begin
    elem_mask = '0;
    if (pass_q == PGather) begin
      elem_mask[LT] = live;
    end else if (!value_pass || func == 4'(SqVecCopy)) begin
      elem_mask[LX0] = 1'b1;
    end else if (func == 4'(SqVecNorm)) begin
      elem_mask[LX0] = 1'b1;
      elem_mask[LC0M] = 1'b1;
      elem_mask[LT] = bias;
    end else begin
      elem_mask[LX0] = 1'b1;
      elem_mask[LC0M] = acc;
      elem_mask[LC0S] = acc;
      elem_mask[LX1] = func == 4'(SqVecAdd) || swiglu || rot;
      elem_mask[LC1M] = swiglu || rot;
      elem_mask[LC1S] = swiglu || rot;
      elem_mask[LT] = bias || rot;
    end
    row_mask = '0;
    row_mask[LRecM] = acc;
    row_mask[LRecS] = acc;
    row_mask[LId] = func == 4'(SqVecGather);
    row_mask[LGM] = func == 4'(SqVecGather);
    row_mask[LGS] = func == 4'(SqVecGather);
  end

  function automatic logic [3:0] first_ld(input logic [NLd-1:0] mask);
    first_ld = 4'd0;
    for (int i = NLd - 1; i >= 0; i--) begin
      if (mask[i]) begin
        first_ld = 4'(i);
      end
    end
  endfunction

  // the pass that starts a row, and the one after each
  function automatic pass_e first_pass(input logic [3:0] f, input logic l, input logic q);
    unique case (32'(f))
      SqVecGather: first_pass = PGather;
      SqVecNorm: first_pass = l ? PSum : PDmax;
      SqVecAdd, SqVecDeq: first_pass = POut32;
      SqVecRope, SqVecCopy: first_pass = POut8;
      SqVecSwiglu, SqVecQuant: first_pass = PMax;
      SqVecGelu: first_pass = q ? PMax : POut32;
      default: first_pass = PArg;
    endcase
  endfunction

  // ---- element values ------------------------------------------------------------------
  logic signed [31:0] in_a, in_b, norm_y;
  logic signed [63:0] norm_d, rot0, rot1;
  always_comb begin
    // rule 1 (or IN itself), plus the bias: the value a function starts from
    in_a = acc ? requant2(x0, c0m, c0s[5:0], recm, recs, p0) : $signed(x0);
    if (bias) begin
      in_a = sat32(sext(in_a) + sext(tw));
    end
    // SWIGLU's up value and ROPE's odd element by rule 1; ADD's addend as it is
    in_b = (swiglu || rot) ? requant2(x1, c1m, c1s[5:0], recm, recs, p0) : $signed(x1);
    // rule 3, one element
    norm_d = rsr(sext(x0) - mu_q, k_q);
    norm_y = sat32(rsr(rsr(norm_d * sext(c0m), 6'd15) * $signed({32'd0, scm_q}), scs_q));
    if (bias) begin
      norm_y = sat32(sext(norm_y) + sext(tw));
    end
    // rule 4, a rotated pair
    rot0 = sext(in_a) * sext(32'($signed(tw[15:0]))) - sext(in_b) * sext(32'($signed(tw[31:16])));
    rot1 = sext(in_a) * sext(32'($signed(tw[31:16]))) + sext(in_b) * sext(32'($signed(tw[15:0])));
  end

  // GELU's z (rule 7), from x = va with F = p1 fractional bits
  logic signed [63:0] g_xq, g_x2, g_p;
  logic [31:0]        g_z; // |z| < 2^26
  always_comb begin
    g_xq = rsr(va_q, 6'(p1 - 32'd16));
    if (g_xq > 64'sd1048576) begin
      g_xq = 64'sd1048576;
    end else if (g_xq < -64'sd1048576) begin
      g_xq = -64'sd1048576;
    end
    g_x2 = rsr(g_xq * g_xq, 6'd16);
    g_p = 64'(SqVecGeluC1) + rsr(64'(SqVecGeluC2) * g_x2, 6'd16);
    g_z = 32'(rsr(g_xq * g_p, 6'd24));
  end

  // the sigmoid's frac and exponent, and its result from the divider's quotient
  logic [5:0]         sig_frac;
  logic [15:0]        sig_e;
  logic [16:0]        sig_d;
  logic signed [63:0] sigma, sig_prod;
  assign sig_frac = swiglu ? p1[5:0] : 6'd16;
  assign sig_e = sig_exp(sx_q, sig_frac);
  assign sig_d = 17'd32768 + {1'b0, sig_e};
  assign sigma = $signed(sx_q) >= 32'sd0 ? $signed({32'd0, div_quot[31:0]})
                                         : 64'sd32768 - $signed({32'd0, div_quot[31:0]});
  assign sig_prod = rsr(va_q * sigma, 6'd15);

  // LayerNorm's mean numerator 2 sum + N (rule 3)
  logic signed [63:0] mean_num;
  assign mean_num = 2 * sum_q + $signed(64'(n));

  // rule 8's shift 61 - n/2
  logic [5:0] rsq_shift;
  assign rsq_shift = 6'd61 - {1'b0, nsh_q[5:1]};

  // rsqrt (rule 8) and rule 2's prep
  logic [63:0] eps_k, v_new;
  logic [6:0]  v_len;
  assign eps_k = 64'(rsr($signed({p1, p0}), {k_q[4:0], 1'b0}));
  assign v_new = ss_q + eps_k;
  assign v_len = bitlen(v_new);

  logic signed [7:0]  z_sh;
  logic [31:0]        zn_new; // in [2^30, 2^31]
  assign z_sh = 8'(bitlen(z_q)) - 8'sd31;
  assign zn_new = 32'(scale2($signed(z_q), z_sh));

  logic [35:0] sq_rem2, sq_trial;
  assign sq_rem2 = {sqrem_q[33:0], sqv_q[2*sqi_q+1 -: 2]};
  assign sq_trial = {2'd0, root_q, 2'b01};

  // ---- the write in hand ------------------------------------------------------------------
  logic [63:0] wa;
  logic [31:0] wd;
  assign wa = wi_q ? wadr1_q : wadr0_q;
  assign wd = wi_q ? wdat1_q : wdat0_q;

  assign cmd_ready_o = st_q == SIdle;
  assign idle_o = st_q == SIdle;
  assign arvalid_o = st_q == SRdAr;
  assign araddr_o = mem_base_i + {la[63:6], 6'd0};
  assign arlen_o = 8'd0;
  assign rready_o = st_q == SRdR;
  assign awvalid_o = st_q == SWrAw;
  assign awaddr_o = mem_base_i + {wtag_q, 6'd0};
  assign awlen_o = 8'd0;
  assign wvalid_o = st_q == SWrW;
  assign wdata_o = wline_q;
  assign wstrb_o = wstrb_q;
  assign wlast_o = 1'b1;
  assign bready_o = st_q == SWrB;
  assign stall_o = (st_q == SRdAr && !arready_i) || (st_q == SRdR && !rvalid_i) ||
                   (st_q == SWrAw && !awready_i) || (st_q == SWrW && !wready_i) ||
                   (st_q == SWrB && !bvalid_i);

  always_comb begin
    st_d = st_q;
    ret_d = ret_q;
    pass_d = pass_q;
    desc_d = desc_q;
    row_d = row_q;
    j_d = j_q;
    jj_d = jj_q;
    in_row_d = in_row_q;
    in2_row_d = in2_row_q;
    out_row_d = out_row_q;
    tab_row_d = tab_row_q;
    rin_d = rin_q;
    rout_d = rout_q;
    in_sb_d = in_sb_q;
    out_sb_d = out_sb_q;
    lmask_d = lmask_q;
    ld_d = ld_q;
    ldv_d = ldv_q;
    bv_d = bv_q;
    btag_d = btag_q;
    bline_d = bline_q;
    wv_d = wv_q;
    wtag_d = wtag_q;
    wline_d = wline_q;
    wstrb_d = wstrb_q;
    wcnt_d = wcnt_q;
    wi_d = wi_q;
    wadr0_d = wadr0_q;
    wadr1_d = wadr1_q;
    wdat0_d = wdat0_q;
    wdat1_d = wdat1_q;
    wword_d = wword_q;
    wret_d = wret_q;
    fret_d = fret_q;
    va_d = va_q;
    vb_d = vb_q;
    sum_d = sum_q;
    mu_d = mu_q;
    dmax_d = dmax_q;
    ss_d = ss_q;
    z_d = z_q;
    v_d = v_q;
    k_d = k_q;
    scm_d = scm_q;
    scs_d = scs_q;
    dqsh_d = dqsh_q;
    dqr_d = dqr_q;
    zn_d = zn_q;
    sx_d = sx_q;
    q0_d = q0_q;
    q1_d = q1_q;
    top_d = top_q;
    best_d = best_q;
    nsh_d = nsh_q;
    sqv_d = sqv_q;
    sqrem_d = sqrem_q;
    root_d = root_q;
    sqi_d = sqi_q;
    cmd_done_o = 1'b0;
    div_start = 1'b0;
    div_num = 64'd0;
    div_den = 32'd0;
    div_top = 6'd0;

    unique case (st_q)
      SIdle: begin
        if (cmd_valid_i) begin
          desc_d = cmd_i;
          // a descriptor of another unit, or one this unit cannot run (the
          // runtime rejects those before a run), finishes at once
          if (cmd_i[7:0] != 8'(SqOpVecCode) || cmd_i[32*SqVecWFunc +: 32] >= SqVecFuncs ||
              cmd_i[32*SqVecWM +: 32] == 32'd0 || cmd_i[32*SqVecWN +: 32] == 32'd0) begin
            cmd_done_o = 1'b1;
          end else begin
            bv_d = '0;
            row_d = 32'd0;
            in_row_d = cmd_i[32*SqVecWInLo +: 64];
            in2_row_d = cmd_i[32*SqVecWIn2Lo +: 64];
            out_row_d = cmd_i[32*SqVecWOutLo +: 64];
            tab_row_d = cmd_i[32*SqVecWTabLo +: 64];
            rin_d = cmd_i[32*SqVecWRecInLo +: 64];
            rout_d = cmd_i[32*SqVecWRecOutLo +: 64];
            st_d = SRow;
          end
        end
      end

      // the row's own operands: its record (ACC), its token id and row scale (GATHER)
      SRow: begin
        pass_d = first_pass(func, ln, q8);
        mu_d = 64'sd0;
        if (row_mask != '0) begin
          lmask_d = row_mask;
          ld_d = first_ld(row_mask);
          ret_d = SPass;
          st_d = SLd;
        end else begin
          st_d = SPass;
        end
      end

      SPass: begin
        j_d = 32'd0;
        jj_d = 32'd0;
        in_sb_d = in_row_q;
        out_sb_d = out_row_q;
        sum_d = 64'sd0;
        dmax_d = 64'd0;
        ss_d = 64'd0;
        z_d = 64'd0;
        st_d = SElem;
      end

      SElem: begin
        if (elem_mask != '0) begin
          lmask_d = elem_mask;
          ld_d = first_ld(elem_mask);
          ret_d = SVal;
          st_d = SLd;
        end else begin
          st_d = SVal;
        end
      end

      // one load: a hit takes this cycle, a miss fetches the line first
      SLd: begin
        if (lhit) begin
          ldv_d[32*ld_q +: 32] = lword;
          lmask_d[ld_q] = 1'b0;
          if (32'(ld_q) == LId && !(lword < p0)) begin
            lmask_d[LGM] = 1'b0;
            lmask_d[LGS] = 1'b0;
          end
          if (lmask_d == '0) begin
            st_d = ret_q;
          end else begin
            ld_d = first_ld(lmask_d);
          end
        end else begin
          st_d = SRdAr;
        end
      end
      SRdAr: if (arready_i) st_d = SRdR;
      SRdR: begin
        if (rvalid_i) begin
          bv_d[lbuf] = 1'b1;
          btag_d[58*lbuf +: 58] = la[63:6];
          bline_d[512*lbuf +: 512] = rdata_i;
          st_d = SLd;
        end
      end

      SVal: begin
        va_d = func == 4'(SqVecNorm) ? sext(norm_y) : sext(in_a);
        vb_d = sext(in_b);
        sx_d = in_a;
        q0_d = rot ? sat8(rsr(rot0, 6'(p1 + 32'd14))) : sat8(rsr(sext(in_a), p1[5:0]));
        q1_d = sat8(rsr(rot1, 6'(p1 + 32'd14)));
        if (value_pass && func == 4'(SqVecGelu)) begin
          st_d = SGelu;
        end else if (value_pass && swiglu) begin
          st_d = SSig0;
        end else begin
          st_d = SAct;
        end
      end
      SGelu: begin
        sx_d = g_z;
        st_d = SSig0;
      end
      // rule 5: p = floor((2^30 + d/2) / d), d = 2^15 + e
      SSig0: begin
        div_start = 1'b1;
        div_num = 64'd1073741824 + 64'(sig_d[16:1]);
        div_den = 32'(sig_d);
        div_top = 6'd30;
        st_d = SSigW;
      end
      SSigW: if (div_done) st_d = SSig1;
      SSig1: begin
        // SWIGLU: h = s * b (rule 6); GELU: g as int32 (rule 7)
        va_d = swiglu ? sig_prod * vb_q : sext(sig_prod[31:0]);
        st_d = SAct;
      end

      // the pass's use of the element: a statistic, or the writes it makes
      SAct: begin
        st_d = SNext;
        wcnt_d = 2'd1;
        wi_d = 1'b0;
        wword_d = 1'b0;
        wret_d = SNext;
        wadr0_d = out_sb_q + 64'(jj_q);
        wadr1_d = out_sb_q + 64'(jj_q) + 64'd1;
        unique case (pass_q)
          PSum: sum_d = sum_q + sext(x0);
          PDmax: dmax_d = abs64(sext(x0) - mu_q) > dmax_q ? abs64(sext(x0) - mu_q) : dmax_q;
          PSs: ss_d = ss_q + 64'(norm_d * norm_d);
          PMax: z_d = abs64(va_q) > z_q ? abs64(va_q) : z_q;
          PArg: begin
            if (j_q == 32'd0 || $signed(x0) > top_q) begin
              top_d = $signed(x0);
              best_d = j_q;
            end
          end
          PQ8: begin
            wdat0_d = {24'd0, dq_apply(va_q, dqsh_q, dqr_q)};
            st_d = SWr;
          end
          POut8: begin
            wdat0_d = {24'd0, func == 4'(SqVecCopy) ? x0[7:0] : q0_q};
            wdat1_d = {24'd0, q1_q};
            wcnt_d = func == 4'(SqVecRope) && rot ? 2'd2 : 2'd1;
            st_d = SWr;
          end
          POut32: begin
            wdat0_d = sat32(func == 4'(SqVecAdd) ? va_q + vb_q : va_q);
            wword_d = 1'b1;
            wadr0_d = out_sb_q + (64'(jj_q) << 2);
            st_d = SWr;
          end
          PGather: begin
            wdat0_d = live ? sat32(rsr(sext(32'($signed(tw[7:0]))) * sext(gm), gs[5:0])) : 32'd0;
            wword_d = 1'b1;
            wadr0_d = out_sb_q + (64'(jj_q) << 2);
            st_d = SWr;
          end
          default: ;
        endcase
      end

      // one queued write into the write-combining line; another line first
      // sends the buffered one
      SWr: begin
        if (wv_q && wtag_q != wa[63:6]) begin
          fret_d = SWr;
          st_d = SWrAw;
        end else begin
          wv_d = 1'b1;
          wtag_d = wa[63:6];
          if (wword_q) begin
            wline_d[8*wa[5:0] +: 32] = wd;
            wstrb_d[wa[5:0] +: 4] = 4'hF;
          end else begin
            wline_d[8*wa[5:0] +: 8] = wd[7:0];
            wstrb_d[wa[5:0]] = 1'b1;
          end
          if (!wi_q && wcnt_q == 2'd2) begin
            wi_d = 1'b1;
          end else begin
            st_d = wret_q;
          end
        end
      end
      SWrAw: if (awready_i) st_d = SWrW;
      SWrW: if (wready_i) st_d = SWrB;
      SWrB: begin
        if (bvalid_i) begin
          wv_d = 1'b0;
          wstrb_d = 64'd0;
          st_d = fret_q;
        end
      end

      SNext: begin
        j_d = j_q + ((pass_q == POut8 && func == 4'(SqVecRope) && rot) ? 32'd2 : 32'd1);
        jj_d = jj_q + (j_d - j_q);
        if (jj_d >= seg) begin
          jj_d = 32'd0;
          in_sb_d = in_sb_q + 64'(in_seg_stride);
          out_sb_d = out_sb_q + 64'(out_seg_stride);
        end
        if (j_d < n) begin
          st_d = SElem;
        end else begin
          // the end of a pass
          unique case (pass_q)
            PSum: st_d = SMean;
            PDmax: begin
              k_d = bitlen(dmax_q) > 7'(SqVecNormBits) ? 6'(bitlen(dmax_q) - 7'(SqVecNormBits))
                                                        : 6'd0;
              pass_d = PSs;
              st_d = SPass;
            end
            PSs: st_d = SRsq0;
            PMax: st_d = SDq0;
            PArg: begin
              wcnt_d = 2'd1;
              wi_d = 1'b0;
              wword_d = 1'b1;
              wadr0_d = out_row_q;
              wdat0_d = best_q;
              wret_d = SRowEnd;
              st_d = SWr;
            end
            default: st_d = SRowEnd;
          endcase
        end
      end

      // LayerNorm's mean: floor((2 sum + N) / (2N))
      SMean: begin
        div_start = 1'b1;
        div_num = abs64(mean_num);
        div_den = n << 1;
        div_top = 6'd49;
        st_d = SMeanW;
      end
      SMeanW: if (div_done) st_d = SMeanF;
      SMeanF: begin
        mu_d = mean_num < 64'sd0 ? -$signed(div_quot) - 64'(div_rem != 32'd0)
                                 : $signed(div_quot);
        pass_d = PDmax;
        st_d = SPass;
      end

      // rsqrt of v = ss + rshift_round(E, 2k): isqrt(v 2^n), then 2^61 / r
      SRsq0: begin
        v_d = v_new;
        nsh_d = 6'((7'd62 - v_len) & ~7'd1);
        sqv_d = v_new << 6'((7'd62 - v_len) & ~7'd1);
        sqrem_d = 36'd0;
        root_d = 32'd0;
        sqi_d = 5'd30;
        st_d = SSqrt;
      end
      SSqrt: begin
        if (sq_rem2 >= sq_trial) begin
          sqrem_d = sq_rem2 - sq_trial;
          root_d = {root_q[30:0], 1'b1};
        end else begin
          sqrem_d = sq_rem2;
          root_d = {root_q[30:0], 1'b0};
        end
        if (sqi_q == 5'd0) begin
          div_start = 1'b1;
          div_num = 64'h2000000000000000;
          div_den = root_d;
          div_top = 6'd61;
          st_d = SRsqW;
        end else begin
          sqi_d = sqi_q - 5'd1;
        end
      end
      SRsqW: if (div_done) st_d = SRsqF;
      SRsqF: begin
        if (v_q == 64'd0) begin
          scm_d = 32'd0;
          scs_d = clamp_shift(33'($signed(p2)));
        end else begin
          scm_d = div_quot > 64'h7FFFFFFF ? 32'h7FFFFFFF : div_quot[31:0];
          scs_d = clamp_shift(33'($signed(p2)) + {27'd0, rsq_shift});
        end
        pass_d = q8 ? PMax : POut32;
        st_d = SPass;
      end

      // rule 2 from the row maximum Z: the shift, the reciprocal, the record
      SDq0: begin
        dqsh_d = z_sh;
        zn_d = zn_new;
        div_start = 1'b1;
        div_num = 64'd127 << SqVecDqShift;
        div_den = zn_new;
        div_top = 6'd52;
        st_d = SDqW;
      end
      SDqW: if (div_done) st_d = SDqF;
      SDqF: begin
        wcnt_d = 2'd2;
        wi_d = 1'b0;
        wword_d = 1'b1;
        wadr0_d = rout_q;
        wadr1_d = rout_q + 64'd4;
        if (z_q == 64'd0) begin
          dqsh_d = 8'sd0;
          dqr_d = 32'd0;
          wdat0_d = 32'd0;
          wdat1_d = 32'd0;
        end else begin
          dqr_d = div_quot[31:0];
          {wdat1_d, wdat0_d} = rec_norm(64'(zn_q) * 64'(SqVecInv127),
                                        $signed(func == 4'(SqVecNorm) ? p3 : swiglu ? p1 << 1 : p1)
                                        + 32'sd37 - 32'(dqsh_q));
        end
        pass_d = PQ8;
        wret_d = SPass;
        st_d = SWr;
      end

      SRowEnd: begin
        row_d = row_q + 32'd1;
        in_row_d = in_row_q + 64'(in_stride);
        in2_row_d = in2_row_q + 64'(in2_stride);
        out_row_d = out_row_q + 64'(out_stride);
        tab_row_d = tab_row_q + 64'(tab_stride);
        rin_d = rin_q + 64'(SqVecRecBytes);
        rout_d = rout_q + 64'(SqVecRecBytes);
        st_d = row_d == m_rows ? SFlush : SRow;
      end
      SFlush: begin
        if (wv_q) begin
          fret_d = SDone;
          st_d = SWrAw;
        end else begin
          st_d = SDone;
        end
      end
      SDone: begin
        cmd_done_o = 1'b1;
        st_d = SIdle;
      end
      default: st_d = SIdle;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      st_q <= SIdle;
      bv_q <= '0;
      wv_q <= 1'b0;
      wstrb_q <= 64'd0;
    end else begin
      st_q <= st_d;
      bv_q <= bv_d;
      wv_q <= wv_d;
      wstrb_q <= wstrb_d;
    end
  end

  // datapath registers: each is written before it is read
  always_ff @(posedge clk_i) begin
    ret_q <= ret_d;
    pass_q <= pass_d;
    desc_q <= desc_d;
    row_q <= row_d;
    j_q <= j_d;
    jj_q <= jj_d;
    in_row_q <= in_row_d;
    in2_row_q <= in2_row_d;
    out_row_q <= out_row_d;
    tab_row_q <= tab_row_d;
    rin_q <= rin_d;
    rout_q <= rout_d;
    in_sb_q <= in_sb_d;
    out_sb_q <= out_sb_d;
    lmask_q <= lmask_d;
    ld_q <= ld_d;
    ldv_q <= ldv_d;
    btag_q <= btag_d;
    bline_q <= bline_d;
    wtag_q <= wtag_d;
    wline_q <= wline_d;
    wcnt_q <= wcnt_d;
    wi_q <= wi_d;
    wadr0_q <= wadr0_d;
    wadr1_q <= wadr1_d;
    wdat0_q <= wdat0_d;
    wdat1_q <= wdat1_d;
    wword_q <= wword_d;
    wret_q <= wret_d;
    fret_q <= fret_d;
    va_q <= va_d;
    vb_q <= vb_d;
    sum_q <= sum_d;
    mu_q <= mu_d;
    dmax_q <= dmax_d;
    ss_q <= ss_d;
    z_q <= z_d;
    v_q <= v_d;
    k_q <= k_d;
    scm_q <= scm_d;
    scs_q <= scs_d;
    dqsh_q <= dqsh_d;
    dqr_q <= dqr_d;
    zn_q <= zn_d;
    sx_q <= sx_d;
    q0_q <= q0_d;
    q1_q <= q1_d;
    top_q <= top_d;
    best_q <= best_d;
    nsh_q <= nsh_d;
    sqv_q <= sqv_d;
    sqrem_q <= sqrem_d;
    root_q <= root_d;
    sqi_q <= sqi_d;
    num_q <= div_start ? div_num : num_q;
  end
endmodule
