/* Modeled device memory behind the AXI4 master ports of a kernel (512-bit
 * beats): one flat address space, and the timing of the memory channels the
 * ports reach.
 *
 * Channels: port p of a kernel is timed on channel p (SQ_MEM_PER_PORT, the
 * default: every port its own channel of the same bandwidth and latency, as
 * the pseudo-channels of an HBM stack or the DDR4 channels of a U250 give a
 * kernel), or every port on channel 0 (SQ_MEM_SHARED: one DDR4 channel
 * serves them all). A kernel with one port sees the same memory either way.
 *
 * Bandwidth: a channel's byte budget refills by bytes_per_cycle every cycle
 * (capped so idle cycles cannot be banked); each read or write beat spends
 * 64 bytes, so reads and writes share a channel as they share a DDR channel.
 * A port alternates between a read and a write beat when both want one and
 * the budget has room for one (round robin). On a shared channel the ports
 * take turns too: each cycle the ports are served in round-robin order
 * starting after the port that was served first in the last cycle that
 * served any, each port its read and write beat in its own order, while the
 * budget lasts.
 * Latency: a read burst's first beat is available latency_cycles after its
 * address was accepted; a port's bursts are pipelined (up to
 * SQ_MEM_MAX_OUTSTANDING in flight) and return in order. A write response
 * follows the last write beat by latency_cycles. Out-of-range accesses set a
 * sticky error (the data read is zero, the write is dropped), never a crash. */
#ifndef SQ_MEM_H
#define SQ_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "sq_axi.h"

#define SQ_MEM_MAX_OUTSTANDING 64u
#define SQ_MEM_MAX_PORTS SQ_AXI_MAX_PORTS

typedef enum { SQ_MEM_PER_PORT, SQ_MEM_SHARED } sq_mem_channels_t;

typedef struct sq_mem sq_mem_t;

/* Returns 0, or SQ_ERR_ARG / SQ_ERR_MEM. *out is freed with sq_mem_destroy.
 * Channels start SQ_MEM_PER_PORT. */
int sq_mem_create(uint64_t bytes, double bytes_per_cycle, uint32_t latency_cycles,
                  sq_mem_t **out);
/* Frees everything; accepts NULL. */
void sq_mem_destroy(sq_mem_t *m);

/* How ports map to channels; only between runs (nothing in flight). */
void sq_mem_set_channels(sq_mem_t *m, sq_mem_channels_t mode);

uint64_t sq_mem_size(const sq_mem_t *m);
/* Host access to the contents (bounds-checked; SQ_ERR_ARG when out of range). */
int sq_mem_write(sq_mem_t *m, uint64_t addr, const void *src, size_t n);
int sq_mem_read(const sq_mem_t *m, uint64_t addr, void *dst, size_t n);

/* Per cycle, for a kernel with nports AXI4 ports (bus[0 .. nports-1]):
 * drive() sets the memory->kernel pins from the current state (before the
 * kernel is evaluated); commit() takes the handshakes the kernel completed
 * in this cycle and advances every channel by one cycle. */
void sq_mem_drive(sq_mem_t *m, sq_axi_t *bus, unsigned nports);
void sq_mem_commit(sq_mem_t *m, const sq_axi_t *bus, unsigned nports);

/* True when no burst or response is in flight on any port. */
int sq_mem_quiet(const sq_mem_t *m);

typedef struct {
    uint64_t bytes_read;    /* 64 per read beat */
    uint64_t bytes_written; /* strobed bytes */
    uint64_t read_bursts, write_bursts;
} sq_mem_stats_t;
/* Totals over every port, or those of port p. */
void sq_mem_stats(const sq_mem_t *m, sq_mem_stats_t *out);
void sq_mem_port_stats(const sq_mem_t *m, unsigned p, sq_mem_stats_t *out);

/* NULL, or the first out-of-range access as a one-line message. */
const char *sq_mem_error(const sq_mem_t *m);
void sq_mem_clear_error(sq_mem_t *m);

#endif
