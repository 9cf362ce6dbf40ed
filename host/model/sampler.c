#include "model/sampler.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

struct sq_prob_index {
    float prob;
    int index;
};

int sq_sampler_build(sq_sampler_t *s, int vocab_size, float temperature, float topp,
                     uint64_t seed)
{
    memset(s, 0, sizeof *s);
    s->temperature = temperature;
    s->topp = topp;
    s->vocab_size = vocab_size;
    /* xorshift needs a nonzero state; mix the seed so small seeds differ */
    s->rng = seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
    if (!s->rng)
        s->rng = 1;
    s->scratch = calloc((size_t)vocab_size, sizeof *s->scratch);
    if (!s->scratch)
        return sq_err(SQ_ERR_MEM, "sampler: out of memory");
    return 0;
}

void sq_sampler_free(sq_sampler_t *s)
{
    if (!s)
        return;
    free(s->scratch);
    s->scratch = NULL;
}

static float rand_f32(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return (float)((x * 0x2545F4914F6CDD1DULL) >> 40) / 16777216.0f; /* [0, 1) */
}

int sq_argmax(const float *x, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return best;
}

static int cmp_desc(const void *a, const void *b)
{
    float pa = ((const struct sq_prob_index *)a)->prob, pb = ((const struct sq_prob_index *)b)->prob;
    return pa > pb ? -1 : pa < pb ? 1 : 0;
}

int sq_sampler_sample(sq_sampler_t *s, float *logits)
{
    int n = s->vocab_size;
    if (s->temperature == 0.0f)
        return sq_argmax(logits, n);
    float max = logits[sq_argmax(logits, n)], sum = 0.0f;
    for (int i = 0; i < n; i++) {
        logits[i] = expf((logits[i] - max) / s->temperature);
        sum += logits[i];
    }
    for (int i = 0; i < n; i++)
        logits[i] /= sum;
    float coin = rand_f32(&s->rng);
    if (s->topp >= 1.0f) {
        float cdf = 0.0f;
        for (int i = 0; i < n; i++) {
            cdf += logits[i];
            if (coin < cdf)
                return i;
        }
        return n - 1;
    }
    /* nucleus: the smallest set of most likely tokens whose mass exceeds topp;
     * tokens below (1 - topp) / (n - 1) can never be in it and are skipped */
    float cutoff = (1.0f - s->topp) / (float)(n - 1 > 0 ? n - 1 : 1);
    int m = 0;
    for (int i = 0; i < n; i++)
        if (logits[i] >= cutoff)
            s->scratch[m++] = (struct sq_prob_index){logits[i], i};
    qsort(s->scratch, (size_t)m, sizeof *s->scratch, cmp_desc);
    float cum = 0.0f;
    int last = m - 1;
    for (int i = 0; i < m; i++) {
        cum += s->scratch[i].prob;
        if (cum > s->topp) {
            last = i;
            break;
        }
    }
    float r = coin * cum, cdf = 0.0f;
    for (int i = 0; i <= last; i++) {
        cdf += s->scratch[i].prob;
        if (r < cdf)
            return s->scratch[i].index;
    }
    return s->scratch[last].index;
}
