/* The "rtl" execution level: the accelerator kernel (rtl/cp/sq_accel_top:
 * the command processor with the GEMM, attention and vector cores) and each
 * unit's own kernel (rtl/gemm, rtl/attn, rtl/vec) under Verilator, on one
 * modeled device memory (sim/sq_mem.h). A stream runs on the accelerator
 * kernel in one launch (run_stream); the unit kernels serve the host-driven
 * path (sq_dev_config_t.unit_launches) and tests of each unit alone. Descriptors
 * are validated here first, so a bad command is a one-line error instead of
 * undefined hardware behaviour; the kernel itself then fetches and runs
 * them. The checks, bounds and counters are shared with the tlm level
 * (runtime/level_rtl.h). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../sim/sq_accel_vl.h"
#include "../../sim/sq_attn_vl.h"
#include "../../sim/sq_gemm_vl.h"
#include "../../sim/sq_vec_vl.h"
#include "runtime/desc.h"
#include "runtime/device.h"
#include "runtime/level_rtl.h"
#include "sparq/attn.h"
#include "sparq/numerics.h"
#include "sparq/spec.h"
#include "util/err.h"

/* Cycles of control-register traffic and pipeline fill per run, on top of
 * the work-derived bound. */
#define RUN_SLACK 20000u

typedef struct {
    sq_units_t u;
    sq_sim_t *sim;   /* GEMM unit; owns the memory */
    sq_sim_t *attn;  /* attention unit on the same memory */
    sq_sim_t *vec;   /* vector unit on the same memory */
    sq_sim_t *accel; /* the accelerator kernel on the same memory */
} rtl_t;

void sq_kernels_destroy(sq_kernels_t *k)
{
    sq_kernel_t *all[] = {k->gemm, k->attn, k->vec, k->accel};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i])
            all[i]->destroy(all[i]->model);
    *k = (sq_kernels_t){0};
}

/* The other kernels' waveforms go beside the GEMM unit's: PATH.attn.fst,
 * PATH.vec.fst, PATH.accel.fst. */
