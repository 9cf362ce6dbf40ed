// The attention unit as the Vitis RTL kernel sq_attn_kernel (sq_vitis_kernel.svh).
`define SQ_VITIS_NAME sq_attn_kernel
`define SQ_VITIS_UNIT sq_unit_top #(.Opcode(sq_spec_pkg::SqOpAttn))
`include "sq_vitis_kernel.svh"
