/* The integer programs' shared stream writer and linear placement (contract
 * in sched/istream.h). */
#include "sched/istream.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compress/quant.h"
#include "runtime/desc.h"
#include "util/err.h"

void sq_istream_reset(sq_istream_t *s, sq_dev_t *dev)
{
    s->dev = dev;
    s->n = 0;
}

void sq_istream_free(sq_istream_t *s)
{
    if (!s)
        return;
    free(s->cmds);
    free(s->tags);
    free(s->per);
    memset(s, 0, sizeof *s);
}

uint8_t *sq_istream_emit(sq_istream_t *s, int layer, const char *op)
{
    if (s->n == s->cap) {
        uint32_t cap = s->cap ? 2 * s->cap : 128;
        uint8_t *c = realloc(s->cmds, (size_t)cap * SQ_DESC_BYTES);
        if (c)
            s->cmds = c;
        sq_istream_tag_t *t = c ? realloc(s->tags, cap * sizeof *t) : NULL;
        if (!t) {
            sq_err(SQ_ERR_MEM, "out of memory writing a command stream");
            return NULL;
        }
        s->tags = t;
        s->cap = cap;
    }
    s->tags[s->n] = (sq_istream_tag_t){layer, op};
    uint8_t *d = s->cmds + (size_t)s->n++ * SQ_DESC_BYTES;
    memset(d, 0, SQ_DESC_BYTES);
    return d;
}

uint8_t *sq_istream_vec(sq_istream_t *s, int layer, const char *op, const sq_vec_desc_t *v)
{
    uint8_t *d = sq_istream_emit(s, layer, op);
    if (d)
        sq_vec_desc_encode(v, d);
    return d;
}

/* g as one descriptor per GEMM compute unit. */
static int emit_gemm(sq_istream_t *s, int layer, const char *op, const sq_gemm_desc_t *g)
{
    sq_gemm_desc_t part;
    uint32_t cus = sq_dev_gemm_cus(s->dev);
    for (uint32_t j = 0; j < cus; j++) {
        if (!sq_gemm_desc_split(g, cus, j, &part))
            continue;
        uint8_t *d = sq_istream_emit(s, layer, op);
        if (!d)
            return SQ_ERR_MEM;
        sq_gemm_desc_encode(&part, d);
    }
    return 0;
}

static sq_gemm_desc_t gemm_of(const sq_ilin_t *l, uint32_t m, uint64_t a, uint64_t c)
{
    return (sq_gemm_desc_t){.flags = l->flags, .m = m, .n = l->n, .k = l->k, .a = a, .w = l->w,
                            .meta = l->meta, .c = c, .group = l->group, .gscale = l->gscale};
}

int sq_istream_gemm(sq_istream_t *s, int layer, const char *op, const sq_ilin_t *l, uint32_t m,
                    uint64_t a, uint64_t c)
{
    sq_gemm_desc_t g = gemm_of(l, m, a, c);
    return emit_gemm(s, layer, op, &g);
}

int sq_istream_gemm_cols(sq_istream_t *s, int layer, const char *op, const sq_ilin_t *l,
                         uint64_t a, uint64_t c, uint32_t parts, uint32_t j, uint32_t *n0,
                         uint32_t *n)
{
    sq_gemm_desc_t g = gemm_of(l, 1, a, c), slice;
    *n0 = *n = 0;
    if (!sq_gemm_desc_split(&g, parts, j, &slice))
        return 0;
    slice.cu = 0;
    *n0 = (uint32_t)((slice.c - g.c) / 4);
    *n = slice.n;
    return emit_gemm(s, layer, op, &slice);
}

static double dmax(double a, double b)
{
    return a > b ? a : b;
}

double sq_istream_amax(const float *x, size_t n)
{
    double a = 0;
    for (size_t i = 0; i < n; i++)
        a = dmax(a, fabs(x[i]));
    return a;
}

int sq_istream_frac_bits(double max, int cap)
{
    if (!(max > 0))
        return cap;
    int f = (int)floor(log2((double)(1u << 30) / (max * SQ_ISTREAM_HEADROOM)));
    return f < 0 ? 0 : f > cap ? cap : f;
}

double sq_istream_scale(double max)
{
    return max > 0 ? max / 127.0 : 1.0 / 127.0;
}

