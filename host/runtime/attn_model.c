/* Cycle model of the attention unit: the state machine of rtl/attn/sq_attn_core.sv
 * walked one state visit at a time, with the memory timing of model_mem.h
 * for its one-request-at-a-time reads (sq_attn_fetch.sv: a key block's K rows
 * in one request, V rows from an entry's row to its block's end) and row
 * writes. The
 * work that depends on data (which keys are scored, how many top-k passes
 * the score span takes, which selected keys have a nonzero exponent and so
 * a V read) comes from sq_attn_row, the golden reference's rules 1 to 3 on
 * the device image. */
#include "runtime/attn_model.h"

#include <stdlib.h>

#include "runtime/desc.h"
#include "util/err.h"

#define DIV_CYCLES 48u /* sq_div: 47 quotient bits, then done */
/* The core's pipelines (sq_attn_core.sv, "Pipelining"), in cycles after the
 * cycle a last operand enters: */
#define QK_DRAIN 5u   /* Q.K: the key's list write is in (SBlock may end) */
#define PV_DRAIN 2u   /* P.V: SPvRead may start the store */
#define EXP_EXTRA 5u  /* an exponent pass's extra cycles: the exp and sum stages */
#define STORE_EXTRA 2u /* a store's cycles after its last element */

/* n cycles of the core without memory traffic */
static void step(sq_attn_model_t *am, uint64_t n)
{
    sq_mm_idle(am->mm, n);
    am->cycles += n;
}

/* Waits until cycle `at` (a pipeline draining, no memory traffic). */
static void wait_until(sq_attn_model_t *am, uint64_t at)
{
    if (am->cycles < at)
        step(am, at - am->cycles);
}

static uint32_t beats(uint64_t addr, uint32_t len)
{
    return (uint32_t)(((addr % SQ_MM_BEAT) + len - 1) / SQ_MM_BEAT + 1);
}

/* sq_attn_fetch from the cycle after its start to the last beat; the core
 * sees done in the cycle after. A request that crosses a 4 KB boundary is two
 * bursts, one after the other. sq_fetch's two-beat descriptor read has the
 * same timing, but the core is idle then and counts no stall (stall 0). */
static void fetch_stall(sq_attn_model_t *am, uint64_t addr, uint32_t len, int stall)
{
    sq_mm_t *m = am->mm;
    sq_mm_pins_t p;
    uint64_t cur = addr / SQ_MM_BEAT; /* beat of the next burst */
    for (uint32_t left = beats(addr, len); left;) {
        uint32_t to_4k = 64 - (uint32_t)(cur % 64), n = left < to_4k ? left : to_4k;
        for (;;) { /* FAddr */
            sq_mm_drive(m, &p);
            sq_mm_commit(m, &(sq_mm_take_t){.ar_beats = p.arready ? n : 0});
            am->cycles++;
            if (p.arready)
                break;
            am->stalls += stall;
        }
        cur += n;
        left -= n;
        for (bool last = false; !last;) { /* FData */
            const sq_mm_burst_t *r = sq_mm_read_head(m);
            if (r->ready_at > m->now) {
                uint64_t wait = r->ready_at - m->now;
                sq_mm_idle(m, wait);
                am->cycles += wait;
                am->stalls += stall ? wait : 0;
                continue;
            }
            sq_mm_drive(m, &p);
            sq_mm_commit(m, &(sq_mm_take_t){.r = p.r});
            am->cycles++;
            am->stalls += stall && !p.r;
            last = p.rlast;
        }
    }
}

static void fetch(sq_attn_model_t *am, uint64_t addr, uint32_t len)
{
    fetch_stall(am, addr, len, 1);
}

