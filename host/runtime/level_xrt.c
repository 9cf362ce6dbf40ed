/* The "xrt" level: the kernels of an xclbin on an Alveo/F2 card through
 * XRT's native C API (Debian's libxrt-dev 2.13). The flat device memory is
 * one buffer object in the bank of the kernels' m_axi argument: descriptors
 * carry offsets into it and the kernel's `mem` argument is its base, exactly
 * as on the other levels (include/sparq/kernels.h). A stream is one run of
 * the accelerator kernel sq_accel_kernel with (mem, command address, count,
 * the eight positions, no profile buffer); with unit_launches, a run of one
 * unit's descriptors is one run of its own kernel.
 *
 * Order of open, so each failure is the most useful one line: XRT made safe
 * to call (sq_xrt_env), the xclbin checked if one is named, the card opened
 * ("no device" whether or not an xclbin was given), then the xclbin required,
 * loaded and its kernels opened. Counters are work counters (as csim):
 * the HLS kernels have no cycle registers. */
#define _GNU_SOURCE /* dladdr */
#include "runtime/level_xrt.h"

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <experimental/xrt_xclbin.h>
#include <xclbin.h>
#include <xrt/xrt_bo.h>
#include <xrt/xrt_device.h>
#include <xrt/xrt_kernel.h>

#include "runtime/desc.h"
#include "runtime/device.h"
#include "sparq/kernels.h"
#include "sparq/spec.h"
#include "util/err.h"

/* What XRT 2.13 loads from $XILINX_XRT/lib when it first logs a message. */
#define XRT_CORE_LIB "libxrt_core.so.2"

/* Kernel run timeout when the caller gives no cycle bound. */
#define RUN_TIMEOUT_MS 600000u

static int mkdirs(char *path)
{
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        int bad = mkdir(path, 0755) != 0 && errno != EEXIST;
        *p = c;
        if (bad)
            return -1;
        if (c == '\0')
            return 0;
    }
}

/* Points link at target, replacing a stale link atomically (two processes
 * may set up the prefix at once). */
