/* Cycle model of the attention unit (rtl/attn/sq_attn_core.sv) for the "model"
 * level: control state and memory timing only. What it follows and what it
 * leaves out: docs/cycle_model.md. */
#ifndef SQ_RUNTIME_ATTN_MODEL_H
#define SQ_RUNTIME_ATTN_MODEL_H

#include <stdint.h>

#include "runtime/model_mem.h"
#include "sparq/attn.h"

typedef struct {
    sq_mm_t *mm;
    sq_attn_row_t *row; /* scores of the query row being timed */
    uint64_t cycles, stalls, bytes_written;
} sq_attn_model_t;

/* Returns 0 or SQ_ERR_MEM. The memory timing is shared with the GEMM model
 * (one port per unit, never busy at once). */
int sq_attn_model_init(sq_attn_model_t *am, sq_mm_t *mm);
/* Frees the scratch; accepts NULL and a model whose init failed. */
void sq_attn_model_free(sq_attn_model_t *am);

/* One run of the standalone kernel (sq_unit_top: sq_fetch and the core):
 * begin at ap_start, one call per descriptor in stream order (mem is the
 * device image holding the descriptor and its operands, already checked by
 * the device), end after the last. The counters are those of sq_ctrl from
 * ap_start to ap_done. */
void sq_attn_model_begin(sq_attn_model_t *am);
void sq_attn_model_desc(sq_attn_model_t *am, uint8_t *mem, uint64_t desc_addr);
void sq_attn_model_end(sq_attn_model_t *am);

/* The core alone (sq_attn_core), for a command processor: one attention
 * descriptor desc (a patched host copy; its operands in mem), from the cycle
 * after the core accepts it through its cmd_done pulse. Adds to the counters
 * and moves the memory timing on as many cycles. */
void sq_attn_model_core(sq_attn_model_t *am, uint8_t *mem, const uint8_t *desc);

#endif
