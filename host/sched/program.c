#include "sched/program.h"

#include <stdlib.h>
#include <string.h>

#include "runtime/desc.h"
#include "sparq/desc.h"
#include "sparq/numerics.h"
#include "util/err.h"

/* A host array uploaded to device memory; the runner maps any pointer inside
 * it (e.g. one group's slice) to the device address of the same byte. */
typedef struct {
    const uint8_t *host;
    uint64_t dev;
    size_t bytes;
} placement_t;

struct sq_program {
    sq_qmodel_t *q;           /* the Llama model compiled, or */
    sq_bert_qmodel_t *bq;     /*   the encoder */
    sq_qscratch_t *scratch;   /* where the runner is installed */
    sq_dev_t *dev;
    sq_report_t *rep;
    placement_t *pl;
    size_t n_pl, cap_pl;
    uint64_t cmd, act, res;   /* command, activation and result buffers */
    size_t act_cap, res_cap;  /* their sizes in bytes */
    size_t max_cmds;
    uint8_t *cmds;            /* host copy of one stream */
    sq_llama_exec_t inner;    /* the compressed model's own hooks */
    sq_bert_exec_t binner;    /* the compressed encoder's own hook */
    sq_attn_desc_t attn;      /* attention buffers (addresses) and their sizes: */
    sq_attn_bytes_t attn_b;   /*   planned for the whole context, kv_cap = seq_len */
    int layer;                /* the op in flight, for the report */
    sq_wkind_t kind;
};

static int place(sq_program_t *p, const void *host, size_t bytes)
{
    if (!host || !bytes)
        return 0;
    if (p->n_pl == p->cap_pl) {
        size_t cap = p->cap_pl ? 2 * p->cap_pl : 64;
        placement_t *n = realloc(p->pl, cap * sizeof *n);
        if (!n)
            return sq_err(SQ_ERR_MEM, "compiler: out of memory");
        p->pl = n;
        p->cap_pl = cap;
    }
    placement_t *pl = &p->pl[p->n_pl];
    int rc = sq_dev_put(p->dev, host, bytes, &pl->dev);
    if (rc)
        return rc;
    pl->host = host;
    pl->bytes = bytes;
    p->n_pl++;
    return 0;
}

int sq_program_place(sq_program_t *p, const void *host, size_t bytes)
{
    return place(p, host, bytes);
}

uint64_t sq_program_weight_bytes(const sq_program_t *p)
{
    uint64_t b = 0;
    for (size_t i = 0; p && i < p->n_pl; i++)
        b += p->pl[i].bytes;
    return b;
}

static int lookup(const sq_program_t *p, const void *host, uint64_t *dev)
{
    const uint8_t *h = host;
    for (size_t i = 0; i < p->n_pl; i++) {
        if (h >= p->pl[i].host && h < p->pl[i].host + p->pl[i].bytes) {
            *dev = p->pl[i].dev + (uint64_t)(h - p->pl[i].host);
            return 0;
        }
    }
    return sq_err(SQ_ERR_ARG, "compiler: a weight operand was never uploaded to the device");
}

/* Uploads one integer leaf (when upload is set): packed weights (group-major
 * slices when grouped) and 2:4 metadata; and widens the planned activation
 * and result buffers to it either way. */
