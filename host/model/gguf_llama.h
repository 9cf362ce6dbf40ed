/* A Llama-architecture GGUF (general.architecture "llama", e.g. SmolLM2)
 * as an fp32 sq_llama_t: config from the llama.* keys, every tensor
 * dequantized (F32, F16, BF16, Q4_0, Q4_1, Q8_0). GGUF stores Q and K
 * permuted for RoPE on adjacent pairs, which is what sq_llama_forward
 * rotates, so no un-permuting is needed. */
#ifndef SQ_GGUF_LLAMA_H
#define SQ_GGUF_LLAMA_H

#include "model/gguf.h"
#include "model/llama.h"

/* max_seq > 0 caps the context (and so the KV cache) below the file's
 * llama.context_length. Checks every tensor's presence, type and shape. */
int sq_gguf_load_llama(const sq_gguf_t *g, int max_seq, sq_llama_t *m);

/* True when the file starts with the GGUF magic. */
int sq_gguf_is_file(const char *path);

#endif
