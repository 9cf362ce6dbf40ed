/* CRC-32 speed on one file, in memory: zlib's crc32_z (what sparq uses) and
 * the byte-at-a-time table CRC-32 sparq carried before it (host/util/crc32.c
 * as of bench/libs.sh's LIBS_OLD, linked in as sq_crc32). Best of 5 runs each;
 * both must give the same CRC. Prints one line per implementation:
 *   name MB seconds MB/s crc
 * Usage: bench_crc FILE (bench/libs.sh) */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <zlib.h>

uint32_t sq_crc32(uint32_t crc, const void *data, size_t n); /* the replaced code */

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint32_t zlib_crc(const uint8_t *p, size_t n)
{
    return (uint32_t)crc32_z(0, p, n);
}

static uint32_t old_crc(const uint8_t *p, size_t n)
{
    return sq_crc32(0, p, n);
}

static uint32_t best_of(uint32_t (*f)(const uint8_t *, size_t), const uint8_t *p, size_t n,
                        double *secs)
{
    uint32_t crc = 0;
    *secs = 1e30;
    for (int r = 0; r < 5; r++) {
        double t0 = now();
        crc = f(p, n);
        double t = now() - t0;
        *secs = t < *secs ? t : *secs;
    }
    return crc;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        return fprintf(stderr, "usage: bench_crc FILE\n"), 2;
    FILE *f = fopen(argv[1], "rb");
    if (!f)
        return fprintf(stderr, "bench_crc: cannot open %s\n", argv[1]), 1;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = len > 0 ? malloc((size_t)len) : NULL;
    if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len)
        return fprintf(stderr, "bench_crc: cannot read %s\n", argv[1]), 1;
    fclose(f);
    double mb = (double)len / 1e6, t_old, t_zlib;
    uint32_t c_old = best_of(old_crc, buf, (size_t)len, &t_old);
    uint32_t c_zlib = best_of(zlib_crc, buf, (size_t)len, &t_zlib);
    printf("handwritten\t%.1f\t%.4f\t%.0f\t%08x\n", mb, t_old, mb / t_old, c_old);
    printf("zlib\t%.1f\t%.4f\t%.0f\t%08x\n", mb, t_zlib, mb / t_zlib, c_zlib);
    free(buf);
    if (c_old != c_zlib)
        return fprintf(stderr, "bench_crc: CRCs differ\n"), 1;
    return 0;
}
