#define _GNU_SOURCE
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cjson/cJSON.h>
#include <unistd.h>

#include "cli/cli.h"
#include "sparq/spec.h"
#include "model/pypkg.h"
#include "runtime/gemm_case.h"
#include "runtime/regress.h"
#include "util/err.h"

TCase *sq_tcase(Suite *s, const char *name, double timeout_s)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, timeout_s);
    suite_add_tcase(s, tc);
    return tc;
}

void sq_assert_i8_eq_(const int8_t *a, const int8_t *b, size_t n, const char *file, int line)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            ck_abort_msg("%s:%d: first difference at index %zu of %zu: %d != %d", file, line, i,
                         n, a[i], b[i]);
}

void sq_assert_i32_eq_(const int32_t *a, const int32_t *b, size_t n, const char *file, int line)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            ck_abort_msg("%s:%d: first difference at index %zu of %zu: %d != %d", file, line, i,
                         n, a[i], b[i]);
}

static void read_all(FILE *f, char *buf, size_t cap)
{
    size_t len = 0;
    if (buf && cap)
        buf[0] = 0;
    char tmp[4096];
    size_t got;
    while ((got = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (buf && len + 1 < cap) {
            size_t take = got < cap - 1 - len ? got : cap - 1 - len;
            memcpy(buf + len, tmp, take);
            len += take;
            buf[len] = 0;
        }
    }
}

/* Runs cmd through the shell with stdout to out and stderr to err. */
static int run_shell(const char *cmd, char *out, size_t cap, char *err, size_t errcap,
                     int expect_report)
{
    char errpath[] = "/tmp/sq_test_err_XXXXXX";
    int efd = mkstemp(errpath);
    ck_assert_int_ge(efd, 0);
    close(efd);
    size_t len = strlen(cmd) + strlen(errpath) + 32;
    char *full = malloc(len);
    snprintf(full, len, "%s 2>%s </dev/null", cmd, errpath);
    FILE *p = popen(full, "r");
    ck_assert_ptr_nonnull(p);
    read_all(p, out, cap);
    int st = pclose(p);
    free(full);
    FILE *e = fopen(errpath, "r");
    if (e) {
        read_all(e, err, errcap);
        fclose(e);
    }
    unlink(errpath);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    /* a crash or undefined behaviour fails the test whatever exit it expects */
    if (WEXITSTATUS(st) == SQ_EXIT_SANITIZER && !expect_report)
        ck_abort_msg("`%s` ended with a sanitizer report (exit %d): %.400s", cmd,
                     SQ_EXIT_SANITIZER, err ? err : "");
    return WEXITSTATUS(st);
}

int sq_run_cli(const char *args, char *out, size_t cap, char *err, size_t errcap)
{
    size_t len = strlen(args) + sizeof SQ_SPARQ_BIN + 2;
    char *cmd = malloc(len);
    snprintf(cmd, len, "%s %s", SQ_SPARQ_BIN, args);
    int rc = run_shell(cmd, out, cap, err, errcap, 0);
    free(cmd);
    return rc;
}

static int run_mpi(int np, const char *bin, const char *args, char *out, size_t cap, char *err,
                   size_t errcap, int expect_report)
{
    static const char env[] =
        "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
        "OMPI_MCA_btl=self,vader OMPI_MCA_pml=ob1 OMPI_MCA_oob_tcp_if_include=lo "
        "ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0 "
        "mpirun --oversubscribe --bind-to none -np";
    size_t len = sizeof env + strlen(bin) + strlen(args) + 32;
    char *cmd = malloc(len);
    snprintf(cmd, len, "%s %d %s %s", env, np, bin, args);
    int rc = run_shell(cmd, out, cap, err, errcap, expect_report);
    free(cmd);
    return rc;
}

int sq_run_mpi(int np, const char *bin, const char *args, char *out, size_t cap, char *err,
               size_t errcap)
{
    return run_mpi(np, bin, args, out, cap, err, errcap, 0);
}

int sq_run_mpi_report(int np, const char *bin, const char *args, char *out, size_t cap,
                      char *err, size_t errcap)
{
    return run_mpi(np, bin, args, out, cap, err, errcap, 1);
}

int sq_test_oracle(const char *case_file, char *out, size_t cap)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s %s %s 2>&1", SQ_PYTHON, SQ_ORACLE_PY, case_file);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    read_all(p, out, cap);
    int st = pclose(p);
    ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) <= 1, "oracle did not run: %s", out);
    return WEXITSTATUS(st);
}

