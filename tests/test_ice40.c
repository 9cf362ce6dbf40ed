/* The iCE40 UP5K build (bitstreams/ice40): its top, simulated by Verilator with
 * the bitstream's own RTL and parameters (sq_ice40_pkg), driven through its
 * UART pins by the host driver (host/ice40), every output compared with
 * sq_gemm_ref's on random and edge cases. */
#include <stdlib.h>
#include <string.h>

#include "../sim/sq_ice40_vl.h"
#include "ice40/ice40.h"
#include "runtime/gemm_case.h"
#include "sparq/desc.h"
#include "util/err.h"
#include "testutil.h"

static sq_ice40_sim_t *sim;
static sq_ice40_io_t io;

static void setup(void)
{
    sim = sq_ice40_sim_create();
    ck_assert_ptr_nonnull(sim);
    io = (sq_ice40_io_t){.ctx = sim, .send = sq_ice40_sim_send, .recv = sq_ice40_sim_recv};
}

static void teardown(void)
{
    sq_ice40_sim_destroy(sim);
}

/* Builds the case, runs it on the simulated board, compares every output. */
static void run_case(uint32_t m, uint32_t n, uint32_t k, uint32_t flags, uint64_t seed)
{
    sq_gemm_case_t gc;
    ck_assert_int_eq(sq_gemm_case_build(&gc, m, n, k, flags, seed), 0);
    void *out = malloc(gc.b.c);
    ck_assert_ptr_nonnull(out);
    memset(out, 0x5A, gc.b.c);
    uint32_t cycles = 0;
    int rc = sq_ice40_gemm(&io, &gc, out, &cycles);
    ck_assert_msg(rc == 0, "%ux%ux%u flags 0x%x: %s", m, n, k, flags, sq_err_msg());
    uint64_t first;
    uint64_t bad = sq_gemm_case_mismatches(&gc, out, &first);
    ck_assert_msg(bad == 0, "%ux%ux%u flags 0x%x seed %llu: %llu outputs differ, first %llu", m,
                  n, k, flags, (unsigned long long)seed, (unsigned long long)bad,
                  (unsigned long long)first);
    ck_assert_uint_gt(cycles, 0);
    free(out);
    sq_gemm_case_free(&gc);
}

START_TEST(test_ident)
{
    unsigned r = 0, c = 0;
    ck_assert_int_eq(sq_ice40_ident(&io, &r, &c), 0);
    ck_assert_uint_eq(r, 2);
    ck_assert_uint_eq(c, 2);
    /* an unknown command is answered, and the board still works after it */
    uint8_t cmd = 'x', rep;
    ck_assert_int_eq(sq_ice40_sim_send(sim, &cmd, 1), 0);
    ck_assert_int_eq(sq_ice40_sim_recv(sim, &rep, 1), 0);
    ck_assert_uint_eq(rep, '?');
    ck_assert_int_eq(sq_ice40_ident(&io, &r, &c), 0);
}
END_TEST

/* Both byte lanes of the 16-bit SPRAM, odd addresses and lengths, the top. */
START_TEST(test_memory)
{
    uint64_t rng = 0x1ce40;
    uint8_t buf[300], back[300];
    const uint32_t addrs[] = {0, 1, 255, 4097, SQ_ICE40_MEM_BYTES - 300};
    for (size_t t = 0; t < sizeof addrs / sizeof addrs[0]; t++) {
        size_t n = 1 + (size_t)(sq_test_rand(&rng) % sizeof buf);
        if (addrs[t] + n > SQ_ICE40_MEM_BYTES)
            n = SQ_ICE40_MEM_BYTES - addrs[t];
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)sq_test_rand(&rng);
        ck_assert_int_eq(sq_ice40_write(&io, addrs[t], buf, n), 0);
        ck_assert_int_eq(sq_ice40_read(&io, addrs[t], back, n), 0);
        ck_assert_mem_eq(back, buf, n);
    }
    /* the byte before and after a write keep their values */
    uint8_t fill[4] = {1, 2, 3, 4}, one = 0xEE, got[4];
    ck_assert_int_eq(sq_ice40_write(&io, 1000, fill, 4), 0);
    ck_assert_int_eq(sq_ice40_write(&io, 1001, &one, 1), 0);
    ck_assert_int_eq(sq_ice40_read(&io, 1000, got, 4), 0);
    ck_assert_uint_eq(got[0], 1);
    ck_assert_uint_eq(got[1], 0xEE);
    ck_assert_uint_eq(got[2], 3);
    /* a zero-length write is acknowledged; out-of-range requests never leave the host */
    ck_assert_int_eq(sq_ice40_write(&io, 5, buf, 0), 0);
    ck_assert_int_eq(sq_ice40_write(&io, SQ_ICE40_MEM_BYTES - 1, buf, 2), SQ_ERR_ARG);
    ck_assert_int_eq(sq_ice40_read(&io, SQ_ICE40_MEM_BYTES + 1, buf, 0), SQ_ERR_ARG);
}
END_TEST

