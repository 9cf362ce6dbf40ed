# iCE40 UP5K build of the GEMM unit (bitstreams/ice40/): its Verilator model
# (linked into build/sparq and the tests; tests/test_ice40.c drives it through
# the UART), `make -C bitstreams ice40` (the bitstream) and `make hw-check`
# (the flow in CI). Included by the top Makefile.

VERILATOR ?= verilator
VL_INC    ?= /usr/share/verilator/include
ICE40_DIR := bitstreams/ice40
include $(ICE40_DIR)/rtl.mk
# cycles per UART bit, from the package the bitstream is built from
ICE40_BIT_CYCLES := $(shell sed -n 's/.*ClkHz = \([0-9_]*\);.*/\1/p;s/.*Baud = \([0-9_]*\);.*/\1/p' \
                      $(ICE40_DIR)/rtl/sq_ice40_pkg.sv | tr -d _ | paste -sd' ' | \
                      awk '{ printf "%d", ($$1 + int($$2 / 2)) / $$2 }')

ICE40_VL_DIR := $(BUILD)/vl_ice40
ICE40_VL_FLAGS := --cc --threads 1 --x-assign fast --x-initial fast
ICE40_VL_FLAGS += --top-module sq_ice40_top --prefix Vsq_ice40_top --Mdir $(ICE40_VL_DIR)
ICE40_VL_FLAGS += -MAKEFLAGS "OPT_FAST=-O2 OPT_SLOW=-O1 OPT_GLOBAL=-O2"
ICE40_VL_LIB  := $(ICE40_VL_DIR)/Vsq_ice40_top__ALL.a
ICE40_VL_GLUE := $(ICE40_VL_DIR)/sq_ice40_vl.o
$(ICE40_VL_LIB): $(ICE40_RTL)
	@mkdir -p $(ICE40_VL_DIR)
	$(VERILATOR) $(ICE40_VL_FLAGS) $(ICE40_RTL) --build -j 2 >$(ICE40_VL_DIR)/build.log 2>&1 || \
	  { tail -30 $(ICE40_VL_DIR)/build.log; exit 1; }
$(ICE40_VL_GLUE): sim/sq_ice40_vl.cpp sim/sq_ice40_vl.h $(ICE40_VL_LIB) $(ICE40_DIR)/rtl/sq_ice40_pkg.sv
	$(CXX) -std=c++17 -O2 -g -Wall -Wextra -Werror -isystem $(ICE40_VL_DIR) -isystem $(VL_INC) \
	  -isystem $(VL_INC)/vltstd -Iinclude -Ihost -Isim -DSQ_ICE40_BIT_CYCLES=$(ICE40_BIT_CYCLES) \
	  -c $< -o $@
# Verilator's runtime comes from the GEMM model's build (sim/sim.mk)
REL_EXTRA += $(ICE40_VL_GLUE) $(ICE40_VL_LIB) $(BUILD)/vl/libverilated.a
SAN_EXTRA += $(ICE40_VL_GLUE) $(ICE40_VL_LIB) $(BUILD)/vl/libverilated.a

.PHONY: lint-ice40 hw-check
lint: lint-ice40
lint-ice40:
	$(VERILATOR) --lint-only -Wall rtl/lint_waivers.vlt $(ICE40_DIR)/rtl/lint_waivers.vlt \
	  $(ICE40_RTL) $(ICE40_DIR)/rtl/sq_ice40_board.sv --top-module sq_ice40_board
	@echo "lint-ice40: verilator -Wall clean"

# The whole bitstream flow (yosys, nextpnr-ice40, icepack) as CI runs it.
hw-check:
	$(MAKE) -C bitstreams ice40 ICE40_OUT=$(abspath $(BUILD))/ice40-check
