/* What the integer programs (the Llama integer layer, sched/llama_int.h, and
 * the integer encoder, sched/bert_int.h) share: a command stream being
 * written, with a name per descriptor for the report; the dependencies every
 * cross-unit hazard needs; its copy in device memory; its runs with
 * per-descriptor counters; and linears placed in the GEMM formats with the
 * channel tables of rule 1 (include/sparq/vec.h). */
#ifndef SQ_ISTREAM_H
#define SQ_ISTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "compress/qlinear.h"
#include "report/report.h"
#include "runtime/device.h"
#include "sparq/desc.h"

typedef struct {
    int layer;      /* -1: whole-model ops */
    const char *op; /* a static string */
} sq_istream_tag_t;

typedef struct {
    sq_dev_t *dev;
    uint8_t *cmds;          /* host copy, n descriptors */
    sq_istream_tag_t *tags;
    uint32_t n, cap;
    uint64_t addr;          /* device copy (after sq_istream_finish) */
    uint32_t dev_cap;       /* descriptors the device area holds */
    sq_dev_stats_t *per;    /* per-descriptor counters of a run */
} sq_istream_t;

/* Empties s for a new stream on dev (the device area is kept for reuse). */
void sq_istream_reset(sq_istream_t *s, sq_dev_t *dev);
void sq_istream_free(sq_istream_t *s);

/* Appends one descriptor (zeroed) named (layer, op); NULL when out of memory
 * (the error is set). */
uint8_t *sq_istream_emit(sq_istream_t *s, int layer, const char *op);
/* A vector op; NULL when out of memory. */
uint8_t *sq_istream_vec(sq_istream_t *s, int layer, const char *op, const sq_vec_desc_t *v);

/* A linear (or several fused along n) in device memory: the weights in the
 * GEMM formats and the per-channel {mult, shift} of rule 1, whose channel
 * stage is the weight scale (times an extra factor) times 2^fi. */
typedef struct {
    uint32_t flags, n, k, group;
    uint64_t w, meta, gscale, chan;
    int fi;
} sq_ilin_t;

/* Places leaves l[0..nl) (integer, one format) fused along n. f (NULL: all
 * 1) holds an extra real factor per output channel folded into the channel
 * stage (1 / the int8 scale of Q, K and V). Grouped int4 becomes
 * SQ_GEMM_GSCALE: each channel's largest group scale s_j is its channel scale
 * and the groups keep round(2^15 s_jg / s_j). fi is the largest with
 * |t| < 2^30 for any int8 input, from the bound 128 sum_k |w_jk|. */
int sq_ilin_place(sq_dev_t *dev, const sq_qlinear_t *const *l, int nl, const double *f,
                  sq_ilin_t *out);
/* C (m, l->n) int32 = A (m, l->k) int8 times l's weights: one descriptor
 * per GEMM compute unit of the device (sq_gemm_desc_split: decode along N,
 * prefill along M), emitted one after the other with the same name, so they
 * run concurrently and one dependency on the last waits for them all. */
int sq_istream_gemm(sq_istream_t *s, int layer, const char *op, const sq_ilin_t *l, uint32_t m,
                    uint64_t a, uint64_t c);
/* Column slice j of `parts` of that GEMM at m = 1 (a column slice of the one
 * int32 row of C is contiguous), split over the compute units the same way;
 * *n0 and *n: its first column and its width (*n 0: nothing emitted). A
 * consumer of the slice can then run while the next slice's weights stream. */
int sq_istream_gemm_cols(sq_istream_t *s, int layer, const char *op, const sq_ilin_t *l,
                         uint64_t a, uint64_t c, uint32_t parts, uint32_t j, uint32_t *n0,
                         uint32_t *n);

/* Gives every descriptor a dependency on the latest descriptor of each other
 * unit that touches its bytes (one of them writing; a unit, and a GEMM
 * compute unit, runs its own in order; one dependency on a GEMM waits for
 * every GEMM before it) and writes the stream to device memory (a new area when the old
 * one is too small). */
int sq_istream_finish(sq_istream_t *s);
/* Runs the stream with the positions pos (SQ_RUN_POS of them); with rep,
 * adds each descriptor's counters to the report under its name. */
int sq_istream_run(sq_istream_t *s, const uint32_t *pos, sq_report_t *rep);

/* Calibrated maxima times SQ_ISTREAM_HEADROOM stay below 2^30 in a fixed
 * point: a value up to 8x the calibration maximum still fits int32. */
#define SQ_ISTREAM_HEADROOM 4.0

/* max |x_i| over n values. */
double sq_istream_amax(const float *x, size_t n);
/* Fractional bits that keep max * SQ_ISTREAM_HEADROOM below 2^30, within
 * [0, cap] (cap when max is 0). */
int sq_istream_frac_bits(double max, int cap);
/* An int8 scale from a calibrated maximum (max / 127; 1/127 for 0). */
double sq_istream_scale(double max);
/* Norm gains round(g_j sqrt(n) 2^fg) (rule 3) with the largest fg <= 40
 * that fits int32, placed in device memory. */
int sq_istream_gains(sq_dev_t *dev, const float *gain, int n, uint64_t *addr, int *fg);

#endif
