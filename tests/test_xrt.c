/* The xrt level without a card: XRT made safe to call (no abort, exit 134,
 * when XILINX_XRT is unset or wrong), "no device" as one line with the exit
 * code of other unavailable levels, the xclbin of our kernels (written by
 * bitstreams/vitis/xclbingen.c) read back by XRT's own parser with the
 * argument order and register offsets of include/sparq, and corrupt xclbins
 * refused with a clear line before XRT sees them. What needs a card (loading,
 * buffers, kernel runs) is listed in docs/xrt.md. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <experimental/xrt_xclbin.h>
#include <xclbin.h>

#include "runtime/device.h"
#include "runtime/level_xrt.h"
#include "sparq/kernels.h"
#include "sparq/spec.h"
#include "testutil.h"
#include "util/err.h"

#define EVAL_XRT                                                                                   \
    "eval --backend xrt --model " SQ_MODEL_PATH " --tokenizer " SQ_TOK_PATH                     \
    " --text " SQ_SHARED_DIR "/data/tinystories_sample.txt"

/* A fresh cache directory per test, so each one builds its own XRT prefix. */
static char cache_dir[] = "/tmp/sq_xrt_cache_XXXXXX";

static void fresh_env(void)
{
    ck_assert_ptr_nonnull(mkdtemp(cache_dir));
    setenv("XDG_CACHE_HOME", cache_dir, 1);
    unsetenv("XILINX_XRT");
    unsetenv("XRT_INI_PATH");
    unsetenv("SPARQ_XCLBIN");
    unsetenv("SPARQ_XRT_DEVICE");
}

/* Writes our kernels' xclbin with xclbingen; returns its malloc'd path. */
static char *gen_xclbin(const char *mem)
{
    char *path = sq_tmpfile("", 0);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s --mem %s --platform xilinx_u280_test %s", SQ_XCLBINGEN_BIN,
             mem, path);
    ck_assert_int_eq(system(cmd), 0);
    return path;
}

/* Runs a shell command, returns its exit status; stdout+stderr into out. */
static int run(const char *cmd, char *out, size_t cap)
{
    char full[2048];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    /* read to the end: closing the pipe early would kill a chatty command
     * (yosys's warnings) with SIGPIPE and fail a run that succeeded */
    char rest[4096];
    while (fread(rest, 1, sizeof rest, p) > 0)
        ;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

START_TEST(test_env_prefix)
{
    fresh_env();
    ck_assert_int_eq(sq_xrt_env(), 0);
    const char *x = getenv("XILINX_XRT");
    ck_assert_ptr_nonnull(x);
    ck_assert_ptr_nonnull(strstr(x, cache_dir));
    char lib[4200];
    snprintf(lib, sizeof lib, "%s/lib/libxrt_core.so.2", x);
    ck_assert_msg(access(lib, R_OK) == 0, "%s missing", lib);
    ck_assert_ptr_nonnull(getenv("XRT_INI_PATH"));
    /* idempotent: a second call keeps the prefix */
    char keep[4096];
    snprintf(keep, sizeof keep, "%s", x);
    ck_assert_int_eq(sq_xrt_env(), 0);
    ck_assert_str_eq(getenv("XILINX_XRT"), keep);
    /* a XILINX_XRT that would make XRT abort is refused by name */
    setenv("XILINX_XRT", "/usr", 1);
    ck_assert_int_eq(sq_xrt_env(), SQ_ERR_DEV);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "XILINX_XRT=/usr"));
}
END_TEST

/* Without a card: one line, exit 1 like any unavailable level, never an
 * abort; with or without an xclbin, and with XILINX_XRT unset. */
