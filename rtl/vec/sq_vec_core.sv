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
// on chip. A pass goes through the row in groups of up to L =
// sq_vec_pkg::SqVecLanes elements (16 int32, one 64-byte beat) of one
// segment, one lane each:
//   loads:   each operand of the group (IN, IN2, CHAN, TAB, SWIGLU's up
//            channels) through one of six read buffers of D =
//            SqVecBufBlocks aligned 128-byte blocks (slot = block mod D;
//            one buffer for the row's REC_IN): every lane whose word lies
//            in a buffered block takes it in one cycle. A group asks for
//            the blocks of its loads and, reading ahead, for the next ones
//            of each load, D - 1 blocks from its first, as far as the
//            segment goes (addresses the pass reads anyway: never outside
//            the operand; D - 1, so that CHAN's two words, two loads of one
//            buffer up to a block apart, fit in its slots); a request engine sends one two-beat burst a
//            cycle and takes the beats in order in every state, so the
//            memory's latency overlaps the groups before. A group waits
//            only for its own blocks. The buffers are emptied at every
//            descriptor, since a descriptor may read what the one before it
//            wrote (no read of a descriptor overlaps its own outputs: the
//            runtime's operand check);
//   value:   rule 1 / bias / the norm's element / ROPE's pair (lanes 2i,
//            2i+1) in every lane in one cycle; the sigmoid (SWIGLU, GELU)
//            by a 16-step division per lane;
//   action:  a statistic over the lanes (an adder or a maximum tree), or
//            the group's writes into a 128-byte write-combining block that
//            goes out as one two-beat strobed burst when a write falls in
//            another block, and at the end; the responses are taken as they
//            come, and cmd_done waits for the last.
// Row statistics between passes: LayerNorm's mean (divider), rsqrt (a
// bit-serial isqrt, then the divider) and rule 2's reciprocal (divider).
// Every step takes a fixed number of cycles: what varies is only where the
// loads hit (the addresses), so the cycle model (host/runtime/vec_model.c)
// follows it exactly.
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
    SIdle, SRow, SPass, SElem, SFill, SLd, SVal, SGelu, SSig0, SSigW, SSig1, SAct,
    SWr, SWrAw, SWrW, SNext, SMean, SMeanW, SMeanF, SRsq0, SSqrt, SRsqW, SRsqF,
    SDq0, SDqW, SDqF, SRowEnd, SFlush, SDone
  } state_e;

  // passes of a row (hls/vec/sq_vec.c's loops)
  typedef enum logic [3:0] {
    PSum, PDmax, PSs, PMax, PQ8, POut32, POut8, PArg, PGather, PNone
  } pass_e;

  // loads: element operands (bits 0-6), then row operands (bits 7-11)
  localparam int unsigned LX0 = 0, LC0M = 1, LC0S = 2, LX1 = 3, LC1M = 4, LC1S = 5, LT = 6;
  localparam int unsigned LRecM = 7, LRecS = 8, LId = 9, LGM = 10, LGS = 11, NLd = 12;
  localparam int unsigned NEl = 7; // element loads, one word per lane
  localparam int unsigned L = sq_vec_pkg::SqVecLanes;
  // read buffers of D aligned 128-byte blocks (a two-beat burst each)
  localparam int unsigned BIn = 0, BIn2 = 1, BChan = 2, BTab = 3, BChan2 = 4, BRec = 5;
  localparam int unsigned NBuf = 6;
  localparam int unsigned D = sq_vec_pkg::SqVecBufBlocks;
  localparam int unsigned DB = $clog2(D);
  localparam int unsigned NSlot = D * NBuf; // slot = {buffer, block mod D}
  localparam int unsigned SB = $clog2(NSlot);
  localparam int unsigned RQ = 1 << SB; // bursts in flight: each slot at most once

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

  logic swiglu;
  assign swiglu = func == 4'(SqVecSwiglu);

  // ---- state ------------------------------------------------------------------------
  state_e             st_q, st_d, ret_q, ret_d;
  pass_e              pass_q, pass_d;
  logic [31:0]        row_q, row_d, j_q, j_d, jj_q, jj_d;
  logic [31:0]        g_q, g_d;            // elements in the group
  logic [L-1:0]       gmask_q, gmask_d;    // its lanes
  logic [63:0]        in_row_q, in_row_d, in2_row_q, in2_row_d, out_row_q, out_row_d;
  logic [63:0]        tab_row_q, tab_row_d, rin_q, rin_d, rout_q, rout_d;
  logic [63:0]        in_sb_q, in_sb_d, out_sb_q, out_sb_d;
  logic [NLd-1:0]     lmask_q, lmask_d;
  logic [3:0]         ld_q, ld_d;
  logic [L-1:0]       lpend_q, lpend_d;    // lanes of the load still to take
  logic [32*L*NEl-1:0] ev_q, ev_d;         // element loads, by load and lane
  logic [31:0]        recm_q, recm_d, recs_q, recs_d, gid_q, gid_d, gm_q, gm_d, gs_q, gs_d;
  logic [NSlot-1:0]   bv_q, bv_d;          // read buffer slot valid
  logic [57*NSlot-1:0] btag_q, btag_d;     // its block address
  logic [1023:0]      bblk_q [NSlot];      // its block
  logic [NSlot-1:0]   pend_q, pend_d;      // its block asked for, not yet all there
  logic [NSlot-1:0]   far_q, far_d;        // to request
  logic [NSlot-1:0]   need_q, need_d;      // what SFill waits for
  logic [SB*RQ-1:0]   rq_q, rq_d;          // slots of the bursts in flight, in order
  logic [SB-1:0]      rq_head_q, rq_head_d;
  logic [SB:0]        rq_cnt_q, rq_cnt_d;
  logic               rbeat_q, rbeat_d;
  logic [15:0]        wout_q, wout_d;      // write bursts awaiting their response
  logic               wv_q, wv_d;          // write-combining block
  logic [56:0]        wtag_q, wtag_d;
  logic [1023:0]      wline_q, wline_d;
  logic [127:0]       wstrb_q, wstrb_d;
  logic               wbeat_q, wbeat_d;
  logic [L-1:0]       wpend_q, wpend_d;    // lanes still to write
  logic               wword_q, wword_d;    // 4-byte items (else bytes)
  logic [63:0]        wbase_q, wbase_d;    // lane 0's address
  logic [32*L-1:0]    wdat_q, wdat_d;
  state_e             wret_q, wret_d, fret_q, fret_d;
  logic [64*L-1:0]    va_q, va_d;
  logic [32*L-1:0]    vb_q, vb_d, sx_q, sx_d;
  logic [8*L-1:0]     q_q, q_d;
  logic [17*L-1:0]    srem_q, srem_d, sden_q, sden_d;  // the sigmoid's division per lane
  logic [16*L-1:0]    snum_q, snum_d, squot_q, squot_d;
  logic [3:0]         scnt_q, scnt_d;
  logic signed [63:0] sum_q, sum_d, mu_q, mu_d;
  logic [63:0]        dmax_q, dmax_d, ss_q, ss_d, z_q, z_d, v_q, v_d;
  logic [5:0]         k_q, k_d;
  logic [31:0]        scm_q, scm_d;
  logic [5:0]         scs_q, scs_d;
  logic signed [7:0]  dqsh_q, dqsh_d;
  logic [31:0]        dqr_q, dqr_d;
  logic [31:0]        zn_q, zn_d;
  logic signed [31:0] top_q, top_d;
  logic [31:0]        best_q, best_d;
  logic [5:0]         nsh_q, nsh_d;        // rsqrt's even shift n
  logic [63:0]        sqv_q, sqv_d;
  logic [35:0]        sqrem_q, sqrem_d;
  logic [31:0]        root_q, root_d;
  logic [4:0]         sqi_q, sqi_d;

  // element loads of lane l
  function automatic logic [31:0] ev(input logic [32*L*NEl-1:0] e, input int unsigned ld,
                                     input int unsigned l);
    ev = e[32*(L*ld + l) +: 32];
  endfunction

  logic live; // GATHER: the row's token id names a table row
  assign live = gid_q < p0;

  // ---- submodules ---------------------------------------------------------------------
  // the row statistics' divisions, of up to 64 quotient bits; the dividend is
  // held in num_q for the divider to take one bit a cycle
  logic        div_start, div_done;
  logic [63:0] div_num, num_q, div_quot;
  logic [31:0] div_den, div_rem;
  logic [5:0]  div_top, div_bit;
  sq_div #(.MaxBits(64), .QuotW(64)) u_div (
    .clk_i, .rst_ni, .start_i(div_start), .top_i(div_top), .divisor_i(div_den),
    .bit_o(div_bit), .num_bit_i(num_q[div_bit]), .done_o(div_done), .quot_o(div_quot),
    .rem_o(div_rem)
  );

  // ---- each load's lane 0 address, element size and buffer ---------------------------
  // lane l reads la0 + l * les; a row load is lane 0 alone
  logic [64*NLd-1:0] ala0;
  logic [4*NLd-1:0]  ales;
  logic [3*NLd-1:0]  abuf;
  always_comb begin
    ala0 = '0;
    ales = '0;
    abuf = '0;
    // only the loads' states use them: the simulator skips them in the others
    if (st_q == SElem || st_q == SLd) begin
      for (int unsigned t = 0; t < NLd; t++) begin
      logic [63:0] la0;
      logic [3:0]  les;
      logic [2:0]  lbuf;
      la0 = 64'd0;
      les = 4'd4;
      lbuf = 3'(BIn);
      unique case (t)
        LX0: begin
          les = func == 4'(SqVecCopy) ? 4'd1 : 4'd4;
          la0 = in_sb_q + 64'(jj_q) * 64'(les);
        end
        LC0M: begin
          les = func == 4'(SqVecNorm) ? 4'd4 : 4'd8;
          la0 = chan_base + 64'(j_q) * 64'(les);
          lbuf = 3'(BChan);
        end
        LC0S: begin
          les = 4'd8;
          la0 = chan_base + (64'(j_q) << 3) + 64'd4;
          lbuf = 3'(BChan);
        end
        LX1: begin
          la0 = in2_row_q + (64'(j_q) << 2);
          lbuf = 3'(BIn2);
        end
        LC1M, LC1S: begin
          les = 4'd8;
          la0 = chan_base + ((64'(n) + 64'(j_q)) << 3) + (t == LC1S ? 64'd4 : 64'd0);
          lbuf = 3'(BChan2);
        end
        LT: begin
          lbuf = 3'(BTab);
          if (func == 4'(SqVecGather)) begin
            les = 4'd1;
            la0 = tab_base + 64'(gid_q) * 64'(tab_stride) + 64'(j_q);
          end else if (rot) begin
            les = 4'd2;
            la0 = tab_row_q + (64'(jj_q) << 1);
          end else begin
            la0 = tab_base + (64'(j_q) << 2);
          end
        end
        LRecM, LRecS: begin
          la0 = rin_q + (t == LRecS ? 64'd4 : 64'd0);
          lbuf = 3'(BRec);
        end
        LId: la0 = in_row_q;
        LGM, LGS: begin
          la0 = chan_base + (64'(gid_q) << 3) + (t == LGS ? 64'd4 : 64'd0);
          lbuf = 3'(BChan);
        end
        default: ;
      endcase
      ala0[64*t +: 64] = la0;
      ales[4*t +: 4] = les;
      abuf[3*t +: 3] = lbuf;
      end
    end
  end
  logic [63:0] la0;
  logic [3:0]  les;
  logic [2:0]  lbuf;
  assign la0 = ala0[64*ld_q +: 64];
  assign les = ales[4*ld_q +: 4];
  assign lbuf = abuf[3*ld_q +: 3];

  // which pending lanes find their block in its slot of the buffer, the first
  // pending lane's block (a miss asks for it), and each lane's word from the
  // buffer's blocks of lane 0 and the one after it, shifted to lane 0's byte
  logic [L-1:0]  lfirst, lin;
  logic [56:0]   lblk;
  logic          lhit;
  logic [1023:0] lrot;
  logic [32*L-1:0] lword;
  logic [SB-1:0] lslot0, lslot1;
  always_comb begin
    logic [56:0] a; // the lane's block
    a = '0;
    lfirst = '0;
    lin = '0;
    lblk = '0;
    lhit = '0;
    lrot = '0;
    lword = '0;
    lslot0 = '0;
    lslot1 = '0;
    // only the loads' state uses them
    if (st_q == SLd) begin
      lfirst = lpend_q & (~lpend_q + 1'b1);
      for (int l = 0; l < L; l++) begin
        a = 57'((la0 + 64'(l) * 64'(les)) >> 7);
        lin[l] = bv_q[SB'({lbuf, a[DB-1:0]})] && btag_q[57*SB'({lbuf, a[DB-1:0]}) +: 57] == a;
        if (lfirst[l]) begin
          lblk = a;
        end
      end
      lhit = (lfirst & lin) != '0;
      lslot0 = SB'({lbuf, la0[7 +: DB]});
      lslot1 = SB'({lbuf, DB'(la0[7 +: DB] + 1'b1)});
      lrot = 1024'({bblk_q[lslot1], bblk_q[lslot0]} >> {la0[6:0], 3'd0});
      for (int l = 0; l < L; l++) begin
        unique case (les)
          4'd1: lword[32*l +: 32] = {24'd0, lrot[8*l +: 8]};
          4'd2: lword[32*l +: 32] = {16'd0, lrot[16*l +: 16]};
          4'd8: lword[32*l +: 32] = lrot[64*l +: 32];
          default: lword[32*l +: 32] = lrot[32*l +: 32];
        endcase
      end
    end
  end

  // the lowest set bit of a slot or load mask (0 when none is set)
  function automatic logic [3:0] first_set(input logic [15:0] mask);
    first_set = 4'd0;
    for (int i = 15; i >= 0; i--) begin
      if (mask[i]) begin
        first_set = 4'(i);
      end
    end
  endfunction

  // the slot the request engine asks for next (the lowest), and the slot
  // of the burst whose beats come back
  logic [SB-1:0] far_i, rq_i;
  always_comb begin
    far_i = '0;
    for (int i = NSlot - 1; i >= 0; i--) begin
      if (far_q[i]) begin
        far_i = SB'(i);
      end
    end
  end
  assign rq_i = rq_q[SB*32'(rq_head_q) +: SB];

  // ---- which loads a group or a row needs ---------------------------------------------
  logic [NLd-1:0] elem_mask, row_mask;
  logic           value_pass;
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
      // ROPE's pairs are lanes 2i and 2i+1 of one group: no second operand
      elem_mask[LX0] = 1'b1;
      elem_mask[LC0M] = acc;
      elem_mask[LC0S] = acc;
      elem_mask[LX1] = func == 4'(SqVecAdd) || swiglu;
      elem_mask[LC1M] = swiglu;
      elem_mask[LC1S] = swiglu;
      elem_mask[LT] = bias || rot;
    end
    row_mask = '0;
    row_mask[LRecM] = acc;
    row_mask[LRecS] = acc;
    row_mask[LId] = func == 4'(SqVecGather);
    row_mask[LGM] = func == 4'(SqVecGather);
    row_mask[LGS] = func == 4'(SqVecGather);
  end

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

  // ---- lane values ---------------------------------------------------------------------
  logic [32*L-1:0] in_a, in_b, norm_y;
  logic [64*L-1:0] norm_d;
  logic [8*L-1:0]  rope_q;
  always_comb begin
    logic signed [31:0] a;
    logic signed [63:0] y0, y1, c, s;
    a = '0;
    y0 = '0;
    y1 = '0;
    c = '0;
    s = '0;
    in_a = '0;
    in_b = '0;
    norm_y = '0;
    norm_d = '0;
    rope_q = '0;
    // only SVal uses them
    if (st_q == SVal) begin
      for (int l = 0; l < L; l++) begin
        // rule 1 (or IN itself), plus the bias: the value a function starts from
        a = acc ? requant2(ev(ev_q, LX0, l), ev(ev_q, LC0M, l), ev_q[32*(L*LC0S + l) +: 6], recm_q,
                           recs_q, p0)
                : $signed(ev(ev_q, LX0, l));
        if (bias) begin
          a = sat32(sext(a) + sext(ev(ev_q, LT, l)));
        end
        in_a[32*l +: 32] = a;
        // SWIGLU's up value by rule 1; ADD's addend as it is
        in_b[32*l +: 32] = swiglu ? requant2(ev(ev_q, LX1, l), ev(ev_q, LC1M, l),
                                             ev_q[32*(L*LC1S + l) +: 6], recm_q, recs_q, p0)
                                  : ev(ev_q, LX1, l);
        // rule 3, one element
        norm_d[64*l +: 64] = rsr(sext(ev(ev_q, LX0, l)) - mu_q, k_q);
        norm_y[32*l +: 32] = sat32(rsr(rsr($signed(norm_d[64*l +: 64]) * sext(ev(ev_q, LC0M, l)),
                                           6'd15) * $signed({32'd0, scm_q}), scs_q));
        if (bias) begin
          norm_y[32*l +: 32] = sat32(sext(norm_y[32*l +: 32]) + sext(ev(ev_q, LT, l)));
        end
      end
      // rule 4: lanes 2i and 2i+1 are a pair, (c, s) the TAB halfwords of the two
      for (int l = 0; l < L; l += 2) begin
        y0 = sext(in_a[32*l +: 32]);
        y1 = sext(in_a[32*(l+1) +: 32]);
        c = sext(32'($signed(ev_q[32*(L*LT + l) +: 16])));
        s = sext(32'($signed(ev_q[32*(L*LT + l + 1) +: 16])));
        rope_q[8*l +: 8] = sat8(rsr(y0 * c - y1 * s, 6'(p1 + 32'd14)));
        rope_q[8*(l+1) +: 8] = sat8(rsr(y0 * s + y1 * c, 6'(p1 + 32'd14)));
      end
    end
  end

  // GELU's z (rule 7) of each lane's x = va with F = p1 fractional bits
  logic [32*L-1:0] g_z; // |z| < 2^26
  always_comb begin
    logic signed [63:0] xq, x2, pp;
    xq = '0;
    x2 = '0;
    pp = '0;
    g_z = '0;
    // only SGelu uses it
    if (st_q == SGelu) begin
      for (int l = 0; l < L; l++) begin
        xq = rsr($signed(va_q[64*l +: 64]), 6'(p1 - 32'd16));
        if (xq > 64'sd1048576) begin
          xq = 64'sd1048576;
        end else if (xq < -64'sd1048576) begin
          xq = -64'sd1048576;
        end
        x2 = rsr(xq * xq, 6'd16);
        pp = 64'(SqVecGeluC1) + rsr(64'(SqVecGeluC2) * x2, 6'd16);
        g_z[32*l +: 32] = 32'(rsr(xq * pp, 6'd24));
      end
    end
  end

  // the sigmoid (rule 5) of each lane's sx: p = floor((2^30 + d/2) / d), d =
  // 2^15 + e in [2^15, 2^16], is at most 2^15, so a division from the
  // remainder 2^30 >> 16 = 2^14 over the low 16 dividend bits d/2 (one bit a
  // cycle, MSB first) gives it in 16 steps
  logic [5:0]      sig_frac;
  logic [17*L-1:0] sig_d;
  logic [64*L-1:0] sig_prod;
  assign sig_frac = swiglu ? p1[5:0] : 6'd16;
  always_comb begin
    logic signed [63:0] sigma;
    sigma = '0;
    sig_d = '0;
    sig_prod = '0;
    // only the sigmoid's states use them
    if (st_q == SSig0 || st_q == SSig1) begin
      for (int l = 0; l < L; l++) begin
        sig_d[17*l +: 17] = 17'd32768 + {1'b0, sig_exp(sx_q[32*l +: 32], sig_frac)};
        sigma = $signed(sx_q[32*l +: 32]) >= 32'sd0 ? $signed({48'd0, squot_q[16*l +: 16]})
                                                    : 64'sd32768 - $signed({48'd0, squot_q[16*l +: 16]});
        sig_prod[64*l +: 64] = rsr($signed(va_q[64*l +: 64]) * sigma, 6'd15);
      end
    end
  end

  // ---- reductions over the group's lanes (lanes past the group count nothing) -----------
  logic signed [63:0] red_sum, red_ss;
  logic [63:0]        red_dmax, red_z;
  logic signed [31:0] red_top;
  logic [31:0]        red_best;
  always_comb begin
    red_sum = '0;
    red_ss = '0;
    red_dmax = '0;
    red_z = '0;
    red_top = '0;
    red_best = '0;
    // only SAct uses them
    if (st_q == SAct) begin
      red_top = $signed(ev(ev_q, LX0, 0));
      for (int l = 0; l < L; l++) begin
        if (gmask_q[l]) begin
          red_sum = red_sum + sext(ev(ev_q, LX0, l));
          red_ss = red_ss + $signed(va_q[64*l +: 64]);
          red_dmax = va_q[64*l +: 64] > red_dmax ? va_q[64*l +: 64] : red_dmax;
          red_z = abs64($signed(va_q[64*l +: 64])) > red_z ? abs64($signed(va_q[64*l +: 64]))
                                                           : red_z;
          if ($signed(ev(ev_q, LX0, l)) > red_top) begin
            red_top = $signed(ev(ev_q, LX0, l));
            red_best = 32'(l);
          end
        end
      end
    end
  end

  // LayerNorm's mean numerator 2 sum + N (rule 3)
  logic signed [63:0] mean_num;
  assign mean_num = 2 * sum_q + $signed(64'(n));

  // rule 8's shift 61 - n/2
  logic [5:0] rsq_shift;
  assign rsq_shift = 6'd61 - {1'b0, nsh_q[5:1]};

  // rsqrt (rule 8) and rule 2's prep
  logic [63:0] eps_k, v_new;
  logic [6:0]  v_len;
  always_comb begin
    eps_k = '0;
    v_new = '0;
    v_len = '0;
    // only SRsq0 uses them
    if (st_q == SRsq0) begin
      eps_k = 64'(rsr($signed({p1, p0}), {k_q[4:0], 1'b0}));
      v_new = ss_q + eps_k;
      v_len = bitlen(v_new);
    end
  end

  logic signed [7:0]  z_sh;
  logic [31:0]        zn_new; // in [2^30, 2^31]
  always_comb begin
    z_sh = '0;
    zn_new = '0;
    // only SDq0 uses them
    if (st_q == SDq0) begin
      z_sh = 8'(bitlen(z_q)) - 8'sd31;
      zn_new = 32'(scale2($signed(z_q), z_sh));
    end
  end

  logic [35:0] sq_rem2, sq_trial;
  assign sq_rem2 = {sqrem_q[33:0], sqv_q[2*sqi_q+1 -: 2]};
  assign sq_trial = {2'd0, root_q, 2'b01};

  // ---- the group's writes: the lanes in the first pending lane's block ----------------
  // the lanes' bytes packed from lane 0 and turned to lane 0's place in the block
  logic [L-1:0]   wfirst, win, wtake;
  logic [56:0]    wblk;
  logic [1023:0]  wpack, wrot;
  logic [127:0]   wmask, wmrot;
  always_comb begin
    logic [56:0] a; // the lane's block
    a = '0;
    wfirst = '0;
    win = '0;
    wtake = '0;
    wblk = '0;
    wpack = '0;
    wrot = '0;
    wmask = '0;
    wmrot = '0;
    // only SWr uses them
    if (st_q == SWr) begin
      wfirst = wpend_q & (~wpend_q + 1'b1);
      wblk = '0;
      for (int l = 0; l < L; l++) begin
        a = 57'((wbase_q + (wword_q ? 64'(l) << 2 : 64'(l))) >> 7);
        if (wfirst[l]) begin
          wblk = a;
        end
        win[l] = a == wblk;
      end
      wtake = wpend_q & win;
      wpack = '0;
      wmask = '0;
      for (int l = 0; l < L; l++) begin
        if (wword_q) begin
          wpack[32*l +: 32] = wdat_q[32*l +: 32];
          wmask[4*l +: 4] = {4{wtake[l]}};
        end else begin
          wpack[8*l +: 8] = wdat_q[32*l +: 8];
          wmask[l] = wtake[l];
        end
      end
      wrot = 1024'({wpack, wpack} >> {~wbase_q[6:0] + 7'd1, 3'd0});
      wmrot = 128'({wmask, wmask} >> (~wbase_q[6:0] + 7'd1));
    end
  end

  assign cmd_ready_o = st_q == SIdle;
  assign idle_o = st_q == SIdle;
  // every request sent and answered, every write acknowledged (this cycle's
  // response too; set with wout_d)
  logic drained;

  assign arvalid_o = far_q != '0;
  assign araddr_o = mem_base_i + {btag_q[57*far_i +: 57], 7'd0};
  assign arlen_o = 8'd1;
  assign rready_o = rq_cnt_q != '0;
  assign awvalid_o = st_q == SWrAw;
  assign awaddr_o = mem_base_i + {wtag_q, 7'd0};
  assign awlen_o = 8'd1;
  assign wvalid_o = st_q == SWrW;
  assign wdata_o = wline_q[512*wbeat_q +: 512];
  assign wstrb_o = wstrb_q[64*wbeat_q +: 64];
  assign wlast_o = wbeat_q;
  assign bready_o = wout_q != '0;
  assign stall_o = st_q == SFill || (st_q == SWrAw && !awready_i) ||
                   (st_q == SWrW && !wready_i) || (st_q == SDone && !drained);

  always_comb begin
    st_d = st_q;
    ret_d = ret_q;
    pass_d = pass_q;
    desc_d = desc_q;
    row_d = row_q;
    j_d = j_q;
    jj_d = jj_q;
    g_d = g_q;
    gmask_d = gmask_q;
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
    lpend_d = lpend_q;
    ev_d = ev_q;
    recm_d = recm_q;
    recs_d = recs_q;
    gid_d = gid_q;
    gm_d = gm_q;
    gs_d = gs_q;
    bv_d = bv_q;
    btag_d = btag_q;
    pend_d = pend_q;
    far_d = far_q;
    need_d = need_q;
    rq_d = rq_q;
    rq_head_d = rq_head_q;
    rq_cnt_d = rq_cnt_q;
    rbeat_d = rbeat_q;
    wv_d = wv_q;
    wtag_d = wtag_q;
    wline_d = wline_q;
    wstrb_d = wstrb_q;
    wbeat_d = wbeat_q;
    wpend_d = wpend_q;
    wword_d = wword_q;
    wbase_d = wbase_q;
    wdat_d = wdat_q;
    wret_d = wret_q;
    fret_d = fret_q;
    va_d = va_q;
    vb_d = vb_q;
    sx_d = sx_q;
    q_d = q_q;
    srem_d = srem_q;
    sden_d = sden_q;
    snum_d = snum_q;
    squot_d = squot_q;
    scnt_d = scnt_q;
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

    // the request engine, in every state: one burst asked for a cycle, the
    // beats taken in order into the slot of the burst at the head
    if (far_q != '0 && arready_i) begin
      far_d[far_i] = 1'b0;
      rq_d[SB*32'(SB'(rq_head_q + SB'(rq_cnt_q))) +: SB] = far_i;
      rq_cnt_d = rq_cnt_d + 1'b1;
    end
    if (rq_cnt_q != '0 && rvalid_i) begin
      rbeat_d = !rlast_i;
      if (rlast_i) begin
        bv_d[rq_i] = 1'b1;
        pend_d[rq_i] = 1'b0;
        rq_head_d = rq_head_q + 1'b1;
        rq_cnt_d = rq_cnt_d - 1'b1;
      end
    end
    wout_d = wout_q + 16'(wvalid_o && wready_i && wbeat_q) - 16'(bready_o && bvalid_i);
    drained = wout_d == '0 && rq_cnt_q == '0 && far_q == '0;

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
            pend_d = '0;
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
          ld_d = first_set(16'(row_mask));
          lpend_d = L'(1);
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

      // a group: up to L elements of one segment
      SElem: begin
        logic [31:0] rest; // the segment's elements from this group on
        rest = n - j_q < seg - jj_q ? n - j_q : seg - jj_q;
        g_d = rest > L ? L : rest;
        gmask_d = '0;
        for (int l = 0; l < L; l++) begin
          gmask_d[l] = 32'(l) < g_d;
        end
        // each load's blocks from the group's first on, D - 1 of them as far
        // as the segment goes, are asked for unless buffered or on their way
        // (CHAN's two words per element are two loads of one buffer that
        // start up to a block apart: D - 1 keeps both windows in its D
        // slots); the group waits for its own
        need_d = '0;
        for (int unsigned t = 0; t < NEl; t++) begin
          if (elem_mask[t]) begin
            logic [56:0] b0, b1, be;
            b0 = 57'(ala0[64*t +: 64] >> 7);
            b1 = 57'((ala0[64*t +: 64] + (64'(g_d) - 64'd1) * 64'(ales[4*t +: 4])) >> 7);
            be = 57'((ala0[64*t +: 64] + (64'(rest) - 64'd1) * 64'(ales[4*t +: 4])) >> 7);
            for (int k = 0; k < D - 1; k++) begin
              logic [56:0]   blk;
              logic [SB-1:0] sl;
              blk = b0 + 57'(k);
              sl = SB'({abuf[3*t +: 3], blk[DB-1:0]});
              if (blk <= be) begin
                if (!(btag_d[57*sl +: 57] == blk && (bv_d[sl] || pend_d[sl]))) begin
                  bv_d[sl] = 1'b0;
                  pend_d[sl] = 1'b1;
                  btag_d[57*sl +: 57] = blk;
                  far_d[sl] = 1'b1;
                end
                if (blk <= b1 && !bv_d[sl]) begin
                  need_d[sl] = 1'b1;
                end
              end
            end
          end
        end
        if (elem_mask != '0) begin
          lmask_d = elem_mask;
          ld_d = first_set(16'(elem_mask));
          lpend_d = gmask_d;
          ret_d = SVal;
          st_d = need_d != '0 ? SFill : SLd;
        end else begin
          st_d = SVal;
        end
      end

      // waiting for the blocks of the group (or of a load's miss)
      SFill: begin
        if ((need_q & ~bv_d) == '0) begin
          st_d = SLd;
        end
      end

      // one block of a load: its lanes in the buffered block take their words
      // this cycle; a miss reads the first pending lane's block first
      SLd: begin
        if (lhit) begin
          // constant part-selects: a write at a variable offset would be a
          // demultiplexer over all of ev in synthesis
          for (int unsigned t = 0; t < NEl; t++) begin
            for (int l = 0; l < L; l++) begin
              if (32'(ld_q) == t && lpend_q[l] && lin[l]) begin
                ev_d[32*(L*t + l) +: 32] = lword[32*l +: 32];
              end
            end
          end
          unique case (32'(ld_q))
            LRecM: recm_d = lword[31:0];
            LRecS: recs_d = lword[31:0];
            LId: gid_d = lword[31:0];
            LGM: gm_d = lword[31:0];
            LGS: gs_d = lword[31:0];
            default: ;
          endcase
          lpend_d = lpend_q & ~lin;
          if (lpend_d == '0) begin
            lmask_d[ld_q] = 1'b0;
            if (32'(ld_q) == LId && !(lword[31:0] < p0)) begin
              lmask_d[LGM] = 1'b0;
              lmask_d[LGS] = 1'b0;
            end
            if (lmask_d == '0) begin
              st_d = ret_q;
            end else begin
              ld_d = first_set(16'(lmask_d));
              lpend_d = 32'(ld_d) < NEl ? gmask_q : L'(1);
            end
          end
        end else begin
          // the first waiting lane's block, asked for unless on its way
          logic [SB-1:0] sl;
          sl = SB'({lbuf, lblk[DB-1:0]});
          if (!(btag_d[57*sl +: 57] == lblk && (bv_d[sl] || pend_d[sl]))) begin
            bv_d[sl] = 1'b0;
            pend_d[sl] = 1'b1;
            btag_d[57*sl +: 57] = lblk;
            far_d[sl] = 1'b1;
          end
          need_d = '0;
          need_d[sl] = 1'b1;
          st_d = SFill;
        end
      end

      SVal: begin
        for (int l = 0; l < L; l++) begin
          // the statistics' terms, or the value
          unique case (pass_q)
            PDmax: va_d[64*l +: 64] = abs64(sext(ev(ev_q, LX0, l)) - mu_q);
            PSs: va_d[64*l +: 64] = 64'($signed(norm_d[64*l +: 64]) * $signed(norm_d[64*l +: 64]));
            default: va_d[64*l +: 64] = func == 4'(SqVecNorm) ? sext(norm_y[32*l +: 32])
                                                              : sext(in_a[32*l +: 32]);
          endcase
          vb_d[32*l +: 32] = in_b[32*l +: 32];
          sx_d[32*l +: 32] = in_a[32*l +: 32];
          q_d[8*l +: 8] = func == 4'(SqVecCopy) ? ev_q[32*(L*LX0 + l) +: 8] :
                          rot ? rope_q[8*l +: 8] : sat8(rsr(sext(in_a[32*l +: 32]), p1[5:0]));
        end
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
      SSig0: begin
        for (int l = 0; l < L; l++) begin
          srem_d[17*l +: 17] = 17'd16384;
          sden_d[17*l +: 17] = sig_d[17*l +: 17];
          snum_d[16*l +: 16] = sig_d[17*l + 1 +: 16];
        end
        scnt_d = 4'd3;
        st_d = SSigW;
      end
      // four quotient bits a cycle
      SSigW: begin
        for (int l = 0; l < L; l++) begin
          for (int b = 0; b < 4; b++) begin
            logic [17:0] sh;
            sh = {srem_d[17*l +: 17], snum_d[16*l + 15]};
            if (sh >= {1'b0, sden_q[17*l +: 17]}) begin
              srem_d[17*l +: 17] = 17'(sh - {1'b0, sden_q[17*l +: 17]});
              squot_d[16*l +: 16] = {squot_d[16*l +: 15], 1'b1};
            end else begin
              srem_d[17*l +: 17] = sh[16:0];
              squot_d[16*l +: 16] = {squot_d[16*l +: 15], 1'b0};
            end
            snum_d[16*l +: 16] = {snum_d[16*l +: 15], 1'b0};
          end
        end
        scnt_d = scnt_q - 4'd1;
        if (scnt_q == 4'd0) begin
          st_d = SSig1;
        end
      end
      SSig1: begin
        // SWIGLU: h = s * b (rule 6); GELU: g as int32 (rule 7)
        for (int l = 0; l < L; l++) begin
          va_d[64*l +: 64] = swiglu ? 64'($signed(sig_prod[64*l +: 64]) * sext(vb_q[32*l +: 32]))
                                    : sext(sig_prod[64*l +: 32]);
        end
        st_d = SAct;
      end

      // the pass's use of the group: a statistic, or the writes it makes
      SAct: begin
        st_d = SNext;
        wpend_d = gmask_q;
        wword_d = 1'b0;
        wbase_d = out_sb_q + 64'(jj_q);
        wret_d = SNext;
        unique case (pass_q)
          PSum: sum_d = sum_q + red_sum;
          PDmax: dmax_d = red_dmax > dmax_q ? red_dmax : dmax_q;
          PSs: ss_d = ss_q + 64'(red_ss);
          PMax: z_d = red_z > z_q ? red_z : z_q;
          PArg: begin
            if (j_q == 32'd0 || red_top > top_q) begin
              top_d = red_top;
              best_d = j_q + red_best;
            end
          end
          PQ8: begin
            for (int l = 0; l < L; l++) begin
              wdat_d[32*l +: 32] = {24'd0, dq_apply($signed(va_q[64*l +: 64]), dqsh_q, dqr_q)};
            end
            st_d = SWr;
          end
          POut8: begin
            for (int l = 0; l < L; l++) begin
              wdat_d[32*l +: 32] = {24'd0, q_q[8*l +: 8]};
            end
            st_d = SWr;
          end
          POut32: begin
            for (int l = 0; l < L; l++) begin
              wdat_d[32*l +: 32] = sat32(func == 4'(SqVecAdd) ?
                                         $signed(va_q[64*l +: 64]) + sext(vb_q[32*l +: 32]) :
                                         $signed(va_q[64*l +: 64]));
            end
            wword_d = 1'b1;
            wbase_d = out_sb_q + (64'(jj_q) << 2);
            st_d = SWr;
          end
          PGather: begin
            for (int l = 0; l < L; l++) begin
              wdat_d[32*l +: 32] = live ? sat32(rsr(sext(32'($signed(ev_q[32*(L*LT + l) +: 8]))) *
                                                    sext(gm_q), gs_q[5:0]))
                                        : 32'd0;
            end
            wword_d = 1'b1;
            wbase_d = out_sb_q + (64'(jj_q) << 2);
            st_d = SWr;
          end
          default: ;
        endcase
      end

      // one block of writes into the write-combining block; another block
      // first sends the buffered one
      SWr: begin
        if (wv_q && wtag_q != wblk) begin
          fret_d = SWr;
          wbeat_d = 1'b0;
          st_d = SWrAw;
        end else begin
          wv_d = 1'b1;
          wtag_d = wblk;
          for (int b = 0; b < 128; b++) begin
            wline_d[8*b +: 8] = wmrot[b] ? wrot[8*b +: 8] : wline_q[8*b +: 8];
          end
          wstrb_d = wstrb_q | wmrot;
          wpend_d = wpend_q & ~wtake;
          if (wpend_d == '0) begin
            st_d = wret_q;
          end
        end
      end
      SWrAw: if (awready_i) st_d = SWrW;
      SWrW: begin
        if (wready_i) begin
          wbeat_d = 1'b1;
          if (wbeat_q) begin
            wv_d = 1'b0;
            wstrb_d = '0;
            st_d = fret_q;
          end
        end
      end

      SNext: begin
        j_d = j_q + g_q;
        jj_d = jj_q + g_q;
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
              wpend_d = L'(1);
              wword_d = 1'b1;
              wbase_d = out_row_q;
              wdat_d[31:0] = best_q;
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
        wpend_d = L'(3);
        wword_d = 1'b1;
        wbase_d = rout_q;
        if (z_q == 64'd0) begin
          dqsh_d = 8'sd0;
          dqr_d = 32'd0;
          wdat_d[63:0] = 64'd0;
        end else begin
          dqr_d = div_quot[31:0];
          {wdat_d[63:32], wdat_d[31:0]} = rec_norm(64'(zn_q) * 64'(SqVecInv127),
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
          wbeat_d = 1'b0;
          st_d = SWrAw;
        end else begin
          st_d = SDone;
        end
      end
      SDone: begin
        if (drained) begin
          cmd_done_o = 1'b1;
          st_d = SIdle;
        end
      end
      default: st_d = SIdle;
    endcase
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      st_q <= SIdle;
      bv_q <= '0;
      pend_q <= '0;
      far_q <= '0;
      rq_head_q <= '0;
      rq_cnt_q <= '0;
      rbeat_q <= 1'b0;
      wout_q <= '0;
      wv_q <= 1'b0;
      wstrb_q <= '0;
    end else begin
      st_q <= st_d;
      bv_q <= bv_d;
      pend_q <= pend_d;
      far_q <= far_d;
      rq_head_q <= rq_head_d;
      rq_cnt_q <= rq_cnt_d;
      rbeat_q <= rbeat_d;
      wout_q <= wout_d;
      wv_q <= wv_d;
      wstrb_q <= wstrb_d;
    end
  end

  // a read beat into the slot of the burst at the head, the blocks' only writes
  always_ff @(posedge clk_i) begin
    if (rq_cnt_q != '0 && rvalid_i) begin
      bblk_q[rq_i][512*rbeat_q +: 512] <= rdata_i;
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
    g_q <= g_d;
    gmask_q <= gmask_d;
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
    lpend_q <= lpend_d;
    ev_q <= ev_d;
    recm_q <= recm_d;
    recs_q <= recs_d;
    gid_q <= gid_d;
    gm_q <= gm_d;
    gs_q <= gs_d;
    btag_q <= btag_d;
    need_q <= need_d;
    rq_q <= rq_d;
    wtag_q <= wtag_d;
    wline_q <= wline_d;
    wbeat_q <= wbeat_d;
    wpend_q <= wpend_d;
    wword_q <= wword_d;
    wbase_q <= wbase_d;
    wdat_q <= wdat_d;
    wret_q <= wret_d;
    fret_q <= fret_d;
    va_q <= va_d;
    vb_q <= vb_d;
    sx_q <= sx_d;
    q_q <= q_d;
    srem_q <= srem_d;
    sden_q <= sden_d;
    snum_q <= snum_d;
    squot_q <= squot_d;
    scnt_q <= scnt_d;
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
