/* Cycle model of the vector unit: the state machine of rtl/vec/sq_vec_core.sv
 * walked one state visit at a time (a group of up to SQ_VEC_LANES elements
 * per visit), with the memory timing of model_mem.h for its two-beat block
 * reads and block writes, and its request engine (the reads asked for, the
 * beats and the write responses taken in every state) cycle by cycle
 * beside the states while anything is in flight. Every state takes a fixed
 * number of cycles but the waits; what varies is which blocks the core's
 * six read buffers hold and when the write-combining block goes out, which
 * depends on the addresses only (and, for GATHER, on each row's token id,
 * read from the device image). */
#include "runtime/vec_model.h"

#include <string.h>

#include "runtime/desc.h"
#include "sparq/desc.h"
#include "sparq/spec.h"
#include "sparq/vec.h"

/* sq_div: a division of b bits takes its start cycle, then b + 1
 * cycles in the waiting state (the last sees done) */
#define DIV_MEAN 50u
#define DIV_RSQRT 62u
#define DIV_DQ 53u
#define ISQRT_STEPS 31u
/* the lanes' sigmoid divisions: SSig0, 4 steps of four bits in SSigW, SSig1 */
#define SIG_CYCLES 6u
#define BLK 128u /* a read or write block: two beats */
#define NBLK SQ_VEC_BUF_BLOCKS

_Static_assert(SQ_VEC_MODEL_SLOTS <= 64, "the request mask is one 64-bit word");
_Static_assert(SQ_VEC_MODEL_SLOTS <= SQ_VEC_MODEL_RQ, "each slot is in flight at most once");

enum { LX0, LC0M, LC0S, LX1, LC1M, LC1S, LT, NEL, LRECM = NEL, LRECS, LID, LGM, LGS, NLD };
enum { BIN, BIN2, BCHAN, BTAB, BCHAN2, BREC };
typedef enum { PSUM, PDMAX, PSS, PMAX, PQ8, POUT32, POUT8, PARG, PGATHER } pass_t;

typedef struct {
    sq_vec_desc_t d;
    uint32_t seg;
    uint64_t in_row, in2_row, out_row, tab_row, rin, rout;
    uint64_t in_sb, out_sb;
    uint32_t j, jj, g, gid;
    pass_t pass;
} op_t;

/* ---- one cycle: the request engine (every state) around the state's own
 * handshakes, as sq_vec_core's always_comb orders them */

typedef struct {
    sq_mm_pins_t p;
    bool ar, r, b;
    bool far0;      /* far_q != 0 */
    uint32_t rq0;   /* rq_cnt_q */
} bg_t;

/* The cycle's start: the memory's pins, the engine's request and beat, and
 * the response taken; the slots' state becomes the cycle's _d values. */
static void bg_begin(sq_vec_model_t *vm, bg_t *g)
{
    sq_mm_drive(vm->mm, &g->p);
    g->far0 = vm->far != 0;
    g->rq0 = vm->rq_cnt;
    g->ar = g->far0 && g->p.arready;
    g->r = vm->rq_cnt && g->p.r;
    g->b = vm->wout && g->p.bvalid;
    if (g->ar) {
        unsigned sl = (unsigned)__builtin_ctzll(vm->far);
        vm->far &= ~(1ull << sl);
        vm->rq[(vm->rq_head + vm->rq_cnt) % SQ_VEC_MODEL_RQ] = (uint8_t)sl;
        vm->rq_cnt++;
    }
    if (g->r && g->p.rlast) {
        unsigned sl = vm->rq[vm->rq_head];
        vm->bv[sl] = true;
        vm->pend[sl] = false;
        vm->rq_head = (vm->rq_head + 1) % SQ_VEC_MODEL_RQ;
        vm->rq_cnt--;
    }
    vm->wout -= g->b;
}

/* The cycle's end: the state's own write handshakes (aw: a write burst's
 * address, w: a beat, last: its second) and whether it counts as a stall. */
static void bg_end(sq_vec_model_t *vm, const bg_t *g, bool aw, bool w, bool last, bool stall)
{
    sq_mm_commit(vm->mm, &(sq_mm_take_t){.ar_beats = g->ar ? 2u : 0u,
                                         .r = g->r,
                                         .w = w,
                                         .wlast = w && last,
                                         .aw_beats = aw ? 2u : 0u,
                                         .b = g->b});
    vm->wout += w && last;
    vm->cycles++;
    vm->stalls += stall;
}

