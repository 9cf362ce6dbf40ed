/* CRC-32 (IEEE 802.3: reflected polynomial 0xEDB88320, initial value and final
 * xor 0xFFFFFFFF), the checksum zlib, PNG and gzip use; crc32("123456789") is
 * 0xCBF43926. Used by the .sqm container (docs/sqm.md). */
#ifndef SQ_CRC32_H
#define SQ_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continues a running CRC: start with crc = 0, feed any number of chunks. */
uint32_t sq_crc32(uint32_t crc, const void *data, size_t n);

#endif