int sq_istream_gains(sq_dev_t *dev, const float *gain, int n, uint64_t *addr, int *fg_out)
{
    double gmax = sq_istream_amax(gain, (size_t)n) * sqrt((double)n);
    int fg = gmax > 0 ? (int)floor(log2(2147483647.0 / gmax)) : 30;
    fg = fg > 40 ? 40 : fg;
    int32_t *g = malloc((size_t)n * sizeof *g);
    if (!g)
        return sq_err(SQ_ERR_MEM, "out of memory placing norm gains");
    for (int j = 0; j < n; j++)
        g[j] = (int32_t)lround(ldexp(gain[j] * sqrt((double)n), fg));
    int rc = sq_dev_put(dev, g, (size_t)n * sizeof *g, addr);
    free(g);
    *fg_out = fg;
    return rc;
}

int sq_ilin_place(sq_dev_t *dev, const sq_qlinear_t *const *l, int nl, const double *f,
                  sq_ilin_t *out)
{
    const sq_qlinear_t *l0 = l[0];
    size_t k = l0->k, n = 0, group = l0->group;
    for (int i = 0; i < nl; i++)
        n += l[i]->n;
    int grouped = group < k;
    size_t ng = sq_quant_groups(k, group), rb = sq_w_row_bytes(l0->flags, k);
    size_t mb = sq_meta_row_bytes(k);
    uint8_t *w = malloc(n * rb), *meta = (l0->flags & SQ_GEMM_SP24) ? malloc(n * mb) : NULL;
    uint16_t *gs = grouped ? malloc(n * ng * sizeof *gs) : NULL;
    sq_quant_t *chan = malloc(n * sizeof *chan);
    double *sw = malloc(n * sizeof *sw), *bound = malloc(n * sizeof *bound);
    int8_t *row = malloc(k);
    int rc = 0;
    if (!w || ((l0->flags & SQ_GEMM_SP24) && !meta) || (grouped && !gs) || !chan || !sw ||
        !bound || !row)
        rc = sq_err(SQ_ERR_MEM, "out of memory placing a linear");
    double bmax = 0;
    for (int i = 0, j0 = 0; !rc && i < nl; j0 += (int)l[i]->n, i++) {
        memcpy(w + (size_t)j0 * rb, l[i]->w, l[i]->n * rb);
        if (meta)
            memcpy(meta + (size_t)j0 * mb, l[i]->meta, l[i]->n * mb);
        for (size_t r = 0; r < l[i]->n; r++) {
            size_t j = (size_t)j0 + r;
            const float *s = l[i]->scale + r * ng;
            double sc = 0;
            for (size_t g = 0; g < ng; g++)
                sc = dmax(sc, s[g]);
            sq_w_row_decode(l0->flags, l[i]->w + r * rb, meta ? l[i]->meta + r * mb : NULL, k, row);
            double b = 0;
            for (size_t g = 0; g < ng; g++) {
                double gf = 1.0;
                if (grouped) {
                    long v = lround(s[g] / sc * 32768.0);
                    gs[j * ng + g] = (uint16_t)(v > 32768 ? 32768 : v);
                    gf = gs[j * ng + g] / 32768.0;
                }
                double a = 0;
                for (size_t t = g * group; t < k && t < (g + 1) * group; t++)
                    a += abs(row[t]);
                b += 128.0 * a * gf + (grouped ? 0.5 : 0.0);
            }
            sw[j] = sc * (f ? f[j] : 1.0);
            bound[j] = b * sw[j];
            bmax = dmax(bmax, bound[j]);
        }
    }
    int fi = bmax > 0 ? (int)floor(log2((double)(1u << 30) / bmax)) : 30;
    for (size_t j = 0; !rc && j < n; j++) {
        chan[j] = (sq_quant_t){0, 0};
        if (bound[j] > 0 && sq_scale_to_fixed(ldexp(sw[j], fi), &chan[j].mult, &chan[j].shift))
            rc = sq_err(SQ_ERR_ARG, "channel scale %g of a linear not representable", sw[j]);
    }
    *out = (sq_ilin_t){.flags = l0->flags | SQ_GEMM_OUT32 | (grouped ? SQ_GEMM_GSCALE : 0),
                       .n = (uint32_t)n, .k = (uint32_t)k, .group = grouped ? (uint32_t)group : 0,
                       .fi = fi};
    if (!rc)
        rc = sq_dev_put(dev, w, n * rb, &out->w);
    if (!rc && meta)
        rc = sq_dev_put(dev, meta, n * mb, &out->meta);
    if (!rc && gs)
        rc = sq_dev_put(dev, gs, n * ng * sizeof *gs, &out->gscale);
    if (!rc)
        rc = sq_dev_put(dev, chan, n * sizeof *chan, &out->chan);
    free(w);
    free(meta);
    free(gs);
    free(chan);
    free(sw);
    free(bound);
    free(row);
    return rc;
}

