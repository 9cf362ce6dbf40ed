// Body of a Vitis RTL kernel around one sparq unit: the port names Vivado's
// IP packager and v++ expect (ap_clk, ap_rst_n, m_axi_gmem_*,
// s_axi_control_*, interrupt; sq_vitis_ports.svh), wired straight to the
// unit's ports. The unit already has the Vitis interface (ap_ctrl_hs register
// map of include/sparq/spec.h, 64-bit 512-bit AXI4 master), so the wrapper
// adds no logic. Included by sq_gemm_kernel.sv and sq_attn_kernel.sv after
// they define SQ_VITIS_NAME (the kernel, named as the HLS top so one host path
// runs either) and SQ_VITIS_UNIT (the unit's top module and its parameters).
`include "sq_vitis_ports.svh"
module `SQ_VITIS_NAME (
  input  logic         ap_clk,
  input  logic         ap_rst_n,
  `SQ_VITIS_M_AXI_PORTS(m_axi_gmem)
  `SQ_VITIS_CONTROL_PORTS
);
  `SQ_VITIS_UNIT u_unit (
    .clk_i(ap_clk), .rst_ni(ap_rst_n),
    `SQ_VITIS_M_AXI_CONN(m_axi, m_axi_gmem)
    `SQ_VITIS_CONTROL_CONN
    // a non-OKAY response is visible in simulation traces; a Vitis kernel
    // has no port for it
    /* verilator lint_off PINCONNECTEMPTY */
    .axi_err_o()
    /* verilator lint_on PINCONNECTEMPTY */
  );
endmodule
`undef SQ_VITIS_NAME
`undef SQ_VITIS_UNIT
