/* GPT-2 byte-level BPE tokenizer (bpe.h). */
#include "model/bpe.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "util/bytes.h"
#include "util/err.h"

#define MAX_TOKEN_BYTES 1024u
/* llama.cpp's token types: 3 control, 4 user defined (both matched literally
 * in text when special tokens are parsed) */
#define TT_CONTROL 3
#define TT_USER 4

/* Open-addressing map from byte strings to ints; keys point into storage
 * owned elsewhere. */
typedef struct {
    const char *s;
    uint32_t len;
    int32_t val;
} ent_t;

typedef struct {
    ent_t *slots;
    size_t mask;
} map_t;

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

static int map_init(map_t *m, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n)
        cap <<= 1;
    m->slots = calloc(cap, sizeof *m->slots);
    m->mask = cap - 1;
    return m->slots ? 0 : -1;
}

static ent_t *map_slot(const map_t *m, const char *s, size_t len)
{
    for (size_t i = (size_t)hash(s, len) & m->mask;; i = (i + 1) & m->mask) {
        ent_t *e = &m->slots[i];
        if (!e->s || (e->len == len && !memcmp(e->s, s, len)))
            return e;
    }
}

static int32_t map_get(const map_t *m, const char *s, size_t len)
{
    const ent_t *e = map_slot(m, s, len);
    return e->s ? e->val : -1;
}

struct sq_bpe {
    size_t n;
    char **tok;       /* NUL-terminated, in `text` */
    uint8_t *ttype;
    char *text;
    map_t vocab;      /* token -> id */
    map_t merges;     /* "left right" -> rank */
    char *merge_text;
    int32_t *special; /* control/user tokens, longest first */
    size_t n_special;
    int32_t bos, eos;
    int split_digits;
    uint32_t byte_cp[256]; /* GPT-2 bytes_to_unicode */
    int16_t cp_byte[324];  /* its inverse, -1 where none */
};

void sq_bpe_free(sq_bpe_t *t)
{
    if (!t)
        return;
    free(t->tok);
    free(t->ttype);
    free(t->text);
    free(t->vocab.slots);
    free(t->merges.slots);
    free(t->merge_text);
    free(t->special);
    free(t);
}

/* Printable bytes map to themselves, the other 68 to U+0100.. in order, so
 * every token is printable UTF-8 without spaces. */
static void byte_map(sq_bpe_t *t)
{
    uint32_t next = 256;
    for (int i = 0; i < 324; i++)
        t->cp_byte[i] = -1;
    for (uint32_t b = 0; b < 256; b++) {
        int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
        t->byte_cp[b] = printable ? b : next++;
        t->cp_byte[t->byte_cp[b]] = (int16_t)b;
    }
}

/* ---------------------------------------------------------------------------
 * Building from GGUF */