/* n cycles of states without handshakes of their own. */
static void step(sq_vec_model_t *vm, uint64_t n)
{
    sq_mm_t *m = vm->mm;
    while (n) {
        if (!vm->far && !vm->rq_cnt && !vm->wout) {
            sq_mm_idle(m, n);
            vm->cycles += n;
            return;
        }
        if (!vm->far) {
            /* nothing can happen before the next beat or response is due */
            uint64_t due = UINT64_MAX;
            if (vm->rq_cnt)
                due = sq_mm_read_head(m)->ready_at;
            if (vm->wout && m->b.count && m->b.q[m->b.head].ready_at < due)
                due = m->b.q[m->b.head].ready_at;
            if (due > m->now) {
                uint64_t k = due - m->now < n ? due - m->now : n;
                sq_mm_idle(m, k);
                vm->cycles += k;
                n -= k;
                continue;
            }
        }
        bg_t g;
        bg_begin(vm, &g);
        bg_end(vm, &g, false, false, false, false);
        n--;
    }
}

/* One read burst of `beats` beats from its address handshake through its
 * last beat: sq_fetch's descriptor read, while the core is idle (nothing of
 * the core in flight), not counted as a stall. */
static void read_burst(sq_vec_model_t *vm, uint32_t beats)
{
    sq_mm_t *m = vm->mm;
    sq_mm_pins_t p;
    for (;;) {
        sq_mm_drive(m, &p);
        sq_mm_commit(m, &(sq_mm_take_t){.ar_beats = p.arready ? beats : 0});
        vm->cycles++;
        if (p.arready)
            break;
    }
    for (bool last = false; !last;) {
        const sq_mm_burst_t *r = sq_mm_read_head(m);
        if (r->ready_at > m->now) {
            uint64_t wait = r->ready_at - m->now;
            sq_mm_idle(m, wait);
            vm->cycles += wait;
            continue;
        }
        sq_mm_drive(m, &p);
        sq_mm_commit(m, &(sq_mm_take_t){.r = p.r});
        vm->cycles++;
        last = p.rlast;
    }
}

/* SWrAw, SWrW: the write-combining block as one two-beat strobed burst; its
 * response is taken later, by the engine. */
static void flush(sq_vec_model_t *vm)
{
    bg_t g;
    for (bool aw = false; !aw;) {
        bg_begin(vm, &g);
        aw = g.p.awready;
        bg_end(vm, &g, aw, false, false, !aw);
    }
    for (int beat = 0; beat < 2;) {
        bg_begin(vm, &g);
        bool w = g.p.w;
        bg_end(vm, &g, false, w, beat == 1, !w);
        beat += w;
    }
    vm->bytes_written += (uint64_t)__builtin_popcountll(vm->wstrb[0]) +
                         (uint64_t)__builtin_popcountll(vm->wstrb[1]);
    vm->wv = false;
    vm->wstrb[0] = vm->wstrb[1] = 0;
}

/* SWr for `count` items of `size` bytes from addr (lanes 0..count-1): one
 * visit per block they fall in, each first sending a buffered other block. */
static void write_items(sq_vec_model_t *vm, uint64_t addr, uint32_t count, uint32_t size)
{
    uint64_t end = addr + (uint64_t)count * size; /* past the last byte */
    for (uint64_t b = addr / BLK; b <= (end - 1) / BLK; b++) {
        if (vm->wv && vm->wtag != b) {
            step(vm, 1);
            flush(vm);
        }
        step(vm, 1);
        vm->wv = true;
        vm->wtag = b;
        uint64_t lo = addr > b * BLK ? addr : b * BLK, hi = end < (b + 1) * BLK ? end : (b + 1) * BLK;
        for (uint64_t x = lo; x < hi; x++)
            vm->wstrb[(x % BLK) / 64] |= 1ull << (x % 64);
    }
}

