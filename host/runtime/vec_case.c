/* Random vector-unit ops with golden answers (see runtime/vec_case.h). */
#include "runtime/vec_case.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/desc.h"
#include "sparq/vec.h"
#include "util/err.h"

/* splitmix64, as the attention cases use */
static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint32_t below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(rnd(s) % n);
}

static const char *const FUNC_NAMES[SQ_VEC_FUNCS] = {"gather", "norm",   "add",   "deq",   "rope",
                                                     "swiglu", "gelu",   "quant", "argmax", "copy"};

/* The flags each function accepts and requires (sq_vec_check_shape's table). */
static const uint32_t ALLOWED[SQ_VEC_FUNCS] = {
    0, SQ_VEC_Q8 | SQ_VEC_BIAS | SQ_VEC_LN, SQ_VEC_ACC | SQ_VEC_BIAS, SQ_VEC_ACC | SQ_VEC_BIAS,
    SQ_VEC_ACC | SQ_VEC_ROT | SQ_VEC_BIAS, SQ_VEC_ACC | SQ_VEC_Q8, SQ_VEC_ACC | SQ_VEC_BIAS | SQ_VEC_Q8,
    SQ_VEC_ACC | SQ_VEC_BIAS | SQ_VEC_Q8, 0};
static const uint32_t REQUIRED[SQ_VEC_FUNCS] = {0, 0, 0, 0, SQ_VEC_ACC, SQ_VEC_ACC | SQ_VEC_Q8,
                                                0, SQ_VEC_Q8, 0};

void sq_vec_params_random(uint64_t *rng, int t, sq_vec_params_t *p)
{
    static const uint32_t widths[] = {1, 2, 3, 7, 8, 15, 16, 17, 24, 31, 32, 33, 48, 64, 100, 257};
    memset(p, 0, sizeof *p);
    p->func = (uint32_t)t % SQ_VEC_FUNCS;
    p->flags = (below(rng, 32) & ALLOWED[p->func]) | REQUIRED[p->func];
    p->m = 1 + below(rng, 3);
    p->n = widths[below(rng, sizeof widths / sizeof widths[0])];
    if (below(rng, 8) == 0)
        p->n = 1 + below(rng, 300);
    if (p->func == SQ_VEC_ROPE && (p->flags & SQ_VEC_ROT))
        p->flags &= ~SQ_VEC_BIAS; /* TAB is the rotation table */
    if (p->func == SQ_VEC_ROPE && (p->flags & SQ_VEC_ROT) && p->n % 2)
        p->n++;
    /* half the ops are segmented (IN and OUT; GATHER's OUT, ARGMAX's IN):
     * a divisor of n from 1 up, even for ROT */
    if (below(rng, 2)) {
        uint32_t want = 1 + below(rng, p->n < 20 ? p->n : 20);
        while (p->n % want || ((p->flags & SQ_VEC_ROT) && want % 2))
            want++;
        p->seg = want;
    }
    p->values = (int)below(rng, SQ_VEC_VALUES_KINDS);
    p->layout = (int)below(rng, 2);
    if (p->func == SQ_VEC_ROPE && below(rng, 3) == 0) {
        p->layout = SQ_VEC_LAYOUT_KV;
        p->m = 1;
        p->pos = below(rng, 40);
    }
    p->extreme_scales = below(rng, 4) == 0;
    p->seed = rnd(rng);
}

void sq_vec_params_describe(const sq_vec_params_t *p, char *out, size_t n)
{
    snprintf(out, n, "%s flags 0x%x %ux%u seg %u values %d layout %d%s pos %u seed %llu",
             p->func < SQ_VEC_FUNCS ? FUNC_NAMES[p->func] : "?", p->flags, p->m, p->n, p->seg,
             p->values, p->layout, p->extreme_scales ? " extreme-scales" : "", p->pos,
             (unsigned long long)p->seed);
}

void sq_vec_case_free(sq_vec_case_t *vc)
{
    free(vc->image);
    free(vc->golden);
    memset(vc, 0, sizeof *vc);
}