static int load_tokens(sq_bpe_t *t, const sq_gguf_t *g)
{
    const sq_gguf_kv_t *kv;
    int rc = sq_gguf_get_arr(g, "tokenizer.ggml.tokens", SQ_GGUF_STRING, &kv);
    if (rc)
        return rc;
    size_t n = (size_t)kv->v.arr.n, bytes = 0;
    if (n == 0 || n > (1u << 24))
        return sq_err(SQ_ERR_FMT, "tokenizer has %zu tokens (1..%u)", n, 1u << 24);
    for (size_t i = 0; i < n; i++) {
        const sq_gguf_str_t *s = &kv->v.arr.strs[i];
        if (s->len == 0 || s->len > MAX_TOKEN_BYTES || memchr(s->p, 0, (size_t)s->len) ||
            !sq_utf8_valid((const uint8_t *)s->p, (size_t)s->len))
            return sq_err(SQ_ERR_FMT, "token %zu is empty, longer than %u bytes or not UTF-8", i,
                          MAX_TOKEN_BYTES);
        bytes += (size_t)s->len + 1;
    }
    t->n = n;
    t->tok = malloc(n * sizeof *t->tok);
    t->ttype = calloc(n, 1);
    t->text = malloc(bytes);
    if (!t->tok || !t->ttype || !t->text || map_init(&t->vocab, n))
        return sq_err(SQ_ERR_MEM, "out of memory for %zu tokens", n);
    char *p = t->text;
    for (size_t i = 0; i < n; i++) {
        const sq_gguf_str_t *s = &kv->v.arr.strs[i];
        memcpy(p, s->p, (size_t)s->len);
        p[s->len] = 0;
        t->tok[i] = p;
        ent_t *e = map_slot(&t->vocab, p, (size_t)s->len);
        if (e->s)
            return sq_err(SQ_ERR_FMT, "token %zu repeats token %d ('%.40s')", i, e->val, p);
        *e = (ent_t){p, (uint32_t)s->len, (int32_t)i};
        p += s->len + 1;
    }
    if (sq_gguf_find_kv(g, "tokenizer.ggml.token_type")) {
        if ((rc = sq_gguf_get_arr(g, "tokenizer.ggml.token_type", SQ_GGUF_I32, &kv)))
            return rc;
        if (kv->v.arr.n != n)
            return sq_err(SQ_ERR_FMT, "token_type has %llu entries for %zu tokens",
                          (unsigned long long)kv->v.arr.n, n);
        for (size_t i = 0; i < n; i++) {
            int32_t ty = (int32_t)sq_le_get(kv->v.arr.data + 4 * i, 4);
            if (ty < 1 || ty > 6)
                return sq_err(SQ_ERR_FMT, "token %zu has unknown type %d", i, ty);
            t->ttype[i] = (uint8_t)ty;
        }
    }
    return 0;
}

static int load_merges(sq_bpe_t *t, const sq_gguf_t *g)
{
    const sq_gguf_kv_t *kv;
    int rc = sq_gguf_get_arr(g, "tokenizer.ggml.merges", SQ_GGUF_STRING, &kv);
    if (rc)
        return rc;
    size_t n = (size_t)kv->v.arr.n, bytes = 0;
    for (size_t i = 0; i < n; i++)
        bytes += (size_t)kv->v.arr.strs[i].len + 1;
    t->merge_text = malloc(bytes ? bytes : 1);
    if (!t->merge_text || map_init(&t->merges, n))
        return sq_err(SQ_ERR_MEM, "out of memory for %zu merges", n);
    char *p = t->merge_text;
    for (size_t i = 0; i < n; i++) {
        const sq_gguf_str_t *s = &kv->v.arr.strs[i];
        const char *sp = memchr(s->p, ' ', (size_t)s->len);
        if (!sp || sp == s->p || sp == s->p + s->len - 1 ||
            memchr(sp + 1, ' ', (size_t)(s->p + s->len - sp - 1)))
            return sq_err(SQ_ERR_FMT, "merge %zu is not two tokens separated by one space", i);
        memcpy(p, s->p, (size_t)s->len);
        ent_t *e = map_slot(&t->merges, p, (size_t)s->len);
        /* a repeated merge keeps its first (best) rank */
        if (!e->s)
            *e = (ent_t){p, (uint32_t)s->len, (int32_t)i};
        p += s->len + 1;
    }
    return 0;
}

static int opt_id(const sq_gguf_t *g, const char *key, size_t n, int32_t *out)
{
    uint64_t v;
    *out = -1;
    if (!sq_gguf_find_kv(g, key))
        return 0;
    int rc = sq_gguf_get_u64(g, key, &v);
    if (rc)
        return rc;
    if (v >= n)
        return sq_err(SQ_ERR_FMT, "%s %llu is not a token id (vocabulary of %zu)", key,
                      (unsigned long long)v, n);
    *out = (int32_t)v;
    return 0;
}

