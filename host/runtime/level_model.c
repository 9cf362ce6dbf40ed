/* The "model" execution level: outputs from the golden reference (the ref
 * level runs every descriptor on the shared memory image, so results are bit
 * exact), counters from a fast cycle model of the unit in rtl/ that the
 * stream runs on: the attention unit's (attn_model.c) for a stream starting
 * with an attention descriptor, the vector unit's (vec_model.c) for one
 * starting with a vector descriptor, else the GEMM unit's below. All use the
 * memory timing of model_mem.h. A whole stream runs on the command
 * processor's model (cp_model.c) composing the three.
 *
 * The GEMM cycle model is transaction level: it keeps only the control state
 * of the RTL (sequencer, loader with its slots and tag FIFO, feeder steps and
 * output credits, the drain wavefront, the row writer) and the memory
 * timing, never data. It advances one cycle at a time only while memory
 * traffic or tile boundaries are in play and skips the stretches where the
 * array just steps through a job. The array size is a parameter
 * (sq_dev_config_t.array_rows/cols), which the Verilated RTL is not: it is
 * built for SQ_ARRAY_ROWS x SQ_ARRAY_COLS. The schedule it mirrors, and what
 * it leaves out, are in docs/cycle_model.md. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "runtime/attn_model.h"
#include "runtime/cp_model.h"
#include "runtime/desc.h"
#include "runtime/device.h"
#include "runtime/model_mem.h"
#include "runtime/vec_model.h"
#include "sparq/spec.h"
#include "util/err.h"

/* Constants of rtl/gemm/sq_gemm_pkg.sv and the module parameters there. */
#define BEAT SQ_MM_BEAT
#define KCH 2048u             /* K elements per on-chip chunk (KchElems) */
#define KCH_G 512u            /* GEMV mode: K chunk (KchG) */
#define KCH_G4 1024u          /* int4 and 2:4 GEMV mode: K chunk (KchG4) */
#define GEMV_SP_KMIN 256u     /* 2:4 takes GEMV mode from this K on (GemvSpKMin) */
#define A_SLOTS_G 8u          /* GEMV mode: A slots of KCH_G bytes (2 otherwise) */
#define X_CHUNKS 16u          /* GEMV mode: activation chunks a W buffer holds (XSubs) */
#define W_SLOTS 4u            /* W tile slots; A has 2 */
#define TAG_DEPTH 32u         /* loader tag FIFO */
#define JOB_DEPTH 4u          /* loader job FIFO */
#define EPI_LAT 3u            /* sq_gemm_epi stages */
#define MAX_ARRAY_DIM 256u    /* largest R or C the model accepts */
#define PE_LAT 4u            /* sq_gemm_array's PeLat: the PE pipeline's added cycles */
/* Cycles from the feeder issuing a tile's last step to row 0 of the tile
 * entering the output FIFO: stage-2 register, feeder output register, PE(0,0)
 * and its pipeline, then the drain wavefront crosses C columns and the
 * epilogue. */
#define DRAIN_DELAY(c) (3u + PE_LAT + ((c) - 1u) + EPI_LAT)

typedef struct {
    uint32_t flags, m, n, k;
    uint64_t a, w, meta, bias, quant, c, gscale;
    uint32_t gshift, ng; /* group scales: 2^gshift K positions a group, ng groups */
} gcfg_t;

typedef struct {
    uint32_t aslot, wslot;
    uint32_t m0, n0, klen;
    bool last, rel_a, final_job;
} job_t;

typedef struct {
    uint64_t t0; /* cycle row 0 enters the output FIFO */
    uint32_t m0, n0, ncols, rows, next;
    uint32_t stride; /* cycles between rows (GEMV: 2, int4 4) */
} drain_t;

typedef struct {
    uint32_t m, n0, ncols;
} orow_t;

enum { SEQ_IDLE, SEQ_FETCH_AR, SEQ_FETCH_R, SEQ_DECODE, SEQ_RUN, SEQ_NEXT };
enum { LD_IDLE, LD_JOB, LD_ROW, LD_BURST, LD_MARK };
enum { PH_A, PH_W, PH_META, PH_BIAS, PH_QUANT, PH_MARK };

