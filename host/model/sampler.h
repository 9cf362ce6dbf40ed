/* Next-token sampling: greedy at temperature 0, otherwise temperature plus
 * nucleus (top-p) sampling with a seeded xorshift generator, so a seed gives
 * the same text on every level. */
#ifndef SQ_SAMPLER_H
#define SQ_SAMPLER_H

#include <stdint.h>

typedef struct {
    float temperature; /* 0: argmax */
    float topp;        /* in (0, 1]; 1 disables the nucleus cut */
    uint64_t rng;      /* state, nonzero */
    int vocab_size;
    struct sq_prob_index *scratch; /* (vocab) */
} sq_sampler_t;

int sq_sampler_build(sq_sampler_t *s, int vocab_size, float temperature, float topp,
                     uint64_t seed);
void sq_sampler_free(sq_sampler_t *s);
/* Picks a token from logits (modified in place when temperature > 0). */
int sq_sampler_sample(sq_sampler_t *s, float *logits);
int sq_argmax(const float *x, int n);

#endif