/* Lane 0's address, the lanes' stride (element size) and the buffer of a load. */
static void load_addr(const op_t *o, int ld, uint64_t *addr, uint32_t *es, int *buf)
{
    const sq_vec_desc_t *d = &o->d;
    int rot = (d->flags & SQ_VEC_ROT) != 0;
    *buf = BIN;
    *es = 4;
    switch (ld) {
    case LX0:
        *es = d->func == SQ_VEC_COPY ? 1 : 4;
        *addr = o->in_sb + (uint64_t)*es * o->jj;
        return;
    case LC0M:
        *es = d->func == SQ_VEC_NORM ? 4 : 8;
        *addr = d->chan + (uint64_t)*es * o->j;
        *buf = BCHAN;
        return;
    case LC0S:
        *es = 8;
        *addr = d->chan + 8ull * o->j + 4;
        *buf = BCHAN;
        return;
    case LX1:
        *addr = o->in2_row + 4ull * o->j;
        *buf = BIN2;
        return;
    case LC1M:
    case LC1S:
        *es = 8;
        *addr = d->chan + 8ull * ((uint64_t)d->n + o->j) + (ld == LC1S ? 4 : 0);
        *buf = BCHAN2;
        return;
    case LT:
        *buf = BTAB;
        if (d->func == SQ_VEC_GATHER) {
            *es = 1;
            *addr = d->tab + (uint64_t)o->gid * d->tab_stride + o->j;
        } else if (rot) {
            *es = 2;
            *addr = o->tab_row + 2ull * o->jj;
        } else {
            *addr = d->tab + 4ull * o->j;
        }
        return;
    case LRECM:
    case LRECS:
        *addr = o->rin + (ld == LRECS ? 4 : 0);
        *buf = BREC;
        return;
    case LID:
        *addr = o->in_row;
        return;
    default: /* LGM, LGS */
        *addr = d->chan + 8ull * o->gid + (ld == LGS ? 4 : 0);
        *buf = BCHAN;
        return;
    }
}

static unsigned slot_of(int buf, uint64_t b)
{
    return (unsigned)buf * NBLK + (unsigned)(b % NBLK);
}

static bool present(const sq_vec_model_t *vm, int buf, uint64_t b)
{
    unsigned sl = slot_of(buf, b);
    return vm->bv[sl] && vm->btag[sl] == b;
}

/* Asks for block b of buffer buf unless it is buffered or on its way;
 * returns its slot. */
static unsigned request(sq_vec_model_t *vm, int buf, uint64_t b)
{
    unsigned sl = slot_of(buf, b);
    if (!(vm->btag[sl] == b && (vm->bv[sl] || vm->pend[sl]))) {
        vm->bv[sl] = false;
        vm->pend[sl] = true;
        vm->btag[sl] = b;
        vm->far |= 1ull << sl;
    }
    return sl;
}

/* SFill: waits until every slot of need holds its block. */
static void wait_for(sq_vec_model_t *vm, uint64_t need)
{
    for (bool done = false; !done;) {
        bg_t g;
        bg_begin(vm, &g);
        done = true;
        for (unsigned sl = 0; sl < SQ_VEC_MODEL_SLOTS; sl++)
            done = done && (!(need >> sl & 1) || vm->bv[sl]);
        bg_end(vm, &g, false, false, false, true);
    }
}

/* SLd for each load of mask in order, lanes 0..g-1 (a row load: lane 0):
 * every waiting lane whose block is in its slot takes its word in one visit;
 * when the first waiting lane's is not, a miss asks for it (SFill waits). */
static void loads(sq_vec_model_t *vm, op_t *o, const uint8_t *mem, uint32_t mask)
{
    for (int ld = 0; ld < NLD; ld++) {
        if (!(mask & (1u << ld)))
            continue;
        uint64_t addr;
        uint32_t es;
        int buf;
        load_addr(o, ld, &addr, &es, &buf);
        uint32_t lanes = ld < NEL ? o->g : 1;
        uint64_t b[2] = {addr / BLK, (addr + (uint64_t)(lanes - 1) * es) / BLK};
        bool wait[2] = {true, b[1] != b[0]};
        while (wait[0] || wait[1]) {
            uint64_t f = wait[0] ? b[0] : b[1];
            if (present(vm, buf, f)) {
                bool hit[2] = {present(vm, buf, b[0]), present(vm, buf, b[1])};
                step(vm, 1);
                for (int k = 0; k < 2; k++)
                    wait[k] = wait[k] && !hit[k];
            } else {
                bg_t g;
                bg_begin(vm, &g);
                unsigned sl = request(vm, buf, f);
                bg_end(vm, &g, false, false, false, false);
                wait_for(vm, 1ull << sl);
            }
        }
        if (ld == LID) {
            o->gid = sq_ld32(mem + addr);
            if (o->gid >= o->d.p[0])
                mask &= ~((1u << LGM) | (1u << LGS));
        }
    }
}

/* SElem's requests: each element load's blocks from the group's first on,
 * NBLK - 1 of them as far as the segment goes (CHAN's two loads of one
 * buffer start up to a block apart) (rest elements from this group
 * on), in load and block order; then SFill waits for the group's own. */