static int kernels_create(const sq_dev_config_t *cfg, const char *level, sq_kernels_t *k)
{
    char apath[4096], vpath[4096], cpath[4096];
    *k = (sq_kernels_t){0};
    if (cfg->fst_path &&
        ((size_t)snprintf(apath, sizeof apath, "%s.attn.fst", cfg->fst_path) >= sizeof apath ||
         (size_t)snprintf(vpath, sizeof vpath, "%s.vec.fst", cfg->fst_path) >= sizeof vpath ||
         (size_t)snprintf(cpath, sizeof cpath, "%s.accel.fst", cfg->fst_path) >= sizeof cpath))
        return sq_err(SQ_ERR_ARG, "%s: waveform path too long", level);
    /* the GEMM unit's Verilated array sizes (sq_gemm_vl.h); the accelerator
     * kernel exists at the default size with one GEMM unit and at
     * SQ_ACCEL_VL_ALT_ROWS x SQ_ACCEL_VL_ALT_COLS with SQ_ACCEL_VL_CUS_ALT
     * (sq_accel_vl.h) */
    static const struct {
        uint32_t r, c;
        int (*create)(const char *, sq_kernel_t **);
    } sizes[] = {{SQ_ARRAY_ROWS, SQ_ARRAY_COLS, sq_gemm_vl_create},
                 {8, 8, sq_gemm_vl_create_8x8},
                 {4, 8, sq_gemm_vl_create_4x8}};
    uint32_t r = cfg->array_rows ? cfg->array_rows : SQ_ARRAY_ROWS;
    uint32_t c = cfg->array_cols ? cfg->array_cols : SQ_ARRAY_COLS;
    size_t z = 0;
    while (z < sizeof sizes / sizeof sizes[0] && (sizes[z].r != r || sizes[z].c != c))
        z++;
    if (z == sizeof sizes / sizeof sizes[0])
        return sq_err(SQ_ERR_ARG, "%s: no GEMM unit Verilated at a %ux%u array (%ux%u, 8x8, 4x8)",
                      level, r, c, SQ_ARRAY_ROWS, SQ_ARRAY_COLS);
    /* gemm_cus 0 is the default, one unit, as sq_dev_open reads it (a level
     * opened directly, as the GEMM tests do, has it unset) */
    unsigned cus = cfg->gemm_cus ? cfg->gemm_cus : 1;
    int alt = cus == SQ_ACCEL_VL_CUS_ALT;
    int accel = alt ? r == SQ_ACCEL_VL_ALT_ROWS && c == SQ_ACCEL_VL_ALT_COLS : z == 0;
    if (!accel && (strcmp(level, "rtl") != 0 || !cfg->unit_launches)) {
        if (alt)
            return sq_err(SQ_ERR_ARG, "%s: the accelerator kernel with %u GEMM units is "
                                      "Verilated at a %ux%u array only, not %ux%u "
                                      "(sim/sq_accel_vl.h)",
                          level, cus, SQ_ACCEL_VL_ALT_ROWS, SQ_ACCEL_VL_ALT_COLS, r, c);
        return sq_err(SQ_ERR_ARG, "%s: a %ux%u array exists as the GEMM unit kernel only: rtl "
                                  "level with unit launches", level, r, c);
    }
    int rc = sizes[z].create(cfg->fst_path, &k->gemm);
    if (rc == 0)
        rc = sq_attn_vl_create(cfg->fst_path ? apath : NULL, &k->attn);
    if (rc == 0)
        rc = sq_vec_vl_create(cfg->fst_path ? vpath : NULL, &k->vec);
    if (rc == 0 && accel)
        rc = sq_accel_vl_create(cus, cfg->fst_path ? cpath : NULL, &k->accel);
    if (rc != 0)
        sq_kernels_destroy(k);
    return rc;
}

int sq_units_create(const sq_dev_config_t *cfg, const char *level, sq_mem_t **mem,
                    uint32_t *latency, sq_kernels_t *k)
{
    if (!(cfg->clock_mhz > 0) || !(cfg->mem_gbps > 0) || !(cfg->mem_latency_ns >= 0))
        return sq_err(SQ_ERR_ARG, "%s: clock, bandwidth and latency must be positive", level);
    double bpc = cfg->mem_gbps * 1e3 / cfg->clock_mhz;
    double lat = ceil(cfg->mem_latency_ns * cfg->clock_mhz / 1e3);
    if (lat > 1e6)
        return sq_err(SQ_ERR_ARG, "%s: memory latency of %.0f cycles is not plausible", level,
                      lat);
    *latency = (uint32_t)lat;
    int rc = sq_mem_create(cfg->mem_bytes, bpc, *latency, mem);
    if (rc == 0 && (rc = kernels_create(cfg, level, k)) != 0)
        sq_mem_destroy(*mem);
    if (rc == 0)
        sq_mem_set_channels(*mem, cfg->mem_shared ? SQ_MEM_SHARED : SQ_MEM_PER_PORT);
    return rc;
}

static int rtl_unit_run(void *ctx, sq_unit_t unit, uint64_t cmd_addr, uint32_t n_cmds,
                        uint64_t max_cycles, sq_sim_run_t *out)
{
    rtl_t *r = ctx;
    sq_sim_t *s = unit == SQ_UNIT_ATTN ? r->attn : unit == SQ_UNIT_VEC ? r->vec : r->sim;
    return sq_sim_run(s, cmd_addr, n_cmds, max_cycles, out);
}

static int rtl_accel_run(void *ctx, uint64_t cmd_addr, uint32_t n_cmds, const sq_cp_args_t *cp,
                         uint64_t max_cycles, sq_sim_run_t *out)
{
    rtl_t *r = ctx;
    return sq_sim_run_cp(r->accel, cmd_addr, n_cmds, cp, max_cycles, out);
}

