/* Modeled device memory; the timing rules are in sq_mem.h. */
#include "sq_mem.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

typedef struct {
    uint64_t addr;     /* beat-aligned address of the next beat */
    uint32_t beats;    /* beats left */
    uint64_t ready_at; /* cycle the next beat may go (reads), or the response (writes) */
} burst_t;

typedef struct {
    burst_t q[SQ_MEM_MAX_OUTSTANDING];
    uint32_t head, count;
} queue_t;

struct sq_mem {
    uint8_t *data;
    uint64_t size;
    double bpc;     /* bytes per cycle */
    double credit;  /* bytes the channel may still move */
    uint32_t latency;
    uint64_t now;
    queue_t rd, aw, b;
    int prefer_write; /* round-robin between a read and a write beat */
    int grant_r, grant_w;
    sq_mem_stats_t stats;
    char err[160];
    int has_err;
};

static burst_t *q_head(queue_t *q)
{
    return q->count ? &q->q[q->head] : NULL;
}

static void q_push(queue_t *q, burst_t b)
{
    q->q[(q->head + q->count) % SQ_MEM_MAX_OUTSTANDING] = b;
    q->count++;
}

static void q_pop(queue_t *q)
{
    q->head = (q->head + 1) % SQ_MEM_MAX_OUTSTANDING;
    q->count--;
}

int sq_mem_create(uint64_t bytes, double bytes_per_cycle, uint32_t latency_cycles,
                  sq_mem_t **out)
{
    if (bytes == 0 || bytes % SQ_AXI_BEAT_BYTES || !(bytes_per_cycle > 0))
        return sq_err(SQ_ERR_ARG, "device memory: size must be a nonzero multiple of 64 and "
                                  "bandwidth positive");
    sq_mem_t *m = calloc(1, sizeof *m);
    if (!m)
        return sq_err(SQ_ERR_MEM, "device memory: out of host memory");
    m->data = calloc(1, bytes);
    if (!m->data) {
        free(m);
        return sq_err(SQ_ERR_MEM, "device memory: cannot allocate %" PRIu64 " bytes", bytes);
    }
    m->size = bytes;
    m->bpc = bytes_per_cycle;
    m->latency = latency_cycles;
    *out = m;
    return 0;
}

void sq_mem_destroy(sq_mem_t *m)
{
    if (!m)
        return;
    free(m->data);
    free(m);
}

uint64_t sq_mem_size(const sq_mem_t *m)
{
    return m->size;
}

static int in_range(const sq_mem_t *m, uint64_t addr, uint64_t n)
{
    return addr <= m->size && n <= m->size - addr;
}

int sq_mem_write(sq_mem_t *m, uint64_t addr, const void *src, size_t n)
{
    if (!in_range(m, addr, n))
        return sq_err(SQ_ERR_ARG, "device memory: write of %zu bytes at 0x%" PRIx64
                                  " is outside the %" PRIu64 "-byte memory", n, addr, m->size);
    memcpy(m->data + addr, src, n);
    return 0;
}

int sq_mem_read(const sq_mem_t *m, uint64_t addr, void *dst, size_t n)
{
    if (!in_range(m, addr, n))
        return sq_err(SQ_ERR_ARG, "device memory: read of %zu bytes at 0x%" PRIx64
                                  " is outside the %" PRIu64 "-byte memory", n, addr, m->size);
    memcpy(dst, m->data + addr, n);
    return 0;
}

static void set_error(sq_mem_t *m, const char *what, uint64_t addr, uint32_t beats)
{
    if (m->has_err)
        return;
    m->has_err = 1;
    snprintf(m->err, sizeof m->err,
             "kernel %s of %u beats at 0x%" PRIx64 " is outside the %" PRIu64 "-byte memory",
             what, beats, addr, m->size);
}

