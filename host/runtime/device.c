/* The device: level table, device memory, bump allocator and command runs.
 * Contracts in runtime/device.h; descriptor rules in runtime/desc.h. */
#include "runtime/device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/desc.h"
#include "util/err.h"

#define DEV_ALIGN 64u                          /* one AXI burst */
#define DEV_MEM_DEFAULT (256ull << 20)         /* 256 MiB */

extern const sq_level_ops_t sq_level_ref;
extern const sq_level_ops_t sq_level_csim;
extern const sq_level_ops_t sq_level_model;
extern const sq_level_ops_t sq_level_opencl;
extern const sq_level_ops_t sq_level_xrt;
/* The rtl level comes from rtl/'s make fragment (Verilator); weak so the
 * library still links, and the level reports itself unavailable, without it. */
extern const sq_level_ops_t sq_level_rtl __attribute__((weak));
/* The tlm level comes from sim/tlm.mk (SystemC); weak for the same reason. */
extern const sq_level_ops_t sq_level_tlm __attribute__((weak));

/* A new level adds one line here. */
static const struct {
    const char *name;
    const sq_level_ops_t *ops; /* NULL when not built into this binary */
} levels[] = {
    {"ref", &sq_level_ref},
    {"csim", &sq_level_csim},
    {"rtl", &sq_level_rtl},
    {"tlm", &sq_level_tlm},
    {"model", &sq_level_model},
    {"opencl", &sq_level_opencl},
    {"xrt", &sq_level_xrt},
};
#define N_LEVELS (sizeof levels / sizeof levels[0])

struct sq_dev {
    const sq_level_ops_t *ops;
    void *state;
    sq_dev_config_t cfg; /* level points at ops->name; fst_path is owned */
    uint8_t *mem;        /* host image, or NULL when the level keeps memory itself */
    uint64_t brk;        /* first free byte of the bump allocator */
    sq_dev_stats_t stats;
};

int sq_dev_level_known(const char *name)
{
    for (size_t i = 0; i < N_LEVELS; i++)
        if (name && !strcmp(levels[i].name, name))
            return 1;
    return 0;
}

const char *sq_dev_level_names(void)
{
    static char names[128];
    if (!names[0])
        for (size_t i = 0; i < N_LEVELS; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                     i ? ", " : "", levels[i].name);
    return names;
}

const char *sq_dev_level_name(size_t i)
{
    return i < N_LEVELS ? levels[i].name : NULL;
}

int sq_dev_level_built(const char *name)
{
    for (size_t i = 0; i < N_LEVELS; i++)
        if (name && !strcmp(levels[i].name, name))
            return levels[i].ops != NULL;
    return 0;
}

void sq_dev_config_default(sq_dev_config_t *cfg, const char *level)
{
    cfg->level = level ? level : "ref";
    cfg->mem_bytes = DEV_MEM_DEFAULT;
    cfg->mem_gbps = 19.2;
    cfg->mem_latency_ns = 100.0;
    cfg->clock_mhz = 300.0;
    cfg->fst_path = NULL;
    cfg->array_rows = cfg->array_cols = 0;
    cfg->timing_only = 0;
    cfg->xclbin = NULL;
    cfg->xrt_device = -1;
    cfg->mem_shared = 0;
    cfg->unit_launches = 0;
    cfg->gemm_cus = 1;
}

