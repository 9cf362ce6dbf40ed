#include "util/crc32.h"

/* Byte-at-a-time with a 256-entry table built on first use; the .sqm payloads
 * are at most a few hundred MB, so slicing-by-8 is not worth its code. */
static uint32_t table[256];
static int table_ready;

static void build_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    table_ready = 1;
}

uint32_t sq_crc32(uint32_t crc, const void *data, size_t n)
{
    if (!table_ready)
        build_table();
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}
