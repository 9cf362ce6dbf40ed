/* Cycle model of the accelerator kernel's command processor (rtl/cp/sq_cp.sv)
 * and of the GEMM port's prefetch buffer (rtl/cp/sq_cp_prefetch.sv) for the
 * "model" level: the command processor's fetch, patch, dispatch, queues,
 * dependency counts, profile records and its own memory channel, cycle by
 * cycle, composed with the GEMM, attention and vector units' cycle models
 * (level_model.c, attn_model.c, vec_model.c), each on its own channel (per-port
 * channels, sim/sq_mem.h). Its cycles per descriptor, per unit and per run
 * equal the rtl level's (tests/test_cp.c). docs/cycle_model.md says what it
 * follows. */
#ifndef SQ_RUNTIME_CP_MODEL_H
#define SQ_RUNTIME_CP_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/attn_model.h"
#include "runtime/device.h"
#include "runtime/model_mem.h"
#include "runtime/vec_model.h"

/* ---- the GEMM port's prefetch buffer -------------------------------------- */

#define SQ_PF_RANGES 4u
#define SQ_PF_BEATS 64u   /* PfBeats of sq_cp_prefetch */
#define SQ_PF_CQ 32u      /* the core's bursts in flight */
#define SQ_PF_TAGS 64u    /* memory bursts in flight */

typedef struct {
    uint32_t hit, idx, beats; /* a core burst: from the buffer at idx, or from memory */
} sq_pf_burst_t;

typedef struct {
    uint32_t cols; /* the GEMM array's columns (the first N tile) */
    /* plan: first beat, beats and buffer base of each range */
    uint64_t lo[SQ_PF_RANGES];
    uint32_t nb[SQ_PF_RANGES], base[SQ_PF_RANGES];
    uint32_t r, off, issued, arrived;
    bool active;
    sq_pf_burst_t cq[SQ_PF_CQ];
    uint32_t cq_head, cq_count, cbeat;
    bool tags[SQ_PF_TAGS]; /* true: a prefetch burst */
    uint32_t tag_head, tag_count;
    /* this cycle's decisions, from drive to commit */
    bool pf_ar, hit;
    uint32_t pf_len, hit_idx;
    sq_mm_pins_t mem;
} sq_pf_t;

/* Empty, for an array of cols columns. */
void sq_pf_init(sq_pf_t *pf, uint32_t cols);
/* start_i for a (patched) GEMM descriptor: plans its ranges, active from the
 * next cycle. */
void sq_pf_start(sq_pf_t *pf, const uint8_t *desc);
/* clear_i: the unit finished the descriptor prefetched for. */
void sq_pf_clear(sq_pf_t *pf);
/* stop_i: the unit accepted a command; no more prefetch requests. */
void sq_pf_stop(sq_pf_t *pf);
/* Anything to clock: a request to issue or a burst in flight. */
bool sq_pf_busy(const sq_pf_t *pf, const sq_mm_t *mm);

/* One cycle on the GEMM port, for the GEMM model in place of sq_mm_drive
 * and sq_mm_commit: drive() gives the core its pins (core_ar_addr and
 * core_ar_beats: the core's read request this cycle, 0 beats for none);
 * commit() takes the core's handshakes (t->ar_addr the request's beat
 * address) and the memory's. */
void sq_pf_drive(sq_pf_t *pf, const sq_mm_t *mm, uint64_t core_ar_addr, uint32_t core_ar_beats,
                 sq_mm_pins_t *core);
void sq_pf_commit(sq_pf_t *pf, sq_mm_t *mm, const sq_mm_take_t *core);
/* Clocks the port with an idle core up to cycle `until` of mm's clock. */
void sq_pf_idle_until(sq_pf_t *pf, sq_mm_t *mm, uint64_t until);

/* ---- the command processor ------------------------------------------------ */

/* The GEMM unit's cycle model in core mode (level_model.c). */
typedef struct sq_gemm_model sq_gemm_model_t;
/* Its memory channel. */
sq_mm_t *sq_gemm_model_mm(sq_gemm_model_t *g);
/* Puts pf on the unit's port (NULL: none). */
void sq_gemm_model_port(sq_gemm_model_t *g, sq_pf_t *pf);
/* Runs one valid patched GEMM descriptor from the cycle the core accepts it
 * through the cycle of its cmd_done pulse, both counted: adds those cycles,
 * its stall cycles and the bytes it writes; the channel moves on as many
 * cycles. Fails (SQ_ERR_DEV) past max_cycles (0: no bound). */
int sq_gemm_model_core(sq_gemm_model_t *g, const uint8_t *desc, uint64_t max_cycles,
                       uint64_t *cycles, uint64_t *stalls, uint64_t *bytes_written);

/* What a run gives back, as sq_sim_run_t gives it on the rtl level (the
 * GEMM slot's counters add up every GEMM compute unit's). */
typedef struct {
    uint64_t cycles; /* ap_start to ap_done */
    uint64_t unit_busy[SQ_CP_UNITS], unit_stall[SQ_CP_UNITS];
    uint64_t unit_rbytes[SQ_CP_UNITS], unit_wbytes[SQ_CP_UNITS];
    uint64_t cp_rbytes, cp_wbytes;
} sq_cp_model_out_t;

/* One run of the accelerator kernel over r (validated, patched: r->descs).
 * exec(exec_ctx, upto) must leave the outputs of descriptors [0, upto)
 * computed in mem, in stream order (the golden reference): the attention
 * unit's timing reads its operands there, so descriptor i is timed after
 * exec(.., i); the run ends with exec(.., n). With r->prof_addr set, writes
 * the profile records into mem as the kernel does. gemm[0 .. cus-1] are the
 * GEMM compute units' models (each on its own channel), pf[c] unit c's
 * prefetch buffer, attn and vec the other units' models, cp the command
 * processor's channel (every channel's clock restarts at 0). Fails past
 * r->max_cycles (0: no bound). */
int sq_cp_model_run(sq_gemm_model_t *const *gemm, sq_pf_t *pf, unsigned cus,
                    sq_attn_model_t *attn, sq_vec_model_t *vec, sq_mm_t *cp, uint8_t *mem,
                    const sq_stream_run_t *r, int (*exec)(void *ctx, uint32_t upto),
                    void *exec_ctx, sq_cp_model_out_t *out);

#endif
