/* Device API: level table, memory bounds, the bump allocator, descriptor
 * validation (every rule of host/runtime/desc.h), command runs and counters. */
#include <stdlib.h>
#include <string.h>

#include "runtime/attn_case.h"
#include "runtime/desc.h"
#include "runtime/device.h"
#include "runtime/gemm_case.h"
#include "testutil.h"
#include "util/err.h"

extern const sq_level_ops_t sq_level_rtl __attribute__((weak));

static const char *const host_levels[] = {"ref", "csim"};
#define N_HOST_LEVELS (sizeof host_levels / sizeof host_levels[0])

static sq_dev_t *open_level(const char *level, uint64_t mem_bytes)
{
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, level);
    cfg.mem_bytes = mem_bytes;
    sq_dev_t *dev = NULL;
    int rc = sq_dev_open(&cfg, &dev);
    ck_assert_msg(rc == 0, "open %s: %s", level, sq_err_msg());
    return dev;
}

static void assert_err(int rc, int code, const char *needle)
{
    ck_assert_int_eq(rc, code);
    ck_assert_msg(strstr(sq_err_msg(), needle), "message '%s' lacks '%s'", sq_err_msg(), needle);
    ck_assert_ptr_null(strchr(sq_err_msg(), '\n'));
}

START_TEST(test_config_default)
{
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, "csim");
    ck_assert_str_eq(cfg.level, "csim");
    ck_assert_uint_eq(cfg.mem_bytes, 256ull << 20);
    ck_assert_double_eq(cfg.mem_gbps, 19.2);
    ck_assert_double_eq(cfg.mem_latency_ns, 100.0);
    ck_assert_double_eq(cfg.clock_mhz, 300.0);
    ck_assert_ptr_null(cfg.fst_path);
    sq_dev_t *dev = open_level("csim", 1 << 20);
    ck_assert_str_eq(sq_dev_level(dev), "csim");
    sq_dev_close(dev);
    sq_dev_close(NULL);
}
END_TEST

START_TEST(test_open_errors)
{
    sq_dev_config_t cfg;
    sq_dev_t *dev = (sq_dev_t *)&cfg;
    sq_dev_config_default(&cfg, "tpu");
    assert_err(sq_dev_open(&cfg, &dev), SQ_ERR_DEV, "unknown level 'tpu'");
    ck_assert_ptr_null(dev);
    cfg.level = NULL;
    assert_err(sq_dev_open(&cfg, &dev), SQ_ERR_DEV, "unknown level ''");
    sq_dev_config_default(&cfg, "ref");
    cfg.mem_bytes = 0;
    assert_err(sq_dev_open(&cfg, &dev), SQ_ERR_ARG, "device memory of 0 bytes");
    sq_dev_config_default(&cfg, "ref");
    cfg.mem_gbps = 0;
    assert_err(sq_dev_open(&cfg, &dev), SQ_ERR_ARG, "bandwidth");
    if (&sq_level_rtl == NULL) {
        /* this binary was linked without rtl/ */
        sq_dev_config_default(&cfg, "rtl");
        assert_err(sq_dev_open(&cfg, &dev), SQ_ERR_DEV, "level 'rtl' is not built");
    }
}
END_TEST