void sq_mem_drive(sq_mem_t *m, sq_axi_t *bus)
{
    burst_t *r = q_head(&m->rd);
    burst_t *w = q_head(&m->aw);
    int want_r = r && r->ready_at <= m->now;
    int want_w = w != NULL;
    double beat = SQ_AXI_BEAT_BYTES;
    m->grant_r = m->grant_w = 0;
    if (want_r && want_w && m->credit >= 2 * beat) {
        m->grant_r = m->grant_w = 1;
    } else if (m->credit >= beat) {
        if (want_r && want_w) {
            m->grant_w = m->prefer_write;
            m->grant_r = !m->prefer_write;
        } else {
            m->grant_r = want_r;
            m->grant_w = want_w;
        }
    }
    bus->arready = m->rd.count < SQ_MEM_MAX_OUTSTANDING;
    bus->awready = m->aw.count < SQ_MEM_MAX_OUTSTANDING;
    bus->wready = (uint8_t)m->grant_w;
    bus->rvalid = (uint8_t)m->grant_r;
    bus->rresp = 0;
    bus->rlast = (uint8_t)(m->grant_r && r->beats == 1);
    if (m->grant_r) {
        if (in_range(m, r->addr, SQ_AXI_BEAT_BYTES))
            memcpy(bus->rdata, m->data + r->addr, SQ_AXI_BEAT_BYTES);
        else
            memset(bus->rdata, 0, SQ_AXI_BEAT_BYTES);
    }
    burst_t *b = q_head(&m->b);
    bus->bvalid = (uint8_t)(b && b->ready_at <= m->now);
    bus->bresp = 0;
}

void sq_mem_commit(sq_mem_t *m, const sq_axi_t *bus)
{
    double beat = SQ_AXI_BEAT_BYTES;
    if (bus->arvalid && bus->arready) {
        burst_t nb = {bus->araddr & ~(uint64_t)63, (uint32_t)bus->arlen + 1, m->now + m->latency};
        if (!in_range(m, nb.addr, (uint64_t)nb.beats * SQ_AXI_BEAT_BYTES))
            set_error(m, "read", nb.addr, nb.beats);
        q_push(&m->rd, nb);
        m->stats.read_bursts++;
    }
    if (bus->rvalid && bus->rready) {
        burst_t *r = q_head(&m->rd);
        r->addr += SQ_AXI_BEAT_BYTES;
        m->credit -= beat;
        m->stats.bytes_read += SQ_AXI_BEAT_BYTES;
        if (--r->beats == 0)
            q_pop(&m->rd);
        m->prefer_write = 1;
    }
    if (bus->wvalid && bus->wready) {
        burst_t *w = q_head(&m->aw);
        const uint8_t *src = (const uint8_t *)bus->wdata;
        if (in_range(m, w->addr, SQ_AXI_BEAT_BYTES)) {
            for (unsigned i = 0; i < SQ_AXI_BEAT_BYTES; i++)
                if (bus->wstrb >> i & 1) {
                    m->data[w->addr + i] = src[i];
                    m->stats.bytes_written++;
                }
        }
        w->addr += SQ_AXI_BEAT_BYTES;
        m->credit -= beat;
        m->prefer_write = 0;
        if (--w->beats == 0 || bus->wlast) {
            q_pop(&m->aw);
            q_push(&m->b, (burst_t){0, 0, m->now + m->latency});
        }
    }
    /* the address is taken after the beats of earlier bursts, so a write
     * burst's data can only follow its own address */
    if (bus->awvalid && bus->awready) {
        burst_t nb = {bus->awaddr & ~(uint64_t)63, (uint32_t)bus->awlen + 1, 0};
        if (!in_range(m, nb.addr, (uint64_t)nb.beats * SQ_AXI_BEAT_BYTES))
            set_error(m, "write", nb.addr, nb.beats);
        q_push(&m->aw, nb);
        m->stats.write_bursts++;
    }
    if (bus->bvalid && bus->bready)
        q_pop(&m->b);
    /* An idle channel cannot bank bandwidth: the budget never exceeds what
     * one more cycle could spend, so at 64 B/cycle at most one beat goes per
     * cycle and at 48 B/cycle three beats per four cycles. */
    m->credit += m->bpc;
    double cap = m->bpc + beat - 1;
    if (m->credit > cap)
        m->credit = cap;
    m->now++;
}

int sq_mem_quiet(const sq_mem_t *m)
{
    return m->rd.count == 0 && m->aw.count == 0 && m->b.count == 0;
}

void sq_mem_stats(const sq_mem_t *m, sq_mem_stats_t *out)
{
    *out = m->stats;
}

const char *sq_mem_error(const sq_mem_t *m)
{
    return m->has_err ? m->err : NULL;
}

void sq_mem_clear_error(sq_mem_t *m)
{
    m->has_err = 0;
    m->err[0] = 0;
}