typedef struct sq_gemm_model {
    /* configuration */
    uint32_t R, C, min_period;
    uint32_t T; /* GEMV mode: outputs per tile, min(R, C) */
    bool gv;    /* the current GEMM runs in GEMV mode (sq_gemm_core's gv) */
    uint8_t *mem;
    sq_mm_t mm;
    sq_pf_t *pf;        /* the command processor's prefetch buffer on the port, or NULL */
    const uint8_t *desc; /* the descriptor the sequencer decodes */
    uint64_t bytes_written;
    /* sequencer */
    int seq;
    uint32_t idx, ncmd, beat;
    uint64_t cmd;
    bool run_q;
    gcfg_t cfg;
    /* loader */
    int ld;
    uint32_t m0, n0, k0;
    bool w_busy[W_SLOTS], a_busy[A_SLOTS_G];
    uint32_t w_next, a_next, a_cur;
    job_t job;
    int phase;
    uint32_t row, rem;
    uint64_t beat_addr; /* byte address of the next burst, beat aligned */
    uint32_t tag_head, tag_count; /* bursts whose data has not all arrived */
    /* bursts issued up to each loading job's last one (the loader's u_ends),
     * and the counts of bursts issued and completed */
    uint32_t ends[JOB_DEPTH], ends_head, ends_count, bursts_issued, bursts_done;
    job_t jobs[JOB_DEPTH];
    uint32_t job_head, job_count, ready;
    /* feeder */
    bool running, active, final;
    job_t fj;
    uint32_t s, cred, since;
    uint64_t rows_issued;
    /* array drain and output; tiles end at least max(R, C) + 8 cycles apart
     * and drain within C + 9 + R, so at most three drains overlap */
    drain_t drains[8];
    uint32_t drain_head, drain_count;
    orow_t *fifo;
    uint32_t fifo_cap, fifo_head, fifo_count;
    bool cur, skip, aw_done;
    uint32_t nbeats, wbeat, outstanding;
    uint64_t rows_popped;
    /* counters of the current run */
    uint64_t cycles, stalls;
} model_t;

typedef struct {
    void *ref; /* state of the ref level, which computes the outputs */
    uint8_t *mem;
    model_t m;            /* the GEMM unit (compute unit 0), on m.mm */
    model_t *xm;          /* GEMM compute units 1 .. cus-1 of the accelerator kernel */
    unsigned cus;
    sq_attn_model_t attn; /* the attention unit, on attn_mm */
    sq_vec_model_t vec;   /* the vector unit, on vec_mm */
    sq_mm_t attn_mm, cp_mm; /* the accelerator kernel's other ports' channels */
    sq_mm_t vec_mm;       /* the vector unit kernel's port */
    sq_pf_t pf[SQ_GEMM_CUS_MAX]; /* each GEMM port's prefetch buffer (accelerator kernel) */
    /* a command-processor run: the patched stream and how much of it the
     * golden reference has executed */
    const uint8_t *descs;
    uint32_t executed;
    sq_dev_stats_t work;
    int timing_only; /* the GEMM outputs are not computed */
} level_t;

extern const sq_level_ops_t sq_level_ref;

/* ---- loader helpers (rtl/gemm/sq_gemm_loader.sv) ------------------------------ */

static bool has(const gcfg_t *g, uint32_t f)
{
    return (g->flags & f) != 0;
}

static uint32_t w_row(const gcfg_t *g, uint32_t k)
{
    if (has(g, SQ_GEMM_W4))
        return (k + 1) / 2;
    if (has(g, SQ_GEMM_SP24))
        return (k + 3) / 4 * 2;
    return k;
}

static uint32_t meta_row(uint32_t k)
{
    return ((k + 3) / 4 + 1) / 2;
}

/* GEMV mode with 8 K positions a step: int4, 2:4 */
static bool gv8(const model_t *s)
{
    return s->gv && has(&s->cfg, SQ_GEMM_W4 | SQ_GEMM_SP24);
}

static uint32_t kch(const model_t *s)
{
    if (!s->gv)
        return KCH;
    return gv8(s) ? KCH_G4 : KCH_G;
}

/* The loader's need_a: a job loads its A rows (GEMV: always, they are W's). */
static bool need_a(const model_t *s)
{
    return s->gv || s->cfg.k > kch(s) || s->n0 == 0;
}

/* GEMV: the activation chunk is loaded with the first tile's jobs, and with
 * every job when the vector does not fit in W buffer 0. */
static bool need_x(const model_t *s)
{
    return s->n0 == 0 || s->cfg.k > X_CHUNKS * KCH_G;
}

static job_t next_job(const model_t *s)
{
    const gcfg_t *g = &s->cfg;
    uint32_t kleft = g->k - s->k0;
    bool ndone = s->n0 + s->C >= g->n;
    job_t j = {0};
    j.m0 = s->m0;
    j.n0 = s->n0;
    j.klen = kleft > kch(s) ? kch(s) : kleft;
    j.last = kleft <= kch(s);
    if (s->gv) {
        j.rel_a = true;
        j.final_job = j.last && s->n0 + s->T >= g->n;
    } else {
        j.rel_a = g->k > KCH || ndone;
        j.final_job = j.last && ndone && s->m0 + s->R >= g->m;
    }
    return j;
}

/* Address and length of the current (phase, row) of the loader's job; false
 * when the row lies outside the operand. */
