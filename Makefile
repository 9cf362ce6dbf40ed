# sparq — top-level build. `make help` lists the targets.
#
# Two flavours of every C object: build/rel (optimised, for the CLI users run)
# and build/san (AddressSanitizer + UBSan, for `make test`). Units with their
# own toolchains (Verilator RTL, yosys) add rules through */*.mk fragments.

BUILD      ?= build
# One job per core unless the command line says otherwise (a -j there wins):
# on a clean clone `make test` is mostly compiling (the Verilated units).
MAKEFLAGS  += -j$(shell nproc)
SHARED     ?= $(abspath ../shared)
CC         ?= gcc
CXX        ?= g++
PYTHON     ?= .venv/bin/python
# Warnings are errors everywhere (DEVELOPERS.md); C11 plus POSIX for getopt/clock_gettime.
CSTD       := -std=c11 -D_POSIX_C_SOURCE=200809L
WARN       := -Wall -Wextra -Werror
# Public spec/numerics headers and host-internal headers.
INCLUDES   := -Iinclude -Ihost
OPT        ?= -O2 -g
# float-cast-overflow: gcc leaves it out of "undefined" (clang does not)
SANITIZE   := -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all \
              -fno-omit-frame-pointer
# Where tests find ../shared (models, data) and the CLI binary they drive.
TEST_DEFS  := -DSQ_SHARED_DIR='"$(SHARED)"' -DSQ_SPARQ_BIN='"$(abspath $(BUILD)/san/sparq)"' \
              -DSQ_PYTHON='"$(abspath $(PYTHON))"' -DSQ_SRC_DIR='"$(abspath .)"'
# Debian libraries the host code calls (README, "Libraries and why"):
# cJSON (JSON, safetensors headers), zlib (.sqm CRC-32), utf8proc (Unicode
# classes for the tokenizers), LAPACKE over OpenBLAS (compression's linalg).
LDLIBS     := -lcjson -lz -lutf8proc -llapacke -lopenblas -lm

# $(call sq_opcode,Attn): a unit's opcode as the generated spec package has it,
# for the Opcode parameter of a standalone unit kernel (rtl/common/sq_unit_top.sv)
sq_opcode   = $(shell sed -n 's/.*SqOp$(1) = 32.d\([0-9]*\);/\1/p' rtl/common/sq_spec_pkg.sv)

CFLAGS_REL := $(CSTD) $(WARN) $(INCLUDES) $(OPT) -MMD -MP
CFLAGS_SAN := $(CSTD) $(WARN) $(INCLUDES) -O1 -g $(SANITIZE) -MMD -MP

LIB_SRCS   := $(filter-out host/cli/main.c,$(wildcard host/*/*.c)) $(wildcard hls/*/*.c)
CLI_SRCS   := host/cli/main.c
TEST_SRCS  := $(wildcard tests/test_*.c)
SUITES     := $(patsubst tests/test_%.c,%,$(TEST_SRCS))

REL_LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/rel/%.o)
SAN_LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/san/%.o)
# Extra objects/libraries (e.g. the Verilated RTL) contributed by fragments.
REL_EXTRA  :=
SAN_EXTRA  :=
EXTRA_LDLIBS :=

.PHONY: all test lint demo bench clean help deps models
all: $(BUILD)/sparq

help:
	@echo "make           build build/sparq (with Open MPI when mpicc is installed; MPI=0 without)"
	@echo "make demo      install what is missing, build, run the main job"
	@echo "make test      every test under ASan+UBSan, suites side by side (SUITE=name runs one)"
	@echo "make lint      verilator --lint-only -Wall on the RTL"
	@echo "make bench     benchmarks, written to bench/results/"
	@echo "make fuzz      AFL++ on every loader, FUZZ_S seconds each (fuzz/README.md)"
	@echo "make fuzz-seeds  rewrite the seed corpus fuzz/corpus/*/seed-*"
	@echo "make deps      install system and Python packages (scripts/deps.sh)"
	@echo "make models    fetch stories260K + tok512 into models/ if not found"
	@echo "make clean     remove build/"

# deps.sh is cheap to re-run but apt needs root: only call it when a marker is missing.
deps: .venv/.deps-ok
.venv/.deps-ok: scripts/deps.sh
	./scripts/deps.sh

