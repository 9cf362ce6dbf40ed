/* A small GGUF writer (the layout in host/model/gguf.h) for test files and
 * the fuzz seeds: a growing little-endian byte buffer and GGUF's strings and
 * key headers. Aborts when out of memory (test code). */
#ifndef SQ_GGUF_WRITER_H
#define SQ_GGUF_WRITER_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint8_t *p;
    size_t n, cap;
} sq_gw_t;

void sq_gw_put(sq_gw_t *b, const void *src, size_t n);
/* v as `bytes` little-endian bytes */
void sq_gw_u(sq_gw_t *b, uint64_t v, unsigned bytes);
void sq_gw_f32(sq_gw_t *b, float f);
/* u64 length, then the bytes */
void sq_gw_str(sq_gw_t *b, const char *s);
/* a key and its value type; the value follows */
void sq_gw_kv_head(sq_gw_t *b, const char *key, uint32_t type);

#endif