static bool row_span(const model_t *s, uint64_t *addr, uint32_t *bytes)
{
    const gcfg_t *g = &s->cfg;
    uint32_t kl = s->job.klen, ridx;
    switch (s->phase) {
    case PH_A: /* GEMV: rows of W */
        ridx = (s->gv ? s->job.n0 : s->job.m0) + s->row;
        if (s->gv) {
            *addr = g->w + (uint64_t)ridx * w_row(g, g->k) + w_row(g, s->k0);
            *bytes = w_row(g, kl);
            return ridx < g->n;
        }
        *addr = g->a + (uint64_t)ridx * g->k + s->k0;
        *bytes = kl;
        return ridx < g->m;
    case PH_W:
        if (s->gv) { /* activation row `row`'s chunk */
            *addr = g->a + (uint64_t)s->row * g->k + s->k0;
            *bytes = kl;
            return s->row < g->m;
        }
        ridx = s->job.n0 + s->row;
        *addr = g->w + (uint64_t)ridx * w_row(g, g->k) +
                (has(g, SQ_GEMM_W4 | SQ_GEMM_SP24) ? s->k0 / 2 : s->k0);
        *bytes = w_row(g, kl);
        return ridx < g->n;
    case PH_META: /* 2:4 codes, or the factors of the groups the chunk touches */
        ridx = s->job.n0 + s->row;
        if (has(g, SQ_GEMM_GSCALE)) {
            uint32_t g0 = s->k0 >> g->gshift, g1 = (s->k0 + kl - 1) >> g->gshift;
            *addr = g->gscale + 2 * ((uint64_t)ridx * g->ng + g0);
            *bytes = 2 * (g1 - g0 + 1);
        } else {
            *addr = g->meta + (uint64_t)ridx * meta_row(g->k) + s->k0 / 8;
            *bytes = meta_row(kl);
        }
        return ridx < g->n;
    default: {
        uint32_t ncols = g->n - s->n0 > s->C ? s->C : g->n - s->n0;
        *addr = (s->phase == PH_BIAS ? g->bias : g->quant) + (uint64_t)s->job.n0 *
                (s->phase == PH_BIAS ? 4u : 8u);
        *bytes = ncols * (s->phase == PH_BIAS ? 4u : 8u);
        return true;
    }
    }
}

static uint32_t phase_rows(const model_t *s)
{
    if (s->phase == PH_A)
        return s->gv ? s->T : s->R;
    if (s->phase == PH_W)
        return s->gv ? s->cfg.m : s->C;
    if (s->phase == PH_META)
        return s->gv ? s->T : s->C;
    return 1;
}

static int phase_next(const model_t *s)
{
    const gcfg_t *g = &s->cfg;
    /* GEMV: only a tile's last chunk loads bias and quant */
    bool par = !s->gv || s->job.last;
    int after_bias = !has(g, SQ_GEMM_OUT32) && par ? PH_QUANT : PH_MARK;
    int after_meta = has(g, SQ_GEMM_BIAS) && par ? PH_BIAS : after_bias;
    /* after the weights: 2:4 codes or group factors */
    int after_x = has(g, SQ_GEMM_SP24 | SQ_GEMM_GSCALE) ? PH_META : after_meta;
    switch (s->phase) {
    case PH_A:
        return !s->gv || need_x(s) ? PH_W : after_x;
    case PH_W:
        return after_x;
    case PH_META:
        return after_meta;
    case PH_BIAS:
        return after_bias;
    default:
        return PH_MARK;
    }
}

/* Moves to the next row or phase after a row (Row and Burst states). */
static void row_done(model_t *s)
{
    if (s->row + 1 == phase_rows(s)) {
        s->row = 0;
        s->phase = phase_next(s);
        s->ld = s->phase == PH_MARK ? LD_MARK : LD_ROW;
    } else {
        s->row++;
        s->ld = LD_ROW;
    }
}

static uint32_t job_steps(const model_t *s, const job_t *j)
{
    if (j->klen == 0)
        return 1;
    if (gv8(s)) /* 8 nibbles or the kept values of 8 positions a step */
        return (j->klen + 7) / 8;
    return has(&s->cfg, SQ_GEMM_SP24) || s->gv ? (j->klen + 3) / 4 : (j->klen + 1) / 2;
}

/* ---- one clock cycle of the whole unit ------------------------------------ */

static void decode(model_t *s)
{
    const uint8_t *d = s->desc;
    s->cfg = (gcfg_t){
        .flags = sq_desc_word(d, SQ_GEMM_W_FLAGS),
        .m = sq_desc_word(d, SQ_GEMM_W_M),
        .n = sq_desc_word(d, SQ_GEMM_W_N),
        .k = sq_desc_word(d, SQ_GEMM_W_K),
        .a = sq_desc_addr(d, SQ_GEMM_W_A_LO),
        .w = sq_desc_addr(d, SQ_GEMM_W_W_LO),
        .meta = sq_desc_addr(d, SQ_GEMM_W_META_LO),
        .bias = sq_desc_addr(d, SQ_GEMM_W_BIAS_LO),
        .quant = sq_desc_addr(d, SQ_GEMM_W_QUANT_LO),
        .c = sq_desc_addr(d, SQ_GEMM_W_C_LO),
        .gscale = sq_desc_addr(d, SQ_GEMM_W_GSCALE_LO),
    };
    /* sq_gemm_seq: a group of k is 2^17 positions, more than any k */
    uint32_t group = sq_desc_word(d, SQ_GEMM_W_GROUP);
    s->cfg.gshift = 17;
    if (has(&s->cfg, SQ_GEMM_GSCALE) && group != s->cfg.k)
        while (s->cfg.gshift > 0 && !(group >> s->cfg.gshift & 1))
            s->cfg.gshift--;
    s->cfg.ng = (s->cfg.k + (1u << s->cfg.gshift) - 1) >> s->cfg.gshift;
    /* int8 GEMV uses array columns 2m, 2m+1 for activation row m, int4 and
     * 2:4 columns 4m..4m+3; 2:4 from K = GEMV_SP_KMIN on */
    s->gv = s->cfg.m >= 1 && (!has(&s->cfg, SQ_GEMM_SP24) || s->cfg.k >= GEMV_SP_KMIN) &&
            (uint64_t)s->cfg.m * (has(&s->cfg, SQ_GEMM_W4 | SQ_GEMM_SP24) ? 4u : 2u) <= s->C;
}