static int32_t value(uint64_t *s, int kind)
{
    switch (kind) {
    case SQ_VEC_VALUES_SMALL:
        return (int32_t)below(s, 2001) - 1000;
    case SQ_VEC_VALUES_WIDE:
        return (int32_t)(uint32_t)rnd(s) >> below(s, 31);
    case SQ_VEC_VALUES_ZERO:
        return 0;
    default:
        if (below(s, 3)) {
            static const int32_t edge[] = {INT32_MIN, INT32_MAX, 0, -1, 1, INT32_MIN + 1};
            return edge[below(s, 6)];
        }
        return (int32_t)(uint32_t)rnd(s) >> below(s, 31);
    }
}

static void put32(uint8_t *img, uint64_t at, uint32_t v)
{
    sq_st32(img + at, v);
}

/* A channel or row {mult, shift}: realistic, or at the ends of its range. */
static void quant_entry(uint64_t *s, int extreme, uint8_t *img, uint64_t at)
{
    uint32_t mult = (uint32_t)below(s, 1u << 30) + (1u << 30), shift = 28 + below(s, 12);
    if (extreme || below(s, 8) == 0) {
        static const uint32_t mults[] = {0, 1, 0x7FFFFFFFu, 1u << 30};
        static const uint32_t shifts[] = {0, 1, 61, 62, 31};
        mult = mults[below(s, 4)];
        shift = shifts[below(s, 5)];
    } else if (below(s, 3) == 0) {
        shift = below(s, 63);
    }
    put32(img, at, mult);
    put32(img, at + 4, shift);
}

static void row_record(uint64_t *s, int extreme, uint8_t *img, uint64_t at)
{
    int32_t mult = (int32_t)(below(s, 1u << 30) + (1u << 30)), shift = (int32_t)below(s, 70) - 5;
    if (extreme || below(s, 6) == 0) {
        static const int32_t mults[] = {INT32_MIN, INT32_MAX, 0, 1, -1};
        static const int32_t shifts[] = {-200, 0, 62, 200, INT32_MIN, INT32_MAX, -62};
        mult = mults[below(s, 5)];
        shift = shifts[below(s, 7)];
    }
    put32(img, at, (uint32_t)mult);
    put32(img, at + 4, (uint32_t)shift);
}

typedef struct {
    uint64_t used;
} layout_t;

/* Reserves len bytes at offset off past a 64-byte boundary. */
static uint64_t take(layout_t *l, uint64_t len, uint32_t off)
{
    uint64_t at = ((l->used + 63) & ~63ull) + 64 + off;
    l->used = at + len;
    return at;
}

