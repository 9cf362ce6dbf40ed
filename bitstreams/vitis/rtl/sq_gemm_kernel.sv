// The GEMM unit as the Vitis RTL kernel sq_gemm_kernel (sq_vitis_kernel.svh).
`define SQ_VITIS_NAME sq_gemm_kernel
`define SQ_VITIS_UNIT sq_gemm_top
`include "sq_vitis_kernel.svh"
