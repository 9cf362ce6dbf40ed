// Feeder: turns loaded jobs into one array step per cycle. A step carries,
// per row, 4 activation bytes (dense and int4 use 2, for k and k+1; 2:4 uses
// all 4 of a group) and, per column, 2 int8 weights with their 2:4 position
// code (dense: positions 0 and 1; int4 nibbles are sign-extended here, so the
// PEs only see int8). Activations past K or past M are zeroed, which makes
// stale buffer bytes and padded weights harmless. The step after a tile's
// final step is held back until the output FIFO has room for the tile's R rows
// (credits) and at least MinPeriod cycles have passed since the previous tile,
// so the array drain and the per-column epilogue parameters never overlap.
// GEMV mode (gv_i, docs/gemm_rtl.md): the array computes C^T = W A^T. Row i
// carries 4 bytes of weight row n0+i per step (4 K positions, like a 2:4
// step); activation row m (m < M) takes columns 2m and 2m+1, which get its
// activations k, k+1 and k+2, k+3 (each column's W buffer holds the row and
// returns its 2 bytes), with position codes that make PE(i,2m) use bytes 0, 1
// and PE(i,2m+1) bytes 2, 3; columns from 2M on idle. A tile is M output
// rows of T = min(R, C) values, so it takes M credits.
// int4 GEMV (gv_i with SqGemmW4): row i's 4 bytes per step are 8 int4
// weights (8 K positions); activation row m takes columns 4m..4m+3, column
// 4m+p gets activations 2p, 2p+1 with code (p, p) and the nibble bit, so
// PE(i,4m+p) multiplies them by byte p's low and high nibble. Nibbles past K
// (an odd K's last high nibble) are zeroed like bytes past K.
// 2:4 GEMV (gv_i with SqGemmSp24): the same 8 K positions a step and the same
// columns, but row i's 4 bytes are the kept values of two groups, its code
// byte (read from code buffer i, loaded with the job) goes down row i's g
// path, and the column's activations carry sv: PE(i,4m+p) multiplies
// activations 2p, 2p+1 by the kept value at their position or 0. Here the
// activations past K are zeroed (a stale code may point anywhere in its
// group), and the rows past N.
// Group scales (cfg_i.gsc, sq_gemm_pe): a step closes a group when the K
// position after it is a multiple of the group (2^gshift; the group is a
// multiple of every step's span) or it is the tile's last; gi counts the
// job's closed groups, so the step's factor is byte 2 gi of its output's
// factor row in the 2:4 code buffer (loaded by sq_gemm_loader). Normal
// mapping: column j's factor rides its weight bus and every column scales;
// GEMV: row i's factor rides the row path (g_o), columns pass their part
// right (fin) and the last active column scales.
module sq_gemm_feeder
#(
  parameter int unsigned R = sq_spec_pkg::SqArrayRows,
  parameter int unsigned C = sq_spec_pkg::SqArrayCols,
  localparam int unsigned MinPeriod = ((R > C) ? R : C) + 8,
  localparam int unsigned BeatW = sq_gemm_pkg::BeatW,
  localparam int unsigned WB = sq_gemm_pkg::WbusW,
  localparam int unsigned NW = 1 << sq_gemm_pkg::WSlotW
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  sq_gemm_pkg::gemm_cfg_t        cfg_i,
  input  logic             go_i,
  input  logic             gv_i,
  input  logic             running_i,
  // jobs
  input  logic             job_valid_i,
  input  sq_gemm_pkg::job_t             job_i,
  output logic             job_pop_o,
  output logic             rel_w_o,
  output logic [sq_gemm_pkg::WSlotW-1:0] rel_w_slot_o,
  output logic             rel_a_o,
  output logic [sq_gemm_pkg::ASlotW-1:0] rel_a_slot_o,
  // buffer reads (the word arrives the next cycle and is held); each buffer
  // returns the bytes from *_pos_o on: 4 per A row, 2 per W row (GEMV: W
  // buffer j from 2 (j mod 2), int4 2 (j mod 4), past it), 1 code byte
  output logic             a_re_o,
  output logic [$clog2(2 * sq_gemm_pkg::RowWords)-1:0] a_addr_o,
  output logic [5:0]       a_pos_o,
  input  logic [32*R-1:0]  a_bytes_i,
  output logic             w_re_o,
  output logic [$clog2(4 * sq_gemm_pkg::RowWords)-1:0] w_addr_o,
  output logic [5:0]       w_pos_o,
  input  logic [16*C-1:0]  w_bytes_i,
  output logic             m_re_o,
  output logic [$clog2(4 * sq_gemm_pkg::MetaWords)-1:0] m_addr_o,
  output logic [5:0]       m_pos_o,
  input  logic [16*C-1:0]  m_bytes_i,   // byte 0: 2:4 code; both: a group factor
  input  logic [BeatW*NW-1:0]   bias_i,   // per W slot
  input  logic [2*BeatW*NW-1:0] quant_i,
  // array
  output logic [32*R-1:0]  a_o,
  output logic [16*R-1:0]  g_o,
  output logic [WB*C-1:0]  w_o,
  output sq_gemm_pkg::tile_t            tile_o,
  output logic [sq_gemm_pkg::BeatW-1:0] bias_o,
  output logic [2*sq_gemm_pkg::BeatW-1:0] quant_o,
  // output FIFO credits: one per row popped by the writer
  input  logic             row_pop_i,
  output logic             final_issued_o,
  output logic [31:0]      rows_issued_o,
  output logic             stall_o
);
  localparam int unsigned CredW = $clog2(2 * R) + 1;
  localparam int unsigned StepW = sq_gemm_pkg::KchLog2;  // at most KchElems/2 steps
  localparam int unsigned T = (R < C) ? R : C;

  logic w4, sp, g4, sv, g8;
  assign w4 = (({27'd0, cfg_i.flags} & sq_spec_pkg::SqGemmW4) != 32'd0);
  assign sp = (({27'd0, cfg_i.flags} & sq_spec_pkg::SqGemmSp24) != 32'd0);
  assign g4 = gv_i && w4;  // int4 GEMV
  assign sv = gv_i && sp;  // 2:4 GEMV
  assign g8 = g4 || sv;    // 8 K positions per step

  logic            active_q, active_d, final_q, final_d;
  sq_gemm_pkg::job_t            job_q, job_d;
  logic [StepW-1:0] s_q, s_d;
  logic [CredW-1:0] cred_q, cred_d;
  logic [5:0]      since_q, since_d;
  logic [31:0]     rows_q, rows_d;
  sq_gemm_pkg::tile_t           tile_q, tile_d;
  logic [sq_gemm_pkg::BeatW-1:0] bias_q;
  logic [2*sq_gemm_pkg::BeatW-1:0] quant_q;

  // stage 2: the step whose buffer words are being read
  logic            s2_valid_q, s2_first_q, s2_last_q;
  logic [11:0]     s2_kb_q;     // local k of the step's first element
  logic [sq_gemm_pkg::KchW-1:0] s2_klen_q;
  logic [R-1:0]    s2_rows_q;   // rows inside M
  logic [5:0]      s2_apos_q, s2_wpos_q, s2_mpos_q;
  logic            s2_mhi_q, s2_gv_q, s2_g4_q, s2_sv_q, s2_gend_q;
  logic            s2_valid_d, s2_first_d, s2_last_d, s2_mhi_d, s2_gend_d;
  logic [11:0]     s2_kb_d;
  logic [sq_gemm_pkg::KchW-1:0] s2_klen_d;
  logic [R-1:0]    s2_rows_d;
  logic [5:0]      s2_apos_d, s2_wpos_d, s2_mpos_d;

  logic [31:0] a_q [R];
  logic [31:0] a_d [R];
  logic [15:0] g_q [R];
  logic [15:0] g_d [R];
  logic [WB-1:0] w_q [C];
  logic [WB-1:0] w_d [C];

  // ---- issue ----------------------------------------------------------------
  logic [StepW:0] steps;
  logic [11:0] ab, kb;
  logic [10:0] wb;
  logic tile_end, last_step, can_issue, blocked_credit, quad;
  logic [CredW-1:0] tile_rows;
  logic [sq_gemm_pkg::DimW:0] ncols, tcols;
  assign quad = sp || gv_i;  // 4 K positions per step
  assign steps = (job_q.klen == '0) ? (StepW + 1)'(1) :
                 g8 ? (StepW + 1)'(({1'b0, job_q.klen} + 13'd7) >> 3) :
                 quad ? (StepW + 1)'(({1'b0, job_q.klen} + 13'd3) >> 2) :
                 (StepW + 1)'(({1'b0, job_q.klen} + 13'd1) >> 1);
  assign last_step = {1'b0, s_q} == steps - 1'b1;
  assign tile_end = last_step && job_q.last;
  assign tile_rows = gv_i ? CredW'(cfg_i.m) : CredW'(R);
  assign blocked_credit = tile_end && cred_q < tile_rows;
  assign can_issue = active_q && !blocked_credit && !(tile_end && since_q < 6'(MinPeriod));
  assign ab = quad ? {s_q[9:0], 2'b00} : {s_q[10:0], 1'b0};
  assign kb = g8 ? {s_q[8:0], 3'b000} : ab;  // K position of the step's first element
  // W buffer byte of the step: GEMV the activation (int8 4, int4 and 2:4 8 a
  // step)
  assign wb = g8 ? kb[10:0] : gv_i ? ab[10:0] : w4 ? s_q : {s_q[9:0], 1'b0};
  assign tcols = gv_i ? 18'(T) : 18'(C);
  assign ncols = ({1'b0, cfg_i.n} - job_q.n0) > tcols ? tcols : ({1'b0, cfg_i.n} - job_q.n0);

  // GEMV: A slots of GWords words, the activation chunk from word xsub * GWords
  // of W buffer 0 (int4: 2 * GWords words)
  assign a_re_o = can_issue && ab[5:0] == 6'd0;
  assign a_addr_o = gv_i ? 6'({job_q.aslot, ab[6 +: $clog2(sq_gemm_pkg::GWords)]}) :
                    {job_q.aslot[0], ab[6 +: $clog2(sq_gemm_pkg::RowWords)]};
  assign w_re_o = can_issue && wb[5:0] == 6'd0;
  assign w_addr_o = gv_i ? 7'({job_q.xsub, 3'b000}) + 7'(wb[10:6]) :
                    {job_q.wslot, wb[6 +: $clog2(sq_gemm_pkg::RowWords)]};
  // group scales: does the step close a group, and its factor's byte
  logic [6:0] gi_q, gi_d;
  logic [7:0] gbyte;
  logic [sq_gemm_pkg::DimW:0] knext, gmask;
  logic gend;
  assign knext = job_q.k0 + (sq_gemm_pkg::DimW + 1)'(kb) +
                 (g8 ? 18'd8 : quad ? 18'd4 : 18'd2);
  assign gmask = (18'd1 << cfg_i.gshift) - 18'd1;
  assign gend = cfg_i.gsc && (tile_end || (knext & gmask) == '0);
  assign gbyte = {gi_q, 1'b0};
  // 2:4 codes: a nibble a step, 2:4 GEMV a byte (two groups) a step
  assign m_re_o = can_issue && (cfg_i.gsc || (sv ? s_q[5:0] == 6'd0 : s_q[6:0] == 7'd0));
  assign m_addr_o = {job_q.wslot,
                     cfg_i.gsc ? gbyte[7:6] :
                     sv ? s_q[6 +: $clog2(sq_gemm_pkg::MetaWords)] :
                     s_q[7 +: $clog2(sq_gemm_pkg::MetaWords)]};

  assign job_pop_o = job_valid_i && (!active_q || (can_issue && last_step));
  assign rel_w_o = can_issue && last_step;
  assign rel_w_slot_o = job_q.wslot;
  assign rel_a_o = can_issue && last_step && job_q.rel_a;
  assign rel_a_slot_o = job_q.aslot;
  assign stall_o = running_i && !final_q && (!active_q || blocked_credit);

  always_comb begin
    active_d = active_q;
    final_d = final_q;
    job_d = job_q;
    s_d = s_q;
    cred_d = cred_q;
    since_d = since_q < 6'(MinPeriod) ? since_q + 6'd1 : since_q;
    rows_d = rows_q;
    tile_d = tile_q;
    s2_valid_d = 1'b0;
    s2_first_d = job_q.first && s_q == '0;
    s2_last_d = tile_end;
    s2_kb_d = kb;
    s2_klen_d = job_q.klen;
    s2_apos_d = ab[5:0];
    s2_wpos_d = wb[5:0];
    s2_mpos_d = cfg_i.gsc ? gbyte[5:0] : sv ? s_q[5:0] : s_q[6:1];
    s2_mhi_d = s_q[0];
    s2_gend_d = gend;
    gi_d = gi_q;
    for (int unsigned i = 0; i < R; i++) begin
      s2_rows_d[i] = gv_i ? (i < T && job_q.n0 + 18'(i) < {1'b0, cfg_i.n}) :
                     job_q.m0 + 18'(i) < {1'b0, cfg_i.m};
    end
    if (row_pop_i) begin
      cred_d = cred_d + 1'b1;
    end
    if (go_i) begin
      final_d = 1'b0;
      cred_d = CredW'(2 * R);
      since_d = 6'(MinPeriod);
    end
    if (can_issue) begin
      s2_valid_d = 1'b1;
      if (gend) begin
        gi_d = gi_q + 7'd1;
      end
      if (tile_end) begin
        cred_d = cred_d - tile_rows;
        since_d = 6'd0;
        rows_d = rows_q + 32'(tile_rows);
        tile_d.m0 = job_q.m0;
        tile_d.n0 = job_q.n0;
        tile_d.ncols = ncols;
      end
      if (last_step) begin
        if (job_q.final_job) begin
          final_d = 1'b1;
        end
        active_d = 1'b0;
      end else begin
        s_d = s_q + 1'b1;
      end
    end
    if (job_pop_o) begin
      job_d = job_i;
      s_d = '0;
      gi_d = '0;
      active_d = 1'b1;
    end
  end

  // ---- stage 2: mask, convert ----------------------------------------------
  assign a_pos_o = s2_apos_q;
  assign w_pos_o = s2_wpos_q;
  assign m_pos_o = s2_mpos_q;
  // GEMV: the row path carries weights, all 4 bytes of a step (int4: 8
  // nibbles, each masked on its own); stale activation bytes past K meet
  // these zeroed weights. 2:4 GEMV: a byte is live with its group's first
  // position inside K (the activations past K are zeroed instead).
  for (genvar i = 0; i < R; i++) begin : g_arow
    logic [7:0] b [4];
    for (genvar e = 0; e < 4; e++) begin : g_byte
      logic [12:0] kp;
      logic live_lo, live_hi;
      assign kp = {1'b0, s2_kb_q} + (s2_g4_q ? 13'(2 * e) : s2_sv_q ? 13'(4 * (e / 2)) : 13'(e));
      assign live_lo = s2_rows_q[i] && kp < {1'b0, s2_klen_q} && (s2_gv_q || sp || e < 2);
      assign live_hi = live_lo && (!s2_g4_q || kp + 13'd1 < {1'b0, s2_klen_q});
      assign b[e] = {live_hi ? a_bytes_i[32*i + 8*e + 4 +: 4] : 4'd0,
                     live_lo ? a_bytes_i[32*i + 8*e +: 4] : 4'd0};
    end
    assign a_d[i] = {b[3], b[2], b[1], b[0]};
    // GEMV with group scales: output n0+i's factor (its code buffer is i);
    // 2:4 GEMV: its code byte
    if (i < C) begin : g_gs
      assign g_d[i] = (s2_gv_q && cfg_i.gsc) ? m_bytes_i[16*i +: 16] :
                      s2_sv_q ? {8'd0, m_bytes_i[16*i +: 8]} : 16'd0;
    end else begin : g_nogs
      assign g_d[i] = '0;
    end
  end

  for (genvar j = 0; j < C; j++) begin : g_wcol
    logic [7:0] lo, hi, mb;
    logic [WB-1:0] plain;
    logic [3:0] gctl;
    assign lo = w_bytes_i[16*j +: 8];
    assign hi = w_bytes_i[16*j + 8 +: 8];
    assign mb = m_bytes_i[16*j +: 8];
    // group-scale fields gsc, gend, fin, sc (zero without group scales)
    assign gctl = {cfg_i.gsc, cfg_i.gsc && s2_gend_q, 1'b0, cfg_i.gsc};
    // fields in wbus_t order: sv, gs, gsc, gend, fin, sc, valid, first,
    // last, nib, code, w1, w0
    assign plain = {1'b0, cfg_i.gsc ? m_bytes_i[16*j +: 16] : 16'd0, gctl,
                    s2_valid_q, s2_first_q, s2_last_q, 1'b0,
                    sp ? (s2_mhi_q ? mb[7:4] : mb[3:0]) : 4'b0100,
                    w4 ? {{4{lo[7]}}, lo[7:4]} : hi,
                    w4 ? {{4{lo[3]}}, lo[3:0]} : lo};
    // GEMV: column j serves activation row j / 2 (int4 and 2:4 j / 4) when
    // it is inside M: activations k+2p, k+2p+1 (p = j mod 2, int4 and 2:4
    // j mod 4; its W buffer returns them) against the row's bytes 2p, 2p+1
    // (int8), byte p's nibbles (int4) or the kept values at their positions
    // (2:4, activations past K zeroed)
    logic [1:0] jj;
    logic fin, sc, gon, g8q;
    logic [12:0] kx;
    logic [7:0] xlo, xhi;
    assign g8q = s2_g4_q || s2_sv_q;
    assign jj = g8q ? 2'(j % 4) : 2'(j % 2);
    assign gon = g8q ? 18'(j / 4) < {1'b0, cfg_i.m} : 18'(j / 2) < {1'b0, cfg_i.m};
    assign kx = {1'b0, s2_kb_q} + 13'(2 * (j % 4));
    assign xlo = (!s2_sv_q || kx < {1'b0, s2_klen_q}) ? lo : 8'd0;
    assign xhi = (!s2_sv_q || kx + 13'd1 < {1'b0, s2_klen_q}) ? hi : 8'd0;
    // GEMV with group scales: a column after its group's first adds the left
    // part; the group's last one scales
    assign fin = cfg_i.gsc && jj != 2'd0;
    assign sc = cfg_i.gsc && (g8q ? jj == 2'd3 : jj == 2'd1);
    assign w_d[j] = !s2_gv_q ? plain :
                    {s2_sv_q, 16'd0, cfg_i.gsc, cfg_i.gsc && s2_gend_q, fin, sc,
                     s2_valid_q && gon, s2_first_q, s2_last_q, s2_g4_q,
                     g8q ? {jj, jj} : {jj[0], 1'b1, jj[0], 1'b0}, xhi, xlo};
  end

  for (genvar i = 0; i < R; i++) begin : g_aout
    assign a_o[32*i +: 32] = a_q[i];
    assign g_o[16*i +: 16] = g_q[i];
  end
  for (genvar j = 0; j < C; j++) begin : g_wout
    assign w_o[WB*j +: WB] = w_q[j];
  end
  assign tile_o = tile_q;
  assign bias_o = bias_q;
  assign quant_o = quant_q;
  assign final_issued_o = final_q;
  assign rows_issued_o = rows_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      active_q <= 1'b0;
      final_q <= 1'b0;
      job_q <= '0;
      s_q <= '0;
      cred_q <= '0;
      since_q <= '0;
      rows_q <= '0;
      tile_q <= '0;
      s2_valid_q <= 1'b0;
      s2_first_q <= 1'b0;
      s2_last_q <= 1'b0;
      s2_kb_q <= '0;
      s2_klen_q <= '0;
      s2_rows_q <= '0;
      s2_apos_q <= '0;
      s2_wpos_q <= '0;
      s2_mpos_q <= '0;
      s2_mhi_q <= 1'b0;
      s2_gend_q <= 1'b0;
      gi_q <= '0;
      s2_gv_q <= 1'b0;
      s2_g4_q <= 1'b0;
      s2_sv_q <= 1'b0;
      for (int unsigned i = 0; i < R; i++) begin
        a_q[i] <= '0;
        g_q[i] <= '0;
      end
      for (int unsigned j = 0; j < C; j++) begin
        w_q[j] <= '0;
      end
    end else begin
      active_q <= active_d;
      final_q <= final_d;
      job_q <= job_d;
      s_q <= s_d;
      cred_q <= cred_d;
      since_q <= since_d;
      rows_q <= rows_d;
      tile_q <= tile_d;
      s2_valid_q <= s2_valid_d;
      s2_first_q <= s2_first_d;
      s2_last_q <= s2_last_d;
      s2_kb_q <= s2_kb_d;
      s2_klen_q <= s2_klen_d;
      s2_rows_q <= s2_rows_d;
      s2_apos_q <= s2_apos_d;
      s2_wpos_q <= s2_wpos_d;
      s2_mpos_q <= s2_mpos_d;
      s2_mhi_q <= s2_mhi_d;
      s2_gend_q <= s2_gend_d;
      gi_q <= gi_d;
      s2_gv_q <= gv_i;
      s2_g4_q <= g4;
      s2_sv_q <= sv;
      for (int unsigned i = 0; i < R; i++) begin
        a_q[i] <= a_d[i];
        g_q[i] <= g_d[i];
      end
      for (int unsigned j = 0; j < C; j++) begin
        w_q[j] <= w_d[j];
      end
    end
  end

  // A tile's epilogue parameters, taken from its W slot with its last step.
  // They are only read for tiles issued after they are loaded: no reset.
  always_ff @(posedge clk_i) begin
    if (can_issue && tile_end) begin
      for (int unsigned sl = 0; sl < NW; sl++) begin
        if (job_q.wslot == sq_gemm_pkg::WSlotW'(sl)) begin
          bias_q <= bias_i[BeatW*sl +: BeatW];
          quant_q <= quant_i[2*BeatW*sl +: 2*BeatW];
        end
      end
    end
  end
endmodule
