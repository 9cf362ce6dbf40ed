/* Cycle model of the command processor and the GEMM port's prefetch buffer;
 * what it follows: cp_model.h and docs/cycle_model.md. Each section mirrors
 * one RTL block, decisions of a cycle taken from the state at its start,
 * then every register updated, as the RTL's always_comb / always_ff. */
#include "runtime/cp_model.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/desc.h"
#include "util/err.h"

/* ---- prefetch buffer (rtl/cp/sq_cp_prefetch.sv) ----------------------------- */

void sq_pf_init(sq_pf_t *pf, uint32_t cols)
{
    memset(pf, 0, sizeof *pf);
    pf->cols = cols;
    pf->r = SQ_PF_RANGES;
}

void sq_pf_start(sq_pf_t *pf, const uint8_t *desc)
{
    sq_gemm_desc_t d;
    sq_gemm_desc_decode(desc, &d);
    bool w4 = d.flags & SQ_GEMM_W4, sp = d.flags & SQ_GEMM_SP24;
    uint64_t k = d.k, n = d.n;
    uint64_t wrow = w4 ? (k + 1) >> 1 : sp ? ((k + 3) >> 2) << 1 : k;
    uint64_t mrow = (((k + 3) >> 2) + 1) >> 1;
    uint64_t ncols = n > pf->cols ? pf->cols : n;
    /* BIAS and QUANT of the first N tile, its 2:4 codes, then W */
    const uint64_t addr[SQ_PF_RANGES] = {d.bias, d.quant, d.meta, d.w};
    const uint64_t len[SQ_PF_RANGES] = {
        (d.flags & SQ_GEMM_BIAS) ? ncols * 4 : 0,
        (d.flags & SQ_GEMM_OUT32) ? 0 : ncols * 8,
        sp ? ncols * mrow : 0,
        n * wrow,
    };
    uint32_t left = SQ_PF_BEATS;
    for (unsigned r = 0; r < SQ_PF_RANGES; r++) {
        uint64_t beats = len[r] ? ((addr[r] % 64 + len[r] - 1) >> 6) + 1 : 0;
        pf->lo[r] = addr[r] >> 6;
        pf->base[r] = SQ_PF_BEATS - left;
        pf->nb[r] = beats > left ? left : (uint32_t)beats;
        left -= pf->nb[r];
    }
    pf->r = 0;
    pf->off = pf->issued = pf->arrived = 0;
    pf->active = true;
}

void sq_pf_clear(sq_pf_t *pf)
{
    pf->r = SQ_PF_RANGES;
    pf->active = false;
    pf->issued = pf->arrived = 0;
    for (unsigned r = 0; r < SQ_PF_RANGES; r++)
        pf->nb[r] = 0;
}

void sq_pf_stop(sq_pf_t *pf)
{
    pf->active = false;
}

bool sq_pf_busy(const sq_pf_t *pf, const sq_mm_t *mm)
{
    return (pf->active && pf->r < SQ_PF_RANGES) || pf->tag_count || pf->cq_count ||
           mm->rd.count || mm->aw.count || mm->b.count;
}