int sq_dev_open(const sq_dev_config_t *cfg, sq_dev_t **out)
{
    *out = NULL;
    const char *name = cfg->level ? cfg->level : "";
    size_t i = 0;
    while (i < N_LEVELS && strcmp(levels[i].name, name) != 0)
        i++;
    if (i == N_LEVELS)
        return sq_err(SQ_ERR_DEV, "unknown level '%s' (levels: %s)", name, sq_dev_level_names());
    if (!levels[i].ops)
        return sq_err(SQ_ERR_DEV, "level '%s' is not built into this binary", name);
    if (cfg->mem_bytes == 0 || cfg->mem_bytes > SIZE_MAX)
        return sq_err(SQ_ERR_ARG, "device memory of %llu bytes is not supported",
                      (unsigned long long)cfg->mem_bytes);
    if (!(cfg->mem_gbps > 0) || !(cfg->mem_latency_ns >= 0) || !(cfg->clock_mhz > 0))
        return sq_err(SQ_ERR_ARG, "memory model needs bandwidth > 0, latency >= 0, clock > 0");
    if (cfg->gemm_cus > SQ_GEMM_CUS_MAX)
        return sq_err(SQ_ERR_ARG, "%u GEMM compute units: the accelerator has 1 to %u",
                      cfg->gemm_cus, SQ_GEMM_CUS_MAX);

    sq_dev_t *dev = calloc(1, sizeof *dev);
    if (!dev)
        return sq_err(SQ_ERR_MEM, "out of memory opening level '%s'", name);
    dev->ops = levels[i].ops;
    dev->cfg = *cfg;
    dev->cfg.level = dev->ops->name;
    dev->cfg.fst_path = NULL;
    if (!dev->cfg.gemm_cus)
        dev->cfg.gemm_cus = 1;
    if (cfg->fst_path && !(dev->cfg.fst_path = strdup(cfg->fst_path))) {
        sq_dev_close(dev);
        return sq_err(SQ_ERR_MEM, "out of memory opening level '%s'", name);
    }
    if (!dev->ops->write && !(dev->mem = calloc(1, (size_t)cfg->mem_bytes))) {
        sq_dev_close(dev);
        return sq_err(SQ_ERR_MEM, "cannot allocate %llu bytes of device memory",
                      (unsigned long long)cfg->mem_bytes);
    }
    int rc = dev->ops->open(&dev->cfg, dev->mem, &dev->state);
    if (rc) {
        dev->ops = NULL; /* nothing to close at the level */
        sq_dev_close(dev);
        return rc;
    }
    *out = dev;
    return 0;
}

void sq_dev_close(sq_dev_t *dev)
{
    if (!dev)
        return;
    if (dev->ops && dev->state)
        dev->ops->close(dev->state);
    free((char *)dev->cfg.fst_path);
    free(dev->mem);
    free(dev);
}

int sq_dev_alloc(sq_dev_t *dev, size_t n, uint64_t *addr)
{
    if (n == 0)
        return sq_err(SQ_ERR_ARG, "device allocation of 0 bytes");
    uint64_t start = (dev->brk + DEV_ALIGN - 1) & ~(uint64_t)(DEV_ALIGN - 1);
    uint64_t size = dev->cfg.mem_bytes;
    if (start > size || n > size - start)
        return sq_err(SQ_ERR_MEM, "device memory exhausted: %zu bytes requested, %llu of %llu free",
                      n, (unsigned long long)(start > size ? 0 : size - start),
                      (unsigned long long)size);
    dev->brk = start + n;
    *addr = start;
    return 0;
}

int sq_dev_put(sq_dev_t *dev, const void *src, uint64_t n, uint64_t *addr)
{
    if (n == 0) {
        *addr = 0;
        return 0;
    }
    if (n > SIZE_MAX)
        return sq_err(SQ_ERR_MEM, "device allocation of %llu bytes", (unsigned long long)n);
    int rc = sq_dev_alloc(dev, (size_t)n, addr);
    return rc ? rc : src ? sq_dev_write(dev, *addr, src, (size_t)n) : 0;
}

void sq_dev_free_all(sq_dev_t *dev)
{
    dev->brk = 0;
}

static int check_range(const sq_dev_t *dev, const char *what, uint64_t addr, size_t n,
                       const void *buf)
{
    uint64_t size = dev->cfg.mem_bytes;
    if (n > size || addr > size - n)
        return sq_err(SQ_ERR_ARG, "device %s of %zu bytes at 0x%llx outside memory of %llu bytes",
                      what, n, (unsigned long long)addr, (unsigned long long)size);
    if (n && !buf)
        return sq_err(SQ_ERR_ARG, "device %s with a NULL buffer", what);
    return 0;
}

int sq_dev_write(sq_dev_t *dev, uint64_t addr, const void *src, size_t n)
{
    int rc = check_range(dev, "write", addr, n, src);
    if (rc || n == 0)
        return rc;
    dev->stats.host_bytes_written += n;
    if (dev->ops->write)
        return dev->ops->write(dev->state, addr, src, n);
    memcpy(dev->mem + addr, src, n);
    return 0;
}

