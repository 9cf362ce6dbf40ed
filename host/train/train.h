/* Training forward and backward pass of the Llama architecture over whole
 * sequences (RMSNorm, RoPE, grouped-query causal attention, SwiGLU, tied or
 * separate classifier), plus AdamW over every weight of an sq_llama_t.
 *
 * The math is the same as sq_llama_forward (host/model/llama.c) but runs all
 * positions of a sequence at once and keeps every activation the backward
 * pass needs. Gradients live in an sq_llama_t of the same config (allocated
 * with sq_llama_alloc), so a shared classifier accumulates into the token
 * embedding exactly as it is stored. */
#ifndef SQ_TRAIN_H
#define SQ_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "model/llama.h"

/* Activations of one layer over a sequence of n positions (n <= max_len). */
typedef struct {
    float *x;    /* (len, dim) residual stream entering the layer */
    float *xn1;  /* (len, dim) attention RMSNorm output (int8-rounded with act8) */
    float *r1;   /* (len) its 1/rms */
    float *q;    /* (len, dim) queries after RoPE */
    float *k;    /* (len, kv_dim) keys after RoPE */
    float *v;    /* (len, kv_dim) */
    float *p;    /* (n_heads, len, len) attention probabilities, causal */
    float *ao;   /* (len, dim) attention output entering wo */
    float *xm;   /* (len, dim) residual stream after attention */
    float *xn2;  /* (len, dim) feed-forward RMSNorm output */
    float *r2;   /* (len) */
    float *h1;   /* (len, hidden) w1 x */
    float *h3;   /* (len, hidden) w3 x */
    float *hg;   /* (len, hidden) silu(h1) * h3, entering w2 */
} sq_train_layer_t;

typedef struct {
    sq_llama_config_t cfg;
    int max_len;
    int act8;            /* 1: every linear layer's input row is rounded to the
                          * int8 grid per token (sq_quant_i8), as the w8a8
                          * recipe does at inference; the backward pass treats
                          * the rounding as identity (straight-through) */
    const sq_llama_t *m; /* weights of the last sq_train_load */
    float *wt;           /* every linear matrix transposed (k, n), for the forward */
    float *rope_cos;     /* (max_len, head_size / 2) */
    float *rope_sin;
    sq_train_layer_t *layers; /* (n_layers) */
    int *tokens;         /* (max_len) input tokens of the last forward */
    int len;             /* positions of the last forward */
    float *xo;           /* (len, dim) residual stream after the last layer */
    float *rf;           /* (len) final 1/rms */
    float *xf;           /* (len, dim) final RMSNorm output, entering the classifier */
    float *logits;       /* (len, vocab) */
    float *dlogits;      /* (len, vocab) loss gradient, filled by the caller */
    void *scratch;       /* backward buffers */
} sq_train_t;

/* Allocates activations for sequences of up to max_len positions
 * (1 <= max_len <= cfg->seq_len). */
int sq_train_build(sq_train_t *t, const sq_llama_config_t *cfg, int max_len);
void sq_train_free(sq_train_t *t);

/* Takes m's weights for the following forward/backward calls (m must stay
 * unchanged and alive until the next sq_train_load). */
int sq_train_load(sq_train_t *t, const sq_llama_t *m);

/* Runs tokens[0..n-1] at positions 0..n-1 and leaves the next-token logits
 * of every position in t->logits. */
int sq_train_forward(sq_train_t *t, const int *tokens, int n);

/* Adds the gradient of the loss whose logit gradient the caller put in
 * t->dlogits (t->len rows) to every weight of g (same config as the loaded
 * model). Needs the preceding sq_train_forward. */
int sq_train_backward(sq_train_t *t, sq_llama_t *g);

/* Every trainable array of m, in storage order (a shared classifier is listed
 * once, as the token embedding). Returns the count (at most 12); p[i] gets
 * the array and n[i] its length. */
int sq_train_params(const sq_llama_t *m, float *p[12], size_t n[12]);

/* Allocates a copy of src (weights only, same config). */
int sq_train_clone(sq_llama_t *dst, const sq_llama_t *src);
/* Copies every weight of src into dst (same config). */
void sq_train_copy(sq_llama_t *dst, const sq_llama_t *src);
/* Sets every weight of m to zero. */
void sq_train_zero(sq_llama_t *m);

/* AdamW with bias correction; weight decay applies to matrices only (the
 * RMSNorm gains are left alone, as in llama2.c's training). */
typedef struct {
    float beta1, beta2, eps, weight_decay;
    long step;          /* completed steps */
    sq_llama_t m1, m2;  /* first and second moments */
} sq_adamw_t;

int sq_adamw_build(sq_adamw_t *a, const sq_llama_config_t *cfg, float beta1, float beta2,
                   float eps, float weight_decay);
void sq_adamw_free(sq_adamw_t *a);
/* One update of w with gradient g, at learning rate lr. */
void sq_adamw_step(sq_adamw_t *a, sq_llama_t *w, const sq_llama_t *g, float lr);
/* The same update on one array of n values, moments m1/m2, at step `step`
 * (1 for the first), weight decay wd. */
void sq_adamw_update(float *w, const float *g, float *m1, float *m2, size_t n, long step,
                     float lr, float wd, float beta1, float beta2, float eps);

#endif