void sq_pf_drive(sq_pf_t *pf, const sq_mm_t *mm, uint64_t core_ar_addr, uint32_t core_ar_beats,
                 sq_mm_pins_t *core)
{
    bool tag_full = pf->tag_count == SQ_PF_TAGS, cq_full = pf->cq_count == SQ_PF_CQ;
    uint32_t r = pf->r;
    pf->pf_ar = pf->active && r < SQ_PF_RANGES && pf->off != pf->nb[r] && !tag_full;
    pf->pf_len = 0;
    if (pf->pf_ar) {
        uint64_t beat = pf->lo[r] + pf->off;
        uint32_t to_4k = 64u - (uint32_t)(beat & 63u), rem = pf->nb[r] - pf->off;
        pf->pf_len = rem < to_4k ? rem : to_4k;
    }
    /* the core's request: a hit when all its beats were asked for */
    pf->hit = false;
    pf->hit_idx = 0;
    uint64_t c_beat = core_ar_addr >> 6;
    for (unsigned i = 0; core_ar_beats && i < SQ_PF_RANGES; i++) {
        uint64_t rel_end = c_beat + core_ar_beats - pf->lo[i];
        if (pf->nb[i] && c_beat >= pf->lo[i] && rel_end <= pf->nb[i] &&
            pf->base[i] + rel_end <= pf->issued) {
            pf->hit = true;
            pf->hit_idx = pf->base[i] + (uint32_t)(c_beat - pf->lo[i]);
        }
    }
    sq_mm_drive(mm, &pf->mem);
    bool tag_pf = pf->tag_count && pf->tags[pf->tag_head];
    bool tag_core = pf->tag_count && !pf->tags[pf->tag_head];
    const sq_pf_burst_t *h = pf->cq_count ? &pf->cq[pf->cq_head] : NULL;
    *core = pf->mem;
    core->arready = !pf->pf_ar && !cq_full && (pf->hit || (pf->mem.arready && !tag_full));
    if (h && h->hit) {
        core->r = h->idx + pf->cbeat < pf->arrived;
        core->rlast = pf->cbeat + 1 == h->beats;
    } else {
        core->r = h && pf->mem.r && tag_core;
        core->rlast = pf->mem.rlast;
    }
    (void)tag_pf;
}

void sq_pf_commit(sq_pf_t *pf, sq_mm_t *mm, const sq_mm_take_t *core)
{
    bool tag_pf = pf->tag_count && pf->tags[pf->tag_head];
    const sq_pf_burst_t *h = pf->cq_count ? &pf->cq[pf->cq_head] : NULL;
    bool from_mem = h && !h->hit;
    bool h_hit = h && h->hit, h_last = h && pf->cbeat + 1 == h->beats;
    /* the memory's read beat goes to the buffer or to the core */
    bool mem_r = pf->mem.r && (tag_pf || (from_mem && core->r));
    uint32_t ar_beats = 0;
    bool ar_pf = false;
    if (pf->pf_ar && pf->mem.arready) {
        ar_beats = pf->pf_len;
        ar_pf = true;
    } else if (core->ar_beats && !pf->hit) {
        ar_beats = core->ar_beats;
    }
    uint64_t pf_addr = pf->pf_ar ? (pf->lo[pf->r] + pf->off) << 6 : 0;
    sq_mm_commit(mm, &(sq_mm_take_t){
                         .ar_beats = ar_beats,
                         .ar_addr = ar_pf ? pf_addr : core->ar_addr,
                         .r = mem_r,
                         .w = core->w,
                         .wlast = core->wlast,
                         .aw_beats = core->aw_beats,
                         .b = core->b,
                     });
    /* register updates */
    if (core->r) {
        bool last = h_hit ? h_last : pf->mem.rlast;
        pf->cbeat = last ? 0 : pf->cbeat + 1;
        if (last) {
            pf->cq_head = (pf->cq_head + 1) % SQ_PF_CQ;
            pf->cq_count--;
        }
    }
    if (core->ar_beats) {
        pf->cq[(pf->cq_head + pf->cq_count) % SQ_PF_CQ] =
            (sq_pf_burst_t){pf->hit, pf->hit_idx, core->ar_beats};
        pf->cq_count++;
    }
    if (mem_r && tag_pf)
        pf->arrived++;
    if (mem_r && pf->mem.rlast) {
        pf->tag_head = (pf->tag_head + 1) % SQ_PF_TAGS;
        pf->tag_count--;
    }
    if (ar_beats) {
        pf->tags[(pf->tag_head + pf->tag_count) % SQ_PF_TAGS] = ar_pf;
        pf->tag_count++;
    }
    if (pf->active && pf->r < SQ_PF_RANGES) {
        if (pf->off == pf->nb[pf->r]) {
            pf->r++;
            pf->off = 0;
        } else if (ar_pf) {
            pf->off += pf->pf_len;
            pf->issued += pf->pf_len;
        }
    }
}

