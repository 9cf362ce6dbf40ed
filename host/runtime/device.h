/* sparq device API: one program, every execution level.
 *
 * A device is opened by level name ("ref", "csim", "rtl", "tlm", "model", "opencl",
 * "xrt"). Every level has the same flat device memory (addresses are
 * byte offsets from 0, as the descriptors in include/sparq/spec.h carry them),
 * executes the same command stream, and must produce the same bits; levels
 * differ only in what computes and in what they can count (cycles come from
 * rtl and the cycle models; ref and csim report work counters).
 *
 * Calls return 0 or a negative SQ_ERR_* code with a message in sq_err_msg().
 * A level with a command processor (rtl, tlm, model, csim, opencl, xrt: the
 * accelerator kernel of docs/accelerator.md) runs a whole stream in one
 * launch; ref, the golden, executes it one descriptor at a time. Each unit
 * is also its own kernel with the Vitis ap_ctrl_hs register map, which the
 * host can drive instead (sq_dev_config_t.unit_launches). */
#ifndef SQ_DEVICE_H
#define SQ_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "sparq/spec.h"

typedef struct {
    const char *level;     /* "ref", "csim", "rtl", "tlm", "model", "opencl", "xrt" */
    uint64_t mem_bytes;    /* size of device memory (default 256 MiB) */
    double mem_gbps;       /* modeled bandwidth, GB/s (default 19.2: one DDR4 channel) */
    double mem_latency_ns; /* modeled latency of a read burst (default 100 ns) */
    double clock_mhz;      /* kernel clock for the memory model (default 300) */
    const char *fst_path;  /* rtl and tlm only: FST waveform file, or NULL */
    /* model only: array rows and columns of the modeled GEMM unit (0 = the
     * SQ_ARRAY_ROWS x SQ_ARRAY_COLS of include/sparq/spec.h). The rtl level
     * is Verilated for that one size and ignores these. */
    uint32_t array_rows, array_cols;
    /* model only: count cycles and bytes without computing outputs (the
     * golden GEMM skipped; MACs counted from the shapes, 2:4 as half).
     * Device memory then holds no results: for timing studies only. */
    int timing_only;
    /* xrt only, read during open: the xclbin (NULL: $SPARQ_XCLBIN) and the
     * card index (-1: $SPARQ_XRT_DEVICE, else 0). */
    const char *xclbin;
    int xrt_device;
    /* rtl and tlm: the accelerator kernel's AXI4 ports each on a channel of
     * mem_gbps of their own (0, the default), or all on one channel (1: a
     * DDR4 target's one channel; sim/sq_mem.h has the arbitration). The
     * model level times per-port channels only. */
    int mem_shared;
    /* 1: no command processor even where the level has one: the host drives
     * the unit kernels, one launch per run of one unit (for comparison). */
    int unit_launches;
    /* GEMM compute units of the accelerator kernel, 1 .. SQ_GEMM_CUS_MAX
     * (default 1; 0 is 1): each its own AXI4 port on its own memory channel; a GEMM
     * descriptor runs on the one its SQ_GEMM_W_CU names, which must be below
     * this on every level (levels without a command processor run every GEMM
     * on their one unit, in stream order: the same bits). The rtl and tlm
     * levels are Verilated for 1 and SQ_ACCEL_VL_CUS_ALT (4) units. */
    uint32_t gemm_cus;
} sq_dev_config_t;

/* Counters, accumulated since open (or the last sq_dev_stats_reset). */
typedef struct {
    uint64_t cycles;        /* kernel cycles (0 on levels that do not count them) */
    uint64_t stall_cycles;  /* cycles the compute waited on memory */
    uint64_t bytes_read;    /* device-memory bytes read by the kernels */
    uint64_t bytes_written; /* device-memory bytes written by the kernels */
    uint64_t macs;          /* useful multiply-accumulates (nonzero work only) */
    uint64_t commands;      /* descriptors executed */
    /* The host's side: kernel runs it started, and bytes it wrote to and read
     * from device memory (over PCIe on a card; sq_dev_write / sq_dev_read,
     * and the descriptor patches of a level without a command processor). */
    uint64_t launches;
    uint64_t host_bytes_written;
    uint64_t host_bytes_read;
} sq_dev_stats_t;

/* Arguments of one run of a command stream: the positions the descriptors'
 * patches add (stream header, include/sparq/spec.h), and where to put what
 * each descriptor did. */
typedef struct {
    uint32_t pos[SQ_RUN_POS];
    /* NULL, or n_cmds entries filled with each descriptor's own counters
     * (launches and host bytes stay in the device's totals) */
    sq_dev_stats_t *per_desc;
} sq_run_args_t;

typedef struct sq_dev sq_dev_t;

/* Whether name is a level of the table (built into this binary or not), and
 * the names as one comma-separated line for messages. The CLI checks
 * --backend with these, so a new level is one line in device.c's table. */
int sq_dev_level_known(const char *name);
const char *sq_dev_level_names(void);
/* The i-th level of the table (NULL past its end), and whether a level is
 * built into this binary (the rtl and tlm levels need their toolchains). */
const char *sq_dev_level_name(size_t i);
int sq_dev_level_built(const char *name);

/* Fills cfg with the defaults above for the given level. */
void sq_dev_config_default(sq_dev_config_t *cfg, const char *level);

/* Opens a level. Unknown or unavailable levels fail with SQ_ERR_DEV and a
 * one-line reason. *out is owned by the caller; free with sq_dev_close. */
int sq_dev_open(const sq_dev_config_t *cfg, sq_dev_t **out);
/* Frees everything; accepts NULL. */
void sq_dev_close(sq_dev_t *dev);