static void rtl_close(void *state)
{
    rtl_t *r = state;
    if (!r)
        return;
    sq_sim_destroy(r->accel);
    sq_sim_destroy(r->vec);
    sq_sim_destroy(r->attn);
    sq_sim_destroy(r->sim);
    free(r);
}

static int rtl_open(const sq_dev_config_t *cfg, uint8_t *mem, void **state)
{
    (void)mem; /* the modeled memory lives in the simulator */
    rtl_t *r = calloc(1, sizeof *r);
    if (!r)
        return sq_err(SQ_ERR_MEM, "rtl: out of host memory");
    sq_mem_t *m = NULL;
    sq_kernels_t k;
    int rc = sq_units_create(cfg, "rtl", &m, &r->u.latency, &k);
    if (rc != 0) {
        free(r);
        return rc;
    }
    /* each sq_sim_create* takes its kernel, also on failure */
    sq_kernel_t *attn = k.attn, *vec = k.vec, *accel = k.accel;
    rc = sq_sim_create(k.gemm, m, &r->sim);
    if (rc == 0)
        rc = sq_sim_create_shared(attn, r->sim, &r->attn);
    else
        attn->destroy(attn->model);
    if (rc == 0)
        rc = sq_sim_create_shared(vec, r->sim, &r->vec);
    else
        vec->destroy(vec->model);
    if (rc == 0 && accel)
        rc = sq_sim_create_shared(accel, r->sim, &r->accel);
    else if (accel)
        accel->destroy(accel->model);
    if (rc != 0) {
        rtl_close(r);
        return rc;
    }
    r->u = (sq_units_t){"rtl", m, r->u.latency, r, rtl_unit_run, rtl_accel_run};
    *state = r;
    return 0;
}

static int rtl_write(void *state, uint64_t addr, const void *src, size_t n)
{
    rtl_t *r = state;
    return sq_mem_write(r->u.mem, addr, src, n);
}

static int rtl_read(void *state, uint64_t addr, void *dst, size_t n)
{
    rtl_t *r = state;
    return sq_mem_read(r->u.mem, addr, dst, n);
}

static uint64_t desc_addr(const uint32_t *d, unsigned lo)
{
    return (uint64_t)d[lo + 1] << 32 | d[lo];
}

static int check_span(const sq_units_t *u, uint32_t i, const char *what, uint64_t addr,
                      uint64_t bytes)
{
    uint64_t size = sq_mem_size(u->mem);
    if (addr > size || bytes > size - addr)
        return sq_err(SQ_ERR_ARG, "%s: command %u: %s (%" PRIu64 " bytes at 0x%" PRIx64
                                  ") is outside device memory", u->level, i, what, bytes, addr);
    return 0;
}

/* Checks one GEMM descriptor the way sq_gemm_ref would, and adds its useful
 * MACs and a generous cycle bound. */
