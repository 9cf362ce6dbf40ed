/* Device API: level table, memory bounds, the bump allocator, descriptor
 * validation (every rule of host/runtime/desc.h), command runs and counters. */
#include <stdlib.h>
#include <string.h>

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
            {0, SQ_GEMM_W_FLAGS, 0x20, 0, 0, "unknown gemm flags 0x20"},
            {0, SQ_GEMM_W_FLAGS, SQ_GEMM_W4 | SQ_GEMM_SP24, 0, 0, "exclusive"},
            {0, SQ_GEMM_W_M, 0, 0, 0, "outside [1, 65536]"},
            {0, SQ_GEMM_W_N, 0, 0, 0, "outside [1, 65536]"},
            {0, SQ_GEMM_W_K, 0, 0, 0, "outside [1, 65536]"},
            {0, SQ_GEMM_W_K, SQ_GEMM_MAX_DIM + 1, 0, 0, "outside [1, 65536]"},
            {0, 99, 0, SQ_GEMM_W_A_LO, 1 << 16, "gemm A"},
            {0, 99, 0, SQ_GEMM_W_A_LO, UINT64_MAX - 8, "outside device memory"},
            {0, 99, 0, SQ_GEMM_W_W_LO, (1 << 16) - 10, "gemm W"},
            {0, 99, 0, SQ_GEMM_W_C_LO, 0, "C overlaps its input A"},
            {sp, 99, 0, SQ_GEMM_W_BIAS_LO, 2, "BIAS address 0x2 not 4-byte aligned"},
            {sp, 99, 0, SQ_GEMM_W_META_LO, UINT64_MAX, "gemm META"},
            {SQ_GEMM_OUT32, 99, 0, SQ_GEMM_W_C_LO, 1 << 12 | 1, "C address"},
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
    ck_assert_int_eq(memcmp(&d, &back, sizeof d), 0);
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
    return s;
}
