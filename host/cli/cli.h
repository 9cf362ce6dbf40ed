/* CLI plumbing shared by the sparq subcommands (host/cli/cmd_*.c). */
#ifndef SQ_CLI_H
#define SQ_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes: 0 ok, 1 failure (a mismatch, a runtime error), 2 usage error
 * (unknown flag, bad value, missing file). The sanitized builds (make test)
 * exit SQ_EXIT_SANITIZER on any ASan, UBSan or LeakSanitizer report
 * (host/util/sanitize.c), so a crash is never mistaken for a clean error. */
#define SQ_EXIT_FAIL 1
#define SQ_EXIT_USAGE 2
#define SQ_EXIT_SANITIZER 99

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
    int ranks; /* spreads its work over MPI ranks (commands.def) */
} sq_cmd_t;

/* getopt_long with sparq's error lines: an unknown flag or a missing value
 * prints "sparq CMD: ..." and returns '?'; the caller exits SQ_EXIT_USAGE. */
int sq_cli_getopt(const char *cmd, int argc, char **argv, const struct option *opts);

/* Prints "sparq CMD: <message>" as one line on stderr. */
void sq_cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* While buf is set, sq_cli_error writes its message (without "sparq CMD: ")
 * into buf instead, the last one winning; NULL (or cap 0) prints again. A
 * command spread over MPI ranks keeps each work item's error this way, so
 * that rank 0 alone prints the one a single process would have printed. */
void sq_cli_error_capture(char *buf, size_t cap);

/* Strict number parsing: the whole string must be a number within [lo, hi];
 * otherwise prints an error naming the flag and returns -1. */
int sq_cli_long(const char *cmd, const char *flag, const char *s, long lo, long hi, long *out);
int sq_cli_double(const char *cmd, const char *flag, const char *s, double lo, double hi,
                  double *out);

/* --backend: 0 for a level of runtime/device.c's table; otherwise prints an
 * error listing them and returns -1. SQ_CLI_BACKENDS is the same list for
 * the --help texts. */
#define SQ_CLI_BACKENDS "ref, csim, rtl, tlm, model, opencl or xrt"
int sq_cli_backend(const char *cmd, const char *arg);

/* True when a progress line on stderr would reach a person. */
bool sq_cli_progress_enabled(void);
/* Rewrites the progress line "label done/total" (no-op when not a terminal). */
void sq_cli_progress(const char *label, size_t done, size_t total);
/* Ends the progress line. */
void sq_cli_progress_end(void);

/* --max-mem SIZE, accepted by every command (main.c takes it out of argv
 * before the command parses its flags). A command adds up what a request
 * will allocate (operands, model weights fp32 and compressed, caches,
 * calibration and training state, device memory), each part with
 * sq_cli_mem_need before it allocates it, and refuses in one line (exit 2)
 * once the total passes the limit. */
#define SQ_CLI_MAX_MEM_DEFAULT (8ull << 30)
#define SQ_CLI_MAX_MEM_HELP                                                                      \
    "  --max-mem SIZE      refuse a request that needs more memory than SIZE (bytes, or with\n"  \
    "                      K, M, G, T: binary units; default 8G)\n"
/* Parses SIZE and sets the limit; -1 after an error line. */
int sq_cli_max_mem_parse(const char *arg);
/* Adds bytes for `what` to the command's plan; 0, or -1 after one error line
 * naming what and the totals when the plan passes the limit. */
int sq_cli_mem_need(const char *cmd, const char *what, uint64_t bytes);
/* The same check without adding to the plan (memory one step frees again). */
int sq_cli_mem_check(const char *cmd, const char *what, uint64_t bytes);

/* Model paths: a bare name like "stories260K.bin" is looked for in models/
 * then in ../shared/models/; an explicit path is used as is. Returns a static
 * buffer. */
const char *sq_cli_find_model(const char *name);

#endif