/* SAddr, SData and SResp of one O row, up to the cycle taking the response. */
static void write_row(sq_attn_model_t *am, uint64_t addr, uint32_t len)
{
    sq_mm_t *m = am->mm;
    sq_mm_pins_t p;
    uint32_t n = beats(addr, len);
    for (;;) {
        sq_mm_drive(m, &p);
        sq_mm_commit(m, &(sq_mm_take_t){.aw_beats = p.awready ? n : 0});
        am->cycles++;
        if (p.awready)
            break;
        am->stalls++;
    }
    for (uint32_t done = 0; done < n;) {
        sq_mm_drive(m, &p);
        sq_mm_commit(m, &(sq_mm_take_t){.w = p.w, .wlast = p.w && done + 1 == n});
        am->cycles++;
        am->stalls += !p.w;
        done += p.w;
    }
    for (;;) {
        const sq_mm_burst_t *b = &m->b.q[m->b.head];
        if (b->ready_at > m->now) {
            uint64_t wait = b->ready_at - m->now;
            sq_mm_idle(m, wait);
            am->cycles += wait;
            am->stalls += wait;
            continue;
        }
        sq_mm_commit(m, &(sq_mm_take_t){.b = true});
        am->cycles++;
        break;
    }
    am->bytes_written += len;
}

int sq_attn_model_init(sq_attn_model_t *am, sq_mm_t *mm)
{
    am->mm = mm;
    am->row = malloc(sizeof *am->row);
    return am->row ? 0 : sq_err(SQ_ERR_MEM, "out of memory opening level 'model'");
}

void sq_attn_model_free(sq_attn_model_t *am)
{
    if (!am)
        return;
    free(am->row);
    am->row = NULL;
}

void sq_attn_model_begin(sq_attn_model_t *am)
{
    sq_mm_start(am->mm);
    am->cycles = am->stalls = am->bytes_written = 0;
}

void sq_attn_model_end(sq_attn_model_t *am)
{
    step(am, 1); /* sq_fetch's last Next raises done (counted by sq_ctrl) */
}

/* Top-k passes over a list of n > topk scores: one count per bit of the span
 * kmax - kmin (none when all are equal), then the > count and the select. */
static uint32_t topk_passes(const sq_attn_row_t *r, uint32_t seq)
{
    uint32_t kmin = UINT32_MAX, kmax = 0;
    for (uint32_t j = 0; j < seq; j++) {
        if (!r->cand[j])
            continue;
        uint32_t key = sq_attn_score_key(r->s[j]);
        kmin = key < kmin ? key : kmin;
        kmax = key > kmax ? key : kmax;
    }
    uint32_t bits = 0;
    if (kmax != kmin)
        for (uint32_t span = kmax - kmin; span; span >>= 1)
            bits++;
    return bits + 2;
}