static int dev_read_raw(sq_dev_t *dev, uint64_t addr, void *dst, size_t n)
{
    if (dev->ops->read)
        return dev->ops->read(dev->state, addr, dst, n);
    memcpy(dst, dev->mem + addr, n);
    return 0;
}

int sq_dev_peek(sq_dev_t *dev, uint64_t addr, void *dst, size_t n)
{
    int rc = check_range(dev, "read", addr, n, dst);
    return rc || n == 0 ? rc : dev_read_raw(dev, addr, dst, n);
}

int sq_dev_read(sq_dev_t *dev, uint64_t addr, void *dst, size_t n)
{
    int rc = check_range(dev, "read", addr, n, dst);
    if (rc || n == 0)
        return rc;
    dev->stats.host_bytes_read += n;
    if (dev->ops->read)
        return dev->ops->read(dev->state, addr, dst, n);
    memcpy(dst, dev->mem + addr, n);
    return 0;
}

static void stats_add(sq_dev_stats_t *to, const sq_dev_stats_t *add)
{
    to->cycles += add->cycles;
    to->stall_cycles += add->stall_cycles;
    to->bytes_read += add->bytes_read;
    to->bytes_written += add->bytes_written;
    to->macs += add->macs;
    to->commands += add->commands;
    to->launches += add->launches;
    to->host_bytes_written += add->host_bytes_written;
    to->host_bytes_read += add->host_bytes_read;
}

/* Runs descriptors [i, j) of one unit as one launch of its kernel. A
 * launch that only profiling split off a unit's run (per_desc) is not
 * counted: the stats count the launches the stream takes unprofiled, which
 * is what a card runs. */
static int launch(sq_dev_t *dev, uint64_t cmd_addr, uint32_t i, uint32_t j, uint64_t max_cycles,
                  sq_dev_stats_t *per_desc, int counted)
{
    sq_dev_stats_t add = {0};
    int rc = dev->ops->run(dev->state, cmd_addr + (uint64_t)i * SQ_DESC_BYTES, j - i,
                           max_cycles, &add);
    if (rc)
        return rc;
    add.commands = j - i;
    if (per_desc)
        per_desc[i] = add;
    add.launches = counted ? 1 : 0;
    stats_add(&dev->stats, &add);
    return 0;
}

static int dev_read(void *dev, uint64_t addr, void *dst, size_t n)
{
    return sq_dev_peek(dev, addr, dst, n);
}

/* What one valid (patched) descriptor computes and moves, from the
 * descriptor and, for attention, its block bitmap in device memory. */
static int desc_work(sq_dev_t *dev, const uint8_t *desc, sq_dev_stats_t *w)
{
    *w = (sq_dev_stats_t){0};
    return sq_desc_work_read(desc, dev_read, dev, w);
}

/* One launch of the level's command processor for a validated stream (cmds:
 * patched). Work counters come from the descriptors; cycles, stalls and
 * bytes from the level when it counts them, and per descriptor from the
 * kernel's profile records. */
