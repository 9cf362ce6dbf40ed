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

/* Called after every scored story (may be NULL). */
typedef void (*sq_eval_progress_fn)(size_t done, size_t total);

/* Splits text on "<|endoftext|>", trims surrounding newlines, skips empty
 * stories, truncates each to the model's context (BOS + seq_len - 1 tokens)
 * and accumulates into *r. */
int sq_eval_text(const sq_llama_t *m, const sq_tokenizer_t *t, const char *text,
                 const sq_llama_exec_t *ex, sq_eval_progress_fn progress, sq_eval_result_t *r);

#endif