static void elem_requests(sq_vec_model_t *vm, op_t *o, uint32_t mask, uint32_t rest)
{
    bg_t g;
    bg_begin(vm, &g);
    uint64_t need = 0;
    for (int ld = 0; ld < NEL; ld++) {
        if (!(mask & (1u << ld)))
            continue;
        uint64_t addr;
        uint32_t es;
        int buf;
        load_addr(o, ld, &addr, &es, &buf);
        uint64_t b0 = addr / BLK, b1 = (addr + (uint64_t)(o->g - 1) * es) / BLK;
        uint64_t be = (addr + (uint64_t)(rest - 1) * es) / BLK;
        for (uint64_t blk = b0; blk < b0 + NBLK - 1 && blk <= be; blk++) {
            unsigned sl = request(vm, buf, blk);
            if (blk <= b1 && !vm->bv[sl])
                need |= 1ull << sl;
        }
    }
    bg_end(vm, &g, false, false, false, false);
    if (need)
        wait_for(vm, need);
}

static bool value_pass(pass_t p)
{
    return p == PMAX || p == PQ8 || p == POUT32 || p == POUT8;
}

static uint32_t elem_mask(const op_t *o)
{
    const sq_vec_desc_t *d = &o->d;
    uint32_t f = d->func, fl = d->flags, m = 0;
    int rot = (fl & SQ_VEC_ROT) != 0, swiglu = f == SQ_VEC_SWIGLU;
    if (o->pass == PGATHER)
        return o->gid < d->p[0] ? 1u << LT : 0;
    if (!value_pass(o->pass) || f == SQ_VEC_COPY)
        return 1u << LX0;
    if (f == SQ_VEC_NORM)
        return 1u << LX0 | 1u << LC0M | ((fl & SQ_VEC_BIAS) ? 1u << LT : 0);
    m = 1u << LX0;
    if (fl & SQ_VEC_ACC)
        m |= 1u << LC0M | 1u << LC0S;
    if (f == SQ_VEC_ADD || swiglu)
        m |= 1u << LX1;
    if (swiglu)
        m |= 1u << LC1M | 1u << LC1S;
    if ((fl & SQ_VEC_BIAS) || rot)
        m |= 1u << LT;
    return m;
}

/* One pass over the row's elements, SPass through the last SNext: groups of
 * up to SQ_VEC_LANES elements of one segment. */
static void pass(sq_vec_model_t *vm, op_t *o, const uint8_t *mem)
{
    const sq_vec_desc_t *d = &o->d;
    bool sig = value_pass(o->pass) && (d->func == SQ_VEC_GELU || d->func == SQ_VEC_SWIGLU);
    step(vm, 1); /* SPass */
    o->j = o->jj = 0;
    o->in_sb = o->in_row;
    o->out_sb = o->out_row;
    while (o->j < d->n) {
        uint32_t rest = d->n - o->j < o->seg - o->jj ? d->n - o->j : o->seg - o->jj;
        o->g = rest < SQ_VEC_LANES ? rest : SQ_VEC_LANES;
        uint32_t mask = elem_mask(o);
        if (mask) /* SElem */
            elem_requests(vm, o, mask, rest);
        else
            step(vm, 1);
        loads(vm, o, mem, mask);
        step(vm, 1); /* SVal */
        if (sig)
            step(vm, (d->func == SQ_VEC_GELU ? 1 : 0) + SIG_CYCLES);
        step(vm, 1); /* SAct */
        switch (o->pass) {
        case PQ8:
        case POUT8:
            write_items(vm, o->out_sb + o->jj, o->g, 1);
            break;
        case POUT32:
        case PGATHER:
            write_items(vm, o->out_sb + 4ull * o->jj, o->g, 4);
            break;
        default:
            break;
        }
        step(vm, 1); /* SNext */
        o->j += o->g;
        o->jj += o->g;
        if (o->jj >= o->seg) {
            o->jj = 0;
            o->in_sb += d->in_seg_stride;
            o->out_sb += d->out_seg_stride;
        }
    }
}