static int link_to(const char *link, const char *target)
{
    char cur[4096], tmp[4300];
    ssize_t n = readlink(link, cur, sizeof cur - 1);
    if (n >= 0) {
        cur[n] = '\0';
        if (!strcmp(cur, target))
            return 0;
    }
    snprintf(tmp, sizeof tmp, "%s.%ld", link, (long)getpid());
    unlink(tmp);
    if (symlink(target, tmp) != 0)
        return -1;
    if (rename(tmp, link) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static int lib_ok(const char *prefix)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/lib/" XRT_CORE_LIB, prefix);
    return access(p, R_OK) == 0;
}

int sq_xrt_env(void)
{
    const char *have = getenv("XILINX_XRT");
    if (have && *have) {
        if (!lib_ok(have))
            return sq_err(SQ_ERR_DEV, "xrt: XILINX_XRT=%s has no lib/" XRT_CORE_LIB
                                      " (XRT would abort); point it at an XRT install or unset it",
                          have);
        return 0;
    }
    Dl_info info;
    if (!dladdr((void *)xrtDeviceOpen, &info) || !info.dli_fname)
        return sq_err(SQ_ERR_DEV, "xrt: cannot locate the loaded XRT library; set XILINX_XRT");
    char libdir[4096];
    snprintf(libdir, sizeof libdir, "%s", info.dli_fname);
    char *slash = strrchr(libdir, '/');
    if (!slash)
        return sq_err(SQ_ERR_DEV, "xrt: XRT loaded from '%s', not a path; set XILINX_XRT",
                      info.dli_fname);
    *slash = '\0';

    const char *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char prefix[4096], path[4200];
    int len;
    if (cache && *cache)
        len = snprintf(prefix, sizeof prefix, "%s/sparq/xrt", cache);
    else if (home && *home)
        len = snprintf(prefix, sizeof prefix, "%s/.cache/sparq/xrt", home);
    else
        return sq_err(SQ_ERR_DEV, "xrt: XILINX_XRT, XDG_CACHE_HOME and HOME are unset; set "
                                  "XILINX_XRT to an XRT prefix");
    if (len < 0 || (size_t)len >= sizeof prefix)
        return sq_err(SQ_ERR_DEV, "xrt: cache directory path too long; set XILINX_XRT");
    snprintf(path, sizeof path, "%s/lib", prefix);
    if (mkdirs(prefix) != 0 || link_to(path, libdir) != 0 || !lib_ok(prefix))
        return sq_err(SQ_ERR_DEV, "xrt: cannot make an XRT prefix at %s linking to %s (%s); set "
                                  "XILINX_XRT", prefix, libdir, strerror(errno));
    if (!getenv("XRT_INI_PATH")) {
        snprintf(path, sizeof path, "%s/xrt.ini", prefix);
        FILE *f = fopen(path, "w");
        if (!f || fputs("[Runtime]\nruntime_log=null\n", f) < 0 || fclose(f) != 0)
            return sq_err(SQ_ERR_DEV, "xrt: cannot write %s", path);
        setenv("XRT_INI_PATH", path, 1);
    }
    setenv("XILINX_XRT", prefix, 1);
    return 0;
}

static int has_section(const struct axlf_section_header *h, uint32_t n, uint32_t kind)
{
    for (uint32_t i = 0; i < n; i++)
        if (h[i].m_sectionKind == kind)
            return 1;
    return 0;
}

/* Kernel arguments a connection may name: far above any Vitis kernel's, far
 * below a table size that takes XRT seconds to build. */
#define MAX_KERNEL_ARGS 1024

/* What XRT 2.13 reads from a section with a count (MEM_TOPOLOGY, IP_LAYOUT,
 * CONNECTIVITY and their group versions): the count of entries of `size`
 * bytes after a header of `head` bytes. */
typedef struct {
    uint32_t kind;
    size_t head, size;
    const char *name;
} counted_t;

static const counted_t counted[] = {
    {MEM_TOPOLOGY, offsetof(struct mem_topology, m_mem_data), sizeof(struct mem_data), "MEM_TOPOLOGY"},
    {ASK_GROUP_TOPOLOGY, offsetof(struct mem_topology, m_mem_data), sizeof(struct mem_data),
     "GROUP_TOPOLOGY"},
    {IP_LAYOUT, offsetof(struct ip_layout, m_ip_data), sizeof(struct ip_data), "IP_LAYOUT"},
    {CONNECTIVITY, offsetof(struct connectivity, m_connection), sizeof(struct connection),
     "CONNECTIVITY"},
    {ASK_GROUP_CONNECTIVITY, offsetof(struct connectivity, m_connection),
     sizeof(struct connection), "GROUP_CONNECTIVITY"},
};

/* The sections XRT indexes without checks (it crashes on a count beyond its
 * section, reads names as C strings, follows connection indices and sizes a
 * table by argument index; AFL++ found the crash and the slow case): every
 * count fits its section, every name and tag ends inside its array, and every
 * connection names an IP and a memory that exist and an argument below
 * MAX_KERNEL_ARGS. Sections are read
 * from f (size bytes, section table h of n entries). */
static int check_counted(const char *path, FILE *f, const struct axlf_section_header *h,
                         uint32_t n)
{
    int32_t counts[sizeof counted / sizeof counted[0]];
    int rc = 0;
    for (size_t c = 0; c < sizeof counted / sizeof counted[0] && !rc; c++) {
        counts[c] = -1;
        for (uint32_t i = 0; i < n && !rc; i++) {
            if (h[i].m_sectionKind != counted[c].kind)
                continue;
            uint64_t len = h[i].m_sectionSize;
            int32_t count;
            if (len < counted[c].head || fseek(f, (long)h[i].m_sectionOffset, SEEK_SET) != 0 ||
                fread(&count, sizeof count, 1, f) != 1 || count < 0 ||
                (uint64_t)count > (len - counted[c].head) / counted[c].size)
                return sq_err(SQ_ERR_FMT, "xrt: %s: section %s holds fewer entries than its "
                                          "count", path, counted[c].name);
            uint8_t *body = malloc((size_t)count * counted[c].size + 1);
            if (!body)
                return sq_err(SQ_ERR_MEM, "xrt: out of memory reading %s", path);
            if (fseek(f, (long)(h[i].m_sectionOffset + counted[c].head), SEEK_SET) != 0 ||
                fread(body, counted[c].size, (size_t)count, f) != (size_t)count)
                rc = sq_err(SQ_ERR_FMT, "xrt: %s: cannot read section %s", path,
                            counted[c].name);
            for (int32_t e = 0; e < count && !rc; e++) {
                const uint8_t *at = body + (size_t)e * counted[c].size;
                if (counted[c].kind == MEM_TOPOLOGY || counted[c].kind == ASK_GROUP_TOPOLOGY) {
                    const struct mem_data *m = (const void *)at;
                    if (!memchr(m->m_tag, 0, sizeof m->m_tag))
                        rc = sq_err(SQ_ERR_FMT, "xrt: %s: memory %d has an unterminated tag",
                                    path, e);
                } else if (counted[c].kind == IP_LAYOUT) {
                    const struct ip_data *ip = (const void *)at;
                    if (!memchr(ip->m_name, 0, sizeof ip->m_name))
                        rc = sq_err(SQ_ERR_FMT, "xrt: %s: IP %d has an unterminated name", path,
                                    e);
                } else {
                    const struct connection *cn = (const void *)at;
                    /* the topology and IP counts come first in counted[] */
                    int32_t mems = counts[counted[c].kind == CONNECTIVITY ? 0 : 1], ips = counts[2];
                    /* XRT sizes a table by the largest argument index */
                    if (cn->arg_index < 0 || cn->arg_index >= MAX_KERNEL_ARGS ||
                        cn->m_ip_layout_index < 0 ||
                        cn->m_ip_layout_index >= ips || cn->mem_data_index < 0 ||
                        cn->mem_data_index >= mems)
                        rc = sq_err(SQ_ERR_FMT, "xrt: %s: connection %d names an argument, "
                                                "IP or memory that is not there", path, e);
                }
            }
            free(body);
            counts[c] = count;
        }
    }
    return rc;
}

static int check_file(const char *path, FILE *f)
{
    struct axlf top;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || fread(&top, sizeof top, 1, f) != 1)
        return sq_err(SQ_ERR_FMT, "xrt: %s is not an xclbin (shorter than its %zu-byte header)",
                      path, sizeof top);
    if (memcmp(top.m_magic, "xclbin2", 8) != 0)
        return sq_err(SQ_ERR_FMT, "xrt: %s is not an xclbin (no xclbin2 magic)", path);
    uint64_t size = (uint64_t)st.st_size;
    if (top.m_header.m_length != size)
        return sq_err(SQ_ERR_FMT, "xrt: %s is truncated or padded: header says %" PRIu64
                                  " bytes, file has %" PRIu64, path, top.m_header.m_length, size);
    uint32_t n = top.m_header.m_numSections;
    uint64_t table = offsetof(struct axlf, m_sections) + (uint64_t)n * sizeof top.m_sections[0];
    if (n == 0 || n > XCLBIN_MAX_NUM_SECTION || table > size)
        return sq_err(SQ_ERR_FMT, "xrt: %s: section table of %u entries does not fit", path, n);
    struct axlf_section_header *h = malloc((size_t)n * sizeof *h);
    if (!h)
        return sq_err(SQ_ERR_MEM, "xrt: out of memory reading %s", path);
    int rc = 0;
    if (fseek(f, (long)offsetof(struct axlf, m_sections), SEEK_SET) != 0 ||
        fread(h, sizeof *h, n, f) != n)
        rc = sq_err(SQ_ERR_FMT, "xrt: %s: cannot read its section table", path);
    for (uint32_t i = 0; rc == 0 && i < n; i++)
        if (h[i].m_sectionOffset > size || h[i].m_sectionSize > size - h[i].m_sectionOffset)
            rc = sq_err(SQ_ERR_FMT, "xrt: %s: section %u (kind %u) lies outside the file", path,
                        i, h[i].m_sectionKind);
    if (rc == 0 && (!has_section(h, n, EMBEDDED_METADATA) || !has_section(h, n, IP_LAYOUT)))
        rc = sq_err(SQ_ERR_FMT, "xrt: %s has no kernel metadata (EMBEDDED_METADATA and "
                                "IP_LAYOUT sections)", path);
    if (rc == 0)
        rc = check_counted(path, f, h, n);
    free(h);
    return rc;
}

