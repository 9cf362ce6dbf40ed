// Behavioural model of the UltraScale+ DSP48E2 primitive for Verilator, in
// the one configuration sq_gemm_pe instantiates it with (rtl/gemm/): A2, B2
// and D input registers, the pre-adder's A + D into the 27 x 18 signed
// multiplier, M and P registers, P = M (OPMODE X = Y = M, Z = W = 0,
// ALUMODE add). Any other parameter or control value stops the simulation
// at elaboration or on the first clock that uses it, so the model cannot
// silently differ from the primitive. yosys (synth_xilinx) and Vivado use
// their own primitive: this file is only in the Verilator builds.
module DSP48E2 #(
  parameter AMULTSEL = "A",
  parameter BMULTSEL = "B",
  parameter PREADDINSEL = "A",
  parameter USE_MULT = "MULTIPLY",
  parameter int AREG = 1,
  parameter int ACASCREG = 1,
  parameter int BREG = 1,
  parameter int BCASCREG = 1,
  parameter int DREG = 1,
  parameter int ADREG = 1,
  parameter int MREG = 1,
  parameter int PREG = 1,
  parameter int CREG = 1,
  parameter int INMODEREG = 1,
  parameter int OPMODEREG = 1,
  parameter int ALUMODEREG = 1,
  parameter int CARRYINREG = 1,
  parameter int CARRYINSELREG = 1
) (
  input  logic        CLK,
  input  logic [29:0] A,
  input  logic [17:0] B,
  input  logic [47:0] C,
  input  logic [26:0] D,
  input  logic [4:0]  INMODE,
  input  logic [8:0]  OPMODE,
  input  logic [3:0]  ALUMODE,
  input  logic        CARRYIN,
  input  logic [2:0]  CARRYINSEL,
  input  logic        CEA1, CEA2, CEB1, CEB2, CED, CEAD, CEM, CEP,
  input  logic        CEC, CECTRL, CEINMODE, CEALUMODE, CECARRYIN,
  input  logic        RSTA, RSTB, RSTC, RSTD, RSTM, RSTP, RSTCTRL, RSTINMODE,
  input  logic        RSTALUMODE, RSTALLCARRYIN,
  output logic [47:0] P
);
  initial begin
    if (AMULTSEL != "AD" || BMULTSEL != "B" || PREADDINSEL != "A" || USE_MULT != "MULTIPLY" ||
        AREG != 1 || ACASCREG != 1 || BREG != 1 || BCASCREG != 1 || DREG != 1 ||
        ADREG != 0 || MREG != 1 || PREG != 1 || INMODEREG != 0 || OPMODEREG != 0 ||
        ALUMODEREG != 0) begin
      $fatal(1, "DSP48E2 model: configuration not modelled");
    end
  end

  logic signed [29:0] a2_q;
  logic signed [17:0] b2_q;
  logic signed [26:0] d_q, ad;
  logic signed [44:0] m_q;
  logic        [47:0] p_q;
  assign ad = a2_q[26:0] + d_q;
  always_ff @(posedge CLK) begin
    if (INMODE != 5'b00100 || OPMODE != 9'b00_000_01_01 || ALUMODE != 4'b0000 ||
        CARRYIN || CARRYINSEL != 3'b000 || CEA1 || CEB1 || CEAD || RSTA || RSTB ||
        RSTD || RSTM || RSTP) begin
      $fatal(1, "DSP48E2 model: control input not modelled");
    end
    if (CEA2) a2_q <= A;
    if (CEB2) b2_q <= B;
    if (CED) d_q <= D;
    if (CEM) m_q <= ad * b2_q;
    if (CEP) p_q <= 48'(m_q);
  end
  assign P = p_q;
endmodule