START_TEST(test_alloc)
{
    sq_dev_t *dev = open_level("ref", 4096);
    uint64_t a, b, c;
    ck_assert_int_eq(sq_dev_alloc(dev, 1, &a), 0);
    ck_assert_int_eq(sq_dev_alloc(dev, 65, &b), 0);
    ck_assert_int_eq(sq_dev_alloc(dev, 1, &c), 0);
    ck_assert_uint_eq(a, 0);
    ck_assert_uint_eq(b, 64);
    ck_assert_uint_eq(c, 192);
    assert_err(sq_dev_alloc(dev, 0, &a), SQ_ERR_ARG, "0 bytes");
    ck_assert_int_eq(sq_dev_alloc(dev, 4096 - 256, &a), 0);
    ck_assert_uint_eq(a, 256);
    assert_err(sq_dev_alloc(dev, 1, &a), SQ_ERR_MEM, "device memory exhausted");
    assert_err(sq_dev_alloc(dev, SIZE_MAX, &a), SQ_ERR_MEM, "device memory exhausted");
    /* free_all resets the allocator but keeps the contents */
    ck_assert_int_eq(sq_dev_write(dev, 300, "xyz", 3), 0);
    sq_dev_free_all(dev);
    ck_assert_int_eq(sq_dev_alloc(dev, 4096, &a), 0);
    ck_assert_uint_eq(a, 0);
    char back[3];
    ck_assert_int_eq(sq_dev_read(dev, 300, back, 3), 0);
    ck_assert_int_eq(memcmp(back, "xyz", 3), 0);
    /* put: an absent operand is address 0 and takes no memory */
    sq_dev_free_all(dev);
    ck_assert_int_eq(sq_dev_put(dev, NULL, 10, &a), 0);
    ck_assert_int_eq(sq_dev_put(dev, NULL, 0, &b), 0);
    ck_assert_int_eq(sq_dev_put(dev, "abc", 3, &c), 0);
    ck_assert_uint_eq(a, 0);
    ck_assert_uint_eq(b, 0);
    ck_assert_uint_eq(c, 64);
    ck_assert_int_eq(sq_dev_read(dev, c, back, 3), 0);
    ck_assert_int_eq(memcmp(back, "abc", 3), 0);
    assert_err(sq_dev_put(dev, "abc", 4096, &a), SQ_ERR_MEM, "device memory exhausted");
    sq_dev_close(dev);
}
END_TEST