/* Reserves n bytes of device memory, aligned to 64 bytes (an AXI burst). */
int sq_dev_alloc(sq_dev_t *dev, size_t n, uint64_t *addr);
/* Places an operand: reserves n bytes and writes src there (src NULL:
 * reserve only, e.g. an output). n == 0 is an absent operand at address 0,
 * which is how descriptors mark one. */
int sq_dev_put(sq_dev_t *dev, const void *src, uint64_t n, uint64_t *addr);
/* Releases every allocation (memory contents are kept, counters too). */
void sq_dev_free_all(sq_dev_t *dev);
int sq_dev_write(sq_dev_t *dev, uint64_t addr, const void *src, size_t n);
int sq_dev_read(sq_dev_t *dev, uint64_t addr, void *dst, size_t n);

/* Executes n_cmds descriptors starting at device address cmd_addr and waits
 * for completion, at most max_cycles kernel cycles on cycle-counting levels
 * (0 means a default bound derived from the work); a hang is an SQ_ERR_DEV
 * error, never an endless loop. The whole stream is validated first (rules in
 * runtime/desc.h): an invalid descriptor fails with SQ_ERR_FMT naming it, and
 * a misaligned or out-of-memory stream with SQ_ERR_ARG, before any work. */
int sq_dev_run(sq_dev_t *dev, uint64_t cmd_addr, uint32_t n_cmds, uint64_t max_cycles);
/* The same with run arguments (NULL: every position 0, no per-descriptor
 * counters). The stream is validated as the units will see it, patches
 * applied. A level whose units sit behind a command processor runs the
 * stream in one launch: with per_desc, the cycle-counting levels have the
 * kernel write a profile record per descriptor just above the allocated
 * memory (SQ_PROF_BYTES each, read back as host traffic), which needs that
 * room; per_desc then holds each descriptor's busy cycles, stall cycles and
 * port bytes, which overlap between units, and its MACs. ref, and any level
 * with unit_launches set, is driven by the host as each unit's command
 * processor: patched descriptors written in place for the run (and restored
 * after), maximal runs of one unit each one launch (one launch per
 * descriptor when per_desc is asked for). */
int sq_dev_run_args(sq_dev_t *dev, uint64_t cmd_addr, uint32_t n_cmds, const sq_run_args_t *args,
                    uint64_t max_cycles);

void sq_dev_stats(const sq_dev_t *dev, sq_dev_stats_t *out);
void sq_dev_stats_reset(sq_dev_t *dev);
const char *sq_dev_level(const sq_dev_t *dev);
/* The GEMM compute units the device was opened with (sq_dev_config_t). */
uint32_t sq_dev_gemm_cus(const sq_dev_t *dev);

/* ---- for the runtime and level implementations (host/runtime, sim/) ----- */
/* sq_dev_read for the runtime's own checks (a stream's quant entries and 2:4
 * codes): not host traffic a program asks for, so not counted in the stats. */
int sq_dev_peek(sq_dev_t *dev, uint64_t addr, void *dst, size_t n);

/* A whole stream for a level's command processor (sq_level_ops_t.run_stream),
 * validated by the device. */
typedef struct {
    uint64_t cmd_addr;
    uint32_t n_cmds;
    const uint8_t *descs;  /* host copy of the stream as the units see it (patched) */
    const uint32_t *pos;   /* the SQ_RUN_POS positions */
    uint64_t prof_addr;    /* where to write SQ_PROF records (0: none) */
    uint64_t max_cycles;   /* 0: the level's bound from the work */
} sq_stream_run_t;

/* The golden reference on one valid descriptor desc (a host copy, patched)
 * over the memory image mem: what the ref level does per descriptor, for
 * levels that compute their outputs with it (model). Adds its work. */
int sq_ref_exec(uint8_t *mem, const uint8_t *desc, sq_dev_stats_t *add);

#define SQ_STREAM_UNITS 1

typedef struct sq_level_ops {
    const char *name;
    /* Creates level state; mem is the host image of device memory for levels
     * that compute on it directly (ref, csim); rtl keeps its own memory model
     * and uses read/write below. */
    int (*open)(const sq_dev_config_t *cfg, uint8_t *mem, void **state);
    void (*close)(void *state);
    /* NULL when the level computes on the shared host image. */
    int (*write)(void *state, uint64_t addr, const void *src, size_t n);
    int (*read)(void *state, uint64_t addr, void *dst, size_t n);
    /* Runs descriptors of one unit (all with the same opcode). */
    int (*run)(void *state, uint64_t cmd_addr, uint32_t n_cmds, uint64_t max_cycles,
               sq_dev_stats_t *add);
    /* Optional: runs a whole stream in one launch of the level's command
     * processor, adding cycles, stall cycles and bytes moved to add (levels
     * that count no cycles leave add alone; the device adds work counters).
     * Returns 0, an SQ_ERR_* code, or SQ_STREAM_UNITS before doing anything
     * when this instance has no command processor (an xclbin without the
     * accelerator kernel): the device then drives the units itself. */
    int (*run_stream)(void *state, const sq_stream_run_t *r, sq_dev_stats_t *add);
    /* 1 when run_stream counts cycles and writes the SQ_PROF records. */
    int profiles;
    /* What the level has beyond the GEMM and attention units (SQ_LEVEL_CAP_*);
     * sq_dev_run_args rejects a stream that needs more, before any work. */
    uint32_t caps;
} sq_level_ops_t;

#define SQ_LEVEL_CAP_VEC (1u << 0)    /* the vector unit (SQ_OP_VEC) */
#define SQ_LEVEL_CAP_GSCALE (1u << 1) /* GEMM group scales (SQ_GEMM_GSCALE) */

#endif
