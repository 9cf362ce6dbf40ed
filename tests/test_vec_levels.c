/* The vector unit on every level that has it (csim and opencl: the HLS C of
 * hls/vec/; rtl and tlm: the Verilated rtl/vec/; model: the golden reference
 * with the cycle model host/runtime/vec_model.c, whose cycles, stalls and
 * bytes equal the rtl level's): random and edge ops of every function and flag (runtime/vec_case.h) compared byte for byte with
 * the golden reference over their whole memory image, a KV-cache row written
 * through a position patch, bad descriptors, the HLS top's register offsets
 * and the RTL's generated constants. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/device.h"
#include "runtime/vec_case.h"
#include "sparq/spec.h"
#include "sparq/vec.h"
#include "testutil.h"
#include "util/err.h"

/* Runs the case of p on dev (a device of level) and fails at the first image
 * byte that differs from the golden reference. */
static void check_case(sq_dev_t *dev, const char *level, const sq_vec_params_t *p)
{
    char what[256];
    sq_vec_params_describe(p, what, sizeof what);
    sq_vec_case_t vc;
    ck_assert_msg(sq_vec_case_build(&vc, p) == 0, "%s: %s", what, sq_err_msg());
    sq_dev_free_all(dev);
    ck_assert_msg(sq_vec_case_place(dev, &vc) == 0, "%s: %s", what, sq_err_msg());
    uint64_t bad;
    ck_assert_msg(sq_vec_case_run(dev, &vc, 0, &bad) == 0, "%s on %s: %s", what, level,
                  sq_err_msg());
    ck_assert_msg(bad == vc.bytes, "%s on %s: image byte %llu of %llu differs from the golden",
                  what, level, (unsigned long long)bad, (unsigned long long)vc.bytes);
    sq_vec_case_free(&vc);
}

/* Runs count random cases (sq_vec_params_random from seed) on one device of
 * the level and fails at the first differing byte. Returns the cycles. */
static uint64_t run_random(const char *level, uint64_t seed, int count)
{
    sq_dev_t *dev = sq_test_dev_open(level, 4u << 20);
    uint64_t rng = seed;
    sq_dev_stats_t st;
    for (int t = 0; t < count; t++) {
        sq_vec_params_t p;
        sq_vec_params_random(&rng, t, &p);
        check_case(dev, level, &p);
    }
    sq_dev_stats(dev, &st);
    ck_assert_uint_eq(st.commands, (uint64_t)count);
    sq_dev_close(dev);
    return st.cycles;
}

START_TEST(test_ref_random)
{
    run_random("ref", 0x7EC0, 200);
}
END_TEST

START_TEST(test_csim_random)
{
    run_random("csim", 0x7EC1, 600);
}
END_TEST

START_TEST(test_opencl_random)
{
    run_random("opencl", 0x7EC2, 150);
}
END_TEST

/* Every function, flag, value kind and layout in turn (t modulo their
 * counts), on the Verilated unit kernel. */
START_TEST(test_rtl_random)
{
    ck_assert_uint_gt(run_random("rtl", 0x7EC3, 400), 0);
}
END_TEST

/* The same Verilated unit on the SystemC platform. */
START_TEST(test_tlm_random)
{
    ck_assert_uint_gt(run_random("tlm", 0x7EC5, 60), 0);
}
END_TEST

/* Memory systems at 300 MHz: bytes per cycle 64, 48, 16, 100, 64 and 128,
 * read latencies of 30, 9, 30, 0, 1 and 60 cycles (test_attn_model.c's). */
static const struct {
    double gbps, latency_ns;
} mems[] = {{19.2, 100}, {14.4, 30}, {4.8, 100}, {30, 0}, {19.2, 3.3}, {38.4, 200}};

static sq_dev_t *open_mem(const char *level, size_t mem)
{
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, level);
    cfg.mem_gbps = mems[mem].gbps;
    cfg.mem_latency_ns = mems[mem].latency_ns;
    cfg.mem_bytes = 4u << 20;
    sq_dev_t *dev = NULL;
    ck_assert_msg(sq_dev_open(&cfg, &dev) == 0, "%s", sq_err_msg());
    return dev;
}

/* One case on a device: the golden image, and the counters of its run. */
static void run_one(sq_dev_t *dev, sq_vec_case_t *vc, const char *what, sq_dev_stats_t *st)
{
    sq_dev_free_all(dev);
    ck_assert_msg(sq_vec_case_place(dev, vc) == 0, "%s: %s", what, sq_err_msg());
    sq_dev_stats_reset(dev);
    uint64_t bad;
    ck_assert_msg(sq_vec_case_run(dev, vc, 0, &bad) == 0, "%s on %s: %s", what,
                  sq_dev_level(dev), sq_err_msg());
    ck_assert_msg(bad == vc->bytes, "%s on %s: image byte %llu differs", what, sq_dev_level(dev),
                  (unsigned long long)bad);
    sq_dev_stats(dev, st);
}

/* The cycle model (host/runtime/vec_model.c) against the RTL: cycles, stall
 * cycles and bytes read and written equal on every random case, on every
 * memory system. */