START_TEST(test_read_write_bounds)
{
    for (size_t l = 0; l < N_HOST_LEVELS; l++) {
        sq_dev_t *dev = open_level(host_levels[l], 1024);
        uint8_t buf[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, back[16];
        ck_assert_int_eq(sq_dev_write(dev, 1024 - 16, buf, 16), 0);
        ck_assert_int_eq(sq_dev_read(dev, 1024 - 16, back, 16), 0);
        ck_assert_int_eq(memcmp(buf, back, 16), 0);
        ck_assert_int_eq(sq_dev_write(dev, 1024, buf, 0), 0);
        assert_err(sq_dev_write(dev, 1024 - 15, buf, 16), SQ_ERR_ARG, "outside memory");
        assert_err(sq_dev_write(dev, 1025, buf, 0), SQ_ERR_ARG, "outside memory");
        assert_err(sq_dev_read(dev, UINT64_MAX, back, 1), SQ_ERR_ARG, "outside memory");
        assert_err(sq_dev_read(dev, 8, back, SIZE_MAX), SQ_ERR_ARG, "outside memory");
        assert_err(sq_dev_write(dev, 0, NULL, 4), SQ_ERR_ARG, "NULL");
        sq_dev_close(dev);
    }
}
END_TEST

/* A valid single-GEMM stream on dev; returns its case (caller frees). */
static void place_case(sq_dev_t *dev, sq_gemm_case_t *gc, uint32_t flags, uint64_t *cmd)
{
    sq_dev_free_all(dev);
    ck_assert_int_eq(sq_gemm_case_build(gc, 5, 6, 11, flags, 42), 0);
    ck_assert_int_eq(sq_gemm_case_place(dev, gc, cmd), 0);
}

/* Rewrites one word of the descriptor at cmd. */
static void poke(sq_dev_t *dev, uint64_t cmd, unsigned word, uint32_t v)
{
    uint8_t b[4];
    sq_st32(b, v);
    ck_assert_int_eq(sq_dev_write(dev, cmd + 4u * word, b, 4), 0);
}

static void poke_addr(sq_dev_t *dev, uint64_t cmd, unsigned lo, uint64_t addr)
{
    poke(dev, cmd, lo, (uint32_t)addr);
    poke(dev, cmd, lo + 1, (uint32_t)(addr >> 32));
}

START_TEST(test_bad_descriptors)
{
    const uint32_t sp = SQ_GEMM_SP24 | SQ_GEMM_BIAS;
    for (size_t l = 0; l < N_HOST_LEVELS; l++) {
        sq_dev_t *dev = open_level(host_levels[l], 1 << 16);
        sq_gemm_case_t gc;
        uint64_t cmd;
        struct {
            uint32_t flags;
            unsigned word; /* 99: an address pair, value in addr */
            uint32_t value;
            unsigned lo;
            uint64_t addr;
            const char *needle;
        } bad[] = {
            {0, SQ_GEMM_W_OPCODE, 7, 0, 0, "descriptor 0: unknown opcode 7"},
            {0, SQ_GEMM_W_FLAGS, 0x40, 0, 0, "unknown gemm flags 0x40"},
            {0, SQ_GEMM_W_FLAGS, SQ_GEMM_W4 | SQ_GEMM_SP24, 0, 0, "exclusive"},
            {0, SQ_GEMM_W_M, 0, 0, 0, "outside [1, 65536]"},
            {0, SQ_GEMM_W_N, 0, 0, 0, "outside [1, 65536]"},
            {0, SQ_GEMM_W_K, 0, 0, 0, "outside [1, 65536]"},
            {0, SQ_GEMM_W_K, SQ_GEMM_MAX_DIM + 1, 0, 0, "outside [1, 65536]"},
            {0, 99, 0, SQ_GEMM_W_A_LO, 1 << 16, "gemm A"},
            {0, 99, 0, SQ_GEMM_W_A_LO, UINT64_MAX - 8, "of allocated device memory"},
            {0, 99, 0, SQ_GEMM_W_W_LO, (1 << 16) - 10, "gemm W"},
            {0, 99, 0, SQ_GEMM_W_C_LO, 0, "C overlaps its input A"},
            {sp, 99, 0, SQ_GEMM_W_BIAS_LO, 2, "BIAS address 0x2 not 4-byte aligned"},
            {sp, 99, 0, SQ_GEMM_W_META_LO, UINT64_MAX, "gemm META"},
            {SQ_GEMM_OUT32, 99, 0, SQ_GEMM_W_C_LO, 1, "C address 0x1 not 4-byte aligned"},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            place_case(dev, &gc, bad[i].flags, &cmd);
            if (bad[i].word == 99)
                poke_addr(dev, cmd, bad[i].lo, bad[i].addr);
            else
                poke(dev, cmd, bad[i].word, bad[i].value);
            assert_err(sq_dev_run(dev, cmd, 1, 0), SQ_ERR_FMT, bad[i].needle);
            sq_gemm_case_free(&gc);
        }
        /* C over the command stream itself */
        place_case(dev, &gc, 0, &cmd);
        poke_addr(dev, cmd, SQ_GEMM_W_C_LO, cmd);
        assert_err(sq_dev_run(dev, cmd, 1, 0), SQ_ERR_FMT, "overlaps the command stream");
        sq_gemm_case_free(&gc);
        /* data rules: quant range and 2:4 codes */
        place_case(dev, &gc, 0, &cmd);
        uint8_t word[4];
        sq_st32(word, SQ_SHIFT_MAX + 1);
        ck_assert_int_eq(sq_dev_write(dev, gc.d.quant + 8 * 3 + 4, word, 4), 0);
        assert_err(sq_dev_run(dev, cmd, 1, 0), SQ_ERR_FMT, "quant[3]");
        sq_st32(word, SQ_SHIFT_MAX);
        ck_assert_int_eq(sq_dev_write(dev, gc.d.quant + 8 * 3 + 4, word, 4), 0);
        sq_st32(word, 0);
        ck_assert_int_eq(sq_dev_write(dev, gc.d.quant + 8 * 5, word, 4), 0);
        assert_err(sq_dev_run(dev, cmd, 1, 0), SQ_ERR_FMT, "quant[5] = {mult 0");
        sq_gemm_case_free(&gc);
        place_case(dev, &gc, sp, &cmd);
        /* row 2's first meta byte: group 1 (high nibble) gets positions 1 and 1 */
        uint8_t code;
        ck_assert_int_eq(sq_dev_read(dev, gc.d.meta + 2 * 2, &code, 1), 0);
        code = (uint8_t)((code & 0x0F) | 0x50);
        ck_assert_int_eq(sq_dev_write(dev, gc.d.meta + 2 * 2, &code, 1), 0);
        assert_err(sq_dev_run(dev, cmd, 1, 0), SQ_ERR_FMT, "row 2 group 1 malformed");
        sq_gemm_case_free(&gc);
        /* the stream itself */
        assert_err(sq_dev_run(dev, 2, 1, 0), SQ_ERR_ARG, "misaligned or outside");
        assert_err(sq_dev_run(dev, (1 << 16) - 64, 1, 0), SQ_ERR_ARG, "misaligned or outside");
        assert_err(sq_dev_run(dev, 0, UINT32_MAX, 0), SQ_ERR_ARG, "misaligned or outside");
        ck_assert_int_eq(sq_dev_run(dev, 0, 0, 0), 0);
        sq_dev_close(dev);
    }
}
END_TEST

/* A bad descriptor anywhere in a stream stops it before any work is done. */
START_TEST(test_validate_before_run)
{
    for (size_t l = 0; l < N_HOST_LEVELS; l++) {
        sq_dev_t *dev = open_level(host_levels[l], 1 << 16);
        sq_gemm_case_t gc;
        uint64_t cmd, second;
        place_case(dev, &gc, 0, &cmd);
        ck_assert_int_eq(sq_dev_alloc(dev, SQ_DESC_BYTES, &second), 0);
        ck_assert_uint_eq(second, cmd + SQ_DESC_BYTES); /* 128 bytes: contiguous */
        uint8_t desc[SQ_DESC_BYTES];
        sq_gemm_desc_encode(&gc.d, desc);
        desc[4 * SQ_GEMM_W_OPCODE] = 9;
        ck_assert_int_eq(sq_dev_write(dev, second, desc, sizeof desc), 0);
        uint8_t c[30];
        memset(c, 0x5A, sizeof c);
        ck_assert_int_eq(sq_dev_write(dev, gc.d.c, c, sizeof c), 0);
        assert_err(sq_dev_run(dev, cmd, 2, 0), SQ_ERR_FMT, "descriptor 1: unknown opcode 9");
        uint8_t back[30];
        ck_assert_int_eq(sq_dev_read(dev, gc.d.c, back, sizeof back), 0);
        sq_assert_i8_eq((int8_t *)back, (int8_t *)c, sizeof c);
        sq_dev_stats_t st;
        sq_dev_stats(dev, &st);
        ck_assert_uint_eq(st.commands, 0);
        sq_gemm_case_free(&gc);
        sq_dev_close(dev);
    }
}
END_TEST

/* NOP, then a chain where the second GEMM reads the first one's output, then
 * a NOP and an int32 GEMM: runs execute in order and counters add up. */
START_TEST(test_stream_runs_and_counters)
{
    for (size_t l = 0; l < N_HOST_LEVELS; l++) {
        sq_dev_t *dev = open_level(host_levels[l], 1 << 20);
        sq_gemm_case_t g1, g2, g3;
        ck_assert_int_eq(sq_gemm_case_build(&g1, 19, 23, 37, SQ_GEMM_RELU, 1), 0);
        ck_assert_int_eq(sq_gemm_case_build(&g2, 19, 9, 23, SQ_GEMM_SP24 | SQ_GEMM_BIAS, 2), 0);
        ck_assert_int_eq(sq_gemm_case_build(&g3, 3, 40, 70, SQ_GEMM_W4 | SQ_GEMM_OUT32, 3), 0);
        uint64_t c1, c2, c3, stream;
        ck_assert_int_eq(sq_gemm_case_place(dev, &g1, &c1), 0);
        ck_assert_int_eq(sq_gemm_case_place(dev, &g2, &c2), 0);
        ck_assert_int_eq(sq_gemm_case_place(dev, &g3, &c3), 0);
        g2.d.a = g1.d.c; /* chain: A of the second is C of the first */
        sq_gemm_t chain = {
            .m = 19, .n = 9, .k = 23, .flags = g2.d.flags, .a = g1.golden, .w = g2.w,
            .meta = g2.meta, .bias = g2.bias, .quant = g2.quant, .c = g2.golden,
        };
        ck_assert_int_eq(sq_gemm_ref(&chain), 0);

        uint8_t cmds[5][SQ_DESC_BYTES] = {{0}};
        sq_gemm_desc_encode(&g1.d, cmds[1]);
        sq_gemm_desc_encode(&g2.d, cmds[2]);
        sq_gemm_desc_encode(&g3.d, cmds[4]);
        ck_assert_int_eq(sq_dev_alloc(dev, sizeof cmds, &stream), 0);
        ck_assert_int_eq(sq_dev_write(dev, stream, cmds, sizeof cmds), 0);
        ck_assert_int_eq(sq_dev_run(dev, stream, 5, 0), 0);

        int8_t o1[19 * 23], o2[19 * 9];
        int32_t o3[3 * 40];
        ck_assert_int_eq(sq_gemm_case_read(dev, &g1, o1), 0);
        ck_assert_int_eq(sq_gemm_case_read(dev, &g2, o2), 0);
        ck_assert_int_eq(sq_gemm_case_read(dev, &g3, o3), 0);
        sq_assert_i8_eq(o1, (int8_t *)g1.golden, sizeof o1);
        sq_assert_i8_eq(o2, (int8_t *)g2.golden, sizeof o2);
        sq_assert_i32_eq(o3, (int32_t *)g3.golden, 3 * 40);

        sq_dev_stats_t st;
        sq_dev_stats(dev, &st);
        uint64_t macs = 19 * 23 * 37 + 19 * 9 * (2 * 5 + 2) + 3 * 40 * 70;
        ck_assert_uint_eq(st.commands, 5);
        ck_assert_uint_eq(st.macs, macs);
        ck_assert_uint_eq(st.cycles, 0);
        ck_assert_uint_eq(st.bytes_written, 19 * 23 + 19 * 9 + 3 * 40 * 4);
        uint64_t rd = (19 * 37 + 23 * 37 + 23 * 8) + (19 * 23 + 9 * 12 + 9 * 3 + 9 * 4 + 9 * 8) +
                      (3 * 70 + 40 * 35);
        ck_assert_uint_eq(st.bytes_read, rd);
        /* counters accumulate across runs until reset */
        ck_assert_int_eq(sq_dev_run(dev, stream + 4 * SQ_DESC_BYTES, 1, 0), 0);
        sq_dev_stats(dev, &st);
        ck_assert_uint_eq(st.commands, 6);
        ck_assert_uint_eq(st.macs, macs + 3 * 40 * 70);
        sq_dev_stats_reset(dev);
        sq_dev_stats(dev, &st);
        ck_assert_uint_eq(st.macs + st.commands + st.bytes_read + st.bytes_written, 0);
        sq_gemm_case_free(&g1);
        sq_gemm_case_free(&g2);
        sq_gemm_case_free(&g3);
        sq_dev_close(dev);
    }
}
END_TEST

/* The stream header (spec.h): dependency and patch fields round-trip, and
 * the command processor's patch rule adds pos * u to a word or an address. */
START_TEST(test_header_fields)
{
    uint8_t d[SQ_DESC_BYTES];
    sq_gemm_desc_t g = {.m = 1, .n = 2, .k = 3, .a = 0xFFFFFFF0ull, .c = 100};
    sq_gemm_desc_encode(&g, d);
    const uint32_t dep[SQ_DESC_DEPS] = {1, 255, 7};
    sq_desc_set_deps(d, dep);
    ck_assert_uint_eq(sq_desc_opcode(d), SQ_OP_GEMM);
    for (unsigned i = 0; i < SQ_DESC_DEPS; i++)
        ck_assert_uint_eq(sq_desc_dep(d, i), dep[i]);
    ck_assert_uint_eq(sq_desc_word(d, 0), 0x07FF0101u);
    sq_desc_set_patch(d, 0, sq_desc_patch_word(SQ_GEMM_W_A_LO, 1, 3, 0x20));
    sq_desc_set_patch(d, 1, sq_desc_patch_word(SQ_GEMM_W_M, 0, 0, SQ_PATCH_MULT_MAX));
    uint32_t pos[SQ_RUN_POS] = {2, 0, 0, 5};
    sq_desc_apply_patches(d, pos);
    /* wide: the carry crosses into the high word */
    ck_assert_uint_eq(sq_desc_addr(d, SQ_GEMM_W_A_LO), 0xFFFFFFF0ull + 5 * 0x20);
    ck_assert_uint_eq(sq_desc_word(d, SQ_GEMM_W_M), 1 + 2 * SQ_PATCH_MULT_MAX);
    ck_assert_uint_eq(sq_desc_word(d, SQ_GEMM_W_C_LO), 100);
    ck_assert_uint_eq(sq_desc_dep(d, 1), 255); /* the header stays */
    ck_assert_int_eq(sq_desc_check_header(d, 255), 0);
    assert_err(sq_desc_check_header(d, 254), SQ_ERR_FMT,
               "descriptor 254: dependency on descriptor -1, before the stream");
    const uint32_t none[SQ_DESC_DEPS] = {0, 0, 0};
    sq_gemm_desc_encode(&g, d);
    sq_desc_set_deps(d, none);
    const uint32_t bad[] = {
        sq_desc_patch_word(SQ_DESC_W_PATCH0, 0, 0, 1), /* a patch word itself */
        sq_desc_patch_word(SQ_DESC_W_PATCH0 - 1, 1, 0, 1), /* wide into the patches */
        sq_desc_patch_word(0, 0, 1, 1),                 /* word 0, the header */
        sq_desc_patch_word(SQ_GEMM_W_M, 0, 0, 1) | 0x80u, /* reserved bit */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sq_desc_set_patch(d, 1, bad[i]);
        assert_err(sq_desc_check_header(d, 0), SQ_ERR_FMT, "position patch 1");
    }
}
END_TEST

/* Positions move a descriptor: one stream, C patched by pos * |C|, runs at
 * two positions into two places; the stream in memory is left as written. */
START_TEST(test_run_positions)
{
    for (size_t l = 0; l < N_HOST_LEVELS; l++) {
        sq_dev_t *dev = open_level(host_levels[l], 1 << 16);
        sq_gemm_case_t gc;
        uint64_t cmd, c2;
        place_case(dev, &gc, 0, &cmd);
        ck_assert_int_eq(sq_dev_alloc(dev, 2 * gc.b.c, &c2), 0);
        poke_addr(dev, cmd, SQ_GEMM_W_C_LO, c2);
        poke(dev, cmd, SQ_DESC_W_PATCH1,
             sq_desc_patch_word(SQ_GEMM_W_C_LO, 1, 6, (uint32_t)gc.b.c));
        uint8_t before[SQ_DESC_BYTES], after[SQ_DESC_BYTES];
        ck_assert_int_eq(sq_dev_read(dev, cmd, before, sizeof before), 0);
        sq_dev_stats_t per[1], st0, st;
        sq_run_args_t args = {.pos = {0, 0, 0, 0, 0, 0, 1}, .per_desc = per};
        sq_dev_stats(dev, &st0);
        ck_assert_int_eq(sq_dev_run_args(dev, cmd, 1, &args, 0), 0);
        sq_dev_stats(dev, &st);
        ck_assert_uint_eq(st.launches - st0.launches, 1);
        ck_assert_uint_eq(per[0].commands, 1);
        ck_assert_uint_eq(per[0].macs, 5 * 6 * 11);
        int8_t out[2 * 30], zero[30] = {0};
        ck_assert_int_eq(sq_dev_read(dev, c2, out, 2 * gc.b.c), 0);
        sq_assert_i8_eq(out, zero, 30);
        sq_assert_i8_eq(out + 30, (int8_t *)gc.golden, 30);
        ck_assert_int_eq(sq_dev_read(dev, cmd, after, sizeof after), 0);
        ck_assert_int_eq(memcmp(before, after, sizeof before), 0);
        /* position 2 would put C past what was allocated */
        args.pos[6] = 2;
        assert_err(sq_dev_run_args(dev, cmd, 1, &args, 0), SQ_ERR_FMT,
                   "gemm C [0x1fc, +30 bytes) outside the 508 bytes of allocated");
        sq_gemm_case_free(&gc);
        sq_dev_close(dev);
    }
}
END_TEST

/* Ordering rules: an attention that reads a GEMM's output needs a
 * dependency on it; no descriptor may write a GEMM's weights; host bytes
 * and launches are counted. */
START_TEST(test_stream_ordering)
{
    for (size_t l = 0; l < N_HOST_LEVELS; l++) {
        sq_dev_t *dev = open_level(host_levels[l], 1 << 20);
        sq_attn_params_t p = {.seq = 16, .queries = 1, .heads = 2, .kv_heads = 1,
                              .head_dim = 8, .flags = SQ_ATTN_CAUSAL, .seed = 5};
        sq_attn_case_t ac;
        ck_assert_int_eq(sq_attn_case_build(&ac, &p), 0);
        sq_gemm_case_t gc;
        ck_assert_int_eq(sq_gemm_case_build(&gc, 1, 16, 9, 0, 9), 0);
        uint64_t acmd, gcmd, stream;
        ck_assert_int_eq(sq_attn_case_place(dev, &ac, &acmd), 0);
        ck_assert_int_eq(sq_gemm_case_place(dev, &gc, &gcmd), 0);
        /* the GEMM writes the attention's Q (2 heads x 8) */
        gc.d.c = ac.d.q;
        uint8_t cmds[2][SQ_DESC_BYTES];
        sq_gemm_desc_encode(&gc.d, cmds[0]);
        sq_attn_desc_encode(&ac.d, cmds[1]);
        ck_assert_int_eq(sq_dev_alloc(dev, sizeof cmds, &stream), 0);
        ck_assert_int_eq(sq_dev_write(dev, stream, cmds, sizeof cmds), 0);
        assert_err(sq_dev_run(dev, stream, 2, 0), SQ_ERR_FMT,
                   "descriptor 1: its Q and the C of descriptor 0 (another unit) share bytes");
        const uint32_t dep[SQ_DESC_DEPS] = {0, 1, 0};
        sq_desc_set_deps(cmds[1], dep);
        ck_assert_int_eq(sq_dev_write(dev, stream, cmds, sizeof cmds), 0);
        sq_dev_stats_t st0, st;
        sq_dev_stats(dev, &st0);
        ck_assert_int_eq(sq_dev_run(dev, stream, 2, 0), 0);
        sq_dev_stats(dev, &st);
        ck_assert_uint_eq(st.launches - st0.launches, 2);
        ck_assert_uint_eq(st.host_bytes_written, st0.host_bytes_written);
        int8_t back[16];
        ck_assert_int_eq(sq_dev_read(dev, ac.d.q, back, 16), 0);
        sq_assert_i8_eq(back, (int8_t *)gc.golden, 16);
        sq_dev_stats(dev, &st0);
        ck_assert_uint_eq(st0.host_bytes_read, st.host_bytes_read + 16);
        /* a second GEMM whose C lands on the first one's weights */
        sq_gemm_case_t g2;
        ck_assert_int_eq(sq_gemm_case_build(&g2, 1, 4, 9, 0, 10), 0);
        ck_assert_int_eq(sq_gemm_case_place(dev, &g2, &gcmd), 0);
        g2.d.c = gc.d.w;
        sq_gemm_desc_encode(&g2.d, cmds[1]);
        ck_assert_int_eq(sq_dev_write(dev, stream, cmds, sizeof cmds), 0);
        assert_err(sq_dev_run(dev, stream, 2, 0), SQ_ERR_FMT,
                   "descriptor 1 writes the W of descriptor 0");
        sq_gemm_case_free(&g2);
        sq_gemm_case_free(&gc);
        sq_attn_case_free(&ac);
        sq_dev_close(dev);
    }
}
END_TEST

START_TEST(test_desc_roundtrip)
{
    sq_gemm_desc_t d = {
        .flags = 0x1F, .m = 1, .n = 65536, .k = 77, .a = 0x123456789Aull,
        .w = UINT64_MAX, .meta = 1, .bias = 1ull << 32, .quant = 0xFFFFFFFFull, .c = 64,
    }, back;
    uint8_t desc[SQ_DESC_BYTES];
    sq_gemm_desc_encode(&d, desc);
    ck_assert_uint_eq(sq_desc_opcode(desc), SQ_OP_GEMM);
    ck_assert_uint_eq(sq_desc_word(desc, SQ_GEMM_W_N), 65536);
    ck_assert_uint_eq(sq_desc_word(desc, SQ_GEMM_W_A_HI), 0x12);
    ck_assert_uint_eq(desc[4 * SQ_GEMM_W_A_LO], 0x9A); /* little-endian */
    sq_gemm_desc_decode(desc, &back);
    /* field by field: the struct has padding */
    ck_assert(d.flags == back.flags && d.m == back.m && d.n == back.n && d.k == back.k &&
              d.a == back.a && d.w == back.w && d.meta == back.meta && d.bias == back.bias &&
              d.quant == back.quant && d.c == back.c && d.group == back.group &&
              d.gscale == back.gscale);
    for (unsigned w = SQ_GEMM_W_C_HI + 1; w < SQ_DESC_WORDS; w++)
        ck_assert_uint_eq(sq_desc_word(desc, w), 0);
    ck_assert_uint_eq(sq_desc_word(desc, 5), 0);
    /* useful MACs of 2:4: two per full group, the partial group's positions < k */
    sq_gemm_desc_t s = {.flags = SQ_GEMM_SP24, .m = 2, .n = 3, .k = 4};
    const uint64_t per_row[] = {0, 1, 2, 2, 2, 3, 4, 4, 4};
    for (uint32_t k = 1; k <= 8; k++) {
        s.k = k;
        ck_assert_uint_eq(sq_gemm_desc_macs(&s), 6 * per_row[k]);
    }
}
END_TEST

Suite *device_suite(void)
{
    Suite *s = suite_create("device");
    TCase *tc = sq_tcase(s, "api", 30);
    tcase_add_test(tc, test_config_default);
    tcase_add_test(tc, test_open_errors);
    tcase_add_test(tc, test_alloc);
    tcase_add_test(tc, test_read_write_bounds);
    tcase_add_test(tc, test_desc_roundtrip);
    tc = sq_tcase(s, "streams", 60);
    tcase_add_test(tc, test_bad_descriptors);
    tcase_add_test(tc, test_validate_before_run);
    tcase_add_test(tc, test_stream_runs_and_counters);
    tcase_add_test(tc, test_header_fields);
    tcase_add_test(tc, test_run_positions);
    tcase_add_test(tc, test_stream_ordering);
    return s;
}
