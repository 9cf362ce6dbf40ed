# HLS kernels (hls/<unit>/*.c) are compiled by gcc for the csim level. Their Vitis
# HLS directives are `#pragma HLS ...`, unknown to gcc, and every loop carries
# a label for the HLS reports that nothing jumps to; -Wall turns both into
# errors, so these two warnings (and only these) are off for hls/ objects.
HLS_OBJS_REL := $(patsubst %.c,$(BUILD)/rel/%.o,$(wildcard hls/*/*.c))
HLS_OBJS_SAN := $(patsubst %.c,$(BUILD)/san/%.o,$(wildcard hls/*/*.c))
$(HLS_OBJS_REL): CFLAGS_REL += -Wno-unknown-pragmas -Wno-unused-label
$(HLS_OBJS_SAN): CFLAGS_SAN += -Wno-unknown-pragmas -Wno-unused-label
# test_gemm checks that the s_axilite offsets written in the pragmas match spec.h.
$(BUILD)/san/tests/test_gemm.o: CFLAGS_SAN += -DSQ_HLS_GEMM_SRC='"$(abspath hls/gemm/sq_gemm.c)"'
# test_attn checks the same for the attention kernel, and
$(BUILD)/san/tests/test_attn.o: CFLAGS_SAN += -DSQ_HLS_ATTN_SRC='"$(abspath hls/attn/sq_attn.c)"'
# test_vec_levels the same for the vector unit's.
$(BUILD)/san/tests/test_vec_levels.o: CFLAGS_SAN += -DSQ_HLS_VEC_SRC='"$(abspath hls/vec/sq_vec.c)"'