void sq_test_regress_oracle(const char *level, const char *unit, int cases, uint64_t seed,
                            char *out, size_t cap)
{
    char path[] = "/tmp/sq_oracle_XXXXXX", args[512], err[4096];
    close(mkstemp(path));
    snprintf(args, sizeof args, "regress --unit %s --cases %d --seed %llu --backend %s --dump %s",
             unit, cases, (unsigned long long)seed, level, path);
    int rc = sq_run_cli(args, out, cap, err, sizeof err);
    ck_assert_msg(rc == 0, "%s: exit %d: %s%s", args, rc, out, err);
    rc = sq_test_oracle(path, out, cap);
    ck_assert_msg(rc == 0, "%s: %s", args, out);
    unlink(path);
}

char *sq_tmpfile(const void *data, size_t n)
{
    char *path = strdup("/tmp/sq_test_XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "wb");
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    fclose(f);
    return path;
}

void *sq_slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *buf = malloc((size_t)len + 1);
    if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        fclose(f);
        return NULL;
    }
    ((char *)buf)[len] = 0;
    fclose(f);
    *n = (size_t)len;
    return buf;
}

char *sq_test_generated(const char *gen_bin, const char *committed, const char *target)
{
    FILE *p = popen(gen_bin, "r");
    ck_assert_ptr_nonnull(p);
    size_t cap = 1 << 16, len = 0, got;
    char *gen = malloc(cap);
    ck_assert_ptr_nonnull(gen);
    while ((got = fread(gen + len, 1, cap - 1 - len, p)) > 0) {
        len += got;
        if (len == cap - 1) {
            cap *= 2;
            gen = realloc(gen, cap);
            ck_assert_ptr_nonnull(gen);
        }
    }
    gen[len] = 0;
    ck_assert_int_eq(pclose(p), 0);
    size_t n = 0;
    char *have = sq_slurp(committed, &n);
    ck_assert_ptr_nonnull(have);
    size_t i = 0;
    while (i < len && i < n && gen[i] == have[i])
        i++;
    ck_assert_msg(i == len && i == n, "%s differs from %s's output at byte %zu (run `make %s`)",
                  committed, gen_bin, i, target);
    free(have);
    return gen;
}

uint64_t sq_test_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

void sq_test_attn_describe(const sq_attn_params_t *p, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "flags 0x%x seq %u queries %u heads %u/%u dim %u window %u global %u topk %u "
             "density %.2f range %d",
             p->flags, p->seq, p->queries, p->heads, p->kv_heads, p->head_dim, p->window,
             p->n_global, p->topk, p->block_density, p->int8_range);
}

int sq_test_in_ci(void)
{
    const char *ci = getenv("SPARQ_CI");
    return ci && *ci && strcmp(ci, "0") != 0;
}

int sq_test_model(const char *name, const char *who, char *path, size_t cap)
{
    if (sq_pypkg_model(name, path, cap) != 0) {
        /* CI installs the packages (scripts/deps.sh): missing there is a failure */
        if (sq_test_in_ci())
            ck_abort_msg("%s: %s is missing in CI (SPARQ_CI is set; scripts/deps.sh installs "
                         "it): %s", who, name, sq_err_msg());
        printf("%s: SKIP %s checks (outside CI; with SPARQ_CI=1 this fails): %s\n", who, name,
               sq_err_msg());
        return -1;
    }
    return 0;
}

