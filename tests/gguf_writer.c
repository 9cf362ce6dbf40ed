#include "gguf_writer.h"

#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"

void sq_gw_put(sq_gw_t *b, const void *src, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        if (!(b->p = realloc(b->p, b->cap)))
            abort();
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

void sq_gw_u(sq_gw_t *b, uint64_t v, unsigned bytes)
{
    uint8_t t[8];
    sq_le_put(t, v, bytes);
    sq_gw_put(b, t, bytes);
}

void sq_gw_f32(sq_gw_t *b, float f)
{
    sq_gw_u(b, sq_f32_bits(f), 4);
}

void sq_gw_str(sq_gw_t *b, const char *s)
{
    sq_gw_u(b, strlen(s), 8);
    sq_gw_put(b, s, strlen(s));
}

void sq_gw_kv_head(sq_gw_t *b, const char *key, uint32_t type)
{
    sq_gw_str(b, key);
    sq_gw_u(b, type, 4);
}
