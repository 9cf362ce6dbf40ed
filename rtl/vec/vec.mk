# Vector unit RTL (rtl/vec/): its generated constants package, its Verilator
# model (a kernel of the rtl level beside the GEMM and attention units',
# sharing sim/'s memory model and register driver), `make lint` and
# `make synth-vec`.

VERILATOR ?= verilator
VL_INC    ?= /usr/share/verilator/include
VEC_VL_DIR := $(BUILD)/vl_vec
# the control slave, the descriptor fetcher and the standalone kernel around
# the core (sq_unit_top with Opcode SqOpVec) are every unit's (rtl/common/);
# the sigmoid's exponent table is the attention unit's (sq_attn_pkg)
VEC_RTL := rtl/common/sq_spec_pkg.sv rtl/attn/sq_attn_pkg.sv rtl/vec/sq_vec_pkg.sv \
           rtl/common/sq_ctrl.sv rtl/common/sq_fetch.sv rtl/common/sq_div.sv \
           rtl/vec/sq_vec_core.sv rtl/common/sq_unit_top.sv

VEC_VL_FLAGS := --cc
# FST waveforms on request (PATH.vec.fst beside the GEMM unit's)
VEC_VL_FLAGS += --trace-fst
# one thread, as for the other unit models (BRIEF.md)
VEC_VL_FLAGS += --threads 1
VEC_VL_FLAGS += --x-assign fast --x-initial fast
VEC_TOP := --top-module sq_unit_top -GOpcode=$(call sq_opcode,Vec)
VEC_VL_FLAGS += $(VEC_TOP) --prefix Vsq_vec_top --Mdir $(VEC_VL_DIR)
# Verilator's makefile appends -Os; -O2 simulates about twice as fast
VEC_VL_FLAGS += -MAKEFLAGS "OPT_FAST=-O2 OPT_SLOW=-O1 OPT_GLOBAL=-O2"

VEC_VL_LIB  := $(VEC_VL_DIR)/Vsq_vec_top__ALL.a
VEC_VL_GLUE := $(VEC_VL_DIR)/sq_vec_vl.o
$(VEC_VL_LIB): $(VEC_RTL)
	@mkdir -p $(VEC_VL_DIR)
	+$(VERILATOR) $(VEC_VL_FLAGS) $(VEC_RTL) --build -j 2 >$(VEC_VL_DIR)/build.log 2>&1 || \
	  { tail -30 $(VEC_VL_DIR)/build.log; exit 1; }
$(VEC_VL_GLUE): sim/sq_vec_vl.cpp sim/sq_vl_kernel.hpp sim/sq_vec_vl.h sim/sq_sim.h sim/sq_axi.h sim/sq_mem.h $(VEC_VL_LIB)
	$(CXX) -std=c++17 -O2 -g -Wall -Wextra -Werror -isystem $(VEC_VL_DIR) -isystem $(VL_INC) \
	  -isystem $(VL_INC)/vltstd -Iinclude -Ihost -Isim -c $< -o $@
# Verilator's runtime comes from the GEMM model's build (sim/sim.mk); it is
# listed again after this model so the static link resolves either order.
REL_EXTRA += $(VEC_VL_GLUE) $(VEC_VL_LIB) $(BUILD)/vl/libverilated.a
SAN_EXTRA += $(VEC_VL_GLUE) $(VEC_VL_LIB) $(BUILD)/vl/libverilated.a

# The committed rtl/vec/sq_vec_pkg.sv must equal what vecgen prints (test_vec_levels).
$(BUILD)/vecgen: sim/vecgen.c include/sparq/spec.h include/sparq/vec.h
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(INCLUDES) -O1 $< -o $@
TEST_PREREQS += $(BUILD)/vecgen
$(BUILD)/san/tests/test_vec_levels.o: CFLAGS_SAN += -DSQ_VECGEN_BIN='"$(abspath $(BUILD)/vecgen)"' \
  -DSQ_VEC_PKG='"$(abspath rtl/vec/sq_vec_pkg.sv)"'

.PHONY: vecgen lint-vec synth-vec
vecgen: $(BUILD)/vecgen
	$(BUILD)/vecgen > rtl/vec/sq_vec_pkg.sv

lint: lint-vec
lint-vec:
	$(VERILATOR) --lint-only -Wall rtl/lint_waivers.vlt $(VEC_RTL) $(VEC_TOP)
	@echo "lint-vec: verilator -Wall clean"

# yosys synth_xilinx (UltraScale+) of the vector unit; prints LUT/LUTRAM/FF/
# DSP/BRAM per module. Not part of `make test`.
synth-vec:
	SQ_OPCODE=$(call sq_opcode,Vec) ./bitstreams/yosys/synth_vec.sh $(BUILD)/synth $(VEC_RTL)
