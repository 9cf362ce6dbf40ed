/* The integer layer: a compressed Llama model compiled onto the device's
 * three units (GEMM, attention, vector), every op of a token on the device
 * and one command stream per decode step (docs/integer_layer.md).
 *
 * Build (once): calibrates static ranges on calibration text with the fp32
 * model, converts the model to its device-resident integer form (fused
 * Q|K|V and W1|W3 weights in the GEMM formats with per-channel requantization
 * tables, int4 group scales as SQ_GEMM_GSCALE factors, RMSNorm gains, the
 * RoPE table, the int8 embedding table, attention quant entries), allocates
 * the KV cache (int8, (kv_heads, seq_len, head_dim) per layer) and
 * activations in device memory, and writes the decode stream: descriptors
 * with the dependencies every cross-unit hazard needs and position patches
 * (RoPE row, KV-cache row, attention length), so the same stream serves
 * every position.
 *
 * Runs: a decode step of every sequence is one run of the decode stream
 * (M = sequences in every GEMM and vector op, one KV cache per sequence,
 * the position of sequence b in run argument b); a prompt is one run of a
 * prefill stream (M = prompt tokens, causal attention over the prompt with
 * queries = M, the KV rows written by the device, the logits of the last
 * token only). Per run the host writes the token ids and reads the logits
 * (or only the argmax); nothing else crosses PCIe but a new prefill stream
 * when the prompt length changes. */
#ifndef SQ_LLAMA_INT_H
#define SQ_LLAMA_INT_H

#include <stddef.h>

#include "compress/qmodel.h"
#include "model/attn_exec.h"
#include "model/eval.h"
#include "report/report.h"
#include "runtime/device.h"

/* Column slices of the classifier at one row (a decode step of one
 * sequence, a prompt's last token): the logits of all but the last are made
 * on the vector unit while the GEMM unit streams the next slice's weights. */
#define SQ_INTLAYER_CLS_SLICES 8u

typedef struct sq_intlayer sq_intlayer_t;

/* 0 when q's layers can run as the integer layer (every linear one integer
 * leaf with per-token activations, Q/K/V and W1/W3 in one format each);
 * otherwise SQ_ERR_ARG with the reason. */
int sq_intlayer_supported(const sq_qmodel_t *q);

/* Options of a build: calibration text (stories separated by
 * <|endoftext|>, each encoded by enc and started with its start token, as
 * eval scores them; with enc NULL, a model without a tokenizer or fp32
 * linears (a dummy model), 32 fixed token ids through its
 * own integer linears instead), an optional attention pattern (ae,
 * from --attn; NULL: dense causal), the longest prompt a prefill run takes
 * (rows, 0: 1) and the sequences decoded at once (seqs, 0: 1). timing_only
 * (a level that computes no outputs, --timing-only) skips calibration: every
 * range is 1, which changes no cycle, byte or run, only values nobody reads. */
typedef struct {
    const char *calib_text;
    const sq_story_enc_t *enc;
    const sq_attn_exec_t *ae;
    int rows, seqs, timing_only;
} sq_intlayer_opts_t;

/* Compiles q for dev. rep (may be NULL) receives every descriptor's
 * counters per step. q, dev, rep and opts->ae must outlive the program. */
int sq_intlayer_build(sq_intlayer_t **out, const sq_qmodel_t *q, sq_dev_t *dev, sq_report_t *rep,
                      const sq_intlayer_opts_t *opts);
void sq_intlayer_free(sq_intlayer_t *p);

/* One decode step of every sequence: tokens[b] at pos[b] for each of the
 * seqs sequences; logits (seqs, vocab) and the device's argmax (seqs), each
 * may be NULL. Sequences at different positions take one run argument each,
 * so more than SQ_RUN_POS sequences must share one position. */
int sq_intlayer_decode(sq_intlayer_t *p, const int *tokens, const int *pos, float *logits,
                       int *argmax);
/* decode for a program of one sequence. */
int sq_intlayer_step(sq_intlayer_t *p, int token, int pos, float *logits, int *argmax);
/* The n tokens of a prompt at positions pos .. pos + n - 1 of sequence seq
 * as one run (n at most the build's rows): the logits (vocab) and argmax of
 * the last one, each may be NULL. */
int sq_intlayer_prefill(sq_intlayer_t *p, int seq, const int *tokens, int n, int pos,
                        float *logits, int *argmax);

/* Installs the step as ex's whole forward pass. */
void sq_intlayer_exec(sq_intlayer_t *p, sq_llama_exec_t *ex);

/* The compiled decode stream (device address, descriptors, host copy), and
 * the last prefill stream (NULL before the first prefill), for tests. */
const uint8_t *sq_intlayer_stream(const sq_intlayer_t *p, uint32_t *n_cmds, uint64_t *cmd_addr);
const uint8_t *sq_intlayer_prefill_stream(const sq_intlayer_t *p, uint32_t *n_cmds);

/* The calibrated fixed-point choices, for the report and tests. */
typedef struct {
    int f_res, f_ffn, f_logits; /* fractional bits: residual, SwiGLU inputs, logits */
    double res_max, ffn_max, logits_max;
    size_t calib_tokens;
} sq_intlayer_info_t;
void sq_intlayer_info(const sq_intlayer_t *p, sq_intlayer_info_t *info);

#endif