static void tick(model_t *s)
{
    const gcfg_t *g = &s->cfg;
    /* sequencer */
    bool fetch = s->seq == SEQ_FETCH_AR || s->seq == SEQ_FETCH_R;
    bool go = s->seq == SEQ_RUN && !s->run_q;

    /* loader issue side (from registered state) */
    bool tag_full = s->tag_count == TAG_DEPTH;
    bool ld_arvalid = s->ld == LD_BURST && !tag_full;
    uint32_t blen = 0;
    if (s->ld == LD_BURST) {
        uint32_t to_4k = 64u - (uint32_t)((s->beat_addr / BEAT) & 63u);
        blen = s->rem < to_4k ? s->rem : to_4k;
    }
    bool arvalid = fetch ? s->seq == SEQ_FETCH_AR : ld_arvalid;
    uint64_t ar_addr = fetch ? s->cmd : s->beat_addr;
    uint32_t ar_len = fetch ? 2u : blen;

    /* memory (through the prefetch buffer, when the port has one) drives
     * its side of the bus */
    sq_mm_pins_t pins;
    if (s->pf)
        sq_pf_drive(s->pf, &s->mm, ar_addr, arvalid ? ar_len : 0, &pins);
    else
        sq_mm_drive(&s->mm, &pins);
    bool g_r = pins.r, g_w = pins.w, arready = pins.arready, awready = pins.awready;
    bool rlast = pins.rlast, bvalid = pins.bvalid;

    /* loader return side */
    bool tag_empty = s->tag_count == 0;
    bool is_mark = s->ends_count && s->ends[s->ends_head] == s->bursts_done;
    bool ends_full = s->ends_count == JOB_DEPTH;
    bool ld_rready = !tag_empty;
    bool beat_in = ld_rready && g_r && !fetch;
    bool tag_pop = beat_in && rlast;

    /* feeder */
    job_t fj = s->fj; /* the job stepping this cycle (job_pop replaces it) */
    uint32_t jobs_before = s->job_count;
    uint32_t steps = s->active ? job_steps(s, &s->fj) : 1;
    bool last_step = s->s == steps - 1;
    bool tile_end = last_step && s->fj.last;
    uint32_t tile_rows = s->gv ? g->m : s->R; /* GEMV: M output rows per tile */
    bool blocked_credit = tile_end && s->cred < tile_rows;
    bool can_issue = s->active && !blocked_credit && !(tile_end && s->since < s->min_period);
    bool job_valid = s->ready != 0;
    bool job_pop = job_valid && (!s->active || (can_issue && last_step));
    bool rel_w = can_issue && last_step, rel_a = rel_w && s->fj.rel_a;
    bool stall = s->running && !s->final && (!s->active || blocked_credit);

    /* writer */
    bool awvalid = s->cur && !s->skip && !s->aw_done;
    bool wvalid = s->cur && !s->skip && s->wbeat != s->nbeats;
    bool aw_fire = awvalid && awready, w_fire = wvalid && g_w;
    bool wlast = s->wbeat + 1 == s->nbeats;
    bool finish = s->cur && (s->skip || ((s->aw_done || aw_fire) &&
                                         (s->wbeat == s->nbeats || (w_fire && wlast))));
    bool f_pop = s->fifo_count && (!s->cur || finish);
    bool out_idle = !s->cur && !s->fifo_count && !s->outstanding;
    bool gemm_done = s->running && s->final && s->rows_issued == s->rows_popped && out_idle;

    /* counters (sq_ctrl counts every busy cycle) */
    s->cycles++;
    if (stall)
        s->stalls++;

    /* memory takes the handshakes */
    bool rready = fetch ? true : ld_rready;
    sq_mm_take_t take = {
        .ar_beats = arvalid && arready ? ar_len : 0,
        .ar_addr = ar_addr,
        .r = g_r && rready,
        .w = w_fire,
        .wlast = wlast,
        .aw_beats = aw_fire ? s->nbeats : 0,
        .b = bvalid,
    };
    if (s->pf)
        sq_pf_commit(s->pf, &s->mm, &take);
    else
        sq_mm_commit(&s->mm, &take);

    /* ---- register updates ---- */
    /* writer */
    if (aw_fire)
        s->aw_done = true;
    s->outstanding += (aw_fire ? 1u : 0u) - (bvalid ? 1u : 0u);
    if (w_fire)
        s->wbeat++;
    if (finish)
        s->cur = false;
    if (f_pop) {
        orow_t *h = &s->fifo[s->fifo_head];
        uint32_t esz = has(g, SQ_GEMM_OUT32) ? 4u : 1u, nbytes = h->ncols * esz;
        uint64_t addr = g->c + ((uint64_t)h->m * g->n + h->n0) * esz;
        /* GEMV write combining (sq_gemm_out): a row ending inside a beat,
         * not its activation row's last, keeps that beat back for the next
         * tile's row of the same activation row */
        uint32_t nb = (uint32_t)(((addr % BEAT) + nbytes - 1) / BEAT + 1);
        bool hold = s->gv && (addr + nbytes) % BEAT != 0 && h->n0 + h->ncols < g->n;
        s->rows_popped++;
        s->cur = true;
        s->skip = h->m >= g->m || (hold && nb == 1);
        s->aw_done = false;
        s->nbeats = nb - hold;
        s->wbeat = 0;
        if (h->m < g->m)
            s->bytes_written += nbytes;
        s->fifo_head = (s->fifo_head + 1) % s->fifo_cap;
        s->fifo_count--;
    }
    /* drained rows enter the output FIFO */
    if (s->drain_count) {
        drain_t *d = &s->drains[s->drain_head];
        if (s->mm.now - 1 >= d->t0 + (uint64_t)d->next * d->stride) {
            s->fifo[(s->fifo_head + s->fifo_count) % s->fifo_cap] =
                (orow_t){d->m0 + d->next, d->n0, d->ncols};
            s->fifo_count++;
            if (++d->next == d->rows) {
                s->drain_head = (s->drain_head + 1) % 8;
                s->drain_count--;
            }
        }
    }

    /* feeder */
    if (s->since < s->min_period)
        s->since++;
    if (f_pop)
        s->cred++;
    if (go) {
        s->final = false;
        s->cred = 2 * s->R;
        s->since = s->min_period;
    }
    if (can_issue) {
        if (tile_end) {
            s->cred -= tile_rows;
            s->since = 0;
            s->rows_issued += tile_rows;
            uint32_t nleft = g->n - s->fj.n0, tcols = s->gv ? s->T : s->C;
            /* GEMV: row m is complete when its group's last column drains
             * array row 0: int8 column 2m+1, int4 and 2:4 4m+3 */
            uint32_t gp = !s->gv ? 1u : gv8(s) ? 4u : 2u;
            uint32_t gdelay = s->gv ? gp - 1 : 0u;
            s->drains[(s->drain_head + s->drain_count) % 8] =
                (drain_t){s->mm.now - 1 + DRAIN_DELAY(s->C) + gdelay, s->fj.m0,
                          s->fj.n0, nleft > tcols ? tcols : nleft, tile_rows, 0, gp};
            s->drain_count++;
        }
        if (last_step) {
            if (s->fj.final_job)
                s->final = true;
            s->active = false;
        } else {
            s->s++;
        }
    }
    if (job_pop) {
        s->fj = s->jobs[s->job_head];
        s->job_head = (s->job_head + 1) % JOB_DEPTH;
        s->job_count--;
        s->s = 0;
        s->active = true;
    }

    /* loader return side */
    if (tag_pop) {
        s->tag_head = (s->tag_head + 1) % TAG_DEPTH;
        s->tag_count--;
        s->bursts_done++;
    }
    if (is_mark) { /* the job's last burst completed: it becomes ready */
        s->ends_head = (s->ends_head + 1) % JOB_DEPTH;
        s->ends_count--;
    }
    if (is_mark && !(job_pop && job_valid))
        s->ready++;
    else if (!is_mark && job_pop && job_valid)
        s->ready--;
    /* loader issue side: slot state as it was at the start of the cycle */
    bool w_free = !s->w_busy[s->w_next], a_free = !s->a_busy[s->a_next];
    if (rel_w)
        s->w_busy[fj.wslot] = false;
    if (rel_a)
        s->a_busy[fj.aslot] = false;
    switch (s->ld) {
    case LD_IDLE:
        if (go) {
            s->m0 = s->n0 = s->k0 = 0;
            s->a_next = 0;
            s->ld = LD_JOB;
        }
        break;
    case LD_JOB: {
        bool na = need_a(s);
        if (w_free && !(na && !a_free) && jobs_before < JOB_DEPTH) {
            job_t j = next_job(s);
            j.wslot = s->w_next;
            s->w_busy[s->w_next] = true;
            s->w_next = (s->w_next + 1) % W_SLOTS;
            if (na) {
                j.aslot = s->a_next;
                s->a_busy[s->a_next] = true;
                s->a_cur = s->a_next;
                s->a_next = s->gv ? (s->a_next + 1) % A_SLOTS_G : (s->a_next & 1u) ^ 1u;
            } else {
                j.aslot = s->a_cur;
            }
            s->job = j;
            s->jobs[(s->job_head + s->job_count) % JOB_DEPTH] = j;
            s->job_count++;
            s->phase = na ? PH_A : PH_W;
            s->row = 0;
            s->ld = LD_ROW;
        }
        break;
    }
    case LD_ROW: {
        uint64_t addr;
        uint32_t bytes;
        if (row_span(s, &addr, &bytes) && bytes) {
            s->beat_addr = addr & ~(uint64_t)(BEAT - 1);
            s->rem = (uint32_t)(((addr % BEAT) + bytes - 1) / BEAT + 1);
            s->ld = LD_BURST;
        } else {
            row_done(s);
        }
        break;
    }
    case LD_BURST:
        if (ld_arvalid && arready) {
            s->tag_count++;
            s->bursts_issued++;
            s->beat_addr += (uint64_t)blen * BEAT;
            s->rem -= blen;
            if (s->rem == 0)
                row_done(s);
        }
        break;
    case LD_MARK:
        if (!ends_full) {
            s->ends[(s->ends_head + s->ends_count) % JOB_DEPTH] = s->bursts_issued;
            s->ends_count++;
            if (s->job.final_job) {
                s->ld = LD_IDLE;
            } else {
                s->ld = LD_JOB;
                if (!s->job.last) {
                    s->k0 += kch(s);
                } else {
                    s->k0 = 0;
                    if (s->gv) {
                        s->n0 += s->T;
                    } else if (s->n0 + s->C >= g->n) {
                        s->n0 = 0;
                        s->m0 += s->R;
                    } else {
                        s->n0 += s->C;
                    }
                }
            }
        }
        break;
    default:
        break;
    }

    /* unit state */
    if (go)
        s->running = true;
    else if (gemm_done)
        s->running = false;

    /* sequencer */
    s->run_q = s->seq == SEQ_RUN;
    switch (s->seq) {
    case SEQ_FETCH_AR:
        s->beat = 0;
        if (arready)
            s->seq = SEQ_FETCH_R;
        break;
    case SEQ_FETCH_R:
        if (g_r) {
            if (s->beat) {
                s->seq = SEQ_DECODE;
                s->desc = s->mem + s->cmd;
            }
            s->beat = 1;
        }
        break;
    case SEQ_DECODE:
        decode(s);
        s->seq = SEQ_RUN;
        break;
    case SEQ_RUN:
        if (gemm_done)
            s->seq = SEQ_NEXT;
        break;
    case SEQ_NEXT:
        if (s->idx == s->ncmd) {
            s->seq = SEQ_IDLE;
        } else {
            if (s->idx != 0)
                s->cmd += SQ_DESC_BYTES;
            s->idx++;
            s->seq = SEQ_FETCH_AR;
        }
        break;
    default:
        break;
    }
}