# Behavioural models of the vendor primitives the RTL instantiates (the GEMM
# PE's DSP48E2s), for the Verilator builds of the fragments below only: yosys
# and Vivado bring their own.
VL_PRIMS := sim/DSP48E2.sv
-include $(filter-out $(BUILD)/%,$(wildcard */*.mk */*/*.mk))

$(BUILD)/rel/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_REL) -c $< -o $@
$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_SAN) $(TEST_DEFS) -c $< -o $@

$(BUILD)/sparq: $(BUILD)/rel/host/cli/main.o $(REL_LIB_OBJS) $(REL_EXTRA)
	$(CXX) $^ -o $@ $(LDLIBS) $(EXTRA_LDLIBS)
$(BUILD)/san/sparq: $(BUILD)/san/host/cli/main.o $(SAN_LIB_OBJS) $(SAN_EXTRA)
	$(CXX) $(SANITIZE) $^ -o $@ $(LDLIBS) $(EXTRA_LDLIBS)

# The test runner collects every tests/test_<name>.c's <name>_suite().
$(BUILD)/gen/suites.h: $(TEST_SRCS) Makefile
	@mkdir -p $(dir $@)
	@printf '%s\n' $(foreach s,$(SUITES),"X($(s))") > $@.tmp && mv $@.tmp $@
$(BUILD)/san/tests/runner.o: $(BUILD)/gen/suites.h
$(BUILD)/san/tests/runner.o: CFLAGS_SAN += -I$(BUILD)/gen
$(BUILD)/san/run_tests: $(BUILD)/san/tests/runner.o $(TEST_SRCS:%.c=$(BUILD)/san/%.o) $(BUILD)/san/tests/testutil.o $(BUILD)/san/tests/gguf_writer.o $(SAN_LIB_OBJS) $(SAN_EXTRA)
	$(CXX) $(SANITIZE) $^ -o $@ $(LDLIBS) $(EXTRA_LDLIBS) $$(pkg-config --libs check)

# Each test runs in its own forked process (Check's default) under ASan+UBSan.
# PoCL (the opencl level) caches the kernels it compiles under build/, not in
# ~/.cache.
TEST_ENV  := ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
             POCL_CACHE_DIR=$(abspath $(BUILD))/pocl-cache
TEST_BINS := deps $(BUILD)/san/run_tests $(BUILD)/san/sparq $(TEST_PREREQS)
ifneq ($(SUITE),)
test: $(TEST_BINS)
	@cd $(BUILD)/san && $(TEST_ENV) CK_RUN_SUITE=$(SUITE) ./run_tests
else
# Every suite as its own job, side by side (MAKEFLAGS' -j): each writes
# build/test-logs/<suite>.log and prints one line as it ends; a failed
# suite prints its log, and `test` fails after all have run. The slowest
# suites start first, so that the run does not end on one of them alone.
SLOW_SUITES := intlayer bert_compress parallel attn compress bert_int attn_model bert_device sweep \
               program xrt opencl vec_levels
TEST_RUNS := $(patsubst %,test-%,$(filter $(SUITES),$(SLOW_SUITES)) \
               $(filter-out $(SLOW_SUITES),$(SUITES)))
.PHONY: $(TEST_RUNS)
test: $(TEST_RUNS)
	@cd $(BUILD)/test-logs && failed=$$(for s in $(SUITES); do \
	  [ "$$(cat $$s.rc)" = 0 ] || printf ' %s' $$s; done); \
	  if [ -n "$$failed" ]; then echo "make test: failed:$$failed (logs in $(BUILD)/test-logs/)"; exit 1; fi; \
	  echo "make test: all $(words $(SUITES)) suites passed"
$(TEST_RUNS): test-%: $(TEST_BINS)
	@mkdir -p $(BUILD)/test-logs && cd $(BUILD)/san && t0=$$(date +%s); \
	  $(TEST_ENV) CK_RUN_SUITE=$* ./run_tests >../test-logs/$*.log 2>&1; rc=$$?; echo $$rc >../test-logs/$*.rc; \
	  printf '%-16s %4ss  %s\n' $* $$(($$(date +%s) - t0)) "$$(grep -E '^[0-9]+%: ' ../test-logs/$*.log | tail -1)"; \
	  if [ $$rc -ne 0 ]; then cat ../test-logs/$*.log; fi
endif

# Every bench/*.sh writes its bench/results/*.md; the references they compare
# against (torch, llama.cpp) are installed only here.
bench: deps $(BUILD)/sparq
	./scripts/deps.sh --bench
	@set -e; for b in bench/*.sh; do echo "== $$b"; $$b; done

demo: deps $(BUILD)/sparq
	./scripts/demo.sh

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