int sq_xrt_xclbin_check(const char *path, size_t *n_kernels)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sq_err(SQ_ERR_IO, "xrt: cannot open xclbin %s: %s", path, strerror(errno));
    int rc = check_file(path, f);
    fclose(f);
    if (rc)
        return rc;
    errno = 0;
    xrtXclbinHandle x = xrtXclbinAllocFilename(path);
    if (!x)
        return sq_err(SQ_ERR_FMT, "xrt: XRT cannot read xclbin %s (%s)", path,
                      errno ? strerror(errno) : "rejected");
    /* XRT reports an unparsable kernel XML as (size_t)-1 kernels. */
    size_t n = xrtXclbinGetNumKernels(x);
    xrtXclbinFreeHandle(x);
    if (n == 0 || n == (size_t)-1)
        return sq_err(SQ_ERR_FMT, "xrt: xclbin %s describes no kernels XRT can read", path);
    *n_kernels = n;
    return 0;
}

typedef struct {
    xrtDeviceHandle dev;
    xrtKernelHandle gemm, attn, accel;
    xrtBufferHandle bo;
    double clock_mhz;
} xrt_t;

static void xrt_close(void *state)
{
    xrt_t *s = state;
    if (!s)
        return;
    if (s->bo)
        xrtBOFree(s->bo);
    if (s->attn)
        xrtKernelClose(s->attn);
    if (s->accel)
        xrtKernelClose(s->accel);
    if (s->gemm)
        xrtKernelClose(s->gemm);
    if (s->dev)
        xrtDeviceClose(s->dev);
    free(s);
}