/* Cycles that can be skipped at once: the array steps through a job while
 * nothing else can change (the loader waits for a slot, no burst, response,
 * drained row or write is in flight). Returns 0 when the next cycle must be
 * simulated. */
static uint64_t idle_run(const model_t *s)
{
    if (s->seq != SEQ_RUN || !s->active || !(s->ld == LD_IDLE || s->ld == LD_JOB) ||
        s->tag_count || s->ends_count || s->mm.rd.count || s->mm.aw.count || s->mm.b.count || s->cur ||
        s->fifo_count || s->drain_count || s->outstanding)
        return 0;
    uint32_t steps = job_steps(s, &s->fj);
    if (s->ld == LD_JOB) {
        if (!s->w_busy[s->w_next] && !(need_a(s) && s->a_busy[s->a_next]) &&
            s->job_count < JOB_DEPTH)
            return 0; /* the loader starts a job this cycle */
    }
    return s->s + 1 < steps ? steps - 1 - s->s : 0;
}

/* Runs n_cmds descriptors at cmd_addr from ap_start to ap_done. */
static int model_run_stream(model_t *s, uint64_t cmd_addr, uint32_t n_cmds, uint64_t max_cycles)
{
    s->seq = SEQ_NEXT; /* Idle takes ap_start in the cycle before counting starts */
    s->idx = 0;
    s->ncmd = n_cmds;
    s->cmd = cmd_addr;
    s->cycles = s->stalls = 0;
    sq_mm_start(&s->mm);
    while (s->seq != SEQ_IDLE) {
        if (max_cycles && s->cycles >= max_cycles)
            return sq_err(SQ_ERR_DEV, "model: %u commands did not finish within %" PRIu64
                                      " cycles", n_cmds, max_cycles);
        uint64_t d = idle_run(s);
        if (d) {
            s->s += (uint32_t)d;
            s->cycles += d;
            sq_mm_idle(&s->mm, d);
            s->since = s->since + d < s->min_period ? s->since + (uint32_t)d : s->min_period;
            continue;
        }
        tick(s);
    }
    return 0;
}