static int unit_of(const uint8_t *d)
{
    return sq_desc_unit(sq_desc_opcode(d));
}

/* A unit, or a GEMM compute unit: what runs its descriptors in order. */
static uint32_t lane_of(const uint8_t *d)
{
    int u = unit_of(d);
    return u == SQ_UNIT_GEMM ? SQ_UNIT_COUNT + sq_desc_word(d, SQ_GEMM_W_CU) : (uint32_t)u;
}

static int conflict(const uint8_t *a, const uint8_t *b)
{
    sq_operand_t oa[SQ_DESC_MAX_OPERANDS], ob[SQ_DESC_MAX_OPERANDS];
    size_t na = sq_desc_operands(a, oa), nb = sq_desc_operands(b, ob);
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
            if ((oa[i].role == SQ_OPND_OUT || ob[j].role == SQ_OPND_OUT) && oa[i].len &&
                ob[j].len && oa[i].addr < ob[j].addr + ob[j].len &&
                ob[j].addr < oa[i].addr + oa[i].len)
                return 1;
    return 0;
}

static int add_deps(sq_istream_t *s)
{
    for (uint32_t j = 0; j < s->n; j++) {
        uint8_t *dj = s->cmds + (size_t)j * SQ_DESC_BYTES;
        uint32_t dep[SQ_DESC_DEPS] = {0};
        unsigned nd = 0, seen = 0;
        for (uint32_t i = j; i-- > 0 && nd < SQ_DESC_DEPS;) {
            const uint8_t *di = s->cmds + (size_t)i * SQ_DESC_BYTES;
            int u = unit_of(di);
            if (lane_of(di) == lane_of(dj) || (seen >> u) & 1u || !conflict(di, dj))
                continue;
            if (j - i > 255)
                return sq_err(SQ_ERR_ARG, "descriptor %u depends on %u, more than 255 back", j,
                              i);
            seen |= 1u << u;
            dep[nd++] = j - i;
        }
        sq_desc_set_deps(dj, dep);
    }
    return 0;
}

int sq_istream_finish(sq_istream_t *s)
{
    int rc = add_deps(s);
    if (!rc && s->n > s->dev_cap) {
        rc = sq_dev_alloc(s->dev, (size_t)s->n * SQ_DESC_BYTES, &s->addr);
        if (!rc) {
            sq_dev_stats_t *per = realloc(s->per, s->n * sizeof *per);
            if (!per)
                return sq_err(SQ_ERR_MEM, "out of memory");
            s->per = per;
            s->dev_cap = s->n;
        }
    }
    if (!rc)
        rc = sq_dev_write(s->dev, s->addr, s->cmds, (size_t)s->n * SQ_DESC_BYTES);
    return rc;
}

static const char *unit_name(int u)
{
    return u == SQ_UNIT_GEMM ? "matmul" : u == SQ_UNIT_ATTN ? "attention" : "vector";
}

int sq_istream_run(sq_istream_t *s, const uint32_t *pos, sq_report_t *rep)
{
    sq_run_args_t args = {.per_desc = rep ? s->per : NULL};
    memcpy(args.pos, pos, sizeof args.pos);
    int rc = sq_dev_run_args(s->dev, s->addr, s->n, &args, 0);
    for (uint32_t i = 0; !rc && rep && i < s->n; i++)
        rc = sq_report_add(rep, s->tags[i].layer, s->tags[i].op,
                           unit_name(unit_of(s->cmds + (size_t)i * SQ_DESC_BYTES)), &s->per[i]);
    return rc;
}
