# Fuzzing (fuzz/README.md): the targets of fuzz/targets.c built three ways.
#  - build/san/sparq-fuzz: gcc with ASan + UBSan, replays fuzz/corpus and
#    fuzz/crashes in `make test` (tests/test_fuzz.c);
#  - build/afl/sparq-fuzz: AFL++'s afl-clang-fast (clang 14; AFL++'s gcc
#    plugin does not match Debian's gcc 12), also with ASan + UBSan, for
#    `make fuzz`;
#  - build/fuzz-seeds: writes the seed corpus (`make fuzz-seeds`).
# Included by the top Makefile.

AFL_CC    ?= afl-clang-fast
AFL_CXX   ?= afl-clang-fast++
AFL_DIR   := $(BUILD)/afl
FUZZ_SRCS := fuzz/main.c fuzz/targets.c
# Seconds per target for `make fuzz` (or FUZZ_EXECS executions per target),
# and which targets (default: all of them, one after another).
FUZZ_S    ?= 60
FUZZ_EXECS ?=
FUZZ_TARGETS ?= llama tokenizer safetensors gguf sqm sqm-crc xclbin desc

# clang's warnings differ from gcc's: reported, not fatal, in this build.
# (= not :=: XRT_INC comes from host/xrt.mk, read after this fragment)
AFL_CFLAGS = $(CSTD) $(INCLUDES) -Ifuzz -I$(BUILD)/gen -isystem $(XRT_INC) -O2 -g \
              -Wall -Wextra -Wno-unknown-pragmas -Wno-unused-label $(SANITIZE)
# SystemC (the tlm level) wants an sc_main; these binaries do without it.
FUZZ_LDLIBS = $(LDLIBS) $(filter-out -lsystemc,$(EXTRA_LDLIBS))
# The library as an archive, so a binary takes only the objects it calls: the
# rtl and tlm levels (weak in device.c) stay out, with the Verilated models.
$(AFL_DIR)/%.o: %.c $(BUILD)/gen/sq_hls_cl.h
	@mkdir -p $(dir $@)
	$(AFL_CC) $(AFL_CFLAGS) -c $< -o $@
$(AFL_DIR)/libsparq.a: $(LIB_SRCS:%.c=$(AFL_DIR)/%.o)
	rm -f $@ && $(AR) rcs $@ $^
$(BUILD)/san/libsparq.a: $(SAN_LIB_OBJS)
	rm -f $@ && $(AR) rcs $@ $^
$(BUILD)/rel/libsparq.a: $(REL_LIB_OBJS)
	rm -f $@ && $(AR) rcs $@ $^

$(AFL_DIR)/sparq-fuzz: $(FUZZ_SRCS:%.c=$(AFL_DIR)/%.o) $(AFL_DIR)/libsparq.a
	$(AFL_CXX) $(SANITIZE) $^ -o $@ $(FUZZ_LDLIBS)

$(BUILD)/san/fuzz/%.o: CFLAGS_SAN += -Ifuzz
$(BUILD)/san/sparq-fuzz: $(FUZZ_SRCS:%.c=$(BUILD)/san/%.o) $(BUILD)/san/libsparq.a
	$(CXX) $(SANITIZE) $^ -o $@ $(FUZZ_LDLIBS)
TEST_PREREQS += $(BUILD)/san/sparq-fuzz
$(BUILD)/san/tests/test_fuzz.o: CFLAGS_SAN += -DSQ_FUZZ_BIN='"$(abspath $(BUILD)/san/sparq-fuzz)"' \
  -DSQ_FUZZ_DIR='"$(abspath fuzz)"'

$(BUILD)/rel/fuzz/%.o: CFLAGS_REL += -Ifuzz -Itests
$(BUILD)/fuzz-seeds: $(BUILD)/rel/fuzz/seeds.o $(BUILD)/rel/tests/gguf_writer.o $(BUILD)/rel/libsparq.a
	$(CXX) $^ -o $@ $(FUZZ_LDLIBS)

.PHONY: fuzz fuzz-seeds
# Rewrites the seed-* files of fuzz/corpus (other corpus files are kept).
fuzz-seeds: $(BUILD)/fuzz-seeds $(BUILD)/xclbingen
	$(BUILD)/fuzz-seeds fuzz/corpus $(SHARED)/models/tok512.bin
	@mkdir -p fuzz/corpus/xclbin
	$(BUILD)/xclbingen fuzz/corpus/xclbin/seed-kernels.xclbin >/dev/null

# One campaign per target, one after another, niced (the machine is shared);
# then bench/results/fuzz.md from every campaign's fuzzer_stats.
fuzz: $(AFL_DIR)/sparq-fuzz
	./scripts/deps.sh --fuzz
	FUZZ_S=$(FUZZ_S) FUZZ_EXECS=$(FUZZ_EXECS) ./fuzz/run.sh $(AFL_DIR)/sparq-fuzz $(FUZZ_TARGETS)
