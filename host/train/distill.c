/* Distillation loop: data, KL/CE loss, AdamW steps under a constraint hook. */
#include "train/distill.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model/eval.h"
#include "model/sampler.h"
#include "train/train.h"
#include "util/err.h"


/* ---------------------------------------------------------------------------
 * Data */

void sq_distill_data_init(sq_distill_data_t *d)
{
    memset(d, 0, sizeof *d);
}

void sq_distill_data_free(sq_distill_data_t *d)
{
    if (!d)
        return;
    free(d->tok);
    free(d->off);
    memset(d, 0, sizeof *d);
}

/* Appends one sequence of n tokens. */
static int data_push(sq_distill_data_t *d, const int *tok, size_t n)
{
    size_t used = d->n ? d->off[d->n] : 0;
    if (used + n > d->cap_tok) {
        size_t cap = d->cap_tok ? d->cap_tok : 4096;
        while (cap < used + n)
            cap *= 2;
        int *p = realloc(d->tok, cap * sizeof *p);
        if (!p)
            return sq_err(SQ_ERR_MEM, "out of memory for training tokens");
        d->tok = p;
        d->cap_tok = cap;
    }
    if (d->n + 2 > d->cap_seq) {
        size_t cap = d->cap_seq ? 2 * d->cap_seq : 64;
        size_t *p = realloc(d->off, cap * sizeof *p);
        if (!p)
            return sq_err(SQ_ERR_MEM, "out of memory for training sequences");
        d->off = p;
        d->cap_seq = cap;
    }
    if (d->n == 0)
        d->off[0] = 0;
    memcpy(d->tok + used, tok, n * sizeof *tok);
    d->off[d->n + 1] = used + n;
    d->n++;
    return 0;
}

int sq_distill_data_add_text(sq_distill_data_t *d, const sq_tokenizer_t *t, const char *text,
                             int max_tokens)
{
    if (max_tokens < 2)
        return sq_err(SQ_ERR_ARG, "sequences need at least 2 tokens, got %d", max_tokens);
    char *copy = strdup(text);
    int *tok = malloc((strlen(text) + 4) * sizeof *tok);
    if (!copy || !tok) {
        free(copy);
        free(tok);
        return sq_err(SQ_ERR_MEM, "out of memory tokenizing training text");
    }
    int rc = 0;
    char *p = copy, *story;
    while (!rc && (story = sq_story_next(&p))) {
        if (!*story)
            continue;
        int n = 0;
        rc = sq_tokenizer_encode(t, story, 1, 0, tok, &n);
        if (!rc && n > 1)
            rc = data_push(d, tok, (size_t)(n < max_tokens ? n : max_tokens));
    }
    free(copy);
    free(tok);
    return rc;
}

int sq_distill_data_add_samples(sq_distill_data_t *d, const sq_llama_t *teacher, size_t n,
                                int max_tokens, float temperature, float topp, uint64_t seed)
{
    const sq_llama_config_t *c = &teacher->cfg;
    if (max_tokens < 2 || max_tokens > c->seq_len + 1)
        return sq_err(SQ_ERR_ARG, "sample length %d out of range [2, %d]", max_tokens,
                      c->seq_len + 1);
    sq_llama_state_t s;
    sq_sampler_t smp = {0};
    int *tok = malloc((size_t)max_tokens * sizeof *tok);
    int rc = tok ? sq_llama_state_build(&s, c) : sq_err(SQ_ERR_MEM, "out of memory sampling");
    if (rc) {
        free(tok);
        return rc;
    }
    rc = sq_sampler_build(&smp, c->vocab_size, temperature, topp, seed ? seed : 1);
    for (size_t i = 0; i < n && !rc; i++) {
        int len = 1;
        tok[0] = SQ_TOK_BOS;
        while (len < max_tokens) {
            rc = sq_llama_forward(teacher, &s, tok[len - 1], len - 1, NULL);
            if (rc)
                break;
            tok[len] = sq_sampler_sample(&smp, s.logits);
            if (tok[len++] == SQ_TOK_BOS)
                break;
        }
        if (!rc)
            rc = data_push(d, tok, (size_t)len);
    }
    sq_sampler_free(&smp);
    sq_llama_state_free(&s);
    free(tok);
    return rc;
}

