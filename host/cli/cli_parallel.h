/* generate over MPI ranks: the flags --pipeline, --tensor and --link, and
 * the glue between the CLI's model and level (cli_model.h, cli_accel.h) and
 * the splits of host/dist/parallel.h. */
#ifndef SQ_CLI_PARALLEL_H
#define SQ_CLI_PARALLEL_H

#include "cli/cli_accel.h"
#include "cli/cli_model.h"
#include "dist/parallel.h"

typedef struct {
    long pipeline, tensor;    /* --pipeline N, --tensor N; 0 when not given */
    const sq_link_t *link;    /* --link (default PCIe Gen3 x16) */
    sq_pipeline_t *pp;
    sq_tensor_t *tp;
    int n_layers;
    int seqs;                 /* sequences in flight in a pipeline (0: one) */
    char report[4096];        /* this rank's --report path */
    char err[512];            /* a rank above 0's setup error, for rank 0 */
} sq_cli_parallel_t;

#define SQ_CLI_PARALLEL_OPTS                                                                       \
    {"pipeline", required_argument, NULL, 0x201}, {"tensor", required_argument, NULL, 0x202},     \
        {"link", required_argument, NULL, 0x203}
#define SQ_CLI_PARALLEL_HELP                                                                       \
    "  --pipeline N        under mpirun -np N: layers split over the N ranks, each rank its own\n" \
    "                      level (docs/mpi.md)\n"                                                  \
    "  --tensor N          under mpirun -np N: every integer matmul split over the N ranks,\n"   \
    "                      int32 partial sums all-reduced (an integer recipe)\n"                  \
    "  --link L            link between devices for the modeled latency: pcie3x16 (default)\n"   \
    "                      or 100gbe\n"

void sq_cli_parallel_init(sq_cli_parallel_t *p);
/* 1 when c was one of the flags, 0 when not, -1 after printing a bad value. */
int sq_cli_parallel_flag(const char *cmd, sq_cli_parallel_t *p, int c, const char *arg);
/* After parsing: the split must match the ranks, and several ranks need a
 * split; a pipeline stage tells a which layers to compile. Ranks above 0
 * keep their errors from here on (rank 0 prints one line for the job).
 * Returns an exit code after one line, or 0. */
int sq_cli_parallel_check(const char *cmd, sq_cli_parallel_t *p, sq_cli_accel_t *a);
/* Every rank calls it with its verdict so far (rc; 0 when cm and a are
 * open); returns the worst verdict of every rank (closing cm when it was
 * open), after installing the split in
 * cm->ex. The output of ranks above 0 goes to /dev/null: rank 0 prints the
 * text; with --report each rank writes its own file (FILE.rankR.json). */
int sq_cli_parallel_open(const char *cmd, sq_cli_parallel_t *p, int rc, sq_cli_model_t *cm,
                         sq_cli_accel_t *a);
/* Frees the split (after an error every rank met). */
void sq_cli_parallel_free(sq_cli_parallel_t *p);
/* The per-rank report (on stderr, from rank 0) after `tokens` positions,
 * then frees the split. Call before sq_cli_accel_close. */
int sq_cli_parallel_close(const char *cmd, sq_cli_parallel_t *p, sq_cli_accel_t *a,
                          uint64_t tokens);

#endif