START_TEST(test_cli_no_device)
{
    fresh_env();
    char *xclbin = gen_xclbin("ddr4");
    char out[4096], cmd[2048];
    const char *envs[] = {"", "SPARQ_XCLBIN=%s "};
    for (size_t i = 0; i < 2; i++) {
        char env[1200];
        snprintf(env, sizeof env, envs[i], xclbin);
        snprintf(cmd, sizeof cmd, "env -u XILINX_XRT XDG_CACHE_HOME=%s %s%s gemm --backend xrt "
                 "--shape 8x8x8", cache_dir, env, SQ_SPARQ_BIN);
        int rc = run(cmd, out, sizeof out);
        ck_assert_msg(rc == 1, "exit %d (want 1): %s", rc, out);
        ck_assert_msg(count_lines(out) == 1, "not one line: %s", out);
        ck_assert_msg(strstr(out, "xrt: no device (") != NULL, "%s", out);
    }
    /* the same through eval, the command docs/xrt.md tells card users to run */
    snprintf(cmd, sizeof cmd, "env -u XILINX_XRT XDG_CACHE_HOME=%s %s " EVAL_XRT, cache_dir,
             SQ_SPARQ_BIN);
    int rc = run(cmd, out, sizeof out);
    ck_assert_msg(rc == 1 && strstr(out, "xrt: no device (") && count_lines(out) == 1,
                  "exit %d: %s", rc, out);
    /* and through generate's default path, the whole token on the device */
    snprintf(cmd, sizeof cmd, "env -u XILINX_XRT XDG_CACHE_HOME=%s %s generate --backend xrt "
             "--recipe w8a8 --steps 4 --model " SQ_MODEL_PATH " --tokenizer " SQ_TOK_PATH,
             cache_dir, SQ_SPARQ_BIN);
    rc = run(cmd, out, sizeof out);
    ck_assert_msg(rc == 1 && strstr(out, "xrt: no device (") && count_lines(out) == 1,
                  "exit %d: %s", rc, out);
    /* a bad device index is a usage error */
    snprintf(cmd, sizeof cmd, "SPARQ_XRT_DEVICE=x %s " EVAL_XRT, SQ_SPARQ_BIN);
    rc = run(cmd, out, sizeof out);
    ck_assert_msg(rc == 2 && strstr(out, "SPARQ_XRT_DEVICE"), "exit %d: %s", rc, out);
    unlink(xclbin);
    free(xclbin);
}
END_TEST

/* The library path: sq_dev_open fails with SQ_ERR_DEV and leaves no device. */
START_TEST(test_open_no_device)
{
    fresh_env();
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, "xrt");
    cfg.xclbin = gen_xclbin("hbm");
    sq_dev_t *dev = (sq_dev_t *)&cfg;
    ck_assert_int_eq(sq_dev_open(&cfg, &dev), SQ_ERR_DEV);
    ck_assert_ptr_null(dev);
    ck_assert_ptr_nonnull(strstr(sq_err_msg(), "xrt: no device ("));
    unlink(cfg.xclbin);
    free((char *)cfg.xclbin);
}
END_TEST

/* XRT's parser reads our xclbin back: both kernels, one CU each, every
 * argument at the index kernels.h gives and the offset spec.h gives, the
 * m_axi argument on the bank we asked for. */
