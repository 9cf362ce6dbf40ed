/* A random vector-unit op with its golden answer, for checking a level bit
 * for bit and timing it: one SQ_OP_VEC descriptor whose operands live in one
 * memory image (inputs drawn from a chosen kind of values, layouts with
 * strides, gaps, segments, misaligned int8 outputs or a KV-cache row written
 * through a position patch), and the image the golden reference
 * (host/numerics/vec.c) leaves behind. A level is right when the whole image
 * it leaves is equal: every output byte, and no byte outside the outputs
 * touched. Used by `sparq vec`, the tests and bench/vec.sh. */
#ifndef SQ_VEC_CASE_H
#define SQ_VEC_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/device.h"
#include "sparq/desc.h"

enum {
    SQ_VEC_VALUES_SMALL,   /* int32 in [-1000, 1000] */
    SQ_VEC_VALUES_WIDE,    /* random int32 at random magnitudes */
    SQ_VEC_VALUES_EXTREME, /* mostly wide, often INT32_MIN / MAX, 0, +-1 */
    SQ_VEC_VALUES_ZERO,    /* all-zero rows (norm of zero, rule 2 of zero) */
    SQ_VEC_VALUES_KINDS
};

enum {
    SQ_VEC_LAYOUT_PLAIN, /* contiguous rows */
    SQ_VEC_LAYOUT_GAPS,  /* padded strides and segment strides, misaligned int8 OUT */
    SQ_VEC_LAYOUT_KV,    /* ROPE/QUANT into row pos of a (heads, kv_cap, seg) cache through
                          * a position patch on OUT (and on TAB for ROT), as the compiler
                          * writes K and V */
    SQ_VEC_LAYOUTS
};

typedef struct {
    uint32_t func, flags, m, n, seg; /* seg 0: N */
    int values;                      /* SQ_VEC_VALUES_* */
    int layout;                      /* SQ_VEC_LAYOUT_* */
    int extreme_scales;              /* channel and row scales at their ends */
    uint32_t pos;                    /* KV layout: the cache row (position argument 0) */
    uint64_t seed;
} sq_vec_params_t;

typedef struct {
    sq_vec_params_t p;
    sq_vec_desc_t d;    /* addresses relative to the image until placed */
    uint8_t desc[SQ_DESC_BYTES]; /* the descriptor as the host writes it (patch words set) */
    uint32_t pos[SQ_RUN_POS];    /* run arguments its patches use */
    uint8_t *image;     /* operands */
    uint8_t *golden;    /* the image after the golden reference */
    uint64_t bytes;     /* image size (a multiple of 64) */
    uint64_t base;      /* device address of the image once placed */
    uint64_t cmd;       /* device address of the descriptor once placed */
} sq_vec_case_t;

/* Draws random parameters for case t of a campaign (every function in turn,
 * its flags, shapes from 1 to 300 elements with odd and L-unaligned sizes,
 * segments, value kinds, layouts, extreme scales). */
void sq_vec_params_random(uint64_t *rng, int t, sq_vec_params_t *p);

/* One line naming the case, for messages. */
void sq_vec_params_describe(const sq_vec_params_t *p, char *out, size_t n);

/* Builds the image and the golden answer. SQ_ERR_ARG (one line) for
 * parameters the unit does not accept, SQ_ERR_MEM. Free with
 * sq_vec_case_free, also after a failure. */
int sq_vec_case_build(sq_vec_case_t *vc, const sq_vec_params_t *p);
void sq_vec_case_free(sq_vec_case_t *vc);

/* Allocates the image and the descriptor on dev and writes both. */
int sq_vec_case_place(sq_dev_t *dev, sq_vec_case_t *vc);

/* Runs the placed descriptor (with its position arguments) and compares the
 * image the level leaves with the golden one. Returns 0 and sets *mismatch
 * to the first differing image offset, or to vc->bytes when all are equal;
 * a run error is returned as is. */
int sq_vec_case_run(sq_dev_t *dev, const sq_vec_case_t *vc, uint64_t max_cycles,
                    uint64_t *mismatch);

#endif
