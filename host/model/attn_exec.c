/* Attention hook for the model forward (contract in model/attn_exec.h). */
#include "model/attn_exec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static int parse_spec(sq_attn_exec_t *ae, const char *spec, double *density)
{
    char buf[256];
    if (strlen(spec) >= sizeof buf)
        return sq_err(SQ_ERR_ARG, "attention spec too long");
    strcpy(buf, spec);
    *density = 0.0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        char *end = NULL;
        double val = 0.0;
        if (colon) {
            *colon = 0;
            val = strtod(colon + 1, &end);
            if (end == colon + 1 || *end || !(val > 0))
                return sq_err(SQ_ERR_ARG, "attention spec '%s': '%s' needs a positive value",
                              spec, tok);
        }
        int is_int = colon && val == floor(val) && val <= SQ_ATTN_MAX_SEQ;
        if (!strcmp(tok, "dense") && !colon) {
            continue;
        } else if (!strcmp(tok, "fp32") && !colon) {
            ae->fp32 = 1;
        } else if (!strcmp(tok, "window") && is_int) {
            ae->flags |= SQ_ATTN_WINDOW;
            ae->window = (uint32_t)val;
        } else if (!strcmp(tok, "global") && is_int) {
            ae->flags |= SQ_ATTN_GLOBAL;
            ae->n_global = (uint32_t)val;
        } else if (!strcmp(tok, "topk") && is_int) {
            ae->flags |= SQ_ATTN_TOPK;
            ae->topk = (uint32_t)val;
        } else if (!strcmp(tok, "block") && colon && val <= 1.0) {
            ae->flags |= SQ_ATTN_BLOCK;
            *density = val;
        } else {
            return sq_err(SQ_ERR_ARG,
                          "attention spec '%s': unknown or malformed '%s' (dense, fp32, window:W, "
                          "global:N, block:D with 0<D<=1, topk:K)",
                          spec, tok);
        }
    }
    return 0;
}

int sq_attn_exec_init(sq_attn_exec_t *ae, const sq_llama_config_t *c, const char *spec,
                      uint64_t seed)
{
    memset(ae, 0, sizeof *ae);
    ae->flags = SQ_ATTN_CAUSAL;
    double density;
    int rc = parse_spec(ae, spec, &density);
    if (rc)
        return rc;
    int hs = c->dim / c->n_heads;
    if (c->seq_len > (int)SQ_ATTN_MAX_SEQ || hs > (int)SQ_ATTN_MAX_DIM || c->n_heads > (int)SQ_ATTN_MAX_HEADS)
        return sq_err(SQ_ERR_ARG, "model attention (context %d, head %d) exceeds the attention unit",
                      c->seq_len, hs);
    ae->n_heads = c->n_heads;
    ae->n_kv_heads = c->n_kv_heads;
    ae->head_dim = hs;
    ae->seq_len = c->seq_len;
    size_t kv = (size_t)c->n_kv_heads * c->seq_len * hs, qn = (size_t)c->n_heads * hs;
    uint32_t nb = sq_attn_blocks((uint32_t)c->seq_len);
    ae->mask = calloc((size_t)nb * SQ_ATTN_MASK_ROW_BYTES, 1);
    ae->kf = malloc(kv * sizeof(float));
    ae->vf = malloc(kv * sizeof(float));
    ae->qf = malloc(qn * sizeof(float));
    ae->of = malloc(qn * sizeof(float));
    ae->k8 = malloc(kv);
    ae->v8 = malloc(kv);
    ae->q8 = malloc(qn);
    ae->o8 = malloc(qn);
    ae->quant = malloc((size_t)c->n_heads * sizeof *ae->quant);
    if (!ae->mask || !ae->kf || !ae->vf || !ae->qf || !ae->of || !ae->k8 || !ae->v8 || !ae->q8 ||
        !ae->o8 || !ae->quant) {
        sq_attn_exec_free(ae);
        return sq_err(SQ_ERR_MEM, "out of memory for attention scratch");
    }
    uint64_t rng = seed * 2654435761u + 1;
    for (uint32_t qb = 0; qb < nb; qb++)
        for (uint32_t kb = 0; kb < nb; kb++)
            if (kb == qb || (double)(xorshift(&rng) >> 11) * 0x1.0p-53 < density)
                ae->mask[qb * SQ_ATTN_MASK_ROW_BYTES + kb / 8] |= (uint8_t)(1u << (kb % 8));
    return 0;
}