START_TEST(test_xclbin_roundtrip)
{
    fresh_env();
    ck_assert_int_eq(sq_xrt_env(), 0);
    const char *mems[] = {"ddr4", "hbm"}, *banks[] = {"DDR[0]", "HBM[0]"};
    for (int m = 0; m < 2; m++) {
        char *path = gen_xclbin(mems[m]);
        size_t nk = 0;
        ck_assert_msg(sq_xrt_xclbin_check(path, &nk) == 0, "%s", sq_err_msg());
        ck_assert_uint_eq(nk, 3);
        xrtXclbinHandle x = xrtXclbinAllocFilename(path);
        ck_assert_ptr_nonnull(x);
        ck_assert_uint_eq(xrtXclbinGetNumKernelComputeUnits(x), 3);
        char name[128];
        int got = 0;
        ck_assert_int_eq(xrtXclbinGetXSAName(x, name, sizeof name, &got), 0);
        ck_assert_str_eq(name, "xilinx_u280_test");
        xrtXclbinFreeHandle(x);

        char out[4096], cmd[1200], want[256];
        snprintf(cmd, sizeof cmd, "%s %s", SQ_XCLBIN_LS_BIN, path);
        ck_assert_int_eq(run(cmd, out, sizeof out), 0);
        const char *kernels[] = {"sq_gemm_kernel", "sq_attn_kernel", "sq_accel_kernel"};
        for (int k = 0; k < 3; k++) {
            snprintf(want, sizeof want, "kernel %s cus=1\n", kernels[k]);
            ck_assert_msg(strstr(out, want) != NULL, "no '%s' in:\n%s", want, out);
            const struct {
                int index;
                const char *name;
                unsigned offset, size;
                const char *mems;
            } args[] = {
                {SQ_KARG_MEM, "mem", SQ_REG_MEM_LO, 8, banks[m]},
                {SQ_KARG_CMD, "cmd_addr", SQ_REG_CMD_LO, 8, "-"},
                {SQ_KARG_NCMD, "n_cmds", SQ_REG_NCMD, 4, "-"},
                {SQ_KARG_POS0, "pos0", SQ_REG_POS0, 4, "-"},
                {SQ_KARG_POS0 + 7, "pos7", SQ_REG_POS0 + 28, 4, "-"},
                {SQ_KARG_PROF, "prof", SQ_REG_PROF_LO, 8, "-"},
            };
            /* the accelerator kernel has the unit kernels' arguments and more */
            int n_args = k == 2 ? 6 : SQ_KARG_COUNT;
            for (int a = 0; a < n_args; a++) {
                snprintf(want, sizeof want, "arg %s %d %s offset=0x%x size=%u ", kernels[k],
                         args[a].index, args[a].name, args[a].offset, args[a].size);
                const char *line = strstr(out, want);
                ck_assert_msg(line != NULL, "no '%s' in:\n%s", want, out);
                const char *eol = strchr(line, '\n');
                char mems_want[64];
                snprintf(mems_want, sizeof mems_want, "mems=%s\n", args[a].mems);
                ck_assert_msg(eol && !strncmp(eol - strlen(mems_want) + 1, mems_want,
                                              strlen(mems_want)),
                              "%s: wrong memory banks in %.*s", args[a].name,
                              (int)(eol ? eol - line : 40), line);
            }
        }
        unlink(path);
        free(path);
    }
}
END_TEST

/* Every way a file can fail is one clear error before XRT parses it (XRT
 * 2.13 crashes on an empty file), at the library and at the CLI. */
