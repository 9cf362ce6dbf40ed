/* Llama-architecture model: config, fp32 weights, KV-cache state, forward pass.
 *
 * RMSNorm, RoPE, grouped-query attention, SwiGLU feed-forward, optionally tied
 * classifier (as in llama2.c). Loaders fill sq_llama_t from a llama2.c
 * checkpoint (here), GGUF or .sqm (host/model, host/sqm). Every linear layer
 * goes through an sq_llama_exec_t so compression recipes and accelerator
 * levels can run the matmuls while this file keeps the rest of the math. */
#ifndef SQ_LLAMA_H
#define SQ_LLAMA_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int dim;        /* transformer width */
    int hidden_dim; /* feed-forward width */
    int n_layers;
    int n_heads;    /* query heads */
    int n_kv_heads; /* key/value heads (n_heads % n_kv_heads == 0) */
    int vocab_size;
    int seq_len;    /* context length */
    int shared_classifier; /* 1: classifier = token embedding */
    float rope_theta;      /* 10000 in llama2.c */
    float norm_eps;        /* 1e-5 in llama2.c */
} sq_llama_config_t;

/* The matrices every layer runs through sq_llama_exec_t.linear. */
typedef enum {
    SQ_W_Q, SQ_W_K, SQ_W_V, SQ_W_O, SQ_W_1, SQ_W_2, SQ_W_3, SQ_W_CLS, SQ_W_COUNT
} sq_wkind_t;

extern const char *const sq_wkind_name[SQ_W_COUNT];

typedef struct {
    float *token_embedding; /* (vocab, dim) */
    float *rms_att;         /* (layer, dim) */
    float *wq;              /* (layer, dim, dim)          out x in, row-major */
    float *wk;              /* (layer, kv_dim, dim) */
    float *wv;              /* (layer, kv_dim, dim) */
    float *wo;              /* (layer, dim, dim) */
    float *rms_ffn;         /* (layer, dim) */
    float *w1;              /* (layer, hidden, dim) */
    float *w2;              /* (layer, dim, hidden) */
    float *w3;              /* (layer, hidden, dim) */
    float *rms_final;       /* (dim) */
    float *wcls;            /* (vocab, dim); == token_embedding when shared */
} sq_llama_weights_t;

typedef struct {
    sq_llama_config_t cfg;
    sq_llama_weights_t w;
    void *storage; /* owns every weight array */
} sq_llama_t;

/* Scratch and KV cache for one sequence. */
typedef struct {
    float *x;      /* (dim) residual stream */
    float *xb;     /* (dim) */
    float *xb2;    /* (dim) */
    float *hb;     /* (hidden) */
    float *hb2;    /* (hidden) */
    float *q;      /* (dim) */
    float *att;    /* (n_heads, seq_len) */
    float *logits; /* (vocab) */
    float *key_cache;   /* (layer, seq_len, kv_dim) */
    float *value_cache; /* (layer, seq_len, kv_dim) */
} sq_llama_state_t;

/* How linear layers run: y (n) = W (n, k) x (k) for matrix `kind` of `layer`.
 * NULL exec (or NULL linear) means fp32 on the host. Returns 0 or an
 * SQ_ERR_* code. */
typedef struct {
    int (*linear)(void *ctx, int layer, sq_wkind_t kind, const float *x, float *y);
    void *ctx;
    /* Told of every op the forward pass runs on the host itself ("embedding",
     * "norm_att", "rope", "attn", "res_att", "norm_ffn", "swiglu", "res_ffn",
     * "norm"; layer -1 outside the layers), so reports can say where each op
     * ran. May be NULL. */
    void (*host_op)(void *host_ctx, int layer, const char *op);
    void *host_ctx;
    /* Causal attention of position pos in one layer: q (n_heads, head) after
     * RoPE; key/value caches (seq_len, kv_dim) of the layer, rows 0..pos
     * valid; out (dim) gets every head's output. NULL means fp32 on the
     * host; the attention unit (sparse patterns, integer softmax) plugs in
     * here. */
    int (*attention)(void *attn_ctx, int layer, int pos, const float *q,
                     const float *key_cache, const float *value_cache, float *out);
    void *attn_ctx;
    /* The whole step elsewhere (the integer layer on a device, host/sched):
     * the logits (vocab) of token at pos, its KV cache kept by the callee.
     * NULL means the forward pass of this file with the hooks above. */
    int (*forward)(void *fwd_ctx, int token, int pos, float *logits);
    void *fwd_ctx;
} sq_llama_exec_t;

/* Shape (n = outputs, k = inputs) of a matrix kind. */
void sq_llama_wshape(const sq_llama_config_t *c, sq_wkind_t kind, size_t *n, size_t *k);
/* The fp32 matrix of a kind in a layer (row-major n x k). */
const float *sq_llama_wptr(const sq_llama_t *m, int layer, sq_wkind_t kind);

/* Checks a config for absurd or inconsistent values (one error line). */
int sq_llama_config_check(const sq_llama_config_t *c);

/* Loads a llama2.c checkpoint (legacy version-0 format: 7 int32 header, fp32
 * weights; negative vocab_size means a separate classifier follows). Every
 * field and the exact file size are validated. */
int sq_llama_load(const char *path, sq_llama_t *m);
/* Allocates zeroed weight storage for cfg (for other loaders). */
int sq_llama_alloc(sq_llama_t *m, const sq_llama_config_t *cfg);
void sq_llama_free(sq_llama_t *m);

int sq_llama_state_build(sq_llama_state_t *s, const sq_llama_config_t *c);
void sq_llama_state_free(sq_llama_state_t *s);

/* y = W x in fp32 for matrix `kind` of `layer` (the host path of a linear). */
void sq_llama_linear_f32(const sq_llama_t *m, int layer, sq_wkind_t kind, const float *x,
                         float *y);

/* Runs token at position pos (0 <= pos < seq_len) and leaves the next-token
 * logits in s->logits. */
int sq_llama_forward(const sq_llama_t *m, sq_llama_state_t *s, int token, int pos,
                     const sq_llama_exec_t *ex);
/* The layers [l0, l1) of that pass, for a pipeline of several devices
 * (host/dist/pipeline.h): with l0 = 0 it starts from token's embedding, else
 * from the residual stream s->x the previous stage left; with l1 = n_layers
 * it ends with the logits, else with s->x. ex->forward is not used. */
int sq_llama_forward_layers(const sq_llama_t *m, sq_llama_state_t *s, int token, int pos,
                            int l0, int l1, const sq_llama_exec_t *ex);

#endif