START_TEST(test_model_equals_rtl)
{
    uint64_t rng = 0x7EC4, total = 0;
    int t = 0;
    for (size_t mem = 0; mem < sizeof mems / sizeof mems[0]; mem++) {
        sq_dev_t *rtl = open_mem("rtl", mem), *model = open_mem("model", mem);
        for (int i = 0; i < 40; i++, t++) {
            sq_vec_params_t p;
            sq_vec_params_random(&rng, t, &p);
            char what[256];
            sq_vec_params_describe(&p, what, sizeof what);
            sq_vec_case_t vc;
            ck_assert_msg(sq_vec_case_build(&vc, &p) == 0, "%s: %s", what, sq_err_msg());
            sq_dev_stats_t r, m;
            run_one(rtl, &vc, what, &r);
            run_one(model, &vc, what, &m);
            ck_assert_msg(m.cycles == r.cycles && m.stall_cycles == r.stall_cycles &&
                              m.bytes_read == r.bytes_read && m.bytes_written == r.bytes_written,
                          "case %d %s, memory %zu: model %llu cycles %llu stalls %llu/%llu bytes, "
                          "rtl %llu cycles %llu stalls %llu/%llu bytes",
                          t, what, mem, (unsigned long long)m.cycles,
                          (unsigned long long)m.stall_cycles, (unsigned long long)m.bytes_read,
                          (unsigned long long)m.bytes_written, (unsigned long long)r.cycles,
                          (unsigned long long)r.stall_cycles, (unsigned long long)r.bytes_read,
                          (unsigned long long)r.bytes_written);
            total += r.cycles;
            sq_vec_case_free(&vc);
        }
        sq_dev_close(rtl);
        sq_dev_close(model);
    }
    ck_assert_uint_gt(total, 0);
}
END_TEST

/* The edge cases by name on rtl: dim 1, odd dims, all-zero rows, extreme
 * values and scales (saturation), for every function. */
START_TEST(test_rtl_edges)
{
    sq_dev_t *dev = sq_test_dev_open("rtl", 4u << 20);
    const uint32_t shapes[][3] = {{1, 1, 0}, {3, 7, 0}, {2, 33, 11}, {1, 130, 0}};
    int cases = 0;
    for (uint32_t f = 0; f < SQ_VEC_FUNCS; f++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int kind = 0; kind < SQ_VEC_VALUES_KINDS; kind++) {
                sq_vec_params_t p = {0};
                uint64_t rng = 0xED6E + 977u * (uint64_t)cases;
                sq_vec_params_random(&rng, (int)f, &p); /* function f's flags */
                p.m = shapes[s][0];
                p.n = shapes[s][1];
                p.seg = shapes[s][2];
                if ((p.flags & SQ_VEC_ROT) && (p.n % 2 || (p.seg ? p.seg : p.n) % 2))
                    p.n += 1, p.seg = 0;
                p.values = kind;
                p.extreme_scales = kind >= SQ_VEC_VALUES_EXTREME;
                p.layout = (int)(s % 2);
                check_case(dev, "rtl", &p);
                cases++;
            }
    sq_dev_close(dev);
}
END_TEST

/* A malformed VEC descriptor is a one-line error naming it on rtl, before
 * the kernel runs; so is one the unit kernel is asked to run directly with
 * an operand outside device memory. */
START_TEST(test_rtl_bad)
{
    sq_dev_t *dev = sq_test_dev_open("rtl", 1u << 20);
    uint64_t cmd;
    ck_assert_int_eq(sq_dev_alloc(dev, SQ_DESC_BYTES, &cmd), 0);
    const struct {
        uint32_t func, flags, m, n;
        uint64_t in;
    } bad[] = {
        {SQ_VEC_FUNCS, 0, 1, 4, 0},          /* unknown function */
        {SQ_VEC_QUANT, 0, 1, 4, 0},          /* QUANT without Q8 */
        {SQ_VEC_ADD, 0, 0, 4, 0},            /* no rows */
        {SQ_VEC_DEQ, 0, 1, 4, 1ull << 40},   /* IN outside memory */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sq_vec_desc_t d = {0};
        d.func = bad[i].func;
        d.flags = bad[i].flags;
        d.m = bad[i].m;
        d.n = bad[i].n;
        d.in = bad[i].in;
        d.in_stride = 16;
        d.out = 4096;
        d.out_stride = 16;
        uint8_t desc[SQ_DESC_BYTES];
        sq_vec_desc_encode(&d, desc);
        ck_assert_int_eq(sq_dev_write(dev, cmd, desc, sizeof desc), 0);
        ck_assert_int_ne(sq_dev_run(dev, cmd, 1, 0), 0);
        const char *msg = sq_err_msg();
        ck_assert_msg(strstr(msg, "descriptor 0") && !strchr(msg, '\n'), "case %zu: %s", i, msg);
    }
    sq_dev_close(dev);
}
END_TEST

/* The RTL's constants package is what vecgen prints from the C headers. */
START_TEST(test_rtl_pkg)
{
    free(sq_test_generated(SQ_VECGEN_BIN, SQ_VEC_PKG, "vecgen"));
}
END_TEST

/* The s_axilite offsets written as literals in the HLS pragmas are spec.h's. */
START_TEST(test_hls_pragmas)
{
    sq_test_hls_unit_pragmas(SQ_HLS_VEC_SRC);
}
END_TEST

Suite *vec_levels_suite(void)
{
    Suite *s = suite_create("vec_levels");
    TCase *tc = sq_tcase(s, "hls", 240);
    tcase_add_test(tc, test_hls_pragmas);
    tcase_add_test(tc, test_ref_random);
    tcase_add_test(tc, test_csim_random);
    tcase_add_test(tc, test_opencl_random);
    tc = sq_tcase(s, "rtl", 240);
    tcase_add_test(tc, test_rtl_pkg);
    tcase_add_test(tc, test_rtl_bad);
    tcase_add_test(tc, test_rtl_random);
    tcase_add_test(tc, test_rtl_edges);
    tcase_add_test(tc, test_tlm_random);
    tcase_add_test(tc, test_model_equals_rtl);
    return s;
}
