/* GPT-2 style byte-level BPE tokenizer built from GGUF metadata
 * (tokenizer.ggml.model "gpt2": tokens, merges, token_type, bos/eos ids),
 * as Hugging Face tokenizers and llama.cpp run it for SmolLM2:
 *   1. with parse_special, control and user-defined tokens written in the
 *      text (e.g. "<|im_start|>") become their ids;
 *   2. pre-tokenizer "smollm": every number character (Unicode N*) is a chunk
 *      of its own; then (both "smollm" and "gpt2") the GPT-2 split
 *      's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+;
 *   3. each chunk's bytes are mapped to printable code points (GPT-2's
 *      bytes_to_unicode) and merged pairwise, lowest merge rank first
 *      (leftmost on ties), then looked up in the vocabulary.
 * No BOS is added (SmolLM2's add_bos_token is false). */
#ifndef SQ_BPE_H
#define SQ_BPE_H

#include <stddef.h>
#include <stdint.h>

#include "model/gguf.h"

typedef struct sq_bpe sq_bpe_t;

/* Copies what it needs: g may be freed afterwards. */
int sq_bpe_from_gguf(const sq_gguf_t *g, sq_bpe_t **out);
void sq_bpe_free(sq_bpe_t *t);

size_t sq_bpe_vocab_size(const sq_bpe_t *t);
int32_t sq_bpe_bos(const sq_bpe_t *t);
int32_t sq_bpe_eos(const sq_bpe_t *t);
/* Id of a token string, or -1. */
int32_t sq_bpe_id(const sq_bpe_t *t, const char *token);

/* Encodes NUL-terminated UTF-8 text; ids must hold cap entries (strlen(text)
 * always suffices). SQ_ERR_ARG when cap is too small. */
int sq_bpe_encode(const sq_bpe_t *t, const char *text, int parse_special, int32_t *ids,
                  size_t cap, size_t *n);

/* The bytes of token id (byte-level mapping undone); NUL-terminated in buf
 * (cap >= 4 * longest token + 1 always suffices). Returns the length, or -1
 * for an id out of range. */
long sq_bpe_decode(const sq_bpe_t *t, int32_t id, char *buf, size_t cap);

#endif
