#define _GNU_SOURCE
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model/pypkg.h"
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

int sq_run_cli(const char *args, char *out, size_t cap, char *err, size_t errcap)
{
    char errpath[] = "/tmp/sq_test_err_XXXXXX";
    int efd = mkstemp(errpath);
    ck_assert_int_ge(efd, 0);
    close(efd);
    size_t cmdlen = strlen(args) + strlen(errpath) + 64 + sizeof SQ_SPARQ_BIN;
    char *cmd = malloc(cmdlen);
    snprintf(cmd, cmdlen, "%s %s 2>%s </dev/null", SQ_SPARQ_BIN, args, errpath);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    read_all(p, out, cap);
    int st = pclose(p);
    free(cmd);
    FILE *e = fopen(errpath, "r");
    if (e) {
        read_all(e, err, errcap);
        fclose(e);
    }
    unlink(errpath);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return WEXITSTATUS(st);
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

uint64_t sq_test_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static uint32_t pick(uint64_t *rng, const uint32_t *v, size_t n)
{
    return v[sq_test_rand(rng) % n];
}

void sq_test_attn_params(uint64_t *rng, int t, uint64_t max_work, sq_attn_params_t *p)
{
    static const uint32_t seqs[] = {1, 2, 5, 31, 32, 33, 64, 97, 130, 200};
    static const uint32_t dims[] = {1, 8, 13, 16, 32, 64, 128};
    static const uint32_t hs[][2] = {{1, 1}, {2, 1}, {2, 2}, {4, 2}, {6, 3}, {8, 4}, {8, 1}};
    static const uint32_t ranges[] = {0, 2, 20, 128};
    static const double dens[] = {0.0, 0.25, 0.5, 0.9};
    memset(p, 0, sizeof *p);
    p->flags = (uint32_t)t % 32;
    p->seq = pick(rng, seqs, sizeof seqs / sizeof seqs[0]);
    int mode = (int)(sq_test_rand(rng) % 3);
    p->queries = mode == 0 ? 1 : mode == 1 ? p->seq : 1 + (uint32_t)(sq_test_rand(rng) % p->seq);
    const uint32_t *h = hs[sq_test_rand(rng) % (sizeof hs / sizeof hs[0])];
    p->heads = h[0];
    p->kv_heads = h[1];
    p->head_dim = pick(rng, dims, sizeof dims / sizeof dims[0]);
    /* keep each configuration small enough for ASan */
    while ((uint64_t)p->queries * p->seq * p->heads * p->head_dim > max_work && p->queries > 1)
        p->queries /= 2;
    p->kv_cap = p->seq + (uint32_t)(sq_test_rand(rng) % 3);
    p->window = 1 + (uint32_t)(sq_test_rand(rng) % (p->seq + 40));
    p->n_global = (uint32_t)(sq_test_rand(rng) % (p->seq / 4 + 3));
    p->topk = 1 + (uint32_t)(sq_test_rand(rng) % (p->seq + 4));
    p->block_density = dens[sq_test_rand(rng) % 4];
    p->int8_range = (int)pick(rng, ranges, sizeof ranges / sizeof ranges[0]);
    p->seed = sq_test_rand(rng);
}

void sq_test_attn_describe(const sq_attn_params_t *p, char *buf, size_t cap)
{
    snprintf(buf, cap,
             "flags 0x%x seq %u queries %u heads %u/%u dim %u window %u global %u topk %u "
             "density %.2f range %d",
             p->flags, p->seq, p->queries, p->heads, p->kv_heads, p->head_dim, p->window,
             p->n_global, p->topk, p->block_density, p->int8_range);
}

int sq_test_model(const char *name, const char *who, char *path, size_t cap)
{
    if (sq_pypkg_model(name, path, cap) != 0) {
        printf("%s: skipping %s checks: %s\n", who, name, sq_err_msg());
        return -1;
    }
    return 0;
}