static int place_leaf(sq_program_t *p, const sq_qlinear_t *l, int upload)
{
    if (l->kind != SQ_QL_INT)
        return 0;
    int rc = !upload          ? 0
             : l->group < l->k ? place(p, l->wg, l->wg_bytes)
                               : place(p, l->w, sq_w_row_bytes(l->flags, l->k) * l->n);
    if (!rc && upload && (l->flags & SQ_GEMM_SP24))
        rc = place(p, l->meta, sq_meta_row_bytes(l->k) * l->n);
    if (l->k > p->act_cap)
        p->act_cap = l->k;
    if (l->n * sizeof(int32_t) > p->res_cap)
        p->res_cap = l->n * sizeof(int32_t);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Execution */

/* Adds what the device counted since `before` to the report as one call. */
static int report_since(sq_program_t *p, const sq_dev_stats_t *before, int layer,
                        const char *op, const char *unit)
{
    sq_dev_stats_t after;
    sq_dev_stats(p->dev, &after);
    sq_dev_stats_t d = {
        .cycles = after.cycles - before->cycles,
        .stall_cycles = after.stall_cycles - before->stall_cycles,
        .bytes_read = after.bytes_read - before->bytes_read,
        .bytes_written = after.bytes_written - before->bytes_written,
        .macs = after.macs - before->macs,
        .commands = after.commands - before->commands,
    };
    return p->rep ? sq_report_add(p->rep, layer, op, unit, &d) : 0;
}

/* Runs one golden-GEMM-shaped call of the compressed layer on the device. */
static int dev_gemm_run(sq_program_t *p, const sq_gemm_t *g)
{
    if (g->m * g->k > p->act_cap || g->m * g->n * sizeof(int32_t) > p->res_cap)
        return sq_err(SQ_ERR_ARG, "compiler: a %zux%zux%zu call exceeds the planned buffers",
                      g->m, g->n, g->k);
    uint64_t w, meta = 0;
    int rc = lookup(p, g->w, &w);
    if (!rc && (g->flags & SQ_GEMM_SP24))
        rc = lookup(p, g->meta, &meta);
    if (!rc)
        rc = sq_dev_write(p->dev, p->act, g->a, g->m * g->k);
    if (rc)
        return rc;
    /* N beyond the unit's limit: one descriptor per N-chunk (decode only,
     * where C is one contiguous row) */
    size_t chunk = g->n > SQ_GEMM_MAX_DIM ? SQ_GEMM_MAX_DIM : g->n;
    if (chunk < g->n && g->m != 1)
        return sq_err(SQ_ERR_ARG, "compiler: N %zu beyond the unit's %u needs M = 1", g->n,
                      SQ_GEMM_MAX_DIM);
    size_t chunks = (g->n + chunk - 1) / chunk, n_cmds = 0;
    uint32_t cus = sq_dev_gemm_cus(p->dev);
    if (chunks * cus > p->max_cmds)
        return sq_err(SQ_ERR_ARG, "compiler: %zu descriptors exceed the command buffer",
                      chunks * cus);
    size_t wrow = sq_w_row_bytes(g->flags, g->k), mrow = sq_meta_row_bytes(g->k);
    for (size_t i = 0; i < chunks; i++) {
        size_t n0 = i * chunk, nn = g->n - n0 < chunk ? g->n - n0 : chunk;
        sq_gemm_desc_t d = {.flags = g->flags, .m = (uint32_t)g->m, .n = (uint32_t)nn,
                            .k = (uint32_t)g->k, .a = p->act, .w = w + n0 * wrow,
                            .meta = meta ? meta + n0 * mrow : 0,
                            .c = p->res + n0 * sizeof(int32_t)}, part;
        /* one part per GEMM compute unit, run concurrently */
        for (uint32_t j = 0; j < cus; j++)
            if (sq_gemm_desc_split(&d, cus, j, &part))
                sq_gemm_desc_encode(&part, p->cmds + n_cmds++ * SQ_DESC_BYTES);
    }
    sq_dev_stats_t before;
    sq_dev_stats(p->dev, &before);
    rc = sq_dev_write(p->dev, p->cmd, p->cmds, n_cmds * SQ_DESC_BYTES);
    if (!rc)
        rc = sq_dev_run(p->dev, p->cmd, (uint32_t)n_cmds, 0);
    if (!rc)
        rc = sq_dev_read(p->dev, p->res, g->c, g->m * g->n * sizeof(int32_t));
    if (rc)
        return rc;
    return report_since(p, &before, p->layer, sq_wkind_name[p->kind], "matmul");
}

/* The CPU time of a device call is a simulator's, not the host's own work:
 * the report keeps it apart. */
static int dev_gemm(void *ctx, const sq_gemm_t *g)
{
    sq_program_t *p = ctx;
    double t0 = sq_report_cpu_s();
    int rc = dev_gemm_run(p, g);
    sq_report_dev_time(p->rep, sq_report_cpu_s() - t0);
    return rc;
}

/* One position's attention on the attention unit: the host has quantized Q and
 * the K/V cache (per-head scales over the cache, as the golden path does);
 * they go to the planned buffers and one SQ_OP_ATTN descriptor runs. */
static int dev_attn_run(sq_program_t *p, int layer, const sq_attn_t *a, sq_attn_work_t *w)
{
    sq_attn_desc_t d = p->attn;
    d.flags = a->flags;
    d.seq = a->seq;
    d.queries = a->queries;
    d.heads = a->heads;
    d.kv_heads = a->kv_heads;
    d.head_dim = a->head_dim;
    d.kv_cap = a->kv_cap;
    d.window = a->window;
    d.n_global = a->n_global;
    d.topk = a->topk;
    sq_attn_bytes_t b;
    sq_attn_desc_bytes(&d, &b);
    if (b.q > p->attn_b.q || b.k > p->attn_b.k || b.mask > p->attn_b.mask ||
        b.o > p->attn_b.o)
        return sq_err(SQ_ERR_ARG, "compiler: an attention call exceeds the planned buffers");
    uint8_t desc[SQ_DESC_BYTES];
    sq_attn_desc_encode(&d, desc);
    int rc = sq_dev_write(p->dev, d.q, a->q, b.q);
    if (!rc)
        rc = sq_dev_write(p->dev, d.k, a->k, b.k);
    if (!rc)
        rc = sq_dev_write(p->dev, d.v, a->v, b.v);
    if (!rc && b.mask)
        rc = sq_dev_write(p->dev, d.mask, a->mask, b.mask);
    if (!rc)
        rc = sq_dev_write(p->dev, d.quant, a->quant, b.quant);
    if (!rc)
        rc = sq_dev_write(p->dev, p->cmd, desc, sizeof desc);
    if (rc)
        return rc;
    sq_dev_stats_t before;
    sq_dev_stats(p->dev, &before);
    rc = sq_dev_run(p->dev, p->cmd, 1, 0);
    if (!rc)
        rc = sq_dev_read(p->dev, d.o, a->o, b.o);
    if (rc)
        return rc;
    sq_attn_pattern_work(a, w);
    return report_since(p, &before, layer, "attn", "attention");
}

static int dev_attn(void *ctx, int layer, const sq_attn_t *a, sq_attn_work_t *w)
{
    sq_program_t *p = ctx;
    double t0 = sq_report_cpu_s();
    int rc = dev_attn_run(p, layer, a, w);
    sq_report_dev_time(p->rep, sq_report_cpu_s() - t0);
    return rc;
}

int sq_program_attach_attn(sq_program_t *p, sq_attn_exec_t *ae)
{
    if (!p->q)
        return sq_err(SQ_ERR_ARG, "compiler: the attention unit runs Llama models' attention");
    const sq_llama_config_t *c = &p->q->model->cfg;
    sq_attn_desc_t d = {.flags = SQ_ATTN_BLOCK, .seq = (uint32_t)c->seq_len, .queries = 1,
                        .heads = (uint32_t)c->n_heads, .kv_heads = (uint32_t)c->n_kv_heads,
                        .head_dim = (uint32_t)(c->dim / c->n_heads),
                        .kv_cap = (uint32_t)c->seq_len};
    sq_attn_bytes_t b;
    sq_attn_desc_bytes(&d, &b);
    int rc;
    if ((rc = sq_dev_put(p->dev, NULL, b.q, &d.q)) || (rc = sq_dev_put(p->dev, NULL, b.k, &d.k)) ||
        (rc = sq_dev_put(p->dev, NULL, b.v, &d.v)) ||
        (rc = sq_dev_put(p->dev, NULL, b.mask, &d.mask)) ||
        (rc = sq_dev_put(p->dev, NULL, b.quant, &d.quant)) ||
        (rc = sq_dev_put(p->dev, NULL, b.o, &d.o)))
        return rc;
    p->attn = d;
    p->attn_b = b;
    ae->runner = (sq_attn_runner_t){dev_attn, p};
    return 0;
}

/* Names the op in flight for dev_gemm's report; a layer the unit cannot run
 * (fp32, codebook, no recipe) is reported on the host, one call per call. */
static int begin_linear(sq_program_t *p, int layer, sq_wkind_t kind, const sq_clinear_t *cl)
{
    p->layer = layer;
    p->kind = kind;
    if ((!cl || cl->f[0].kind != SQ_QL_INT) && p->rep)
        return sq_report_add(p->rep, layer, sq_wkind_name[kind], "host", NULL);
    return 0;
}

static int linear(void *ctx, int layer, sq_wkind_t kind, const float *x, float *y)
{
    sq_program_t *p = ctx;
    int rc = begin_linear(p, kind == SQ_W_CLS ? -1 : layer, kind,
                          sq_qmodel_layer(p->q, layer, kind));
    if (rc)
        return rc;
    if (p->inner.linear)
        return p->inner.linear(p->inner.ctx, layer, kind, x, y);
    sq_llama_linear_f32(p->q->model, layer, kind, x, y);
    return 0;
}

static void host_op(void *ctx, int layer, const char *op)
{
    sq_program_t *p = ctx;
    if (!p->rep)
        return;
    if (!strcmp(op, "embedding"))
        p->rep->tokens++;
    sq_report_add(p->rep, layer, op, "host", NULL);
}

static int bert_linear(void *ctx, int layer, sq_wkind_t kind, const float *x, size_t rows,
                       float *y)
{
    sq_program_t *p = ctx;
    /* every token passes layer 0's Q projection once */
    if (p->rep && layer == 0 && kind == SQ_W_Q)
        p->rep->tokens += rows;
    const sq_clinear_t *cl =
        p->bq->layers ? &p->bq->layers[(size_t)layer * SQ_W_COUNT + kind] : NULL;
    int rc = begin_linear(p, layer, kind, cl);
    if (rc)
        return rc;
    if (p->binner.linear)
        return p->binner.linear(p->binner.ctx, layer, kind, x, rows, y);
    sq_bert_linear_f32(p->bq->model, layer, kind, x, rows, y);
    return 0;
}

void sq_program_bert_exec(sq_program_t *p, sq_bert_exec_t *ex)
{
    *ex = (sq_bert_exec_t){.linear = bert_linear, .ctx = p};
}

void sq_program_exec(sq_program_t *p, sq_llama_exec_t *ex)
{
    *ex = p->inner;
    ex->linear = linear;
    ex->ctx = p;
    ex->host_op = host_op;
    ex->host_ctx = p;
}

/* ---------------------------------------------------------------------------
 * Build */

void sq_program_free(sq_program_t *p)
{
    if (!p)
        return;
    if (p->scratch)
        p->scratch->runner = (sq_gemm_runner_t){NULL, NULL};
    free(p->pl);
    free(p->cmds);
    free(p);
}

/* What every model's program is: the integer leaves of layers[0..n) resident
 * in device memory (those with keep[i] set, all when keep is NULL), the shared
 * activation, result and command buffers (for GEMMs of up to rows rows, any
 * layer's), and
 * dev_gemm installed as scratch's GEMM runner, so sq_clinear_run quantizes
 * activations and dequantizes results on the host around the device's GEMMs. */
static int build_linears(sq_program_t **out, const sq_clinear_t *layers, size_t n,
                         const uint8_t *keep, size_t rows, sq_qscratch_t *scratch, sq_dev_t *dev, sq_report_t *rep)
{
    *out = NULL;
    sq_program_t *p = calloc(1, sizeof *p);
    if (!p)
        return sq_err(SQ_ERR_MEM, "compiler: out of memory");
    p->dev = dev;
    p->rep = rep;
    int rc = 0;
    size_t widest = 1; /* one descriptor at least: the attention unit's */
    for (size_t i = 0; !rc && i < n; i++)
        for (int f = 0; !rc && f < layers[i].nf; f++) {
            const sq_qlinear_t *l = &layers[i].f[f];
            rc = place_leaf(p, l, !keep || keep[i]);
            if (l->kind == SQ_QL_INT && l->n > widest)
                widest = l->n;
        }
    p->act_cap *= rows;
    p->res_cap *= rows;
    p->max_cmds = (widest + SQ_GEMM_MAX_DIM - 1) / SQ_GEMM_MAX_DIM * sq_dev_gemm_cus(dev);
    p->cmds = calloc(p->max_cmds, SQ_DESC_BYTES);
    if (!rc && !p->cmds)
        rc = sq_err(SQ_ERR_MEM, "compiler: out of memory");
    if (!rc && p->act_cap)
        rc = sq_dev_alloc(dev, p->act_cap, &p->act);
    if (!rc && p->res_cap)
        rc = sq_dev_alloc(dev, p->res_cap, &p->res);
    if (!rc)
        rc = sq_dev_alloc(dev, p->max_cmds * SQ_DESC_BYTES, &p->cmd);
    if (rc) {
        sq_program_free(p);
        return rc;
    }
    p->scratch = scratch;
    scratch->runner = (sq_gemm_runner_t){dev_gemm, p};
    *out = p;
    return 0;
}

int sq_program_build(sq_program_t **out, sq_qmodel_t *q, sq_dev_t *dev, sq_report_t *rep)
{
    return sq_program_build_layers(out, q, dev, rep, 0, q->model->cfg.n_layers);
}

int sq_program_build_layers(sq_program_t **out, sq_qmodel_t *q, sq_dev_t *dev,
                            sq_report_t *rep, int l0, int l1)
{
    int n_layers = q->model->cfg.n_layers;
    if (l0 < 0 || l1 > n_layers || l0 > l1)
        return sq_err(SQ_ERR_ARG, "compiler: layers [%d, %d) of %d", l0, l1, n_layers);
    size_t n = q->layers ? (size_t)n_layers * SQ_W_COUNT : 0;
    uint8_t *keep = calloc(n ? n : 1, 1);
    if (!keep)
        return sq_err(SQ_ERR_MEM, "compiler: out of memory");
    for (size_t i = (size_t)l0 * SQ_W_COUNT; i < (size_t)l1 * SQ_W_COUNT && i < n; i++)
        keep[i] = i % SQ_W_COUNT != SQ_W_CLS;
    /* the classifier's leaf sits in layer 0's slots and runs after the last layer */
    if (n && l1 == n_layers && l0 < l1)
        keep[SQ_W_CLS] = 1;
    int rc = build_linears(out, q->layers, n, keep, 1, &q->scratch, dev, rep);
    free(keep);
    if (!rc) {
        (*out)->q = q;
        sq_qmodel_exec(q, &(*out)->inner);
    }
    return rc;
}

int sq_program_build_bert(sq_program_t **out, sq_bert_qmodel_t *q, sq_dev_t *dev,
                          sq_report_t *rep)
{
    size_t n = q->layers ? (size_t)q->model->cfg.n_layers * SQ_W_COUNT : 0;
    int rc = build_linears(out, q->layers, n, NULL, q->model->max_tokens, &q->scratch, dev, rep);
    if (!rc) {
        (*out)->bq = q;
        sq_bert_qmodel_exec(q, &(*out)->binner);
    }
    return rc;
}
