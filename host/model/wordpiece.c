/* BERT WordPiece tokenizer; the rules are in wordpiece.h. */
#include "model/wordpiece.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/unicode_tab.h"
#include "util/bytes.h"
#include "util/err.h"

#define MAX_WORD_CHARS 100
#define MAX_VOCAB (1u << 24)

struct sq_wp {
    char **tok;       /* id -> token */
    size_t n;
    int32_t *slots;   /* open-addressing hash: token -> id, -1 empty */
    size_t n_slots;   /* power of two */
    int32_t cls, sep, unk;
    char *text;       /* the tokens' storage */
};

/* FNV-1a: short keys, no adversary beyond a malformed vocab file. */
static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

static int32_t lookup(const sq_wp_t *wp, const char *s, size_t n)
{
    size_t mask = wp->n_slots - 1;
    for (size_t i = (size_t)hash(s, n) & mask;; i = (i + 1) & mask) {
        int32_t id = wp->slots[i];
        if (id < 0)
            return -1;
        if (strlen(wp->tok[id]) == n && !memcmp(wp->tok[id], s, n))
            return id;
    }
}

void sq_wp_free(sq_wp_t *wp)
{
    if (!wp)
        return;
    free(wp->tok);
    free(wp->slots);
    free(wp->text);
    free(wp);
}

static int build(sq_wp_t *wp, const char *text, size_t n)
{
    size_t lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += text[i] == '\n';
    if (n && text[n - 1] != '\n')
        lines++;
    if (lines == 0 || lines > MAX_VOCAB)
        return sq_err(SQ_ERR_FMT, "vocabulary has %zu tokens (1..%u)", lines, MAX_VOCAB);
    wp->text = malloc(n + 1);
    wp->tok = malloc(lines * sizeof *wp->tok);
    wp->n_slots = 1;
    while (wp->n_slots < 2 * lines)
        wp->n_slots <<= 1;
    wp->slots = malloc(wp->n_slots * sizeof *wp->slots);
    if (!wp->text || !wp->tok || !wp->slots)
        return sq_err(SQ_ERR_MEM, "out of memory for %zu tokens", lines);
    memcpy(wp->text, text, n);
    wp->text[n] = 0;
    memset(wp->slots, 0xFF, wp->n_slots * sizeof *wp->slots);
    char *p = wp->text, *end = wp->text + n;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        p[len] = 0;
        size_t line = wp->n + 1;
        if (len == 0)
            return sq_err(SQ_ERR_FMT, "vocabulary line %zu is empty", line);
        if (!sq_utf8_valid((const uint8_t *)p, len) || memchr(p, 0, len))
            return sq_err(SQ_ERR_FMT, "vocabulary line %zu is not valid UTF-8", line);
        if (lookup(wp, p, len) >= 0)
            return sq_err(SQ_ERR_FMT, "vocabulary line %zu repeats token '%s'", line, p);
        wp->tok[wp->n] = p;
        size_t mask = wp->n_slots - 1, i = (size_t)hash(p, len) & mask;
        while (wp->slots[i] >= 0)
            i = (i + 1) & mask;
        wp->slots[i] = (int32_t)wp->n++;
        p += len + 1;
    }
    wp->cls = lookup(wp, "[CLS]", 5);
    wp->sep = lookup(wp, "[SEP]", 5);
    wp->unk = lookup(wp, "[UNK]", 5);
    if (wp->cls < 0 || wp->sep < 0 || wp->unk < 0)
        return sq_err(SQ_ERR_FMT, "vocabulary lacks [CLS], [SEP] or [UNK]");
    return 0;
}

int sq_wp_parse(const char *text, size_t n, sq_wp_t **out)
{
    *out = NULL;
    sq_wp_t *wp = calloc(1, sizeof *wp);
    if (!wp)
        return sq_err(SQ_ERR_MEM, "out of memory");
    int rc = build(wp, text, n);
    if (rc) {
        sq_wp_free(wp);
        return rc;
    }
    *out = wp;
    return 0;
}

int sq_wp_load(const char *path, sq_wp_t **out)
{
    uint8_t *data;
    size_t n;
    *out = NULL;
    int rc = sq_file_read(path, &data, &n);
    if (rc)
        return rc;
    rc = sq_wp_parse((const char *)data, n, out);
    free(data);
    if (rc) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", sq_err_msg());
        return sq_err(rc, "%s: %s", path, msg);
    }
    return 0;
}

size_t sq_wp_vocab_size(const sq_wp_t *wp)
{
    return wp->n;
}

const char *sq_wp_token(const sq_wp_t *wp, int32_t id)
{
    return id >= 0 && (size_t)id < wp->n ? wp->tok[id] : NULL;
}

int32_t sq_wp_id(const sq_wp_t *wp, const char *token)
{
    return lookup(wp, token, strlen(token));
}

/* ---------------------------------------------------------------------------
 * Normalisation */