double sq_report_number(const char *path, const char *section, const char *key)
{
    size_t n;
    char *text = sq_slurp(path, &n);
    ck_assert_msg(text != NULL, "cannot read %s", path);
    cJSON *j = cJSON_Parse(text);
    ck_assert_msg(j != NULL, "%s is not JSON", path);
    cJSON *o = section ? cJSON_GetObjectItem(j, section) : j;
    ck_assert_msg(o != NULL, "%s has no %s", path, section);
    cJSON *v = cJSON_GetObjectItem(o, key);
    ck_assert_msg(cJSON_IsNumber(v), "%s has no number %s", path, key);
    double d = v->valuedouble;
    cJSON_Delete(j);
    free(text);
    return d;
}

/* ---- levels against the golden reference ------------------------------- */

typedef struct {
    uint64_t saturated, inside, cases;
} tally_t;

/* Runs one random case on dev and compares the whole C with the golden. */
static void check_case_group(sq_dev_t *dev, uint32_t m, uint32_t n, uint32_t k, uint32_t flags,
                             uint32_t group, uint64_t seed, tally_t *t)
{
    sq_gemm_case_t gc;
    uint64_t cmd;
    int rc = sq_gemm_case_build_group(&gc, m, n, k, flags, group, seed);
    ck_assert_msg(rc == 0, "%s", sq_err_msg());
    sq_dev_free_all(dev);
    rc = sq_gemm_case_place(dev, &gc, &cmd);
    ck_assert_msg(rc == 0, "%ux%ux%u: %s", m, n, k, sq_err_msg());
    rc = sq_dev_run(dev, cmd, 1, 0);
    ck_assert_msg(rc == 0, "%ux%ux%u flags 0x%x: %s", m, n, k, flags, sq_err_msg());
    void *out = malloc(gc.b.c);
    ck_assert_int_eq(sq_gemm_case_read(dev, &gc, out), 0);
    size_t elems = (size_t)m * n;
    if (flags & SQ_GEMM_OUT32) {
        sq_assert_i32_eq(out, (const int32_t *)gc.golden, elems);
    } else {
        sq_assert_i8_eq(out, (const int8_t *)gc.golden, elems);
        for (size_t i = 0; i < elems; i++) {
            int8_t v = ((const int8_t *)out)[i];
            if (v == 127 || v == -128)
                t->saturated++;
            else if (v != 0)
                t->inside++;
        }
    }
    t->cases++;
    free(out);
    sq_gemm_case_free(&gc);
}

static void check_case(sq_dev_t *dev, uint32_t m, uint32_t n, uint32_t k, uint32_t flags,
                       uint64_t seed, tally_t *t)
{
    check_case_group(dev, m, n, k, flags, 0, seed, t);
}

sq_dev_t *sq_test_dev_open(const char *level, uint64_t mem_bytes)
{
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, level);
    cfg.mem_bytes = mem_bytes;
    sq_dev_t *dev = NULL;
    ck_assert_msg(sq_dev_open(&cfg, &dev) == 0, "%s", sq_err_msg());
    return dev;
}

void sq_test_gemm_random(const char *level, uint32_t wflags, uint64_t seed, int count)
{
    sq_dev_t *dev = sq_test_dev_open(level, 8u << 20);
    tally_t t = {0};
    uint64_t s = seed;
    for (int i = 0; i < count; i++) {
        uint32_t m = sq_regress_pick_mn(&s), n = sq_regress_pick_mn(&s), k = sq_regress_pick_k(&s);
        /* one size-1 dim of each kind early, whatever the draw */
        if (i == 0)
            m = 1;
        else if (i == 1)
            n = 1;
        else if (i == 2)
            k = 1;
        uint32_t flags = wflags;
        flags |= (i & 1) ? SQ_GEMM_RELU : 0;
        flags |= (i & 2) ? SQ_GEMM_OUT32 : 0;
        flags |= (i & 4) ? SQ_GEMM_BIAS : 0;
        check_case(dev, m, n, k, flags, s, &t);
    }
    /* the operands must actually reach both saturation and the linear range */
    ck_assert_uint_gt(t.saturated * 20, t.saturated + t.inside);
    ck_assert_uint_gt(t.inside * 20, t.saturated + t.inside);
    ck_assert_int_eq(t.cases, count);
    sq_dev_close(dev);
}