void sq_pf_idle_until(sq_pf_t *pf, sq_mm_t *mm, uint64_t until)
{
    while (mm->now < until) {
        if (!sq_pf_busy(pf, mm)) {
            sq_mm_idle(mm, until - mm->now);
            return;
        }
        sq_mm_pins_t pins;
        sq_pf_drive(pf, mm, 0, 0, &pins);
        sq_pf_commit(pf, mm, &(sq_mm_take_t){0});
    }
}

/* ---- command processor (rtl/cp/sq_cp.sv) -------------------------------------- */

#define FETCH_DEPTH 4u /* FetchDepth */
#define QUEUE_DEPTH 2u /* 1 << QueueDepthLog2 */
#define REC_DEPTH 2u   /* records pending per unit */
#define NO_UNIT SQ_CP_SLOTS_MAX

enum { P_IDLE, P_PATCH1, P_DISP };
enum { W_IDLE, W_ADDR, W_DATA };

typedef struct {
    uint32_t idx, need[SQ_CP_SLOTS_MAX];
    uint64_t disp;
} qent_t;

typedef struct {
    uint8_t op;
    uint32_t idx;
    uint64_t disp, start, end, stall, rb, wb;
} rec_t;

typedef struct {
    qent_t q[QUEUE_DEPTH];
    uint32_t q_head, q_count;
    rec_t rec[REC_DEPTH];
    uint32_t rec_head, rec_count;
    bool busy;
    uint64_t done_at;
    rec_t cur;         /* the descriptor running, its record once done */
    uint64_t rb_mark;  /* the unit port's bytes read at its last done */
    uint32_t done_cnt, disp_cnt;
} unit_t;

typedef struct {
    uint32_t unit, seq; /* where descriptor i went: its unit and its count there */
    uint32_t gsnap[SQ_GEMM_CUS_MAX]; /* each GEMM unit's dispatch count after it */
} slot_t;

typedef struct {
    sq_gemm_model_t *const *gemm;
    sq_pf_t *pf;
    unsigned cus, nslots; /* GEMM compute units, unit slots */
    sq_attn_model_t *attn;
    sq_vec_model_t *vec;
    sq_mm_t *cp;
    uint8_t *mem;
    const sq_stream_run_t *r;
    int (*exec)(void *ctx, uint32_t upto);
    void *exec_ctx;
    /* fetch */
    uint32_t fidx, inflight, raw;
    bool beat;
    /* patch and dispatch */
    int ps;
    uint32_t pidx;
    slot_t *slot;
    unit_t u[SQ_CP_SLOTS_MAX];
    uint32_t pf_for[SQ_GEMM_CUS_MAX];
    /* record writer */
    int ws;
    uint32_t wu, outstanding;
    sq_cp_model_out_t *out;
} cp_t;

static const uint8_t *desc_of(const cp_t *c, uint32_t i)
{
    return c->r->descs + (size_t)i * SQ_DESC_BYTES;
}

/* The slot of a unit descriptor, NO_UNIT for a NOP (the device has rejected
 * opcodes the kernel has no unit for). */
static uint32_t unit_of(const uint8_t *desc)
{
    uint32_t op = sq_desc_opcode(desc);
    if (op == SQ_OP_GEMM)
        return SQ_CP_GEMM_SLOT(sq_desc_word(desc, SQ_GEMM_W_CU));
    return op == SQ_OP_NOP ? NO_UNIT : SQ_CP_UNIT_OF(op);
}

/* The GEMM compute unit of slot u, or -1 for another unit's slot. */
static int cu_of(uint32_t u)
{
    return u == 0 ? 0 : u >= SQ_CP_UNITS && u < SQ_CP_SLOTS_MAX ? (int)(u - SQ_CP_UNITS + 1) : -1;
}