static int run_native(sq_dev_t *dev, uint64_t cmd_addr, uint32_t n_cmds, const uint8_t *cmds,
                      const sq_run_args_t *args, uint64_t max_cycles)
{
    sq_stream_run_t r = {cmd_addr, n_cmds, cmds, args->pos, 0, max_cycles};
    uint64_t size = dev->cfg.mem_bytes, rec_bytes = (uint64_t)n_cmds * SQ_PROF_BYTES;
    if (args->per_desc && dev->ops->profiles) {
        r.prof_addr = (dev->brk + DEV_ALIGN - 1) & ~(uint64_t)(DEV_ALIGN - 1);
        /* address 0 means "no records" to the kernel */
        if (r.prof_addr == 0)
            r.prof_addr = DEV_ALIGN;
        if (r.prof_addr > size || rec_bytes > size - r.prof_addr)
            return sq_err(SQ_ERR_MEM, "no room above the allocated device memory for the %u "
                                      "profile records of %llu bytes the per-descriptor "
                                      "counters need",
                          n_cmds, (unsigned long long)rec_bytes);
    }
    sq_dev_stats_t add = {0}, work = {0};
    int rc = dev->ops->run_stream(dev->state, &r, &add);
    if (rc == SQ_STREAM_UNITS)
        return rc;
    for (uint32_t i = 0; rc == 0 && i < n_cmds; i++) {
        sq_dev_stats_t w;
        rc = desc_work(dev, cmds + (size_t)i * SQ_DESC_BYTES, &w);
        work.macs += w.macs;
        work.bytes_read += w.bytes_read;
        work.bytes_written += w.bytes_written;
        if (rc == 0 && args->per_desc) {
            w.commands = 1;
            args->per_desc[i] = w;
        }
    }
    if (rc)
        return rc;
    add.macs = work.macs;
    if (!dev->ops->profiles) {
        add.bytes_read = work.bytes_read;
        add.bytes_written = work.bytes_written;
    }
    add.commands = n_cmds;
    add.launches = 1;
    stats_add(&dev->stats, &add);
    if (!r.prof_addr)
        return 0;
    uint8_t *recs = malloc((size_t)rec_bytes);
    if (!recs)
        return sq_err(SQ_ERR_MEM, "out of memory reading %u profile records", n_cmds);
    rc = sq_dev_read(dev, r.prof_addr, recs, (size_t)rec_bytes);
    for (uint32_t i = 0; rc == 0 && i < n_cmds; i++) {
        const uint8_t *rec = recs + (size_t)i * SQ_PROF_BYTES;
        sq_dev_stats_t *pd = &args->per_desc[i];
        if (sq_desc_opcode(cmds + (size_t)i * SQ_DESC_BYTES) == SQ_OP_NOP) {
            *pd = (sq_dev_stats_t){.commands = 1};
            continue;
        }
        uint64_t start = sq_desc_addr(rec, SQ_PROF_W_START), end = sq_desc_addr(rec, SQ_PROF_W_END);
        pd->cycles = end - start + 1;
        pd->stall_cycles = sq_desc_addr(rec, SQ_PROF_W_STALL);
        pd->bytes_read = sq_desc_addr(rec, SQ_PROF_W_RBYTES);
        pd->bytes_written = sq_desc_addr(rec, SQ_PROF_W_WBYTES);
    }
    free(recs);
    return rc;
}

/* A descriptor the level has no hardware for (its caps) fails in one line. */
static int check_caps(const sq_dev_t *dev, const uint8_t *desc, uint32_t i)
{
    uint32_t op = sq_desc_opcode(desc);
    if (op == SQ_OP_VEC && !(dev->ops->caps & SQ_LEVEL_CAP_VEC))
        return sq_err(SQ_ERR_DEV, "descriptor %u: level '%s' has no vector unit (SQ_OP_VEC) yet",
                      i, dev->ops->name);
    if (op == SQ_OP_GEMM && (sq_desc_word(desc, SQ_GEMM_W_FLAGS) & SQ_GEMM_GSCALE) &&
        !(dev->ops->caps & SQ_LEVEL_CAP_GSCALE))
        return sq_err(SQ_ERR_FMT,
                      "descriptor %u: unknown gemm flags 0x%x on level '%s' (it has no GEMM "
                      "group scales)",
                      i, SQ_GEMM_GSCALE, dev->ops->name);
    if (op == SQ_OP_GEMM && sq_desc_word(desc, SQ_GEMM_W_CU) >= dev->cfg.gemm_cus)
        return sq_err(SQ_ERR_FMT, "descriptor %u: gemm on compute unit %u, the device has %u",
                      i, sq_desc_word(desc, SQ_GEMM_W_CU), dev->cfg.gemm_cus);
    return 0;
}

