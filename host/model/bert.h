/* BERT encoder (fp32) and sentence embeddings, as all-MiniLM-L6-v2 runs it
 * in sentence-transformers: embeddings (word + absolute position + token type
 * 0) -> LayerNorm -> n_layers x [self-attention, residual, LayerNorm, GELU
 * feed-forward, residual, LayerNorm] -> mean over tokens -> L2 normalisation.
 * Loaded from a Hugging Face directory (config.json, model.safetensors,
 * vocab.txt) or a model.safetensors path whose directory holds the others. */
#ifndef SQ_BERT_H
#define SQ_BERT_H

#include <stddef.h>
#include <stdint.h>

#include "model/llama.h"
#include "model/wordpiece.h"

typedef struct {
    int vocab_size;
    int dim;        /* hidden_size */
    int n_layers;
    int n_heads;
    int hidden_dim; /* intermediate_size */
    int max_pos;    /* max_position_embeddings */
    int n_types;    /* type_vocab_size */
    float norm_eps; /* layer_norm_eps */
} sq_bert_config_t;

typedef struct {
    float *word_emb;  /* (vocab, dim) */
    float *pos_emb;   /* (max_pos, dim) */
    float *type_emb;  /* (n_types, dim) */
    float *emb_ln_w, *emb_ln_b; /* (dim) */
    float *wq, *wk, *wv, *wo;   /* (layer, dim, dim)  out x in */
    float *bq, *bk, *bv, *bo;   /* (layer, dim) */
    float *ln1_w, *ln1_b;       /* (layer, dim) after attention */
    float *w1;                  /* (layer, hidden, dim) */
    float *b1;                  /* (layer, hidden) */
    float *w2;                  /* (layer, dim, hidden) */
    float *b2;                  /* (layer, dim) */
    float *ln2_w, *ln2_b;       /* (layer, dim) after the feed-forward */
} sq_bert_weights_t;

typedef struct {
    sq_bert_config_t cfg;
    sq_bert_weights_t w;
    sq_wp_t *tok;
    size_t max_tokens; /* truncation length, [CLS] and [SEP] included */
    float *storage;
} sq_bert_t;

/* path: a directory, or a .safetensors file in one. Checks config.json
 * (BERT, GELU, absolute positions) and every tensor's name and shape. */
int sq_bert_load(const char *path, sq_bert_t *m);
void sq_bert_free(sq_bert_t *m);

/* How the encoder's linear layers run, with the matrix kinds of the Llama
 * path (SQ_W_Q, SQ_W_K, SQ_W_V, SQ_W_O; SQ_W_1 the intermediate (up) and
 * SQ_W_2 the output (down) projection of the feed-forward): y (rows, n) =
 * x (rows, k) . W^T for a matrix (n, k), one row per token; the forward pass
 * adds the bias itself. NULL exec (or NULL linear) means fp32 on the host.
 * Returns 0 or an SQ_ERR_* code. */
typedef struct {
    int (*linear)(void *ctx, int layer, sq_wkind_t kind, const float *x, size_t rows, float *y);
    void *ctx;
    /* The whole encoder somewhere else (the integer encoder on a device,
     * sched/bert_int.h): hidden (n, dim) of n token ids. NULL means the
     * forward pass of this file with the hook above. */
    int (*forward)(void *fwd_ctx, const int32_t *ids, size_t n, float *hidden);
    void *fwd_ctx;
} sq_bert_exec_t;

/* Shape (n = outputs, k = inputs) and fp32 matrix of one of the six kinds
 * above (NULL for the kinds BERT has not: SQ_W_3, SQ_W_CLS). */
void sq_bert_wshape(const sq_bert_config_t *c, sq_wkind_t kind, size_t *n, size_t *k);
const float *sq_bert_wptr(const sq_bert_t *m, int layer, sq_wkind_t kind);
/* y = x . W^T in fp32, without the bias (the host path of a linear). */
void sq_bert_linear_f32(const sq_bert_t *m, int layer, sq_wkind_t kind, const float *x,
                        size_t rows, float *y);

/* Encoder over n token ids (n <= max_pos, type 0): hidden is (n, dim). */
int sq_bert_forward(const sq_bert_t *m, const int32_t *ids, size_t n, float *hidden,
                    const sq_bert_exec_t *ex);

/* Tokenizes text, runs the encoder, mean-pools and L2-normalises into
 * emb (dim). n_tokens (may be NULL) receives the token count. */
int sq_bert_embed(const sq_bert_t *m, const char *text, float *emb, size_t *n_tokens,
                  const sq_bert_exec_t *ex);

#endif
