/* splitmix64, the one PRNG of sparq's random cases and seeds: any seed,
 * including 0, gives a good stream, and mixing a seed with an index gives an
 * independent stream per index (sq_rand_stream). */
#ifndef SQ_RAND_H
#define SQ_RAND_H

#include <stdint.h>

static inline uint64_t sq_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static inline double sq_rand_unit(uint64_t *s)
{
    return (double)(sq_rand(s) >> 11) * 0x1.0p-53;
}

/* The state of stream i of seed: a function of (seed, i) alone. */
static inline uint64_t sq_rand_stream(uint64_t seed, uint64_t i)
{
    uint64_t s = seed;
    uint64_t a = sq_rand(&s);
    s = a ^ (i * 0xD1B54A32D192ED03ull);
    return sq_rand(&s);
}

#endif