/* Random shapes across tile edges (M, N odd and even around the 2x2 array, K
 * odd and even) and every flag combination the board runs. */
START_TEST(test_random)
{
    uint64_t rng = 0x1ce40 + (uint64_t)_i;
    static const uint32_t flags[] = {0,
                                     SQ_GEMM_RELU,
                                     SQ_GEMM_OUT32,
                                     SQ_GEMM_BIAS,
                                     SQ_GEMM_BIAS | SQ_GEMM_RELU,
                                     SQ_GEMM_BIAS | SQ_GEMM_OUT32 | SQ_GEMM_RELU};
    for (int t = 0; t < 6; t++) {
        uint32_t m = 1 + (uint32_t)(sq_test_rand(&rng) % 9);
        uint32_t n = 1 + (uint32_t)(sq_test_rand(&rng) % 9);
        uint32_t k = 1 + (uint32_t)(sq_test_rand(&rng) % 24);
        run_case(m, n, k, flags[t], sq_test_rand(&rng));
    }
}
END_TEST

/* Dims of 1, a single row or column, one K step, K across a longer reduction. */
START_TEST(test_shapes)
{
    run_case(1, 1, 1, 0, 1);
    run_case(1, 1, 1, SQ_GEMM_OUT32, 2);
    run_case(1, 5, 3, SQ_GEMM_BIAS, 3);
    run_case(5, 1, 2, SQ_GEMM_RELU, 4);
    run_case(2, 2, 2, 0, 5);
    run_case(3, 4, 65, SQ_GEMM_BIAS | SQ_GEMM_OUT32, 6);
}
END_TEST

/* int8 -128 everywhere: K products of 16384 in int32, and saturation of the
 * requantized value at 127 and -128 (mult 1, shift 0 passes the sum through). */
START_TEST(test_extremes)
{
    const uint32_t k = 33;
    for (int sign = 0; sign < 2; sign++) {
        for (int out32 = 0; out32 < 2; out32++) {
            sq_gemm_case_t gc;
            uint32_t fl = out32 ? SQ_GEMM_OUT32 : 0;
            ck_assert_int_eq(sq_gemm_case_build(&gc, 3, 3, k, fl, 7), 0);
            memset(gc.a, 0x80, gc.b.a);
            memset(gc.w, sign ? 0x7F : 0x80, gc.b.w);
            for (uint32_t j = 0; !out32 && j < 3; j++)
                gc.quant[j] = (sq_quant_t){.mult = 1, .shift = 0};
            sq_gemm_t g = {.m = 3, .n = 3, .k = k, .flags = fl, .a = gc.a, .w = gc.w,
                           .quant = gc.quant, .c = gc.golden};
            ck_assert_int_eq(sq_gemm_ref(&g), 0);
            int32_t out[9];
            uint32_t cycles;
            ck_assert_int_eq(sq_ice40_gemm(&io, &gc, out, &cycles), 0);
            for (int i = 0; i < 9; i++) {
                int32_t want = sign ? -128 * 127 * (int32_t)k : 16384 * (int32_t)k;
                int32_t got = out32 ? out[i] : ((int8_t *)out)[i];
                ck_assert_int_eq(got, out32 ? want : (sign ? -128 : 127));
            }
            ck_assert_uint_eq(sq_gemm_case_mismatches(&gc, out, &(uint64_t){0}), 0);
            sq_gemm_case_free(&gc);
        }
    }
}
END_TEST

