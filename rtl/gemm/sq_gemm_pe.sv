// Two output-stationary PEs of one column, array rows 2p (top) and 2p+1
// (bottom): per row two int8 multiplies a cycle into one int32 accumulator
// (wrapping, as sq_mac). The 2:4 position code selects which two of the four
// streamed activations meet the two weights, so a 2:4 step covers four K
// positions in the cycle a dense step covers two. Activations move right,
// weights and control move down, one row per cycle. On the tile's last step
// the finished sums are copied to res_o, where the drain reads them while the
// accumulators already start the next tile. Only valid steps load the
// registers (a_o and w_o's payload are only read with a valid w_o), so an
// idle PE does not toggle. In int4 GEMV mode (w.nib) the four streamed bytes
// are eight int4 weights: w0 meets the low nibble of byte code[1:0], w1 the
// high nibble of byte code[3:2], so four columns cover a step's eight K
// positions. In 2:4 GEMV mode (w.sv) the four bytes are the kept values of
// two 2:4 groups (8 K positions) and the row's codes ride g_i: w0 and w1 are
// two of the 8 activations and meet the kept value at their position or 0,
// so four columns again cover the step (the codes need the g path: an array
// built with Gs = 0, the iCE40 one, has no GEMV modes).
//
// DSP packing (AMD WP486; docs/gemm_rtl.md "DSP packing"): the weight bus
// moves down the column unchanged, so both rows multiply the same w0 (and
// w1) in every mode, by different row streams. One multiply
// ((xt <<< 16) + xb) * w0 gives both rows' products, xt * w0 and xb * w0;
// two such multiplies (w0, w1) do the pair's four MACs, one DSP48E2 each
// (pre-adder, 25 x 8). The bottom row sees step t one cycle after the top
// row, so the pair computes at the bottom row's cycle, with the top row's
// activations from its output register (at_q, already there for the next
// column). Pipeline, for step t at the bottom row in cycle c:
//   c    byte and nibble select        -> operand registers (DSP A, D, B)
//   c+1  pre-add and multiply          -> M register
//   c+2                                -> P register
//   c+3  lanes, accumulate (and scale) -> accumulators, res_o
// so results are SqGemmPeLat (sq_gemm_pkg) cycles later than a PE that
// multiplied and accumulated in one cycle, and no multiply is followed by an
// add in its cycle. Lanes of P = xt*w*2^16 + xb*w: |xb*w| <= 2^14 < 2^15, so
// the bottom product is P[15:0] sign-extended and the top one is
// (P >>> 16) + P[15] (P[15] is the borrow a negative bottom product took
// from the top lane).
//
// Group scales (SQ_GEMM_GSCALE, w.gsc; docs/gemm_rtl.md "Group scales"):
// the accumulator holds the open group's partial sum. On a step that closes
// a group (w.gend) a scaling PE (w.sc) adds sq_rshift_round(p * gs, 15) to
// its scaled sum tot and restarts the partial sum; gs is the column's factor
// (w.gs) or, in GEMV mode, the row's (g_i); the feeder sets exactly one of
// them. In GEMV mode a group's partial sum is spread over the row's 2 or 4
// active columns, and the scale must see it whole: PE(i,j) hands its part to
// PE(i,j+1) through fwd_o (registered; PE(i,j+1) sees the same step one
// cycle later, and w.fin adds it on that closing step), and only the last
// active column scales. With Gs = 0 (the iCE40 build) none of this is
// generated.
//
// Row vectors: the top row at [W-1:0], the bottom row at [2W-1:W]; the
// bottom row's inputs come one cycle after the top row's, as its outputs
// leave.
module sq_gemm_pe
#(
  parameter bit Gs = 1'b1,
  // 1: instantiate the DSP48E2 primitive for the two packed multiplies
  // (yosys 0.23 maps a behavioural multiply to a DSP48E2 but packs none of
  // its registers); 0: the same pipeline in plain registers (the default, so
  // that a flow without the primitive, the iCE40 one, can read this file)
  parameter bit Xdsp = 1'b0
) (
  input  logic        clk_i,
  input  logic        rst_ni,
  input  logic [63:0] a_i,
  input  logic [31:0] g_i,
  input  logic [63:0] fwd_i,
  input  sq_gemm_pkg::wbus_t       w_i,   // entering the top row
  output logic [63:0] a_o,
  output logic [31:0] g_o,
  output logic [63:0] fwd_o,
  output sq_gemm_pkg::wbus_t       w_o,   // leaving the bottom row
  output logic [63:0] res_o
);
  sq_gemm_pkg::wbus_t wm_q, w_q;   // the bus entering / leaving the bottom row
  logic [31:0] at_q, ab_q, ab;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      at_q <= '0;
      ab_q <= '0;
      wm_q <= '0;
      w_q <= '0;
    end else begin
      if (w_i.valid) begin
        at_q <= a_i[31:0];
        wm_q <= w_i;
      end else begin
        wm_q.valid <= 1'b0;
      end
      if (wm_q.valid) begin
        ab_q <= ab;
        w_q <= wm_q;
      end else begin
        w_q.valid <= 1'b0;
      end
    end
  end
  assign ab = a_i[63:32];
  assign a_o = {ab_q, at_q};
  assign w_o = w_q;

  // Control of the stages: valid (reset), the step's flags (no reset: only
  // read with valid). Stage s holds step t in cycle c+s.
  logic [3:1] v_q, first_q, last_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      v_q <= '0;
    end else begin
      v_q <= {v_q[2:1], wm_q.valid};
    end
  end
  always_ff @(posedge clk_i) begin
    if (wm_q.valid) begin
      first_q[1] <= wm_q.first;
      last_q[1] <= wm_q.last;
    end
    for (int unsigned s = 2; s <= 3; s++) begin
      if (v_q[s-1]) begin
        first_q[s] <= first_q[s-1];
        last_q[s] <= last_q[s-1];
      end
    end
  end

  // ---- c: operand select into the operand registers ------------------------
  // k = 0: w0 and the bytes at code[1:0] (low nibbles), k = 1: w1 and the
  // bytes at code[3:2] (high nibbles).
  // 2:4 GEMV (wm_q.sv): the row's 4 bytes are the kept values of two 2:4
  // groups (bytes 2h, 2h+1 of group h) and its code byte rides g (group h's
  // code in bits [4h+3:4h]; the top row's registered with its bytes, the
  // bottom row's on g_i now, like ab). Column position p = code[1:0] makes w_k
  // activation 2p + k of the step's 8: position r = {p[0], k} of group
  // h = p[1], which meets the group's first kept value if the code puts it
  // at r, its second if that one is at r, else 0. The activation stays the
  // shared operand, so the pair's DSP packing holds.
  logic signed [7:0]  xt [2], xb [2], wk [2];
  logic signed [32:0] p_q [2];   // the P registers: xt*w*2^16 + xb*w
  logic [7:0] ct, cb;             // the rows' code bytes (2:4 GEMV)
  assign ct = g_o[7:0];
  assign cb = g_i[23:16];
  for (genvar k = 0; k < 2; k++) begin : g_mul
    logic [1:0] pos, r;
    logic [7:0] bt, bb, st, sb;
    logic [3:0] cht, chb;
    logic [4:0] h16;
    assign pos = (k == 0) ? wm_q.code[1:0] : wm_q.code[3:2];
    assign bt = at_q[{pos, 3'b000} +: 8];
    assign bb = ab[{pos, 3'b000} +: 8];
    assign r = {wm_q.code[0], 1'(k)};
    assign h16 = {wm_q.code[1], 4'd0};
    assign cht = wm_q.code[1] ? ct[7:4] : ct[3:0];
    assign chb = wm_q.code[1] ? cb[7:4] : cb[3:0];
    assign st = cht[1:0] == r ? at_q[h16 +: 8] : cht[3:2] == r ? at_q[h16 + 5'd8 +: 8] : 8'd0;
    assign sb = chb[1:0] == r ? ab[h16 +: 8] : chb[3:2] == r ? ab[h16 + 5'd8 +: 8] : 8'd0;
    assign xt[k] = wm_q.sv ? st : !wm_q.nib ? bt :
                   (k == 0) ? {{4{bt[3]}}, bt[3:0]} : {{4{bt[7]}}, bt[7:4]};
    assign xb[k] = wm_q.sv ? sb : !wm_q.nib ? bb :
                   (k == 0) ? {{4{bb[3]}}, bb[3:0]} : {{4{bb[7]}}, bb[7:4]};
    assign wk[k] = (k == 0) ? wm_q.w0 : wm_q.w1;

    if (Xdsp) begin : g_dsp
      // the primitive (sim/DSP48E2.sv models it for Verilator): A2, B2 and D
      // registers, pre-adder A + D, M and P registers, P = M
      logic [47:0] p;
      DSP48E2 #(
        .AMULTSEL("AD"), .BMULTSEL("B"), .PREADDINSEL("A"), .USE_MULT("MULTIPLY"),
        .AREG(1), .ACASCREG(1), .BREG(1), .BCASCREG(1), .DREG(1), .ADREG(0),
        .MREG(1), .PREG(1), .CREG(0), .INMODEREG(0), .OPMODEREG(0), .ALUMODEREG(0),
        .CARRYINREG(0), .CARRYINSELREG(0)
      ) u_dsp (
        .CLK(clk_i),
        .A({{6{xt[k][7]}}, xt[k], 16'd0}),
        .B({{10{wk[k][7]}}, wk[k]}),
        .C(48'd0),
        .D({{19{xb[k][7]}}, xb[k]}),
        .INMODE(5'b00100),          // A2 + D into the multiplier, B2
        .OPMODE(9'b00_000_01_01),   // P = M
        .ALUMODE(4'b0000),
        .CARRYIN(1'b0),
        .CARRYINSEL(3'b000),
        .CEA1(1'b0), .CEA2(wm_q.valid), .CEB1(1'b0), .CEB2(wm_q.valid),
        .CED(wm_q.valid), .CEAD(1'b0), .CEM(v_q[1]), .CEP(v_q[2]),
        .CEC(1'b0), .CECTRL(1'b0), .CEINMODE(1'b0), .CEALUMODE(1'b0),
        .CECARRYIN(1'b0),
        .RSTA(1'b0), .RSTB(1'b0), .RSTC(1'b0), .RSTD(1'b0), .RSTM(1'b0),
        .RSTP(1'b0), .RSTCTRL(1'b0), .RSTINMODE(1'b0), .RSTALUMODE(1'b0),
        .RSTALLCARRYIN(1'b0),
        .P(p)
      );
      assign p_q[k] = p[32:0];
    end else begin : g_beh
      // the same pipeline in plain registers (the iCE40 build)
      logic signed [7:0]  xt_q, xb_q, w_q1;
      logic signed [24:0] pk;
      logic signed [32:0] m_q, pr_q;
      assign pk = $signed({xt_q[7], xt_q, 16'd0}) + 25'(xb_q);
      always_ff @(posedge clk_i) begin
        if (wm_q.valid) begin
          xt_q <= xt[k];
          xb_q <= xb[k];
          w_q1 <= wk[k];
        end
        if (v_q[1]) begin
          m_q <= pk * w_q1;
        end
        if (v_q[2]) begin
          pr_q <= m_q;
        end
      end
      assign p_q[k] = pr_q;
    end
  end

  // ---- c+3: lanes and accumulation -----------------------------------------
  // sum[0]: top row's two products, sum[1]: bottom row's.
  logic signed [15:0] lo0, lo1;
  logic signed [16:0] hi0, hi1;
  logic [31:0]        sum [2];
  assign lo0 = p_q[0][15:0];
  assign lo1 = p_q[1][15:0];
  assign hi0 = p_q[0][32:16];
  assign hi1 = p_q[1][32:16];
  assign sum[0] = 32'(hi0) + 32'(hi1) + {31'd0, p_q[0][15]} + {31'd0, p_q[1][15]};
  assign sum[1] = 32'(lo0) + 32'(lo1);

  logic [31:0] acc_q [2], acc_d [2], res_q [2], res_d [2];

  if (Gs) begin : g_gs
    // the step's group flags and each row's factor, down the stages
    logic [3:1]  gsc_q, gend_q, fin_q, sc_q;
    logic [15:0] gst_q [3:1], gsb_q [3:1];
    logic [15:0] gt_q, gb_q;
    always_ff @(posedge clk_i) begin
      if (wm_q.valid) begin
        gsc_q[1] <= wm_q.gsc;
        gend_q[1] <= wm_q.gend;
        fin_q[1] <= wm_q.fin;
        sc_q[1] <= wm_q.sc;
        gst_q[1] <= wm_q.gs | gt_q;
        gsb_q[1] <= wm_q.gs | g_i[31:16];
      end
      for (int unsigned s = 2; s <= 3; s++) begin
        if (v_q[s-1]) begin
          gsc_q[s] <= gsc_q[s-1];
          gend_q[s] <= gend_q[s-1];
          fin_q[s] <= fin_q[s-1];
          sc_q[s] <= sc_q[s-1];
          gst_q[s] <= gst_q[s-1];
          gsb_q[s] <= gsb_q[s-1];
        end
      end
    end
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        gt_q <= '0;
        gb_q <= '0;
      end else begin
        if (w_i.valid) begin
          gt_q <= g_i[15:0];
        end
        if (wm_q.valid) begin
          gb_q <= g_i[31:16];
        end
      end
    end
    assign g_o = {gb_q, gt_q};

    logic close;
    assign close = gsc_q[3] && gend_q[3];
    for (genvar r = 0; r < 2; r++) begin : g_row
      logic [31:0] tot_q, tot_d, grp, fwd_q, scaled;
      logic [15:0] gs;
      logic signed [48:0] prod;
      assign grp = (first_q[3] ? 32'd0 : acc_q[r]) + 32'(sum[r]) +
                   ((fin_q[3] && close) ? fwd_i[32*r +: 32] : 32'd0);
      assign gs = (r == 0) ? gst_q[3] : gsb_q[3];
      assign prod = $signed(grp) * $signed({1'b0, gs});
      // sq_rshift_round(p * gs, 15) modulo 2^32, as the golden's int32 cast
      assign scaled = 32'((prod + 49'sd16384) >>> 15);
      assign tot_d = (first_q[3] ? 32'd0 : tot_q) + ((close && sc_q[3]) ? scaled : 32'd0);
      assign acc_d[r] = close ? 32'd0 : grp;
      assign res_d[r] = gsc_q[3] ? tot_d : acc_d[r];
      always_ff @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          tot_q <= '0;
          fwd_q <= '0;
        end else if (v_q[3]) begin
          tot_q <= tot_d;
          if (close && !sc_q[3]) begin
            fwd_q <= grp;
          end
        end
      end
      assign fwd_o[32*r +: 32] = fwd_q;
    end
  end else begin : g_plain
    for (genvar r = 0; r < 2; r++) begin : g_row
      assign acc_d[r] = (first_q[3] ? 32'd0 : acc_q[r]) + 32'(sum[r]);
      assign res_d[r] = acc_d[r];
    end
    assign g_o = '0;
    assign fwd_o = '0;
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      for (int unsigned r = 0; r < 2; r++) begin
        acc_q[r] <= '0;
        res_q[r] <= '0;
      end
    end else if (v_q[3]) begin
      for (int unsigned r = 0; r < 2; r++) begin
        acc_q[r] <= acc_d[r];
        if (last_q[3]) begin
          res_q[r] <= res_d[r];
        end
      end
    end
  end
  assign res_o = {res_q[1], res_q[0]};
endmodule