int sq_vec_case_build(sq_vec_case_t *vc, const sq_vec_params_t *p)
{
    memset(vc, 0, sizeof *vc);
    vc->p = *p;
    uint64_t s = p->seed;
    sq_vec_desc_t *d = &vc->d;
    *d = (sq_vec_desc_t){.func = p->func, .flags = p->flags, .m = p->m, .n = p->n,
                         .seg = p->seg};
    if (p->func >= SQ_VEC_FUNCS)
        return sq_err(SQ_ERR_ARG, "vec case: no function %u", p->func);
    int gaps = p->layout == SQ_VEC_LAYOUT_GAPS, kv = p->layout == SQ_VEC_LAYOUT_KV;
    if (kv && (p->func != SQ_VEC_ROPE || p->m != 1))
        return sq_err(SQ_ERR_ARG, "vec case: the KV-cache layout is for one ROPE row");
    uint32_t f = p->func, fl = p->flags, m = p->m, n = p->n, seg = p->seg ? p->seg : n;
    uint32_t nseg = n / seg, esize = sq_vec_out_esize(f, fl);
    int acc = (fl & SQ_VEC_ACC) != 0, rot = f == SQ_VEC_ROPE && (fl & SQ_VEC_ROT);
    int extreme = p->extreme_scales;

    /* parameters */
    int32_t adj = (int32_t)below(&s, 80) - 40;
    switch (f) {
    case SQ_VEC_GATHER:
        d->p[0] = 1 + below(&s, 64);
        break;
    case SQ_VEC_NORM: {
        uint64_t eps = rnd(&s) >> (3 + below(&s, 61));
        if (extreme)
            eps = below(&s, 2) ? 0 : ((uint64_t)1 << 61) - 1;
        d->p[0] = (uint32_t)eps;
        d->p[1] = (uint32_t)(eps >> 32);
        d->p[2] = (uint32_t)((int32_t)below(&s, 50) - 40);
        if (extreme)
            d->p[2] = (uint32_t)(below(&s, 2) ? -300 : 300);
        d->p[3] = below(&s, 40);
        break;
    }
    case SQ_VEC_ROPE:
        d->p[0] = (uint32_t)adj;
        d->p[1] = below(&s, SQ_VEC_FRAC_MAX + 1);
        break;
    case SQ_VEC_SWIGLU:
        d->p[0] = (uint32_t)adj;
        d->p[1] = below(&s, SQ_VEC_FRAC_MAX + 1);
        break;
    case SQ_VEC_GELU:
        d->p[0] = (uint32_t)adj;
        d->p[1] = 16 + below(&s, SQ_VEC_FRAC_MAX - 15);
        break;
    default:
        d->p[0] = (uint32_t)adj;
        d->p[1] = below(&s, 41);
        break;
    }

    sq_vec_t check;
    sq_vec_desc_view(d, NULL, &check);
    if (sq_vec_check_shape(&check) != 0)
        return sq_err(SQ_ERR_ARG, "vec case: function %u flags 0x%x shape %ux%u seg %u is not "
                                  "one the unit accepts", p->func, p->flags, p->m, p->n, p->seg);

    /* layout */
    layout_t l = {0};
    uint32_t kv_cap = kv ? p->pos + 1 + below(&s, 4) : 0;
    if (f == SQ_VEC_GATHER) {
        d->in_stride = 4 + (gaps ? 4 * below(&s, 3) : 0);
        d->in = take(&l, (uint64_t)(m - 1) * d->in_stride + 4, gaps ? 4 * below(&s, 16) : 0);
    } else {
        d->in_seg_stride = 4 * (seg + (gaps ? below(&s, 5) : 0));
        d->in_stride = nseg * d->in_seg_stride + (gaps ? 4 * below(&s, 9) : 0);
        if (gaps && m > 1 && below(&s, 6) == 0)
            d->in_stride = 0; /* every row reads the same elements */
        d->in = take(&l, (uint64_t)(m - 1) * d->in_stride +
                             (uint64_t)(nseg - 1) * d->in_seg_stride + 4ull * seg,
                     gaps ? 4 * below(&s, 16) : 0);
    }
    if (f == SQ_VEC_ADD || f == SQ_VEC_SWIGLU) {
        d->in2_stride = 4 * n + (gaps ? 4 * below(&s, 9) : 0);
        d->in2 = take(&l, (uint64_t)(m - 1) * d->in2_stride + 4ull * n, gaps ? 4 * below(&s, 16) : 0);
    }
    uint32_t out_off = gaps ? (esize == 1 ? below(&s, 64) : 4 * below(&s, 16)) : 0;
    if (f == SQ_VEC_ARGMAX) {
        d->out_stride = 4 + (gaps ? 4 * below(&s, 3) : 0);
        d->out = take(&l, (uint64_t)(m - 1) * d->out_stride + 4, out_off);
    } else if (kv) {
        d->out_stride = seg;
        d->out_seg_stride = kv_cap * seg;
        d->out = take(&l, (uint64_t)nseg * kv_cap * seg, 0);
    } else {
        d->out_seg_stride = esize * (seg + (gaps ? below(&s, 5) : 0));
        d->out_stride = nseg * d->out_seg_stride + (gaps ? esize * below(&s, 9) : 0);
        if (gaps && m > 1 && below(&s, 8) == 0)
            d->out_stride = 0; /* rows overwrite each other: the last one stays */
        d->out = take(&l, (uint64_t)(m - 1) * d->out_stride +
                              (uint64_t)(nseg - 1) * d->out_seg_stride + (uint64_t)esize * seg,
                      out_off);
    }
    uint64_t chan_n = f == SQ_VEC_GATHER ? d->p[0] : f == SQ_VEC_SWIGLU ? 2ull * n : n;
    if (f == SQ_VEC_GATHER || f == SQ_VEC_NORM || acc)
        d->chan = take(&l, (f == SQ_VEC_NORM ? 4 : 8) * chan_n, gaps ? 4 * below(&s, 16) : 0);
    if (acc)
        d->rec_in = take(&l, (uint64_t)m * SQ_VEC_REC_BYTES, gaps ? 4 * below(&s, 16) : 0);
    if ((fl & SQ_VEC_Q8) || f == SQ_VEC_QUANT)
        d->rec_out = take(&l, (uint64_t)m * SQ_VEC_REC_BYTES, gaps ? 4 * below(&s, 16) : 0);
    uint32_t tab_rows = 0;
    if (f == SQ_VEC_GATHER) {
        d->tab_stride = n + (gaps ? below(&s, 9) : 0);
        tab_rows = d->p[0];
        d->tab = take(&l, (uint64_t)(tab_rows - 1) * d->tab_stride + n, gaps ? below(&s, 64) : 0);
    } else if (rot) {
        d->tab_stride = 2 * seg + (gaps ? 4 * below(&s, 3) : 0);
        tab_rows = kv ? kv_cap : m;
        d->tab = take(&l, (uint64_t)(tab_rows - 1) * d->tab_stride + 2ull * seg,
                      gaps ? 4 * below(&s, 16) : 0);
    } else if (fl & SQ_VEC_BIAS) {
        d->tab = take(&l, 4ull * n, gaps ? 4 * below(&s, 16) : 0);
    }
    vc->bytes = (l.used + 64 + 63) & ~63ull;
    vc->image = malloc(vc->bytes);
    vc->golden = malloc(vc->bytes);
    if (!vc->image || !vc->golden)
        return sq_err(SQ_ERR_MEM, "vec case: out of memory for %llu bytes",
                      (unsigned long long)vc->bytes);
    /* every byte defined: outputs start as noise that must survive where
     * nothing is written */
    for (uint64_t i = 0; i < vc->bytes; i++)
        vc->image[i] = (uint8_t)rnd(&s);

    /* operands */
    uint8_t *img = vc->image;
    if (f == SQ_VEC_GATHER) {
        for (uint32_t i = 0; i < m; i++) {
            uint32_t id = below(&s, d->p[0]);
            if (below(&s, 2)) /* the table's ends */
                id = below(&s, 2) ? 0 : d->p[0] - 1;
            put32(img, d->in + (uint64_t)i * d->in_stride, id);
        }
        for (uint32_t r = 0; r < tab_rows; r++) {
            quant_entry(&s, extreme, img, d->chan + 8ull * r);
            for (uint32_t j = 0; j < n; j++) {
                uint8_t e = (uint8_t)rnd(&s);
                if (p->values == SQ_VEC_VALUES_EXTREME && below(&s, 2))
                    e = below(&s, 2) ? 0x80 : 0x7F;
                img[d->tab + (uint64_t)r * d->tab_stride + j] =
                    p->values == SQ_VEC_VALUES_ZERO ? 0 : e;
            }
        }
    } else {
        for (uint32_t i = 0; i < m; i++)
            for (uint32_t j = 0; j < n; j++)
                put32(img, d->in + (uint64_t)i * d->in_stride +
                               (uint64_t)(j / seg) * d->in_seg_stride + 4ull * (j % seg),
                      (uint32_t)value(&s, p->values));
    }
    if (d->in2)
        for (uint32_t i = 0; i < m; i++)
            for (uint32_t j = 0; j < n; j++)
                put32(img, d->in2 + (uint64_t)i * d->in2_stride + 4ull * j,
                      (uint32_t)value(&s, p->values));
    if (f == SQ_VEC_NORM)
        for (uint32_t j = 0; j < n; j++)
            put32(img, d->chan + 4ull * j, (uint32_t)value(&s, extreme ? SQ_VEC_VALUES_EXTREME
                                                                         : SQ_VEC_VALUES_WIDE));
    else if (acc)
        for (uint64_t j = 0; j < chan_n; j++)
            quant_entry(&s, extreme, img, d->chan + 8 * j);
    if (acc)
        for (uint32_t i = 0; i < m; i++)
            row_record(&s, extreme, img, d->rec_in + (uint64_t)i * SQ_VEC_REC_BYTES);
    if (rot) {
        for (uint32_t r = 0; r < tab_rows; r++)
            for (uint32_t k = 0; k < seg; k++) {
                int32_t c = (int32_t)below(&s, 32769) - 16384;
                if (extreme && below(&s, 2))
                    c = below(&s, 2) ? INT16_MIN : INT16_MAX;
                img[d->tab + (uint64_t)r * d->tab_stride + 2 * k] = (uint8_t)c;
                img[d->tab + (uint64_t)r * d->tab_stride + 2 * k + 1] = (uint8_t)(c >> 8);
            }
    } else if ((fl & SQ_VEC_BIAS) && f != SQ_VEC_GATHER) {
        for (uint32_t j = 0; j < n; j++)
            put32(img, d->tab + 4ull * j, (uint32_t)value(&s, p->values == SQ_VEC_VALUES_ZERO
                                                                  ? SQ_VEC_VALUES_SMALL
                                                                  : p->values));
    }

    /* the descriptor as written, with its patches, and the golden run */
    sq_vec_desc_encode(d, vc->desc);
    if (kv) {
        vc->pos[0] = p->pos;
        sq_desc_set_patch(vc->desc, 0, sq_desc_patch_word(SQ_VEC_W_OUT_LO, 1, 0, seg));
        if (rot)
            sq_desc_set_patch(vc->desc, 1,
                              sq_desc_patch_word(SQ_VEC_W_TAB_LO, 1, 0, d->tab_stride));
    }
    uint8_t patched[SQ_DESC_BYTES];
    memcpy(patched, vc->desc, sizeof patched);
    sq_desc_apply_patches(patched, vc->pos);
    sq_vec_desc_t pd;
    sq_vec_desc_decode(patched, &pd);
    memcpy(vc->golden, vc->image, vc->bytes);
    sq_vec_t v;
    sq_vec_desc_view(&pd, vc->golden, &v);
    if (sq_vec_ref(&v) != 0)
        return sq_err(SQ_ERR_ARG, "vec case: the golden reference rejects it");
    return 0;
}

