// The GEMM unit's datapath (sq_gemm_array of sq_gemm_pe, one sq_gemm_epi)
// behind a sequencer sized for an iCE40 UP5K: operands, descriptor and
// results live in a byte-addressed on-chip memory instead of behind a 512-bit
// AXI4 master. It runs one GEMM descriptor of include/sparq/spec.h (dense
// int8 weights; BIAS, RELU and OUT32; addresses are offsets into the
// memory) and gives the same bits as sq_gemm_ref.
//
// One byte moves per two cycles (address, then data), so a step of the array
// (two K positions of R rows of A and C rows of W) is gathered in 4(R+C)
// cycles and then issued in one; the array drains a finished R x C tile into
// an accumulator buffer, and the one epilogue requantizes it column by column
// (the UP5K's eight SB_MAC16s hold the PEs' multipliers; the epilogue's 32x32
// product is built in logic, so it is not replicated per column).
module sq_ice40_gemm
#(
  parameter int unsigned R = sq_ice40_pkg::R,
  parameter int unsigned C = sq_ice40_pkg::C,
  parameter int unsigned AW = sq_ice40_pkg::MemAddrW,
  // R and C: powers of two, at least 2
  localparam int unsigned RW = $clog2(R),
  localparam int unsigned CW = $clog2(C),
  localparam int unsigned WB = sq_gemm_pkg::WbusW
) (
  input  logic          clk_i,
  input  logic          rst_ni,
  input  logic          start_i,
  input  logic [AW-1:0] desc_i,
  output logic          done_o,      // one cycle, with status_o and cycles_o
  output logic [7:0]    status_o,
  output logic [31:0]   cycles_o,
  // memory: mem_rdata_i is the byte at the previous cycle's mem_addr_o
  output logic [AW-1:0] mem_addr_o,
  output logic          mem_we_o,
  output logic [7:0]    mem_wdata_o,
  input  logic [7:0]    mem_rdata_i
);
  typedef enum logic [3:0] {
    Idle, DescRd, DescCap, Check, GatherRd, GatherCap, Issue, Drain,
    ParRd, ParCap, EpiGo, EpiWait, Write, Next
  } state_e;
  localparam int unsigned NG = 2 * (R + C);  // bytes gathered per step
  localparam int unsigned GW = $clog2(NG);

  state_e        state_q;
  logic [6:0]    bidx_q;                      // descriptor byte
  logic [7:0]    status_q;
  logic [31:0]   cycles_q;
  // what the descriptor's bytes broke, by the rule (Err*); judged in Check
  logic [4:0]    err_q;
  logic          relu_q, out32_q, bias_en_q;
  logic [15:0]   m_q, n_q, k_q;
  logic [AW-1:0] desc_q, a_q, w_q, bias_q, quant_q, c_q;
  logic [16:0]   m0_q, n0_q, kk_q;
  logic [AW-1:0] a_tile_q, w_tile_q, c_tile_q, ptr_q;
  logic [GW-1:0] e_q;
  logic [15:0]   a_st_q [R];
  logic [15:0]   w_st_q [C];
  logic [31:0]   acc_q [R*C];
  logic          drained_q;
  logic [CW:0]   jj_q;
  logic [RW:0]   ii_q;
  logic [3:0]    pb_q;                        // parameter byte 0..11
  logic [31:0]   bias_v_q, mult_v_q;
  logic [5:0]    shift_v_q;
  logic [31:0]   val_q;
  logic [1:0]    wb_q;

  // ---- descriptor fields by byte --------------------------------------------
  logic [4:0] dword;
  logic [1:0] dbyte;
  assign dword = bidx_q[6:2];
  assign dbyte = bidx_q[1:0];
  // an address byte with bits past AW set (the high word, or the low word's
  // upper bytes)
  logic addr_bad;
  assign addr_bad = dword[0] || dbyte[1] ? mem_rdata_i != 8'd0 :
                    dbyte[0] && (mem_rdata_i >> (AW - 8)) != 8'd0;

  localparam int unsigned ErrOp = 0, ErrFlags = 1, ErrDim = 2, ErrBias = 3, ErrQuant = 4;
  logic [7:0] check_status;
  assign check_status =
      err_q[ErrOp] ? sq_ice40_pkg::StOpcode :
      err_q[ErrFlags] ? sq_ice40_pkg::StFlags :
      err_q[ErrDim] || m_q == '0 || n_q == '0 || k_q == '0 || (bias_en_q && err_q[ErrBias]) ||
      (!out32_q && err_q[ErrQuant]) ? sq_ice40_pkg::StRange : sq_ice40_pkg::StOk;

  // ---- gather position ----------------------------------------------------------
  logic          g_is_a, g_odd, g_live;
  logic [GW-1:0] g_w;                         // index among the W bytes
  logic [16:0]   g_row;
  assign g_is_a = e_q < GW'(2 * R);
  assign g_odd = e_q[0];
  assign g_w = e_q - GW'(2 * R);
  assign g_row = g_is_a ? m0_q + 17'(e_q[GW-1:1]) : n0_q + 17'(g_w[GW-1:1]);
  assign g_live = g_row < (g_is_a ? {1'b0, m_q} : {1'b0, n_q}) &&
                  kk_q + 17'(g_odd) < {1'b0, k_q};

  // ---- array ------------------------------------------------------------------
  logic [32*R-1:0] arr_a;
  logic [WB*C-1:0] arr_w;
  logic            issue;
  logic            step_first, step_last;
  logic [C-1:0]    lane_valid;
  logic [RW*C-1:0] lane_row;
  logic [32*C-1:0] lane_acc;
  sq_gemm_pkg::tile_t last_tile;
  assign issue = state_q == Issue;
  assign step_first = kk_q == '0;
  assign step_last = kk_q + 17'd2 >= {1'b0, k_q};
  for (genvar i = 0; i < R; i++) begin : g_arow
    assign arr_a[32*i +: 32] = {16'd0, a_st_q[i]};
  end
  for (genvar j = 0; j < C; j++) begin : g_wcol
    // wbus_t: sv and group scales (zeros: no GEMV here), valid, first,
    // last, nib (no GEMV), code (dense: positions 0 and 1), w1, w0
    assign arr_w[WB*j +: WB] = {21'd0, issue, step_first, step_last, 1'b0, 4'b0100, w_st_q[j]};
  end
  sq_gemm_array #(.R(R), .C(C), .Gs(1'b0)) u_array (
    .clk_i, .rst_ni, .a_i(arr_a), .g_i('0), .w_i(arr_w), .tile_i('0),
    .lane_valid_o(lane_valid), .lane_row_o(lane_row), .lane_acc_o(lane_acc),
    .last_tile_o(last_tile)
  );

  // ---- epilogue -----------------------------------------------------------------
  logic        epi_valid;
  logic [31:0] epi_val;
  sq_gemm_epi u_epi (
    .clk_i, .rst_ni,
    .bias_en_i(bias_en_q), .out32_i(out32_q), .relu_i(relu_q),
    .valid_i(state_q == EpiGo), .row0_i(1'b1),
    .acc_i(acc_q[{ii_q[RW-1:0], jj_q[CW-1:0]}]), .bias_i(bias_v_q), .mult_i(mult_v_q),
    .shift_i({26'd0, shift_v_q}), .valid_o(epi_valid), .val_o(epi_val)
  );

  // ---- memory port ------------------------------------------------------------
  logic [AW-1:0] col;  // output column n0 + jj
  assign col = AW'(n0_q) + AW'(jj_q);
  always_comb begin
    mem_addr_o = ptr_q;
    mem_we_o = 1'b0;
    mem_wdata_o = val_q[8*wb_q +: 8];
    unique case (state_q)
      DescRd: mem_addr_o = desc_q + AW'(bidx_q);
      GatherRd: mem_addr_o = ptr_q + AW'(g_odd);
      ParRd: mem_addr_o = pb_q < 4'd4 ? bias_q + (col << 2) + AW'(pb_q) :
                          quant_q + (col << 3) + AW'(4'(pb_q - 4'd4));
      Write: begin
        mem_addr_o = ptr_q + AW'(wb_q);
        mem_we_o = 1'b1;
      end
      default: ;
    endcase
  end

  logic [AW-1:0] esz_n;  // bytes of one output row
  assign esz_n = out32_q ? AW'(n_q) << 2 : AW'(n_q);

  always_ff @(posedge clk_i) begin
    // the accumulator buffer: each column's drained sums by row
    for (int unsigned j = 0; j < C; j++) begin
      if (lane_valid[j]) begin
        acc_q[{lane_row[RW*j +: RW], CW'(j)}] <= lane_acc[32*j +: 32];
      end
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= Idle;
      bidx_q <= '0;
      status_q <= '0;
      cycles_q <= '0;
      err_q <= '0;
      relu_q <= '0;
      out32_q <= '0;
      bias_en_q <= '0;
      m_q <= '0;
      n_q <= '0;
      k_q <= '0;
      desc_q <= '0;
      a_q <= '0;
      w_q <= '0;
      bias_q <= '0;
      quant_q <= '0;
      c_q <= '0;
      m0_q <= '0;
      n0_q <= '0;
      kk_q <= '0;
      a_tile_q <= '0;
      w_tile_q <= '0;
      c_tile_q <= '0;
      ptr_q <= '0;
      e_q <= '0;
      for (int unsigned i = 0; i < R; i++) a_st_q[i] <= '0;
      for (int unsigned j = 0; j < C; j++) w_st_q[j] <= '0;
      drained_q <= 1'b0;
      jj_q <= '0;
      ii_q <= '0;
      pb_q <= '0;
      bias_v_q <= '0;
      mult_v_q <= '0;
      val_q <= '0;
      shift_v_q <= '0;
      wb_q <= '0;
    end else begin
      if (state_q != Idle) cycles_q <= cycles_q + 32'd1;
      if (lane_valid[C-1] && lane_row[RW*(C-1) +: RW] == RW'(R - 1)) drained_q <= 1'b1;
      unique case (state_q)
        Idle: if (start_i) begin
          desc_q <= desc_i;
          bidx_q <= '0;
          cycles_q <= '0;
          err_q <= '0;
          state_q <= DescRd;
        end
        DescRd: state_q <= DescCap;
        DescCap: begin
          // words 0 opcode, 1 flags, 2-4 M N K, 6/8/12/14/16 A W bias quant C (low
          // halves; the high halves must be 0); the rest is not used here
          unique case (dword)
            5'd0: if (dbyte == 2'd0 && mem_rdata_i != 8'(sq_spec_pkg::SqOpGemm)) err_q[ErrOp] <= 1'b1;
            5'd1: begin
              if (dbyte == 2'd0) begin
                relu_q <= mem_rdata_i[2];
                out32_q <= mem_rdata_i[3];
                bias_en_q <= mem_rdata_i[4];
              end
              if ((dbyte == 2'd0 && (mem_rdata_i & ~8'h1C) != 8'd0) ||
                  (dbyte != 2'd0 && mem_rdata_i != 8'd0)) err_q[ErrFlags] <= 1'b1;
            end
            5'd2, 5'd3, 5'd4: begin
              if (dbyte[1]) begin
                if (mem_rdata_i != 8'd0) err_q[ErrDim] <= 1'b1;
              end else begin
                unique case (dword)
                  5'd2: m_q[8*dbyte[0] +: 8] <= mem_rdata_i;
                  5'd3: n_q[8*dbyte[0] +: 8] <= mem_rdata_i;
                  default: k_q[8*dbyte[0] +: 8] <= mem_rdata_i;
                endcase
              end
            end
            5'd6, 5'd7, 5'd8, 5'd9, 5'd12, 5'd13, 5'd14, 5'd15, 5'd16, 5'd17: begin
              if (!dword[0] && !dbyte[1]) begin
                unique case (dword)
                  5'd6: a_q[8*dbyte[0] +: 8] <= mem_rdata_i;
                  5'd8: w_q[8*dbyte[0] +: 8] <= mem_rdata_i;
                  5'd12: bias_q[8*dbyte[0] +: 8] <= mem_rdata_i;
                  5'd14: quant_q[8*dbyte[0] +: 8] <= mem_rdata_i;
                  default: c_q[8*dbyte[0] +: 8] <= mem_rdata_i;
                endcase
              end
              if (addr_bad) begin
                // bias and quant are only read when the flags use them
                if (dword == 5'd12 || dword == 5'd13) err_q[ErrBias] <= 1'b1;
                else if (dword == 5'd14 || dword == 5'd15) err_q[ErrQuant] <= 1'b1;
                else err_q[ErrDim] <= 1'b1;
              end
            end
            default: ;
          endcase
          bidx_q <= bidx_q + 7'd1;
          state_q <= bidx_q == 7'd71 ? Check : DescRd;
        end
        Check: begin
          status_q <= check_status;
          m0_q <= '0;
          n0_q <= '0;
          kk_q <= '0;
          e_q <= '0;
          a_tile_q <= a_q;
          w_tile_q <= w_q;
          c_tile_q <= c_q;
          ptr_q <= a_q;
          state_q <= GatherRd;
          if (check_status != sq_ice40_pkg::StOk) state_q <= Idle;
        end
        GatherRd: state_q <= GatherCap;
        GatherCap: begin
          if (g_is_a) begin
            a_st_q[RW'(e_q >> 1)][8*g_odd +: 8] <= g_live ? mem_rdata_i : 8'd0;
          end else begin
            w_st_q[CW'(g_w >> 1)][8*g_odd +: 8] <= g_live ? mem_rdata_i : 8'd0;
          end
          e_q <= e_q + 1'b1;
          state_q <= GatherRd;
          if (g_odd) begin
            // next row of A or W at the same K position
            ptr_q <= e_q == GW'(2 * R - 1) ? w_tile_q + AW'(kk_q) : ptr_q + AW'(k_q);
          end
          if (e_q == GW'(NG - 1)) state_q <= Issue;
        end
        Issue: begin
          e_q <= '0;
          kk_q <= kk_q + 17'd2;
          ptr_q <= a_tile_q + AW'(kk_q) + AW'(2);
          state_q <= GatherRd;
          if (step_last) begin
            drained_q <= 1'b0;
            state_q <= Drain;
          end
        end
        Drain: if (drained_q) begin
          jj_q <= '0;
          pb_q <= '0;
          state_q <= ParRd;
        end
        ParRd: state_q <= ParCap;
        ParCap: begin
          unique case (pb_q[3:2])
            2'd0: bias_v_q[8*pb_q[1:0] +: 8] <= mem_rdata_i;
            2'd1: mult_v_q[8*pb_q[1:0] +: 8] <= mem_rdata_i;
            default: if (pb_q == 4'd8) shift_v_q <= mem_rdata_i[5:0];
          endcase
          pb_q <= pb_q + 4'd1;
          state_q <= ParRd;
          if (pb_q == 4'd11) begin
            ii_q <= '0;
            ptr_q <= c_tile_q + (out32_q ? col << 2 : col);
            state_q <= EpiGo;
          end
        end
        EpiGo: state_q <= EpiWait;
        EpiWait: if (epi_valid) begin
          val_q <= epi_val;
          wb_q <= '0;
          state_q <= Write;
        end
        Write: begin
          wb_q <= wb_q + 2'd1;
          if (!out32_q || wb_q == 2'd3) begin
            // next row of this column, else the next column, else the next tile
            ptr_q <= ptr_q + esz_n;
            ii_q <= ii_q + 1'b1;
            state_q <= EpiGo;
            if (ii_q == (RW + 1)'(R - 1) || m0_q + 17'(ii_q) + 17'd1 >= {1'b0, m_q}) begin
              jj_q <= jj_q + 1'b1;
              pb_q <= '0;
              state_q <= ParRd;
              if (jj_q == (CW + 1)'(C - 1) || n0_q + 17'(jj_q) + 17'd1 >= {1'b0, n_q}) begin
                state_q <= Next;
              end
            end
          end
        end
        Next: begin
          kk_q <= '0;
          e_q <= '0;
          state_q <= GatherRd;
          if (n0_q + 17'(C) >= {1'b0, n_q}) begin
            n0_q <= '0;
            m0_q <= m0_q + 17'(R);
            w_tile_q <= w_q;
            a_tile_q <= a_tile_q + (AW'(k_q) << RW);
            c_tile_q <= c_tile_q + (esz_n << RW);
            ptr_q <= a_tile_q + (AW'(k_q) << RW);
            if (m0_q + 17'(R) >= {1'b0, m_q}) state_q <= Idle;
          end else begin
            n0_q <= n0_q + 17'(C);
            w_tile_q <= w_tile_q + (AW'(k_q) << CW);
            ptr_q <= a_tile_q;
          end
        end
        default: state_q <= Idle;
      endcase
    end
  end

  // done: the cycle the engine returns to Idle from a run
  logic busy_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) busy_q <= 1'b0;
    else busy_q <= state_q != Idle;
  end
  assign done_o = busy_q && state_q == Idle;
  assign status_o = status_q;
  assign cycles_o = cycles_q;
endmodule
