/* Modeled device memory behind one AXI4 master port (512-bit beats).
 *
 * Bandwidth: a byte budget refills by bytes_per_cycle every cycle (capped so
 * idle cycles cannot be banked); each read or write beat spends 64 bytes, so
 * reads and writes share the channel as they share a DDR channel.
 * Latency: a read burst's first beat is available latency_cycles after its
 * address was accepted; bursts are pipelined (up to SQ_MEM_MAX_OUTSTANDING
 * in flight) and return in order. A write response follows the last write
 * beat by latency_cycles. Out-of-range accesses set a sticky error (the data
 * read is zero, the write is dropped), never a crash. */
#ifndef SQ_MEM_H
#define SQ_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "sq_axi.h"

#define SQ_MEM_MAX_OUTSTANDING 64u

typedef struct sq_mem sq_mem_t;

/* Returns 0, or SQ_ERR_ARG / SQ_ERR_MEM. *out is freed with sq_mem_destroy. */
int sq_mem_create(uint64_t bytes, double bytes_per_cycle, uint32_t latency_cycles,
                  sq_mem_t **out);
/* Frees everything; accepts NULL. */
void sq_mem_destroy(sq_mem_t *m);

uint64_t sq_mem_size(const sq_mem_t *m);
/* Host access to the contents (bounds-checked; SQ_ERR_ARG when out of range). */
int sq_mem_write(sq_mem_t *m, uint64_t addr, const void *src, size_t n);
int sq_mem_read(const sq_mem_t *m, uint64_t addr, void *dst, size_t n);

/* Per cycle: drive() sets the memory->kernel pins from the current state
 * (before the kernel is evaluated); commit() takes the handshakes the kernel
 * completed in this cycle and advances the model by one cycle. */
void sq_mem_drive(sq_mem_t *m, sq_axi_t *bus);
void sq_mem_commit(sq_mem_t *m, const sq_axi_t *bus);

/* True when no burst or response is in flight. */
int sq_mem_quiet(const sq_mem_t *m);

typedef struct {
    uint64_t bytes_read;    /* 64 per read beat */
    uint64_t bytes_written; /* strobed bytes */
    uint64_t read_bursts, write_bursts;
} sq_mem_stats_t;
void sq_mem_stats(const sq_mem_t *m, sq_mem_stats_t *out);

/* NULL, or the first out-of-range access as a one-line message. */
const char *sq_mem_error(const sq_mem_t *m);
void sq_mem_clear_error(sq_mem_t *m);

#endif
