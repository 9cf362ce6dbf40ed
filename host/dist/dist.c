/* What both implementations of host/dist/dist.h share: recognising a launch. */
#include "dist/dist.h"

#include <stdlib.h>

int sq_dist_launched(void)
{
    /* Open MPI's mpirun (and its orted under Slurm) exports the world size;
     * a PMIx launcher such as `srun --mpi=pmix` exports only the rank. */
    const char *size = getenv("OMPI_COMM_WORLD_SIZE");
    if (size) {
        char *end;
        long n = strtol(size, &end, 10);
        return end != size && !*end && n > 0 && n < (1L << 30) ? (int)n : -1;
    }
    return getenv("PMIX_RANK") ? -1 : 0;
}
