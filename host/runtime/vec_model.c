/* Cycle model of the vector unit: the state machine of rtl/vec/sq_vec_core.sv
 * walked one state visit at a time, with the memory timing of model_mem.h
 * for its single-beat line reads and line writes. Every state takes a fixed
 * number of cycles; what varies is where the operand loads hit the core's
 * six line buffers and when the write-combining line goes out, which
 * depends on the addresses only (and, for GATHER, on each row's token id,
 * read from the device image). */
#include "runtime/vec_model.h"

#include <string.h>

#include "runtime/desc.h"
#include "sparq/desc.h"
#include "sparq/spec.h"

/* sq_div: a division of b bits takes its start cycle, then b + 1
 * cycles in the waiting state (the last sees done) */
#define DIV_SIG 31u
#define DIV_MEAN 50u
#define DIV_RSQRT 62u
#define DIV_DQ 53u
#define ISQRT_STEPS 31u

enum { LX0, LC0M, LC0S, LX1, LC1M, LC1S, LT, LRECM, LRECS, LID, LGM, LGS, NLD };
enum { BIN, BIN2, BCHAN, BTAB, BCHAN2, BREC };
typedef enum { PSUM, PDMAX, PSS, PMAX, PQ8, POUT32, POUT8, PARG, PGATHER } pass_t;

typedef struct {
    sq_vec_desc_t d;
    uint32_t seg;
    uint64_t in_row, in2_row, out_row, tab_row, rin, rout;
    uint64_t in_sb, out_sb;
    uint32_t j, jj, gid;
    pass_t pass;
} op_t;

static void step(sq_vec_model_t *vm, uint64_t n)
{
    sq_mm_idle(vm->mm, n);
    vm->cycles += n;
}

/* One read burst of `beats` beats from its address handshake through its
 * last beat (stall: whether the waiting counts; not for sq_fetch's
 * descriptor reads, while the core is idle). */
static void read_burst(sq_vec_model_t *vm, uint32_t beats, int stall)
{
    sq_mm_t *m = vm->mm;
    sq_mm_pins_t p;
    for (;;) {
        sq_mm_drive(m, &p);
        sq_mm_commit(m, &(sq_mm_take_t){.ar_beats = p.arready ? beats : 0});
        vm->cycles++;
        if (p.arready)
            break;
        vm->stalls += stall;
    }
    for (bool last = false; !last;) {
        const sq_mm_burst_t *r = sq_mm_read_head(m);
        if (r->ready_at > m->now) {
            uint64_t wait = r->ready_at - m->now;
            sq_mm_idle(m, wait);
            vm->cycles += wait;
            vm->stalls += stall ? wait : 0;
            continue;
        }
        sq_mm_drive(m, &p);
        sq_mm_commit(m, &(sq_mm_take_t){.r = p.r});
        vm->cycles++;
        vm->stalls += stall && !p.r;
        last = p.rlast;
    }
}

/* SWrAw, SWrW, SWrB: the write-combining line as one strobed beat. */
static void flush(sq_vec_model_t *vm)
{
    sq_mm_t *m = vm->mm;
    sq_mm_pins_t p;
    for (;;) {
        sq_mm_drive(m, &p);
        sq_mm_commit(m, &(sq_mm_take_t){.aw_beats = p.awready ? 1 : 0});
        vm->cycles++;
        if (p.awready)
            break;
        vm->stalls++;
    }
    for (;;) {
        sq_mm_drive(m, &p);
        sq_mm_commit(m, &(sq_mm_take_t){.w = p.w, .wlast = p.w});
        vm->cycles++;
        if (p.w)
            break;
        vm->stalls++;
    }
    for (;;) {
        const sq_mm_burst_t *b = &m->b.q[m->b.head];
        if (b->ready_at > m->now) {
            uint64_t wait = b->ready_at - m->now;
            sq_mm_idle(m, wait);
            vm->cycles += wait;
            vm->stalls += wait;
            continue;
        }
        sq_mm_commit(m, &(sq_mm_take_t){.b = true});
        vm->cycles++;
        break;
    }
    vm->bytes_written += (uint64_t)__builtin_popcountll(vm->wstrb);
    vm->wv = false;
    vm->wstrb = 0;
}

/* SWr: one byte or word into the write-combining line. */
static void write_item(sq_vec_model_t *vm, uint64_t addr, uint32_t size)
{
    if (vm->wv && vm->wtag != addr >> 6) {
        step(vm, 1);
        flush(vm);
    }
    step(vm, 1);
    vm->wv = true;
    vm->wtag = addr >> 6;
    vm->wstrb |= (size == 4 ? 0xFull : 1ull) << (addr & 63u);
}

