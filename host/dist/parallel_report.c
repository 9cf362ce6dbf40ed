/* The per-rank report of a model split over ranks (dist/parallel.h). */
#include <stdlib.h>

#include "dist/dist.h"
#include "dist/parallel.h"
#include "util/err.h"

static double per(uint64_t v, uint64_t tokens)
{
    return tokens ? (double)v / (double)tokens : 0;
}

int sq_parallel_report(const char *mode, const sq_rank_stats_t *mine, double clock_mhz,
                       const sq_link_t *link, FILE *f)
{
    int size = sq_dist_size(), rank = sq_dist_rank();
    sq_rank_stats_t *all = rank == 0 ? calloc((size_t)size, sizeof *all) : NULL;
    int bad = rank == 0 && !all;
    int rc = sq_dist_max_int(&bad);
    if (!rc && bad)
        rc = sq_err(SQ_ERR_MEM, "out of memory");
    if (!rc)
        rc = sq_dist_gather(mine, sizeof *mine, all, 0);
    if (rc || rank != 0) {
        free(all);
        return rc;
    }
    int pipe = mode[0] == 'p';
    fprintf(f, "%s over %d rank%s, link %s (%.2f GB/s, %.1f us a message), %.0f MHz; weights "
               "resident on each device, then per token:\n",
            mode, size, size > 1 ? "s" : "", link->name, link->gbps, link->latency_us, clock_mhz);
    fprintf(f, "%4s %7s %10s %8s %10s %12s %10s %11s %9s %9s\n", "rank", "layers", "weights",
            "tokens", "cycles", "device bytes", "sent bytes", "coll. bytes", "compute", "link");
    double sum_c = 0, max_c = 0, sum_l = 0, max_l = 0;
    for (int r = 0; r < size; r++) {
        const sq_rank_stats_t *s = &all[r];
        double comp = per(s->cycles, s->tokens) / clock_mhz; /* us */
        double lk = (s->tokens ? s->traffic.link_s * 1e6 / (double)s->tokens : 0);
        sum_c += comp;
        sum_l += lk;
        max_c = comp > max_c ? comp : max_c;
        max_l = lk > max_l ? lk : max_l;
        char layers[24];
        snprintf(layers, sizeof layers, "%d-%d", s->layer_lo, s->layer_hi - 1);
        fprintf(f, "%4d %7s %10llu %8llu %10.0f %12.0f %10.0f %11.0f %6.2f us %6.2f us\n",
                s->rank, layers, (unsigned long long)s->weights, (unsigned long long)s->tokens,
                per(s->cycles, s->tokens),
                per(s->bytes, s->tokens), per(s->traffic.sent, s->tokens),
                per(s->traffic.coll_bytes, s->tokens), comp, lk);
    }
    if (!max_c)
        fprintf(f, "(the level counts no cycles: compute is 0; --backend model or rtl counts "
                   "them)\n");
    if (pipe && all[0].traffic.run_s > 0) {
        /* measured, not modeled: every rank simulates its device on this
         * machine's CPU, so a stage waiting for a message is idle */
        fprintf(f, "measured here (wall time): each rank's share of the run spent on its "
                   "stage, not waiting for a message:");
        for (int r = 0; r < size; r++) {
            const sq_traffic_t *t = &all[r].traffic;
            fprintf(f, " %d: %.0f%%", r,
                    t->run_s > 0 ? 100.0 * (1.0 - t->wait_s / t->run_s) : 100.0);
        }
        fputc('\n', f);
    }
    if (pipe) {
        /* one sequence goes through every stage and hop in turn; k sequences
         * in flight share the ring: a token every lat / k, but never faster
         * than the slowest stage or hop passes one on */
        double lat = sum_c + sum_l, slot = max_c > max_l ? max_c : max_l;
        int k = all[0].seqs > 0 ? all[0].seqs : 1;
        double every = lat / k > slot ? lat / k : slot;
        fprintf(f, "modeled: %.2f us a token for one sequence (stages %.2f us + link %.2f us: "
                   "%s bound); with this run's %d sequence%s in flight one token every %.2f us "
                   "(%s)\n",
                lat, sum_c, sum_l, sum_l > sum_c ? "link" : "compute", k, k > 1 ? "s" : "", every,
                lat / k > slot ? "round-trip bound: more sequences in flight would help"
                : max_l > max_c ? "link bound" : "compute bound");
    } else {
        /* every rank computes its share, then they all-reduce: no overlap */
        fprintf(f, "modeled: %.2f us a token (busiest rank %.2f us + all-reduces %.2f us: %s "
                   "bound)\n",
                max_c + max_l, max_c, max_l, max_l > max_c ? "link" : "compute");
    }
    free(all);
    return 0;
}