/* ---- core mode, for the command processor's model (cp_model.h) ----------- */

sq_mm_t *sq_gemm_model_mm(sq_gemm_model_t *g)
{
    return &g->mm;
}

void sq_gemm_model_port(sq_gemm_model_t *g, sq_pf_t *pf)
{
    g->pf = pf;
}

int sq_gemm_model_core(sq_gemm_model_t *s, const uint8_t *desc, uint64_t max_cycles,
                       uint64_t *cycles, uint64_t *stalls, uint64_t *bytes_written)
{
    /* the cycle sq_gemm_seq accepts it is the standalone sequencer's Decode;
     * cmd_done is the Run cycle that ends in Next */
    s->desc = desc;
    s->seq = SEQ_DECODE;
    s->cycles = s->stalls = s->bytes_written = 0;
    while (s->seq != SEQ_NEXT) {
        if (max_cycles && s->cycles >= max_cycles)
            return sq_err(SQ_ERR_DEV, "model: a GEMM did not finish within %" PRIu64 " cycles",
                          max_cycles);
        uint64_t d = idle_run(s);
        if (d) {
            s->s += (uint32_t)d;
            s->cycles += d;
            sq_mm_idle(&s->mm, d);
            s->since = s->since + d < s->min_period ? s->since + (uint32_t)d : s->min_period;
            continue;
        }
        tick(s);
    }
    *cycles += s->cycles;
    *stalls += s->stalls;
    *bytes_written += s->bytes_written;
    return 0;
}