static void load_addr(const op_t *o, int ld, uint64_t *addr, int *buf)
{
    const sq_vec_desc_t *d = &o->d;
    int rot = (d->flags & SQ_VEC_ROT) != 0;
    *buf = BIN;
    switch (ld) {
    case LX0:
        *addr = o->in_sb + (d->func == SQ_VEC_COPY ? o->jj : 4ull * o->jj);
        return;
    case LC0M:
        *addr = d->chan + (d->func == SQ_VEC_NORM ? 4ull : 8ull) * o->j;
        *buf = BCHAN;
        return;
    case LC0S:
        *addr = d->chan + 8ull * o->j + 4;
        *buf = BCHAN;
        return;
    case LX1:
        if (rot) {
            *addr = o->in_sb + 4ull * o->jj + 4;
        } else {
            *addr = o->in2_row + 4ull * o->j;
            *buf = BIN2;
        }
        return;
    case LC1M:
    case LC1S:
        if (rot) {
            *addr = d->chan + 8ull * o->j + 8;
            *buf = BCHAN;
        } else {
            *addr = d->chan + 8ull * ((uint64_t)d->n + o->j);
            *buf = BCHAN2;
        }
        *addr += ld == LC1S ? 4 : 0;
        return;
    case LT:
        *buf = BTAB;
        if (d->func == SQ_VEC_GATHER)
            *addr = d->tab + (uint64_t)o->gid * d->tab_stride + o->j;
        else if (rot)
            *addr = o->tab_row + 2ull * o->jj;
        else
            *addr = d->tab + 4ull * o->j;
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

/* SLd for each load of mask in order: a hit in one cycle, a miss reads the
 * line first and then hits. */
static void loads(sq_vec_model_t *vm, op_t *o, const uint8_t *mem, uint32_t mask)
{
    for (int ld = 0; ld < NLD; ld++) {
        if (!(mask & (1u << ld)))
            continue;
        uint64_t addr;
        int buf;
        load_addr(o, ld, &addr, &buf);
        if (!(vm->bv[buf] && vm->btag[buf] == addr >> 6)) {
            step(vm, 1);
            read_burst(vm, 1, 1);
            vm->bv[buf] = true;
            vm->btag[buf] = addr >> 6;
        }
        step(vm, 1);
        if (ld == LID) {
            o->gid = sq_ld32(mem + addr);
            if (o->gid >= o->d.p[0])
                mask &= ~((1u << LGM) | (1u << LGS));
        }
    }
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
    if (f == SQ_VEC_ADD || swiglu || rot)
        m |= 1u << LX1;
    if (swiglu || rot)
        m |= 1u << LC1M | 1u << LC1S;
    if ((fl & SQ_VEC_BIAS) || rot)
        m |= 1u << LT;
    return m;
}

/* One pass over the row's elements, SPass through the last SNext. */
static void pass(sq_vec_model_t *vm, op_t *o, const uint8_t *mem)
{
    const sq_vec_desc_t *d = &o->d;
    int pair = o->pass == POUT8 && d->func == SQ_VEC_ROPE && (d->flags & SQ_VEC_ROT);
    bool sig = value_pass(o->pass) && (d->func == SQ_VEC_GELU || d->func == SQ_VEC_SWIGLU);
    step(vm, 1); /* SPass */
    o->j = o->jj = 0;
    o->in_sb = o->in_row;
    o->out_sb = o->out_row;
    while (o->j < d->n) {
        step(vm, 1); /* SElem */
        loads(vm, o, mem, elem_mask(o));
        step(vm, 1); /* SVal */
        if (sig)
            step(vm, (d->func == SQ_VEC_GELU ? 1 : 0) + 1 + DIV_SIG + 1 + 1);
        step(vm, 1); /* SAct */
        switch (o->pass) {
        case PQ8:
            write_item(vm, o->out_sb + o->jj, 1);
            break;
        case POUT8:
            write_item(vm, o->out_sb + o->jj, 1);
            if (pair)
                write_item(vm, o->out_sb + o->jj + 1, 1);
            break;
        case POUT32:
        case PGATHER:
            write_item(vm, o->out_sb + 4ull * o->jj, 4);
            break;
        default:
            break;
        }
        step(vm, 1); /* SNext */
        uint32_t inc = pair ? 2 : 1;
        o->j += inc;
        o->jj += inc;
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
            write_item(vm, o->rout, 4);
            write_item(vm, o->rout + 4, 4);
            o->pass = PQ8;
            pass(vm, o, mem);
        } else if (o->pass == PARG) {
            write_item(vm, o->out_row, 4);
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
    step(vm, 1); /* SDone: cmd_done */
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
    read_burst(vm, (uint32_t)((desc_addr % 64 + SQ_DESC_BYTES - 1) / 64 + 1), 0);
    step(vm, 1); /* Issue: the core accepts a vector descriptor, others are skipped */
    if (sq_desc_opcode(mem + desc_addr) == SQ_OP_VEC)
        sq_vec_model_core(vm, mem, mem + desc_addr);
}
