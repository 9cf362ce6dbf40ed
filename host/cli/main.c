/* sparq command-line entry: dispatches to one subcommand per host/cli/cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "dist/dist.h"
#include "util/err.h"

static const sq_cmd_t commands[] = {
#define SQ_CMD(name, summary) {#name, summary, sq_cmd_##name, 0},
#define SQ_CMD_RANKS(name, summary) {#name, summary, sq_cmd_##name, 1},
#include "cli/commands.def"
#undef SQ_CMD_RANKS
#undef SQ_CMD
    {NULL, NULL, NULL, 0},
};

static void usage(FILE *f)
{
    fputs("usage: sparq <command> [flags]   (sparq <command> --help for its flags)\n\n"
          "every command also takes:\n" SQ_CLI_MAX_MEM_HELP "\ncommands:\n",
          f);
    for (size_t i = 0; commands[i].name; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

/* Under a launcher (mpirun, srun) MPI starts before the command, so every
 * rank agrees on what runs; started by hand, sparq is one process and never
 * initialises MPI (host/dist/dist.h). */
static int run(const sq_cmd_t *c, int argc, char **argv)
{
    if (sq_dist_init()) {
        fprintf(stderr, "sparq %s: %s\n", c->name, sq_err_msg());
        return SQ_EXIT_USAGE;
    }
    int rc;
    if (sq_dist_size() > 1 && !c->ranks) {
        if (sq_dist_rank() == 0)
            fprintf(stderr, "sparq %s: does not spread over MPI ranks; run it without mpirun "
                    "(or with -np 1)\n", c->name);
        rc = SQ_EXIT_USAGE;
    } else {
        rc = c->run(argc, argv);
    }
    sq_dist_finalize();
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return SQ_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    /* --max-mem belongs to every command: taken out here (cli.h) */
    for (int i = 2; i < argc; i++) {
        const char *v = NULL;
        int take = 0;
        if (!strcmp(argv[i], "--max-mem") && i + 1 < argc)
            v = argv[i + 1], take = 2;
        else if (!strncmp(argv[i], "--max-mem=", 10))
            v = argv[i] + 10, take = 1;
        if (!take)
            continue;
        if (sq_cli_max_mem_parse(v) != 0)
            return SQ_EXIT_USAGE;
        memmove(&argv[i], &argv[i + take], (size_t)(argc - i - take + 1) * sizeof *argv);
        argc -= take;
        i--;
    }
    for (size_t i = 0; commands[i].name; i++)
        if (!strcmp(argv[1], commands[i].name))
            return run(&commands[i], argc - 1, argv + 1);
    fprintf(stderr, "sparq: unknown command '%s' (see sparq --help)\n", argv[1]);
    return SQ_EXIT_USAGE;
}
