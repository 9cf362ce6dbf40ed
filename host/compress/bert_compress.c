#include "compress/bert_compress.h"

#include <stdlib.h>
#include <string.h>

#include "train/bert_train.h"
#include "util/err.h"

#define MIN_SENTENCE 12

/* The matrices of one encoder layer. */
static const sq_wkind_t kinds[] = {SQ_W_Q, SQ_W_K, SQ_W_V, SQ_W_O, SQ_W_1, SQ_W_2};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

int sq_bert_recipe_check(const sq_recipe_t *r)
{
    if (r->heads)
        return sq_err(SQ_ERR_ARG, "BERT recipes cannot use heads (no head scores for the encoder)");
    if (sq_recipe_transforms(r))
        return sq_err(SQ_ERR_ARG, "rot, awq and smooth rewrite Llama models; not BERT encoders");
    if (r->seq)
        return sq_err(SQ_ERR_ARG, "gptq+seq calibrates Llama models block by block; not BERT "
                                  "encoders");
    return 0;
}

int sq_bert_sentences(char *text, char ***s, size_t *n)
{
    *n = 0;
    *s = malloc((strlen(text) / MIN_SENTENCE + 1) * sizeof **s);
    if (!*s)
        return sq_err(SQ_ERR_MEM, "out of memory");
    for (char *save = NULL, *p = strtok_r(text, ".!?\n", &save); p;
         p = strtok_r(NULL, ".!?\n", &save)) {
        while (*p == ' ')
            p++;
        if (strlen(p) >= MIN_SENTENCE && !strstr(p, "<|"))
            (*s)[(*n)++] = p;
    }
    return 0;
}

typedef struct {
    sq_calib_t *c;
    const sq_bert_t *m;
} calib_ctx_t;

static int observe(void *vctx, int layer, sq_wkind_t kind, const float *x, size_t rows, float *y)
{
    calib_ctx_t *ctx = vctx;
    size_t n, k;
    sq_bert_wshape(&ctx->m->cfg, kind, &n, &k);
    for (size_t t = 0; t < rows; t++)
        sq_calib_observe(ctx->c, layer, kind, x + t * k);
    sq_bert_linear_f32(ctx->m, layer, kind, x, rows, y);
    return 0;
}

int sq_bert_calib_collect(sq_calib_t *c, const sq_bert_t *m, char *const *s, size_t n)
{
    size_t k[SQ_W_COUNT] = {0}, out;
    for (size_t i = 0; i < N_KINDS; i++)
        sq_bert_wshape(&m->cfg, kinds[i], &out, &k[kinds[i]]);
    int rc = sq_calib_init(c, m->cfg.n_layers, m->cfg.n_heads, k);
    float *emb = rc ? NULL : malloc((size_t)m->cfg.dim * sizeof *emb);
    if (!rc && !emb)
        rc = sq_err(SQ_ERR_MEM, "out of memory");
    calib_ctx_t ctx = {c, m};
    sq_bert_exec_t ex = {.linear = observe, .ctx = &ctx};
    for (size_t i = 0; i < n && !rc; i++) {
        size_t tokens;
        rc = sq_bert_embed(m, s[i], emb, &tokens, &ex);
        c->tokens += rc ? 0 : tokens;
    }
    free(emb);
    if (rc) {
        sq_calib_free(c);
        return rc;
    }
    sq_calib_finish(c);
    return 0;
}

void sq_bert_qmodel_free(sq_bert_qmodel_t *q)
{
    if (!q)
        return;
    if (q->layers)
        for (size_t s = 0; s < (size_t)q->model->cfg.n_layers * SQ_W_COUNT; s++)
            sq_clinear_free(&q->layers[s]);
    free(q->layers);
    free(q->mid);
    sq_qscratch_free(&q->scratch);
    memset(q, 0, sizeof *q);
}

