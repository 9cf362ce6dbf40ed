/* Perplexity of a model on text, scored the way llama2.c models are trained:
 * each story is encoded with the dummy-prefix space (no BOS/EOS inside) and
 * every story token is predicted from BOS and the tokens before it. */
#ifndef SQ_EVAL_H
#define SQ_EVAL_H

#include <stddef.h>

#include "model/llama.h"
#include "model/tokenizer.h"

typedef struct {
    double nll;    /* summed negative log-likelihood, nats */
    size_t tokens; /* scored tokens */
    size_t stories;
} sq_eval_result_t;

/* Story texts in the TinyStories layout: stories separated by
 * "<|endoftext|>". Cuts the next story out of *cursor in place (the text is
 * modified), trims the newlines around it and advances *cursor; returns NULL
 * when the text is used up. A story may come back empty (""). */
char *sq_story_next(char **cursor);

/* Held-out split of one text: the non-empty stories (for an encoder, the
 * sentences) at even positions 0, 2, 4, ... are the calibration and training
 * part, those at odd positions the evaluation part, so the two never share a
 * story and both follow the file's order. */
typedef enum { SQ_PART_ALL, SQ_PART_CALIB, SQ_PART_EVAL } sq_part_t;

/* True when unit `index` (0-based) belongs to part. */
int sq_part_keeps(sq_part_t part, size_t index);

/* The stories of text in part, joined by "<|endoftext|>" (malloc'd; NULL
 * when out of memory). */
char *sq_stories_part(const char *text, sq_part_t part);

/* How many non-empty stories of b are also stories of a (the same text after
 * trimming the newlines around it); -1 when out of memory. */
long sq_stories_shared(const char *a, const char *b);

/* Called after every scored story (may be NULL). */
typedef void (*sq_eval_progress_fn)(size_t done, size_t total);

/* How a story becomes token ids: encode() writes at most cap ids (cap >
 * strlen(story) + 2 always suffices) with no start token, and every story is
 * predicted from `start` on. */
typedef struct {
    int (*encode)(const void *ctx, const char *story, int *tokens, size_t cap, int *n);
    const void *ctx;
    int start;
} sq_story_enc_t;

/* llama2.c's convention: the dummy-prefix space, BOS as start. */
void sq_story_enc_llama2(sq_story_enc_t *e, const sq_tokenizer_t *t);

/* Splits text on "<|endoftext|>", trims surrounding newlines, skips empty
 * stories, truncates each to the model's context (start + seq_len - 1
 * tokens) and accumulates into *r. */
int sq_eval_stories(const sq_llama_t *m, const sq_story_enc_t *e, const char *text,
                    const sq_llama_exec_t *ex, sq_eval_progress_fn progress, sq_eval_result_t *r);
/* sq_eval_stories with llama2.c's convention. */
int sq_eval_text(const sq_llama_t *m, const sq_tokenizer_t *t, const char *text,
                 const sq_llama_exec_t *ex, sq_eval_progress_fn progress, sq_eval_result_t *r);

#endif
