/* BERT uncased WordPiece tokenizer, as Hugging Face tokenizers'
 * BertNormalizer + BertPreTokenizer + WordPiece run it for all-MiniLM-L6-v2:
 *   1. drop NUL, U+FFFD and control/format/unassigned/private-use code points,
 *      map whitespace to ' ', put spaces around CJK ideographs;
 *   2. per code point: canonical decomposition (NFD), nonspacing marks (Mn)
 *      dropped (accent stripping), lowercase;
 *   3. split on whitespace, then every punctuation character (Unicode P* and
 *      all ASCII symbols) is a word of its own;
 *   4. each word: greedy longest-prefix match against the vocabulary, later
 *      pieces prefixed "##"; a word longer than 100 code points or with an
 *      unmatchable rest becomes [UNK];
 *   5. [CLS] words [SEP], truncated to max_tokens.
 * Known difference: Greek final sigma is lowercased to σ, not ς (the
 * context-dependent rule); invalid UTF-8 bytes are dropped like U+FFFD. */
#ifndef SQ_WORDPIECE_H
#define SQ_WORDPIECE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sq_wp sq_wp_t;

/* vocab.txt: one token per line, id = line number from 0; tokens must be
 * non-empty, valid UTF-8 and unique, and [CLS], [SEP], [UNK] present. */
int sq_wp_load(const char *vocab_path, sq_wp_t **out);
/* Same from memory (text need not be NUL-terminated; not retained). */
int sq_wp_parse(const char *text, size_t n, sq_wp_t **out);
void sq_wp_free(sq_wp_t *wp);

size_t sq_wp_vocab_size(const sq_wp_t *wp);
/* Token string of an id, or NULL when out of range. */
const char *sq_wp_token(const sq_wp_t *wp, int32_t id);
/* Id of a token string, or -1. */
int32_t sq_wp_id(const sq_wp_t *wp, const char *token);

/* Tokenizes text (UTF-8, NUL-terminated) into at most max_tokens ids
 * (max_tokens >= 2), [CLS] first and [SEP] last. */
int sq_wp_encode(const sq_wp_t *wp, const char *text, size_t max_tokens, int32_t *ids,
                 size_t *n_ids);

#endif