/* 1 whitespace, 2 removed, 3 punctuation, 0 other */
static int uc_class(uint32_t cp)
{
    unsigned f = sq_uc_flags(cp);
    return (f & SQ_UC_BERT_SPACE) ? 1 : (f & SQ_UC_BERT_CONTROL) ? 2 : (f & SQ_UC_BERT_PUNCT) ? 3 : 0;
}

static int is_cjk(uint32_t cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
           (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

/* Writes cp's folded form (at most 3 code points) to out; returns the count. */
static size_t fold(uint32_t cp, uint32_t *out)
{
    if (cp >= 0xAC00 && cp <= 0xD7A3) { /* Hangul syllable: L V [T] jamo */
        uint32_t s = cp - 0xAC00;
        out[0] = 0x1100 + s / (21 * 28);
        out[1] = 0x1161 + (s % (21 * 28)) / 28;
        if (s % 28) {
            out[2] = 0x11A7 + s % 28;
            return 3;
        }
        return 2;
    }
    size_t lo = 0, hi = sq_uc_n_folds;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < sq_uc_folds[mid].cp)
            hi = mid;
        else if (cp > sq_uc_folds[mid].cp)
            lo = mid + 1;
        else {
            for (size_t i = 0; i < sq_uc_folds[mid].len; i++)
                out[i] = sq_uc_fold_out[sq_uc_folds[mid].off + i];
            return sq_uc_folds[mid].len;
        }
    }
    out[0] = cp;
    return 1;
}

/* ---------------------------------------------------------------------------
 * WordPiece */

typedef struct {
    int32_t *ids;
    size_t n, cap;
} out_t;

static void emit(out_t *o, int32_t id)
{
    if (o->n < o->cap)
        o->ids[o->n++] = id;
}

/* word: UTF-8 bytes of one pre-token; nchars its code points; buf scratch
 * of at least len + 3 bytes for the "##" prefix. */
static void wordpiece(const sq_wp_t *wp, const char *word, size_t len, size_t nchars, char *buf,
                      out_t *o)
{
    if (nchars > MAX_WORD_CHARS) {
        emit(o, wp->unk);
        return;
    }
    size_t first = o->n, start = 0;
    while (start < len) {
        size_t end = len;
        int32_t id = -1;
        while (end > start) {
            size_t pre = start ? 2 : 0;
            memcpy(buf, "##", pre);
            memcpy(buf + pre, word + start, end - start);
            id = lookup(wp, buf, pre + end - start);
            if (id >= 0)
                break;
            do /* back off to the previous character boundary */
                end--;
            while (end > start && ((uint8_t)word[end] & 0xC0) == 0x80);
        }
        if (id < 0) {
            o->n = first;
            emit(o, wp->unk);
            return;
        }
        emit(o, id);
        start = end;
    }
}

int sq_wp_encode(const sq_wp_t *wp, const char *text, size_t max_tokens, int32_t *ids,
                 size_t *n_ids)
{
    if (max_tokens < 2)
        return sq_err(SQ_ERR_ARG, "max_tokens %zu leaves no room for [CLS] and [SEP]", max_tokens);
    size_t n = strlen(text);
    /* every input byte yields at most 3 folded code points of 4 UTF-8 bytes,
     * plus the spaces around CJK */
    uint32_t *cps = malloc((3 * n + 1) * sizeof *cps);
    char *word = malloc(12 * n + 8), *buf = malloc(12 * n + 8);
    if (!cps || !word || !buf) {
        free(cps);
        free(word);
        free(buf);
        return sq_err(SQ_ERR_MEM, "out of memory tokenizing %zu bytes", n);
    }
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        size_t len;
        uint32_t cp = sq_utf8_next((const uint8_t *)text + i, n - i, &len);
        i += len;
        int k = uc_class(cp);
        if (k == 2)
            continue;
        if (k == 1) {
            cps[m++] = ' ';
        } else if (is_cjk(cp)) {
            cps[m++] = ' ';
            cps[m++] = cp;
            cps[m++] = ' ';
        } else {
            m += fold(cp, cps + m);
        }
    }
    out_t o = {ids, 0, max_tokens - 1};
    emit(&o, wp->cls);
    size_t wlen = 0, wchars = 0;
    for (size_t i = 0; i <= m; i++) {
        int k = i < m ? uc_class(cps[i]) : 1;
        if (k == 1 || k == 3) {
            if (wlen)
                wordpiece(wp, word, wlen, wchars, buf, &o);
            wlen = wchars = 0;
            if (k == 3) {
                size_t len = sq_utf8_put(cps[i], word);
                wordpiece(wp, word, len, 1, buf, &o);
            }
        } else {
            wlen += sq_utf8_put(cps[i], word + wlen);
            wchars++;
        }
    }
    o.cap = max_tokens;
    emit(&o, wp->sep);
    *n_ids = o.n;
    free(cps);
    free(word);
    free(buf);
    return 0;
}
