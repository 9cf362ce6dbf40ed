/* Writes the Vitis description of sparq's kernels (the two units' and the
 * accelerator kernel with the command processor), in two forms:
 *
 *   xclbingen [--mem ddr4|hbm] [--platform NAME] OUT.xclbin
 *     a metadata-only xclbin from XRT's xclbin.h structs: the
 *     EMBEDDED_METADATA XML (kernel names, arguments, register offsets),
 *     MEM_TOPOLOGY (one bank), IP_LAYOUT (one ap_ctrl_hs compute unit per
 *     kernel) and CONNECTIVITY (each kernel's m_axi argument on that bank).
 *     It has no bitstream, so a card cannot run it; it is what XRT reads to
 *     find kernels and set their arguments, and tests/test_xrt.c checks that
 *     XRT's own parser reads it back.
 *   xclbingen --kernel-xml KERNEL OUT.xml
 *     the kernel.xml that package_xo needs to make a Vitis RTL kernel of a
 *     unit or of the accelerator (bitstreams/vitis/Makefile, KERNELS=rtl).
 *
 * One table below feeds both: argument order from include/sparq/kernels.h,
 * register offsets from include/sparq/spec.h (the offsets the HLS pragmas and
 * the RTL register map use), the memory port's width from the AXI model the
 * RTL is simulated with. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xclbin.h>

#include "../../sim/sq_axi.h"
#include "sparq/kernels.h"
#include "sparq/spec.h"

/* Named as the HLS tops; the RTL wrappers (bitstreams/vitis/rtl/) take the
 * same names, so one host path runs either. The unit tops take the first
 * SQ_KARG_COUNT arguments below, the accelerator kernel all of them. */
static const struct {
    const char *name;
    unsigned n_args;
} kernels[] = {
    {"sq_gemm_kernel", SQ_KARG_COUNT},
    {"sq_attn_kernel", SQ_KARG_COUNT},
    {"sq_accel_kernel", SQ_KARG_ACCEL_COUNT},
};
#define N_KERNELS (sizeof kernels / sizeof kernels[0])

#define MEM_PORT "m_axi_gmem"
#define CTRL_PORT "s_axi_control"
/* Each compute unit's control window in an xclbin (XRT's default per CU). */
#define CU_RANGE 0x10000u
/* The RTL units decode 8 AXI4-Lite address bits (rtl/sq_gemm_top.sv). */
#define RTL_CTRL_RANGE 0x100u

static const struct {
    int index;
    const char *name, *port, *type;
    unsigned qualifier; /* 1 global memory (m_axi), 0 scalar register */
    unsigned offset, size;
} args[] = {
    {SQ_KARG_MEM, "mem", MEM_PORT, "void*", 1, SQ_REG_MEM_LO, 8},
    {SQ_KARG_CMD, "cmd_addr", CTRL_PORT, "ulong", 0, SQ_REG_CMD_LO, 8},
    {SQ_KARG_NCMD, "n_cmds", CTRL_PORT, "uint", 0, SQ_REG_NCMD, 4},
    {SQ_KARG_POS0 + 0, "pos0", CTRL_PORT, "uint", 0, SQ_REG_POS0 + 0, 4},
    {SQ_KARG_POS0 + 1, "pos1", CTRL_PORT, "uint", 0, SQ_REG_POS0 + 4, 4},
    {SQ_KARG_POS0 + 2, "pos2", CTRL_PORT, "uint", 0, SQ_REG_POS0 + 8, 4},
    {SQ_KARG_POS0 + 3, "pos3", CTRL_PORT, "uint", 0, SQ_REG_POS0 + 12, 4},
    {SQ_KARG_POS0 + 4, "pos4", CTRL_PORT, "uint", 0, SQ_REG_POS0 + 16, 4},
    {SQ_KARG_POS0 + 5, "pos5", CTRL_PORT, "uint", 0, SQ_REG_POS0 + 20, 4},
    {SQ_KARG_POS0 + 6, "pos6", CTRL_PORT, "uint", 0, SQ_REG_POS0 + 24, 4},
    {SQ_KARG_POS0 + 7, "pos7", CTRL_PORT, "uint", 0, SQ_REG_POS0 + 28, 4},
    {SQ_KARG_PROF, "prof", CTRL_PORT, "ulong", 0, SQ_REG_PROF_LO, 8},
};
_Static_assert(sizeof args / sizeof args[0] == SQ_KARG_ACCEL_COUNT,
               "one entry per kernel argument");
