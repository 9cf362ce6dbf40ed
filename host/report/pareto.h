/* Pareto front of design points over latency, DSPs and accuracy, and its
 * plot (SVG), for `sparq sweep`. */
#ifndef SQ_PARETO_H
#define SQ_PARETO_H

#include <stddef.h>

typedef struct {
    char label[96];    /* shown beside a point of the front, and on hover */
    double dsps;       /* DSP48E2 slices */
    double latency_us; /* per token (or per pass) */
    double ppl;        /* perplexity; NAN when not measured */
} sq_pareto_point_t;

/* front[i] = 1 when no other point is at least as good in every objective
 * (lower DSPs, latency and perplexity; perplexity only where both points
 * have it) and strictly better in one; equal points are both on the front. */
void sq_pareto_front(const sq_pareto_point_t *p, size_t n, unsigned char *front);

/* Log-log plot of latency against DSPs, each point coloured by perplexity
 * (a colour bar gives the scale), the front ringed and labelled. */
int sq_pareto_write_svg(const char *path, const char *title, const sq_pareto_point_t *p,
                        size_t n, const unsigned char *front);

#endif