static void row(sq_vec_model_t *vm, op_t *o, const uint8_t *mem)
{
    const sq_vec_desc_t *d = &o->d;
    uint32_t f = d->func, fl = d->flags;
    step(vm, 1); /* SRow */
    uint32_t rmask = 0;
    if (fl & SQ_VEC_ACC)
        rmask |= 1u << LRECM | 1u << LRECS;
    if (f == SQ_VEC_GATHER)
        rmask |= 1u << LID | 1u << LGM | 1u << LGS;
    loads(vm, o, mem, rmask);
    switch (f) {
    case SQ_VEC_GATHER:
        o->pass = PGATHER;
        pass(vm, o, mem);
        break;
    case SQ_VEC_NORM:
        if (fl & SQ_VEC_LN) {
            o->pass = PSUM;
            pass(vm, o, mem);
            step(vm, 1 + DIV_MEAN + 1 + 1); /* SMean, SMeanW, SMeanF */
        }
        o->pass = PDMAX;
        pass(vm, o, mem);
        o->pass = PSS;
        pass(vm, o, mem);
        step(vm, 1 + ISQRT_STEPS + DIV_RSQRT + 1 + 1); /* SRsq0, SSqrt, SRsqW, SRsqF */
        o->pass = (fl & SQ_VEC_Q8) ? PMAX : POUT32;
        break;
    case SQ_VEC_ADD:
    case SQ_VEC_DEQ:
        o->pass = POUT32;
        break;
    case SQ_VEC_ROPE:
    case SQ_VEC_COPY:
        o->pass = POUT8;
        break;
    case SQ_VEC_GELU:
        o->pass = (fl & SQ_VEC_Q8) ? PMAX : POUT32;
        break;
    case SQ_VEC_ARGMAX:
        o->pass = PARG;
        break;
    default: /* SWIGLU, QUANT */
        o->pass = PMAX;
        break;
    }
    if (f != SQ_VEC_GATHER) {
        pass(vm, o, mem);
        if (o->pass == PMAX) {
            step(vm, 1 + DIV_DQ + 1 + 1); /* SDq0, SDqW, SDqF */
            write_items(vm, o->rout, 2, 4);
            o->pass = PQ8;
            pass(vm, o, mem);
        } else if (o->pass == PARG) {
            write_items(vm, o->out_row, 1, 4);
        }
    }
    step(vm, 1); /* SRowEnd */
}

void sq_vec_model_init(sq_vec_model_t *vm, sq_mm_t *mm)
{
    memset(vm, 0, sizeof *vm);
    vm->mm = mm;
}

void sq_vec_model_core(sq_vec_model_t *vm, const uint8_t *mem, const uint8_t *desc)
{
    op_t o = {0};
    sq_vec_desc_decode(desc, &o.d);
    if (sq_desc_opcode(desc) != SQ_OP_VEC || o.d.func >= SQ_VEC_FUNCS || o.d.m == 0 ||
        o.d.n == 0)
        return; /* done in the cycle it is accepted */
    o.seg = o.d.seg ? o.d.seg : o.d.n;
    memset(vm->bv, 0, sizeof vm->bv);
    memset(vm->pend, 0, sizeof vm->pend);
    o.in_row = o.d.in;
    o.in2_row = o.d.in2;
    o.out_row = o.d.out;
    o.tab_row = o.d.tab;
    o.rin = o.d.rec_in;
    o.rout = o.d.rec_out;
    for (uint32_t m = 0; m < o.d.m; m++) {
        row(vm, &o, mem);
        o.in_row += o.d.in_stride;
        o.in2_row += o.d.in2_stride;
        o.out_row += o.d.out_stride;
        o.tab_row += o.d.tab_stride;
        o.rin += SQ_VEC_REC_BYTES;
        o.rout += SQ_VEC_REC_BYTES;
    }
    step(vm, 1); /* SFlush */
    if (vm->wv) {
        flush(vm);
    }
    /* SDone: cmd_done once every response is in */
    for (bool drained = false; !drained;) {
        bg_t g;
        bg_begin(vm, &g);
        drained = !vm->wout && !g.far0 && !g.rq0;
        bg_end(vm, &g, false, false, false, !drained);
    }
}

void sq_vec_model_begin(sq_vec_model_t *vm)
{
    sq_mm_start(vm->mm);
    vm->cycles = vm->stalls = vm->bytes_written = 0;
}

void sq_vec_model_end(sq_vec_model_t *vm)
{
    step(vm, 1); /* sq_fetch's last Next raises done (counted by sq_ctrl) */
}

void sq_vec_model_desc(sq_vec_model_t *vm, const uint8_t *mem, uint64_t desc_addr)
{
    step(vm, 1); /* sq_fetch: Next */
    read_burst(vm, (uint32_t)((desc_addr % 64 + SQ_DESC_BYTES - 1) / 64 + 1));
    step(vm, 1); /* Issue: the core accepts a vector descriptor, others are skipped */
    if (sq_desc_opcode(mem + desc_addr) == SQ_OP_VEC)
        sq_vec_model_core(vm, mem, mem + desc_addr);
}