_Static_assert(SQ_RUN_POS == 8, "one pos argument per position register");

/* Appends printf output to a growing buffer. */
typedef struct {
    char *p;
    size_t n, cap;
} buf_t;

static void put(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(buf_t *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0)
            abort();
        if (b->p && b->n + (size_t)k < b->cap) {
            b->n += (size_t)k;
            return;
        }
        b->cap = 2 * (b->cap + (size_t)k + 1);
        if (!(b->p = realloc(b->p, b->cap))) {
            fputs("xclbingen: out of memory\n", stderr);
            exit(1);
        }
    }
}

/* The RTL accelerator kernel's AXI4 masters after MEM_PORT (the command
 * processor's), in sq_accel_top's port order (bitstreams/vitis/rtl/
 * sq_accel_kernel.sv): GEMM unit 0, attention, vector, GEMM units 1 .. 7.
 * v++ wants one argument per interface: mem_<bundle>, after the HLS
 * kernel's arguments. Every port adds SQ_REG_MEM to its addresses (one flat
 * device memory), so these arguments alias SQ_REG_MEM_LO: the host sets only
 * `mem`, and XRT's register map keeps its value there. */
static const char *const accel_ports[] = {"gemm0", "attn",  "vec",   "gemm1", "gemm2",
                                          "gemm3", "gemm4", "gemm5", "gemm6", "gemm7"};
_Static_assert(sizeof accel_ports / sizeof accel_ports[0] == SQ_CP_SLOTS_MAX,
               "one port per unit slot of the command processor");

static void mem_port_xml(buf_t *b, const char *ind, const char *port)
{
    put(b, "%s<port name=\"%s\" mode=\"master\" range=\"0xFFFFFFFFFFFFFFFF\" "
           "dataWidth=\"%u\" portType=\"addressable\" base=\"0x0\"/>\n",
        ind, port, SQ_AXI_BEAT_BYTES * 8u);
}

/* The two interface ports and the arguments, as both XML dialects spell
 * them (ind: indentation). */
static void ports_xml(buf_t *b, const char *ind, unsigned ctrl_range)
{
    mem_port_xml(b, ind, MEM_PORT);
    put(b, "%s<port name=\"" CTRL_PORT "\" mode=\"slave\" range=\"0x%X\" dataWidth=\"32\" "
           "portType=\"addressable\" base=\"0x0\"/>\n", ind, ctrl_range);
}

static void args_xml(buf_t *b, const char *ind, unsigned n_args)
{
    for (size_t a = 0; a < n_args; a++)
        put(b, "%s<arg name=\"%s\" addressQualifier=\"%u\" id=\"%d\" port=\"%s\" "
               "size=\"0x%X\" offset=\"0x%X\" hostOffset=\"0x0\" hostSize=\"0x%X\" "
               "type=\"%s\"/>\n",
            ind, args[a].name, args[a].qualifier, args[a].index, args[a].port, args[a].size,
            args[a].offset, args[a].size, args[a].type);
}

