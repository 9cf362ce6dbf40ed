# Attention unit RTL (rtl/sq_attn_*.sv): its generated constants package.
# Lint, synthesis and the Verilator model sit next to the GEMM unit's rules
# in sim/sim.mk.

# The committed rtl/sq_attn_pkg.sv must equal what attngen prints (test_attn).
$(BUILD)/attngen: sim/attngen.c include/sparq/spec.h include/sparq/attn.h
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(INCLUDES) -O1 $< -o $@
TEST_PREREQS += $(BUILD)/attngen
$(BUILD)/san/tests/test_attn.o: CFLAGS_SAN += -DSQ_ATTNGEN_BIN='"$(abspath $(BUILD)/attngen)"' \
  -DSQ_ATTN_PKG='"$(abspath rtl/sq_attn_pkg.sv)"'
.PHONY: attngen
attngen: $(BUILD)/attngen
	$(BUILD)/attngen > rtl/sq_attn_pkg.sv