static int check_gemm(const sq_units_t *u, uint32_t i, const uint32_t *d,
                      uint64_t *macs, uint64_t *bound)
{
    uint32_t flags = d[SQ_GEMM_W_FLAGS];
    uint64_t M = d[SQ_GEMM_W_M], N = d[SQ_GEMM_W_N], K = d[SQ_GEMM_W_K];
    if ((flags & ~(SQ_GEMM_FLAGS_ALL | SQ_GEMM_GSCALE)) ||
        ((flags & SQ_GEMM_SP24) && (flags & (SQ_GEMM_W4 | SQ_GEMM_GSCALE))))
        return sq_err(SQ_ERR_ARG, "%s: command %u: invalid GEMM flags 0x%x", u->level, i, flags);
    if (M < 1 || N < 1 || K < 1 || M > SQ_GEMM_MAX_DIM || N > SQ_GEMM_MAX_DIM ||
        K > SQ_GEMM_MAX_DIM)
        return sq_err(SQ_ERR_ARG, "%s: command %u: GEMM shape %" PRIu64 "x%" PRIu64
                                  "x%" PRIu64 " outside 1..%u", u->level, i, M, N, K,
                      SQ_GEMM_MAX_DIM);
    uint64_t wrow = sq_w_row_bytes(flags, K), mrow = sq_meta_row_bytes(K);
    uint64_t esz = (flags & SQ_GEMM_OUT32) ? 4 : 1;
    int rc;
    if ((rc = check_span(u, i, "A", desc_addr(d, SQ_GEMM_W_A_LO), M * K)) ||
        (rc = check_span(u, i, "W", desc_addr(d, SQ_GEMM_W_W_LO), N * wrow)) ||
        (rc = check_span(u, i, "C", desc_addr(d, SQ_GEMM_W_C_LO), M * N * esz)))
        return rc;
    if ((flags & SQ_GEMM_BIAS) &&
        (rc = check_span(u, i, "bias", desc_addr(d, SQ_GEMM_W_BIAS_LO), N * 4)))
        return rc;
    if (flags & SQ_GEMM_GSCALE) {
        uint64_t g = d[SQ_GEMM_W_GROUP];
        if (g != K && (g < SQ_GEMM_GROUP_MIN || g > K || (g & (g - 1))))
            return sq_err(SQ_ERR_ARG, "%s: command %u: GEMM group %" PRIu64 " is neither k nor "
                                      "a power of two in [%u, k]", u->level, i, g,
                          SQ_GEMM_GROUP_MIN);
        if ((rc = check_span(u, i, "group scales", desc_addr(d, SQ_GEMM_W_GSCALE_LO),
                             N * ((K + g - 1) / g) * 2)))
            return rc;
    }
    if (!(flags & SQ_GEMM_OUT32)) {
        uint64_t q = desc_addr(d, SQ_GEMM_W_QUANT_LO);
        if ((rc = check_span(u, i, "quant", q, N * sizeof(sq_quant_t))))
            return rc;
        for (uint64_t j = 0; j < N; j++) {
            sq_quant_t e;
            sq_mem_read(u->mem, q + j * sizeof e, &e, sizeof e);
            if (e.mult < 1 || e.shift > SQ_SHIFT_MAX)
                return sq_err(SQ_ERR_ARG, "%s: command %u: quant[%" PRIu64 "] = {%d, %u} "
                                          "out of range", u->level, i, j, e.mult, e.shift);
        }
    }
    uint64_t row_macs = K;
    if (flags & SQ_GEMM_SP24) {
        uint64_t meta = desc_addr(d, SQ_GEMM_W_META_LO);
        if ((rc = check_span(u, i, "2:4 metadata", meta, N * mrow)))
            return rc;
        uint8_t *buf = malloc(mrow);
        if (!buf)
            return sq_err(SQ_ERR_MEM, "%s: out of host memory", u->level);
        for (uint64_t j = 0; j < N; j++) {
            sq_mem_read(u->mem, meta + j * mrow, buf, mrow);
            for (uint64_t g = 0; g * 4 < K; g++) {
                uint8_t code = sq_sp24_code(buf, g);
                if ((code & 3u) >= (code >> 2)) {
                    free(buf);
                    return sq_err(SQ_ERR_ARG, "%s: command %u: malformed 2:4 code 0x%x in "
                                              "row %" PRIu64 " group %" PRIu64, u->level, i,
                                  code, j, g);
                }
            }
        }
        free(buf);
        /* two kept values per group of four, fewer in a short last group */
        row_macs = 2 * (K / 4) + (K % 4 < 2 ? K % 4 : 2);
    }
    *macs += M * N * row_macs;
    uint64_t mp = (M + SQ_ARRAY_ROWS - 1) / SQ_ARRAY_ROWS;
    uint64_t nt = (N + SQ_ARRAY_COLS - 1) / SQ_ARRAY_COLS;
    uint64_t rows = mp * nt * (SQ_ARRAY_ROWS + 2 * SQ_ARRAY_COLS + 2);
    uint64_t beats = (M * K * nt + N * wrow * mp + N * mrow * mp + M * N * 4) / 64 + rows * 2;
    *bound += 8 * (mp * nt * ((K + 1) / 2 + 2 * SQ_ARRAY_COLS + 64) + beats) +
              (rows + 64) * (u->latency + 8);
    return 0;
}