/* The xclbin's EMBEDDED_METADATA, in the form XRT's parser reads. */
static void xclbin_xml(buf_t *b, const char *platform)
{
    put(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    put(b, "<project name=\"sparq\">\n <platform vendor=\"xilinx\" name=\"%s\">\n", platform);
    put(b, "  <device name=\"fpga0\">\n");
    put(b, "   <core name=\"OCL_REGION_0\" target=\"hw\" type=\"clc_region\" "
           "numComputeUnits=\"%zu\">\n", N_KERNELS);
    put(b, "    <kernelClocks><clock port=\"KERNEL_CLK\" frequency=\"300MHz\"/></kernelClocks>\n");
    for (size_t k = 0; k < N_KERNELS; k++) {
        put(b, "    <kernel name=\"%s\" language=\"c\" type=\"pl\" "
               "hwControlProtocol=\"ap_ctrl_hs\" interrupt=\"true\">\n", kernels[k].name);
        ports_xml(b, "     ", CU_RANGE);
        args_xml(b, "     ", kernels[k].n_args);
        put(b, "     <instance name=\"%s_1\"><addrRemap base=\"0x%zX\" range=\"0x%X\" "
               "port=\"" CTRL_PORT "\"/></instance>\n", kernels[k].name, k * CU_RANGE, CU_RANGE);
        put(b, "    </kernel>\n");
    }
    put(b, "   </core>\n  </device>\n </platform>\n</project>\n");
}

/* package_xo's kernel.xml for the RTL kernel k; its vlnv is the one
 * package_kernel.tcl gives the IP. */
static void kernel_xml(buf_t *b, size_t k)
{
    const char *name = kernels[k].name;
    int accel = kernels[k].n_args == SQ_KARG_ACCEL_COUNT;
    put(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    put(b, "<root versionMajor=\"1\" versionMinor=\"6\">\n");
    put(b, "  <kernel name=\"%s\" language=\"ip_c\" vlnv=\"sparq:kernel:%s:1.0\" "
           "attributes=\"\" preferredWorkGroupSizeMultiple=\"0\" workGroupSize=\"1\" "
           "interrupt=\"true\" hwControlProtocol=\"ap_ctrl_hs\">\n", name, name);
    put(b, "    <ports>\n");
    ports_xml(b, "      ", RTL_CTRL_RANGE);
    for (size_t p = 0; accel && p < SQ_CP_SLOTS_MAX; p++) {
        char port[32];
        snprintf(port, sizeof port, "m_axi_%s", accel_ports[p]);
        mem_port_xml(b, "      ", port);
    }
    put(b, "    </ports>\n    <args>\n");
    args_xml(b, "      ", kernels[k].n_args);
    for (size_t p = 0; accel && p < SQ_CP_SLOTS_MAX; p++)
        put(b, "      <arg name=\"mem_%s\" addressQualifier=\"1\" id=\"%zu\" "
               "port=\"m_axi_%s\" size=\"0x8\" offset=\"0x%X\" hostOffset=\"0x0\" "
               "hostSize=\"0x8\" type=\"void*\"/>\n",
            accel_ports[p], SQ_KARG_ACCEL_COUNT + p, accel_ports[p], SQ_REG_MEM_LO);
    put(b, "    </args>\n  </kernel>\n</root>\n");
}

static int write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    int bad = !f || fwrite(data, 1, n, f) != n;
    if (f && fclose(f) != 0)
        bad = 1;
    if (bad)
        fprintf(stderr, "xclbingen: cannot write %s\n", path);
    return bad;
}

static void usage(void)
{
    fputs("usage: xclbingen [--mem ddr4|hbm] [--platform NAME] OUT.xclbin\n"
          "       xclbingen --kernel-xml KERNEL OUT.xml\n", stderr);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *mem = "ddr4", *platform = "sparq_metadata_only", *out = NULL, *kxml = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--kernel-xml") && i + 1 < argc)
            kxml = argv[++i];
        else if (!strcmp(argv[i], "--mem") && i + 1 < argc)
            mem = argv[++i];
        else if (!strcmp(argv[i], "--platform") && i + 1 < argc)
            platform = argv[++i];
        else if (argv[i][0] != '-' && !out)
            out = argv[i];
        else
            usage();
    }
    if (kxml) {
        size_t k = 0;
        while (k < N_KERNELS && strcmp(kernels[k].name, kxml))
            k++;
        if (!out || k == N_KERNELS)
            usage();
        buf_t x = {0};
        kernel_xml(&x, k);
        int bad = write_file(out, x.p, x.n);
        free(x.p);
        return bad;
    }
    int hbm = !strcmp(mem, "hbm");
    if (!out || (!hbm && strcmp(mem, "ddr4")) || strlen(platform) >= 64)
        usage();
    /* Bank names as v++ --sp spells them (connectivity .cfg in this folder);
     * sizes of one U250 DDR4 channel and one U280 HBM2 pseudo-channel. */
    const char *bank = hbm ? "HBM[0]" : "DDR[0]";

    buf_t meta = {0};
    xclbin_xml(&meta, platform);

    struct mem_topology topo;
    memset(&topo, 0, sizeof topo);
    topo.m_count = 1;
    topo.m_mem_data[0].m_type = hbm ? MEM_HBM : MEM_DDR4;
    topo.m_mem_data[0].m_used = 1;
    topo.m_mem_data[0].m_size = hbm ? 256u << 10 : 16u << 20; /* KiB */
    topo.m_mem_data[0].m_base_address = 0;
    strcpy((char *)topo.m_mem_data[0].m_tag, bank);

    /* ip_layout and connectivity hold one entry inline; the rest follow. */
    size_t ips_bytes = sizeof(struct ip_layout) + (N_KERNELS - 1) * sizeof(struct ip_data);
    size_t conn_bytes = sizeof(struct connectivity) + (N_KERNELS - 1) * sizeof(struct connection);
    struct ip_layout *ips = calloc(1, ips_bytes);
    struct connectivity *conn = calloc(1, conn_bytes);
    if (!ips || !conn) {
        fputs("xclbingen: out of memory\n", stderr);
        return 1;
    }
    ips->m_count = (int32_t)N_KERNELS;
    conn->m_count = (int32_t)N_KERNELS;
    for (size_t k = 0; k < N_KERNELS; k++) {
        struct ip_data *ip = &ips->m_ip_data[k];
        ip->m_type = IP_KERNEL;
        /* interrupt enabled, interrupt id k, ap_ctrl_hs */
        ip->properties = IP_INT_ENABLE_MASK | ((uint32_t)k << 1 & IP_INTERRUPT_ID_MASK) |
                         ((uint32_t)AP_CTRL_HS << IP_CONTROL_SHIFT & IP_CONTROL_MASK);
        ip->m_base_address = k * CU_RANGE;
        snprintf((char *)ip->m_name, sizeof ip->m_name, "%s:%s_1", kernels[k].name,
                 kernels[k].name);
        conn->m_connection[k].arg_index = SQ_KARG_MEM;
        conn->m_connection[k].m_ip_layout_index = (int32_t)k;
        conn->m_connection[k].mem_data_index = 0;
    }

    const struct {
        enum axlf_section_kind kind;
        const char *name;
        const void *data;
        size_t bytes;
    } sec[] = {
        {EMBEDDED_METADATA, "EMBEDDED_METADATA", meta.p, meta.n},
        {MEM_TOPOLOGY, "MEM_TOPOLOGY", &topo, sizeof topo},
        {IP_LAYOUT, "IP_LAYOUT", ips, ips_bytes},
        {CONNECTIVITY, "CONNECTIVITY", conn, conn_bytes},
    };
    const size_t n_sec = sizeof sec / sizeof sec[0];

    /* Header with its section table, then each section 8-byte aligned. */
    size_t head = sizeof(struct axlf) + (n_sec - 1) * sizeof(struct axlf_section_header);
    size_t total = (head + 7) & ~(size_t)7;
    size_t offs[sizeof sec / sizeof sec[0]];
    for (size_t s = 0; s < n_sec; s++) {
        offs[s] = total;
        total = (total + sec[s].bytes + 7) & ~(size_t)7;
    }
    uint8_t *img = calloc(1, total);
    if (!img) {
        fputs("xclbingen: out of memory\n", stderr);
        return 1;
    }
    struct axlf *top = (struct axlf *)img;
    memcpy(top->m_magic, "xclbin2", 8);
    top->m_signature_length = -1;
    memset(top->reserved, 0xFF, sizeof top->reserved);
    memset(top->m_keyBlock, 0xFF, sizeof top->m_keyBlock);
    top->m_uniqueId = (uint64_t)time(NULL);
    top->m_header.m_length = total;
    top->m_header.m_timeStamp = (uint64_t)time(NULL);
    top->m_header.m_versionMajor = 2;
    top->m_header.m_versionMinor = 13;
    top->m_header.m_mode = XCLBIN_FLAT;
    strcpy((char *)top->m_header.m_platformVBNV, platform);
    /* A fixed UUID per memory kind: XRT matches kernels to a loaded xclbin by it. */
    for (size_t i = 0; i < sizeof top->m_header.uuid; i++)
        top->m_header.uuid[i] = (unsigned char)(0x5A ^ (i * 37u) ^ (hbm ? 0xFFu : 0u));
    top->m_header.m_numSections = (uint32_t)n_sec;
    for (size_t s = 0; s < n_sec; s++) {
        struct axlf_section_header *h = &top->m_sections[s];
        h->m_sectionKind = sec[s].kind;
        strncpy(h->m_sectionName, sec[s].name, sizeof h->m_sectionName - 1);
        h->m_sectionOffset = offs[s];
        h->m_sectionSize = sec[s].bytes;
        memcpy(img + offs[s], sec[s].data, sec[s].bytes);
    }

    int bad = write_file(out, img, total);
    free(img);
    free(ips);
    free(conn);
    free(meta.p);
    return bad;
}