/* ---- level --------------------------------------------------------------- */

static void model_close(void *state)
{
    level_t *l = state;
    if (!l)
        return;
    if (l->ref)
        sq_level_ref.close(l->ref);
    free(l->m.fifo);
    for (unsigned g = 0; l->xm && g + 1 < l->cus; g++)
        free(l->xm[g].fifo);
    free(l->xm);
    sq_attn_model_free(&l->attn);
    free(l);
}

static int model_open(const sq_dev_config_t *cfg, uint8_t *mem, void **state)
{
    uint32_t R = cfg->array_rows ? cfg->array_rows : SQ_ARRAY_ROWS;
    uint32_t C = cfg->array_cols ? cfg->array_cols : SQ_ARRAY_COLS;
    if (R > MAX_ARRAY_DIM || C > MAX_ARRAY_DIM)
        return sq_err(SQ_ERR_ARG, "model: array %ux%u outside 1..%u per side", R, C,
                      MAX_ARRAY_DIM);
    double lat = ceil(cfg->mem_latency_ns * cfg->clock_mhz / 1e3);
    if (lat > 1e6)
        return sq_err(SQ_ERR_ARG, "model: memory latency of %.0f cycles is not plausible", lat);
    if (cfg->mem_shared)
        return sq_err(SQ_ERR_ARG, "model: one memory channel shared by the kernel's ports is "
                                  "not modeled (per-port channels only; rtl and tlm have both)");
    level_t *l = calloc(1, sizeof *l);
    if (!l)
        return sq_err(SQ_ERR_MEM, "out of memory opening level 'model'");
    double bpc = cfg->mem_gbps * 1e3 / cfg->clock_mhz;
    l->cus = cfg->gemm_cus ? cfg->gemm_cus : 1;
    l->xm = calloc(l->cus, sizeof *l->xm);
    int ok = l->xm != NULL;
    for (unsigned g = 0; ok && g < l->cus; g++) {
        model_t *s = g ? &l->xm[g - 1] : &l->m;
        s->R = R;
        s->C = C;
        s->min_period = (R > C ? R : C) + 8;
        s->T = R < C ? R : C;
        sq_mm_init(&s->mm, bpc, (uint32_t)lat);
        s->mem = mem;
        for (s->fifo_cap = 1; s->fifo_cap < 2 * R; s->fifo_cap *= 2)
            ;
        s->fifo = calloc(s->fifo_cap, sizeof *s->fifo);
        ok = s->fifo != NULL;
        sq_pf_init(&l->pf[g], C);
    }
    sq_mm_init(&l->attn_mm, bpc, (uint32_t)lat);
    sq_mm_init(&l->cp_mm, bpc, (uint32_t)lat);
    sq_mm_init(&l->vec_mm, bpc, (uint32_t)lat);
    sq_vec_model_init(&l->vec, &l->vec_mm);
    l->mem = mem;
    int rc = ok ? sq_attn_model_init(&l->attn, &l->attn_mm)
                     : sq_err(SQ_ERR_MEM, "out of memory opening level 'model'");
    if (rc == 0)
        rc = sq_level_ref.open(cfg, mem, &l->ref);
    if (rc) {
        model_close(l);
        return rc;
    }
    l->timing_only = cfg->timing_only;
    *state = l;
    return 0;
}

/* A unit's cycle model as unit_run drives it: its begin/desc/end hooks
 * (sq_<unit>_model_begin/desc/end) and where its counters are. */
typedef struct {
    void *model;
    void (*begin)(void *model);
    void (*desc)(void *model, uint8_t *mem, uint64_t desc_addr);
    void (*end)(void *model);
    const sq_mm_t *mm;
    const uint64_t *cycles, *stalls, *bytes_written;
} unit_hooks_t;

static void attn_begin(void *m) { sq_attn_model_begin(m); }
static void attn_desc(void *m, uint8_t *mem, uint64_t d) { sq_attn_model_desc(m, mem, d); }
static void attn_end(void *m) { sq_attn_model_end(m); }
static void vec_begin(void *m) { sq_vec_model_begin(m); }
static void vec_desc(void *m, uint8_t *mem, uint64_t d) { sq_vec_model_desc(m, mem, d); }
static void vec_end(void *m) { sq_vec_model_end(m); }

/* A stream starting with an attention or vector descriptor runs on that
 * unit (as on the rtl level). The reference runs each descriptor just before
 * the model: the attention model takes each descriptor's scores from the
 * operands it reads, and the vector unit's timing depends only on addresses
 * and GATHER's token ids, which no VEC descriptor writes. */