/* Checks one ATTN descriptor with the device's rules (runtime/desc.h), and
 * adds its useful MACs and a generous cycle bound. The unit fetches one row
 * per burst, so a scored or selected key costs about a memory latency; top-k
 * adds at most 34 passes over the candidate list. */
static int attn_work(const sq_units_t *u, uint32_t i, const uint8_t *desc,
                     uint64_t *macs, uint64_t *bound)
{
    sq_attn_desc_t d;
    sq_attn_desc_decode(desc, &d);
    if (sq_attn_desc_check(&d, sq_mem_size(u->mem)) != 0) {
        char why[512];
        snprintf(why, sizeof why, "%s", sq_err_msg());
        return sq_err(SQ_ERR_ARG, "%s: command %u: %s", u->level, i, why);
    }
    for (uint32_t h = 0; h < d.heads; h++) {
        sq_attn_quant_t q;
        sq_mem_read(u->mem, d.quant + (uint64_t)h * sizeof q, &q, sizeof q);
        if (q.s_mult < 1 || q.s_shift > SQ_SHIFT_MAX || q.o_mult < 1 || q.o_shift > SQ_SHIFT_MAX)
            return sq_err(SQ_ERR_ARG, "%s: command %u: attn quant[%u] out of range", u->level,
                          i, h);
    }
    uint8_t *mask = NULL;
    size_t mbytes = (size_t)sq_attn_blocks(d.seq) * SQ_ATTN_MASK_ROW_BYTES;
    if (d.flags & SQ_ATTN_BLOCK) {
        if (!(mask = malloc(mbytes)))
            return sq_err(SQ_ERR_MEM, "%s: out of host memory", u->level);
        sq_mem_read(u->mem, d.mask, mask, mbytes);
    }
    sq_dev_stats_t w = {0};
    sq_attn_desc_work(&d, mask, &w);
    free(mask);
    *macs += w.macs;
    uint64_t rows = (uint64_t)d.heads * d.queries;
    *bound += rows * ((uint64_t)d.seq * (2 * (u->latency + 16) + 40) + 6 * (u->latency + 16) +
                      4 * SQ_ATTN_MAX_DIM + 100) +
              (uint64_t)d.heads * (u->latency + 300);
    return 0;
}

/* Runs a checked command stream on one unit and adds what it did. */
static int unit_run(const sq_units_t *u, sq_unit_t unit, uint64_t cmd_addr, uint32_t n_cmds,
                    uint64_t max_cycles, uint64_t macs, sq_dev_stats_t *add)
{
    sq_mem_stats_t before, after;
    sq_mem_stats(u->mem, &before);
    sq_sim_run_t run;
    int rc = u->run(u->ctx, unit, cmd_addr, n_cmds, max_cycles, &run);
    if (rc != 0)
        return rc;
    sq_mem_stats(u->mem, &after);
    add->cycles += run.cycles;
    add->stall_cycles += run.stall_cycles;
    add->bytes_read += after.bytes_read - before.bytes_read;
    add->bytes_written += after.bytes_written - before.bytes_written;
    add->macs += macs;
    add->commands += n_cmds;
    return 0;
}

/* Checks one VEC descriptor with the device's rules (runtime/desc.h) and
 * adds a generous cycle bound: per element of each of up to five passes, up
 * to seven operand loads that may each miss their line buffer, the
 * sigmoid's division and a write that may send a line; per row, its own
 * loads and the divisions and square root between passes. */