static int build(sq_bpe_t *t, const sq_gguf_t *g)
{
    sq_gguf_str_t model, pre = {"gpt2", 4};
    int rc = sq_gguf_get_str(g, "tokenizer.ggml.model", &model);
    if (rc)
        return rc;
    if (model.len != 4 || memcmp(model.p, "gpt2", 4))
        return sq_err(SQ_ERR_FMT, "tokenizer model '%.*s' is not supported (gpt2 only)",
                      (int)(model.len > 40 ? 40 : model.len), model.p);
    if (sq_gguf_find_kv(g, "tokenizer.ggml.pre") && (rc = sq_gguf_get_str(g, "tokenizer.ggml.pre", &pre)))
        return rc;
    if (pre.len == 6 && !memcmp(pre.p, "smollm", 6))
        t->split_digits = 1;
    else if (!((pre.len == 4 && !memcmp(pre.p, "gpt2", 4)) ||
               (pre.len == 7 && !memcmp(pre.p, "default", 7))))
        return sq_err(SQ_ERR_FMT, "pre-tokenizer '%.*s' is not supported (smollm, gpt2)",
                      (int)(pre.len > 40 ? 40 : pre.len), pre.p);
    if ((rc = load_tokens(t, g)) || (rc = load_merges(t, g)) ||
        (rc = opt_id(g, "tokenizer.ggml.bos_token_id", t->n, &t->bos)) ||
        (rc = opt_id(g, "tokenizer.ggml.eos_token_id", t->n, &t->eos)))
        return rc;
    byte_map(t);
    t->special = malloc(t->n * sizeof *t->special);
    if (!t->special)
        return sq_err(SQ_ERR_MEM, "out of memory");
    for (size_t i = 0; i < t->n; i++)
        if (t->ttype[i] == TT_CONTROL || t->ttype[i] == TT_USER)
            t->special[t->n_special++] = (int32_t)i;
    /* longest first, so "<|im_start|>" wins over any prefix of it */
    for (size_t i = 1; i < t->n_special; i++)
        for (size_t j = i; j > 0 && strlen(t->tok[t->special[j - 1]]) < strlen(t->tok[t->special[j]]);
             j--) {
            int32_t x = t->special[j];
            t->special[j] = t->special[j - 1];
            t->special[j - 1] = x;
        }
    return 0;
}

