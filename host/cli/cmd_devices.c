/* sparq devices: the execution levels built into this binary with the version
 * of what runs each, the OpenCL platforms and devices the ICD loader finds,
 * and the XRT cards. No card and no OpenCL platform are normal here: each is
 * one line, and the command exits 0. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <xrt/version.h>
#include <xrt/xrt_device.h>

#include "cli/cli.h"
#include "runtime/device.h"
#include "runtime/level_xrt.h"
#include "util/err.h"

#define CMD "devices"

/* Versions of the tools behind the levels, from devices.mk at build time. */
#ifndef SQ_VERILATOR_VERSION
#define SQ_VERILATOR_VERSION "unknown"
#endif
#ifndef SQ_SYSTEMC_VERSION
#define SQ_SYSTEMC_VERSION "unknown"
#endif

static void ocl_str(cl_platform_id p, cl_device_id d, cl_uint what, char *buf, size_t cap)
{
    size_t got = 0;
    cl_int e = p ? clGetPlatformInfo(p, what, cap, buf, &got)
                 : clGetDeviceInfo(d, what, cap, buf, &got);
    if (e != CL_SUCCESS || got == 0)
        snprintf(buf, cap, "?");
    buf[cap - 1] = '\0';
}

static void list_opencl(void)
{
    cl_platform_id plats[16];
    cl_uint n = 0;
    cl_int e = clGetPlatformIDs(16, plats, &n);
    if (e != CL_SUCCESS || n == 0) {
        printf("opencl: no OpenCL platform (ICD loader: %d)\n", (int)e);
        return;
    }
    for (cl_uint i = 0; i < n && i < 16; i++) {
        char name[256], ver[256];
        ocl_str(plats[i], NULL, CL_PLATFORM_NAME, name, sizeof name);
        ocl_str(plats[i], NULL, CL_PLATFORM_VERSION, ver, sizeof ver);
        printf("opencl: platform %u: %s (%s)\n", (unsigned)i, name, ver);
        cl_device_id devs[16];
        cl_uint nd = 0;
        if (clGetDeviceIDs(plats[i], CL_DEVICE_TYPE_ALL, 16, devs, &nd) != CL_SUCCESS || nd == 0) {
            printf("opencl:   no device\n");
            continue;
        }
        for (cl_uint j = 0; j < nd && j < 16; j++) {
            char dname[256], dver[256], drv[256];
            ocl_str(NULL, devs[j], CL_DEVICE_NAME, dname, sizeof dname);
            ocl_str(NULL, devs[j], CL_DEVICE_VERSION, dver, sizeof dver);
            ocl_str(NULL, devs[j], CL_DRIVER_VERSION, drv, sizeof drv);
            printf("opencl:   device %u: %s (%s, driver %s)\n", (unsigned)j, dname, dver, drv);
        }
    }
}

/* XRT cards by index until xrtDeviceOpen finds none. */
static void list_xrt(void)
{
    if (sq_xrt_env() != 0) {
        printf("xrt: XRT %s unusable here: %s\n", xrt_build_version, sq_err_msg());
        return;
    }
    unsigned n = 0;
    for (;; n++) {
        errno = 0;
        xrtDeviceHandle h = xrtDeviceOpen(n);
        if (!h)
            break;
        printf("xrt: device %u (XRT %s)\n", n, xrt_build_version);
        xrtDeviceClose(h);
    }
    if (n == 0)
        printf("xrt: no card (XRT %s found no device)\n", xrt_build_version);
}

static const char *level_what(const char *name)
{
    static const struct {
        const char *name, *what;
    } tab[] = {
        {"ref", "golden C reference, sparq's integer model"},
        {"csim", "HLS C kernels compiled by gcc " __VERSION__},
        {"rtl", "RTL under Verilator " SQ_VERILATOR_VERSION},
        {"tlm", "SystemC " SQ_SYSTEMC_VERSION " TLM-2.0 platform around the RTL"},
        {"model", "cycle model of the units"},
        {"opencl", "HLS kernels as OpenCL C on the ICD's first device (below)"},
        {"xrt", "xclbin on a card through XRT's native C API (below)"},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(tab[i].name, name))
            return tab[i].what;
    return "";
}

int sq_cmd_devices(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = sq_cli_getopt(CMD, argc, argv, opts)) != -1) {
        if (c == 'h') {
            printf("usage: sparq devices\n"
                   "Lists the execution levels built into this binary (with the versions\n"
                   "of what runs them), the OpenCL platforms and devices, and the XRT\n"
                   "cards. Exits 0 also when there is no card.\n" SQ_CLI_MAX_MEM_HELP);
            return 0;
        }
        return SQ_EXIT_USAGE;
    }
    if (optind != argc) {
        sq_cli_error(CMD, "takes no arguments (see sparq devices --help)");
        return SQ_EXIT_USAGE;
    }
    for (size_t i = 0; sq_dev_level_name(i); i++) {
        const char *name = sq_dev_level_name(i);
        if (sq_dev_level_built(name))
            printf("level %-7s %s\n", name, level_what(name));
        else
            printf("level %-7s not built into this binary\n", name);
    }
    list_opencl();
    list_xrt();
    return 0;
}
