/* Cycle model of the vector unit: the state machine of rtl/vec/sq_vec_core.sv
 * walked one state visit at a time (a group of up to SQ_VEC_LANES elements
 * per visit), with the memory timing of model_mem.h for its two-beat block
 * reads and block writes. Every state takes a fixed number of cycles; what
 * varies is where the operand loads hit the core's six block buffers and
 * when the write-combining block goes out, which depends on the addresses
 * only (and, for GATHER, on each row's token id, read from the device
 * image). */
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
/* the lanes' sigmoid divisions: SSig0, 16 steps in SSigW, SSig1 */
#define SIG_CYCLES 18u
#define BLK 128u /* a read or write block: two beats */

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

/* SWrAw, SWrW, SWrB: the write-combining block as one two-beat strobed burst. */
static void flush(sq_vec_model_t *vm)
{
    sq_mm_t *m = vm->mm;
    sq_mm_pins_t p;
    for (;;) {
        sq_mm_drive(m, &p);
        sq_mm_commit(m, &(sq_mm_take_t){.aw_beats = p.awready ? 2 : 0});
        vm->cycles++;
        if (p.awready)
            break;
        vm->stalls++;
    }
    for (int beat = 0; beat < 2;) {
        sq_mm_drive(m, &p);
        sq_mm_commit(m, &(sq_mm_take_t){.w = p.w, .wlast = p.w && beat == 1});
        vm->cycles++;
        if (p.w)
            beat++;
        else
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

static bool present(const sq_vec_model_t *vm, int buf, uint64_t b)
{
    return vm->bv[buf][b & 1] && vm->btag[buf][b & 1] == b;
}

/* SLd for each load of mask in order, lanes 0..g-1 (a row load: lane 0):
 * every waiting lane whose block is in its slot takes its word in one visit;
 * when the first waiting lane's is not, a miss reads that block first. */
/* The blocks of load ld's first and last lane (b[1] <= b[0] + 1; a row
 * load has one lane) and the read buffer it goes through; returns its address. */
static uint64_t load_blocks(const op_t *o, int ld, uint64_t b[2], int *buf)
{
    uint64_t addr;
    uint32_t es;
    load_addr(o, ld, &addr, &es, buf);
    uint32_t lanes = ld < NEL ? o->g : 1;
    b[0] = addr / BLK;
    b[1] = (addr + (uint64_t)(lanes - 1) * es) / BLK;
    return addr;
}

static void loads(sq_vec_model_t *vm, op_t *o, const uint8_t *mem, uint32_t mask)
{
    for (int ld = 0; ld < NLD; ld++) {
        if (!(mask & (1u << ld)))
            continue;
        uint64_t b[2];
        int buf;
        uint64_t addr = load_blocks(o, ld, b, &buf), b0 = b[0], b1 = b[1];
        bool wait[2] = {true, b1 != b0};
        while (wait[0] || wait[1]) {
            uint64_t f = wait[0] ? b0 : b1;
            if (!present(vm, buf, f)) {
                step(vm, 1);
                read_burst(vm, 2, 1);
                vm->bv[buf][f & 1] = true;
                vm->btag[buf][f & 1] = f;
            }
            step(vm, 1);
            for (int k = 0; k < 2; k++)
                wait[k] = wait[k] && !present(vm, buf, k ? b1 : b0);
        }
        if (ld == LID) {
            o->gid = sq_ld32(mem + addr);
            if (o->gid >= o->d.p[0])
                mask &= ~((1u << LGM) | (1u << LGS));
        }
    }
}

/* SElem's fill list: every block a group's loads miss, in slot order (its
 * slot marked); SFill then requests them one a cycle while the beats come
 * back in order, ending with the last beat. */
static void fill(sq_vec_model_t *vm, op_t *o, uint32_t mask)
{
    bool need[SQ_VEC_MODEL_BUFS][2] = {{false}};
    int count = 0;
    for (int ld = 0; ld < NEL; ld++) {
        if (!(mask & (1u << ld)))
            continue;
        uint64_t bk[2];
        int buf;
        load_blocks(o, ld, bk, &buf);
        for (int k = 0; k < 2; k++) {
            uint64_t b = bk[k];
            if (!present(vm, buf, b)) {
                vm->bv[buf][b & 1] = false;
                vm->btag[buf][b & 1] = b;
                count += !need[buf][b & 1];
                need[buf][b & 1] = true;
            }
        }
    }
    if (!count)
        return;
    int slots[2 * SQ_VEC_MODEL_BUFS], n = 0;
    for (int s = 0; s < 2 * SQ_VEC_MODEL_BUFS; s++)
        if (need[s / 2][s % 2])
            slots[n++] = s;
    sq_mm_t *m = vm->mm;
    int ar = 0, r = 0;
    while (r < count) {
        if (ar == count) {
            const sq_mm_burst_t *h = sq_mm_read_head(m);
            if (h->ready_at > m->now) {
                uint64_t wait = h->ready_at - m->now;
                sq_mm_idle(m, wait);
                vm->cycles += wait;
                vm->stalls += wait;
                continue;
            }
        }
        sq_mm_pins_t p;
        sq_mm_drive(m, &p);
        sq_mm_take_t t = {0};
        bool issued = ar < count && p.arready;
        if (issued) {
            t.ar_beats = 2;
            ar++;
        }
        if (p.r) {
            t.r = true;
            if (p.rlast) {
                vm->bv[slots[r] / 2][slots[r] % 2] = true;
                r++;
            }
        }
        sq_mm_commit(m, &t);
        vm->cycles++;
        vm->stalls += !issued && !p.r;
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
        uint32_t g = d->n - o->j < o->seg - o->jj ? d->n - o->j : o->seg - o->jj;
        o->g = g < SQ_VEC_LANES ? g : SQ_VEC_LANES;
        step(vm, 1); /* SElem */
        fill(vm, o, elem_mask(o));
        loads(vm, o, mem, elem_mask(o));
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
