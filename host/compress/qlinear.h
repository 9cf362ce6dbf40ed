/* One compressed linear layer y (n) = W (n, k) . x (k), as a recipe leaves it.
 *
 * F32       fp32 weights on the host (pruned, head-pruned or factorized only)
 * CODEBOOK  a k-means codebook and one index per weight; runs on the host
 *           from the decoded fp32 values (the matmul unit has no codebook
 *           decoder)
 * INT       int8, int4 or 2:4-int8 weights in the layouts of
 *           include/sparq/numerics.h with per-channel or per-group scales;
 *           activations quantized to int8 (per token, or with a static
 *           calibrated scale) and every product accumulated by the golden
 *           GEMM, sq_gemm_ref.
 *
 * Groups (int4 with group < k) are applied by splitting K: group g is its own
 * GEMM on the k-slice [g*group, (g+1)*group) of the activations and a packed
 * (n, group) weight operand, giving int32 partial sums that are scaled by the
 * (channel, group) scale and summed in fp32:
 *   y_i = s_a * sum_g s_ig * gemm_g(a, W_g)_i
 * which is what the device does when a grouped layer is tiled along K.
 *
 * Activations are int8 (values in [-127, 127]) or int4 (values in [-7, 7],
 * carried in the same int8 operands, which every level multiplies exactly).
 * A layer with an online rotation (recipe `rot`, QuaRot) holds W.H^T / sqrt(n)
 * for the Hadamard matrix H of order n >= k_in (the input zero-padded to n):
 * its input is quantized to int16 per token, rotated by the integer transform
 * of include/sparq/hadamard.h, and requantized to int8/int4 by its own
 * maximum, so the GEMM sees H.x and y = W.x is unchanged up to rounding. */
#ifndef SQ_QLINEAR_H
#define SQ_QLINEAR_H

#include <stddef.h>
#include <stdint.h>

#include "sparq/numerics.h"

typedef enum { SQ_QL_F32, SQ_QL_CODEBOOK, SQ_QL_INT } sq_ql_kind_t;

typedef struct {
    sq_ql_kind_t kind;
    size_t n, k;
    float *wf;          /* F32 and CODEBOOK: (n, k) (CODEBOOK: decoded) */
    uint8_t *idx;       /* CODEBOOK: (n, k) */
    float *codebook;    /* CODEBOOK: (codebook_size) */
    uint32_t codebook_size;
    uint32_t flags;     /* INT: 0, SQ_GEMM_W4 or SQ_GEMM_SP24 */
    uint8_t *w;         /* INT: (n, sq_w_row_bytes(flags, k)) */
    uint8_t *meta;      /* INT with SP24: (n, sq_meta_row_bytes(k)) */
    size_t group;       /* INT: inputs per scale (k: one per channel) */
    float *scale;       /* INT: (n, sq_quant_groups(k, group)) */
    float act_scale;    /* INT: static activation scale; 0 = per-token dynamic */
    int act_bits;       /* INT: 8, or 4 (values in [-7, 7]) */
    size_t k_in;        /* inputs the caller passes (k, or fewer with a padded rotation) */
    size_t had_m;       /* INT: 0, or the Paley factor of the online rotation of order k */
    int8_t *had_tab;    /* INT with had_m: sq_had_base(had_m) */
    uint8_t *wg;        /* INT, group < k: the per-group GEMM operands, group-major */
    size_t wg_bytes;    /* INT, group < k: bytes of wg */
} sq_qlinear_t;

/* Where the integer GEMMs of a layer run: run == NULL means the golden
 * reference on the host (sq_gemm_ref); the compiler (host/sched) points it at
 * a device level. Every call is an SQ_GEMM_OUT32 GEMM (m = 1 unless
 * sq_qlinear_run_rows batches rows). */
typedef struct {
    int (*run)(void *ctx, const sq_gemm_t *g);
    void *ctx;
} sq_gemm_runner_t;

/* What one call needs: k int8 activations, n int32 accumulators, 2 k int32
 * (the online rotation) and the GEMM runner; for sq_qlinear_run_rows rows
 * times as many, and sa (rows). */
typedef struct {
    int8_t *act;
    int32_t *acc;
    int32_t *wide;
    float *sa;
    sq_gemm_runner_t runner;
} sq_qscratch_t;

/* Scratch for calls of up to rows rows of at most width inputs and outputs
 * (runner cleared); free with sq_qscratch_free. */
int sq_qscratch_alloc(sq_qscratch_t *s, size_t rows, size_t width);
void sq_qscratch_free(sq_qscratch_t *s);

/* Builders copy their inputs. */
int sq_qlinear_f32(sq_qlinear_t *q, const float *w, size_t n, size_t k);
int sq_qlinear_codebook(sq_qlinear_t *q, const float *codebook, uint32_t size, const uint8_t *idx,
                        size_t n, size_t k);
/* vals (n, k) integers in the range of the format (int4: [-8, 7]); with
 * SQ_GEMM_SP24 at most 2 nonzeros in every 4 (encoded with
 * sq_sp24_encode_row); scale (n, groups). */
int sq_qlinear_int(sq_qlinear_t *q, uint32_t flags, const int8_t *vals, const float *scale,
                   size_t group, float act_scale, size_t n, size_t k);
/* Wraps packed payloads as they are stored (e.g. read from a .sqm). */
int sq_qlinear_int_packed(sq_qlinear_t *q, uint32_t flags, const uint8_t *w, const uint8_t *meta,
                          const float *scale, size_t group, float act_scale, size_t n, size_t k);
void sq_qlinear_free(sq_qlinear_t *q);

/* How an integer layer quantizes its input: act_bits 8 or 4; with had, the
 * layer's k is a Hadamard order (sq_had_order) and the caller passes k_in <= k
 * inputs, rotated online as above. */
int sq_qlinear_set_input(sq_qlinear_t *q, int act_bits, size_t k_in, int had);

/* y = W.x; scratch sized for this layer. */
int sq_qlinear_run(const sq_qlinear_t *q, const float *x, float *y, const sq_qscratch_t *s);
/* y (rows, n) = x (rows, k) . W^T with the bits of sq_qlinear_run on each
 * row (each row its own activation scale), as one m = rows GEMM when the
 * weights have one scale per channel (grouped layers run row by row). */
int sq_qlinear_run_rows(const sq_qlinear_t *q, const float *x, size_t rows, float *y,
                        const sq_qscratch_t *s);

/* Decodes the layer to fp32 (n, k_in) as the integer path sees it (an online
 * rotation multiplied back out). */
int sq_qlinear_dequant(const sq_qlinear_t *q, float *w);

/* Bytes stored: payload, metadata, scales, codebook. */
size_t sq_qlinear_bytes(const sq_qlinear_t *q);

#endif