static int unit_run(level_t *l, const unit_hooks_t *u, uint64_t cmd_addr, uint32_t n_cmds,
                    uint64_t max_cycles, sq_dev_stats_t *add)
{
    sq_dev_stats_t work = {0};
    uint64_t read0 = u->mm->bytes_read;
    u->begin(u->model);
    for (uint32_t i = 0; i < n_cmds; i++) {
        uint64_t desc = cmd_addr + (uint64_t)i * SQ_DESC_BYTES;
        int rc = sq_level_ref.run(l->ref, desc, 1, max_cycles, &work);
        if (rc)
            return rc;
        u->desc(u->model, l->mem, desc);
        if (max_cycles && *u->cycles >= max_cycles)
            return sq_err(SQ_ERR_DEV, "model: %u commands did not finish within %" PRIu64
                                      " cycles", n_cmds, max_cycles);
    }
    u->end(u->model);
    add->cycles += *u->cycles;
    add->stall_cycles += *u->stalls;
    add->bytes_read += u->mm->bytes_read - read0;
    add->bytes_written += *u->bytes_written;
    add->macs += work.macs;
    add->commands += n_cmds;
    return 0;
}

static int model_run(void *state, uint64_t cmd_addr, uint32_t n_cmds, uint64_t max_cycles,
                     sq_dev_stats_t *add)
{
    level_t *l = state;
    model_t *s = &l->m;
    if (n_cmds && sq_desc_opcode(s->mem + cmd_addr) == SQ_OP_ATTN) {
        const unit_hooks_t u = {&l->attn, attn_begin, attn_desc, attn_end, l->attn.mm,
                                &l->attn.cycles, &l->attn.stalls, &l->attn.bytes_written};
        return unit_run(l, &u, cmd_addr, n_cmds, max_cycles, add);
    }
    if (n_cmds && sq_desc_opcode(s->mem + cmd_addr) == SQ_OP_VEC) {
        const unit_hooks_t u = {&l->vec, vec_begin, vec_desc, vec_end, l->vec.mm,
                                &l->vec.cycles, &l->vec.stalls, &l->vec.bytes_written};
        return unit_run(l, &u, cmd_addr, n_cmds, max_cycles, add);
    }
    /* the golden reference computes every output; counters come from the model */
    sq_dev_stats_t work = {0};
    int rc = l->timing_only ? 0 : sq_level_ref.run(l->ref, cmd_addr, n_cmds, max_cycles, &work);
    if (rc)
        return rc;
    for (uint32_t i = 0; l->timing_only && i < n_cmds; i++) {
        sq_gemm_desc_t d; /* the reference's count, from the shape */
        sq_gemm_desc_decode(s->mem + cmd_addr + (uint64_t)i * SQ_DESC_BYTES, &d);
        work.macs += sq_gemm_desc_macs(&d);
    }
    s->mm.bytes_read = s->bytes_written = 0;
    if ((rc = model_run_stream(s, cmd_addr, n_cmds, max_cycles)) != 0)
        return rc;
    add->cycles += s->cycles;
    add->stall_cycles += s->stalls;
    add->bytes_read += s->mm.bytes_read;
    add->bytes_written += s->bytes_written;
    add->macs += work.macs;
    add->commands += n_cmds;
    return 0;
}

/* The golden reference up to descriptor upto of the stream being timed. */
static int exec_upto(void *ctx, uint32_t upto)
{
    level_t *l = ctx;
    for (; l->executed < upto; l->executed++) {
        int rc = sq_ref_exec(l->mem, l->descs + (size_t)l->executed * SQ_DESC_BYTES, &l->work);
        if (rc)
            return rc;
    }
    return 0;
}

/* A stream on the accelerator kernel: the command processor's model over
 * the units' (cp_model.h), outputs from the golden reference. */
static int model_run_cp(void *state, const sq_stream_run_t *r, sq_dev_stats_t *add)
{
    level_t *l = state;
    l->descs = r->descs;
    l->executed = 0;
    sq_cp_model_out_t out;
    sq_gemm_model_t *units[SQ_GEMM_CUS_MAX];
    for (unsigned g = 0; g < l->cus; g++) {
        units[g] = g ? &l->xm[g - 1] : &l->m;
        sq_gemm_model_port(units[g], &l->pf[g]);
    }
    int rc = sq_cp_model_run(units, l->pf, l->cus, &l->attn, &l->vec, &l->cp_mm, l->mem, r,
                             exec_upto, l, &out);
    for (unsigned g = 0; g < l->cus; g++)
        sq_gemm_model_port(units[g], NULL);
    if (rc)
        return rc;
    add->cycles += out.cycles;
    add->bytes_read += out.cp_rbytes;
    add->bytes_written += out.cp_wbytes;
    for (unsigned u = 0; u < SQ_CP_UNITS; u++) {
        add->stall_cycles += out.unit_stall[u];
        add->bytes_read += out.unit_rbytes[u];
        add->bytes_written += out.unit_wbytes[u];
    }
    return 0;
}

const sq_level_ops_t sq_level_model = {
    .name = "model",
    .open = model_open,
    .close = model_close,
    .write = NULL,
    .read = NULL,
    .run = model_run,
    .run_stream = model_run_cp,
    .profiles = 1,
    .caps = SQ_LEVEL_CAP_VEC | SQ_LEVEL_CAP_GSCALE,
};
