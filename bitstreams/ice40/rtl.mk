# The RTL of the iCE40 build, from the repository root: the GEMM datapath of
# rtl/gemm/ and the board's sequencer, memory and UART. Included by
# bitstreams/ice40/ice40.mk (Verilator model, lint) and bitstreams/ice40/Makefile
# (bitstream), so the model and the bitstream are built from the same files.
ICE40_RTL := rtl/common/sq_spec_pkg.sv rtl/gemm/sq_gemm_pkg.sv bitstreams/ice40/rtl/sq_ice40_pkg.sv \
             rtl/gemm/sq_gemm_pe.sv rtl/gemm/sq_gemm_array.sv rtl/gemm/sq_gemm_epi.sv \
             bitstreams/ice40/rtl/sq_ice40_uart.sv bitstreams/ice40/rtl/sq_ice40_gemm.sv \
             bitstreams/ice40/rtl/sq_ice40_top.sv