static int vec_work(const sq_units_t *u, uint32_t i, const uint8_t *desc, uint64_t *macs,
                    uint64_t *bound)
{
    (void)macs; /* the vector unit does no multiply-accumulates of a GEMM's kind */
    sq_vec_desc_t d;
    sq_vec_desc_decode(desc, &d);
    if (sq_vec_desc_check(&d, sq_mem_size(u->mem)) != 0) {
        char why[512];
        snprintf(why, sizeof why, "%s", sq_err_msg());
        return sq_err(SQ_ERR_ARG, "%s: command %u: %s", u->level, i, why);
    }
    uint64_t mem = u->latency + 16;
    *bound += (uint64_t)d.m * (5 * (uint64_t)d.n * (9 * mem + 100) + 8 * mem + 400);
    return 0;
}

typedef int (*work_fn)(const sq_units_t *u, uint32_t i, const uint8_t *desc, uint64_t *macs,
                       uint64_t *bound);

/* A stream of the attention or the vector unit (op) on its kernel. */
static int unit_stream(const sq_units_t *u, sq_unit_t unit, uint32_t op, work_fn work,
                       uint64_t cmd_addr, uint32_t n_cmds, uint64_t max_cycles,
                       sq_dev_stats_t *add)
{
    uint64_t macs = 0, bound = RUN_SLACK;
    for (uint32_t i = 0; i < n_cmds; i++) {
        uint8_t desc[SQ_DESC_BYTES];
        int rc = sq_mem_read(u->mem, cmd_addr + (uint64_t)i * SQ_DESC_BYTES, desc, sizeof desc);
        if (rc == 0 && sq_desc_opcode(desc) == op)
            rc = work(u, i, desc, &macs, &bound);
        if (rc != 0)
            return rc;
    }
    return unit_run(u, unit, cmd_addr, n_cmds, max_cycles ? max_cycles : bound, macs, add);
}

int sq_units_run(const sq_units_t *u, uint64_t cmd_addr, uint32_t n_cmds, uint64_t max_cycles,
                 sq_dev_stats_t *add)
{
    if (cmd_addr % 64)
        return sq_err(SQ_ERR_ARG, "%s: command stream at 0x%" PRIx64
                                  " is not 64-byte aligned", u->level, cmd_addr);
    /* the device hands over runs of one unit's opcode */
    uint8_t first[SQ_DESC_BYTES];
    if (n_cmds && sq_mem_read(u->mem, cmd_addr, first, sizeof first) == 0) {
        if (sq_desc_opcode(first) == SQ_OP_ATTN)
            return unit_stream(u, SQ_UNIT_ATTN, SQ_OP_ATTN, attn_work, cmd_addr, n_cmds,
                               max_cycles, add);
        if (sq_desc_opcode(first) == SQ_OP_VEC)
            return unit_stream(u, SQ_UNIT_VEC, SQ_OP_VEC, vec_work, cmd_addr, n_cmds,
                               max_cycles, add);
    }
    uint64_t macs = 0, bound = RUN_SLACK;
    for (uint32_t i = 0; i < n_cmds; i++) {
        uint32_t d[SQ_DESC_WORDS];
        int rc = sq_mem_read(u->mem, cmd_addr + (uint64_t)i * SQ_DESC_BYTES, d, sizeof d);
        if (rc != 0)
            return rc;
        /* the opcode byte of the stream header (spec.h) */
        uint32_t op = d[SQ_GEMM_W_OPCODE] & SQ_DESC_OP_MASK;
        if (op == SQ_OP_NOP)
            continue;
        if (op != SQ_OP_GEMM)
            return sq_err(SQ_ERR_ARG, "%s: command %u: opcode %u is not for the GEMM unit",
                          u->level, i, op);
        if ((rc = check_gemm(u, i, d, &macs, &bound)) != 0)
            return rc;
    }
    return unit_run(u, SQ_UNIT_GEMM, cmd_addr, n_cmds, max_cycles ? max_cycles : bound, macs,
                    add);
}

