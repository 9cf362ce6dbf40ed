/* Bounds-checked little-endian reading and writing of file formats (.sqm,
 * GGUF, safetensors headers). A reader never reads past its end: every get
 * returns -1 instead, so parsers turn a short file into one error line. */
#ifndef SQ_BYTES_H
#define SQ_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const uint8_t *p;
    size_t n;   /* bytes available */
    size_t pos; /* next byte to read */
} sq_rd_t;

static inline int sq_rd_skip(sq_rd_t *r, size_t n)
{
    if (n > r->n - r->pos)
        return -1;
    r->pos += n;
    return 0;
}

/* Points *out at the next n bytes (no copy) and advances. */
static inline int sq_rd_bytes(sq_rd_t *r, size_t n, const uint8_t **out)
{
    if (n > r->n - r->pos)
        return -1;
    *out = r->p + r->pos;
    r->pos += n;
    return 0;
}

static inline uint64_t sq_le_get(const uint8_t *p, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline void sq_le_put(uint8_t *p, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline int sq_rd_uint(sq_rd_t *r, unsigned bytes, uint64_t *v)
{
    const uint8_t *p;
    if (sq_rd_bytes(r, bytes, &p))
        return -1;
    *v = sq_le_get(p, bytes);
    return 0;
}

static inline int sq_rd_u8(sq_rd_t *r, uint8_t *v)
{
    uint64_t x;
    if (sq_rd_uint(r, 1, &x))
        return -1;
    *v = (uint8_t)x;
    return 0;
}

static inline int sq_rd_u16(sq_rd_t *r, uint16_t *v)
{
    uint64_t x;
    if (sq_rd_uint(r, 2, &x))
        return -1;
    *v = (uint16_t)x;
    return 0;
}

static inline int sq_rd_u32(sq_rd_t *r, uint32_t *v)
{
    uint64_t x;
    if (sq_rd_uint(r, 4, &x))
        return -1;
    *v = (uint32_t)x;
    return 0;
}

static inline int sq_rd_u64(sq_rd_t *r, uint64_t *v)
{
    return sq_rd_uint(r, 8, v);
}

static inline float sq_f32_from_bits(uint32_t b)
{
    float f;
    memcpy(&f, &b, 4);
    return f;
}

static inline uint32_t sq_f32_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, 4);
    return b;
}

/* IEEE binary16 -> binary32, exact for every input (subnormals, inf, NaN). */
static inline float sq_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1F, man = h & 0x3FF;
    if (exp == 0x1F)
        return sq_f32_from_bits(sign | 0x7F800000u | (man << 13));
    if (exp == 0) {
        if (man == 0)
            return sq_f32_from_bits(sign);
        /* subnormal: man * 2^-24 */
        float f = (float)man * (1.0f / 16777216.0f);
        return sign ? -f : f;
    }
    return sq_f32_from_bits(sign | ((exp + 112) << 23) | (man << 13));
}

/* bfloat16 is the top half of a binary32. */
static inline float sq_bf16_to_f32(uint16_t h)
{
    return sq_f32_from_bits((uint32_t)h << 16);
}

static inline int sq_rd_f32(sq_rd_t *r, float *v)
{
    uint32_t b;
    if (sq_rd_u32(r, &b))
        return -1;
    *v = sq_f32_from_bits(b);
    return 0;
}

/* True when s[0..n) is well-formed UTF-8: no overlong forms, no surrogates,
 * nothing above U+10FFFF. */
int sq_utf8_valid(const uint8_t *s, size_t n);

/* Decodes the code point at s (n bytes available) and its length in *len; an
 * invalid or truncated sequence yields U+FFFD with length 1. */
uint32_t sq_utf8_next(const uint8_t *s, size_t n, size_t *len);

/* Encodes cp (at most U+10FFFF) into out (room for 4 bytes); returns its
 * length. */
size_t sq_utf8_put(uint32_t cp, char *out);

/* Reads a whole file into a malloc'd buffer (one NUL byte appended, not
 * counted in *n). Returns 0 or SQ_ERR_IO / SQ_ERR_MEM with a message. */
int sq_file_read(const char *path, uint8_t **data, size_t *n);

#endif
