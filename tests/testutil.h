/* Shared test helpers: paths to ../shared and the CLI, whole-buffer compares
 * that name the first differing index, and running the CLI. */
#ifndef SQ_TESTUTIL_H
#define SQ_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/attn_case.h"
#include "runtime/device.h"

#define SQ_MODEL_PATH SQ_SHARED_DIR "/models/stories260K.bin"
#define SQ_TOK_PATH SQ_SHARED_DIR "/models/tok512.bin"

/* A test case with a time limit in seconds, added to s. */
TCase *sq_tcase(Suite *s, const char *name, double timeout_s);

/* Fails the test at the first index where a and b differ, naming both values. */
#define sq_assert_i8_eq(a, b, n) sq_assert_i8_eq_((a), (b), (n), __FILE__, __LINE__)
#define sq_assert_i32_eq(a, b, n) sq_assert_i32_eq_((a), (b), (n), __FILE__, __LINE__)
void sq_assert_i8_eq_(const int8_t *a, const int8_t *b, size_t n, const char *file, int line);
void sq_assert_i32_eq_(const int32_t *a, const int32_t *b, size_t n, const char *file, int line);

/* Runs `SQ_SPARQ_BIN args` through the shell; stdout (at most cap-1 bytes,
 * NUL-terminated) goes to out, stderr to err (may be NULL). Returns the exit
 * status, or 128+signal when the CLI died of a signal; fails the test when
 * the (sanitized) CLI exits SQ_EXIT_SANITIZER, a sanitizer's report. */
int sq_run_cli(const char *args, char *out, size_t cap, char *err, size_t errcap);
/* Runs `mpirun -np N bin args` on this machine as make test needs it: as
 * root (OMPI_ALLOW_RUN_AS_ROOT), more ranks than cores (--oversubscribe), no
 * core binding (the cores are shared), shared memory between the ranks and
 * the loopback interface for mpirun's own traffic, and ASan recording whole
 * stacks at malloc so that MPI's own leaks match the suppressions of
 * host/util/sanitize.c. Returns like sq_run_cli. */
int sq_run_mpi(int np, const char *bin, const char *args, char *out, size_t cap, char *err,
               size_t errcap);
/* sq_run_mpi for a test that expects a sanitizer's report: exit 99 returned. */
int sq_run_mpi_report(int np, const char *bin, const char *args, char *out, size_t cap,
                      char *err, size_t errcap);

/* Runs the independent oracle (tests/oracle.py) on a case file
 * (runtime/case_file.h); its stdout goes to out. Returns its exit status:
 * 0 all agree, 1 a disagreement. */
int sq_test_oracle(const char *case_file, char *out, size_t cap);

/* `sparq regress` of cases of unit on level with --dump, then the oracle on
 * the case file: fails the test unless both agree everywhere; the oracle's
 * summary line goes to out. */
void sq_test_regress_oracle(const char *level, const char *unit, int cases, uint64_t seed,
                            char *out, size_t cap);

/* Writes n bytes to a fresh temporary file; returns its malloc'd path. */
char *sq_tmpfile(const void *data, size_t n);
/* Reads a whole file (malloc'd); NULL on failure. */
void *sq_slurp(const char *path, size_t *n);

/* Runs the generator gen_bin and fails the test unless its output is the
 * committed file byte for byte, naming the first differing byte and `make
 * target` (which rewrites the file). Returns the output (malloc'd). */
char *sq_test_generated(const char *gen_bin, const char *committed, const char *target);

/* Whether the tests run in CI: SPARQ_CI set to anything but "" or "0"
 * (.ci/run sets SPARQ_CI=1). In CI every optional input must be there. */
int sq_test_in_ci(void);

/* Path of a model installed as a Python package (model/pypkg.h) into path.
 * When it is not installed: in CI (sq_test_in_ci) the test fails, since
 * scripts/deps.sh installs it; elsewhere prints that `who` skips its checks
 * and why, and returns -1. */
int sq_test_model(const char *name, const char *who, char *path, size_t cap);

/* A number of a --report JSON file: key of the object section (NULL: the top
 * level). Fails the test when the file, the section or the key is missing. */
double sq_report_number(const char *path, const char *section, const char *key);

/* Deterministic PRNG for test data (xorshift64*). */
uint64_t sq_test_rand(uint64_t *state);

/* One line naming p's shape and pattern. */
void sq_test_attn_describe(const sq_attn_params_t *p, char *buf, size_t cap);

/* Opens a level with mem_bytes of device memory (fails the test otherwise). */
sq_dev_t *sq_test_dev_open(const char *level, uint64_t mem_bytes);

/* count random GEMMs in one weight format (0, SQ_GEMM_W4 or SQ_GEMM_SP24) on a
 * level, cycling through ReLU x int32 out x bias, each C compared bit for bit
 * with the golden; the first three have M, N and K of 1. Fails unless the
 * int8 outputs reach both saturation and the linear range. */
void sq_test_gemm_random(const char *level, uint32_t wflags, uint64_t seed, int count);
/* k across two SQ_GEMM_TILE_K chunks with a partial last tile each way, and
 * the smallest GEMM with every epilogue input, in every weight format. */
void sq_test_gemm_extremes(const char *level);
/* SQ_GEMM_GSCALE cases on level, bit for bit against the golden: group sizes
 * 32 to 256 and k, k not a multiple of the group, int4 and int8 weights,
 * M = 1 and M > 1, odd N, every epilogue; factors 0 and 65535. */
void sq_test_gemm_gscale(const char *level);

/* count random attention configurations (sq_regress_attn) on a level,
 * each on a fresh device: O compared with the golden reference and the
 * level's work counters with the pattern's; max_work bounds
 * queries * seq * heads * head_dim (ASan and RTL time). */
void sq_test_attn_random(const char *level, uint64_t seed, int count, uint64_t max_work);

/* Device memory n attention cases need as one command stream. */
uint64_t sq_test_attn_stream_bytes(const sq_attn_case_t *ac, int n);
/* Places n cases on dev with their descriptors back to back, runs them as one
 * stream, compares every output with the golden and returns the counters. */
void sq_test_attn_stream(sq_dev_t *dev, sq_attn_case_t *ac, int n, sq_dev_stats_t *st);

/* Checks a unit top's HLS pragmas in the source at path: the s_axilite
 * offsets, written as literals (Vitis HLS does not expand macros there),
 * equal spec.h's and name their macro; ap_ctrl return and the m_axi port. */
void sq_test_hls_unit_pragmas(const char *path);

#endif
