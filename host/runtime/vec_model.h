/* Cycle model of the vector unit (rtl/vec/sq_vec_core.sv) for the "model"
 * level: control state and memory timing only. What it follows and what it
 * leaves out: docs/cycle_model.md. */
#ifndef SQ_RUNTIME_VEC_MODEL_H
#define SQ_RUNTIME_VEC_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/model_mem.h"
#include "sparq/vec.h"

#define SQ_VEC_MODEL_BUFS 6 /* the core's read buffers */
/* their slots of one 128-byte block: buffer b's block k in slot
 * b * SQ_VEC_BUF_BLOCKS + k % SQ_VEC_BUF_BLOCKS */
#define SQ_VEC_MODEL_SLOTS (SQ_VEC_MODEL_BUFS * SQ_VEC_BUF_BLOCKS)
#define SQ_VEC_MODEL_RQ 64 /* the request engine's queue of bursts in flight */

typedef struct {
    sq_mm_t *mm;
    bool bv[SQ_VEC_MODEL_SLOTS];   /* the slot holds its block */
    bool pend[SQ_VEC_MODEL_SLOTS]; /* its block is asked for and not all there */
    uint64_t btag[SQ_VEC_MODEL_SLOTS];
    uint64_t far;                  /* slots to ask for (bit = slot), the lowest first */
    uint8_t rq[SQ_VEC_MODEL_RQ];   /* slots of the bursts in flight, in order */
    uint32_t rq_head, rq_cnt;
    uint32_t wout;     /* write bursts awaiting their response */
    bool wv;           /* the write-combining block holds bytes */
    uint64_t wtag;     /* its 128-byte block */
    uint64_t wstrb[2]; /* its byte strobes, per beat */
    uint64_t cycles, stalls, bytes_written;
} sq_vec_model_t;

/* The memory timing is the unit's own port. */
void sq_vec_model_init(sq_vec_model_t *vm, sq_mm_t *mm);

/* One run of the standalone kernel (sq_unit_top: sq_fetch and the core), as
 * sq_attn_model_begin/desc/end (attn_model.h): mem is the device image
 * holding the descriptor and its operands, already checked by the device. */
void sq_vec_model_begin(sq_vec_model_t *vm);
void sq_vec_model_desc(sq_vec_model_t *vm, const uint8_t *mem, uint64_t desc_addr);
void sq_vec_model_end(sq_vec_model_t *vm);

/* The core alone (sq_vec_core), for a command processor: one vector
 * descriptor desc (a patched host copy; its operands in mem), from the cycle
 * after the core accepts it through its cmd_done pulse. */
void sq_vec_model_core(sq_vec_model_t *vm, const uint8_t *mem, const uint8_t *desc);

#endif
