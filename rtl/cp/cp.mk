# Accelerator kernel RTL (rtl/cp/: the command processor and sq_accel_top,
# around the GEMM, attention and vector cores): its Verilator model, a third kernel
# of the rtl level beside the two unit kernels (sim/sim.mk, rtl/attn/attn.mk),
# on the same memory model and register driver; `make lint` and
# `make synth-accel`.

VERILATOR ?= verilator
VL_INC    ?= /usr/share/verilator/include
ACCEL_VL_DIR := $(BUILD)/vl_accel
ACCEL_RTL := rtl/common/sq_spec_pkg.sv rtl/gemm/sq_gemm_pkg.sv rtl/attn/sq_attn_pkg.sv \
             rtl/vec/sq_vec_pkg.sv \
             $(filter-out %_pkg.sv %_top.sv,$(wildcard rtl/common/*.sv rtl/gemm/*.sv \
               rtl/attn/*.sv rtl/vec/*.sv rtl/cp/*.sv)) rtl/cp/sq_accel_top.sv

ACCEL_VL_FLAGS := --cc
# FST waveforms on request (PATH.accel.fst beside the unit kernels')
ACCEL_VL_FLAGS += --trace-fst
# one thread, as for the unit models (BRIEF.md)
ACCEL_VL_FLAGS += --threads 1
ACCEL_VL_FLAGS += --x-assign fast --x-initial fast
ACCEL_VL_FLAGS += --top-module sq_accel_top --prefix Vsq_accel_top --Mdir $(ACCEL_VL_DIR)
# Verilator's makefile appends -Os; -O2 simulates about twice as fast
ACCEL_VL_FLAGS += -MAKEFLAGS "OPT_FAST=-O2 OPT_SLOW=-O1 OPT_GLOBAL=-O2"

ACCEL_VL_LIB  := $(ACCEL_VL_DIR)/Vsq_accel_top__ALL.a
# The Verilator builds are recursive makes ('+'): they share the jobserver of
# `make -j2` rather than fall back to one job each.
ACCEL_VL_GLUE := $(ACCEL_VL_DIR)/sq_accel_vl.o
$(ACCEL_VL_LIB): $(ACCEL_RTL) $(VL_PRIMS)
	@mkdir -p $(ACCEL_VL_DIR)
	+$(VERILATOR) $(ACCEL_VL_FLAGS) $(ACCEL_RTL) $(VL_PRIMS) --build -j 2 >$(ACCEL_VL_DIR)/build.log 2>&1 || \
	  { tail -30 $(ACCEL_VL_DIR)/build.log; exit 1; }
$(ACCEL_VL_GLUE): sim/sq_accel_vl.cpp sim/sq_vl_kernel.hpp sim/sq_accel_vl.h sim/sq_sim.h sim/sq_axi.h sim/sq_mem.h $(ACCEL_VL_LIB)
	$(CXX) -std=c++17 -O2 -g -Wall -Wextra -Werror -isystem $(ACCEL_VL_DIR) -isystem $(VL_INC) \
	  -isystem $(VL_INC)/vltstd -Iinclude -Ihost -Isim -c $< -o $@
# The same kernel with 4 GEMM units (U=4, sim/sq_accel_vl.h's
# SQ_ACCEL_VL_CUS_ALT) at the smaller array the header names, the one other
# Verilated configuration: the rtl level runs `--cus 4 --array 8x8` (and
# streams on fewer units) on it. Without waveforms: its trace code was 46% of
# the generated C++ and the longest part of a clean `make test`'s build (the
# U=1 kernel has them; sim/sq_vl_kernel.hpp refuses --fst on this one in one
# line).
ACCEL4_R := $(shell sed -n 's/^\#define SQ_ACCEL_VL_ALT_ROWS \([0-9]*\)u$$/\1/p' sim/sq_accel_vl.h)
ACCEL4_C := $(shell sed -n 's/^\#define SQ_ACCEL_VL_ALT_COLS \([0-9]*\)u$$/\1/p' sim/sq_accel_vl.h)
ACCEL4_VL_DIR := $(BUILD)/vl_accel_u4
ACCEL4_VL_LIB := $(ACCEL4_VL_DIR)/Vsq_accel_top_u4__ALL.a
ACCEL4_VL_GLUE := $(ACCEL4_VL_DIR)/sq_accel_vl.o
ACCEL4_VL_FLAGS := $(filter-out --trace-fst --prefix Vsq_accel_top --Mdir $(ACCEL_VL_DIR),$(ACCEL_VL_FLAGS)) \
                   --prefix Vsq_accel_top_u4 --Mdir $(ACCEL4_VL_DIR) -GU=4 -GR=$(ACCEL4_R) -GC=$(ACCEL4_C)
$(ACCEL4_VL_LIB): $(ACCEL_RTL) $(VL_PRIMS) sim/sq_accel_vl.h
	@mkdir -p $(ACCEL4_VL_DIR)
	+$(VERILATOR) $(ACCEL4_VL_FLAGS) $(ACCEL_RTL) $(VL_PRIMS) --build -j 2 >$(ACCEL4_VL_DIR)/build.log 2>&1 || \
	  { tail -30 $(ACCEL4_VL_DIR)/build.log; exit 1; }
$(ACCEL4_VL_GLUE): sim/sq_accel_vl.cpp sim/sq_vl_kernel.hpp sim/sq_accel_vl.h sim/sq_sim.h sim/sq_axi.h sim/sq_mem.h $(ACCEL4_VL_LIB)
	$(CXX) -std=c++17 -O2 -g -Wall -Wextra -Werror -DSQ_ACCEL_U=4 -isystem $(ACCEL4_VL_DIR) -isystem $(VL_INC) \
	  -isystem $(VL_INC)/vltstd -Iinclude -Ihost -Isim -c $< -o $@
# Verilator's runtime comes from the GEMM model's build (sim/sim.mk); it is
# listed again after these models so the static link resolves either order.
REL_EXTRA += $(ACCEL_VL_GLUE) $(ACCEL4_VL_GLUE) $(ACCEL_VL_LIB) $(ACCEL4_VL_LIB) $(BUILD)/vl/libverilated.a
SAN_EXTRA += $(ACCEL_VL_GLUE) $(ACCEL4_VL_GLUE) $(ACCEL_VL_LIB) $(ACCEL4_VL_LIB) $(BUILD)/vl/libverilated.a

.PHONY: lint-accel synth-accel
lint: lint-accel
lint-accel:
	$(VERILATOR) --lint-only -Wall rtl/lint_waivers.vlt $(ACCEL_RTL) $(VL_PRIMS) --top-module sq_accel_top
	$(VERILATOR) --lint-only -Wall rtl/lint_waivers.vlt $(ACCEL_RTL) $(VL_PRIMS) --top-module sq_accel_top -GU=4 \
	  -GR=$(ACCEL4_R) -GC=$(ACCEL4_C)
	@echo "lint-accel: verilator -Wall clean"

# Command-processor benchmark (bench/cp.sh writes bench/results/cp.md): a
# decode step as one launch against unit launches, dispatch overhead,
# simulation speed of the accelerator kernel against the unit kernels.
.PHONY: bench-cp
bench-cp:
	./bench/cp.sh
# objects named in the recipe (later fragments still add to REL_EXTRA)
$(BUILD)/bench_cp: $(BUILD)/rel/bench/cp_bench.o $(BUILD)/sparq
	$(CXX) $< $(REL_LIB_OBJS) $(REL_EXTRA) -o $@ $(LDLIBS) $(EXTRA_LDLIBS)

# yosys synth_xilinx (UltraScale+) of the accelerator kernel, flattened, and
# of the command processor's modules alone; SYNTH_R/SYNTH_C (sim/sim.mk) pick
# the array. Long for 16x16 (as `make synth`): not part of `make test`.
synth-accel:
	./bitstreams/yosys/synth_accel.sh $(SYNTH_R) $(SYNTH_C) $(BUILD)/synth $(ACCEL_RTL)
