#include "report/resources.h"

uint64_t sq_gemm_dsps(uint32_t rows, uint32_t cols)
{
    return 3ull * rows * cols + 4ull * cols + 5;
}