static void needs(const cp_t *c, uint32_t i, uint32_t need[SQ_CP_SLOTS_MAX])
{
    memset(need, 0, SQ_CP_SLOTS_MAX * sizeof *need);
    for (unsigned k = 0; k < SQ_DESC_DEPS; k++) {
        uint32_t d = sq_desc_dep(desc_of(c, i), k);
        if (!d)
            continue;
        const slot_t *s = &c->slot[i - d];
        if (s->unit != NO_UNIT && s->seq + 1 > need[s->unit])
            need[s->unit] = s->seq + 1;
        /* on a GEMM: every GEMM unit's descriptors dispatched up to it */
        for (unsigned g = 0; cu_of(s->unit) >= 0 && g < c->cus; g++)
            if (s->gsnap[g] > need[SQ_CP_GEMM_SLOT(g)])
                need[SQ_CP_GEMM_SLOT(g)] = s->gsnap[g];
    }
}

static bool met(const cp_t *c, const uint32_t need[SQ_CP_SLOTS_MAX])
{
    for (unsigned u = 0; u < c->nslots; u++)
        if (c->u[u].done_cnt < need[u])
            return false;
    return true;
}

/* Starts descriptor i on unit slot u in cycle t (its accept cycle): runs the
 * unit's model to its done pulse. */
static int unit_start(cp_t *c, unsigned u, uint32_t i, uint64_t t)
{
    unit_t *un = &c->u[u];
    const uint8_t *desc = desc_of(c, i);
    uint64_t bound = c->r->max_cycles ? c->r->max_cycles : 0;
    uint64_t cycles = 0, stalls = 0, wb = 0, rb;
    int cu = cu_of(u);
    if (cu >= 0) {
        sq_mm_t *mm = sq_gemm_model_mm(c->gemm[cu]);
        sq_pf_t *pf = &c->pf[cu];
        sq_pf_idle_until(pf, mm, t);
        sq_pf_stop(pf);
        int rc = sq_gemm_model_core(c->gemm[cu], desc, bound, &cycles, &stalls, &wb);
        if (rc)
            return rc;
        sq_pf_clear(pf);
        rb = mm->bytes_read - un->rb_mark;
        un->rb_mark = mm->bytes_read;
    } else {
        /* its timing reads the operands, which the descriptors before it in
         * the stream have produced (and none after it has touched) */
        int rc = c->exec(c->exec_ctx, i);
        if (rc)
            return rc;
        /* the attention and vector models keep the same counters */
        bool vec = u == SQ_CP_UNIT_OF(SQ_OP_VEC);
        sq_mm_t *mm = vec ? c->vec->mm : c->attn->mm;
        uint64_t *cy = vec ? &c->vec->cycles : &c->attn->cycles;
        uint64_t *st = vec ? &c->vec->stalls : &c->attn->stalls;
        uint64_t *bw = vec ? &c->vec->bytes_written : &c->attn->bytes_written;
        sq_mm_idle(mm, t + 1 - mm->now); /* to the cycle after the accept */
        uint64_t c0 = *cy, s0 = *st, w0 = *bw;
        if (vec)
            sq_vec_model_core(c->vec, c->mem, desc);
        else
            sq_attn_model_core(c->attn, c->mem, desc);
        cycles = 1 + *cy - c0;
        stalls = *st - s0;
        wb = *bw - w0;
        rb = mm->bytes_read - un->rb_mark;
        un->rb_mark = mm->bytes_read;
    }
    un->busy = true;
    un->done_at = t + cycles - 1;
    un->cur = (rec_t){sq_desc_opcode(desc), i, 0, t, un->done_at, stalls, rb, wb};
    return 0;
}

