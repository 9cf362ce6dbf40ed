# The tlm level's SystemC TLM-2.0 platform (sim/sq_tlm.cpp, docs/tlm.md)
# around the Verilated units that sim/sim.mk and rtl/attn.mk build: only the
# platform is compiled here, the RTL models are the rtl level's.
# SystemC 2.3.4 from Debian is built for C++17 (BRIEF.md).

TLM_CXXFLAGS := -std=c++17 -Wall -Wextra -Werror -Iinclude -Ihost -Isim $(shell pkg-config --cflags systemc tlm 2>/dev/null)
TLM_DEPS     := sim/sq_tlm.cpp sim/sq_tlm.h sim/sq_sim.h sim/sq_axi.h sim/sq_mem.h

$(BUILD)/rel/sim/sq_tlm.o: $(TLM_DEPS)
	@mkdir -p $(dir $@)
	$(CXX) $(TLM_CXXFLAGS) $(OPT) -c $< -o $@
# instrumented like the C objects: ASan and UBSan see the platform's code too
$(BUILD)/san/sim/sq_tlm.o: $(TLM_DEPS)
	@mkdir -p $(dir $@)
	$(CXX) $(TLM_CXXFLAGS) -O1 -g $(SANITIZE) -c $< -o $@

REL_EXTRA += $(BUILD)/rel/sim/sq_tlm.o
SAN_EXTRA += $(BUILD)/san/sim/sq_tlm.o
EXTRA_LDLIBS += -lsystemc