static int device_index(const sq_dev_config_t *cfg, unsigned *idx)
{
    if (cfg->xrt_device >= 0) {
        *idx = (unsigned)cfg->xrt_device;
        return 0;
    }
    const char *e = getenv("SPARQ_XRT_DEVICE");
    *idx = 0;
    if (!e || !*e)
        return 0;
    char *end;
    errno = 0;
    unsigned long v = strtoul(e, &end, 10);
    if (*end || errno || v > 255)
        return sq_err(SQ_ERR_ARG, "xrt: SPARQ_XRT_DEVICE must be a device index, got '%s'", e);
    *idx = (unsigned)v;
    return 0;
}

static int open_kernel(xrt_t *s, const xuid_t uuid, const char *name, const char *xclbin,
                       xrtKernelHandle *out)
{
    errno = 0;
    *out = xrtPLKernelOpen(s->dev, uuid, name);
    if (!*out)
        return sq_err(SQ_ERR_DEV, "xrt: xclbin %s has no kernel %s (%s)", xclbin, name,
                      errno ? strerror(errno) : "not found");
    return 0;
}

static int xrt_open(const sq_dev_config_t *cfg, uint8_t *mem, void **state)
{
    (void)mem; /* device memory is the buffer object on the card */
    int rc = sq_xrt_env();
    if (rc)
        return rc;
    const char *xclbin = cfg->xclbin ? cfg->xclbin : getenv("SPARQ_XCLBIN");
    if (xclbin && !*xclbin)
        xclbin = NULL;
    size_t n_kernels = 0;
    if (xclbin && (rc = sq_xrt_xclbin_check(xclbin, &n_kernels)))
        return rc;
    unsigned idx;
    if ((rc = device_index(cfg, &idx)))
        return rc;

    xrt_t *s = calloc(1, sizeof *s);
    if (!s)
        return sq_err(SQ_ERR_MEM, "xrt: out of host memory");
    s->clock_mhz = cfg->clock_mhz;
    errno = 0;
    s->dev = xrtDeviceOpen(idx);
    if (!s->dev) {
        rc = sq_err(SQ_ERR_DEV, "xrt: no device (card %u: %s; the xrt level needs an "
                                "Alveo/F2 card with XRT's driver loaded)",
                    idx, errno ? strerror(errno) : "not found");
        goto fail;
    }
    if (!xclbin) {
        rc = sq_err(SQ_ERR_ARG, "xrt: no xclbin: set SPARQ_XCLBIN=FILE.xclbin (built by make -C "
                                "bitstreams/vitis, see docs/xrt.md)");
        goto fail;
    }
    xuid_t uuid;
    errno = 0;
    if (xrtDeviceLoadXclbinFile(s->dev, xclbin) != 0 ||
        xrtDeviceGetXclbinUUID(s->dev, uuid) != 0) {
        rc = sq_err(SQ_ERR_DEV, "xrt: card %u cannot load %s (%s)", idx, xclbin,
                    errno ? strerror(errno) : "rejected");
        goto fail;
    }
    if ((rc = open_kernel(s, uuid, "sq_gemm_kernel", xclbin, &s->gemm)) ||
        (rc = open_kernel(s, uuid, "sq_attn_kernel", xclbin, &s->attn)))
        goto fail;
    /* the accelerator kernel, when the xclbin has it (both Vitis builds
     * link it; without it the host drives the unit kernels) */
    s->accel = xrtPLKernelOpen(s->dev, uuid, "sq_accel_kernel");
    /* One flat memory for every kernel: their m_axi ports must share a bank. */
    int grp = xrtKernelArgGroupId(s->gemm, SQ_KARG_MEM);
    if (grp < 0 || xrtKernelArgGroupId(s->attn, SQ_KARG_MEM) != grp ||
        (s->accel && xrtKernelArgGroupId(s->accel, SQ_KARG_MEM) != grp)) {
        rc = sq_err(SQ_ERR_DEV, "xrt: %s: the kernels' mem ports are not on one memory bank "
                                "(link them to the same bank, bitstreams/vitis/*.cfg)", xclbin);
        goto fail;
    }
    errno = 0;
    s->bo = xrtBOAlloc(s->dev, (size_t)cfg->mem_bytes, XRT_BO_FLAGS_NONE, (xrtMemoryGroup)grp);
    if (!s->bo) {
        rc = sq_err(SQ_ERR_DEV, "xrt: cannot allocate %" PRIu64 " bytes of device memory in "
                                "bank %d (%s)", cfg->mem_bytes, grp,
                    errno ? strerror(errno) : "failed");
        goto fail;
    }
    *state = s;
    return 0;
fail:
    xrt_close(s);
    return rc;
}

