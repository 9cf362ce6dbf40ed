/* The attention unit inside a model: an sq_llama_exec_t attention hook that
 * runs each position's causal attention through the golden integer attention
 * (include/sparq/attn.h: int8 Q/K/V with per-head scales, integer softmax)
 * with a sparsity pattern, and measures its error against fp32 attention
 * with the same pattern on the real activations it sees.
 *
 * Pattern spec (comma-separated, as in `sparq eval --attn`):
 *   dense          no pattern beyond causality (the default)
 *   window:W       sliding window of W positions
 *   global:N       the first N positions are global
 *   block:D        block bitmap of density D in (0, 1] over SQ_ATTN_BLK
 *                  blocks; diagonal blocks are always kept so every query
 *                  sees itself (random, seeded, the same for every layer)
 *   topk:K         keep the K largest scores per query
 *   fp32           run fp32 attention with the pattern instead of integer
 * e.g. "window:64,global:4". Causality is always on (decoder models). */
#ifndef SQ_ATTN_EXEC_H
#define SQ_ATTN_EXEC_H

#include <stdint.h>

#include "model/llama.h"
#include "sparq/attn.h"

/* Where the integer attention runs: run == NULL means the golden reference on
 * the host (sq_attn_ref); the compiler (host/sched) points it at the device's
 * attention unit. It fills *w like sq_attn_ref. */
typedef struct {
    int (*run)(void *ctx, int layer, const sq_attn_t *a, sq_attn_work_t *w);
    void *ctx;
} sq_attn_runner_t;

typedef struct {
    uint32_t flags, window, n_global, topk;
    int fp32;
    /* Accuracy of the integer path against fp32 with the same pattern over
     * every output element seen: max/sum of |O_int - O_fp32| and sum |O_fp32|. */
    double err_max, err_sum, ref_abs_sum;
    uint64_t err_n;
    /* work: (query, key) pairs scored and selected vs causal dense pairs */
    uint64_t scored, selected, dense;
    int n_heads, n_kv_heads, head_dim, seq_len;
    uint8_t *mask;       /* (nb, SQ_ATTN_MASK_ROW_BYTES) */
    float *kf, *vf, *qf, *of; /* (kv_heads, seq_len, head) and (heads, head) */
    int8_t *k8, *v8, *q8, *o8;
    sq_attn_quant_t *quant;
    sq_attn_runner_t runner;
} sq_attn_exec_t;

/* Parses spec for a model config; seed drives the block bitmap. On a bad
 * spec returns SQ_ERR_ARG with the reason. Free with sq_attn_exec_free. */
int sq_attn_exec_init(sq_attn_exec_t *ae, const sq_llama_config_t *c, const char *spec,
                      uint64_t seed);
void sq_attn_exec_free(sq_attn_exec_t *ae);
/* Points ex's attention hook at ae (ae must outlive every forward). */
void sq_attn_exec_install(sq_attn_exec_t *ae, sq_llama_exec_t *ex);

#endif