void sq_attn_exec_free(sq_attn_exec_t *ae)
{
    if (!ae)
        return;
    free(ae->mask);
    free(ae->kf);
    free(ae->vf);
    free(ae->qf);
    free(ae->of);
    free(ae->k8);
    free(ae->v8);
    free(ae->q8);
    free(ae->o8);
    free(ae->quant);
    memset(ae, 0, sizeof *ae);
}

static int hook(void *ctx, int layer, int pos, const float *q, const float *key_cache,
                const float *value_cache, float *out)
{
    sq_attn_exec_t *ae = ctx;
    int hs = ae->head_dim, kvd = ae->n_kv_heads * hs;
    uint32_t seq = (uint32_t)pos + 1;
    for (int g = 0; g < ae->n_kv_heads; g++)
        for (uint32_t t = 0; t < seq; t++) {
            size_t dst = ((size_t)g * ae->seq_len + t) * hs, src = (size_t)t * kvd + (size_t)g * hs;
            memcpy(ae->kf + dst, key_cache + src, (size_t)hs * sizeof(float));
            memcpy(ae->vf + dst, value_cache + src, (size_t)hs * sizeof(float));
        }
    sq_attn_t a = {.flags = ae->flags, .seq = seq, .queries = 1, .heads = (uint32_t)ae->n_heads,
                   .kv_heads = (uint32_t)ae->n_kv_heads, .head_dim = (uint32_t)hs,
                   .kv_cap = (uint32_t)ae->seq_len, .window = ae->window,
                   .n_global = ae->n_global, .topk = ae->topk, .q = ae->q8, .k = ae->k8,
                   .v = ae->v8, .mask = ae->mask, .quant = ae->quant, .o = ae->o8};
    if (sq_attn_f32(&a, q, ae->kf, ae->vf, ae->of) != 0)
        return sq_err(SQ_ERR_ARG, "attention: position %d outside the unit's limits", pos);
    if (ae->fp32) {
        memcpy(out, ae->of, (size_t)ae->n_heads * hs * sizeof(float));
        return 0;
    }
    /* per-head scales: Q per query head, K and V per KV head over the cache */
    float sk[SQ_ATTN_MAX_HEADS], sv[SQ_ATTN_MAX_HEADS];
    for (int g = 0; g < ae->n_kv_heads; g++) {
        size_t off = (size_t)g * ae->seq_len * hs;
        sk[g] = sq_quant_i8(ae->kf + off, (size_t)seq * hs, ae->k8 + off);
        sv[g] = sq_quant_i8(ae->vf + off, (size_t)seq * hs, ae->v8 + off);
    }
    int group = ae->n_heads / ae->n_kv_heads;
    for (int h = 0; h < ae->n_heads; h++) {
        float sq = sq_quant_i8(q + (size_t)h * hs, (size_t)hs, ae->q8 + (size_t)h * hs);
        int g = h / group;
        /* O is a convex combination of V rows, so V's scale covers it */
        if (sq_attn_quant_make(sq, sk[g], sv[g], sv[g], (uint32_t)hs, &ae->quant[h]) != 0)
            return sq_err(SQ_ERR_ARG, "attention: scales of head %d not representable", h);
    }
    sq_attn_work_t w = {0, 0};
    if (ae->runner.run) {
        int rc = ae->runner.run(ae->runner.ctx, layer, &a, &w);
        if (rc)
            return rc;
    } else if (sq_attn_ref(&a, &w) != 0) {
        return sq_err(SQ_ERR_ARG, "attention: rejected by the golden reference");
    }
    ae->scored += w.scored;
    ae->selected += w.selected;
    ae->dense += (uint64_t)seq * ae->n_heads;
    for (int h = 0; h < ae->n_heads; h++) {
        float so = sv[h / group];
        for (int i = 0; i < hs; i++) {
            size_t at = (size_t)h * hs + i;
            out[at] = (float)ae->o8[at] * so;
            double err = fabs((double)out[at] - ae->of[at]);
            ae->err_max = err > ae->err_max ? err : ae->err_max;
            ae->err_sum += err;
            ae->ref_abs_sum += fabs(ae->of[at]);
            ae->err_n++;
        }
    }
    return 0;
}

void sq_attn_exec_install(sq_attn_exec_t *ae, sq_llama_exec_t *ex)
{
    ex->attention = hook;
    ex->attn_ctx = ae;
}