static int xrt_write(void *state, uint64_t addr, const void *src, size_t n)
{
    xrt_t *s = state;
    if (xrtBOWrite(s->bo, src, n, (size_t)addr) != 0 ||
        xrtBOSync(s->bo, XCL_BO_SYNC_BO_TO_DEVICE, n, (size_t)addr) != 0)
        return sq_err(SQ_ERR_DEV, "xrt: writing %zu bytes at 0x%" PRIx64 " failed", n, addr);
    return 0;
}

static int xrt_read(void *state, uint64_t addr, void *dst, size_t n)
{
    xrt_t *s = state;
    if (xrtBOSync(s->bo, XCL_BO_SYNC_BO_FROM_DEVICE, n, (size_t)addr) != 0 ||
        xrtBORead(s->bo, dst, n, (size_t)addr) != 0)
        return sq_err(SQ_ERR_DEV, "xrt: reading %zu bytes at 0x%" PRIx64 " failed", n, addr);
    return 0;
}

/* Work counters of a finished run, as csim counts them. */
static int count_work(xrt_t *s, const uint8_t *cmds, uint32_t n_cmds, sq_dev_stats_t *add)
{
    for (uint32_t i = 0; i < n_cmds; i++) {
        int rc = sq_desc_work_read(cmds + (size_t)i * SQ_DESC_BYTES, xrt_read, s, add);
        if (rc)
            return rc;
    }
    return 0;
}

/* Waits for run r of n_cmds descriptors at cmd_addr, at most max_cycles at
 * the configured clock plus a second of slack for the command path; no bound
 * means a generous fixed one. */
static int run_wait(const xrt_t *s, xrtRunHandle r, uint32_t n_cmds, uint64_t cmd_addr,
                    uint64_t max_cycles)
{
    double ms = max_cycles ? (double)max_cycles / (s->clock_mhz * 1e3) + 1000.0
                           : (double)RUN_TIMEOUT_MS;
    unsigned to = ms > 4e9 ? 4000000000u : (unsigned)ms;
    enum ert_cmd_state st = xrtRunWaitFor(r, to);
    if (st != ERT_CMD_STATE_COMPLETED)
        return sq_err(SQ_ERR_DEV, "xrt: kernel run of %u descriptors at 0x%" PRIx64
                                  " ended in state %d (4 = completed; timeout %u ms)",
                      n_cmds, cmd_addr, (int)st, to);
    return 0;
}

