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

/* A port's bursts in flight; its channel is ch[p] or ch[0] (shared). */
typedef struct {
    queue_t rd, aw, b;
    int prefer_write; /* round robin between a read and a write beat */
    int grant_r, grant_w;
    sq_mem_stats_t stats;
} port_t;

/* A channel's clock and byte budget. */
typedef struct {
    double credit; /* bytes the channel may still move */
    uint64_t now;
} chan_t;

struct sq_mem {
    uint8_t *data;
    uint64_t size;
    double bpc; /* bytes per cycle, per channel */
    uint32_t latency;
    sq_mem_channels_t mode;
    unsigned rr; /* shared channel: the port served first next */
    chan_t ch[SQ_MEM_MAX_PORTS];
    port_t port[SQ_MEM_MAX_PORTS];
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
    m->mode = SQ_MEM_PER_PORT;
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

void sq_mem_set_channels(sq_mem_t *m, sq_mem_channels_t mode)
{
    m->mode = mode;
    m->rr = 0;
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

static chan_t *chan_of(sq_mem_t *m, unsigned p)
{
    return &m->ch[m->mode == SQ_MEM_SHARED ? 0 : p];
}

/* Grants port p's beats from its channel's budget, spent beats deducted in
 * *spent (the beats this cycle already granted on the channel). */
static void grant(sq_mem_t *m, unsigned p, double *spent)
{
    port_t *pt = &m->port[p];
    const chan_t *c = chan_of(m, p);
    burst_t *r = q_head(&pt->rd);
    int want_r = r && r->ready_at <= c->now;
    int want_w = pt->aw.count > 0;
    double beat = SQ_AXI_BEAT_BYTES;
    /* in the port's own order: a write first when it prefers one */
    for (int i = 0; i < 2; i++) {
        int w = i == 0 ? pt->prefer_write : !pt->prefer_write;
        if (!(w ? want_w : want_r) || c->credit < *spent + beat)
            continue;
        if (w)
            pt->grant_w = 1;
        else
            pt->grant_r = 1;
        *spent += beat;
    }
}

static void drive_port(sq_mem_t *m, unsigned p, sq_axi_t *bus)
{
    port_t *pt = &m->port[p];
    const chan_t *c = chan_of(m, p);
    burst_t *r = q_head(&pt->rd);
    bus->arready = pt->rd.count < SQ_MEM_MAX_OUTSTANDING;
    bus->awready = pt->aw.count < SQ_MEM_MAX_OUTSTANDING;
    bus->wready = (uint8_t)pt->grant_w;
    bus->rvalid = (uint8_t)pt->grant_r;
    bus->rresp = 0;
    bus->rlast = (uint8_t)(pt->grant_r && r->beats == 1);
    if (pt->grant_r) {
        if (in_range(m, r->addr, SQ_AXI_BEAT_BYTES))
            memcpy(bus->rdata, m->data + r->addr, SQ_AXI_BEAT_BYTES);
        else
            memset(bus->rdata, 0, SQ_AXI_BEAT_BYTES);
    }
    burst_t *b = q_head(&pt->b);
    bus->bvalid = (uint8_t)(b && b->ready_at <= c->now);
    bus->bresp = 0;
}

void sq_mem_drive(sq_mem_t *m, sq_axi_t *bus, unsigned nports)
{
    for (unsigned p = 0; p < nports; p++)
        m->port[p].grant_r = m->port[p].grant_w = 0;
    if (m->mode == SQ_MEM_SHARED) {
        double spent = 0;
        for (unsigned i = 0; i < nports; i++)
            grant(m, (m->rr + i) % nports, &spent);
    } else {
        for (unsigned p = 0; p < nports; p++) {
            double spent = 0;
            grant(m, p, &spent);
        }
    }
    for (unsigned p = 0; p < nports; p++)
        drive_port(m, p, &bus[p]);
}

static void commit_port(sq_mem_t *m, unsigned p, const sq_axi_t *bus)
{
    port_t *pt = &m->port[p];
    chan_t *c = chan_of(m, p);
    double beat = SQ_AXI_BEAT_BYTES;
    if (bus->arvalid && bus->arready) {
        burst_t nb = {bus->araddr & ~(uint64_t)63, (uint32_t)bus->arlen + 1, c->now + m->latency};
        if (!in_range(m, nb.addr, (uint64_t)nb.beats * SQ_AXI_BEAT_BYTES))
            set_error(m, "read", nb.addr, nb.beats);
        q_push(&pt->rd, nb);
        pt->stats.read_bursts++;
    }
    if (bus->rvalid && bus->rready) {
        burst_t *r = q_head(&pt->rd);
        r->addr += SQ_AXI_BEAT_BYTES;
        c->credit -= beat;
        pt->stats.bytes_read += SQ_AXI_BEAT_BYTES;
        if (--r->beats == 0)
            q_pop(&pt->rd);
        pt->prefer_write = 1;
    }
    if (bus->wvalid && bus->wready) {
        burst_t *w = q_head(&pt->aw);
        const uint8_t *src = (const uint8_t *)bus->wdata;
        if (in_range(m, w->addr, SQ_AXI_BEAT_BYTES)) {
            for (unsigned i = 0; i < SQ_AXI_BEAT_BYTES; i++)
                if (bus->wstrb >> i & 1) {
                    m->data[w->addr + i] = src[i];
                    pt->stats.bytes_written++;
                }
        }
        w->addr += SQ_AXI_BEAT_BYTES;
        c->credit -= beat;
        pt->prefer_write = 0;
        if (--w->beats == 0 || bus->wlast) {
            q_pop(&pt->aw);
            q_push(&pt->b, (burst_t){0, 0, c->now + m->latency});
        }
    }
    /* the address is taken after the beats of earlier bursts, so a write
     * burst's data can only follow its own address */
    if (bus->awvalid && bus->awready) {
        burst_t nb = {bus->awaddr & ~(uint64_t)63, (uint32_t)bus->awlen + 1, 0};
        if (!in_range(m, nb.addr, (uint64_t)nb.beats * SQ_AXI_BEAT_BYTES))
            set_error(m, "write", nb.addr, nb.beats);
        q_push(&pt->aw, nb);
        pt->stats.write_bursts++;
    }
    if (bus->bvalid && bus->bready)
        q_pop(&pt->b);
}

void sq_mem_commit(sq_mem_t *m, const sq_axi_t *bus, unsigned nports)
{
    for (unsigned p = 0; p < nports; p++)
        commit_port(m, p, &bus[p]);
    if (m->mode == SQ_MEM_SHARED) {
        /* the port served first in this cycle goes last in the next */
        for (unsigned i = 0; i < nports; i++) {
            unsigned p = (m->rr + i) % nports;
            if (m->port[p].grant_r || m->port[p].grant_w) {
                m->rr = (p + 1) % nports;
                break;
            }
        }
    }
    /* An idle channel cannot bank bandwidth: the budget never exceeds what
     * one more cycle could spend, so at 64 B/cycle at most one beat goes per
     * cycle and at 48 B/cycle three beats per four cycles. */
    double cap = m->bpc + SQ_AXI_BEAT_BYTES - 1;
    for (unsigned c = 0; c < SQ_MEM_MAX_PORTS; c++) {
        m->ch[c].credit += m->bpc;
        if (m->ch[c].credit > cap)
            m->ch[c].credit = cap;
        m->ch[c].now++;
    }
}

int sq_mem_quiet(const sq_mem_t *m)
{
    for (unsigned p = 0; p < SQ_MEM_MAX_PORTS; p++) {
        const port_t *pt = &m->port[p];
        if (pt->rd.count || pt->aw.count || pt->b.count)
            return 0;
    }
    return 1;
}

void sq_mem_port_stats(const sq_mem_t *m, unsigned p, sq_mem_stats_t *out)
{
    *out = p < SQ_MEM_MAX_PORTS ? m->port[p].stats : (sq_mem_stats_t){0, 0, 0, 0};
}

void sq_mem_stats(const sq_mem_t *m, sq_mem_stats_t *out)
{
    *out = (sq_mem_stats_t){0, 0, 0, 0};
    for (unsigned p = 0; p < SQ_MEM_MAX_PORTS; p++) {
        out->bytes_read += m->port[p].stats.bytes_read;
        out->bytes_written += m->port[p].stats.bytes_written;
        out->read_bursts += m->port[p].stats.read_bursts;
        out->write_bursts += m->port[p].stats.write_bursts;
    }
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