void sq_test_gemm_extremes(const char *level)
{
    sq_dev_t *dev = sq_test_dev_open(level, 8u << 20);
    tally_t t = {0};
    const uint32_t modes[] = {0, SQ_GEMM_W4, SQ_GEMM_SP24};
    for (size_t i = 0; i < 3; i++) {
        check_case(dev, SQ_ARRAY_ROWS + 1, SQ_ARRAY_COLS - 1, SQ_GEMM_MAX_DIM / 64, modes[i],
                   77 + i, &t);
        check_case(dev, 1, 1, 1, modes[i] | SQ_GEMM_OUT32 | SQ_GEMM_BIAS, 5 + i, &t);
    }
    sq_dev_close(dev);
}

void sq_test_gemm_gscale(const char *level)
{
    sq_dev_t *dev = sq_test_dev_open(level, 8u << 20);
    tally_t t = {0};
    /* group sizes 32, 128 and k (odd too), k not a multiple of the group,
     * across the K chunks (SQ_GEMM_TILE_K, the RTL's 512/1024/2048), M = 1
     * and M > 1 past the array, N odd, every epilogue */
    static const struct {
        uint32_t m, n, k, flags, group;
    } cs[] = {
        {1, 17, 512, SQ_GEMM_W4 | SQ_GEMM_OUT32, 32},
        {1, 33, 300, SQ_GEMM_W4 | SQ_GEMM_BIAS, 128},
        {1, 9, 172, SQ_GEMM_W4 | SQ_GEMM_OUT32, 32},
        {5, 9, 100, SQ_GEMM_OUT32 | SQ_GEMM_BIAS, 100},
        {SQ_ARRAY_ROWS + 3, 15, 1100, SQ_GEMM_W4 | SQ_GEMM_BIAS | SQ_GEMM_RELU, 32},
        {2, 5, 2 * SQ_GEMM_TILE_K + 1, 0, 128},
        {3, 7, 70, SQ_GEMM_OUT32, 64},
        {4, 3, 37, SQ_GEMM_W4, 37},
        {1, 1, 1, SQ_GEMM_W4 | SQ_GEMM_OUT32, 1},
        {1, 2, 4096, SQ_GEMM_OUT32 | SQ_GEMM_BIAS, 4096},
        {1, 19, 3000, SQ_GEMM_W4 | SQ_GEMM_RELU, 64},
        {1, 6, 2500, SQ_GEMM_RELU, 256},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
        check_case_group(dev, cs[i].m, cs[i].n, cs[i].k, cs[i].flags | SQ_GEMM_GSCALE, cs[i].group,
                         900 + i, &t);
    ck_assert_uint_gt(t.saturated, 0);
    ck_assert_uint_gt(t.inside, 0);
    sq_dev_close(dev);
}

void sq_test_attn_random(const char *level, uint64_t seed, int count, uint64_t max_work)
{
    for (int t = 0; t < count; t++) {
        sq_attn_params_t p;
        sq_regress_attn(seed, (uint64_t)t, max_work, &p);
        char what[256];
        sq_test_attn_describe(&p, what, sizeof what);
        sq_attn_case_t ac;
        ck_assert_msg(sq_attn_case_build(&ac, &p) == 0, "config %d (%s): %s", t, what,
                      sq_err_msg());
        sq_dev_config_t cfg;
        sq_dev_config_default(&cfg, level);
        cfg.mem_bytes = sq_attn_case_dev_bytes(&ac) + 4096;
        sq_dev_t *dev;
        ck_assert_msg(sq_dev_open(&cfg, &dev) == 0, "%s", sq_err_msg());
        uint64_t cmd;
        ck_assert_int_eq(sq_attn_case_place(dev, &ac, &cmd), 0);
        ck_assert_msg(sq_dev_run(dev, cmd, 1, 0) == 0, "config %d (%s): %s", t, what,
                      sq_err_msg());
        int8_t *out = malloc(ac.b.o);
        ck_assert_int_eq(sq_attn_case_read(dev, &ac, out), 0);
        for (uint64_t i = 0; i < ac.b.o; i++)
            ck_assert_msg(out[i] == ac.golden[i], "%s config %d (%s): O[%llu] %d, golden %d",
                          level, t, what, (unsigned long long)i, out[i], ac.golden[i]);
        sq_dev_stats_t st;
        sq_dev_stats(dev, &st);
        ck_assert_uint_eq(st.macs, (ac.work.scored + ac.work.selected) * p.head_dim);
        free(out);
        sq_dev_close(dev);
        sq_attn_case_free(&ac);
    }
}

uint64_t sq_test_attn_stream_bytes(const sq_attn_case_t *ac, int n)
{
    uint64_t bytes = (uint64_t)n * SQ_DESC_BYTES;
    for (int i = 0; i < n; i++)
        bytes += sq_attn_case_dev_bytes(&ac[i]) + 64;
    return bytes;
}

void sq_test_attn_stream(sq_dev_t *dev, sq_attn_case_t *ac, int n, sq_dev_stats_t *st)
{
    const char *level = sq_dev_level(dev);
    uint8_t *stream = malloc((size_t)n * SQ_DESC_BYTES);
    uint64_t cmd = 0;
    for (int i = 0; i < n; i++) {
        ck_assert_int_eq(sq_attn_case_place(dev, &ac[i], &cmd), 0);
        ck_assert_int_eq(sq_dev_read(dev, cmd, stream + (size_t)i * SQ_DESC_BYTES,
                                     SQ_DESC_BYTES), 0);
    }
    if (n > 1)
        ck_assert_int_eq(sq_dev_put(dev, stream, (uint64_t)n * SQ_DESC_BYTES, &cmd), 0);
    ck_assert_msg(sq_dev_run(dev, cmd, (uint32_t)n, 0) == 0, "%s: %s", level, sq_err_msg());
    for (int i = 0; i < n; i++) {
        int8_t *out = malloc(ac[i].b.o);
        ck_assert_int_eq(sq_attn_case_read(dev, &ac[i], out), 0);
        sq_assert_i8_eq(out, ac[i].golden, ac[i].b.o);
        free(out);
    }
    sq_dev_stats(dev, st);
    free(stream);
}

void sq_test_hls_unit_pragmas(const char *path)
{
    size_t len;
    char *src = sq_slurp(path, &len);
    ck_assert_ptr_nonnull(src);
    const struct {
        const char *port, *macro;
        unsigned value;
    } regs[] = {
        {"mem", "SQ_REG_MEM_LO", SQ_REG_MEM_LO},
        {"cmd_addr", "SQ_REG_CMD_LO", SQ_REG_CMD_LO},
        {"n_cmds", "SQ_REG_NCMD", SQ_REG_NCMD},
    };
    for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++) {
        char key[64];
        snprintf(key, sizeof key, "s_axilite port=%s offset=", regs[i].port);
        char *p = strstr(src, key);
        ck_assert_msg(p, "no '%s' in %s", key, path);
        char *end;
        unsigned long v = strtoul(p + strlen(key), &end, 0);
        ck_assert_msg(v == regs[i].value, "%s: offset 0x%lx, spec.h %s = 0x%x", regs[i].port, v,
                      regs[i].macro, regs[i].value);
        char *eol = strchr(end, '\n');
        *eol = 0;
        ck_assert_msg(strstr(end, regs[i].macro), "%s: pragma does not name %s", regs[i].port,
                      regs[i].macro);
        *eol = '\n';
    }
    ck_assert_ptr_nonnull(strstr(src, "s_axilite port=return"));
    ck_assert_ptr_nonnull(strstr(src, "m_axi port=mem offset=slave"));
    free(src);
}
