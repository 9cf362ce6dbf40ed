#include "cli/cli_parallel.h"

#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "dist/dist.h"
#include "util/err.h"

void sq_cli_parallel_init(sq_cli_parallel_t *p)
{
    memset(p, 0, sizeof *p);
    p->link = sq_link_find(NULL);
}

int sq_cli_parallel_flag(const char *cmd, sq_cli_parallel_t *p, int c, const char *arg)
{
    switch (c) {
    case 0x201:
        return sq_cli_long(cmd, "--pipeline", arg, 1, 4096, &p->pipeline) ? -1 : 1;
    case 0x202:
        return sq_cli_long(cmd, "--tensor", arg, 1, 4096, &p->tensor) ? -1 : 1;
    case 0x203:
        if (!(p->link = sq_link_find(arg))) {
            sq_cli_error(cmd, "--link must be one of %s, got '%s'", sq_link_names(), arg);
            return -1;
        }
        return 1;
    default:
        return 0;
    }
}

int sq_cli_parallel_check(const char *cmd, sq_cli_parallel_t *p, sq_cli_accel_t *a)
{
    int size = sq_dist_size();
    if (sq_dist_rank() != 0)
        sq_cli_error_capture(p->err, sizeof p->err);
    if (p->pipeline && p->tensor) {
        sq_cli_error(cmd, "--pipeline and --tensor together are not supported yet: give one");
        return SQ_EXIT_USAGE;
    }
    long n = p->pipeline ? p->pipeline : p->tensor;
    if (n && n != size) {
        sq_cli_error(cmd, "--%s %ld needs %ld MPI ranks (mpirun -np %ld), this run has %d",
                     p->pipeline ? "pipeline" : "tensor", n, n, n, size);
        return SQ_EXIT_USAGE;
    }
    if (!n && size > 1) {
        sq_cli_error(cmd, "over %d MPI ranks give --pipeline %d or --tensor %d (or run it "
                     "without mpirun)", size, size, size);
        return SQ_EXIT_USAGE;
    }
    /* each stage's device holds its own layers' weights only */
    if (p->pipeline) {
        a->stage = sq_dist_rank();
        a->stages = size;
    }
    a->shards = p->tensor > 0;
    /* one card per rank on a host with several: the rank's index among the
     * ranks of its node, unless the user chose */
    const char *local = getenv("OMPI_COMM_WORLD_LOCAL_RANK");
    if (size > 1 && local && !getenv("SPARQ_XRT_DEVICE"))
        setenv("SPARQ_XRT_DEVICE", local, 0);
    return 0;
}

static int place(void *ctx, const void *host, size_t bytes)
{
    return sq_program_place(ctx, host, bytes);
}

/* Installs the split on this rank (its own verdict was 0). */
static int install(sq_cli_parallel_t *p, sq_cli_model_t *cm, sq_cli_accel_t *a)
{
    if (p->pipeline)
        return sq_pipeline_attach(&p->pp, &cm->model, &cm->ex, p->seqs > 0 ? p->seqs : 1,
                                  p->link);
    if (!cm->q.layers)
        return sq_err(SQ_ERR_ARG, "--tensor splits integer matmuls: give an integer recipe "
                      "(e.g. --recipe w8a8)");
    return sq_tensor_attach(&p->tp, &cm->q.scratch, &cm->ex, a->prog ? place : NULL, a->prog,
                            p->link);
}

int sq_cli_parallel_open(const char *cmd, sq_cli_parallel_t *p, int rc, sq_cli_model_t *cm,
                         sq_cli_accel_t *a)
{
    if (!p->pipeline && !p->tensor)
        return rc;
    int rank = sq_dist_rank(), size = sq_dist_size();
    int own = rc, opened = rc == 0;
    if (!rc && (rc = install(p, cm, a))) {
        sq_cli_error(cmd, "%s", sq_err_msg());
        rc = own = sq_cli_exit_code(rc);
    }
    sq_cli_error_capture(NULL, 0);
    /* the first failing rank's line, printed by rank 0 for the job */
    struct {
        int32_t rc;
        char err[sizeof p->err];
    } mine = {own, ""}, *all = rank == 0 ? calloc((size_t)size, sizeof *all) : NULL;
    memcpy(mine.err, p->err, sizeof mine.err);
    int worst = own;
    if (sq_dist_max_int(&worst) ||
        (rank == 0 && !all) || sq_dist_gather(&mine, sizeof mine, all, 0)) {
        /* nothing to agree with: end the job rather than wait */
        sq_parallel_fail(cmd, sq_err_msg());
    }
    for (int r = 1; rank == 0 && !own && r < size; r++)
        if (all[r].rc) {
            fprintf(stderr, "sparq %s: rank %d: %s\n", cmd, r, all[r].err);
            break;
        }
    free(all);
    if (worst && opened) {
        sq_cli_parallel_free(p);
        sq_cli_model_close(cm);
    }
    if (worst)
        return worst;
    p->n_layers = cm->model.cfg.n_layers;
    if (rank != 0 && !freopen("/dev/null", "w", stdout))
        sq_parallel_fail(cmd, "cannot silence stdout");
    if (a->report_path && size > 1) {
        /* FILE.json -> FILE.rankR.json */
        const char *dot = strrchr(a->report_path, '.');
        if (!dot || strchr(dot, '/'))
            dot = a->report_path + strlen(a->report_path);
        snprintf(p->report, sizeof p->report, "%.*s.rank%d%s", (int)(dot - a->report_path),
                 a->report_path, rank, dot);
        a->report_path = p->report;
    }
    return 0;
}

int sq_cli_parallel_close(const char *cmd, sq_cli_parallel_t *p, sq_cli_accel_t *a,
                          uint64_t tokens)
{
    if (!p->pipeline && !p->tensor)
        return 0;
    sq_rank_stats_t s = {.rank = sq_dist_rank(), .tokens = tokens, .seqs = p->seqs};
    if (a->dev) {
        sq_dev_stats_t d;
        sq_dev_stats(a->dev, &d);
        s.cycles = d.cycles;
        s.bytes = d.bytes_read + d.bytes_written;
    }
    s.weights = sq_program_weight_bytes(a->prog);
    s.traffic = p->pp ? sq_pipeline_traffic(p->pp) : sq_tensor_traffic(p->tp);
    s.layer_hi = p->n_layers;
    if (p->pp)
        sq_pipeline_layers(p->pp, &s.layer_lo, &s.layer_hi);
    fflush(stdout);
    int rc = sq_parallel_report(p->pipeline ? "pipeline" : "tensor", &s, a->clock_mhz, p->link,
                                stderr);
    if (rc)
        sq_cli_error(cmd, "%s", sq_err_msg());
    sq_cli_parallel_free(p);
    return rc ? SQ_EXIT_FAIL : 0;
}

void sq_cli_parallel_free(sq_cli_parallel_t *p)
{
    sq_pipeline_free(p->pp);
    sq_tensor_free(p->tp);
    p->pp = NULL;
    p->tp = NULL;
}