/* sq_cp.sv's record, as the writer's one beat. */
static void record_write(cp_t *c, const rec_t *rec)
{
    uint8_t *p = c->mem + c->r->prof_addr + (uint64_t)rec->idx * SQ_PROF_BYTES;
    memset(p, 0, SQ_PROF_BYTES);
    p[4 * SQ_PROF_W_OPCODE] = rec->op;
    sq_desc_set_addr(p, SQ_PROF_W_DISPATCH, rec->disp);
    sq_desc_set_addr(p, SQ_PROF_W_START, rec->start);
    sq_desc_set_addr(p, SQ_PROF_W_END, rec->end);
    sq_desc_set_addr(p, SQ_PROF_W_STALL, rec->stall);
    sq_desc_set_addr(p, SQ_PROF_W_RBYTES, rec->rb);
    sq_desc_set_addr(p, SQ_PROF_W_WBYTES, rec->wb);
}

/* One cycle t. *quiet: nothing can change before the next unit's done. */
static int cycle(cp_t *c, uint64_t t, bool *quiet)
{
    const uint32_t n = c->r->n_cmds;
    const bool prof = c->r->prof_addr != 0;
    sq_mm_pins_t pins;
    sq_mm_drive(c->cp, &pins);

    /* fetch */
    bool arvalid = c->fidx != n && c->inflight + c->raw < FETCH_DEPTH;
    bool ar_fire = arvalid && pins.arready, r_fire = pins.r;
    bool raw_push = r_fire && c->beat;

    /* patch and dispatch */
    bool raw_pop = false, disp = false;
    const int ps_before = c->ps;
    int ps = c->ps;
    uint32_t du = NO_UNIT, need[SQ_CP_SLOTS_MAX];
    switch (c->ps) {
    case P_IDLE:
        if (c->pidx != n && c->raw) {
            raw_pop = true;
            ps = P_PATCH1;
        }
        break;
    case P_PATCH1:
        ps = P_DISP;
        break;
    default:
        du = unit_of(desc_of(c, c->pidx));
        needs(c, c->pidx, need);
        if (du == NO_UNIT ? met(c, need) : c->u[du].q_count < QUEUE_DEPTH) {
            disp = true;
            ps = P_IDLE;
        }
        break;
    }

    /* queue heads, done pulses, the prefetch start */
    bool accept[SQ_CP_SLOTS_MAX], done[SQ_CP_SLOTS_MAX];
    for (unsigned u = 0; u < c->nslots; u++) {
        unit_t *un = &c->u[u];
        bool q_met = un->q_count && met(c, un->q[un->q_head].need);
        accept[u] = q_met && !(prof && un->rec_count == REC_DEPTH) && !un->busy;
        done[u] = un->busy && un->done_at == t;
    }
    bool pf_start[SQ_GEMM_CUS_MAX], any_pf = false;
    for (unsigned g = 0; g < c->cus; g++) {
        const unit_t *gu = &c->u[SQ_CP_GEMM_SLOT(g)];
        const qent_t *gh = &gu->q[gu->q_head];
        pf_start[g] = gu->q_count && !met(c, gh->need) && !gu->busy &&
                      c->pf_for[g] != gh->idx + 1;
        any_pf = any_pf || pf_start[g];
    }

    /* record writer */
    bool aw_fire = c->ws == W_ADDR && pins.awready;
    bool w_fire = c->ws == W_DATA && pins.w;
    uint32_t pick = NO_UNIT;
    for (unsigned u = 0; u < c->nslots && pick == NO_UNIT; u++)
        if (c->u[u].rec_count)
            pick = u;

    sq_mm_commit(c->cp, &(sq_mm_take_t){
                            .ar_beats = ar_fire ? 2u : 0u,
                            .ar_addr = c->r->cmd_addr + (uint64_t)c->fidx * SQ_DESC_BYTES,
                            .r = r_fire,
                            .w = w_fire,
                            .wlast = true,
                            .aw_beats = aw_fire ? 1u : 0u,
                            .b = pins.bvalid,
                        });
    if (r_fire)
        c->out->cp_rbytes += SQ_MM_BEAT;
    if (w_fire)
        c->out->cp_wbytes += SQ_MM_BEAT;

    /* ---- register updates ---- */
    c->fidx += ar_fire;
    c->inflight += (ar_fire ? 1u : 0u) - (raw_push ? 1u : 0u);
    c->beat ^= r_fire;
    c->raw += (raw_push ? 1u : 0u) - (raw_pop ? 1u : 0u);
    c->ps = ps;
    if (disp) {
        uint32_t i = c->pidx;
        slot_t *sl = &c->slot[i];
        *sl = (slot_t){du, du == NO_UNIT ? 0 : c->u[du].disp_cnt, {0}};
        for (unsigned g = 0; g < c->cus; g++)
            sl->gsnap[g] = c->u[SQ_CP_GEMM_SLOT(g)].disp_cnt + (du == SQ_CP_GEMM_SLOT(g));
        if (du != NO_UNIT) {
            unit_t *un = &c->u[du];
            qent_t *e = &un->q[(un->q_head + un->q_count) % QUEUE_DEPTH];
            e->idx = i;
            memcpy(e->need, need, sizeof e->need);
            e->disp = t;
            un->q_count++;
            un->disp_cnt++;
        }
        c->pidx++;
    }
    for (unsigned u = 0; u < c->nslots; u++) {
        unit_t *un = &c->u[u];
        if (done[u]) {
            unsigned w = cu_of(u) >= 0 ? 0 : u; /* the register window's unit */
            un->busy = false;
            un->done_cnt++;
            c->out->unit_busy[w] += un->cur.end - un->cur.start + 1;
            c->out->unit_stall[w] += un->cur.stall;
            c->out->unit_rbytes[w] += un->cur.rb;
            c->out->unit_wbytes[w] += un->cur.wb;
            if (prof) {
                un->rec[(un->rec_head + un->rec_count) % REC_DEPTH] = un->cur;
                un->rec_count++;
            }
        }
    }
    for (unsigned g = 0; g < c->cus; g++) {
        if (!pf_start[g])
            continue;
        const unit_t *gu = &c->u[SQ_CP_GEMM_SLOT(g)];
        uint32_t idx = gu->q[gu->q_head].idx;
        sq_pf_idle_until(&c->pf[g], sq_gemm_model_mm(c->gemm[g]), t + 1);
        sq_pf_start(&c->pf[g], desc_of(c, idx));
        c->pf_for[g] = idx + 1;
    }
    for (unsigned u = 0; u < c->nslots; u++) {
        if (!accept[u])
            continue;
        unit_t *un = &c->u[u];
        qent_t e = un->q[un->q_head];
        un->q_head = (un->q_head + 1) % QUEUE_DEPTH;
        un->q_count--;
        int rc = unit_start(c, u, e.idx, t);
        if (rc)
            return rc;
        un->cur.disp = e.disp;
    }
    switch (c->ws) {
    case W_IDLE:
        if (pick != NO_UNIT) {
            c->wu = pick;
            c->ws = W_ADDR;
        }
        break;
    case W_ADDR:
        if (aw_fire)
            c->ws = W_DATA;
        break;
    default:
        if (w_fire) {
            unit_t *un = &c->u[c->wu];
            record_write(c, &un->rec[un->rec_head]);
            un->rec_head = (un->rec_head + 1) % REC_DEPTH;
            un->rec_count--;
            c->ws = W_IDLE;
        }
        break;
    }
    c->outstanding += (aw_fire ? 1u : 0u) - (pins.bvalid ? 1u : 0u);

    /* a dispatch blocked on a full queue or a fence, heads waiting for
     * dependencies or a busy unit: all wait for a done pulse */
    bool any = ar_fire || r_fire || raw_pop || ps != ps_before || disp || any_pf ||
               c->ws != W_IDLE || aw_fire || w_fire || pins.bvalid || c->outstanding;
    for (unsigned u = 0; u < c->nslots; u++)
        any = any || accept[u] || done[u] || c->u[u].rec_count;
    *quiet = !any && !arvalid && c->inflight == 0 && !c->cp->rd.count && !c->cp->aw.count &&
             !c->cp->b.count;
    return 0;
}

