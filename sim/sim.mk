# GEMM unit RTL (rtl/gemm/, rtl/common/) under Verilator (sim/): the model library linked into
# build/sparq and the tests, `make lint`, `make synth`, `make specgen`,
# `make bench-gemm`. Included by the top Makefile.

VERILATOR ?= verilator
YOSYS     ?= yosys
VL_DIR    := $(BUILD)/vl
VL_INC    ?= /usr/share/verilator/include
RTL_PKGS  := rtl/common/sq_spec_pkg.sv rtl/gemm/sq_gemm_pkg.sv
# every unit is its own model (the attention unit: rtl/attn/attn.mk)
RTL_SRCS  := $(RTL_PKGS) $(filter-out $(RTL_PKGS),$(wildcard rtl/common/*.sv rtl/gemm/*.sv))
RTL_TOP   := sq_gemm_top

VL_FLAGS := --cc
# FST waveforms on request (sq_dev_config_t.fst_path); off costs little
VL_FLAGS += --trace-fst
# one thread: --threads 2 was slower on this 2-core machine (BRIEF.md)
VL_FLAGS += --threads 1
# X values cannot reach outputs (every state register is reset); fast init
VL_FLAGS += --x-assign fast --x-initial fast
VL_FLAGS += --top-module $(RTL_TOP) --prefix V$(RTL_TOP) --Mdir $(VL_DIR)
# Verilator's makefile appends -Os; -O2 simulates about twice as fast
VL_FLAGS += -MAKEFLAGS "OPT_FAST=-O2 OPT_SLOW=-O1 OPT_GLOBAL=-O2"

VL_LIB    := $(VL_DIR)/V$(RTL_TOP)__ALL.a
VL_GLUE   := $(VL_DIR)/sq_gemm_vl.o
VL_CXXFLAGS := -std=c++17 -O2 -g -Wall -Wextra -Werror -isystem $(VL_DIR) -isystem $(VL_INC) \
               -isystem $(VL_INC)/vltstd -Iinclude -Ihost -Isim

$(VL_LIB): $(RTL_SRCS) $(VL_PRIMS)
	@mkdir -p $(VL_DIR)
	+$(VERILATOR) $(VL_FLAGS) $(RTL_SRCS) $(VL_PRIMS) --build -j 2 >$(VL_DIR)/build.log 2>&1 || \
	  { tail -30 $(VL_DIR)/build.log; exit 1; }
# Verilator's runtime (it only builds it itself for --exe)
VL_RT := verilated.o verilated_fst_c.o verilated_threads.o
$(VL_DIR)/libverilated.a: $(VL_LIB)
	$(MAKE) -C $(VL_DIR) -f V$(RTL_TOP).mk $(VL_RT) OPT_FAST=-O2 >>$(VL_DIR)/build.log 2>&1
	cd $(VL_DIR) && rm -f libverilated.a && $(AR) rcs libverilated.a $(VL_RT)
$(VL_GLUE): sim/sq_gemm_vl.cpp sim/sq_vl_kernel.hpp sim/sq_gemm_vl.h sim/sq_sim.h sim/sq_axi.h sim/sq_mem.h $(VL_LIB)
	$(CXX) $(VL_CXXFLAGS) -c $< -o $@

# The unit at two other array sizes (sq_gemm_vl.h), for the cycle model's
# equality test at sizes other than the default; small arrays build quickly.
VL_SIZES := 8x8 4x8
define vl_sized
$(BUILD)/vl_$(1)/Vsq_gemm_top_$(1)__ALL.a: $(RTL_SRCS) $(VL_PRIMS)
	@mkdir -p $(BUILD)/vl_$(1)
	+$(VERILATOR) $(filter-out --top-module $(RTL_TOP) --prefix V$(RTL_TOP) --Mdir $(VL_DIR),$(VL_FLAGS)) \
	  --top-module $(RTL_TOP) --prefix Vsq_gemm_top_$(1) --Mdir $(BUILD)/vl_$(1) \
	  -GR=$(word 1,$(subst x, ,$(1))) -GC=$(word 2,$(subst x, ,$(1))) \
	  $(RTL_SRCS) $(VL_PRIMS) --build -j 2 >$(BUILD)/vl_$(1)/build.log 2>&1 || \
	  { tail -30 $(BUILD)/vl_$(1)/build.log; exit 1; }
$(BUILD)/vl_$(1)/sq_gemm_vl.o: sim/sq_gemm_vl.cpp sim/sq_vl_kernel.hpp sim/sq_gemm_vl.h sim/sq_sim.h sim/sq_axi.h sim/sq_mem.h $(BUILD)/vl_$(1)/Vsq_gemm_top_$(1)__ALL.a
	$(CXX) $(VL_CXXFLAGS) -isystem $(BUILD)/vl_$(1) -DSQ_VL_TOP=Vsq_gemm_top_$(1) \
	  -DSQ_VL_HDR='"Vsq_gemm_top_$(1).h"' -DSQ_VL_FN=sq_gemm_vl_create_$(1) -c $$< -o $$@
REL_EXTRA += $(BUILD)/vl_$(1)/sq_gemm_vl.o $(BUILD)/vl_$(1)/Vsq_gemm_top_$(1)__ALL.a
SAN_EXTRA += $(BUILD)/vl_$(1)/sq_gemm_vl.o $(BUILD)/vl_$(1)/Vsq_gemm_top_$(1)__ALL.a
endef
$(foreach z,$(VL_SIZES),$(eval $(call vl_sized,$(z))))

SIM_C := sim/sq_mem.c sim/sq_sim.c
REL_EXTRA += $(SIM_C:%.c=$(BUILD)/rel/%.o) $(VL_GLUE) $(VL_LIB) $(VL_DIR)/libverilated.a
SAN_EXTRA += $(SIM_C:%.c=$(BUILD)/san/%.o) $(VL_GLUE) $(VL_LIB) $(VL_DIR)/libverilated.a
EXTRA_LDLIBS += -lz -pthread

# The committed SV package must equal what specgen prints (tests/test_rtl_spec.c).
$(BUILD)/specgen: sim/specgen.c include/sparq/spec.h
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(INCLUDES) -O1 $< -o $@
TEST_PREREQS += $(BUILD)/specgen
$(BUILD)/san/tests/test_rtl_spec.o: CFLAGS_SAN += -DSQ_SPECGEN_BIN='"$(abspath $(BUILD)/specgen)"' \
  -DSQ_SPEC_PKG='"$(abspath rtl/common/sq_spec_pkg.sv)"'
.PHONY: specgen synth bench-gemm
specgen: $(BUILD)/specgen
	$(BUILD)/specgen > rtl/common/sq_spec_pkg.sv

lint:
	$(VERILATOR) --lint-only -Wall rtl/lint_waivers.vlt $(RTL_SRCS) $(VL_PRIMS) --top-module $(RTL_TOP)
	@echo "lint: verilator -Wall clean"

# yosys synth_xilinx (UltraScale+) of the default array; prints a table of
# LUT/LUTRAM/FF/DSP/BRAM. ~24 minutes and ~5.3 GB for 16x16: not part of
# `make test`. SYNTH_R/SYNTH_C pick another geometry (e.g. 8).
SYNTH_R ?= 16
SYNTH_C ?= 16
synth:
	@mkdir -p $(BUILD)/synth
	./bitstreams/yosys/synth_gemm.sh $(SYNTH_R) $(SYNTH_C) $(BUILD)/synth $(RTL_SRCS)

bench-gemm: $(BUILD)/bench_gemm
	./bench/gemm.sh

# Fragments after this one (sim/tlm.mk) still add to REL_EXTRA, so the objects
# are named in the recipe, expanded when it runs; build/sparq's prerequisites
# build them all.
$(BUILD)/bench_gemm: $(BUILD)/rel/bench/gemm_bench.o $(BUILD)/sparq
	$(CXX) $< $(REL_LIB_OBJS) $(REL_EXTRA) -o $@ $(LDLIBS) $(EXTRA_LDLIBS)
