/* Timing of the modeled device memory (the rules of sim/sq_mem.c) for the
 * cycle models of the "model" level: a byte budget refilled every cycle and
 * capped so idle cycles cannot be banked, 64 bytes per read or write beat,
 * a read latency per burst and a write response latency, bursts in order
 * with up to SQ_MEM_MAX_OUTSTANDING in flight, and the round robin between a
 * read and a write beat. Timing only: no data, no address checks. */
#ifndef SQ_RUNTIME_MODEL_MEM_H
#define SQ_RUNTIME_MODEL_MEM_H

#include <stdbool.h>
#include <stdint.h>

#define SQ_MM_BEAT 64u
#define SQ_MM_MAX_OUT 64u /* SQ_MEM_MAX_OUTSTANDING */

typedef struct {
    uint64_t ready_at; /* read: first beat may go; write response: due */
    uint32_t beats;
} sq_mm_burst_t;

typedef struct {
    sq_mm_burst_t q[SQ_MM_MAX_OUT];
    uint32_t head, count;
} sq_mm_queue_t;

typedef struct {
    double bpc;       /* bytes per cycle */
    uint32_t latency; /* cycles */
    uint64_t now;
    double credit;
    sq_mm_queue_t rd, aw, b;
    bool prefer_write;
    uint64_t bytes_read; /* 64 per read beat */
} sq_mm_t;

/* The memory's side of the bus in the current cycle. */
typedef struct {
    bool r, w;             /* a read beat (rvalid) / a write beat (wready) is granted */
    bool rlast;            /* the granted read beat ends its burst */
    bool arready, awready;
    bool bvalid;
} sq_mm_pins_t;

/* What the kernel completed in the cycle. */
typedef struct {
    uint32_t ar_beats; /* read burst accepted (0: none) */
    uint64_t ar_addr;  /* its beat-aligned address (for a prefetch buffer in front) */
    bool r;            /* read beat taken (rvalid && rready) */
    bool w, wlast;     /* write beat taken, and its wlast */
    uint32_t aw_beats; /* write burst accepted (0: none) */
    bool b;            /* response taken (bvalid && bready) */
} sq_mm_take_t;

void sq_mm_init(sq_mm_t *m, double bytes_per_cycle, uint32_t latency_cycles);

/* Before a run: the control-register accesses before ap_start leave the
 * channel idle, so the budget is full. */
void sq_mm_start(sq_mm_t *m);

void sq_mm_drive(const sq_mm_t *m, sq_mm_pins_t *p);

/* Takes the handshakes of the cycle and advances one cycle. */
void sq_mm_commit(sq_mm_t *m, const sq_mm_take_t *t);

/* n cycles without any handshake (only the budget refills), as n commits
 * of nothing would. */
void sq_mm_idle(sq_mm_t *m, uint64_t n);

/* Head of the read burst queue (NULL when empty). */
sq_mm_burst_t *sq_mm_read_head(sq_mm_t *m);

#endif
