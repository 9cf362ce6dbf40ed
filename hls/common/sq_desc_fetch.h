/* The first step of every HLS kernel top's command loop (hls/<unit>/ and
 * hls/cp/): descriptor `at` of device memory into a private copy. A header,
 * not a function in one of them, so each kernel still compiles from its own
 * file (bitstreams/vitis/Makefile) and the opencl level's one program holds
 * it once (include guard). */
#ifndef SQ_HLS_DESC_FETCH_H
#define SQ_HLS_DESC_FETCH_H

#include "sparq/spec.h"

static inline void sq_desc_fetch(const SQ_GLOBAL uint8_t *mem, uint64_t at,
                                 uint8_t desc[SQ_DESC_BYTES])
{
cmd_fetch:
    for (uint32_t b = 0; b < SQ_DESC_BYTES; b++) {
#pragma HLS PIPELINE II=1
        desc[b] = mem[at + b];
    }
}

#endif