/* One query row, SQuery to the response of its O write. */
static void query(sq_attn_model_t *am, const sq_attn_desc_t *d, const sq_attn_t *a, uint32_t h,
                  uint32_t i)
{
    sq_attn_row_t *r = am->row;
    uint32_t D = d->head_dim, chunks = (D + 15) / 16, p = d->seq - d->queries + i;
    uint32_t g = h / (d->heads / d->kv_heads);
    uint64_t row = (uint64_t)h * d->queries + i, kv0 = (uint64_t)g * d->kv_cap;
    sq_attn_row(a, h, i, r);

    step(am, 1); /* SQuery */
    fetch(am, d->q + row * D, D);
    step(am, chunks); /* SQLoad, the last chunk starting the bitmap fetch */
    if (d->flags & SQ_ATTN_BLOCK)
        fetch(am, d->mask + (uint64_t)(p >> SQ_ATTN_BLK_LOG2) * SQ_ATTN_MASK_ROW_BYTES,
              SQ_ATTN_MASK_ROW_BYTES);
    step(am, 1); /* SMask */
    uint64_t qk_free = 0; /* first cycle with the Q.K pipeline empty */
    for (uint32_t kb = 0; kb < sq_attn_blocks(d->seq); kb++) {
        int bbit = (d->flags & SQ_ATTN_BLOCK)
                       ? sq_attn_mask_bit(a->mask, p >> SQ_ATTN_BLK_LOG2, kb)
                       : 0;
        uint32_t lo, hi;
        sq_attn_block_range(d->flags, d->window, d->n_global, d->seq, p, kb, bbit, &lo, &hi);
        step(am, 2); /* SBlock, SBlkMul */
        if (lo < hi) {
            step(am, 1); /* SKey starts the fetch of rows lo .. hi - 1 */
            fetch(am, d->k + (kv0 + lo) * D, (hi - lo) * D);
            step(am, 1); /* SKFetch sees done */
        }
        bool dot = false; /* SDot goes on to candidate j without SKey */
        for (uint32_t j = lo; j < hi; j++) {
            if (!(dot && r->cand[j]))
                step(am, 1); /* SKey */
            dot = r->cand[j];
            if (dot) {
                step(am, chunks); /* SDot */
                qk_free = am->cycles - 1 + QK_DRAIN;
            }
        }
        step(am, 1); /* SKey past the range */
    }
    wait_until(am, qk_free);
    step(am, 1); /* SBlock past the last block */
    uint32_t n = r->n_cand;
    if (n) {
        uint32_t passes = 1; /* SExp */
        bool dropped = (d->flags & SQ_ATTN_TOPK) && d->topk < n;
        if (dropped)
            passes += topk_passes(r, d->seq);
        /* a pass is n reads + 2 */
        step(am, (uint64_t)passes * (n + 2) + EXP_EXTRA + DIV_CYCLES);
        uint64_t pv_free = 0; /* first cycle SPvRead may go to SStore */
        uint32_t vlo = 0, vhi = 0; /* V rows in the buffer */
        step(am, 1); /* SPvRead: the first entry */
        for (uint32_t j = 0; j < d->seq; j++) {
            if (!r->cand[j])
                continue;
            step(am, 1); /* SPvWait */
            if (r->e[j]) {
                if (j < vlo || j >= vhi) {
                    step(am, 1); /* SPvMac's first cycle starts the fetch */
                    /* rows j .. the end of j's key block, or j alone after a
                     * top-k selection that dropped keys */
                    uint32_t end = dropped ? j + 1 : (j | (SQ_ATTN_BLK - 1)) + 1;
                    vlo = j;
                    vhi = end < d->seq ? end : d->seq;
                    fetch(am, d->v + (kv0 + j) * D, (vhi - j) * D);
                }
                step(am, chunks); /* SPvMac, a chunk a cycle */
                pv_free = am->cycles - 1 + PV_DRAIN;
            }
        }
        wait_until(am, pv_free);
        step(am, 1); /* SPvRead past the list */
    }
    step(am, D + STORE_EXTRA); /* SStore */
    write_row(am, d->o + row * D, D);
}

void sq_attn_model_core(sq_attn_model_t *am, uint8_t *mem, const uint8_t *desc)
{
    sq_attn_desc_t d;
    sq_attn_desc_decode(desc, &d);
    sq_attn_t a;
    sq_attn_desc_view(&d, mem, &a);
    step(am, d.heads / d.kv_heads + 1); /* SGroup: heads / kv_heads by additions */
    for (uint32_t h = 0; h < d.heads; h++) {
        step(am, 1); /* SHead */
        fetch(am, d.quant + (uint64_t)h * SQ_ATTN_QUANT_BYTES, SQ_ATTN_QUANT_BYTES);
        step(am, 1); /* SQuant */
        for (uint32_t i = 0; i < d.queries; i++)
            query(am, &d, &a, h, i);
    }
    step(am, 1); /* SNext: cmd_done */
}

void sq_attn_model_desc(sq_attn_model_t *am, uint8_t *mem, uint64_t desc_addr)
{
    step(am, 1); /* sq_fetch: Next */
    fetch_stall(am, desc_addr, SQ_DESC_BYTES, 0); /* FetchAr, FetchR */
    step(am, 1); /* Issue: the core accepts an attention descriptor, others are skipped */
    if (sq_desc_opcode(mem + desc_addr) == SQ_OP_ATTN)
        sq_attn_model_core(am, mem, mem + desc_addr);
}