int sq_bert_qmodel_build(sq_bert_qmodel_t *q, const sq_bert_t *m, const sq_recipe_t *r,
                         const sq_calib_t *calib)
{
    memset(q, 0, sizeof *q);
    q->model = m;
    q->recipe = *r;
    int rc = sq_bert_recipe_check(r);
    if (rc || sq_recipe_is_identity(r))
        return rc;
    if (sq_recipe_needs_calib(r) && !calib)
        return sq_err(SQ_ERR_ARG, "this recipe needs calibration sentences");
    const sq_bert_config_t *c = &m->cfg;
    size_t wide = (size_t)(c->hidden_dim > c->dim ? c->hidden_dim : c->dim);
    size_t rows = m->max_tokens; /* a sentence's tokens go through each linear at once */
    q->layers = calloc((size_t)c->n_layers * SQ_W_COUNT, sizeof *q->layers);
    q->mid = malloc(rows * wide * sizeof *q->mid);
    rc = sq_qscratch_alloc(&q->scratch, rows, wide);
    float *w = malloc(wide * (size_t)c->dim * sizeof *w);
    if (!rc && (!q->layers || !q->mid || !w))
        rc = sq_err(SQ_ERR_MEM, "out of memory building the compressed encoder");
    for (int l = 0; l < c->n_layers && !rc; l++)
        for (size_t i = 0; i < N_KINDS && !rc; i++) {
            size_t n, k;
            sq_bert_wshape(c, kinds[i], &n, &k);
            memcpy(w, sq_bert_wptr(m, l, kinds[i]), n * k * sizeof *w);
            const double *h = calib ? sq_calib_hessian(calib, l, kinds[i]) : NULL;
            float amax = calib ? sq_calib_amax(calib, l, kinds[i]) : 0.0f;
            rc = sq_clinear_build(&q->layers[(size_t)l * SQ_W_COUNT + kinds[i]], w, n, k, h, amax,
                                  r);
        }
    free(w);
    if (rc)
        sq_bert_qmodel_free(q);
    return rc;
}

static int linear(void *ctx, int layer, sq_wkind_t kind, const float *x, size_t rows, float *y)
{
    sq_bert_qmodel_t *q = ctx;
    if (rows > q->model->max_tokens)
        return sq_err(SQ_ERR_ARG, "%zu tokens exceed the encoder's %zu", rows,
                      q->model->max_tokens);
    return sq_clinear_run_rows(&q->layers[(size_t)layer * SQ_W_COUNT + kind], x, rows, y, q->mid,
                               &q->scratch);
}

void sq_bert_qmodel_exec(sq_bert_qmodel_t *q, sq_bert_exec_t *ex)
{
    *ex = (sq_bert_exec_t){.linear = q->layers ? linear : NULL, .ctx = q};
}

/* fp32 parameters outside the linear matrices: embeddings, biases, norms. */
static size_t other_bytes(const sq_bert_config_t *c)
{
    size_t d = (size_t)c->dim, h = (size_t)c->hidden_dim;
    size_t f = ((size_t)c->vocab_size + (size_t)c->max_pos + (size_t)c->n_types + 2) * d +
               (size_t)c->n_layers * (4 * d + 2 * d + h + d + 2 * d);
    return f * sizeof(float);
}

size_t sq_bert_bytes(const sq_bert_t *m)
{
    size_t d = (size_t)m->cfg.dim, h = (size_t)m->cfg.hidden_dim;
    return other_bytes(&m->cfg) + (size_t)m->cfg.n_layers * (4 * d * d + 2 * h * d) * sizeof(float);
}

size_t sq_bert_qmodel_bytes(const sq_bert_qmodel_t *q)
{
    if (!q->layers)
        return sq_bert_bytes(q->model);
    size_t b = other_bytes(&q->model->cfg);
    for (int l = 0; l < q->model->cfg.n_layers; l++)
        for (size_t i = 0; i < N_KINDS; i++)
            b += sq_clinear_bytes(&q->layers[(size_t)l * SQ_W_COUNT + kinds[i]]);
    return b;
}

int sq_bert_cosines(const sq_bert_t *ref, const sq_bert_t *m, const sq_bert_exec_t *ex,
                    char *const *s, size_t n, double *mean, double *min)
{
    size_t d = (size_t)m->cfg.dim;
    float *ea = malloc(d * sizeof *ea), *eb = malloc(d * sizeof *eb);
    int rc = !ea || !eb ? sq_err(SQ_ERR_MEM, "out of memory") : 0;
    double sum = 0;
    *min = 1;
    for (size_t i = 0; i < n && !rc; i++) {
        rc = sq_bert_embed(ref, s[i], ea, NULL, NULL);
        if (!rc)
            rc = sq_bert_embed(m, s[i], eb, NULL, ex);
        double c = 0;
        for (size_t j = 0; j < d; j++)
            c += (double)ea[j] * eb[j];
        sum += c;
        *min = c < *min ? c : *min;
    }
    free(ea);
    free(eb);
    *mean = n ? sum / (double)n : 0;
    return rc;
}

