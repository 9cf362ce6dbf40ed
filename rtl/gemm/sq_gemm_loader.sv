// Operand loader: walks the GEMM as jobs (M panel of R rows, N tile of C
// columns, K chunk of KchElems), allocates buffer slots (2 for A, 4 for W), issues AXI4
// read bursts for every row of the job (split at 4 KB boundaries), and
// writes returning beats into the row buffers and the per-slot bias/quant
// registers. Reads return in order, so a job's data has arrived when the
// count of completed bursts reaches the count of bursts issued up to the job's
// last one (kept per job in a small FIFO); then the job becomes visible to
// the feeder. (A marker entry in the tag FIFO did this before; popping it
// cost a cycle without read data per job.) With K <= KchElems the A
// panel is loaded once per M panel and shared by all its N tiles.
// GEMV mode (gv_i, docs/gemm_rtl.md): a job is T = min(R, C) weight rows
// (outputs n0..n0+T-1) over a K chunk of KchG, loaded into one of 8 A slots;
// the M activation rows' chunks go to the W buffers of their columns only
// while the first T outputs are loaded (for K <= XSubs * KchG they then
// stay), bias and quant parameters only
// with a tile's last chunk. int4 GEMV: chunks of KchG4 = 2 * KchG elements,
// so a weight row's chunk is again GWords words and the activation chunk
// 2 * GWords words (two XSubs entries). 2:4 GEMV: the same chunks (a row's
// kept values of KchG4 positions are GWords words), and after the vector each
// job loads its T rows' codes into code buffers 0..T-1, slot = W slot.
// Group scales (cfg_i.gsc): after W each job loads, for each of its C
// outputs (GEMV: T), the Q15 factors of the groups its K chunk touches into
// that column's 2:4 code buffer (unused without 2:4), slot = W slot.
module sq_gemm_loader
#(
  parameter int unsigned R = sq_spec_pkg::SqArrayRows,
  parameter int unsigned C = sq_spec_pkg::SqArrayCols,
  localparam int unsigned RowIdxW = $clog2((R > C) ? R : C),
  localparam int unsigned BeatW = sq_gemm_pkg::BeatW
) (
  input  logic             clk_i,
  input  logic             rst_ni,
  input  sq_gemm_pkg::gemm_cfg_t        cfg_i,
  input  logic             go_i,
  input  logic             gv_i,
  // AXI4 read address / data
  output logic             arvalid_o,
  input  logic             arready_i,
  output logic [sq_gemm_pkg::AddrW-1:0] araddr_o,
  output logic [7:0]       arlen_o,
  input  logic             rvalid_i,
  input  logic [sq_gemm_pkg::BeatW-1:0] rdata_i,
  input  logic             rlast_i,
  output logic             rready_o,
  // beat writes into the row buffers
  output logic             bw_valid_o,
  output logic [2:0]            bw_kind_o,
  output logic [6:0]       bw_base_o,   // first word of the row's region
  output logic [RowIdxW-1:0] bw_row_o,
  output logic [6:0]       bw_q_o,
  output logic [5:0]       bw_off_o,
  output logic [sq_gemm_pkg::BeatW-1:0] bw_data_o,
  // per W slot epilogue parameters, little-endian as in device memory
  output logic [sq_gemm_pkg::BeatW*(1 << sq_gemm_pkg::WSlotW)-1:0]   bias_o,
  output logic [2*sq_gemm_pkg::BeatW*(1 << sq_gemm_pkg::WSlotW)-1:0] quant_o,
  // jobs whose data has arrived
  output logic             job_valid_o,
  output sq_gemm_pkg::job_t             job_o,
  input  logic             job_pop_i,
  // slot releases from the feeder
  input  logic             rel_w_i,
  input  logic [sq_gemm_pkg::WSlotW-1:0] rel_w_slot_i,
  input  logic             rel_a_i,
  input  logic [sq_gemm_pkg::ASlotW-1:0] rel_a_slot_i
);
  localparam int unsigned T = (R < C) ? R : C;
  typedef enum logic [2:0] {Idle, Job, Row, Burst, Mark} state_e;

  typedef struct packed {
    logic [2:0]        kind;
    logic [sq_gemm_pkg::WSlotW-1:0] slot;
    logic [6:0]   base;
    logic [RowIdxW-1:0] row;
    logic [6:0]   q;
    logic [5:0]   off;
  } tag_t;

  state_e state_q, state_d;
  logic [sq_gemm_pkg::DimW:0] m0_q, m0_d, n0_q, n0_d, k0_q, k0_d;
  logic [(1 << sq_gemm_pkg::WSlotW)-1:0] w_busy_q, w_busy_d;
  logic [(1 << sq_gemm_pkg::ASlotW)-1:0] a_busy_q, a_busy_d;
  logic [sq_gemm_pkg::WSlotW-1:0] w_next_q, w_next_d;
  logic [sq_gemm_pkg::ASlotW-1:0] a_next_q, a_next_d, a_cur_q, a_cur_d;
  sq_gemm_pkg::job_t job_q, job_d;
  logic [2:0] phase_q, phase_d;
  logic [RowIdxW:0] row_q, row_d;
  logic [57:0] beat_q, beat_d;   // beat address (byte address / 64)
  logic [6:0] rem_q, rem_d, q_q, q_d;
  logic [5:0] off_q, off_d;
  logic [5:0] bq_q, bq_d;
  logic [3:0] ready_q, ready_d;
  // epilogue parameters of every W slot: bias one word, quant two words each
  logic [sq_gemm_pkg::BeatW*(1 << sq_gemm_pkg::WSlotW)-1:0] bias_q;
  logic [2*sq_gemm_pkg::BeatW*(1 << sq_gemm_pkg::WSlotW)-1:0] quant_q;

  // ---- derived sizes --------------------------------------------------------
  logic w4, sp;
  logic [sq_gemm_pkg::DimW:0] wrow, mrow, ncols_full, kch;
  logic multi_chunk, need_x;
  assign w4 = (({27'd0, cfg_i.flags} & sq_spec_pkg::SqGemmW4) != 32'd0);
  assign sp = (({27'd0, cfg_i.flags} & sq_spec_pkg::SqGemmSp24) != 32'd0);
  // bytes per weight row, per 2:4 metadata row
  assign wrow = w4 ? (({1'b0, cfg_i.k} + 18'd1) >> 1) :
                sp ? ((({1'b0, cfg_i.k} + 18'd3) >> 2) << 1) : {1'b0, cfg_i.k};
  assign mrow = ((({1'b0, cfg_i.k} + 18'd3) >> 2) + 18'd1) >> 1;
  assign kch = (gv_i && (w4 || sp)) ? 18'(sq_gemm_pkg::KchG4) :
               gv_i ? 18'(sq_gemm_pkg::KchG) : 18'(sq_gemm_pkg::KchElems);
  assign multi_chunk = {1'b0, cfg_i.k} > kch;
  // GEMV: the activation chunk is loaded with the first tile's jobs, and with
  // every job when the vector does not fit in W buffer 0 (int8 16 chunks of
  // KchG, int4 8 of KchG4: the same K)
  logic x_reload;
  assign x_reload = {1'b0, cfg_i.k} > 18'(sq_gemm_pkg::XSubs * sq_gemm_pkg::KchG);
  assign need_x = n0_q == '0 || x_reload;
  assign ncols_full = {1'b0, cfg_i.n} - n0_q;

  // ---- next job -------------------------------------------------------------
  sq_gemm_pkg::job_t nj;
  logic [sq_gemm_pkg::DimW:0] kleft;
  always_comb begin
    kleft = {1'b0, cfg_i.k} - k0_q;
    nj = '0;
    nj.m0 = m0_q;
    nj.n0 = n0_q;
    nj.k0 = k0_q;
    nj.klen = kleft > kch ? sq_gemm_pkg::KchW'(kch) : kleft[sq_gemm_pkg::KchW-1:0];
    nj.first = k0_q == '0;
    nj.last = kleft <= kch;
    // a resident vector's chunk sits at its index; a reloaded one goes with
    // its job's A slot, which no job in flight shares (chunk indices would:
    // a tile's last chunk and the next tile's first); an int4 chunk takes two
    // entries (k0 is a multiple of KchG4, so its chunk index is even already;
    // 2:4 the same)
    nj.xsub = x_reload ? ((w4 || sp) ? {a_next_q, 1'b0} : sq_gemm_pkg::XSubW'(a_next_q)) :
              k0_q[sq_gemm_pkg::KchGLog2 +: sq_gemm_pkg::XSubW];
    if (gv_i) begin
      nj.rel_a = 1'b1;
      nj.final_job = nj.last && (n0_q + 18'(T) >= {1'b0, cfg_i.n});
    end else begin
      nj.rel_a = multi_chunk || (n0_q + 18'(C) >= {1'b0, cfg_i.n});
      nj.final_job = nj.last && (n0_q + 18'(C) >= {1'b0, cfg_i.n}) &&
                     (m0_q + 18'(R) >= {1'b0, cfg_i.m});
    end
  end
  logic need_a;
  assign need_a = gv_i || multi_chunk || n0_q == '0;

  // ---- row address and length of (phase, row) ----------------------------------
  logic [sq_gemm_pkg::AddrW-1:0] row_addr;
  logic [sq_gemm_pkg::DimW:0] row_bytes;
  logic row_ok;
  logic [sq_gemm_pkg::DimW:0] ridx;
  logic [35:0] prod;
  logic [sq_gemm_pkg::DimW:0] kl, k0_half, k0_eighth, g0, g1;
  // group scales: the groups of the chunk's first and last K position
  assign g0 = k0_q >> cfg_i.gshift;
  assign g1 = (k0_q + (sq_gemm_pkg::DimW + 1)'(job_q.klen) - 18'd1) >> cfg_i.gshift;
  always_comb begin
    kl = (sq_gemm_pkg::DimW + 1)'(job_q.klen);
    k0_half = k0_q >> 1;
    k0_eighth = k0_q >> 3;
    row_addr = '0;
    row_bytes = '0;
    row_ok = 1'b0;
    ridx = '0;
    prod = '0;
    unique case (phase_q)
      sq_gemm_pkg::KindA: begin
        // GEMV: the A buffers hold rows of W (wrow bytes each)
        ridx = (gv_i ? job_q.n0 : job_q.m0) + 18'(row_q);
        row_ok = ridx < (gv_i ? {1'b0, cfg_i.n} : {1'b0, cfg_i.m});
        prod = 36'(ridx) * (gv_i ? 36'(wrow) : 36'(cfg_i.k));
        row_addr = (gv_i ? cfg_i.w : cfg_i.a) + 64'(prod) +
                   ((gv_i && (w4 || sp)) ? 64'(k0_half) : 64'(k0_q));
        row_bytes = !gv_i ? kl : w4 ? ((kl + 18'd1) >> 1) : sp ? (((kl + 18'd3) >> 2) << 1) : kl;
      end
      sq_gemm_pkg::KindW: begin
        // GEMV: row m is activation row m's chunk
        ridx = gv_i ? 18'(row_q) : job_q.n0 + 18'(row_q);
        row_ok = ridx < (gv_i ? {1'b0, cfg_i.m} : {1'b0, cfg_i.n});
        prod = 36'(ridx) * (gv_i ? 36'(cfg_i.k) : 36'(wrow));
        row_addr = (gv_i ? cfg_i.a : cfg_i.w) + 64'(prod) +
                   ((!gv_i && (w4 || sp)) ? 64'(k0_half) : 64'(k0_q));
        row_bytes = gv_i ? kl : w4 ? ((kl + 18'd1) >> 1) : sp ? (((kl + 18'd3) >> 2) << 1) : kl;
      end
      sq_gemm_pkg::KindMeta: begin
        // 2:4 codes, or the group factors gs[ridx][g0..g1]
        ridx = job_q.n0 + 18'(row_q);
        row_ok = ridx < {1'b0, cfg_i.n};
        prod = 36'(ridx) * (cfg_i.gsc ? 36'(cfg_i.ng) : 36'(mrow));
        row_addr = cfg_i.gsc ? cfg_i.gscale + {27'd0, prod, 1'b0} + 64'({g0, 1'b0}) :
                   cfg_i.meta + 64'(prod) + 64'(k0_eighth);
        row_bytes = cfg_i.gsc ? (g1 - g0 + 18'd1) << 1 : (((kl + 18'd3) >> 2) + 18'd1) >> 1;
      end
      sq_gemm_pkg::KindBias: begin
        row_ok = 1'b1;
        row_addr = cfg_i.bias + 64'({job_q.n0, 2'b00});
        row_bytes = (ncols_full > 18'(C) ? 18'(C) : ncols_full) << 2;
      end
      sq_gemm_pkg::KindQuant: begin
        row_ok = 1'b1;
        row_addr = cfg_i.quant + 64'({job_q.n0, 3'b000});
        row_bytes = (ncols_full > 18'(C) ? 18'(C) : ncols_full) << 3;
      end
      default: ;
    endcase
  end

  // Phase order: A (when the job loads A), W, 2:4 codes or group factors,
  // bias, quant, marker.
  // GEMV: only a tile's last chunk loads bias and quant (the feeder takes
  // them with the tile's last step).
  logic [2:0] phase_next, after_w, after_x;
  logic [RowIdxW:0] phase_rows;
  logic bias_en, out32, par;
  assign bias_en = ({27'd0, cfg_i.flags} & sq_spec_pkg::SqGemmBias) != 32'd0;
  assign out32 = ({27'd0, cfg_i.flags} & sq_spec_pkg::SqGemmOut32) != 32'd0;
  assign par = !gv_i || job_q.last;
  assign after_w = (bias_en && par) ? sq_gemm_pkg::KindBias :
                   (!out32 && par) ? sq_gemm_pkg::KindQuant : sq_gemm_pkg::KindMark;
  // after the weights: 2:4 codes or group factors
  assign after_x = (sp || cfg_i.gsc) ? sq_gemm_pkg::KindMeta : after_w;
  always_comb begin
    phase_next = sq_gemm_pkg::KindMark;
    phase_rows = (RowIdxW + 1)'(1);
    unique case (phase_q)
      sq_gemm_pkg::KindA: begin
        phase_next = (!gv_i || need_x) ? sq_gemm_pkg::KindW : after_x;
        phase_rows = gv_i ? (RowIdxW + 1)'(T) : (RowIdxW + 1)'(R);
      end
      sq_gemm_pkg::KindW: begin
        phase_next = after_x;
        phase_rows = gv_i ? (RowIdxW + 1)'(cfg_i.m) : (RowIdxW + 1)'(C);
      end
      sq_gemm_pkg::KindMeta: begin
        phase_next = after_w;
        phase_rows = gv_i ? (RowIdxW + 1)'(T) : (RowIdxW + 1)'(C);
      end
      sq_gemm_pkg::KindBias: begin
        phase_next = !out32 ? sq_gemm_pkg::KindQuant : sq_gemm_pkg::KindMark;
      end
      default: ;
    endcase
  end

  // ---- tag FIFO -----------------------------------------------------------
  tag_t tag_in, tag_head;
  logic tag_push, tag_pop, tag_empty, tag_full;
  logic [5:0] tag_cnt;
  sq_fifo #(.Width($bits(tag_in)), .DepthLog2(5)) u_tags (
    .clk_i, .rst_ni,
    .push_i(tag_push), .wdata_i(tag_in),
    .pop_i(tag_pop), .rdata_o(tag_head),
    .empty_o(tag_empty), .full_o(tag_full), .count_o(tag_cnt)
  );

  // ---- job ends: bursts issued up to each loading job's last one ----------
  // At most JOB_DEPTH jobs are allocated and not yet taken by the feeder, so
  // the FIFO of 4 never holds more than those; counts wrap at 256, far above
  // the 32 bursts that can be in flight.
  logic [7:0] nb_q, nb_d, done_q, done_d, end_head;
  logic end_push, end_empty, end_full, is_mark;
  logic [2:0] end_cnt;
  sq_fifo #(.Width(8), .DepthLog2(2)) u_ends (
    .clk_i, .rst_ni,
    .push_i(end_push), .wdata_i(nb_q),
    .pop_i(is_mark), .rdata_o(end_head),
    .empty_o(end_empty), .full_o(end_full), .count_o(end_cnt)
  );

  // ---- job FIFO -----------------------------------------------------------
  logic jf_push, jf_empty, jf_full;
  logic [2:0] jf_cnt;
  sq_gemm_pkg::job_t jf_head;
  sq_fifo #(.Width($bits(jf_head)), .DepthLog2(2)) u_jobs (
    .clk_i, .rst_ni,
    .push_i(jf_push), .wdata_i(job_d),
    .pop_i(job_pop_i), .rdata_o(jf_head),
    .empty_o(jf_empty), .full_o(jf_full), .count_o(jf_cnt)
  );
  assign job_valid_o = ready_q != 4'd0;
  assign job_o = jf_head;

  // ---- issue side ---------------------------------------------------------
  logic [6:0] to_4k, blen;
  assign to_4k = 7'd64 - {1'b0, beat_q[5:0]};
  assign blen = rem_q < to_4k ? rem_q : to_4k;
  assign arvalid_o = state_q == Burst && !tag_full;
  assign araddr_o = {beat_q, 6'd0};
  assign arlen_o = {1'b0, blen} - 8'd1;

  always_comb begin
    state_d = state_q;
    m0_d = m0_q;
    n0_d = n0_q;
    k0_d = k0_q;
    w_busy_d = w_busy_q;
    a_busy_d = a_busy_q;
    w_next_d = w_next_q;
    a_next_d = a_next_q;
    a_cur_d = a_cur_q;
    job_d = job_q;
    phase_d = phase_q;
    row_d = row_q;
    beat_d = beat_q;
    rem_d = rem_q;
    q_d = q_q;
    off_d = off_q;
    jf_push = 1'b0;
    tag_push = 1'b0;
    end_push = 1'b0;
    nb_d = nb_q;
    tag_in = '0;
    tag_in.kind = phase_q;
    tag_in.slot = job_q.wslot;
    unique case (phase_q)
      sq_gemm_pkg::KindA: tag_in.base = gv_i ? 7'({job_q.aslot, 3'b000}) : 7'({job_q.aslot[0], 5'd0});
      sq_gemm_pkg::KindW: tag_in.base = gv_i ? 7'({job_q.xsub, 3'b000}) : 7'({job_q.wslot, 5'd0});
      sq_gemm_pkg::KindMeta: tag_in.base = 7'({job_q.wslot, 2'b00});
      default: tag_in.base = '0;
    endcase
    tag_in.row = row_q[RowIdxW-1:0];
    tag_in.q = q_q;
    tag_in.off = off_q;

    if (rel_w_i) begin
      w_busy_d[rel_w_slot_i] = 1'b0;
    end
    if (rel_a_i) begin
      a_busy_d[rel_a_slot_i] = 1'b0;
    end

    unique case (state_q)
      Idle: begin
        if (go_i) begin
          m0_d = '0;
          n0_d = '0;
          k0_d = '0;
          a_next_d = '0;
          state_d = Job;
        end
      end
      Job: begin
        if (!w_busy_q[w_next_q] && !(need_a && a_busy_q[a_next_q]) && !jf_full) begin
          job_d = nj;
          job_d.wslot = w_next_q;
          w_busy_d[w_next_q] = 1'b1;
          w_next_d = w_next_q + 1'b1;
          if (need_a) begin
            job_d.aslot = a_next_q;
            a_busy_d[a_next_q] = 1'b1;
            a_cur_d = a_next_q;
            a_next_d = gv_i ? a_next_q + 1'b1 : {{(sq_gemm_pkg::ASlotW - 1){1'b0}}, !a_next_q[0]};
          end else begin
            job_d.aslot = a_cur_q;
          end
          jf_push = 1'b1;
          phase_d = need_a ? sq_gemm_pkg::KindA : sq_gemm_pkg::KindW;
          row_d = '0;
          state_d = Row;
        end
      end
      Row: begin
        if (row_ok && row_bytes != '0) begin
          beat_d = row_addr[63:6];
          off_d = row_addr[5:0];
          rem_d = 7'((({12'd0, row_addr[5:0]} + row_bytes - 18'd1) >> 6) + 18'd1);
          q_d = 7'd0;
          state_d = Burst;
        end else if (row_q + 1'b1 == phase_rows) begin
          row_d = '0;
          phase_d = phase_next;
          state_d = phase_d == sq_gemm_pkg::KindMark ? Mark : Row;
        end else begin
          row_d = row_q + 1'b1;
        end
      end
      Burst: begin
        if (arvalid_o && arready_i) begin
          tag_push = 1'b1;
          nb_d = nb_q + 8'd1;
          beat_d = beat_q + 58'(blen);
          q_d = q_q + blen;
          rem_d = rem_q - blen;
          if (rem_q == blen) begin
            if (row_q + 1'b1 == phase_rows) begin
              row_d = '0;
              phase_d = phase_next;
              state_d = phase_d == sq_gemm_pkg::KindMark ? Mark : Row;
            end else begin
              row_d = row_q + 1'b1;
              state_d = Row;
            end
          end
        end
      end
      Mark: begin
        if (!end_full) begin
          end_push = 1'b1;
          if (job_q.final_job) begin
            state_d = Idle;
          end else begin
            state_d = Job;
            if (!job_q.last) begin
              k0_d = k0_q + kch;
            end else begin
              k0_d = '0;
              if (gv_i) begin
                n0_d = n0_q + 18'(T);
              end else if (n0_q + 18'(C) >= {1'b0, cfg_i.n}) begin
                n0_d = '0;
                m0_d = m0_q + 18'(R);
              end else begin
                n0_d = n0_q + 18'(C);
              end
            end
          end
        end
      end
      default: state_d = Idle;
    endcase
  end

  // ---- return side: beats into buffers, completed jobs into ready ones ------
  // A beat is registered and written into its buffer or parameter register
  // the next cycle. The completed-burst count includes a burst from the cycle
  // after its last beat, so the job becomes visible to the feeder (ready_q,
  // one cycle later still) only once the write has happened.
  logic beat_in;
  assign rready_o = !tag_empty;
  assign beat_in = rready_o && rvalid_i;
  assign tag_pop = beat_in && rlast_i;
  assign is_mark = !end_empty && end_head == done_q;
  assign done_d = tag_pop ? done_q + 8'd1 : done_q;

  logic             bw_valid_q;
  logic [2:0]       bw_kind_q;
  logic [sq_gemm_pkg::WSlotW-1:0] bw_slot_q;
  logic [6:0]       bw_base_q;
  logic [RowIdxW-1:0] bw_row_q;
  logic [6:0]       bw_q_q;
  logic [5:0]       bw_off_q;
  logic [BeatW-1:0] bw_data_q;
  always_ff @(posedge clk_i) begin
    if (beat_in) begin
      bw_kind_q <= tag_head.kind;
      bw_slot_q <= tag_head.slot;
      bw_base_q <= tag_head.base;
      bw_row_q <= tag_head.row;
      bw_q_q <= tag_head.q + {1'b0, bq_q};
      bw_off_q <= tag_head.off;
      // rotated right by off bytes: byte u is beat byte (u + off) mod 64
      bw_data_q <= BeatW'({rdata_i, rdata_i} >> {tag_head.off, 3'b000});
    end
  end
  assign bw_valid_o = bw_valid_q;
  assign bw_kind_o = bw_kind_q;
  assign bw_base_o = bw_base_q;
  assign bw_row_o = bw_row_q;
  assign bw_q_o = bw_q_q;
  assign bw_off_o = bw_off_q;
  assign bw_data_o = bw_data_q;

  // A beat covers the lower part of parameter word q (bytes in lo_mask) and
  // the upper part of word q-1 (the rest), as in sq_gemm_rowbuf.
  logic [63:0] lo_mask, mw0, mw1;
  logic [BeatW-1:0] bm0, bm1;
  assign lo_mask = bw_off_q == 6'd0 ? {64{1'b1}} :
                   ((64'd1 << (7'd64 - {1'b0, bw_off_q})) - 64'd1);
  // byte masks of parameter words 0 and 1 written by this beat
  assign mw0 = bw_q_q == 7'd0 ? lo_mask : bw_q_q == 7'd1 ? ~lo_mask : 64'd0;
  assign mw1 = bw_q_q == 7'd1 ? lo_mask : bw_q_q == 7'd2 ? ~lo_mask : 64'd0;
  for (genvar b = 0; b < 64; b++) begin : g_bm
    assign bm0[8*b +: 8] = {8{mw0[b]}};
    assign bm1[8*b +: 8] = {8{mw1[b]}};
  end

  // Parameter registers need no reset: a job only reads the slot it loaded.
  always_ff @(posedge clk_i) begin
    if (bw_valid_q) begin
      for (int unsigned sl = 0; sl < (1 << sq_gemm_pkg::WSlotW); sl++) begin
        if (bw_slot_q == sq_gemm_pkg::WSlotW'(sl)) begin
          if (bw_kind_q == sq_gemm_pkg::KindBias) begin
            bias_q[BeatW*sl +: BeatW] <= (bias_q[BeatW*sl +: BeatW] & ~bm0) | (bw_data_q & bm0);
          end
          if (bw_kind_q == sq_gemm_pkg::KindQuant) begin
            quant_q[2*BeatW*sl +: 2*BeatW] <= (quant_q[2*BeatW*sl +: 2*BeatW] & ~{bm1, bm0}) |
                                              ({bw_data_q, bw_data_q} & {bm1, bm0});
          end
        end
      end
    end
  end

  always_comb begin
    bq_d = bq_q;
    ready_d = ready_q;
    if (beat_in) begin
      bq_d = rlast_i ? 6'd0 : bq_q + 6'd1;
    end
    if (is_mark && !(job_pop_i && ready_q != 4'd0)) begin
      ready_d = ready_q + 4'd1;
    end else if (!is_mark && job_pop_i && ready_q != 4'd0) begin
      ready_d = ready_q - 4'd1;
    end
  end

  assign bias_o = bias_q;
  assign quant_o = quant_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= Idle;
      m0_q <= '0;
      n0_q <= '0;
      k0_q <= '0;
      w_busy_q <= '0;
      a_busy_q <= '0;
      w_next_q <= '0;
      a_next_q <= '0;
      a_cur_q <= '0;
      job_q <= '0;
      phase_q <= sq_gemm_pkg::KindA;
      row_q <= '0;
      beat_q <= '0;
      rem_q <= '0;
      q_q <= '0;
      off_q <= '0;
      bq_q <= '0;
      ready_q <= '0;
      nb_q <= '0;
      done_q <= '0;
      bw_valid_q <= 1'b0;
    end else begin
      state_q <= state_d;
      m0_q <= m0_d;
      n0_q <= n0_d;
      k0_q <= k0_d;
      w_busy_q <= w_busy_d;
      a_busy_q <= a_busy_d;
      w_next_q <= w_next_d;
      a_next_q <= a_next_d;
      a_cur_q <= a_cur_d;
      job_q <= job_d;
      phase_q <= phase_d;
      row_q <= row_d;
      beat_q <= beat_d;
      rem_q <= rem_d;
      q_q <= q_d;
      off_q <= off_d;
      bq_q <= bq_d;
      ready_q <= ready_d;
      nb_q <= nb_d;
      done_q <= done_d;
      bw_valid_q <= beat_in;
    end
  end
endmodule
