// Attention core: executes one patched SQ_OP_ATTN descriptor at a time on the
// core command interface of docs/accelerator.md (cmd_valid/cmd_ready/cmd, a
// cmd_done pulse once its last O row write has been acknowledged, idle,
// stall, mem_base), bit-exact with sq_attn_ref (include/sparq/attn.h). A
// descriptor of another opcode is finished without memory traffic. The
// standalone kernel sq_unit_top puts sq_ctrl and sq_fetch in front of it,
// sq_accel_top the command processor.
//
// Per query head h and query i (position p), as hls/sq_attn.c:
//   quant, Q row and bitmap row fetched once;
//   score:  for each key block, the candidate range (sq_attn_block_range);
//           an empty range costs 3 cycles and no memory traffic; the K rows
//           of a non-empty range are fetched as one burst (at most 32 rows,
//           4 KB), then each candidate's row is dotted with Q from the
//           buffer, 16 MACs a cycle, one candidate after the other; score
//           and key index are appended to the list RAMs;
//   top-k:  threshold by bitwise search over offsets from the smallest
//           score, one pass over the list per bit of the score span, then a
//           count and a selection pass;
//   expsum: one list entry per cycle, e = 2^(-u/256) by table and shift;
//   recip:  floor(2^46 / sum) in the sequential divider (sq_div);
//   pv:     for each entry with e != 0 (P = 0 adds nothing), acc += P * v,
//           16 lanes a cycle; a V row not in the buffer is fetched with the
//           rows after it up to the end of its key block (the list is in key
//           order, so the block's next entries find their rows there), or
//           alone after a top-k selection that dropped keys;
//   store:  sq_requant per element, the row written in one burst.
// Memory accesses are one burst at a time (no prefetch): the unit is simple
// and its cycles follow the work, which is what the sparsity has to show;
// the memory latency is paid once per key block, not once per row.
//
// Pipelining (docs/gemm_rtl.md, "Attention unit: critical path"): no cycle
// holds a multiply followed by an add. Products are registered where a
// DSP48E2 would hold them in its M register and added the cycle after:
//   Q.K:   operands, 16 products, a 3-level adder tree to two partial sums,
//          the running sum, the list write: the list entry of a key lands 4
//          cycles after its last chunk (its index travels with it, as the
//          next key's chunks follow in the next cycle), and the end of the
//          block loop waits for it (SBlock);
//   P.V:   operands, 16 products, accumulator read-add-write: the last add
//          lands 2 cycles after the last chunk, and SStore waits for it;
//   rescale (shared by the exponent pass and the store, never active
//          together): x, two 24 x 18 partial products, their sum with the
//          rounding constant, the shift; then for the exponent the table
//          and its rounding shift, then the write and the sum: an exponent
//          pass ends 5 cycles after its last read, a store 2 cycles after
//          its last element;
//   P:     e * R as two partial products in SPvWait, summed in SPvMac's
//          first cycle;
//   rows:  K/V/Q/O row offsets are kept by additions; a key block's first
//          row offset (j * head_dim) and its length are registered products
//          (SBlkMul), as are a V row's offset and its block's end (SPvWait).
module sq_attn_core (
  input  logic         clk_i,
  input  logic         rst_ni,
  // command interface
  input  logic          cmd_valid_i,
  output logic          cmd_ready_o,
  input  logic [1023:0] cmd_i,
  output logic          cmd_done_o,
  output logic          idle_o,
  output logic          stall_o,
  input  logic [63:0]   mem_base_i,
  // AXI4 master read
  output logic         arvalid_o,
  input  logic         arready_i,
  output logic [63:0]  araddr_o,
  output logic [7:0]   arlen_o,
  input  logic         rvalid_i,
  output logic         rready_o,
  input  logic [511:0] rdata_i,
  input  logic         rlast_i,
  // AXI4 master write
  output logic         awvalid_o,
  input  logic         awready_i,
  output logic [63:0]  awaddr_o,
  output logic [7:0]   awlen_o,
  output logic         wvalid_o,
  input  logic         wready_i,
  output logic [511:0] wdata_o,
  output logic [63:0]  wstrb_o,
  output logic         wlast_o,
  input  logic         bvalid_i,
  output logic         bready_o
);
  localparam int unsigned Lanes = 16;
  // short names for the generated constants used throughout
  localparam int unsigned CausalBit = sq_attn_pkg::SqAttnCausalBit;
  localparam int unsigned WindowBit = sq_attn_pkg::SqAttnWindowBit;
  localparam int unsigned GlobalBit = sq_attn_pkg::SqAttnGlobalBit;
  localparam int unsigned BlockBit = sq_attn_pkg::SqAttnBlockBit;
  localparam int unsigned TopkBit = sq_attn_pkg::SqAttnTopkBit;
  localparam int unsigned WFlags = sq_attn_pkg::SqAttnWFlags;
  localparam int unsigned WGlobal = sq_attn_pkg::SqAttnWGlobal;
  localparam int unsigned WHeadDim = sq_attn_pkg::SqAttnWHeadDim;
  localparam int unsigned WHeads = sq_attn_pkg::SqAttnWHeads;
  localparam int unsigned WKLo = sq_attn_pkg::SqAttnWKLo;
  localparam int unsigned WKvCap = sq_attn_pkg::SqAttnWKvCap;
  localparam int unsigned WKvHeads = sq_attn_pkg::SqAttnWKvHeads;
  localparam int unsigned WMaskLo = sq_attn_pkg::SqAttnWMaskLo;
  localparam int unsigned WOLo = sq_attn_pkg::SqAttnWOLo;
  localparam int unsigned WOpcode = sq_attn_pkg::SqAttnWOpcode;
  localparam int unsigned WQLo = sq_attn_pkg::SqAttnWQLo;
  localparam int unsigned WQuantLo = sq_attn_pkg::SqAttnWQuantLo;
  localparam int unsigned WQueries = sq_attn_pkg::SqAttnWQueries;
  localparam int unsigned WSeq = sq_attn_pkg::SqAttnWSeq;
  localparam int unsigned WTopk = sq_attn_pkg::SqAttnWTopk;
  localparam int unsigned WVLo = sq_attn_pkg::SqAttnWVLo;
  localparam int unsigned WWindow = sq_attn_pkg::SqAttnWWindow;

  typedef enum logic [4:0] {
    SIdle, SGroup, SHead, SQuant, SQuery, SQLoad, SMask, SBlock, SBlkMul, SKey,
    SKFetch, SDot, STopkCnt, STopkGt, SSelect, SExp, SDiv, SPvRead, SPvWait, SPvMac,
    SStore, SAddr, SData, SResp, SNext
  } state_e;

  // ---- rules of include/sparq/attn.h ---------------------------------------------
  function automatic logic cand(input logic [4:0] flags, input logic [31:0] window,
                                input logic [31:0] n_global, input logic [31:0] p,
                                input logic [31:0] j, input logic bbit);
    logic local_ok, glob;
    logic [31:0] gap;
    gap = (p > j) ? p - j : j - p;
    local_ok = 1'b1;
    if (flags[WindowBit] || flags[BlockBit]) begin
      local_ok = (flags[WindowBit] && gap < window) || (flags[BlockBit] && bbit);
    end
    glob = flags[GlobalBit] && (j < n_global || p < n_global);
    cand = !(flags[CausalBit] && j > p) && (local_ok || glob);
  endfunction

  // sq_attn_block_range: {lo, hi} (both <= 4096)
  function automatic logic [25:0] block_range(input logic [4:0] flags,
                                              input logic [31:0] window,
                                              input logic [31:0] n_global,
                                              input logic [31:0] seq, input logic [31:0] p,
                                              input logic [31:0] kb, input logic bbit);
    logic [31:0] b0, b1, l, h, wl, a, z;
    logic [32:0] wh;
    b0 = kb << sq_attn_pkg::SqAttnBlkLog2;
    b1 = (b0 + 32'd32 < seq) ? b0 + 32'd32 : seq;
    if (flags[CausalBit] && b1 > p + 32'd1) begin
      b1 = p + 32'd1;
    end
    block_range = {b0[12:0], b0[12:0]};
    if (b1 > b0) begin
      if (!(flags[WindowBit] || flags[BlockBit]) ||
          (flags[BlockBit] && bbit) || (flags[GlobalBit] && p < n_global)) begin
        block_range = {b0[12:0], b1[12:0]};
      end else begin
        l = b1;
        h = b0;
        if (flags[WindowBit]) begin
          wl = (p >= window) ? p - window + 32'd1 : 32'd0;
          wh = {1'b0, p} + {1'b0, window};
          a = (wl > b0) ? wl : b0;
          z = (wh < {1'b0, b1}) ? wh[31:0] : b1;
          if (a < z) begin
            l = a;
            h = z;
          end
        end
        if (flags[GlobalBit] && n_global > b0) begin
          z = (n_global < b1) ? n_global : b1;
          l = b0;
          if (z > h) begin
            h = z;
          end
        end
        if (l < h) begin
          block_range = {l[12:0], h[12:0]};
        end
      end
    end
  endfunction

  // ---- state -------------------------------------------------------------------
  state_e             st_q, st_d;
  // flat vectors rather than unpacked arrays: yosys 0.23 copies neither
  // unpacked arrays as a whole nor multi-dimensional packed ones
  logic [1023:0]      desc_q, desc_d;   // 32 descriptor words
  logic [8:0]         group_q, group_d, grp_acc_q, grp_acc_d;
  logic [8:0]         h_q, h_d, g_q, g_d, hg_q, hg_d;
  logic [12:0]        i_q, i_d;
  logic signed [31:0] smult_q, smult_d, omult_q, omult_d;
  logic [5:0]         sshift_q, sshift_d, oshift_q, oshift_d;
  logic [127:0]       mask_q, mask_d;
  logic [7:0]         kb_q, kb_d;
  logic [12:0]        j_q, j_d, hi_q, hi_d;
  logic [12:0]        n_q, n_d;
  logic signed [31:0] max_q, max_d;
  logic [31:0]        kmin_q, kmin_d, kmax_q, kmax_d;
  logic [3:0]         c_q, c_d;
  logic [31:0]        dot_q, dot_d;
  logic [31:0]        thr_q, thr_d, cnt_q, cnt_d, ties_q, ties_d;
  logic [4:0]         bit_q, bit_d;
  logic               sel_all_q, sel_all_d;
  logic [12:0]        pi_q, pi_d, pidx_q, pidx_d;
  logic               pv_q, pv_d;
  logic [31:0]        sum_q, sum_d, recip_q, recip_d;
  logic [15:0]        prob_q, prob_d;
  logic [32:0]        pe_lo_q, pe_lo_d;  // e * R[16:0] (P = (e * R + 2^30) >> 31)
  logic [30:0]        pe_hi_q, pe_hi_d;  // e * R[31:17]
  // row offsets in bytes (rows are at most 128 bytes, offsets below 2^32)
  logic [31:0]        qoff_q, qoff_d;    // Q/O row (h * queries + i): rows run in order
  logic [31:0]        kvoff_q, kvoff_d;  // row 0 of KV head g: g * kv_cap * head_dim
  logic [31:0]        capd_q, capd_d;    // kv_cap * head_dim
  logic [31:0]        jd_q, jd_d;        // K row j: j * head_dim
  logic [12:0]        blen_q, blen_d;    // bytes of the block's K rows lo .. hi - 1
  logic               kin_q, kin_d;      // the block's K rows are in the buffer
  logic [12:0]        boff_q, boff_d;    // K row j in the buffer: (j - lo) * head_dim
  logic [31:0]        vjd_q, vjd_d;      // V row of the list entry in SPvMac
  logic [31:0]        vendd_q, vendd_d;  // end of its block's rows * head_dim
  logic [12:0]        vrow_q, vrow_d, vend_q, vend_d; // the entry's row, its block's end
  logic               vhit_q, vhit_d;    // its row is in the buffer
  logic               vwait_q, vwait_d;  // SPvMac waits for the V fetch
  logic               pvfirst_q, pvfirst_d; // SPvMac's first cycle of an entry
  logic [12:0]        vlo_q, vlo_d, vhi_q, vhi_d; // V rows in the buffer
  logic [12:0]        voff_q, voff_d;    // the entry's row in the buffer
  logic [11:0]        key_j_q;           // the key in the Q.K pipeline's list write
  logic [7:0]         acc_ok_q, acc_ok_d; // per accumulator word: written for this query
  logic [1535:0]      obuf_q, obuf_d;   // O row at its beat offset, 192 bytes
  logic [7:0]         d_q, d_d;
  logic [1:0]         wbeat_q, wbeat_d;

  // descriptor fields
  logic [4:0]  flags;
  logic [31:0] seq, queries, heads, head_dim, window, n_global, topk;
  logic [12:0] kv_cap; // <= 4096
  logic [63:0] q_base, k_base, v_base, mask_base, quant_base, o_base;
  assign flags = desc_q[32*(WFlags) +: 5];
  assign seq = desc_q[32*(WSeq) +: 32];
  assign queries = desc_q[32*(WQueries) +: 32];
  assign heads = desc_q[32*(WHeads) +: 32];
  assign head_dim = desc_q[32*(WHeadDim) +: 32];
  assign kv_cap = desc_q[32*(WKvCap) +: 13];
  assign window = desc_q[32*(WWindow) +: 32];
  assign n_global = desc_q[32*(WGlobal) +: 32];
  assign topk = desc_q[32*(WTopk) +: 32];
  assign q_base = {desc_q[32*(WQLo + 1) +: 32], desc_q[32*(WQLo) +: 32]};
  assign k_base = {desc_q[32*(WKLo + 1) +: 32], desc_q[32*(WKLo) +: 32]};
  assign v_base = {desc_q[32*(WVLo + 1) +: 32], desc_q[32*(WVLo) +: 32]};
  assign mask_base = {desc_q[32*(WMaskLo + 1) +: 32], desc_q[32*(WMaskLo) +: 32]};
  assign quant_base = {desc_q[32*(WQuantLo + 1) +: 32], desc_q[32*(WQuantLo) +: 32]};
  assign o_base = {desc_q[32*(WOLo + 1) +: 32], desc_q[32*(WOLo) +: 32]};

  // positions and row addresses
  logic [31:0] pos;
  logic [63:0] o_addr;
  logic [7:0]  chunks; // head_dim / 16, rounded up
  assign pos = seq - queries + {19'd0, i_q};
  assign o_addr = o_base + {32'd0, qoff_q};
  assign chunks = 8'((head_dim + 32'd15) >> 4);
  // a registered product of two descriptor fields, settled one cycle after
  // the descriptor (SGroup takes at least two), long before its first use
  assign capd_d = 32'(kv_cap * head_dim[7:0]);

  // ---- submodules ----------------------------------------------------------------
  logic         f_start, f_done, f_stall;
  logic [63:0]  f_addr, f_araddr;
  logic [12:0]  f_len, f_pos;
  logic [127:0] chunk;
  sq_attn_fetch u_fetch (
    .clk_i, .rst_ni,
    .start_i(f_start), .addr_i(f_addr), .len_i(f_len), .done_o(f_done), .stall_o(f_stall),
    .pos_i(f_pos), .chunk_o(chunk),
    .arvalid_o, .arready_i, .araddr_o(f_araddr), .arlen_o, .rvalid_i, .rready_o, .rdata_i,
    .rlast_i
  );
  // device addresses are offsets from SQ_REG_MEM
  assign araddr_o = mem_base_i + f_araddr;

  // recip = floor(2^46 / sum): 47 quotient bits, of which 32 are kept (the
  // sum is at least 2^15, sq_attn_recip in include/sparq/attn.h); the
  // dividend's only set bit enters the remainder at bit 46
  logic        div_start, div_done;
  logic [5:0]  div_bit;
  logic [31:0] div_quot;
  sq_div #(.MaxBits(47), .QuotW(32)) u_div (
    .clk_i, .rst_ni, .start_i(div_start), .top_i(6'd46), .divisor_i(sum_q), .bit_o(div_bit),
    .num_bit_i(div_bit == 6'd46), .done_o(div_done), .quot_o(div_quot), .rem_o()
  );

  logic        s_we, j_we, e_we, sel_we;
  logic [11:0] waddr, raddr;
  logic [31:0] s_wdata, s_rdata;
  logic [11:0] j_wdata, j_rdata;
  logic [15:0] e_wdata, e_rdata;
  logic        sel_wdata, sel_rdata;
  sq_attn_ram #(.Depth(4096), .Width(32)) u_sram (
    .clk_i, .we_i(s_we), .waddr_i(waddr), .wdata_i(s_wdata), .raddr_i(raddr), .rdata_o(s_rdata)
  );
  sq_attn_ram #(.Depth(4096), .Width(12)) u_jram (
    .clk_i, .we_i(j_we), .waddr_i(waddr), .wdata_i(j_wdata), .raddr_i(raddr), .rdata_o(j_rdata)
  );
  sq_attn_ram #(.Depth(4096), .Width(16)) u_eram (
    .clk_i, .we_i(e_we), .waddr_i(waddr), .wdata_i(e_wdata), .raddr_i(raddr), .rdata_o(e_rdata)
  );
  sq_attn_ram #(.Depth(4096), .Width(1)) u_selram (
    .clk_i, .we_i(sel_we), .waddr_i(waddr), .wdata_i(sel_wdata), .raddr_i(raddr),
    .rdata_o(sel_rdata)
  );

  // Q row and P.V accumulators (sq_attn_pkg::SqAttnMaxDim int8 / int32), one
  // 16-lane word per chunk, in LUT RAM: each cycle reads and writes one word.
  logic         q_we;
  logic [127:0] q_rdata;
  sq_attn_lutram #(.Depth(8), .Width(128)) u_qram (
    .clk_i, .we_i(q_we), .waddr_i(c_q[2:0]), .wdata_i(chunk), .raddr_i(c_q[2:0]),
    .rdata_o(q_rdata)
  );

  logic         acc_we;
  logic [2:0]   acc_raddr, pv_mc_q;
  logic [511:0] acc_rdata, acc_word, acc_wdata;
  sq_attn_lutram #(.Depth(8), .Width(512)) u_accram (
    .clk_i, .we_i(acc_we), .waddr_i(pv_mc_q), .wdata_i(acc_wdata), .raddr_i(acc_raddr),
    .rdata_o(acc_rdata)
  );

  assign cmd_ready_o = st_q == SIdle;
  assign idle_o = st_q == SIdle;
  assign cmd_done_o = st_q == SNext;
  assign stall_o = f_stall || (st_q == SAddr && !awready_i) || (st_q == SData && !wready_i) ||
                   (st_q == SResp && !bvalid_i);

  // ---- write channel ---------------------------------------------------------------
  logic [8:0] o_last;
  assign o_last = {3'd0, o_addr[5:0]} + {1'b0, head_dim[7:0]} - 9'd1;
  assign awvalid_o = (st_q == SAddr);
  assign awaddr_o = mem_base_i + {o_addr[63:6], 6'd0};
  assign awlen_o = {6'd0, o_last[7:6]};
  assign wvalid_o = (st_q == SData);
  assign wlast_o = (wbeat_q == o_last[7:6]);
  assign bready_o = (st_q == SResp);
  always_comb begin
    unique case (wbeat_q)
      2'd0: wdata_o = obuf_q[511:0];
      2'd1: wdata_o = obuf_q[1023:512];
      default: wdata_o = obuf_q[1535:1024];
    endcase
    for (int unsigned x = 0; x < 64; x++) begin
      wstrb_o[x] = ({1'b0, wbeat_q, 6'(x)} >= {3'd0, o_addr[5:0]}) &&
                   ({1'b0, wbeat_q, 6'(x)} <= o_last);
    end
  end

  // ---- list pass helpers -----------------------------------------------------------
  logic        pass_end;
  logic [31:0] off_rd;
  assign pass_end = (pi_q == n_q) && !pv_q;
  // top-k works on offsets from the smallest candidate score, so the search
  // covers only the bits of the score span (about 17 for int8 data at D=64)
  assign off_rd = (s_rdata ^ 32'h8000_0000) - kmin_q;

  // the V rows fetched for the entry read in SPvWait: up to the end of its
  // key block (at most seq), where the next entries' rows are; after a top-k
  // selection that dropped keys, its row alone (the selected keys are few
  // and scattered)
  logic [12:0] jend, vend_blk;
  assign jend = ({1'b0, j_rdata} | 13'h1f) + 13'd1;
  assign vend_blk = !sel_all_q ? {1'b0, j_rdata} + 13'd1 :
                    ({19'd0, jend} < seq) ? jend : seq[12:0];

  logic [25:0] range;
  logic        bbit;
  assign bbit = flags[BlockBit] && mask_q[kb_q[6:0]];
  assign range = block_range(flags, window, n_global, seq, pos, {24'd0, kb_q}, bbit);

  // highest set bit of the score span kmax - kmin
  logic [4:0]  top_bit;
  always_comb begin
    top_bit = 5'd0;
    for (int unsigned b = 0; b < 32; b++) begin
      if ((kmax_q - kmin_q) >> b != 32'd0) begin
        top_bit = 5'(b);
      end
    end
  end

  // lanes of chunk c_q inside head_dim: the lanes past it are zeroed at the
  // operand registers, so their products are 0
  logic [15:0] lane_ok;
  always_comb begin
    for (int unsigned l = 0; l < Lanes; l++) begin
      lane_ok[l] = {24'd0, c_q, 4'(l)} < head_dim;
    end
  end

  // ---- Q.K pipeline: one 16-lane chunk a cycle -----------------------------------
  // stage a: operands (the DSP48E2's A/B registers); m: 16 int8 products (its M
  // register); t: a 3-level adder tree to two sums of 8; dot_q: the running
  // sum; w: the list write of a key's score. Flags per stage: valid, the
  // key's first chunk (restarts the sum), its last (the sum is the score).
  logic         qk_av_q, qk_av_d, qk_mv_q, qk_tv_q, qk_wv_q, qk_wv_d;
  logic [11:0]  qk_aj_q, qk_mj_q, qk_tj_q;          // the key of each stage
  logic [1:0]   qk_af_q, qk_af_d, qk_mf_q, qk_tf_q; // {first, last}
  logic [127:0] qk_qa_q, qk_qa_d, qk_ka_q, qk_ka_d;
  logic [255:0] qk_prod_q, qk_prod_d;               // 16 x int16
  logic [37:0]  qk_t_q, qk_t_d;                     // 2 x int19
  logic         qk_busy;
  assign qk_busy = qk_av_q || qk_mv_q || qk_tv_q || qk_wv_q;
  assign qk_av_d = st_q == SDot;
  assign qk_af_d = {c_q == 4'd0, {4'd0, c_q} + 8'd1 == chunks};
  assign qk_wv_d = qk_tv_q && qk_tf_q[0];
  always_comb begin
    for (int unsigned l = 0; l < Lanes; l++) begin
      qk_qa_d[8*l +: 8] = lane_ok[l] ? q_rdata[8*l +: 8] : 8'd0;
      qk_ka_d[8*l +: 8] = chunk[8*l +: 8];
      qk_prod_d[16*l +: 16] = 16'($signed({{8{qk_qa_q[8*l+7]}}, qk_qa_q[8*l +: 8]}) *
                                  $signed({{8{qk_ka_q[8*l+7]}}, qk_ka_q[8*l +: 8]}));
    end
  end
  // balanced tree (16 -> 8 -> 4 -> 2), not a chain of 8 adds per sum
  logic [135:0] qk_l1; // 8 x int17
  logic [71:0]  qk_l2; // 4 x int18
  always_comb begin
    for (int unsigned k = 0; k < 8; k++) begin
      qk_l1[17*k +: 17] = {qk_prod_q[32*k+15], qk_prod_q[32*k +: 16]} +
                          {qk_prod_q[32*k+31], qk_prod_q[32*k+16 +: 16]};
    end
    for (int unsigned k = 0; k < 4; k++) begin
      qk_l2[18*k +: 18] = {qk_l1[34*k+16], qk_l1[34*k +: 17]} +
                          {qk_l1[34*k+33], qk_l1[34*k+17 +: 17]};
    end
    for (int unsigned k = 0; k < 2; k++) begin
      qk_t_d[19*k +: 19] = {qk_l2[36*k+17], qk_l2[36*k +: 18]} +
                           {qk_l2[36*k+35], qk_l2[36*k+18 +: 18]};
    end
  end

  // ---- P x V pipeline: one chunk a cycle into one accumulator word ----------------
  // stage a: V operands and the word; m: 16 products P * v (int25); then the
  // accumulator word is read, added to and written (acc_we).
  logic         pv_av_q, pv_av_d, pv_mv_q;
  logic [2:0]   pv_ac_q;
  logic [127:0] pv_va_q, pv_va_d;
  logic [399:0] pv_prod_q, pv_prod_d;
  logic pv_go;
  assign pv_go = pvfirst_q ? vhit_q : (!vwait_q || f_done);
  assign pv_av_d = st_q == SPvMac && pv_go;
  always_comb begin
    for (int unsigned l = 0; l < Lanes; l++) begin
      pv_va_d[8*l +: 8] = lane_ok[l] ? chunk[8*l +: 8] : 8'd0;
      // prob_q is the entry's until SPvMac of the next one (2 cycles after
      // its last chunk at the earliest), after this stage
      pv_prod_d[25*l +: 25] = 25'($signed({9'd0, prob_q}) *
                                  $signed({{17{pv_va_q[8*l+7]}}, pv_va_q[8*l +: 8]}));
    end
  end

  // The accumulators are cleared per query by their word flags (a RAM
  // cannot be cleared in one cycle): a word not written since reads 0. The
  // MAC's last stage adds to word pv_mc_q, the store reads word d_q / 16.
  assign acc_we = pv_mv_q;
  assign acc_raddr = (st_q == SStore) ? d_q[6:4] : pv_mc_q;
  assign acc_word = acc_ok_q[acc_raddr] ? acc_rdata : 512'd0;
  always_comb begin
    for (int unsigned l = 0; l < Lanes; l++) begin
      acc_wdata[32*l +: 32] = acc_word[32*l +: 32] +
                              {{7{pv_prod_q[25*l+24]}}, pv_prod_q[25*l +: 25]};
    end
  end

  // ---- rescale pipeline: rshift_round(x * mult, shift) -----------------------------
  // Shared by the exponent pass (x = S - M, s_mult) and the store (x = acc,
  // o_mult), which never overlap. x fits 24 bits (|S - M| < 2^22 and |acc| <
  // 2^23 for int8 data, head_dim <= 128: include/sparq/attn.h), so x * mult is
  // two 24 x 18 products, one DSP48E2 each: x * mult[16:0] and x * mult[31:17].
  // Stage 1: x; 2: the partial products; 3: their sum with the rounding
  // constant; 4: the shift, then the store's saturation and byte write or the
  // exponent's u; 5: the exponent table and its rounding shift; 6: the
  // exponent's list write and the row sum.
  logic               rs1_v_q, rs1_v_d, rs2_v_q, rs3_v_q;
  logic               rs1_st_q, rs1_st_d, rs2_st_q, rs3_st_q;  // store (else exponent)
  logic               rs1_sel_q, rs1_sel_d, rs2_sel_q, rs3_sel_q; // exponent: key selected
  logic [11:0]        rs1_tag_q, rs1_tag_d, rs2_tag_q, rs3_tag_q; // list index / element
  logic signed [23:0] rs1_x_q, rs1_x_d;
  logic signed [41:0] rs2_lo_q, rs2_lo_d;
  logic signed [38:0] rs2_hi_q, rs2_hi_d;
  logic signed [63:0] rs3_r_q, rs3_r_d, rs_t;
  logic [31:0]        rs_mult;
  logic [5:0]         rs_shift2, rs_shift3;
  logic [7:0]         out_val;
  logic               ex4_v_q, ex4_v_d, ex4_zero_q, ex4_zero_d, ex5_v_q;
  logic [11:0]        ex4_u_q, ex4_u_d, ex4_idx_q, ex5_idx_q;
  logic [15:0]        ex_tab, ex5_e_q, ex5_e_d;
  logic               ex_busy;
  assign ex_busy = rs1_v_q || rs2_v_q || rs3_v_q || ex4_v_q || ex5_v_q;

  // the accumulator the store step requantizes (its low 24 bits: all of it)
  logic [23:0] acc_sel;
  assign acc_sel = acc_word[32*d_q[3:0] +: 24];
  always_comb begin
    rs1_st_d = st_q == SStore;
    rs1_v_d = (st_q == SExp && pv_q) || (st_q == SStore && {24'd0, d_q} < head_dim);
    rs1_sel_d = sel_all_q || sel_rdata;
    rs1_tag_d = (st_q == SStore) ? {4'd0, d_q} : pidx_q[11:0];
    rs1_x_d = (st_q == SStore) ? acc_sel : 24'(s_rdata - max_q);
  end
  assign rs_mult = rs1_st_q ? omult_q : smult_q;
  assign rs2_lo_d = $signed({{18{rs1_x_q[23]}}, rs1_x_q}) * $signed({25'd0, rs_mult[16:0]});
  assign rs2_hi_d = $signed({{15{rs1_x_q[23]}}, rs1_x_q}) *
                    $signed({{24{rs_mult[31]}}, rs_mult[31:17]});
  assign rs_shift2 = rs2_st_q ? oshift_q : sshift_q;
  assign rs3_r_d = $signed({{8{rs2_hi_q[38]}}, rs2_hi_q, 17'd0}) +
                   $signed({{22{rs2_lo_q[41]}}, rs2_lo_q}) +
                   ((rs_shift2 == 6'd0) ? 64'sd0 : 64'sd1 <<< (rs_shift2 - 6'd1));
  assign rs_shift3 = rs3_st_q ? oshift_q : sshift_q;
  assign rs_t = rs3_r_q >>> rs_shift3;
  assign out_val = (rs_t > 64'sd127) ? 8'd127 : (rs_t < -64'sd128) ? 8'h80 : rs_t[7:0];
  // exponent: u = -t (>= 0), e = 0 from u >= 16 * 256 and for keys not selected
  assign ex4_v_d = rs3_v_q && !rs3_st_q;
  assign ex4_zero_d = !rs3_sel_q || rs_t <= -64'sd4096;
  assign ex4_u_d = 12'(-rs_t);
  assign ex_tab = sq_attn_pkg::sq_attn_exp2(ex4_u_q[7:0]);
  always_comb begin
    if (ex4_zero_q) begin
      ex5_e_d = 16'd0;
    end else if (ex4_u_q[11:8] == 4'd0) begin
      ex5_e_d = ex_tab;
    end else begin
      ex5_e_d = 16'(({1'b0, ex_tab} + (17'd1 << (ex4_u_q[11:8] - 4'd1))) >> ex4_u_q[11:8]);
    end
  end

  // ---- main sequencer --------------------------------------------------------------
  always_comb begin
    st_d = st_q;
    desc_d = desc_q;
    group_d = group_q;
    grp_acc_d = grp_acc_q;
    h_d = h_q;
    g_d = g_q;
    hg_d = hg_q;
    i_d = i_q;
    smult_d = smult_q;
    sshift_d = sshift_q;
    omult_d = omult_q;
    oshift_d = oshift_q;
    q_we = 1'b0;
    mask_d = mask_q;
    kb_d = kb_q;
    j_d = j_q;
    hi_d = hi_q;
    n_d = n_q;
    max_d = max_q;
    kmin_d = kmin_q;
    kmax_d = kmax_q;
    c_d = c_q;
    dot_d = dot_q;
    thr_d = thr_q;
    cnt_d = cnt_q;
    ties_d = ties_q;
    bit_d = bit_q;
    sel_all_d = sel_all_q;
    pi_d = pi_q;
    pidx_d = pidx_q;
    pv_d = 1'b0;
    sum_d = sum_q;
    recip_d = recip_q;
    prob_d = prob_q;
    pe_lo_d = pe_lo_q;
    pe_hi_d = pe_hi_q;
    qoff_d = qoff_q;
    kvoff_d = kvoff_q;
    jd_d = jd_q;
    blen_d = blen_q;
    kin_d = kin_q;
    boff_d = boff_q;
    vjd_d = vjd_q;
    vendd_d = vendd_q;
    vrow_d = vrow_q;
    vend_d = vend_q;
    vhit_d = vhit_q;
    vwait_d = vwait_q;
    vlo_d = vlo_q;
    vhi_d = vhi_q;
    pvfirst_d = pvfirst_q;
    voff_d = voff_q;
    acc_ok_d = acc_ok_q;
    obuf_d = obuf_q;
    d_d = d_q;
    wbeat_d = wbeat_q;
    f_start = 1'b0;
    f_addr = 64'd0;
    f_len = 13'd0;
    f_pos = {5'd0, c_q, 4'd0};
    div_start = 1'b0;
    s_we = 1'b0;
    j_we = 1'b0;
    e_we = 1'b0;
    sel_we = 1'b0;
    waddr = pidx_q[11:0];
    raddr = pi_q[11:0];
    s_wdata = dot_q;
    j_wdata = j_q[11:0];
    e_wdata = 16'd0;
    sel_wdata = 1'b0;

    // list passes issue one read a cycle and consume it the next
    if (st_q == STopkCnt || st_q == STopkGt || st_q == SSelect || st_q == SExp) begin
      if (pi_q < n_q) begin
        pv_d = 1'b1;
        pidx_d = pi_q;
        pi_d = pi_q + 13'd1;
      end
    end

    unique case (st_q)
      SIdle: begin
        if (cmd_valid_i) begin
          desc_d = cmd_i;
          grp_acc_d = 9'd0;
          group_d = 9'd0;
          st_d = SGroup;
        end
      end
      SGroup: begin
        // the opcode byte of the stream header (spec.h)
        if (desc_q[32*(WOpcode) +: 8] != 8'(sq_attn_pkg::SqOpAttnCode)) begin
          st_d = SNext;
        end else if ({23'd0, grp_acc_q} == heads) begin
          h_d = 9'd0;
          g_d = 9'd0;
          hg_d = 9'd0;
          qoff_d = 32'd0;
          kvoff_d = 32'd0;
          st_d = SHead;
        end else begin
          // heads / kv_heads by repeated addition (heads <= 256)
          grp_acc_d = grp_acc_q + desc_q[32*(WKvHeads) +: 9];
          group_d = group_q + 9'd1;
        end
      end
      SHead: begin
        f_start = 1'b1;
        f_addr = quant_base + {51'd0, h_q, 4'd0};
        f_len = 13'(sq_attn_pkg::SqAttnQuantBytes);
        c_d = 4'd0;
        i_d = 13'd0;
        st_d = SQuant;
      end
      SQuant: begin
        if (f_done) begin
          smult_d = chunk[31:0];
          sshift_d = chunk[37:32];
          omult_d = chunk[95:64];
          oshift_d = chunk[101:96];
          st_d = SQuery;
        end
      end
      SQuery: begin
        f_start = 1'b1;
        f_addr = q_base + {32'd0, qoff_q};
        f_len = {5'd0, head_dim[7:0]};
        c_d = 4'd0;
        acc_ok_d = 8'd0;
        st_d = SQLoad;
      end
      SQLoad: begin
        if (f_done || c_q != 4'd0) begin
          q_we = 1'b1;
          c_d = c_q + 4'd1;
          if ({4'd0, c_q} + 8'd1 == chunks) begin
            c_d = 4'd0;
            st_d = SMask;
            if (flags[BlockBit]) begin
              f_start = 1'b1;
              // row pos / 32 of SqAttnMaskRowBytes = 16 bytes: a shift
              f_addr = mask_base + {33'd0, pos[31:sq_attn_pkg::SqAttnBlkLog2], 4'd0};
              f_len = 13'(sq_attn_pkg::SqAttnMaskRowBytes);
            end
          end
        end
      end
      SMask: begin
        if (!flags[BlockBit] || f_done) begin
          mask_d = flags[BlockBit] ? chunk : 128'd0;
          kb_d = 8'd0;
          n_d = 13'd0;
          max_d = 32'sh8000_0000;
          kmin_d = 32'hFFFF_FFFF;
          kmax_d = 32'd0;
          st_d = SBlock;
        end
      end
      SBlock: begin
        if (({24'd0, kb_q} << sq_attn_pkg::SqAttnBlkLog2) >= seq) begin
          // wait until the last key's score is in the list (Q.K pipeline empty)
          if (!qk_busy) begin
            st_d = (n_q == 13'd0) ? SStore : STopkCnt;
            d_d = 8'd0;
            pi_d = 13'd0;
            sel_all_d = !(flags[TopkBit] && topk < {19'd0, n_q});
            thr_d = 32'd0;
            bit_d = top_bit;
            cnt_d = 32'd0;
            if (!(flags[TopkBit] && topk < {19'd0, n_q})) begin
              st_d = (n_q == 13'd0) ? SStore : SExp;
              sum_d = 32'd0;
            end else if (kmin_q == kmax_q) begin
              st_d = STopkGt;
            end
          end
        end else begin
          j_d = range[25:13];
          hi_d = range[12:0];
          st_d = SBlkMul;
        end
      end
      SBlkMul: begin
        // the block's first K row offset and the bytes of its rows, products
        // on their own in a cycle; the next rows add head_dim
        jd_d = 32'(j_q * head_dim[7:0]);
        blen_d = 13'((hi_q - j_q) * head_dim[7:0]);
        kin_d = 1'b0;
        boff_d = 13'd0;
        st_d = SKey;
      end
      SKey: begin
        if (j_q >= hi_q) begin
          kb_d = kb_q + 8'd1;
          st_d = SBlock;
        end else if (!kin_q) begin
          // the range's K rows in one burst (at most 32 rows of 128 bytes)
          f_start = 1'b1;
          f_addr = k_base + {32'd0, kvoff_q + jd_q};
          f_len = blen_q;
          st_d = SKFetch;
        end else if (cand(flags, window, n_global, pos, {19'd0, j_q}, bbit)) begin
          c_d = 4'd0;
          st_d = SDot;
        end else begin
          j_d = j_q + 13'd1;
          jd_d = jd_q + {24'd0, head_dim[7:0]};
          boff_d = boff_q + {5'd0, head_dim[7:0]};
        end
      end
      SKFetch: begin
        if (f_done) begin
          kin_d = 1'b1;
          st_d = SKey;
        end
      end
      SDot: begin
        // chunk c_q of row j (from the buffer) enters the Q.K pipeline
        // (qk_av_d); after the last, the next key's first if it is a
        // candidate in the range, else SKey
        f_pos = boff_q + {5'd0, c_q, 4'd0};
        c_d = c_q + 4'd1;
        if ({4'd0, c_q} + 8'd1 == chunks) begin
          c_d = 4'd0;
          j_d = j_q + 13'd1;
          jd_d = jd_q + {24'd0, head_dim[7:0]};
          boff_d = boff_q + {5'd0, head_dim[7:0]};
          if (!(j_q + 13'd1 < hi_q && cand(flags, window, n_global, pos, {19'd0, j_q} + 32'd1,
                                            bbit))) begin
            st_d = SKey;
          end
        end
      end
      STopkCnt: begin
        if (pv_q && off_rd >= (thr_q | (32'd1 << bit_q))) begin
          cnt_d = cnt_q + 32'd1;
        end
        if (pass_end) begin
          if (cnt_q >= topk) begin
            thr_d = thr_q | (32'd1 << bit_q);
          end
          cnt_d = 32'd0;
          pi_d = 13'd0;
          if (bit_q == 5'd0) begin
            st_d = STopkGt;
          end else begin
            bit_d = bit_q - 5'd1;
          end
        end
      end
      STopkGt: begin
        if (pv_q && off_rd > thr_q) begin
          cnt_d = cnt_q + 32'd1;
        end
        if (pass_end) begin
          ties_d = topk - cnt_q;
          pi_d = 13'd0;
          st_d = SSelect;
        end
      end
      SSelect: begin
        if (pv_q) begin
          sel_we = 1'b1;
          sel_wdata = off_rd > thr_q || (off_rd == thr_q && ties_q != 32'd0);
          if (off_rd == thr_q && ties_q != 32'd0) begin
            ties_d = ties_q - 32'd1;
          end
        end
        if (pass_end) begin
          pi_d = 13'd0;
          sum_d = 32'd0;
          st_d = SExp;
        end
      end
      SExp: begin
        // each read enters the rescale pipeline (rs1_v_d); the pass ends once
        // the last exponent is written and summed
        if (pass_end && !ex_busy) begin
          div_start = 1'b1;
          st_d = SDiv;
        end
      end
      SDiv: begin
        if (div_done) begin
          recip_d = div_quot;
          pi_d = 13'd0;
          // the buffer holds no V rows yet
          vlo_d = 13'd0;
          vhi_d = 13'd0;
          st_d = SPvRead;
        end
      end
      SPvRead: begin
        // the first entry, or past the last
        if (pi_q == n_q) begin
          // the store reads the accumulators from its first cycle: the last
          // chunk's add must be in (its last stage is this cycle at the latest)
          if (!pv_av_q) begin
            d_d = 8'd0;
            st_d = SStore;
          end
        end else begin
          st_d = SPvWait;
        end
      end
      SPvWait: begin
        // entry pi_q's e and j (read the cycle before): products here, their
        // sum in SPvMac's first cycle; the row's offset in the buffer if it
        // is there ((j - vlo) * head_dim: the DSP48E2's pre-adder), else its
        // offset and its block's end for the fetch
        pe_lo_d = {17'd0, e_rdata} * {16'd0, recip_q[16:0]};
        pe_hi_d = {15'd0, e_rdata} * {16'd0, recip_q[31:17]};
        vjd_d = {20'd0, j_rdata} * {24'd0, head_dim[7:0]};
        vendd_d = {19'd0, vend_blk} * {24'd0, head_dim[7:0]};
        voff_d = 13'(({1'b0, j_rdata} - vlo_q) * head_dim[7:0]);
        vrow_d = {1'b0, j_rdata};
        vend_d = vend_blk;
        vhit_d = {1'b0, j_rdata} >= vlo_q && {1'b0, j_rdata} < vhi_q;
        pi_d = pi_q + 13'd1;
        c_d = 4'd0;
        pvfirst_d = 1'b1;
        if (e_rdata != 16'd0) begin
          st_d = SPvMac;
        end else if (pi_q + 13'd1 == n_q) begin
          st_d = SPvRead;
        end else begin
          // P = 0 adds nothing: straight on to the next entry
          raddr = 12'(pi_q + 13'd1);
        end
      end
      SPvMac: begin
        // chunk c_q of the row (from the buffer) enters the P.V pipeline
        // (pv_av_d): from the first cycle when the row is in the buffer,
        // else once the fetch this cycle starts is done. The list read of the
        // next entry (raddr = pi_q) is out in the last cycle.
        f_pos = voff_q + {5'd0, c_q, 4'd0};
        pvfirst_d = 1'b0;
        if (pvfirst_q) begin
          prob_d = 16'(({pe_hi_q, 17'd0} + {15'd0, pe_lo_q} + 48'h4000_0000) >>
                       sq_attn_pkg::SqAttnProbShift);
          if (!vhit_q) begin
            // rows j .. the end of j's key block (at most 32 rows of 128 bytes)
            f_start = 1'b1;
            f_addr = v_base + {32'd0, kvoff_q + vjd_q};
            f_len = 13'(vendd_q - vjd_q);
            vlo_d = vrow_q;
            vhi_d = vend_q;
            voff_d = 13'd0;
            vwait_d = 1'b1;
          end
        end
        if (pv_go) begin
          vwait_d = 1'b0;
          c_d = c_q + 4'd1;
          if ({4'd0, c_q} + 8'd1 == chunks) begin
            c_d = 4'd0;
            st_d = (pi_q == n_q) ? SPvRead : SPvWait;
          end
        end
      end
      SStore: begin
        // element d_q < head_dim enters the rescale pipeline (rs1_v_d); its
        // byte is in obuf 3 cycles later, so the row's last one is in before
        // SData (2 cycles after the last element, plus SAddr)
        d_d = d_q + 8'd1;
        if ({24'd0, d_q} == head_dim + 32'd1) begin
          wbeat_d = 2'd0;
          st_d = SAddr;
        end
      end
      SAddr: begin
        if (awready_i) begin
          st_d = SData;
        end
      end
      SData: begin
        if (wready_i) begin
          wbeat_d = wbeat_q + 2'd1;
          if (wlast_o) begin
            st_d = SResp;
          end
        end
      end
      SResp: begin
        if (bvalid_i) begin
          st_d = SNext;
          // the next row of Q and O; the next KV head's rows are kv_cap on
          qoff_d = qoff_q + {24'd0, head_dim[7:0]};
          if ({19'd0, i_q} + 32'd1 < queries) begin
            i_d = i_q + 13'd1;
            st_d = SQuery;
          end else if ({23'd0, h_q} + 32'd1 < heads) begin
            h_d = h_q + 9'd1;
            hg_d = hg_q + 9'd1;
            if (hg_q + 9'd1 == group_q) begin
              hg_d = 9'd0;
              g_d = g_q + 9'd1;
              kvoff_d = kvoff_q + capd_q;
            end
            st_d = SHead;
          end
        end
      end
      SNext: begin
        // cmd_done: the last O row's write response was taken in SResp
        st_d = SIdle;
      end
      default: st_d = SIdle;
    endcase

    // the pipelines' last stages, independent of the state
    if (qk_tv_q) begin
      dot_d = (qk_tf_q[1] ? 32'd0 : dot_q) + {{13{qk_t_q[18]}}, qk_t_q[18:0]} +
              {{13{qk_t_q[37]}}, qk_t_q[37:19]};
    end
    if (qk_wv_q) begin
      s_we = 1'b1;
      j_we = 1'b1;
      waddr = n_q[11:0];
      s_wdata = dot_q;
      j_wdata = key_j_q;
      n_d = n_q + 13'd1;
      if ($signed(dot_q) > max_q) begin
        max_d = dot_q;
      end
      if ((dot_q ^ 32'h8000_0000) < kmin_q) begin
        kmin_d = dot_q ^ 32'h8000_0000;
      end
      if ((dot_q ^ 32'h8000_0000) > kmax_q) begin
        kmax_d = dot_q ^ 32'h8000_0000;
      end
    end
    if (pv_mv_q) begin
      acc_ok_d[pv_mc_q] = 1'b1;
    end
    if (rs3_v_q && rs3_st_q) begin
      for (int unsigned e = 0; e < 192; e++) begin
        if (8'(e) == 8'(o_addr[5:0]) + rs3_tag_q[7:0]) begin
          obuf_d[8*e +: 8] = out_val;
        end
      end
    end
    if (ex5_v_q) begin
      e_we = 1'b1;
      waddr = ex5_idx_q;
      e_wdata = ex5_e_q;
      sum_d = sum_q + {16'd0, ex5_e_q};
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      st_q <= SIdle;
      group_q <= 9'd0;
      grp_acc_q <= 9'd0;
      h_q <= 9'd0;
      g_q <= 9'd0;
      hg_q <= 9'd0;
      i_q <= 13'd0;
      smult_q <= 32'sd0;
      sshift_q <= 6'd0;
      omult_q <= 32'sd0;
      oshift_q <= 6'd0;
      mask_q <= 128'd0;
      kb_q <= 8'd0;
      j_q <= 13'd0;
      hi_q <= 13'd0;
      n_q <= 13'd0;
      max_q <= 32'sd0;
      kmin_q <= 32'd0;
      kmax_q <= 32'd0;
      c_q <= 4'd0;
      dot_q <= 32'd0;
      thr_q <= 32'd0;
      cnt_q <= 32'd0;
      ties_q <= 32'd0;
      bit_q <= 5'd0;
      sel_all_q <= 1'b0;
      pi_q <= 13'd0;
      pidx_q <= 13'd0;
      pv_q <= 1'b0;
      sum_q <= 32'd0;
      recip_q <= 32'd0;
      prob_q <= 16'd0;
      pe_lo_q <= 33'd0;
      pe_hi_q <= 31'd0;
      qoff_q <= 32'd0;
      kvoff_q <= 32'd0;
      capd_q <= 32'd0;
      jd_q <= 32'd0;
      blen_q <= 13'd0;
      kin_q <= 1'b0;
      boff_q <= 13'd0;
      vjd_q <= 32'd0;
      vendd_q <= 32'd0;
      vrow_q <= 13'd0;
      vend_q <= 13'd0;
      vhit_q <= 1'b0;
      vwait_q <= 1'b0;
      vlo_q <= 13'd0;
      vhi_q <= 13'd0;
      pvfirst_q <= 1'b0;
      voff_q <= 13'd0;
      qk_av_q <= 1'b0;
      qk_mv_q <= 1'b0;
      qk_tv_q <= 1'b0;
      qk_wv_q <= 1'b0;
      pv_av_q <= 1'b0;
      pv_mv_q <= 1'b0;
      rs1_v_q <= 1'b0;
      rs2_v_q <= 1'b0;
      rs3_v_q <= 1'b0;
      ex4_v_q <= 1'b0;
      ex5_v_q <= 1'b0;
      d_q <= 8'd0;
      acc_ok_q <= 8'd0;
      wbeat_q <= 2'd0;
    end else begin
      st_q <= st_d;
      group_q <= group_d;
      grp_acc_q <= grp_acc_d;
      h_q <= h_d;
      g_q <= g_d;
      hg_q <= hg_d;
      i_q <= i_d;
      smult_q <= smult_d;
      sshift_q <= sshift_d;
      omult_q <= omult_d;
      oshift_q <= oshift_d;
      mask_q <= mask_d;
      kb_q <= kb_d;
      j_q <= j_d;
      hi_q <= hi_d;
      n_q <= n_d;
      max_q <= max_d;
      kmin_q <= kmin_d;
      kmax_q <= kmax_d;
      c_q <= c_d;
      dot_q <= dot_d;
      thr_q <= thr_d;
      cnt_q <= cnt_d;
      ties_q <= ties_d;
      bit_q <= bit_d;
      sel_all_q <= sel_all_d;
      pi_q <= pi_d;
      pidx_q <= pidx_d;
      pv_q <= pv_d;
      sum_q <= sum_d;
      recip_q <= recip_d;
      prob_q <= prob_d;
      pe_lo_q <= pe_lo_d;
      pe_hi_q <= pe_hi_d;
      qoff_q <= qoff_d;
      kvoff_q <= kvoff_d;
      capd_q <= capd_d;
      jd_q <= jd_d;
      blen_q <= blen_d;
      kin_q <= kin_d;
      boff_q <= boff_d;
      vjd_q <= vjd_d;
      vendd_q <= vendd_d;
      vrow_q <= vrow_d;
      vend_q <= vend_d;
      vhit_q <= vhit_d;
      vwait_q <= vwait_d;
      vlo_q <= vlo_d;
      vhi_q <= vhi_d;
      pvfirst_q <= pvfirst_d;
      voff_q <= voff_d;
      qk_av_q <= qk_av_d;
      qk_mv_q <= qk_av_q;
      qk_tv_q <= qk_mv_q;
      qk_wv_q <= qk_wv_d;
      pv_av_q <= pv_av_d;
      pv_mv_q <= pv_av_q;
      rs1_v_q <= rs1_v_d;
      rs2_v_q <= rs1_v_q;
      rs3_v_q <= rs2_v_q;
      ex4_v_q <= ex4_v_d;
      ex5_v_q <= ex4_v_q;
      d_q <= d_d;
      acc_ok_q <= acc_ok_d;
      wbeat_q <= wbeat_d;
    end
  end

  // datapath buffers and pipeline operands are written before they are read
  // (each stage's valid flag is reset), so they need no reset
  always_ff @(posedge clk_i) begin
    desc_q <= desc_d;
    obuf_q <= obuf_d;
    qk_af_q <= qk_af_d;
    qk_aj_q <= j_q[11:0];
    qk_mj_q <= qk_aj_q;
    qk_tj_q <= qk_mj_q;
    key_j_q <= qk_tj_q;
    qk_mf_q <= qk_af_q;
    qk_tf_q <= qk_mf_q;
    qk_qa_q <= qk_qa_d;
    qk_ka_q <= qk_ka_d;
    qk_prod_q <= qk_prod_d;
    qk_t_q <= qk_t_d;
    pv_ac_q <= c_q[2:0];
    pv_mc_q <= pv_ac_q;
    pv_va_q <= pv_va_d;
    pv_prod_q <= pv_prod_d;
    rs1_st_q <= rs1_st_d;
    rs2_st_q <= rs1_st_q;
    rs3_st_q <= rs2_st_q;
    rs1_sel_q <= rs1_sel_d;
    rs2_sel_q <= rs1_sel_q;
    rs3_sel_q <= rs2_sel_q;
    rs1_tag_q <= rs1_tag_d;
    rs2_tag_q <= rs1_tag_q;
    rs3_tag_q <= rs2_tag_q;
    rs1_x_q <= rs1_x_d;
    rs2_lo_q <= rs2_lo_d;
    rs2_hi_q <= rs2_hi_d;
    rs3_r_q <= rs3_r_d;
    ex4_zero_q <= ex4_zero_d;
    ex4_u_q <= ex4_u_d;
    ex4_idx_q <= rs3_tag_q;
    ex5_e_q <= ex5_e_d;
    ex5_idx_q <= ex4_idx_q;
  end
endmodule
