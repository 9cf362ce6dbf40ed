# `sparq devices` (host/cli/cmd_devices.c) prints the versions of the tools
# behind the levels: Verilator's and SystemC's, taken when it is compiled.
# OpenCL's and XRT's come from their libraries and headers at run time.
DEVICES_OBJS := $(foreach f,rel san,$(BUILD)/$(f)/host/cli/cmd_devices.o)
DEVICES_DEFS := -DSQ_VERILATOR_VERSION='"$(shell verilator --version 2>/dev/null | sed 's/^Verilator //')"' \
                -DSQ_SYSTEMC_VERSION='"$(shell pkg-config --modversion systemc 2>/dev/null)"' \
                -isystem $(XRT_INC)
$(DEVICES_OBJS): CFLAGS_REL += $(DEVICES_DEFS)
$(DEVICES_OBJS): CFLAGS_SAN += $(DEVICES_DEFS)
