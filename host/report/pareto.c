#include "report/pareto.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/err.h"

/* a is at least as good as b everywhere and better somewhere */
static int dominates(const sq_pareto_point_t *a, const sq_pareto_point_t *b)
{
    double x[3] = {a->dsps, a->latency_us, a->ppl}, y[3] = {b->dsps, b->latency_us, b->ppl};
    int k = isnan(a->ppl) || isnan(b->ppl) ? 2 : 3, better = 0;
    for (int i = 0; i < k; i++) {
        if (x[i] > y[i])
            return 0;
        better |= x[i] < y[i];
    }
    return better;
}

void sq_pareto_front(const sq_pareto_point_t *p, size_t n, unsigned char *front)
{
    for (size_t i = 0; i < n; i++) {
        front[i] = 1;
        for (size_t j = 0; j < n && front[i]; j++)
            if (j != i && dominates(&p[j], &p[i]))
                front[i] = 0;
    }
}

/* ---------------------------------------------------------------------------
 * Plot */

#define W 800.0
#define H 520.0
#define ML 80.0 /* plot area margins; the colour bar sits in the right one */
#define MR 150.0
#define MT 40.0
#define MB 60.0

typedef struct {
    double lo, hi; /* log10 range */
    double p0, p1; /* pixel range */
} axis_t;

static axis_t log_axis(double min, double max, double p0, double p1)
{
    axis_t a = {floor(log10(min)), ceil(log10(max)), p0, p1};
    if (a.hi <= a.lo)
        a.hi = a.lo + 1;
    return a;
}

static double at(const axis_t *a, double v)
{
    return a->p0 + (log10(v) - a->lo) / (a->hi - a->lo) * (a->p1 - a->p0);
}

/* Perplexity to colour: a five-stop viridis ramp, dark = best. */
static void colour(double t, char out[8])
{
    static const double stops[5][3] = {
        {68, 1, 84}, {59, 82, 139}, {33, 145, 140}, {94, 201, 98}, {253, 231, 37}};
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double s = t * 4;
    int i = s >= 4 ? 3 : (int)s;
    double f = s - i;
    int rgb[3];
    for (int c = 0; c < 3; c++)
        rgb[c] = (int)lround(stops[i][c] + f * (stops[i + 1][c] - stops[i][c]));
    snprintf(out, 8, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

/* Writes s with XML's special characters escaped. */
static void text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static void ticks(FILE *f, const axis_t *a, int vertical)
{
    static const int mant[] = {1, 2, 5};
    for (int e = (int)a->lo; e <= (int)a->hi; e++) {
        for (int k = 0; k < 3; k++) {
            double v = mant[k] * pow(10, e), q = at(a, v);
            if (log10(v) > a->hi + 1e-9)
                break;
            const char *stroke = k == 0 ? "#ccc" : "#eee";
            if (vertical)
                fprintf(f, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"%s\"/>"
                        "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%g</text>\n", q, MT,
                        q, H - MB, stroke, q, H - MB + 16, v);
            else
                fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"%s\"/>"
                        "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", ML, q,
                        W - MR, q, stroke, ML - 6, q + 4, v);
        }
    }
}

int sq_pareto_write_svg(const char *path, const char *title, const sq_pareto_point_t *p,
                        size_t n, const unsigned char *front)
{
    if (n == 0)
        return sq_err(SQ_ERR_ARG, "pareto plot: no points");
    double xmin = INFINITY, xmax = 0, ymin = INFINITY, ymax = 0, pmin = INFINITY, pmax = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!(p[i].dsps > 0) || !(p[i].latency_us > 0))
            return sq_err(SQ_ERR_ARG, "pareto plot: point '%s' has no DSPs or latency",
                          p[i].label);
        xmin = fmin(xmin, p[i].dsps);
        xmax = fmax(xmax, p[i].dsps);
        ymin = fmin(ymin, p[i].latency_us);
        ymax = fmax(ymax, p[i].latency_us);
        if (!isnan(p[i].ppl)) {
            pmin = fmin(pmin, p[i].ppl);
            pmax = fmax(pmax, p[i].ppl);
        }
    }
    int have_ppl = pmin <= pmax;
    axis_t ax = log_axis(xmin, xmax, ML, W - MR), ay = log_axis(ymin, ymax, H - MB, MT);
    FILE *f = fopen(path, "w");
    if (!f)
        return sq_err(SQ_ERR_IO, "cannot write plot '%s': %s", path, strerror(errno));
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" "
            "fill=\"white\"/>\n<text x=\"%.0f\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">",
            W, H, (ML + W - MR) / 2);
    text(f, title);
    fputs("</text>\n", f);
    ticks(f, &ax, 1);
    ticks(f, &ay, 0);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">DSP48E2 slices "
            "(resource model, log scale)</text>\n", (ML + W - MR) / 2, H - 18);
    fprintf(f, "<text x=\"18\" y=\"%.0f\" text-anchor=\"middle\" transform=\"rotate(-90 18 %.0f)\">"
            "modeled latency, us per token (log scale)</text>\n", (MT + H - MB) / 2,
            (MT + H - MB) / 2);
    /* the front last, so it is drawn on top */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            if (front[i] != pass)
                continue;
            char col[8] = "#1f77b4";
            if (have_ppl && !isnan(p[i].ppl))
                colour(pmax > pmin ? (log(p[i].ppl) - log(pmin)) / (log(pmax) - log(pmin)) : 0,
                       col);
            double x = at(&ax, p[i].dsps), y = at(&ay, p[i].latency_us);
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%d\" fill=\"%s\"%s><title>", x, y,
                    pass ? 6 : 4, col,
                    pass ? " stroke=\"black\" stroke-width=\"1.5\"" : " fill-opacity=\"0.6\"");
            text(f, p[i].label);
            fprintf(f, ": %.0f DSPs, %.2f us", p[i].dsps, p[i].latency_us);
            if (!isnan(p[i].ppl))
                fprintf(f, ", ppl %.4f", p[i].ppl);
            fputs("</title></circle>\n", f);
            if (pass) {
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"10\">", x + 8, y - 6);
                text(f, p[i].label);
                fputs("</text>\n", f);
            }
        }
    }
    /* legend: the ring, and the colour bar */
    double lx = W - MR + 20;
    fprintf(f, "<circle cx=\"%.0f\" cy=\"%.0f\" r=\"6\" fill=\"white\" stroke=\"black\" "
            "stroke-width=\"1.5\"/><text x=\"%.0f\" y=\"%.0f\">Pareto front</text>\n", lx + 6,
            MT + 10, lx + 18, MT + 14);
    if (have_ppl) {
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">perplexity</text>\n", lx, MT + 44);
        for (int k = 0; k < 20; k++) {
            char col[8];
            colour(k / 19.0, col);
            fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"16\" height=\"10\" fill=\"%s\"/>\n",
                    lx, MT + 52 + 10.0 * k, col);
        }
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">%.4f</text><text x=\"%.0f\" y=\"%.0f\">%.4f</text>\n",
                lx + 22, MT + 61, pmin, lx + 22, MT + 251, pmax);
    }
    fputs("</svg>\n", f);
    if (fclose(f) != 0)
        return sq_err(SQ_ERR_IO, "cannot write plot '%s': %s", path, strerror(errno));
    return 0;
}
