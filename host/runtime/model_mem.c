/* Memory timing of the cycle models; rules in model_mem.h, the same as
 * sim/sq_mem.c's sq_mem_drive and sq_mem_commit. */
#include "runtime/model_mem.h"

#include <string.h>

static sq_mm_burst_t *head(sq_mm_queue_t *q)
{
    return q->count ? &q->q[q->head] : NULL;
}

static void push(sq_mm_queue_t *q, uint64_t ready_at, uint32_t beats)
{
    q->q[(q->head + q->count) % SQ_MM_MAX_OUT] = (sq_mm_burst_t){ready_at, beats};
    q->count++;
}

static void pop(sq_mm_queue_t *q)
{
    q->head = (q->head + 1) % SQ_MM_MAX_OUT;
    q->count--;
}

static double cap(const sq_mm_t *m)
{
    return m->bpc + SQ_MM_BEAT - 1;
}

void sq_mm_init(sq_mm_t *m, double bytes_per_cycle, uint32_t latency_cycles)
{
    memset(m, 0, sizeof *m);
    m->bpc = bytes_per_cycle;
    m->latency = latency_cycles;
}

void sq_mm_start(sq_mm_t *m)
{
    m->credit = cap(m);
}

sq_mm_burst_t *sq_mm_read_head(sq_mm_t *m)
{
    return head(&m->rd);
}

void sq_mm_drive(const sq_mm_t *m, sq_mm_pins_t *p)
{
    const sq_mm_burst_t *r = m->rd.count ? &m->rd.q[m->rd.head] : NULL;
    bool want_r = r && r->ready_at <= m->now, want_w = m->aw.count > 0;
    p->r = p->w = false;
    if (want_r && want_w && m->credit >= 2.0 * SQ_MM_BEAT) {
        p->r = p->w = true;
    } else if (m->credit >= SQ_MM_BEAT) {
        if (want_r && want_w) {
            p->w = m->prefer_write;
            p->r = !m->prefer_write;
        } else {
            p->r = want_r;
            p->w = want_w;
        }
    }
    p->rlast = p->r && r->beats == 1;
    p->arready = m->rd.count < SQ_MM_MAX_OUT;
    p->awready = m->aw.count < SQ_MM_MAX_OUT;
    const sq_mm_burst_t *b = m->b.count ? &m->b.q[m->b.head] : NULL;
    p->bvalid = b && b->ready_at <= m->now;
}

void sq_mm_commit(sq_mm_t *m, const sq_mm_take_t *t)
{
    if (t->ar_beats)
        push(&m->rd, m->now + m->latency, t->ar_beats);
    if (t->r) {
        m->credit -= SQ_MM_BEAT;
        m->bytes_read += SQ_MM_BEAT;
        if (--head(&m->rd)->beats == 0)
            pop(&m->rd);
        m->prefer_write = true;
    }
    if (t->w) {
        m->credit -= SQ_MM_BEAT;
        m->prefer_write = false;
        if (--head(&m->aw)->beats == 0 || t->wlast) {
            pop(&m->aw);
            push(&m->b, m->now + m->latency, 0);
        }
    }
    /* after the beats of earlier bursts: a write burst's data can only
     * follow its own address */
    if (t->aw_beats)
        push(&m->aw, 0, t->aw_beats);
    if (t->b)
        pop(&m->b);
    m->credit += m->bpc;
    if (m->credit > cap(m))
        m->credit = cap(m);
    m->now++;
}

void sq_mm_idle(sq_mm_t *m, uint64_t n)
{
    /* cycle by cycle until the budget is full, so the sums round as the
     * memory's own do */
    for (; n && m->credit < cap(m); n--) {
        m->credit += m->bpc;
        if (m->credit > cap(m))
            m->credit = cap(m);
        m->now++;
    }
    m->now += n;
}