/* The accelerator kernel's refusals (SQ_REG_CP_STATUS), which the runtime's
 * validation makes unreachable through the device API. */
static const char *cp_error(uint32_t status)
{
    switch (status) {
    case SQ_CP_ERR_UNIT:
        return "an opcode for no unit of the kernel";
    case SQ_CP_ERR_PATCH:
        return "a position patch outside the descriptor body";
    case SQ_CP_ERR_DEP:
        return "a dependency before the stream's first descriptor";
    default:
        return "an unknown error";
    }
}

int sq_units_run_stream(const sq_units_t *u, const sq_stream_run_t *r, sq_dev_stats_t *add)
{
    if (r->cmd_addr % 64)
        return sq_err(SQ_ERR_ARG, "%s: command stream at 0x%" PRIx64
                                  " is not 64-byte aligned", u->level, r->cmd_addr);
    /* the bound: every descriptor's own, as if none overlapped, plus the
     * command processor's fetch, dispatch and records */
    uint64_t macs = 0, bound = RUN_SLACK + (uint64_t)r->n_cmds * (4 * (u->latency + 16) + 64);
    for (uint32_t i = 0; i < r->n_cmds; i++) {
        const uint8_t *desc = r->descs + (size_t)i * SQ_DESC_BYTES;
        int rc = 0;
        if (sq_desc_opcode(desc) == SQ_OP_GEMM) {
            uint32_t d[SQ_DESC_WORDS];
            memcpy(d, desc, sizeof d);
            rc = check_gemm(u, i, d, &macs, &bound);
        } else if (sq_desc_opcode(desc) == SQ_OP_ATTN) {
            rc = attn_work(u, i, desc, &macs, &bound);
        } else if (sq_desc_opcode(desc) == SQ_OP_VEC) {
            rc = vec_work(u, i, desc, &macs, &bound);
        }
        if (rc != 0)
            return rc;
    }
    sq_mem_stats_t before, after;
    sq_mem_stats(u->mem, &before);
    sq_cp_args_t cp = {r->pos, r->prof_addr};
    sq_sim_run_t run;
    int rc = u->run_cp(u->ctx, r->cmd_addr, r->n_cmds, &cp, r->max_cycles ? r->max_cycles : bound,
                       &run);
    if (rc != 0)
        return rc;
    if (run.cp_status != SQ_CP_ERR_NONE)
        return sq_err(SQ_ERR_DEV, "%s: command processor stopped at descriptor %u: %s",
                      u->level, run.cp_err_desc, cp_error(run.cp_status));
    sq_mem_stats(u->mem, &after);
    add->cycles += run.cycles;
    for (unsigned s = 0; s < SQ_CP_UNITS; s++)
        add->stall_cycles += run.unit_stall[s];
    add->bytes_read += after.bytes_read - before.bytes_read;
    add->bytes_written += after.bytes_written - before.bytes_written;
    return 0;
}

static int rtl_run(void *state, uint64_t cmd_addr, uint32_t n_cmds, uint64_t max_cycles,
                   sq_dev_stats_t *add)
{
    rtl_t *r = state;
    return sq_units_run(&r->u, cmd_addr, n_cmds, max_cycles, add);
}

static int rtl_run_stream(void *state, const sq_stream_run_t *run, sq_dev_stats_t *add)
{
    rtl_t *r = state;
    return sq_units_run_stream(&r->u, run, add);
}

const sq_level_ops_t sq_level_rtl = {
    .name = "rtl",
    .open = rtl_open,
    .close = rtl_close,
    .write = rtl_write,
    .read = rtl_read,
    .run = rtl_run,
    .run_stream = rtl_run_stream,
    .profiles = 1,
    .caps = SQ_LEVEL_CAP_VEC | SQ_LEVEL_CAP_GSCALE,
};
