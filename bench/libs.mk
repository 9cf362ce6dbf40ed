# bench/libs.sh: code sparq wrote by hand against the libraries that replaced
# it, measured side by side. The replaced sources are taken from git as of
# LIBS_OLD into $(LIBS_OLD_DIR) by the script; these rules link them beside
# the current build. Included by the top Makefile.
LIBS_OLD_DIR := $(BUILD)/bench/old
$(LIBS_OLD_DIR)/%.o: $(LIBS_OLD_DIR)/%.c
	$(CC) $(CFLAGS_REL) -I$(LIBS_OLD_DIR) -c $< -o $@
$(BUILD)/bench_crc: $(BUILD)/rel/bench/crc_bench.o $(LIBS_OLD_DIR)/crc32.o
	$(CC) $^ -o $@ -lz
# Fragments after this one still add to REL_EXTRA, so the objects are named in
# the recipe (expanded when it runs); build/sparq's prerequisites build them.
$(BUILD)/bench_gptq: $(BUILD)/rel/bench/gptq_bench.o $(BUILD)/sparq
	$(CXX) $< $(REL_LIB_OBJS) $(REL_EXTRA) -o $@ $(LDLIBS) $(EXTRA_LDLIBS)
$(BUILD)/bench_gptq_old: $(BUILD)/rel/bench/gptq_bench.o $(LIBS_OLD_DIR)/linalg.o $(BUILD)/sparq
	$(CXX) $< $(LIBS_OLD_DIR)/linalg.o $(filter-out %/linalg.o,$(REL_LIB_OBJS)) $(REL_EXTRA) \
	  -o $@ $(LDLIBS) $(EXTRA_LDLIBS)
