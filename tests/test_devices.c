/* sparq devices: every level of the table on its own line (built or not), the
 * OpenCL platforms and devices with versions, and the XRT cards; this machine
 * has PoCL and no card, which is one line, exit 0. */
#include <stdio.h>
#include <string.h>

#include "runtime/device.h"
#include "testutil.h"

/* The line of out that starts with prefix, copied into line; 0 when none. */
static int find_line(const char *out, const char *prefix, char *line, size_t cap)
{
    for (const char *p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, prefix, strlen(prefix)))
            continue;
        size_t n = strcspn(p, "\n");
        snprintf(line, cap, "%.*s", (int)n, p);
        return 1;
    }
    return 0;
}

START_TEST(test_devices_lists)
{
    char out[8192], err[1024], line[512], want[64];
    int rc = sq_run_cli("devices", out, sizeof out, err, sizeof err);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, err);
    ck_assert_str_eq(err, "");
    /* every level of the table, in order, each saying what runs it */
    const char *prev = out;
    for (size_t i = 0; sq_dev_level_name(i); i++) {
        snprintf(want, sizeof want, "level %-7s ", sq_dev_level_name(i));
        const char *at = strstr(out, want);
        ck_assert_msg(at && at >= prev, "no line for level %s in:\n%s", sq_dev_level_name(i), out);
        prev = at;
    }
    /* the versions of the tools behind the levels built here */
    ck_assert(find_line(out, "level rtl ", line, sizeof line));
    ck_assert_msg(strstr(line, "Verilator 5."), "%s", line);
    ck_assert(find_line(out, "level tlm ", line, sizeof line));
    ck_assert_msg(strstr(line, "SystemC 2."), "%s", line);
    ck_assert(find_line(out, "level csim ", line, sizeof line));
    ck_assert_msg(strstr(line, "gcc "), "%s", line);
    /* PoCL: a platform with its OpenCL version, and a device with its driver */
    ck_assert(find_line(out, "opencl: platform 0: ", line, sizeof line));
    ck_assert_msg(strstr(line, "(OpenCL "), "%s", line);
    ck_assert(find_line(out, "opencl:   device 0: ", line, sizeof line));
    ck_assert_msg(strstr(line, "driver "), "%s", line);
    /* no card: exactly one xrt line, naming XRT's version */
    ck_assert(find_line(out, "xrt: ", line, sizeof line));
    ck_assert_str_eq(line, "xrt: no card (XRT 2.13.0 found no device)");
    ck_assert_ptr_eq(strstr(strstr(out, "xrt: ") + 1, "xrt: "), NULL);
}
END_TEST

START_TEST(test_devices_bad_args)
{
    char out[1024], err[1024];
    ck_assert_int_eq(sq_run_cli("devices extra", out, sizeof out, err, sizeof err), 2);
    ck_assert_ptr_nonnull(strstr(err, "sparq devices: takes no arguments"));
    ck_assert_int_eq(sq_run_cli("devices --nope", out, sizeof out, err, sizeof err), 2);
}
END_TEST

Suite *devices_suite(void)
{
    Suite *s = suite_create("devices");
    TCase *tc = sq_tcase(s, "cli", 60);
    tcase_add_test(tc, test_devices_lists);
    tcase_add_test(tc, test_devices_bad_args);
    return s;
}