int sq_bpe_from_gguf(const sq_gguf_t *g, sq_bpe_t **out)
{
    *out = NULL;
    sq_bpe_t *t = calloc(1, sizeof *t);
    if (!t)
        return sq_err(SQ_ERR_MEM, "out of memory");
    int rc = build(t, g);
    if (rc) {
        sq_bpe_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

size_t sq_bpe_vocab_size(const sq_bpe_t *t)
{
    return t->n;
}

int32_t sq_bpe_bos(const sq_bpe_t *t)
{
    return t->bos;
}

int32_t sq_bpe_eos(const sq_bpe_t *t)
{
    return t->eos;
}

int32_t sq_bpe_id(const sq_bpe_t *t, const char *token)
{
    return map_get(&t->vocab, token, strlen(token));
}

/* ---------------------------------------------------------------------------
 * Encoding */

typedef struct {
    int32_t *ids;
    size_t n, cap;
    int overflow;
    char *buf;       /* scratch: the mapped chunk, then merge keys */
    uint32_t *start; /* symbol spans in buf */
    uint32_t *len;
} enc_t;

static void emit(enc_t *e, int32_t id)
{
    if (e->n < e->cap)
        e->ids[e->n++] = id;
    else
        e->overflow = 1;
}

static int32_t pair_rank(const sq_bpe_t *t, enc_t *e, size_t a, size_t b, char *key)
{
    size_t la = e->len[a], lb = e->len[b];
    memcpy(key, e->buf + e->start[a], la);
    key[la] = ' ';
    memcpy(key + la + 1, e->buf + e->start[b], lb);
    return map_get(&t->merges, key, la + 1 + lb);
}

/* BPE over one pre-token's bytes. */
static void bpe_chunk(const sq_bpe_t *t, enc_t *e, const uint8_t *s, size_t n)
{
    size_t m = 0, blen = 0;
    for (size_t i = 0; i < n; i++) {
        e->start[m] = (uint32_t)blen;
        e->len[m] = (uint32_t)sq_utf8_put(t->byte_cp[s[i]], e->buf + blen);
        blen += e->len[m++];
    }
    char *key = e->buf + blen;
    for (;;) {
        int32_t best = -1;
        size_t at = 0;
        for (size_t i = 0; i + 1 < m; i++) {
            int32_t r = pair_rank(t, e, i, i + 1, key);
            if (r >= 0 && (best < 0 || r < best)) {
                best = r;
                at = i;
            }
        }
        if (best < 0)
            break;
        /* symbols are adjacent spans of buf, so merging widens the left one */
        e->len[at] += e->len[at + 1];
        memmove(e->start + at + 1, e->start + at + 2, (m - at - 2) * sizeof *e->start);
        memmove(e->len + at + 1, e->len + at + 2, (m - at - 2) * sizeof *e->len);
        m--;
    }
    for (size_t i = 0; i < m; i++) {
        int32_t id = map_get(&t->vocab, e->buf + e->start[i], e->len[i]);
        if (id >= 0) {
            emit(e, id);
            continue;
        }
        /* a merge result missing from the vocabulary falls back to its
         * bytes; bytes the vocabulary lacks (SmolLM2 has no control
         * bytes) are dropped, as llama.cpp does */
        for (size_t k = 0; k < e->len[i];) {
            size_t l;
            sq_utf8_next((const uint8_t *)e->buf + e->start[i] + k, e->len[i] - k, &l);
            int32_t b = map_get(&t->vocab, e->buf + e->start[i] + k, l);
            if (b >= 0)
                emit(e, b);
            k += l;
        }
    }
}

enum { C_OTHER, C_LETTER, C_NUMBER, C_SPACE };

/* The pre-tokenizer regex's classes from utf8proc: \p{L}, \p{N}, and \s
 * (Unicode White_Space: categories Zs, Zl, Zp and the controls 9-13, 0x85). */
static int cclass(uint32_t cp)
{
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
        return C_LETTER;
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return C_NUMBER;
    case UTF8PROC_CATEGORY_ZS: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
        return C_SPACE;
    default:
        return (cp >= 9 && cp <= 13) || cp == 0x85 ? C_SPACE : C_OTHER;
    }
}

/* The GPT-2 split of cps[lo, hi); off[i] is cps[i]'s byte offset in s. */
static void gpt2_split(const sq_bpe_t *t, enc_t *e, const uint8_t *s, const uint32_t *cps,
                       const int *cls, const size_t *off, size_t lo, size_t hi)
{
    size_t i = lo;
    while (i < hi) {
        size_t end = i + 1;
        uint32_t c = cps[i];
        uint32_t c1 = i + 1 < hi ? cps[i + 1] : 0, c2 = i + 2 < hi ? cps[i + 2] : 0;
        size_t j = i + (c == ' ' && i + 1 < hi);
        int cj = cls[j];
        if (c == '\'' && (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd')) {
            end = i + 2;
        } else if (c == '\'' && ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') ||
                                 (c1 == 'l' && c2 == 'l'))) {
            end = i + 3;
        } else if (cj != C_SPACE && (j > i || cls[i] != C_SPACE)) {
            /* ' ?\p{L}+', ' ?\p{N}+' or ' ?[^\s\p{L}\p{N}]+' */
            end = j;
            while (end < hi && cls[end] == cj)
                end++;
        } else {
            /* '\s+(?!\S)|\s+': a run of spaces leaves its last one to the
             * next word unless the run ends the text */
            end = i;
            while (end < hi && cls[end] == C_SPACE)
                end++;
            if (end < hi && end - i > 1)
                end--;
        }
        bpe_chunk(t, e, s + off[i], off[end] - off[i]);
        i = end;
    }
}

/* One stretch of text without special tokens. */
static int encode_plain(const sq_bpe_t *t, enc_t *e, const uint8_t *s, size_t n)
{
    uint32_t *cps = malloc((n + 1) * sizeof *cps);
    int *cls = malloc((n + 1) * sizeof *cls);
    size_t *off = malloc((n + 1) * sizeof *off);
    if (!cps || !cls || !off) {
        free(cps), free(cls), free(off);
        return sq_err(SQ_ERR_MEM, "out of memory");
    }
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        size_t l;
        cps[m] = sq_utf8_next(s + i, n - i, &l);
        cls[m] = cclass(cps[m]);
        off[m++] = i;
        i += l;
    }
    off[m] = n;
    cls[m] = C_OTHER;
    size_t lo = 0;
    for (size_t i = 0; i <= m; i++) {
        if (i < m && !(t->split_digits && cls[i] == C_NUMBER))
            continue;
        gpt2_split(t, e, s, cps, cls, off, lo, i);
        if (i < m)
            bpe_chunk(t, e, s + off[i], off[i + 1] - off[i]);
        lo = i + 1;
    }
    free(cps), free(cls), free(off);
    return 0;
}