int sq_bert_finetune(const sq_bert_t *teacher, sq_bert_qmodel_t *q, const sq_recipe_t *r,
                     const sq_calib_t *cal, int32_t *const *seq, const size_t *len, size_t count,
                     const sq_finetune_opts_t *o, sq_bert_t *student, sq_finetune_stats_t *stats)
{
    memset(stats, 0, sizeof *stats);
    memset(student, 0, sizeof *student);
    if (r->rank || r->energy > 0 || r->share)
        return sq_err(SQ_ERR_ARG, "distill:steps=N keeps pruning and quantization; it does not "
                                  "apply to lowrank or share");
    const sq_bert_config_t *c = &teacher->cfg;
    size_t slots = (size_t)c->n_layers * SQ_W_COUNT;
    sq_wconstraint_t *cons = calloc(slots, sizeof *cons);
    int rc = !cons ? sq_err(SQ_ERR_MEM, "distill: out of memory") : 0;
    if (!rc)
        rc = sq_bert_train_copy(teacher, student);
    for (int l = 0; l < c->n_layers && !rc; l++)
        for (size_t i = 0; i < N_KINDS && !rc; i++) {
            size_t n, k;
            sq_bert_wshape(c, kinds[i], &n, &k);
            float *w = (float *)sq_bert_wptr(student, l, kinds[i]);
            sq_wconstraint_t *wc = &cons[(size_t)l * SQ_W_COUNT + kinds[i]];
            const sq_clinear_t *cl = &q->layers[(size_t)l * SQ_W_COUNT + kinds[i]];
            if (q->layers)
                rc = sq_clinear_dequant(cl, w, n, k);
            size_t zeros = 0;
            for (size_t j = 0; !rc && j < n * k; j++)
                zeros += w[j] == 0.0f;
            if (!rc && zeros)
                rc = sq_wconstraint_mask_nonzero(wc, w, n, k);
            if (!rc)
                rc = sq_wconstraint_grid(wc, r->wbits, r->group ? r->group : k);
        }
    sq_distill_opts_t dopt;
    sq_distill_opts_default(&dopt);
    dopt.steps = o->steps;
    dopt.batch = o->batch;
    dopt.lr = r->distill_lr > 0 ? (float)r->distill_lr : 1e-4f;
    dopt.act8 = r->act != SQ_ACT_FP32;
    dopt.seed = o->seed;
    dopt.progress = o->progress;
    dopt.progress_ctx = o->progress_ctx;
    sq_distill_stats_t ds = {0};
    if (!rc)
        rc = sq_bert_distill(teacher, student, cons, seq, len, count, &dopt, &ds);
    /* Rebuild on the grid the student trained on: its zeros are in place,
     * so only 2:4 (for the layout) and the weight format remain. */
    sq_recipe_t rr = {.wbits = r->wbits, .group = r->group, .act = r->act, .abits = r->abits,
                      .sp24 = r->sp24};
    sq_bert_qmodel_t q2;
    if (!rc)
        rc = sq_bert_qmodel_build(&q2, student, &rr, cal);
    if (!rc) {
        sq_bert_qmodel_free(q);
        *q = q2;
        q->recipe = *r;
        stats->first_loss = ds.first_loss;
        stats->last_loss = ds.last_loss;
        stats->seconds = ds.seconds;
        stats->train_tokens = ds.tokens;
    }
    for (size_t i = 0; cons && i < slots; i++)
        free(cons[i].mask);
    free(cons);
    if (rc)
        sq_bert_train_free_copy(student);
    return rc;
}

int sq_bert_encode_sentences(const sq_bert_t *m, char *const *s, size_t n, int32_t ***seq,
                             size_t **len)
{
    *seq = calloc(n ? n : 1, sizeof **seq);
    *len = calloc(n ? n : 1, sizeof **len);
    int rc = !*seq || !*len ? sq_err(SQ_ERR_MEM, "out of memory") : 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (!((*seq)[i] = malloc(m->max_tokens * sizeof ***seq)))
            rc = sq_err(SQ_ERR_MEM, "out of memory");
        else
            rc = sq_wp_encode(m->tok, s[i], m->max_tokens, (*seq)[i], &(*len)[i]);
    }
    return rc;
}

void sq_bert_free_sentences(int32_t **seq, size_t *len, size_t n)
{
    for (size_t i = 0; seq && i < n; i++)
        free(seq[i]);
    free(seq);
    free(len);
}