int sq_distill_data_nll(const sq_llama_t *m, const sq_distill_data_t *d, const sq_llama_exec_t *ex,
                        double *nll, size_t *tokens)
{
    *nll = 0.0;
    *tokens = 0;
    sq_llama_state_t s;
    int rc = sq_llama_state_build(&s, &m->cfg);
    int V = m->cfg.vocab_size;
    for (size_t i = 0; i < d->n && !rc; i++) {
        const int *seq = d->tok + d->off[i];
        size_t len = d->off[i + 1] - d->off[i];
        if (len > (size_t)m->cfg.seq_len + 1)
            len = (size_t)m->cfg.seq_len + 1;
        for (size_t pos = 0; pos + 1 < len && !rc; pos++) {
            rc = sq_llama_forward(m, &s, seq[pos], (int)pos, ex);
            if (rc)
                break;
            float max = s.logits[0];
            for (int j = 1; j < V; j++)
                if (s.logits[j] > max)
                    max = s.logits[j];
            double sum = 0.0;
            for (int j = 0; j < V; j++)
                sum += exp((double)(s.logits[j] - max));
            *nll += log(sum) - (double)(s.logits[seq[pos + 1]] - max);
            (*tokens)++;
        }
    }
    sq_llama_state_free(&s);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Loss */

double sq_distill_loss(const float *zs, const float *zt, const int *target, size_t n, int V,
                       const sq_distill_opts_t *o, float scale, float *dz)
{
    double total = 0.0;
    float T = o->temperature;
    for (size_t pos = 0; pos < n; pos++) {
        const float *s = zs + pos * (size_t)V, *t = zt + pos * (size_t)V;
        float *g = dz + pos * (size_t)V;
        float ms = s[0], mt = t[0];
        for (int j = 1; j < V; j++) {
            ms = s[j] > ms ? s[j] : ms;
            mt = t[j] > mt ? t[j] : mt;
        }
        /* log-sum-exp of s/T, t/T and s (temperature 1, for the CE term) */
        double zsT = 0.0, ztT = 0.0, zs1 = 0.0;
        for (int j = 0; j < V; j++) {
            zsT += exp((double)((s[j] - ms) / T));
            ztT += exp((double)((t[j] - mt) / T));
            zs1 += exp((double)(s[j] - ms));
        }
        double lsT = log(zsT), ltT = log(ztT), ls1 = log(zs1);
        double kl = 0.0;
        for (int j = 0; j < V; j++) {
            double lps = (double)((s[j] - ms) / T) - lsT;
            double lpt = (double)((t[j] - mt) / T) - ltT;
            double pt = exp(lpt), ps = exp(lps);
            kl += pt * (lpt - lps);
            double grad = o->kl_weight * T * (ps - pt);
            if (o->ce_weight != 0.0f)
                grad += o->ce_weight * exp((double)(s[j] - ms) - ls1);
            g[j] = (float)(grad * scale);
        }
        double ce = ls1 - (double)(s[target[pos]] - ms);
        if (o->ce_weight != 0.0f)
            g[target[pos]] -= (float)(o->ce_weight * scale);
        total += o->kl_weight * T * T * kl + o->ce_weight * ce;
    }
    return total;
}

/* ---------------------------------------------------------------------------
 * Loop */

void sq_distill_opts_default(sq_distill_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->steps = 200;
    o->batch = 8;
    o->lr = 2e-3f;
    o->warmup = 10;
    o->clip = 1.0f;
    o->temperature = 1.0f;
    o->kl_weight = 1.0f;
    o->seed = 1;
}

/* Calls fn for every linear matrix of m (the classifier once). */
#define FOR_LINEAR(c, l, kd)                                                                       \
    for (int l = 0; l < (c)->n_layers; l++)                                                        \
        for (int kd = 0; kd < SQ_W_COUNT; kd++)                                                    \
            if (kd != SQ_W_CLS || l == 0)

int sq_distill_fake(const sq_distill_hook_t *hook, const sq_llama_t *w, sq_llama_t *out)
{
    sq_train_copy(out, w);
    if (!hook || !hook->fake)
        return 0;
    const sq_llama_config_t *c = &w->cfg;
    FOR_LINEAR(c, l, kd)
    {
        size_t n, k;
        sq_llama_wshape(c, (sq_wkind_t)kd, &n, &k);
        int rc = hook->fake(hook->ctx, l, (sq_wkind_t)kd, sq_llama_wptr(w, l, (sq_wkind_t)kd),
                            (float *)sq_llama_wptr(out, l, (sq_wkind_t)kd), n, k);
        if (rc)
            return rc;
    }
    return 0;
}

static int project(const sq_distill_hook_t *hook, sq_llama_t *w)
{
    if (!hook || !hook->project)
        return 0;
    const sq_llama_config_t *c = &w->cfg;
    FOR_LINEAR(c, l, kd)
    {
        size_t n, k;
        sq_llama_wshape(c, (sq_wkind_t)kd, &n, &k);
        int rc = hook->project(hook->ctx, l, (sq_wkind_t)kd,
                               (float *)sq_llama_wptr(w, l, (sq_wkind_t)kd), n, k);
        if (rc)
            return rc;
    }
    return 0;
}

float sq_distill_lr(const sq_distill_opts_t *o, int step)
{
    if (step < o->warmup)
        return o->lr * (float)(step + 1) / (float)o->warmup;
    if (o->steps <= o->warmup)
        return o->lr;
    float f = (float)(step - o->warmup) / (float)(o->steps - o->warmup);
    return o->lr * (0.1f + 0.9f * 0.5f * (1.0f + cosf(3.14159265f * f)));
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static double now(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void clip_grad(sq_llama_t *g, float clip)
{
    float *p[12];
    size_t n[12];
    int cnt = sq_train_params(g, p, n);
    double ss = 0.0;
    for (int i = 0; i < cnt; i++)
        for (size_t j = 0; j < n[i]; j++)
            ss += (double)p[i][j] * p[i][j];
    double norm = sqrt(ss);
    if (clip <= 0.0f || norm <= clip)
        return;
    float f = (float)(clip / norm);
    for (int i = 0; i < cnt; i++)
        for (size_t j = 0; j < n[i]; j++)
            p[i][j] *= f;
}

static int check_opts(const sq_distill_opts_t *o)
{
    if (o->steps < 0 || o->batch < 1)
        return sq_err(SQ_ERR_ARG, "distill: steps %d / batch %d out of range", o->steps, o->batch);
    if (!(o->lr >= 0.0f) || !(o->temperature > 0.0f) || !(o->kl_weight >= 0.0f) ||
        !(o->ce_weight >= 0.0f) || !(o->weight_decay >= 0.0f) || !(o->clip >= 0.0f))
        return sq_err(SQ_ERR_ARG, "distill: lr, weights and clip must be >= 0, temperature > 0");
    if (o->kl_weight == 0.0f && o->ce_weight == 0.0f)
        return sq_err(SQ_ERR_ARG, "distill: kl_weight and ce_weight are both 0");
    return 0;
}

int sq_distill_run(const sq_llama_t *teacher, sq_llama_t *student, const sq_distill_data_t *data,
                   const sq_distill_hook_t *hook, const sq_distill_opts_t *o,
                   sq_distill_stats_t *stats)
{
    memset(stats, 0, sizeof *stats);
    const sq_llama_config_t *c = &student->cfg;
    int rc = check_opts(o);
    if (rc)
        return rc;
    if (memcmp(&teacher->cfg, c, sizeof *c))
        return sq_err(SQ_ERR_ARG, "distill: teacher and student configs differ");
    if (data->n == 0)
        return sq_err(SQ_ERR_ARG, "distill: no training sequences");
    size_t maxlen = 0;
    for (size_t i = 0; i < data->n; i++) {
        size_t len = data->off[i + 1] - data->off[i];
        if (len < 2 || len > (size_t)c->seq_len + 1)
            return sq_err(SQ_ERR_ARG, "distill: sequence %zu has %zu tokens (need 2..%d)", i, len,
                          c->seq_len + 1);
        maxlen = len > maxlen ? len : maxlen;
    }
    int positions = (int)maxlen - 1;
    sq_llama_t master = {0}, eff = {0}, grad = {0};
    sq_train_t tt = {0}, ts = {0};
    sq_adamw_t adam = {0};
    float *zt = NULL;
    if ((rc = sq_train_clone(&master, student)) || (rc = sq_llama_alloc(&eff, c)) ||
        (rc = sq_llama_alloc(&grad, c)) || (rc = sq_train_build(&tt, c, positions)) ||
        (rc = sq_train_build(&ts, c, positions)) ||
        (rc = sq_adamw_build(&adam, c, 0.9f, 0.95f, 1e-8f, o->weight_decay)))
        goto done;
    zt = malloc((size_t)positions * (size_t)c->vocab_size * sizeof *zt);
    if (!zt) {
        rc = sq_err(SQ_ERR_MEM, "distill: out of memory for teacher logits");
        goto done;
    }
    ts.act8 = o->act8;
    if ((rc = sq_train_load(&tt, teacher)) || (rc = project(hook, &master)))
        goto done;
    uint64_t rng = o->seed ? o->seed : 1;
    size_t *pick = malloc((size_t)o->batch * sizeof *pick);
    if (!pick) {
        rc = sq_err(SQ_ERR_MEM, "distill: out of memory");
        goto done;
    }
    double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    for (int step = 0; step < o->steps && !rc; step++) {
        if ((rc = sq_distill_fake(hook, &master, &eff)) || (rc = sq_train_load(&ts, &eff)))
            break;
        sq_train_zero(&grad);
        size_t total = 0;
        for (int b = 0; b < o->batch; b++) {
            pick[b] = (size_t)(rng_next(&rng) % data->n);
            total += data->off[pick[b] + 1] - data->off[pick[b]] - 1;
        }
        double loss = 0.0;
        for (int b = 0; b < o->batch && !rc; b++) {
            const int *seq = data->tok + data->off[pick[b]];
            int n = (int)(data->off[pick[b] + 1] - data->off[pick[b]]) - 1;
            if ((rc = sq_train_forward(&tt, seq, n)))
                break;
            memcpy(zt, tt.logits, (size_t)n * (size_t)c->vocab_size * sizeof *zt);
            if ((rc = sq_train_forward(&ts, seq, n)))
                break;
            loss += sq_distill_loss(ts.logits, zt, seq + 1, (size_t)n, c->vocab_size, o,
                             1.0f / (float)total, ts.dlogits);
            rc = sq_train_backward(&ts, &grad);
        }
        if (rc)
            break;
        loss /= (double)total;
        stats->tokens += total;
        if (step == 0)
            stats->first_loss = loss;
        stats->last_loss = loss;
        clip_grad(&grad, o->clip);
        sq_adamw_step(&adam, &master, &grad, sq_distill_lr(o, step));
        rc = project(hook, &master);
        if (o->progress)
            o->progress(o->progress_ctx, step + 1, o->steps, loss);
    }
    stats->seconds = now(CLOCK_MONOTONIC) - t0;
    stats->cpu_seconds = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    free(pick);
    if (!rc)
        rc = sq_distill_fake(hook, &master, student);
done:
    free(zt);
    sq_adamw_free(&adam);
    sq_train_free(&tt);
    sq_train_free(&ts);
    sq_llama_free(&grad);
    sq_llama_free(&eff);
    sq_llama_free(&master);
    return rc;
}
