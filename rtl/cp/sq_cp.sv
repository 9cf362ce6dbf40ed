// Command processor of sq_accel_top: runs one command stream over the unit
// cores in a single launch (docs/accelerator.md, "Command processor").
//
//   fetch     descriptors in stream order over the command processor's own
//             AXI4 port, one two-beat burst each, up to FetchDepth ahead
//   patch     the two position patches of the stream header, slot 0 then
//             slot 1, exactly as sq_desc_apply_patches (include/sparq/desc.h)
//   dispatch  in order: a unit descriptor goes to its unit's queue with the
//             per-unit completion counts its dependencies need; a NOP waits
//             here until its dependencies have completed (a fence); an
//             opcode without a unit, a bad patch or a dependency before the
//             stream stops the run (SqCpErr*): nothing after it is
//             dispatched, what was dispatched completes, then done
//   start     a unit starts the head of its queue once every unit has
//             completed as many descriptors as the head needs; each unit
//             runs its own in order, so units overlap where the stream lets
//             them
//   profile   per descriptor: dispatch, start and end cycle, the unit's stall
//             cycles and its port's bytes, written as a record to the
//             profile buffer (SQ_REG_PROF) over the command processor's port,
//             and summed into per-unit counters
//   prefetch  while a GEMM unit is idle and the head of its queue waits
//             for its dependencies, the head's constant operands are
//             fetched into that unit's prefetch buffer (sq_cp_prefetch)
//
// GEMM compute units (NGemm of them, spec.h SQ_GEMM_W_CU): unit 0 is slot 0,
// unit c >= 1 slot SqCpUnits + c - 1, each with its own queue, so the units
// of a group of GEMMs split across them run concurrently. A dependency on a
// GEMM descriptor waits for every GEMM descriptor up to it on every unit
// (the table keeps each GEMM unit's dispatch count after it), so one
// dependency on the last of a group waits for the whole group.
//
// Dependencies are resolved at dispatch into counts: descriptor j of unit u
// was that unit's n-th, so "j completed" is "unit u completed n + 1". The
// table of (unit, n) for the last 256 descriptors covers every distance a
// header can hold, and is written in stream order, so the entries a
// descriptor looks up are always its own stream's.
//
// Timing (the cycle model in host/runtime/cp_model.c follows it): a
// descriptor's two beats arrive, it is patched in two cycles and dispatched
// in the third at the earliest; a queue head whose needs are met raises
// cmd_valid from registered state, so a unit starts a dependent descriptor
// the cycle after the cmd_done it waited for.
module sq_cp #(
  parameter int unsigned NGemm = 1,
  parameter int unsigned NUnits = sq_spec_pkg::SqCpUnits + NGemm - 1,
  parameter logic [NUnits-1:0] Present = '1,
  parameter int unsigned FetchDepth = 4,
  parameter int unsigned QueueDepthLog2 = 1
) (
  input  logic                clk_i,
  input  logic                rst_ni,
  // run arguments (sq_ctrl and the top's registers)
  input  logic                start_i,
  input  logic [63:0]         cmd_addr_i,
  input  logic [31:0]         ncmd_i,
  input  logic [32*sq_spec_pkg::SqRunPos-1:0] pos_i,
  input  logic [63:0]         prof_i,
  input  logic [63:0]         mem_base_i,
  output logic                done_o,
  output logic [7:0]          status_o,
  output logic [31:0]         err_desc_o,
  // per-unit counters of the run: busy, stall, read and written bytes
  output logic [64*NUnits-1:0] busy_o,
  output logic [64*NUnits-1:0] stall_o,
  output logic [64*NUnits-1:0] rbytes_o,
  output logic [64*NUnits-1:0] wbytes_o,
  output logic [63:0]         cp_rbytes_o,
  output logic [63:0]         cp_wbytes_o,
  // units: command interface, and what their ports move
  output logic [NUnits-1:0]   cmd_valid_o,
  input  logic [NUnits-1:0]   cmd_ready_i,
  output logic [1024*NUnits-1:0] cmd_o,
  input  logic [NUnits-1:0]   cmd_done_i,
  input  logic [NUnits-1:0]   unit_stall_i,
  input  logic [NUnits-1:0]   unit_rbeat_i,   // a read beat taken on the unit's port
  input  logic [7*NUnits-1:0] unit_wbytes_i,  // strobed bytes of a write beat taken
  // GEMM prefetch, per GEMM unit: start for the head of its queue
  output logic [NGemm-1:0]    pf_start_o,
  output logic [1024*NGemm-1:0] pf_desc_o,
  // AXI4 master: descriptor reads, profile record writes
  output logic                arvalid_o,
  input  logic                arready_i,
  output logic [63:0]         araddr_o,
  output logic [7:0]          arlen_o,
  input  logic                rvalid_i,
  output logic                rready_o,
  input  logic [511:0]        rdata_i,
  input  logic                rlast_i,
  output logic                awvalid_o,
  input  logic                awready_i,
  output logic [63:0]         awaddr_o,
  output logic [7:0]          awlen_o,
  output logic                wvalid_o,
  input  logic                wready_i,
  output logic [511:0]        wdata_o,
  output logic [63:0]         wstrb_o,
  output logic                wlast_o,
  input  logic                bvalid_i,
  output logic                bready_o
);
  localparam int unsigned UW = $clog2(NUnits + 1);   // a unit slot, or NUnits for none
  localparam int unsigned FW = $clog2(FetchDepth + 1);
  localparam logic [UW-1:0] NoUnit = UW'(NUnits);
  // queue entry: descriptor, stream index, dispatch cycle, needs per unit
  localparam int unsigned QW = 1024 + 32 + 64 + 32 * NUnits;
  // profile record: opcode, index, dispatch, start, end, stall, rbytes, wbytes
  localparam int unsigned RW = 8 + 32 + 6 * 64;
  // a dispatch table entry: each GEMM unit's dispatch count, the unit, its count
  localparam int unsigned SW = 32 * NGemm + UW + 32;

  // the slot of GEMM unit c
  function automatic logic [UW-1:0] gslot(input int unsigned c);
    gslot = c == 0 ? UW'(0) : UW'(sq_spec_pkg::SqCpUnits + c - 1);
  endfunction

  // ---- run state ---------------------------------------------------------------------
  logic        running_q, running_d;
  logic [63:0] now_q, cmd_q, prof_q;
  logic [31:0] ncmd_q;
  logic [255:0] pos_q;
  logic [7:0]  status_q, status_d;
  logic [31:0] err_desc_q, err_desc_d;
  logic        stop;   // an error stopped fetching and dispatching
  assign stop = status_q != 8'(sq_spec_pkg::SqCpErrNone);
  assign status_o = status_q;
  assign err_desc_o = err_desc_q;

  // ---- fetch ---------------------------------------------------------------------------
  logic [31:0]  fidx_q, fidx_d;      // descriptors requested
  logic [FW-1:0] inflight_q, inflight_d;
  logic         beat_q, beat_d;
  logic [511:0] lo_q;
  logic         raw_push, raw_pop, raw_empty, raw_full;
  logic [FW-1:0] raw_cnt;
  logic [1023:0] raw_head;
  logic         ar_fire, r_fire;
  logic [63:0]  cp_rb_q, cp_wb_q;

  assign arvalid_o = running_q && !stop && fidx_q != ncmd_q &&
                     (FW + 1)'(inflight_q) + (FW + 1)'(raw_cnt) < (FW + 1)'(FetchDepth);
  assign araddr_o = mem_base_i + cmd_q + {25'd0, fidx_q, 7'd0};
  assign arlen_o = 8'd1;
  assign rready_o = 1'b1;
  assign ar_fire = arvalid_o && arready_i;
  assign r_fire = rvalid_i;
  // a stopped run still takes the beats it asked for, and drops them
  assign raw_push = r_fire && beat_q && !stop;

  sq_fifo #(.Width(1024), .DepthLog2($clog2(FetchDepth))) u_raw (
    .clk_i, .rst_ni, .push_i(raw_push), .wdata_i({rdata_i, lo_q}), .pop_i(raw_pop),
    .rdata_o(raw_head), .empty_o(raw_empty), .full_o(raw_full), .count_o(raw_cnt)
  );

  always_comb begin
    fidx_d = fidx_q + (ar_fire ? 32'd1 : 32'd0);
    inflight_d = inflight_q + (ar_fire ? FW'(1) : FW'(0)) - ((r_fire && beat_q) ? FW'(1) : FW'(0));
    beat_d = r_fire ? !beat_q : beat_q;
  end

  // ---- patch and dispatch ------------------------------------------------------------
  // PIdle takes the next descriptor and applies patch slot 0
  typedef enum logic [1:0] {PIdle, PPatch1, PDisp} pstate_e;
  pstate_e      ps_q, ps_d;
  logic [31:0]  pidx_q, pidx_d;     // descriptors dispatched (the next one's index)
  logic [1023:0] pdesc_q, pdesc_d;

  // sq_desc_apply_patches, one slot
  function automatic logic [1023:0] patch(input logic [1023:0] d, input logic [31:0] p,
                                          input logic [255:0] pos);
    logic [5:0]  w;
    logic [63:0] add, v;
    w = p[5:0];
    add = 64'(pos[32*p[10:8] +: 32]) * 64'(p[31:11]);
    patch = d;
    if (w != 6'd0) begin
      if (p[6]) begin
        v = {d[32*w + 32 +: 32], d[32*w +: 32]} + add;
        patch[32*w +: 64] = v;
      end else begin
        patch[32*w +: 32] = d[32*w +: 32] + add[31:0];
      end
    end
  endfunction

  // the runtime's header rule (sq_desc_check_header): a body word, wide ones two
  function automatic logic patch_ok(input logic [31:0] p);
    logic [6:0] last;
    last = {1'b0, p[5:0]} + (p[6] ? 7'd1 : 7'd0);
    patch_ok = p == 32'd0 ||
               (p[5:0] != 6'd0 && last < 7'(sq_spec_pkg::SqDescWPatch0) && !p[7]);
  endfunction

  // dispatch decode of pdesc_q
  logic [7:0]        op;
  logic [UW-1:0]     unit;        // NoUnit for a NOP
  logic              op_ok, deps_ok;
  logic [32*NUnits-1:0] need;
  logic [SW-1:0]     seqram [256]; // per stream index mod 256: {GEMM counts, unit, its count}
  logic [31:0]       cu;
  logic [31:0]       disp_cnt_q [NUnits];
  logic [31:0]       done_cnt_q [NUnits];
  assign op = pdesc_q[7:0];
  logic [7:0]     dep_dist [sq_spec_pkg::SqDescDeps];
  logic [31:0]    dep_j [sq_spec_pkg::SqDescDeps];
  logic [SW-1:0]  dep_e [sq_spec_pkg::SqDescDeps];
  always_comb begin
    unit = NoUnit;
    op_ok = op == 8'(sq_spec_pkg::SqOpNop);
    cu = pdesc_q[32 * sq_spec_pkg::SqGemmWCu +: 32];
    for (int unsigned u = 1; u < sq_spec_pkg::SqCpUnits; u++) begin
      if (op == 8'(u + 1) && Present[u]) begin
        unit = UW'(u);
        op_ok = 1'b1;
      end
    end
    for (int unsigned c = 0; c < NGemm; c++) begin
      if (op == 8'(sq_spec_pkg::SqOpGemm) && cu == c && Present[gslot(c)]) begin
        unit = gslot(c);
        op_ok = 1'b1;
      end
    end
    deps_ok = 1'b1;
    need = '0;
    for (int unsigned k = 0; k < sq_spec_pkg::SqDescDeps; k++) begin
      dep_dist[k] = pdesc_q[sq_spec_pkg::SqDescDepShift + 8*k +: 8];
      dep_j[k] = pidx_q - {24'd0, dep_dist[k]};
      dep_e[k] = seqram[dep_j[k][7:0]];
      if ({24'd0, dep_dist[k]} > pidx_q) begin
        deps_ok = 1'b0;
      end else if (dep_dist[k] != 8'd0 && dep_e[k][32 +: UW] != NoUnit) begin
        for (int unsigned u = 0; u < NUnits; u++) begin
          if (dep_e[k][32 +: UW] == UW'(u) && dep_e[k][31:0] + 32'd1 > need[32*u +: 32]) begin
            need[32*u +: 32] = dep_e[k][31:0] + 32'd1;
          end
        end
        // on a GEMM: every GEMM unit's descriptors dispatched up to it
        for (int unsigned c = 0; c < NGemm; c++) begin
          if (is_gemm(dep_e[k][32 +: UW]) &&
              dep_e[k][32 + UW + 32*c +: 32] > need[32*gslot(c) +: 32]) begin
            need[32*gslot(c) +: 32] = dep_e[k][32 + UW + 32*c +: 32];
          end
        end
      end
    end
  end

  function automatic logic is_gemm(input logic [UW-1:0] s);
    is_gemm = 1'b0;
    for (int unsigned c = 0; c < NGemm; c++) begin
      if (s == gslot(c)) begin
        is_gemm = 1'b1;
      end
    end
  endfunction

  function automatic logic needs_met(input logic [32*NUnits-1:0] n,
                                     input logic [32*NUnits-1:0] done);
    needs_met = 1'b1;
    for (int unsigned u = 0; u < NUnits; u++) begin
      if (done[32*u +: 32] < n[32*u +: 32]) begin
        needs_met = 1'b0;
      end
    end
  endfunction

  logic [32*NUnits-1:0] done_flat;
  always_comb begin
    for (int unsigned u = 0; u < NUnits; u++) begin
      done_flat[32*u +: 32] = done_cnt_q[u];
    end
  end

  // ---- unit queues -------------------------------------------------------------------
  logic [NUnits-1:0] q_push, q_pop, q_empty, q_full, q_met, accept;
  logic [QW-1:0]     q_head [NUnits];
  logic [QW-1:0]     q_in;
  assign q_in = {need, now_q, pidx_q, pdesc_q};

  // records pending per unit (two each), and whether a unit may start
  logic [NUnits-1:0] rec_push, rec_pop, rec_empty, rec_full;
  logic [RW-1:0]     rec_in [NUnits];
  logic [RW-1:0]     rec_head [NUnits];
  logic              prof_on;
  assign prof_on = prof_q != 64'd0;

  for (genvar u = 0; u < NUnits; u++) begin : g_unit
    if (Present[u]) begin : g_on
      logic [QueueDepthLog2:0] q_cnt;
      logic [1:0] r_cnt;
      sq_fifo #(.Width(QW), .DepthLog2(QueueDepthLog2)) u_q (
        .clk_i, .rst_ni, .push_i(q_push[u]), .wdata_i(q_in), .pop_i(q_pop[u]),
        .rdata_o(q_head[u]), .empty_o(q_empty[u]), .full_o(q_full[u]), .count_o(q_cnt)
      );
      sq_fifo #(.Width(RW), .DepthLog2(1)) u_rec (
        .clk_i, .rst_ni, .push_i(rec_push[u]), .wdata_i(rec_in[u]), .pop_i(rec_pop[u]),
        .rdata_o(rec_head[u]), .empty_o(rec_empty[u]), .full_o(rec_full[u]), .count_o(r_cnt)
      );
    end else begin : g_off
      assign q_head[u] = '0;
      assign q_empty[u] = 1'b1;
      assign q_full[u] = 1'b1;
      assign rec_head[u] = '0;
      assign rec_empty[u] = 1'b1;
      assign rec_full[u] = 1'b1;
    end
    assign q_met[u] = !q_empty[u] && needs_met(q_head[u][1024 + 32 + 64 +: 32 * NUnits], done_flat);
    // a unit starts only when its finished descriptor's record has room
    assign cmd_valid_o[u] = running_q && q_met[u] && !(prof_on && rec_full[u]);
    assign cmd_o[1024*u +: 1024] = q_head[u][1023:0];
    assign accept[u] = cmd_valid_o[u] && cmd_ready_i[u];
    assign q_pop[u] = accept[u];
  end

  // ---- processor FSM -----------------------------------------------------------------
  always_comb begin
    ps_d = ps_q;
    pidx_d = pidx_q;
    pdesc_d = pdesc_q;
    status_d = status_q;
    err_desc_d = err_desc_q;
    raw_pop = 1'b0;
    q_push = '0;
    unique case (ps_q)
      PIdle: begin
        if (stop) begin
          raw_pop = !raw_empty;   // a stopped run drops what it fetched
        end else if (running_q && pidx_q != ncmd_q && !raw_empty) begin
          raw_pop = 1'b1;
          pdesc_d = patch(raw_head, raw_head[32 * sq_spec_pkg::SqDescWPatch0 +: 32], pos_q);
          if (!patch_ok(raw_head[32 * sq_spec_pkg::SqDescWPatch0 +: 32])) begin
            status_d = 8'(sq_spec_pkg::SqCpErrPatch);
            err_desc_d = pidx_q;
          end else begin
            ps_d = PPatch1;
          end
        end
      end
      PPatch1: begin
        pdesc_d = patch(pdesc_q, pdesc_q[32 * (sq_spec_pkg::SqDescWPatch0 + 1) +: 32], pos_q);
        if (!patch_ok(pdesc_q[32 * (sq_spec_pkg::SqDescWPatch0 + 1) +: 32])) begin
          status_d = 8'(sq_spec_pkg::SqCpErrPatch);
          err_desc_d = pidx_q;
          ps_d = PIdle;
        end else begin
          ps_d = PDisp;
        end
      end
      PDisp: begin
        if (!op_ok || !deps_ok) begin
          status_d = 8'(!op_ok ? sq_spec_pkg::SqCpErrUnit : sq_spec_pkg::SqCpErrDep);
          err_desc_d = pidx_q;
          ps_d = PIdle;
        end else if (unit == NoUnit) begin
          if (needs_met(need, done_flat)) begin
            pidx_d = pidx_q + 32'd1;
            ps_d = PIdle;
          end
        end else if (!q_full[unit]) begin
          q_push[unit] = 1'b1;
          pidx_d = pidx_q + 32'd1;
          ps_d = PIdle;
        end
      end
      default: ps_d = PIdle;
    endcase
  end

  logic [32*NGemm-1:0] gsnap;   // each GEMM unit's dispatch count after this one
  always_comb begin
    for (int unsigned c = 0; c < NGemm; c++) begin
      gsnap[32*c +: 32] = disp_cnt_q[gslot(c)] + ((unit == gslot(c)) ? 32'd1 : 32'd0);
    end
  end
  always_ff @(posedge clk_i) begin
    if (ps_q == PDisp && op_ok && deps_ok &&
        (unit == NoUnit ? needs_met(need, done_flat) : !q_full[unit])) begin
      seqram[pidx_q[7:0]] <= {gsnap, unit, unit == NoUnit ? 32'd0 : disp_cnt_q[unit]};
    end
  end

  // ---- per-unit accounting and records -----------------------------------------------
  logic [NUnits-1:0] busy_q;
  logic [31:0] cur_idx_q [NUnits];
  logic [7:0]  cur_op_q [NUnits];
  logic [63:0] cur_disp_q [NUnits], cur_start_q [NUnits], st_acc_q [NUnits],
               rb_acc_q [NUnits], wb_acc_q [NUnits];
  logic [63:0] busy_tot_q [NUnits], stall_tot_q [NUnits], rb_tot_q [NUnits], wb_tot_q [NUnits];
  logic [63:0] rec_start [NUnits], rec_disp [NUnits], rec_stall [NUnits], rec_rb [NUnits],
               rec_wb [NUnits];
  logic [31:0] rec_idx [NUnits];
  logic [7:0]  rec_op [NUnits];

  for (genvar u = 0; u < NUnits; u++) begin : g_acct
    // the fields of the descriptor finishing this cycle (it may be the one
    // accepted this cycle: a core may refuse a malformed command at once)
    assign rec_idx[u] = accept[u] ? q_head[u][1024 +: 32] : cur_idx_q[u];
    assign rec_op[u] = accept[u] ? q_head[u][7:0] : cur_op_q[u];
    assign rec_disp[u] = accept[u] ? q_head[u][1056 +: 64] : cur_disp_q[u];
    assign rec_start[u] = accept[u] ? now_q : cur_start_q[u];
    assign rec_stall[u] = (accept[u] ? 64'd0 : st_acc_q[u]) +
                          ((busy_q[u] && unit_stall_i[u]) ? 64'd1 : 64'd0);
    assign rec_rb[u] = rb_acc_q[u] + (unit_rbeat_i[u] ? 64'd64 : 64'd0);
    assign rec_wb[u] = wb_acc_q[u] + 64'(unit_wbytes_i[7*u +: 7]);
    assign rec_in[u] = {rec_wb[u], rec_rb[u], rec_stall[u], now_q, rec_start[u], rec_disp[u],
                        rec_idx[u], rec_op[u]};
    assign rec_push[u] = cmd_done_i[u] && prof_on;
    assign busy_o[64*u +: 64] = busy_tot_q[u];
    assign stall_o[64*u +: 64] = stall_tot_q[u];
    assign rbytes_o[64*u +: 64] = rb_tot_q[u];
    assign wbytes_o[64*u +: 64] = wb_tot_q[u];

    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        busy_q[u] <= 1'b0;
        cur_idx_q[u] <= 32'd0;
        cur_op_q[u] <= 8'd0;
        cur_disp_q[u] <= 64'd0;
        cur_start_q[u] <= 64'd0;
        st_acc_q[u] <= 64'd0;
        rb_acc_q[u] <= 64'd0;
        wb_acc_q[u] <= 64'd0;
        busy_tot_q[u] <= 64'd0;
        stall_tot_q[u] <= 64'd0;
        rb_tot_q[u] <= 64'd0;
        wb_tot_q[u] <= 64'd0;
        done_cnt_q[u] <= 32'd0;
        disp_cnt_q[u] <= 32'd0;
      end else if (start_i) begin
        busy_q[u] <= 1'b0;
        st_acc_q[u] <= 64'd0;
        rb_acc_q[u] <= 64'd0;
        wb_acc_q[u] <= 64'd0;
        busy_tot_q[u] <= 64'd0;
        stall_tot_q[u] <= 64'd0;
        rb_tot_q[u] <= 64'd0;
        wb_tot_q[u] <= 64'd0;
        done_cnt_q[u] <= 32'd0;
        disp_cnt_q[u] <= 32'd0;
      end else begin
        if (accept[u]) begin
          cur_idx_q[u] <= q_head[u][1024 +: 32];
          cur_op_q[u] <= q_head[u][7:0];
          cur_disp_q[u] <= q_head[u][1056 +: 64];
          cur_start_q[u] <= now_q;
        end
        if (q_push[u]) begin
          disp_cnt_q[u] <= disp_cnt_q[u] + 32'd1;
        end
        if (cmd_done_i[u]) begin
          busy_q[u] <= 1'b0;
          st_acc_q[u] <= 64'd0;
          rb_acc_q[u] <= 64'd0;
          wb_acc_q[u] <= 64'd0;
          busy_tot_q[u] <= busy_tot_q[u] + (now_q - rec_start[u] + 64'd1);
          stall_tot_q[u] <= stall_tot_q[u] + rec_stall[u];
          rb_tot_q[u] <= rb_tot_q[u] + rec_rb[u];
          wb_tot_q[u] <= wb_tot_q[u] + rec_wb[u];
          done_cnt_q[u] <= done_cnt_q[u] + 32'd1;
        end else begin
          if (accept[u]) begin
            busy_q[u] <= 1'b1;
          end
          st_acc_q[u] <= rec_stall[u];
          rb_acc_q[u] <= rec_rb[u];
          wb_acc_q[u] <= rec_wb[u];
        end
      end
    end
  end

  // ---- GEMM prefetch: the head of each GEMM unit's queue, while that unit idles -------
  logic [31:0] pf_for_q [NGemm];   // stream index + 1 of the descriptor last prefetched for
  for (genvar c = 0; c < NGemm; c++) begin : g_pf
    localparam int unsigned S = c == 0 ? 0 : sq_spec_pkg::SqCpUnits + c - 1;
    if (Present[S]) begin : g_on
      assign pf_start_o[c] = running_q && !q_empty[S] && !q_met[S] && cmd_ready_i[S] &&
                             pf_for_q[c] != q_head[S][1024 +: 32] + 32'd1;
    end else begin : g_off
      assign pf_start_o[c] = 1'b0;
    end
    assign pf_desc_o[1024*c +: 1024] = q_head[S][1023:0];
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        pf_for_q[c] <= 32'd0;
      end else if (start_i) begin
        pf_for_q[c] <= 32'd0;
      end else if (pf_start_o[c]) begin
        pf_for_q[c] <= q_head[S][1024 +: 32] + 32'd1;
      end
    end
  end

  // ---- record writer -----------------------------------------------------------------
  typedef enum logic [1:0] {WIdle, WAddr, WData} wstate_e;
  wstate_e     ws_q, ws_d;
  logic [UW-1:0] wu_q, wu_d;          // unit whose record is being written
  logic [RW-1:0] wrec;
  logic [15:0]   outstanding_q, outstanding_d;
  logic [UW-1:0] pick;
  always_comb begin
    pick = NoUnit;
    for (int unsigned u = 0; u < NUnits; u++) begin
      if (!rec_empty[u] && pick == NoUnit) begin
        pick = UW'(u);
      end
    end
  end
  assign wrec = rec_head[wu_q];
  assign awvalid_o = ws_q == WAddr;
  assign awaddr_o = mem_base_i + prof_q + {26'd0, wrec[8 +: 32], 6'd0};
  assign awlen_o = 8'd0;
  assign wvalid_o = ws_q == WData;
  assign wlast_o = 1'b1;
  assign wstrb_o = '1;
  assign bready_o = 1'b1;
  always_comb begin
    wdata_o = '0;
    wdata_o[32 * sq_spec_pkg::SqProfWOpcode +: 8] = wrec[7:0];
    wdata_o[32 * sq_spec_pkg::SqProfWDispatch +: 64] = wrec[40 +: 64];
    wdata_o[32 * sq_spec_pkg::SqProfWStart +: 64] = wrec[104 +: 64];
    wdata_o[32 * sq_spec_pkg::SqProfWEnd +: 64] = wrec[168 +: 64];
    wdata_o[32 * sq_spec_pkg::SqProfWStall +: 64] = wrec[232 +: 64];
    wdata_o[32 * sq_spec_pkg::SqProfWRbytes +: 64] = wrec[296 +: 64];
    wdata_o[32 * sq_spec_pkg::SqProfWWbytes +: 64] = wrec[360 +: 64];
  end
  always_comb begin
    ws_d = ws_q;
    wu_d = wu_q;
    rec_pop = '0;
    unique case (ws_q)
      WIdle: begin
        if (pick != NoUnit) begin
          wu_d = pick;
          ws_d = WAddr;
        end
      end
      WAddr: begin
        if (awready_i) begin
          ws_d = WData;
        end
      end
      WData: begin
        if (wready_i) begin
          rec_pop[wu_q] = 1'b1;
          ws_d = WIdle;
        end
      end
      default: ws_d = WIdle;
    endcase
    outstanding_d = outstanding_q + ((ws_q == WAddr && awready_i) ? 16'd1 : 16'd0) -
                    (bvalid_i ? 16'd1 : 16'd0);
  end

  // ---- end of the run ----------------------------------------------------------------
  logic quiet;
  always_comb begin
    quiet = (pidx_q == ncmd_q || stop) && ps_q == PIdle && inflight_q == '0 && raw_empty &&
            busy_q == '0 && ws_q == WIdle && outstanding_q == 16'd0;
    for (int unsigned u = 0; u < NUnits; u++) begin
      if (!q_empty[u] || !rec_empty[u]) begin
        quiet = 1'b0;
      end
    end
  end
  assign done_o = running_q && quiet;
  assign running_d = start_i ? 1'b1 : done_o ? 1'b0 : running_q;
  assign cp_rbytes_o = cp_rb_q;
  assign cp_wbytes_o = cp_wb_q;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      running_q <= 1'b0;
      now_q <= 64'd0;
      cmd_q <= 64'd0;
      prof_q <= 64'd0;
      ncmd_q <= 32'd0;
      pos_q <= '0;
      status_q <= 8'd0;
      err_desc_q <= 32'd0;
      fidx_q <= 32'd0;
      inflight_q <= '0;
      beat_q <= 1'b0;
      ps_q <= PIdle;
      pidx_q <= 32'd0;
      ws_q <= WIdle;
      wu_q <= '0;
      outstanding_q <= 16'd0;
      cp_rb_q <= 64'd0;
      cp_wb_q <= 64'd0;
    end else if (start_i) begin
      running_q <= 1'b1;
      now_q <= 64'd0;
      cmd_q <= cmd_addr_i;
      prof_q <= prof_i;
      ncmd_q <= ncmd_i;
      pos_q <= pos_i;
      status_q <= 8'd0;
      err_desc_q <= 32'd0;
      fidx_q <= 32'd0;
      inflight_q <= '0;
      beat_q <= 1'b0;
      ps_q <= PIdle;
      pidx_q <= 32'd0;
      ws_q <= WIdle;
      outstanding_q <= 16'd0;
      cp_rb_q <= 64'd0;
      cp_wb_q <= 64'd0;
    end else begin
      running_q <= running_d;
      now_q <= now_q + 64'd1;
      status_q <= status_d;
      err_desc_q <= err_desc_d;
      fidx_q <= fidx_d;
      inflight_q <= inflight_d;
      beat_q <= beat_d;
      ps_q <= ps_d;
      pidx_q <= pidx_d;
      ws_q <= ws_d;
      wu_q <= wu_d;
      outstanding_q <= outstanding_d;
      cp_rb_q <= cp_rb_q + (r_fire ? 64'd64 : 64'd0);
      cp_wb_q <= cp_wb_q + ((wvalid_o && wready_i) ? 64'd64 : 64'd0);
    end
  end

  // datapath registers, written before they are read
  always_ff @(posedge clk_i) begin
    if (r_fire && !beat_q) begin
      lo_q <= rdata_i;
    end
    pdesc_q <= pdesc_d;
  end
endmodule
