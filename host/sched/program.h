/* The compiler and its executor: a compressed Llama model, or a compressed
 * BERT encoder (all-MiniLM-L6-v2), mapped onto the accelerator's units and run
 * on any device level.
 *
 * Op mapping (the report says where each op ran):
 *   linear layers with integer weights (int8, int4 per channel or per group,
 *   2:4 int8)          -> matmul unit, one command stream per layer
 *   linear layers left fp32 or as a codebook -> host (the unit has no fp32
 *   datapath or codebook decoder)
 *   attention          -> attention unit when an integer attention pattern
 *                         is attached (sq_program_attach_attn: --attn),
 *                         else host fp32
 *   embedding, RMSNorm, RoPE, SwiGLU, residual adds -> host
 *   BERT: the six linears of each layer as above, one GEMM with m = the
 *   sentence's tokens per linear (each token's own activation scale applied
 *   to its int32 row on the host; int4-group layers run token by token);
 *   attention, LayerNorm, GELU, biases, embeddings and pooling stay fp32 on
 *   the host (not in the report)
 *
 * Memory plan, allocated once when the program is built (64-byte aligned, the
 * AXI burst): the integer weights of every layer, resident for the whole run
 * (written once); a command buffer; one activation buffer (int8, widest k) and
 * one result buffer (int32, widest n), times the encoder's max_tokens rows,
 * shared by every layer, since layers run one after another.
 *
 * Tiling: the unit tiles a descriptor itself (R x C output tiles, K in
 * SQ_GEMM_TILE_K chunks, loads double-buffered against compute); the compiler
 * splits what a descriptor cannot express: int4 groups become one descriptor
 * per k-slice (group-major weights) and any dimension beyond SQ_GEMM_MAX_DIM
 * is split along N. */
#ifndef SQ_PROGRAM_H
#define SQ_PROGRAM_H

#include "compress/bert_compress.h"
#include "compress/qmodel.h"
#include "model/attn_exec.h"
#include "report/report.h"
#include "runtime/device.h"

typedef struct sq_program sq_program_t;

/* Compiles q for dev: plans memory and uploads the weights. rep (may be NULL)
 * receives every op as it runs. q, dev and rep must outlive the program. */
int sq_program_build(sq_program_t **out, sq_qmodel_t *q, sq_dev_t *dev, sq_report_t *rep);
/* The same for the layers [l0, l1) alone (a pipeline stage, host/dist): only
 * their weights are resident, and the classifier's when l1 is the last; with
 * l0 = l1 none (a tensor split uploads its shards, sq_program_place). */
int sq_program_build_layers(sq_program_t **out, sq_qmodel_t *q, sq_dev_t *dev,
                            sq_report_t *rep, int l0, int l1);
void sq_program_free(sq_program_t *p);

/* Runs ae's integer attention on the device's attention unit: plans Q, K/V
 * cache, mask, scales and output buffers for the model's shape and points
 * ae's runner at them. Call after sq_program_build; ae must outlive p. */
int sq_program_attach_attn(sq_program_t *p, sq_attn_exec_t *ae);

/* Uploads another host array a GEMM may be handed later (a weight shard of
 * a tensor-parallel split, host/dist/parallel.h); it stays resident while
 * the program lives, and host must too. */
int sq_program_place(sq_program_t *p, const void *host, size_t bytes);

/* Bytes of host arrays resident on the device: weights, metadata, shards. */
uint64_t sq_program_weight_bytes(const sq_program_t *p);

/* Fills ex so sq_llama_forward runs the model through the program. */
void sq_program_exec(sq_program_t *p, sq_llama_exec_t *ex);

/* The same for an encoder: q's integer layers on dev, the report counting
 * tokens at layer 0. q, dev and rep must outlive the program. */
int sq_program_build_bert(sq_program_t **out, sq_bert_qmodel_t *q, sq_dev_t *dev,
                          sq_report_t *rep);
/* Fills ex so sq_bert_forward/sq_bert_embed run the encoder through the
 * program. */
void sq_program_bert_exec(sq_program_t *p, sq_bert_exec_t *ex);

#endif