/* A whole stream: one run of the accelerator kernel. */
static int xrt_run_stream(void *state, const sq_stream_run_t *r, sq_dev_stats_t *add)
{
    (void)add; /* no cycles; the device adds the work */
    xrt_t *s = state;
    /* Without the accelerator kernel the device launches the unit kernels
     * (GEMM, attention) one run each; the vector unit has no kernel of its
     * own, so such a stream is refused before any of it runs. */
    for (uint32_t i = 0; !s->accel && i < r->n_cmds; i++)
        if (sq_desc_opcode(r->descs + (size_t)i * SQ_DESC_BYTES) == SQ_OP_VEC)
            return sq_err(SQ_ERR_DEV, "xrt: descriptor %u is a vector op, and the xclbin has no "
                          "accelerator kernel (sq_accel_kernel) to run it", i);
    if (!s->accel)
        return SQ_STREAM_UNITS;
    xrtRunHandle run = xrtRunOpen(s->accel);
    if (!run)
        return sq_err(SQ_ERR_DEV, "xrt: cannot create a kernel run (%s)", strerror(errno));
    /* argument sizes come from the xclbin (bitstreams/vitis/xclbingen.c) */
    int bad = xrtRunSetArg(run, SQ_KARG_MEM, s->bo) != 0 ||
              xrtRunSetArg(run, SQ_KARG_CMD, (uint64_t)r->cmd_addr) != 0 ||
              xrtRunSetArg(run, SQ_KARG_NCMD, (uint32_t)r->n_cmds) != 0;
    for (unsigned i = 0; !bad && i < SQ_RUN_POS; i++)
        bad = xrtRunSetArg(run, SQ_KARG_POS0 + (int)i, (uint32_t)r->pos[i]) != 0;
    bad = bad || xrtRunSetArg(run, SQ_KARG_PROF, (uint64_t)0) != 0 || xrtRunStart(run) != 0;
    int rc = bad ? sq_err(SQ_ERR_DEV, "xrt: cannot start the accelerator kernel (%s)",
                          strerror(errno))
                 : run_wait(s, run, r->n_cmds, r->cmd_addr, r->max_cycles);
    xrtRunClose(run);
    return rc;
}

static int xrt_run(void *state, uint64_t cmd_addr, uint32_t n_cmds, uint64_t max_cycles,
                   sq_dev_stats_t *add)
{
    xrt_t *s = state;
    size_t bytes = (size_t)n_cmds * SQ_DESC_BYTES;
    uint8_t *cmds = malloc(bytes);
    if (!cmds)
        return sq_err(SQ_ERR_MEM, "xrt: out of host memory");
    int rc = xrt_read(s, cmd_addr, cmds, bytes);
    uint32_t op = rc ? SQ_OP_NOP : sq_desc_opcode(cmds);
    xrtKernelHandle k = op == SQ_OP_GEMM ? s->gemm : op == SQ_OP_ATTN ? s->attn : NULL;
    if (!rc && !k)
        rc = sq_err(SQ_ERR_DEV, "xrt: no kernel for opcode %u", (unsigned)op);
    xrtRunHandle r = NULL;
    if (!rc && !(r = xrtRunOpen(k)))
        rc = sq_err(SQ_ERR_DEV, "xrt: cannot create a kernel run (%s)", strerror(errno));
    /* Argument sizes come from the xclbin: mem is a buffer, cmd_addr 8 bytes,
     * n_cmds 4 (bitstreams/vitis/xclbingen.c writes the same metadata). */
    if (!rc && (xrtRunSetArg(r, SQ_KARG_MEM, s->bo) != 0 ||
                xrtRunSetArg(r, SQ_KARG_CMD, (uint64_t)cmd_addr) != 0 ||
                xrtRunSetArg(r, SQ_KARG_NCMD, (uint32_t)n_cmds) != 0 || xrtRunStart(r) != 0))
        rc = sq_err(SQ_ERR_DEV, "xrt: cannot start the kernel run (%s)", strerror(errno));
    if (!rc)
        rc = run_wait(s, r, n_cmds, cmd_addr, max_cycles);
    if (r)
        xrtRunClose(r);
    if (!rc)
        rc = count_work(s, cmds, n_cmds, add);
    free(cmds);
    return rc;
}

const sq_level_ops_t sq_level_xrt = {
    .name = "xrt",
    .open = xrt_open,
    .close = xrt_close,
    .write = xrt_write,
    .read = xrt_read,
    .run = xrt_run,
    .run_stream = xrt_run_stream,
    /* sq_accel_kernel has the vector unit and the GEMM core's group scales;
     * an xclbin of unit kernels only refuses vector streams (above) */
    .caps = SQ_LEVEL_CAP_VEC | SQ_LEVEL_CAP_GSCALE,
};