START_TEST(test_xclbin_corrupt)
{
    fresh_env();
    ck_assert_int_eq(sq_xrt_env(), 0);
    char *good = gen_xclbin("ddr4");
    size_t n = 0;
    uint8_t *img = sq_slurp(good, &n);
    ck_assert_ptr_nonnull(img);
    ck_assert_uint_gt(n, 600);
    uint8_t *bad = malloc(n);
    /* xclbingen writes EMBEDDED_METADATA, MEM_TOPOLOGY, IP_LAYOUT, CONNECTIVITY */
    const struct axlf *top = (const void *)img;
    ck_assert_uint_eq(top->m_sections[1].m_sectionKind, MEM_TOPOLOGY);
    ck_assert_uint_eq(top->m_sections[3].m_sectionKind, CONNECTIVITY);
    size_t mem = (size_t)top->m_sections[1].m_sectionOffset;
    size_t conn = (size_t)top->m_sections[3].m_sectionOffset;
    const struct {
        const char *what;
        size_t len;
        size_t poke; /* byte to corrupt (SIZE_MAX: none) */
        const char *msg;
    } cases[] = {
        /* what AFL++ found XRT to crash on (a count past its section) and to
         * spend seconds on (a table sized by an argument index of 10^8) */
        {"memory count", n, mem + 1, "fewer entries than its count"},
        {"argument index", n, conn + offsetof(struct connectivity, m_connection) + 3,
         "connection 0 names an argument"},
        {"empty", 0, SIZE_MAX, "shorter than"},
        {"truncated", n - 100, SIZE_MAX, "truncated"},
        {"magic", n, 3, "no xclbin2 magic"},
        {"sections", n, offsetof(struct axlf, m_header.m_numSections) + 2, "section table"},
        /* the first section's offset moved far past the end */
        {"offset", n, offsetof(struct axlf, m_sections[0].m_sectionOffset) + 4,
         "outside the file"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(bad, img, n);
        if (cases[i].poke != SIZE_MAX)
            bad[cases[i].poke] ^= 0x5A;
        char *path = sq_tmpfile(bad, cases[i].len);
        size_t nk = 0;
        int rc = sq_xrt_xclbin_check(path, &nk);
        ck_assert_msg(rc == SQ_ERR_FMT && strstr(sq_err_msg(), cases[i].msg), "%s: rc %d '%s'",
                      cases[i].what, rc, sq_err_msg());
        char cmd[1200], out[4096];
        snprintf(cmd, sizeof cmd, "env -u XILINX_XRT SPARQ_XCLBIN=%s %s gemm --backend xrt", path,
                 SQ_SPARQ_BIN);
        rc = run(cmd, out, sizeof out);
        ck_assert_msg(rc == 1 && count_lines(out) == 1 && strstr(out, cases[i].msg),
                      "%s: exit %d: %s", cases[i].what, rc, out);
        unlink(path);
        free(path);
    }
    /* a file that is not there is a usage error (exit 2), as for models */
    char out[4096];
    int rc = run("SPARQ_XCLBIN=/nonexistent/a.xclbin " SQ_SPARQ_BIN " " EVAL_XRT, out, sizeof out);
    ck_assert_msg(rc == 2 && strstr(out, "cannot open xclbin /nonexistent/a.xclbin"), "exit %d: %s",
                  rc, out);
    free(bad);
    free(img);
    unlink(good);
    free(good);
}
END_TEST

/* The Vitis Makefile run as a user would, not as a child of `make test`. */
#define VITIS_MAKE                                                                                 \
    "env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory "                     \
    "-C " SQ_ROOT_DIR "/bitstreams/vitis"

/* Without v++ the Vitis flow stops at once with the install hint (exit 2,
 * make's error status), before it looks at anything else. */
START_TEST(test_vitis_no_vpp)
{
    char out[4096];
    int rc = run("PATH=/usr/bin:/bin " VITIS_MAKE
                 " PLATFORM=xilinx_u250_gen3x16_xdma_4_1_202210_1 TARGET=hw", out, sizeof out);
    ck_assert_msg(rc == 2 && count_lines(out) == 1 &&
                      strstr(out, "v++ not found: install Vitis 2023.x and source settings64.sh"),
                  "exit %d: %s", rc, out);
}
END_TEST

/* Writes an executable shell script. */
static void write_script(const char *dir, const char *name, const char *body)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "#!/bin/sh\n%s", body);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(chmod(path, 0755), 0);
}

/* Stub tools that log their command lines to $VPP_LOG and create the file
 * they are asked for (v++: after -o; vivado: the .xo, third after -tclargs). */
static void write_stubs(const char *dir)
{
    write_script(dir, "v++", "echo \"v++ $*\" >> \"$VPP_LOG\"\n"
                             "while [ $# -gt 0 ]; do [ \"$1\" = -o ] && : > \"$2\"; shift; done\n");
    write_script(dir, "vivado", "echo \"vivado $*\" >> \"$VPP_LOG\"\n"
                                "while [ $# -gt 0 ] && [ \"$1\" != -tclargs ]; do shift; done\n"
                                ": > \"$4\"\n");
}

/* KERNELS=hls: the v++ command lines, with a stub v++ that logs them: each
 * top compiled from its hls/ source with -k and the spec headers, linked with
 * the platform's connectivity file (HBM for U280/U55C, DDR for U250). */
