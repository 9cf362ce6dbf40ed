#include "model/tokenizer.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

static const sq_tokenizer_t *sort_ctx;

static int cmp_piece(const void *a, const void *b)
{
    return strcmp(sort_ctx->vocab[*(const int *)a], sort_ctx->vocab[*(const int *)b]);
}

/* The byte a piece "<0xHH>" stands for (exactly two hex digits), or -1.
 * Parsed by hand: sscanf's %X accepts a sign and a shorter field, so
 * "<0x-1>" would give 0xFFFFFFFF. */
static int byte_piece(const char *s)
{
    if (strncmp(s, "<0x", 3) || !isxdigit((unsigned char)s[3]) ||
        !isxdigit((unsigned char)s[4]) || s[5] != '>' || s[6])
        return -1;
    char hex[3] = {s[3], s[4], 0};
    return (int)strtol(hex, NULL, 16);
}

void sq_tokenizer_free(sq_tokenizer_t *t)
{
    if (!t)
        return;
    if (t->vocab)
        for (int i = 0; i < t->vocab_size; i++)
            free(t->vocab[i]);
    free(t->vocab);
    free(t->scores);
    free(t->sorted);
    memset(t, 0, sizeof *t);
}

int sq_tokenizer_load(const char *path, int vocab_size, sq_tokenizer_t *t)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f)
        return sq_err(SQ_ERR_IO, "cannot open tokenizer '%s': %s", path, strerror(errno));
    int rc = 0;
    int32_t maxlen;
    if (fread(&maxlen, sizeof maxlen, 1, f) != 1) {
        rc = sq_err(SQ_ERR_FMT, "tokenizer '%s': truncated header", path);
        goto out;
    }
    if (maxlen <= 0 || maxlen > 4096) {
        rc = sq_err(SQ_ERR_FMT, "tokenizer '%s': max token length %d out of range [1, 4096]",
                    path, maxlen);
        goto out;
    }
    t->vocab_size = vocab_size;
    t->max_token_length = maxlen;
    t->vocab = calloc((size_t)vocab_size, sizeof(char *));
    t->scores = calloc((size_t)vocab_size, sizeof(float));
    t->sorted = calloc((size_t)vocab_size, sizeof(int));
    if (!t->vocab || !t->scores || !t->sorted) {
        rc = sq_err(SQ_ERR_MEM, "tokenizer: out of memory");
        goto out;
    }
    for (int i = 0; i < 256; i++)
        t->byte_tokens[i] = -1;
    for (int i = 0; i < vocab_size; i++) {
        int32_t len;
        if (fread(&t->scores[i], sizeof(float), 1, f) != 1 || fread(&len, sizeof len, 1, f) != 1) {
            rc = sq_err(SQ_ERR_FMT, "tokenizer '%s': truncated at entry %d of %d (the model has %d "
                        "tokens)", path, i, vocab_size, vocab_size);
            goto out;
        }
        if (!isfinite(t->scores[i])) {
            rc = sq_err(SQ_ERR_FMT, "tokenizer '%s': entry %d has a score that is not a finite "
                        "number", path, i);
            goto out;
        }
        if (len < 0 || len > maxlen) {
            rc = sq_err(SQ_ERR_FMT, "tokenizer '%s': entry %d has length %d, outside [0, %d]",
                        path, i, len, maxlen);
            goto out;
        }
        t->vocab[i] = malloc((size_t)len + 1);
        if (!t->vocab[i] || fread(t->vocab[i], 1, (size_t)len, f) != (size_t)len) {
            rc = sq_err(SQ_ERR_FMT, "tokenizer '%s': truncated at entry %d of %d", path, i,
                        vocab_size);
            goto out;
        }
        t->vocab[i][len] = 0;
        if (strlen(t->vocab[i]) != (size_t)len) {
            rc = sq_err(SQ_ERR_FMT, "tokenizer '%s': entry %d contains a NUL byte", path, i);
            goto out;
        }
        int byte = byte_piece(t->vocab[i]);
        if (byte >= 0)
            t->byte_tokens[byte] = i;
        t->sorted[i] = i;
    }
    /* A tokenizer for a different model has a different number of entries. */
    if (fgetc(f) != EOF) {
        rc = sq_err(SQ_ERR_FMT, "tokenizer '%s' has more than the model's %d tokens: it belongs "
                    "to another model", path, vocab_size);
        goto out;
    }
    sort_ctx = t;
    qsort(t->sorted, (size_t)vocab_size, sizeof(int), cmp_piece);
    sort_ctx = NULL;
