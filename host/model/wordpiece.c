/* BERT WordPiece tokenizer; the rules are in wordpiece.h. */
#include "model/wordpiece.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

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

/* Character classes of HF tokenizers' BertNormalizer and BertPreTokenizer,
 * from utf8proc's Unicode data: 1 whitespace (becomes a space), 2 removed
 * (control, format, surrogate, private use, unassigned, NUL, U+FFFD),
 * 3 punctuation (a token of its own: Unicode P* and every ASCII symbol),
 * 0 other. Whitespace is Python's str.isspace(): category Zs or
 * bidirectional class WS, B or S. */
static int uc_class(uint32_t cp)
{
    if (cp == '\t' || cp == '\n' || cp == '\r')
        return 1;
    const utf8proc_property_t *p = utf8proc_get_property((utf8proc_int32_t)cp);
    switch (p->category) {
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO: case UTF8PROC_CATEGORY_CN:
        return 2;
    default:
        break;
    }
    if (cp == 0 || cp == 0xFFFD)
        return 2;
    if (p->category == UTF8PROC_CATEGORY_ZS || p->bidi_class == UTF8PROC_BIDI_CLASS_WS ||
        p->bidi_class == UTF8PROC_BIDI_CLASS_B || p->bidi_class == UTF8PROC_BIDI_CLASS_S)
        return 1;
    if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
        (cp >= 123 && cp <= 126))
        return 3;
    return p->category >= UTF8PROC_CATEGORY_PC && p->category <= UTF8PROC_CATEGORY_PO ? 3 : 0;
}

static int is_cjk(uint32_t cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
           (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

/* At most this many code points come out of one (Hangul syllables give 3
 * jamo; no other canonical decomposition keeps more after dropping Mn). */
#define FOLD_MAX 3

/* Writes cp's folded form (NFD, nonspacing marks dropped, lowercased: what
 * BertNormalizer does to one character) to out; returns the count (0 for a
 * lone nonspacing mark). */
static size_t fold(uint32_t cp, uint32_t *out)
{
    utf8proc_int32_t d[8];
    int boundclass = 0;
    utf8proc_ssize_t n = utf8proc_decompose_char((utf8proc_int32_t)cp, d, 8, UTF8PROC_DECOMPOSE,
                                                 &boundclass);
    if (n < 1 || n > 8) { /* not a code point utf8proc decomposes: itself */
        d[0] = (utf8proc_int32_t)cp;
        n = 1;
    }
    size_t m = 0;
    for (utf8proc_ssize_t i = 0; i < n && m < FOLD_MAX; i++)
        if (utf8proc_category(d[i]) != UTF8PROC_CATEGORY_MN)
            out[m++] = (uint32_t)utf8proc_tolower(d[i]);
    return m;
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
    /* every input byte yields at most FOLD_MAX folded code points of 4 UTF-8
     * bytes, plus the spaces around CJK */
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