/* Descriptors the board refuses, with its status byte, and a GEMM after them. */
START_TEST(test_refused)
{
    sq_gemm_desc_t d = {.m = 2, .n = 2, .k = 2, .a = 256, .w = 512, .quant = 768, .c = 1024};
    uint8_t desc[SQ_DESC_BYTES], st;
    uint32_t cycles;
    struct {
        uint32_t word, value;
        uint8_t status;
    } bad[] = {
        {0, SQ_OP_ATTN, SQ_ICE40_ST_OPCODE},
        {SQ_GEMM_W_FLAGS, SQ_GEMM_W4, SQ_ICE40_ST_FLAGS},
        {SQ_GEMM_W_FLAGS, SQ_GEMM_SP24, SQ_ICE40_ST_FLAGS},
        {SQ_GEMM_W_M, 0, SQ_ICE40_ST_RANGE},
        {SQ_GEMM_W_K, 65536, SQ_ICE40_ST_RANGE},
        {SQ_GEMM_W_A_LO, SQ_ICE40_MEM_BYTES, SQ_ICE40_ST_RANGE},
        {SQ_GEMM_W_C_HI, 1, SQ_ICE40_ST_RANGE},
        {SQ_GEMM_W_QUANT_LO, 1u << 20, SQ_ICE40_ST_RANGE},
    };
    for (size_t t = 0; t < sizeof bad / sizeof bad[0]; t++) {
        sq_gemm_desc_encode(&d, desc);
        sq_st32(desc + 4 * bad[t].word, bad[t].value);
        ck_assert_int_eq(sq_ice40_write(&io, 0, desc, sizeof desc), 0);
        ck_assert_int_eq(sq_ice40_run(&io, 0, &st, &cycles), 0);
        ck_assert_msg(st == bad[t].status, "case %zu: status %u, want %u", t, st, bad[t].status);
    }
    /* with OUT32 the quant address is never read, so any value is accepted */
    d.flags = SQ_GEMM_OUT32;
    sq_gemm_desc_encode(&d, desc);
    sq_st32(desc + 4 * SQ_GEMM_W_QUANT_LO, 1u << 20);
    ck_assert_int_eq(sq_ice40_write(&io, 0, desc, sizeof desc), 0);
    ck_assert_int_eq(sq_ice40_run(&io, 0, &st, &cycles), 0);
    ck_assert_uint_eq(st, SQ_ICE40_ST_OK);
    run_case(3, 3, 5, SQ_GEMM_BIAS, 11);

    /* the driver refuses what the board cannot hold or run */
    sq_gemm_case_t gc;
    int32_t out[4];
    ck_assert_int_eq(sq_gemm_case_build(&gc, 2, 2, 8, SQ_GEMM_W4, 1), 0);
    ck_assert_int_eq(sq_ice40_gemm(&io, &gc, out, &cycles), SQ_ERR_ARG);
    sq_gemm_case_free(&gc);
    ck_assert_int_eq(sq_gemm_case_build(&gc, 2, 2, 20000, 0, 1), 0);
    ck_assert_int_eq(sq_ice40_gemm(&io, &gc, out, &cycles), SQ_ERR_ARG);
    sq_gemm_case_free(&gc);
}
END_TEST

/* sparq ice40 on the simulated board, and its one-line refusals. */
START_TEST(test_cli)
{
    char out[1024], err[1024];
    int rc = sq_run_cli("ice40 --sim --m 5 --n 7 --k 9 --bias --relu --seed 3", out, sizeof out,
                        err, sizeof err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_ptr_nonnull(strstr(out, "array 2x2\n"));
    ck_assert_ptr_nonnull(strstr(out, "\nmismatches 0\n"));
    ck_assert_int_eq(sq_run_cli("ice40 --m 2", out, sizeof out, err, sizeof err), 2);
    ck_assert_ptr_nonnull(strstr(err, "give one of --port DEV and --sim"));
    ck_assert_int_eq(sq_run_cli("ice40 --sim --m 200 --n 200 --k 200", out, sizeof out, err,
                                sizeof err), 2);
    ck_assert_ptr_nonnull(strstr(err, "the board has 32768"));
    ck_assert_int_eq(sq_run_cli("ice40 --port /dev/null", out, sizeof out, err, sizeof err), 1);
    ck_assert_ptr_nonnull(strstr(err, "is not a serial port"));
}
END_TEST

Suite *ice40_suite(void)
{
    Suite *s = suite_create("ice40");
    TCase *tc = sq_tcase(s, "uart", 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_ident);
    tcase_add_test(tc, test_memory);
    tcase_add_test(tc, test_refused);
    tc = sq_tcase(s, "gemm", 240);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_random, 0, 3);
    tcase_add_test(tc, test_shapes);
    tcase_add_test(tc, test_extremes);
    tcase_add_test(tc, test_cli);
    return s;
}
