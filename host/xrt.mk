# XRT (Debian's libxrt-dev 2.13): the xrt level (host/runtime/level_xrt.c)
# and the xclbin tools of bitstreams/vitis/. Included by the top Makefile.
# `pkg-config xrt` is broken on Debian 12, hence the plain paths. On a card
# machine with AMD's XRT package instead: XRT_INC=/opt/xilinx/xrt/include
# XRT_LIB=/opt/xilinx/xrt/lib (docs/xrt.md).

XRT_INC ?= /usr/include/xrt
XRT_LIB ?=
comma := ,
XRT_LDLIBS := $(if $(XRT_LIB),-L$(XRT_LIB) -Wl$(comma)-rpath$(comma)$(XRT_LIB)) -lxrt_coreutil
XRT_OBJS := $(foreach f,rel san,$(BUILD)/$(f)/host/runtime/level_xrt.o) $(BUILD)/san/tests/test_xrt.o
$(XRT_OBJS): CFLAGS_REL += -isystem $(XRT_INC)
$(XRT_OBJS): CFLAGS_SAN += -isystem $(XRT_INC)
EXTRA_LDLIBS += $(XRT_LDLIBS)

# xclbingen writes the metadata-only xclbin of our two kernels (and the RTL
# kernels' kernel.xml for the Vitis flow); xclbin-ls
# prints what XRT's own parser reads from any xclbin (Debian's xclbinutil is
# a wrapper without its binary).
$(BUILD)/xclbingen: bitstreams/vitis/xclbingen.c include/sparq/spec.h include/sparq/kernels.h sim/sq_axi.h
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) $(INCLUDES) -isystem $(XRT_INC) -O1 $< -o $@
$(BUILD)/xclbin-ls: bitstreams/vitis/xclbin_ls.cpp
	@mkdir -p $(dir $@)
	$(CXX) -std=c++17 $(WARN) -isystem $(XRT_INC) -O1 $< -o $@ $(XRT_LDLIBS)
TEST_PREREQS += $(BUILD)/xclbingen $(BUILD)/xclbin-ls
$(BUILD)/san/tests/test_xrt.o: CFLAGS_SAN += -DSQ_XCLBINGEN_BIN='"$(abspath $(BUILD)/xclbingen)"' \
  -DSQ_XCLBIN_LS_BIN='"$(abspath $(BUILD)/xclbin-ls)"'
# test_xrt drives the Vitis Makefile with stub tools (and without them) and
# lints the RTL kernel wrappers.
$(BUILD)/san/tests/test_xrt.o: CFLAGS_SAN += -DSQ_ROOT_DIR='"$(abspath .)"'
