#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/device.h"

static struct {
    char *buf;
    size_t cap;
} capture;

void sq_cli_error_capture(char *buf, size_t cap)
{
    capture.buf = cap ? buf : NULL;
    capture.cap = cap;
}

void sq_cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (capture.buf) {
        vsnprintf(capture.buf, capture.cap, fmt, ap);
    } else {
        fprintf(stderr, "sparq %s: ", cmd);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    }
    va_end(ap);
}

int sq_cli_getopt(const char *cmd, int argc, char **argv, const struct option *opts)
{
    char shortopts[128] = ":";
    size_t n = 1;
    for (const struct option *o = opts; o->name && n + 3 < sizeof shortopts; o++) {
        if (o->flag == NULL && o->val > 0 && o->val < 128) {
            shortopts[n++] = (char)o->val;
            if (o->has_arg == required_argument)
                shortopts[n++] = ':';
        }
    }
    shortopts[n] = 0;
    opterr = 0;
    int c = getopt_long(argc, argv, shortopts, opts, NULL);
    if (c == '?') {
        const char *bad = argv[optind - 1];
        if (optopt)
            sq_cli_error(cmd, "unknown flag '-%c' (see sparq %s --help)", optopt, cmd);
        else
            sq_cli_error(cmd, "unknown flag '%s' (see sparq %s --help)", bad, cmd);
    } else if (c == ':') {
        sq_cli_error(cmd, "flag '%s' needs a value", argv[optind - 1]);
        c = '?';
    }
    return c;
}

int sq_cli_long(const char *cmd, const char *flag, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        sq_cli_error(cmd, "%s must be an integer in [%ld, %ld], got '%s'", flag, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

int sq_cli_backend(const char *cmd, const char *arg)
{
    if (sq_dev_level_known(arg))
        return 0;
    sq_cli_error(cmd, "--backend must be one of %s, got '%s'", sq_dev_level_names(), arg);
    return -1;
}

int sq_cli_double(const char *cmd, const char *flag, const char *s, double lo, double hi,
                  double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) {
        sq_cli_error(cmd, "%s must be a number in [%g, %g], got '%s'", flag, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

bool sq_cli_progress_enabled(void)
{
    return isatty(STDERR_FILENO);
}

void sq_cli_progress(const char *label, size_t done, size_t total)
{
    if (!sq_cli_progress_enabled())
        return;
    fprintf(stderr, "\r%s %zu/%zu", label, done, total);
    fflush(stderr);
}

void sq_cli_progress_end(void)
{
    if (sq_cli_progress_enabled())
        fputs("\r\033[K", stderr);
}

const char *sq_cli_find_model(const char *name)
{
    static char path[4096];
    if (strchr(name, '/') || access(name, F_OK) == 0)
        return name;
    const char *dirs[] = {"models", "../shared/models"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dirs[i], name);
        if (access(path, F_OK) == 0)
            return path;
    }
    return name;
}

static uint64_t max_mem = SQ_CLI_MAX_MEM_DEFAULT, planned;

/* "1.5 GiB" */
static const char *human(uint64_t b, char *buf, size_t cap)
{
    static const char *const unit[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = (double)b;
    int u = 0;
    while (v >= 1024 && u < 6) {
        v /= 1024;
        u++;
    }
    snprintf(buf, cap, !u ? "%.0f %s" : v < 10 ? "%.2f %s" : "%.1f %s", v, unit[u]);
    return buf;
}

int sq_cli_max_mem_parse(const char *arg)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    int shift = 0;
    if (end != arg && *end) {
        const char *units = "KMGT";
        const char *u = strchr(units, end[0] & ~0x20);
        if (u && (!end[1] || ((end[1] == 'i' || end[1] == 'B') && !end[2]) ||
                  (end[1] == 'i' && end[2] == 'B' && !end[3]))) {
            shift = 10 * (int)(u - units + 1);
            end += strlen(end);
        }
    }
    double bytes = v * (double)(1ull << shift);
    if (errno || end == arg || *end || !(v > 0) || bytes >= 18446744073709551616.0) {
        fprintf(stderr, "sparq: --max-mem must be a size like 512M, 8G or 12345678 (bytes), got "
                        "'%s'\n", arg);
        return -1;
    }
    max_mem = (uint64_t)bytes;
    return 0;
}

int sq_cli_mem_check(const char *cmd, const char *what, uint64_t bytes)
{
    uint64_t total = bytes > UINT64_MAX - planned ? UINT64_MAX : planned + bytes;
    if (total <= max_mem)
        return 0;
    char a[32], b[32], c[32];
    if (planned)
        sq_cli_error(cmd, "%s: %s, %s with the rest of the request, more than --max-mem %s",
                     what, human(bytes, a, sizeof a), human(total, b, sizeof b),
                     human(max_mem, c, sizeof c));
    else
        sq_cli_error(cmd, "%s: %s, more than --max-mem %s", what, human(bytes, a, sizeof a),
                     human(max_mem, c, sizeof c));
    return -1;
}

int sq_cli_mem_need(const char *cmd, const char *what, uint64_t bytes)
{
    if (sq_cli_mem_check(cmd, what, bytes))
        return -1;
    planned += bytes;
    return 0;
}