/* sq_cp.sv's done_o: everything fetched, dispatched, run and recorded. */
static bool finished(const cp_t *c)
{
    if (c->pidx != c->r->n_cmds || c->ps != P_IDLE || c->inflight || c->raw ||
        c->ws != W_IDLE || c->outstanding)
        return false;
    for (unsigned u = 0; u < c->nslots; u++)
        if (c->u[u].busy || c->u[u].q_count || c->u[u].rec_count)
            return false;
    return true;
}

int sq_cp_model_run(sq_gemm_model_t *const *gemm, sq_pf_t *pf, unsigned cus, sq_attn_model_t *attn,
                    sq_vec_model_t *vec, sq_mm_t *cp, uint8_t *mem, const sq_stream_run_t *r,
                    int (*exec)(void *ctx, uint32_t upto), void *exec_ctx,
                    sq_cp_model_out_t *out)
{
    cp_t c = {.gemm = gemm, .pf = pf, .cus = cus, .nslots = SQ_CP_UNITS + cus - 1, .attn = attn,
              .vec = vec, .cp = cp, .mem = mem, .r = r, .exec = exec, .exec_ctx = exec_ctx,
              .out = out};
    *out = (sq_cp_model_out_t){0};
    c.slot = malloc((r->n_cmds ? r->n_cmds : 1) * sizeof *c.slot);
    if (!c.slot)
        return sq_err(SQ_ERR_MEM, "model: out of memory for a stream of %u descriptors",
                      r->n_cmds);
    /* every channel idle and full at ap_start, clocks from cycle 0 */
    sq_mm_t *chans[3 + SQ_GEMM_CUS_MAX] = {cp, attn->mm, vec->mm};
    for (unsigned g = 0; g < cus; g++)
        chans[3 + g] = sq_gemm_model_mm(gemm[g]);
    for (size_t i = 0; i < 3 + cus; i++) {
        sq_mm_start(chans[i]);
        chans[i]->now = 0;
        chans[i]->bytes_read = 0;
    }
    attn->cycles = attn->stalls = attn->bytes_written = 0;
    vec->cycles = vec->stalls = vec->bytes_written = 0;
    for (unsigned g = 0; g < cus; g++)
        sq_pf_clear(&pf[g]);
    int rc = 0;
    uint64_t t = 0;
    while (rc == 0) {
        if (r->max_cycles && t >= r->max_cycles) {
            rc = sq_err(SQ_ERR_DEV, "model: %u commands did not finish within %" PRIu64 " cycles",
                        r->n_cmds, r->max_cycles);
            break;
        }
        if (finished(&c)) {
            out->cycles = t + 1;
            break;
        }
        bool quiet;
        rc = cycle(&c, t, &quiet);
        t++;
        if (rc || !quiet)
            continue;
        /* nothing moves until a unit is done */
        uint64_t next = UINT64_MAX;
        for (unsigned u = 0; u < c.nslots; u++)
            if (c.u[u].busy && c.u[u].done_at < next)
                next = c.u[u].done_at;
        if (next == UINT64_MAX) {
            if (!finished(&c))
                rc = sq_err(SQ_ERR_DEV, "model: the command processor is stuck at cycle %" PRIu64
                                        " (descriptor %u)", t, c.pidx);
            continue;
        }
        if (next > t) {
            sq_mm_idle(cp, next - t);
            t = next;
        }
    }
    /* the outputs of the descriptors no timing needed yet */
    if (rc == 0)
        rc = exec(exec_ctx, r->n_cmds);
    free(c.slot);
    return rc;
}
