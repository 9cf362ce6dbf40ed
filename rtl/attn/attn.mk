# Attention unit RTL (rtl/attn/): its generated constants package, its
# Verilator model (a second kernel beside the GEMM unit's in the rtl level,
# sharing sim/'s memory model and register driver), `make lint` and
# `make synth-attn`.

VERILATOR ?= verilator
VL_INC    ?= /usr/share/verilator/include
ATTN_VL_DIR := $(BUILD)/vl_attn
# the control slave is shared by every unit (rtl/common/, one ap_ctrl_hs map),
# so is the standalone kernel around the core (sq_unit_top with Opcode SqOpAttn)
ATTN_RTL := rtl/common/sq_spec_pkg.sv rtl/attn/sq_attn_pkg.sv rtl/common/sq_ctrl.sv rtl/common/sq_fetch.sv \
            rtl/attn/sq_attn_ram.sv rtl/attn/sq_attn_lutram.sv rtl/common/sq_div.sv \
            rtl/attn/sq_attn_fetch.sv rtl/attn/sq_attn_core.sv rtl/common/sq_unit_top.sv

ATTN_VL_FLAGS := --cc
# FST waveforms on request (PATH.attn.fst beside the GEMM unit's)
ATTN_VL_FLAGS += --trace-fst
# one thread, as for the GEMM model (BRIEF.md)
ATTN_VL_FLAGS += --threads 1
ATTN_VL_FLAGS += --x-assign fast --x-initial fast
ATTN_TOP := --top-module sq_unit_top -GOpcode=$(call sq_opcode,Attn)
ATTN_VL_FLAGS += $(ATTN_TOP) --prefix Vsq_attn_top --Mdir $(ATTN_VL_DIR)
# Verilator's makefile appends -Os; -O2 simulates about twice as fast
ATTN_VL_FLAGS += -MAKEFLAGS "OPT_FAST=-O2 OPT_SLOW=-O1 OPT_GLOBAL=-O2"

ATTN_VL_LIB  := $(ATTN_VL_DIR)/Vsq_attn_top__ALL.a
ATTN_VL_GLUE := $(ATTN_VL_DIR)/sq_attn_vl.o
$(ATTN_VL_LIB): $(ATTN_RTL)
	@mkdir -p $(ATTN_VL_DIR)
	+$(VERILATOR) $(ATTN_VL_FLAGS) $(ATTN_RTL) --build -j 2 >$(ATTN_VL_DIR)/build.log 2>&1 || \
	  { tail -30 $(ATTN_VL_DIR)/build.log; exit 1; }
$(ATTN_VL_GLUE): sim/sq_attn_vl.cpp sim/sq_vl_kernel.hpp sim/sq_attn_vl.h sim/sq_sim.h sim/sq_axi.h sim/sq_mem.h $(ATTN_VL_LIB)
	$(CXX) -std=c++17 -O2 -g -Wall -Wextra -Werror -isystem $(ATTN_VL_DIR) -isystem $(VL_INC) \
	  -isystem $(VL_INC)/vltstd -Iinclude -Ihost -Isim -c $< -o $@
# Verilator's runtime comes from the GEMM model's build (sim/sim.mk); it is
# listed again after this model so the static link resolves either order.
REL_EXTRA += $(ATTN_VL_GLUE) $(ATTN_VL_LIB) $(BUILD)/vl/libverilated.a
SAN_EXTRA += $(ATTN_VL_GLUE) $(ATTN_VL_LIB) $(BUILD)/vl/libverilated.a

# The committed rtl/sq_attn_pkg.sv must equal what attngen prints (test_attn).
$(BUILD)/attngen: sim/attngen.c include/sparq/spec.h include/sparq/attn.h
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(INCLUDES) -O1 $< -o $@
TEST_PREREQS += $(BUILD)/attngen
$(BUILD)/san/tests/test_attn.o: CFLAGS_SAN += -DSQ_ATTNGEN_BIN='"$(abspath $(BUILD)/attngen)"' \
  -DSQ_ATTN_PKG='"$(abspath rtl/attn/sq_attn_pkg.sv)"'

.PHONY: attngen lint-attn synth-attn
attngen: $(BUILD)/attngen
	$(BUILD)/attngen > rtl/attn/sq_attn_pkg.sv

lint: lint-attn
lint-attn:
	$(VERILATOR) --lint-only -Wall rtl/lint_waivers.vlt $(ATTN_RTL) $(ATTN_TOP)
	@echo "lint-attn: verilator -Wall clean"

# yosys synth_xilinx (UltraScale+) of the attention unit; prints LUT/LUTRAM/FF/
# DSP/BRAM per module. About a minute and 0.8 GB: not part of `make test`.
synth-attn:
	SQ_OPCODE=$(call sq_opcode,Attn) ./bitstreams/yosys/synth_attn.sh $(BUILD)/synth $(ATTN_RTL)

# Accuracy, RTL cycles vs density and perplexity per pattern, written to
# bench/results/attn.md (a few minutes; also part of `make bench`).
.PHONY: bench-attn
bench-attn:
	./bench/attn.sh