int sq_dev_run_args(sq_dev_t *dev, uint64_t cmd_addr, uint32_t n_cmds, const sq_run_args_t *args,
                    uint64_t max_cycles)
{
    static const sq_run_args_t none = {{0}, NULL};
    if (!args)
        args = &none;
    if (n_cmds == 0)
        return 0;
    uint64_t size = dev->cfg.mem_bytes, bytes = (uint64_t)n_cmds * SQ_DESC_BYTES;
    if (cmd_addr % 4 || bytes > size || cmd_addr > size - bytes)
        return sq_err(SQ_ERR_ARG,
                      "command stream of %u descriptors at 0x%llx misaligned or outside device memory",
                      n_cmds, (unsigned long long)cmd_addr);
    /* the stream as written, and as the units see it (patches applied) */
    uint8_t *orig = malloc((size_t)bytes), *cmds = malloc((size_t)bytes);
    if (!orig || !cmds) {
        free(orig);
        free(cmds);
        return sq_err(SQ_ERR_MEM, "out of memory reading %u descriptors", n_cmds);
    }
    int rc = dev_read_raw(dev, cmd_addr, orig, (size_t)bytes);
    if (rc == 0)
        memcpy(cmds, orig, (size_t)bytes);
    /* Validate the whole stream first, so no level starts work it cannot
     * finish: each descriptor (its operands inside the allocated memory),
     * then the ordering rules between them. */
    for (uint32_t i = 0; rc == 0 && i < n_cmds; i++) {
        uint8_t *d = cmds + (size_t)i * SQ_DESC_BYTES;
        rc = check_caps(dev, d, i);
        if (rc == 0)
            rc = sq_desc_check_header(d, i);
        if (rc == 0) {
            sq_desc_apply_patches(d, args->pos);
            rc = sq_desc_check(dev, d, i, dev->brk, cmd_addr, cmd_addr + bytes);
        }
    }
    if (rc == 0)
        rc = sq_stream_check(cmds, n_cmds);
    if (rc == 0 && args->per_desc)
        memset(args->per_desc, 0, n_cmds * sizeof *args->per_desc);
    if (rc == 0 && dev->ops->run_stream && !dev->cfg.unit_launches) {
        rc = run_native(dev, cmd_addr, n_cmds, cmds, args, max_cycles);
        if (rc != SQ_STREAM_UNITS) {
            free(orig);
            free(cmds);
            return rc;
        }
        rc = 0;
    }
    /* No command processor: the host plays it. Patched descriptors go in
     * place for the run; maximal runs of one unit are one launch each. */
    int patched = 0;
    for (uint32_t i = 0; rc == 0 && i < n_cmds; i++) {
        size_t at = (size_t)i * SQ_DESC_BYTES;
        if (memcmp(orig + at, cmds + at, SQ_DESC_BYTES)) {
            rc = sq_dev_write(dev, cmd_addr + at, cmds + at, SQ_DESC_BYTES);
            patched = 1;
        }
    }
    for (uint32_t i = 0, j; rc == 0 && i < n_cmds; i = j) {
        uint32_t op = sq_desc_opcode(cmds + (size_t)i * SQ_DESC_BYTES);
        for (j = i + 1; j < n_cmds && !args->per_desc &&
                        sq_desc_opcode(cmds + (size_t)j * SQ_DESC_BYTES) == op;
             j++)
            ;
        if (op != SQ_OP_NOP)
            rc = launch(dev, cmd_addr, i, j, max_cycles, args->per_desc,
                        i == 0 || sq_desc_opcode(cmds + (size_t)(i - 1) * SQ_DESC_BYTES) != op);
        else
            dev->stats.commands += j - i;
    }
    /* the stream stays as the host wrote it */
    for (uint32_t i = 0; patched && i < n_cmds; i++) {
        size_t at = (size_t)i * SQ_DESC_BYTES;
        if (memcmp(orig + at, cmds + at, SQ_DESC_BYTES)) {
            int rc2 = sq_dev_write(dev, cmd_addr + at, orig + at, SQ_DESC_BYTES);
            rc = rc ? rc : rc2;
        }
    }
    free(orig);
    free(cmds);
    return rc;
}

int sq_dev_run(sq_dev_t *dev, uint64_t cmd_addr, uint32_t n_cmds, uint64_t max_cycles)
{
    return sq_dev_run_args(dev, cmd_addr, n_cmds, NULL, max_cycles);
}

void sq_dev_stats(const sq_dev_t *dev, sq_dev_stats_t *out)
{
    *out = dev->stats;
}

void sq_dev_stats_reset(sq_dev_t *dev)
{
    memset(&dev->stats, 0, sizeof dev->stats);
}

uint32_t sq_dev_gemm_cus(const sq_dev_t *dev)
{
    return dev->cfg.gemm_cus;
}

const char *sq_dev_level(const sq_dev_t *dev)
{
    return dev->ops->name;
}