out:
    fclose(f);
    if (rc)
        sq_tokenizer_free(t);
    return rc;
}

/* Binary search of the sorted pieces. */
static int lookup(const sq_tokenizer_t *t, const char *s)
{
    int lo = 0, hi = t->vocab_size - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(s, t->vocab[t->sorted[mid]]);
        if (c == 0)
            return t->sorted[mid];
        if (c < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return -1;
}

static int push_bytes(const sq_tokenizer_t *t, const char *s, size_t n, int *tokens, int *nt)
{
    for (size_t i = 0; i < n; i++) {
        int id = t->byte_tokens[(unsigned char)s[i]];
        if (id < 0)
            return sq_err(SQ_ERR_ARG, "byte 0x%02X has no token in this vocabulary",
                          (unsigned char)s[i]);
        tokens[(*nt)++] = id;
    }
    return 0;
}

int sq_tokenizer_encode(const sq_tokenizer_t *t, const char *text, int bos, int eos, int *tokens,
                        int *n_tokens)
{
    int nt = 0;
    if (bos)
        tokens[nt++] = SQ_TOK_BOS;
    if (text[0]) {
        int sp = lookup(t, " ");
        if (sp < 0)
            return sq_err(SQ_ERR_ARG, "vocabulary has no ' ' token for the dummy prefix");
        tokens[nt++] = sp;
    }
    /* one UTF-8 code point at a time (at most 4 bytes) */
    char buf[5];
    for (const char *p = text; *p;) {
        size_t len = 1;
        while (len < 4 && (p[len] & 0xC0) == 0x80)
            len++;
        memcpy(buf, p, len);
        buf[len] = 0;
        int id = lookup(t, buf);
        if (id >= 0)
            tokens[nt++] = id;
        else if (push_bytes(t, buf, len, tokens, &nt))
            return SQ_ERR_ARG;
        p += len;
    }
    /* merge the best-scoring adjacent pair until none merges */
    size_t cap = 2 * (size_t)t->max_token_length + 1;
    char *pair = malloc(cap);
    if (!pair)
        return sq_err(SQ_ERR_MEM, "tokenizer: out of memory");
    int start = bos ? 1 : 0;
    for (;;) {
        float best = -1e10f;
        int best_id = -1, best_i = -1;
        for (int i = start; i + 1 < nt; i++) {
            snprintf(pair, cap, "%s%s", t->vocab[tokens[i]], t->vocab[tokens[i + 1]]);
            int id = lookup(t, pair);
            if (id >= 0 && t->scores[id] > best) {
                best = t->scores[id];
                best_id = id;
                best_i = i;
            }
        }
        if (best_i < 0)
            break;
        tokens[best_i] = best_id;
        memmove(&tokens[best_i + 1], &tokens[best_i + 2], (size_t)(nt - best_i - 2) * sizeof(int));
        nt--;
    }
    free(pair);
    if (eos)
        tokens[nt++] = SQ_TOK_EOS;
    *n_tokens = nt;
    return 0;
}

const char *sq_tokenizer_decode(const sq_tokenizer_t *t, int prev, int token, char buf[2])
{
    if (token < 0 || token >= t->vocab_size)
        return "";
    const char *piece = t->vocab[token];
    if (prev == SQ_TOK_BOS && piece[0] == ' ')
        piece++;
    int byte = byte_piece(piece);
    if (byte >= 0) {
        buf[0] = (char)byte;
        buf[1] = 0;
        return buf;
    }
    return piece;
}
