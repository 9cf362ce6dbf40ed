/* BPE tokenizer in llama2.c's tokenizer.bin format (SentencePiece-derived
 * vocabulary with merge scores and <0xHH> byte-fallback tokens). */
#ifndef SQ_TOKENIZER_H
#define SQ_TOKENIZER_H

#include <stddef.h>

#define SQ_TOK_BOS 1
#define SQ_TOK_EOS 2

typedef struct {
    int vocab_size;
    char **vocab;      /* (vocab_size) NUL-terminated pieces */
    float *scores;     /* (vocab_size) merge priority */
    int max_token_length;
    int *sorted;       /* (vocab_size) token ids sorted by piece, for lookup */
    int byte_tokens[256]; /* id of <0xHH>, or -1 */
} sq_tokenizer_t;

/* Loads path, which must hold exactly vocab_size entries (the model's). */
int sq_tokenizer_load(const char *path, int vocab_size, sq_tokenizer_t *t);
void sq_tokenizer_free(sq_tokenizer_t *t);

/* Encodes text as llama2.c does: optional BOS, a dummy-prefix space before
 * non-empty text, UTF-8 code points looked up as pieces (unknown ones fall back
 * to byte tokens), then greedy merges by score; optional EOS. tokens must have
 * room for strlen(text) + 3 ids. */
int sq_tokenizer_encode(const sq_tokenizer_t *t, const char *text, int bos, int eos, int *tokens,
                        int *n_tokens);

/* The text of `token` following `prev`: drops the leading space after BOS and
 * turns byte tokens into their byte. Returns a pointer into t or to buf (>= 2
 * bytes). */
const char *sq_tokenizer_decode(const sq_tokenizer_t *t, int prev, int token, char buf[2]);

#endif
