#include "model/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define SEPARATOR "<|endoftext|>"

static size_t count_stories(const char *text)
{
    size_t n = 1;
    for (const char *p = text; (p = strstr(p, SEPARATOR)); p += strlen(SEPARATOR))
        n++;
    return n;
}

char *sq_story_next(char **cursor)
{
    char *story = *cursor;
    if (!story)
        return NULL;
    char *sep = strstr(story, SEPARATOR);
    if (sep)
        *sep = 0;
    *cursor = sep ? sep + strlen(SEPARATOR) : NULL;
    while (*story == '\n' || *story == '\r')
        story++;
    size_t len = strlen(story);
    while (len && (story[len - 1] == '\n' || story[len - 1] == '\r'))
        story[--len] = 0;
    return story;
}

int sq_part_keeps(sq_part_t part, size_t index)
{
    return part == SQ_PART_ALL || (part == SQ_PART_CALIB) == (index % 2 == 0);
}

char *sq_stories_part(const char *text, sq_part_t part)
{
    char *copy = strdup(text);
    char *out = malloc(strlen(text) + count_stories(text) * (strlen(SEPARATOR) + 1) + 1);
    if (!copy || !out) {
        free(copy);
        free(out);
        return NULL;
    }
    out[0] = 0;
    size_t index = 0, len = 0;
    char *p = copy, *story;
    while ((story = sq_story_next(&p))) {
        if (!*story)
            continue;
        if (sq_part_keeps(part, index++)) {
            if (len) {
                memcpy(out + len, SEPARATOR "\n", strlen(SEPARATOR) + 1);
                len += strlen(SEPARATOR) + 1;
            }
            size_t sl = strlen(story);
            memcpy(out + len, story, sl + 1);
            len += sl;
        }
    }
    free(copy);
    return out;
}

long sq_stories_shared(const char *a, const char *b)
{
    char *ca = strdup(a), *cb = strdup(b);
    size_t na = count_stories(a);
    char **sa = malloc(na * sizeof *sa);
    long shared = -1;
    if (ca && cb && sa) {
        size_t n = 0;
        char *p = ca, *story;
        while ((story = sq_story_next(&p)))
            if (*story)
                sa[n++] = story;
        shared = 0;
        for (p = cb; (story = sq_story_next(&p));) {
            for (size_t i = 0; *story && i < n; i++)
                if (!strcmp(sa[i], story)) {
                    shared++;
                    break;
                }
        }
    }
    free(ca);
    free(cb);
    free(sa);
    return shared;
}

static int encode_llama2(const void *ctx, const char *story, int *tokens, size_t cap, int *n)
{
    (void)cap; /* strlen + 3 is what sq_tokenizer_encode needs */
    return sq_tokenizer_encode(ctx, story, 0, 0, tokens, n);
}

void sq_story_enc_llama2(sq_story_enc_t *e, const sq_tokenizer_t *t)
{
    *e = (sq_story_enc_t){.encode = encode_llama2, .ctx = t, .start = SQ_TOK_BOS};
}

static int score_story(const sq_llama_t *m, const sq_story_enc_t *e, const char *story,
                       const sq_llama_exec_t *ex, sq_llama_state_t *s, sq_eval_result_t *r)
{
    size_t cap = strlen(story) + 3;
    int *tokens = malloc(cap * sizeof(int));
    if (!tokens)
        return sq_err(SQ_ERR_MEM, "eval: out of memory");
    int n = 0;
    int rc = e->encode(e->ctx, story, tokens, cap, &n);
    if (n > m->cfg.seq_len - 1)
        n = m->cfg.seq_len - 1;
    int prev = e->start;
    for (int pos = 0; !rc && pos < n; pos++) {
        rc = sq_llama_forward(m, s, prev, pos, ex);
        if (rc)
            break;
        /* log-softmax of the true next token, max-subtracted for range */
        const float *lg = s->logits;
        float max = lg[0];
        for (int i = 1; i < m->cfg.vocab_size; i++)
            if (lg[i] > max)
                max = lg[i];
        double sum = 0.0;
        for (int i = 0; i < m->cfg.vocab_size; i++)
            sum += exp((double)(lg[i] - max));
        r->nll += log(sum) - (double)(lg[tokens[pos]] - max);
        r->tokens++;
        prev = tokens[pos];
    }
    free(tokens);
    return rc;
}

int sq_eval_text(const sq_llama_t *m, const sq_tokenizer_t *t, const char *text,
                 const sq_llama_exec_t *ex, sq_eval_progress_fn progress, sq_eval_result_t *r)
{
    sq_story_enc_t e;
    sq_story_enc_llama2(&e, t);
    return sq_eval_stories(m, &e, text, ex, progress, r);
}

int sq_eval_stories(const sq_llama_t *m, const sq_story_enc_t *e, const char *text,
                    const sq_llama_exec_t *ex, sq_eval_progress_fn progress, sq_eval_result_t *r)
{
    memset(r, 0, sizeof *r);
    sq_llama_state_t s;
    int rc = sq_llama_state_build(&s, &m->cfg);
    if (rc)
        return rc;
    char *copy = strdup(text);
    if (!copy) {
        sq_llama_state_free(&s);
        return sq_err(SQ_ERR_MEM, "eval: out of memory");
    }
    size_t total = count_stories(text), done = 0;
    char *p = copy, *story;
    while (!rc && (story = sq_story_next(&p))) {
        if (*story) {
            rc = score_story(m, e, story, ex, &s, r);
            r->stories++;
        }
        if (progress)
            progress(++done, total);
    }
    free(copy);
    sq_llama_state_free(&s);
    if (!rc && r->tokens == 0)
        return sq_err(SQ_ERR_ARG, "eval: the text has no tokens to score");
    return rc;
}