int sq_vec_case_place(sq_dev_t *dev, sq_vec_case_t *vc)
{
    int rc = sq_dev_put(dev, vc->image, vc->bytes, &vc->base);
    if (rc)
        return rc;
    static const unsigned addr_words[] = {SQ_VEC_W_IN_LO,     SQ_VEC_W_IN2_LO,
                                          SQ_VEC_W_OUT_LO,    SQ_VEC_W_CHAN_LO,
                                          SQ_VEC_W_REC_IN_LO, SQ_VEC_W_REC_OUT_LO,
                                          SQ_VEC_W_TAB_LO};
    uint8_t desc[SQ_DESC_BYTES];
    memcpy(desc, vc->desc, sizeof desc);
    for (size_t i = 0; i < sizeof addr_words / sizeof addr_words[0]; i++)
        sq_desc_set_addr(desc, addr_words[i], sq_desc_addr(desc, addr_words[i]) + vc->base);
    return sq_dev_put(dev, desc, sizeof desc, &vc->cmd);
}

int sq_vec_case_run(sq_dev_t *dev, const sq_vec_case_t *vc, uint64_t max_cycles,
                    uint64_t *mismatch)
{
    sq_run_args_t args = {{0}, NULL};
    memcpy(args.pos, vc->pos, sizeof args.pos);
    int rc = sq_dev_run_args(dev, vc->cmd, 1, &args, max_cycles);
    if (rc)
        return rc;
    uint8_t *got = malloc(vc->bytes);
    if (!got)
        return sq_err(SQ_ERR_MEM, "vec case: out of memory");
    rc = sq_dev_read(dev, vc->base, got, vc->bytes);
    *mismatch = vc->bytes;
    for (uint64_t i = 0; rc == 0 && i < vc->bytes; i++)
        if (got[i] != vc->golden[i]) {
            *mismatch = i;
            break;
        }
    free(got);
    return rc;
}