int sq_bpe_encode(const sq_bpe_t *t, const char *text, int parse_special, int32_t *ids,
                  size_t cap, size_t *n)
{
    size_t len = strlen(text);
    enc_t e = {.ids = ids, .cap = cap};
    /* the mapped chunk takes at most 2 bytes per input byte, a merge key
     * twice that */
    e.buf = malloc(6 * len + 8);
    e.start = malloc((len + 1) * sizeof *e.start);
    e.len = malloc((len + 1) * sizeof *e.len);
    int rc = e.buf && e.start && e.len ? 0 : sq_err(SQ_ERR_MEM, "out of memory");
    const uint8_t *s = (const uint8_t *)text;
    size_t plain = 0;
    for (size_t i = 0; !rc && i <= len;) {
        int32_t hit = -1;
        for (size_t k = 0; parse_special && i < len && k < t->n_special; k++) {
            const char *tok = t->tok[t->special[k]];
            size_t tl = strlen(tok);
            if (tl <= len - i && !memcmp(text + i, tok, tl)) {
                hit = t->special[k];
                break;
            }
        }
        if (hit < 0 && i < len) {
            i++;
            continue;
        }
        if (i > plain)
            rc = encode_plain(t, &e, s + plain, i - plain);
        if (hit < 0)
            break;
        emit(&e, hit);
        i += strlen(t->tok[hit]);
        plain = i;
    }
    free(e.buf);
    free(e.start);
    free(e.len);
    if (!rc && e.overflow)
        rc = sq_err(SQ_ERR_ARG, "text needs more than %zu tokens", cap);
    *n = e.n;
    return rc;
}

long sq_bpe_decode(const sq_bpe_t *t, int32_t id, char *buf, size_t cap)
{
    if (id < 0 || (size_t)id >= t->n || cap == 0)
        return -1;
    const char *s = t->tok[id];
    size_t n = strlen(s), o = 0;
    if (t->ttype[id] == TT_CONTROL || t->ttype[id] == TT_USER) {
        o = n < cap - 1 ? n : cap - 1;
        memcpy(buf, s, o);
    } else {
        for (size_t i = 0; i < n && o + 4 < cap;) {
            size_t l;
            uint32_t cp = sq_utf8_next((const uint8_t *)s + i, n - i, &l);
            if (cp < 324 && t->cp_byte[cp] >= 0)
                buf[o++] = (char)t->cp_byte[cp];
            else
                o += sq_utf8_put(cp, buf + o);
            i += l;
        }
    }
    buf[o] = 0;
    return (long)o;
}