START_TEST(test_vitis_commands)
{
    char dir[] = "/tmp/sq_vitis_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char cmd[2048], out[8192];
    write_stubs(dir);
    const struct {
        const char *platform, *target, *cfg;
    } cases[] = {
        {"xilinx_u280_gen3x16_xdma_1_202211_1", "hw", "hbm.cfg"},
        {"/opt/xilinx/platforms/xilinx_u55c_gen3x16_xdma_3_202210_1/"
         "xilinx_u55c_gen3x16_xdma_3_202210_1.xpfm", "hw_emu", "hbm.cfg"},
        {"xilinx_u250_gen3x16_xdma_4_1_202210_1", "hw", "ddr.cfg"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(cmd, sizeof cmd, "rm -rf %s/out %s/log; PATH=%s:$PATH VPP_LOG=%s/log " VITIS_MAKE
                 " PLATFORM=%s TARGET=%s KERNELS=hls OUT=%s/out && "
                 "cat %s/log && test -f %s/out/sparq.xclbin",
                 dir, dir, dir, dir, cases[i].platform, cases[i].target, dir, dir, dir);
        ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
        ck_assert_int_eq(count_lines(out), 4);
        const char *hls[] = {"sq_gemm", "sq_attn"};
        for (int k = 0; k < 2; k++) {
            char want[300];
            snprintf(want, sizeof want, "-k %s_kernel -I", hls[k]);
            const char *line = strstr(out, want);
            ck_assert_msg(line && !strncmp(out, "v++ -c -t ", 10), "%s", out);
            snprintf(want, sizeof want, "/include -o %s/out/%s_kernel.xo ", dir, hls[k]);
            ck_assert_msg(strstr(line, want), "no '%s' in %s", want, out);
            snprintf(want, sizeof want, "/hls/%s/%s.c\n", hls[k] + 3, hls[k]);
            ck_assert_msg(strstr(line, want), "no '%s' in %s", want, out);
        }
        char want[700];
        snprintf(want, sizeof want, "v++ -l -t %s --platform %s ", cases[i].target,
                 cases[i].platform);
        ck_assert_msg(strstr(out, want), "no '%s' in %s", want, out);
        /* the accelerator kernel from its source and the units' */
        snprintf(want, sizeof want, "-k sq_accel_kernel -I%s", "");
        const char *line = strstr(out, want);
        ck_assert_msg(line, "no '%s' in %s", want, out);
        snprintf(want, sizeof want, "/include -o %s/out/sq_accel_kernel.xo ", dir);
        ck_assert_msg(strstr(line, want), "no '%s' in %s", want, out);
        ck_assert_msg(strstr(line, "/hls/cp/sq_cp.c ") && strstr(line, "/hls/gemm/sq_gemm.c ") &&
                          strstr(line, "/hls/attn/sq_attn.c ") &&
                          strstr(line, "/hls/vec/sq_vec.c\n"),
                      "%s", line);
        snprintf(want, sizeof want, "/%s -o %s/out/sparq.xclbin %s/out/sq_gemm_kernel.xo "
                 "%s/out/sq_attn_kernel.xo %s/out/sq_accel_kernel.xo\n", cases[i].cfg, dir, dir,
                 dir, dir);
        ck_assert_msg(strstr(out, want), "no '%s' in %s", want, out);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* The default, KERNELS=rtl: each wrapper (the accelerator kernel's too)
 * packaged by Vivado (stub) with package_kernel.tcl, CUS and the kernel.xml
 * xclbingen wrote (spec.h offsets), then linked with the platform's
 * connectivity plus one sp= line per extra port of the accelerator kernel:
 * GEMM unit c's on DDR[c mod 4] (U250) or HBM[c] (U280, AWS F2). Without
 * vivado, one line. */
START_TEST(test_vitis_rtl_kernels)
{
    char dir[] = "/tmp/sq_vitis_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    write_stubs(dir);
    char cmd[2048], out[16384];
    const struct {
        const char *platform, *mem, *cus, *bank[SQ_CP_SLOTS_MAX];
    } cases[] = {
        {"xilinx_u250_gen3x16_xdma_4_1_202210_1", "ddr", "",
         {"DDR[0]", "DDR[0]", "DDR[0]", "DDR[1]", "DDR[2]", "DDR[3]", "DDR[0]", "DDR[1]",
          "DDR[2]", "DDR[3]"}},
        {"xilinx_u280_gen3x16_xdma_1_202211_1", "hbm", "4",
         {"HBM[0]", "HBM[0]", "HBM[0]", "HBM[1]", "HBM[2]", "HBM[3]", "HBM[4]", "HBM[5]",
          "HBM[6]", "HBM[7]"}},
        {"xilinx_aws-vu47p-f2_202420_1", "hbm", "8",
         {"HBM[0]", "HBM[0]", "HBM[0]", "HBM[1]", "HBM[2]", "HBM[3]", "HBM[4]", "HBM[5]",
          "HBM[6]", "HBM[7]"}},
    };
    const char *ports[] = {"gemm0", "attn",  "vec",   "gemm1", "gemm2",
                           "gemm3", "gemm4", "gemm5", "gemm6", "gemm7"};
    const char *kernels[] = {"sq_gemm_kernel", "sq_attn_kernel", "sq_accel_kernel"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(cmd, sizeof cmd, "rm -rf %s/out %s/log; PATH=%s:$PATH VPP_LOG=%s/log " VITIS_MAKE
                 " PLATFORM=%s %s%s OUT=%s/out && cat %s/log", dir, dir, dir, dir,
                 cases[i].platform, *cases[i].cus ? "CUS=" : "", cases[i].cus, dir, dir);
        ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
        ck_assert_int_eq(count_lines(out), 4);
        for (int k = 0; k < 3; k++) {
            char want[600];
            snprintf(want, sizeof want,
                     "/bitstreams/vitis/package_kernel.tcl -tclargs %s %s/out/%s.xml "
                     "%s/out/%s.xo %s/out/%s.pack %s/bitstreams/vitis/rtl %s ",
                     kernels[k], dir, kernels[k], dir, kernels[k], dir, kernels[k], SQ_ROOT_DIR,
                     *cases[i].cus ? cases[i].cus : "1");
            const char *line = strstr(out, want);
            ck_assert_msg(line, "no '%s' in %s", want, out);
            const char *bol = line;
            while (bol > out && bol[-1] != '\n')
                bol--;
            ck_assert_msg(!strncmp(bol, "vivado -mode batch ", 19), "%s", out);
            snprintf(want, sizeof want, "/bitstreams/vitis/rtl/%s.sv\n", kernels[k]);
            ck_assert_msg(strstr(line, want), "no '%s' in %s", want, out);
            ck_assert_msg(k < 2 || strstr(line, "/rtl/cp/sq_accel_top.sv "), "%s", line);
            snprintf(want, sizeof want, "%s/out/%s.xml", dir, kernels[k]);
            size_t n = 0;
            char *xml = sq_slurp(want, &n);
            ck_assert_ptr_nonnull(xml);
            snprintf(want, sizeof want, "<kernel name=\"%s\" language=\"ip_c\" "
                     "vlnv=\"sparq:kernel:%s:1.0\"", kernels[k], kernels[k]);
            ck_assert_msg(strstr(xml, want), "no '%s' in %s", want, xml);
            const struct {
                const char *name, *port;
                unsigned id, offset, size;
            } args[] = {
                {"mem", "m_axi_gmem", SQ_KARG_MEM, SQ_REG_MEM_LO, 8},
                {"cmd_addr", "s_axi_control", SQ_KARG_CMD, SQ_REG_CMD_LO, 8},
                {"n_cmds", "s_axi_control", SQ_KARG_NCMD, SQ_REG_NCMD, 4},
                {"pos7", "s_axi_control", SQ_KARG_POS0 + 7, SQ_REG_POS0 + 28, 4},
                {"prof", "s_axi_control", SQ_KARG_PROF, SQ_REG_PROF_LO, 8},
            };
            /* the unit kernels have the first SQ_KARG_COUNT, and no more */
            for (int a = 0; a < 5; a++) {
                snprintf(want, sizeof want, "<arg name=\"%s\" addressQualifier=\"%d\" "
                         "id=\"%u\" port=\"%s\" size=\"0x%X\" offset=\"0x%X\"",
                         args[a].name, a == 0, args[a].id, args[a].port, args[a].size,
                         args[a].offset);
                ck_assert_msg(!strstr(xml, want) == (k < 2 && a >= SQ_KARG_COUNT),
                              "'%s' in %s", want, xml);
            }
            /* the accelerator's other ports: an interface and a mem_ argument each */
            for (unsigned p = 0; p < SQ_CP_SLOTS_MAX; p++) {
                snprintf(want, sizeof want, "<port name=\"m_axi_%s\" mode=\"master\"",
                         ports[p]);
                ck_assert_msg(!strstr(xml, want) == (k < 2), "'%s' in %s", want, xml);
                snprintf(want, sizeof want, "<arg name=\"mem_%s\" addressQualifier=\"1\" "
                         "id=\"%u\" port=\"m_axi_%s\" size=\"0x8\" offset=\"0x%X\"",
                         ports[p], SQ_KARG_ACCEL_COUNT + p, ports[p], SQ_REG_MEM_LO);
                ck_assert_msg(!strstr(xml, want) == (k < 2), "'%s' in %s", want, xml);
            }
            free(xml);
        }
        char want[600];
        snprintf(want, sizeof want, "--config %s/out/%s.cfg -o %s/out/sparq.xclbin "
                 "%s/out/sq_gemm_kernel.xo %s/out/sq_attn_kernel.xo %s/out/sq_accel_kernel.xo\n",
                 dir, cases[i].mem, dir, dir, dir, dir);
        ck_assert_msg(strstr(out, "v++ -l -t hw ") && strstr(out, want), "no '%s' in %s", want,
                      out);
        /* the platform's .cfg (every kernel's nk= and mem) and the ports' sp= lines */
        snprintf(cmd, sizeof cmd, "cat %s/out/%s.cfg", dir, cases[i].mem);
        ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
        ck_assert_int_eq(count_lines(out), (int)(sizeof ports / sizeof ports[0]) +
                                               (*cases[i].mem == 'd' ? 11 : 10));
        const char *bank0 = cases[i].bank[0];
        for (int k = 0; k < 3; k++) {
            snprintf(want, sizeof want, "\nnk=%s:1:%s_1\n", kernels[k], kernels[k]);
            ck_assert_msg(strstr(out, want), "no '%s' in %s", want, out);
            snprintf(want, sizeof want, "\nsp=%s_1.mem:%s\n", kernels[k], bank0);
            ck_assert_msg(strstr(out, want), "no '%s' in %s", want, out);
        }
        for (unsigned p = 0; p < SQ_CP_SLOTS_MAX; p++) {
            snprintf(want, sizeof want, "\nsp=sq_accel_kernel_1.mem_%s:%s\n", ports[p],
                     cases[i].bank[p]);
            ck_assert_msg(strstr(out, want), "no '%s' in %s", want, out);
        }
    }
    /* v++ but no vivado; a CUS the kernel cannot have */
    snprintf(cmd, sizeof cmd, "PATH=%s:$PATH " VITIS_MAKE
             " PLATFORM=xilinx_u250_gen3x16_xdma_4_1_202210_1 CUS=9 OUT=%s/out2", dir, dir);
    int rc = run(cmd, out, sizeof out);
    ck_assert_msg(rc == 2 && count_lines(out) == 1 && strstr(out, "CUS must be 1 .. 8"),
                  "exit %d: %s", rc, out);
    snprintf(cmd, sizeof cmd, "rm %s/vivado && PATH=%s:/usr/bin:/bin " VITIS_MAKE
             " PLATFORM=xilinx_u250_gen3x16_xdma_4_1_202210_1 OUT=%s/out2", dir, dir, dir);
    rc = run(cmd, out, sizeof out);
    ck_assert_msg(rc == 2 && count_lines(out) == 1 && strstr(out, "vivado not found"),
                  "exit %d: %s", rc, out);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* The RTL kernel wrappers are Verilator -Wall clean with each unit (the
 * units' own modules found by name in rtl/common/ and rtl/<unit>/, the PE's
 * DSP48E2 in sim/ as its behavioural model) and yosys elaborates them (the
 * DSP48E2 from its Xilinx cell library, as Vivado has its own): the
 * project's rules for SystemVerilog, outside `make lint`'s unit lists. */
START_TEST(test_vitis_wrappers_lint)
{
    const char *units[] = {"gemm", "attn"};
    char cmd[2048], out[16384];
    for (int u = 0; u < 2; u++) {
        snprintf(cmd, sizeof cmd, "cd " SQ_ROOT_DIR " && verilator --lint-only -Wall -y rtl/common -y rtl/%s "
                 "-y sim -Ibitstreams/vitis/rtl rtl/lint_waivers.vlt "
                 "bitstreams/vitis/rtl/lint_waivers.vlt rtl/common/sq_spec_pkg.sv rtl/%s/sq_%s_pkg.sv "
                 "bitstreams/vitis/rtl/sq_%s_kernel.sv "
                 "--top-module sq_%s_kernel", units[u], units[u], units[u], units[u], units[u]);
        int rc = run(cmd, out, sizeof out);
        ck_assert_msg(rc == 0 && out[0] == '\0', "%s: exit %d: %.2000s", units[u], rc, out);
    }
    /* yosys wants packages first; the other unit's modules are unused, and
     * the command processor's (rtl/cp) are left out: parsing them doubled
     * this test's time past its limit on a loaded machine */
    snprintf(cmd, sizeof cmd,
             "cd " SQ_ROOT_DIR " && srcs=$(ls rtl/common/*.sv rtl/gemm/*.sv rtl/attn/*.sv | "
             "grep -v _pkg.sv | tr '\\n' ' ') && "
             "for u in gemm attn; do yosys -q -p \"read_verilog -lib +/xilinx/cells_xtra.v; "
             "read_verilog -sv -Ibitstreams/vitis/rtl "
             "rtl/common/sq_spec_pkg.sv rtl/gemm/sq_gemm_pkg.sv rtl/attn/sq_attn_pkg.sv $srcs "
             "bitstreams/vitis/rtl/sq_${u}_kernel.sv; hierarchy -check -top sq_${u}_kernel\" "
             ">/dev/null || exit 1; done");
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "yosys: %.2000s", out);
}
END_TEST

/* The accelerator kernel's wrapper, Verilator -Wall clean with one GEMM unit
 * (seven idle interfaces) and four, and its instance matches sq_accel_top's
 * ports in yosys (the top read as a black box: parsing the cores is what
 * test_vitis_wrappers_lint leaves out for time). The lint runs on a 2x2
 * array: the wrapper does not depend on R and C, `make lint` lints the top at
 * its sizes, and 16x16 took 4x the time (~17 s a lint on the loaded machine). */
START_TEST(test_vitis_accel_lint)
{
    char cmd[2048], out[16384];
    for (int u = 1; u <= 4; u += 3) {
        snprintf(cmd, sizeof cmd, "cd " SQ_ROOT_DIR " && verilator --lint-only -Wall -GU=%d -GR=2 -GC=2 "
                 "-y rtl/common -y rtl/gemm -y rtl/attn -y rtl/vec -y rtl/cp -y sim "
                 "-Ibitstreams/vitis/rtl rtl/lint_waivers.vlt bitstreams/vitis/rtl/lint_waivers.vlt "
                 "rtl/common/sq_spec_pkg.sv rtl/gemm/sq_gemm_pkg.sv rtl/attn/sq_attn_pkg.sv "
                 "rtl/vec/sq_vec_pkg.sv bitstreams/vitis/rtl/sq_accel_kernel.sv "
                 "--top-module sq_accel_kernel", u);
        int rc = run(cmd, out, sizeof out);
        ck_assert_msg(rc == 0 && out[0] == '\0', "U=%d: exit %d: %.2000s", u, rc, out);
    }
    snprintf(cmd, sizeof cmd, "cd " SQ_ROOT_DIR " && yosys -q -p \"read_verilog -sv "
             "rtl/common/sq_spec_pkg.sv; read_verilog -sv -lib rtl/cp/sq_accel_top.sv; "
             "read_verilog -sv -Ibitstreams/vitis/rtl bitstreams/vitis/rtl/sq_accel_kernel.sv; "
             "chparam -set U 4 sq_accel_kernel; hierarchy -check -top sq_accel_kernel\" "
             ">/dev/null");
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "yosys: %.2000s", out);
}
END_TEST

Suite *xrt_suite(void)
{
    Suite *s = suite_create("xrt");
    TCase *tc = sq_tcase(s, "no_card", 60);
    tcase_add_test(tc, test_env_prefix);
    tcase_add_test(tc, test_cli_no_device);
    tcase_add_test(tc, test_open_no_device);
    tc = sq_tcase(s, "xclbin", 60);
    tcase_add_test(tc, test_xclbin_roundtrip);
    tcase_add_test(tc, test_xclbin_corrupt);
    tc = sq_tcase(s, "vitis", 60);
    tcase_add_test(tc, test_vitis_no_vpp);
    tcase_add_test(tc, test_vitis_commands);
    tcase_add_test(tc, test_vitis_rtl_kernels);
    tcase_add_test(tc, test_vitis_wrappers_lint);
    tc = sq_tcase(s, "vitis_accel", 120);
    tcase_add_test(tc, test_vitis_accel_lint);
    return s;
}
