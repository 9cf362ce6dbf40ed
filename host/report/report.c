#include "report/report.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sparq/spec.h"
#include "util/err.h"

/* ---------------------------------------------------------------------------
 * Targets: memory bandwidth per the brief (DDR4 ~19.2 GB/s per channel). */

static const sq_target_t targets[] = {
    {"ddr4", "one DDR4-2400 channel", 19.2},
    {"u250", "Alveo U250, 4x DDR4", 77.0},
    {"u280", "Alveo U280 / U55C, HBM2", 460.0},
    {"f2", "AWS F2 (VU47P), HBM", 460.0},
};

const sq_target_t *sq_target_find(const char *name)
{
    if (!name)
        return &targets[0];
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
        if (!strcmp(targets[i].name, name))
            return &targets[i];
    return NULL;
}

const char *sq_target_names(void)
{
    return "ddr4, u250, u280, f2";
}

/* ---------------------------------------------------------------------------
 * Accumulation */

void sq_report_init(sq_report_t *r, const char *model, const char *recipe, const char *level,
                    const sq_target_t *target, double clock_mhz)
{
    memset(r, 0, sizeof *r);
    snprintf(r->model, sizeof r->model, "%s", model);
    snprintf(r->recipe, sizeof r->recipe, "%s", recipe);
    snprintf(r->level, sizeof r->level, "%s", level);
    r->target = target ? target : sq_target_find(NULL);
    r->clock_mhz = clock_mhz;
    r->array_rows = SQ_ARRAY_ROWS;
    r->array_cols = SQ_ARRAY_COLS;
}

void sq_report_free(sq_report_t *r)
{
    if (!r)
        return;
    free(r->ops);
    r->ops = NULL;
    r->n_ops = r->cap = 0;
}

static void stats_add(sq_dev_stats_t *to, const sq_dev_stats_t *s)
{
    to->cycles += s->cycles;
    to->stall_cycles += s->stall_cycles;
    to->bytes_read += s->bytes_read;
    to->bytes_written += s->bytes_written;
    to->macs += s->macs;
    to->commands += s->commands;
}

int sq_report_add(sq_report_t *r, int layer, const char *op, const char *unit,
                  const sq_dev_stats_t *s)
{
    sq_report_op_t *o = NULL;
    for (size_t i = 0; i < r->n_ops && !o; i++)
        if (r->ops[i].layer == layer && !strcmp(r->ops[i].op, op))
            o = &r->ops[i];
    if (!o) {
        if (r->n_ops == r->cap) {
            size_t cap = r->cap ? 2 * r->cap : 64;
            sq_report_op_t *p = realloc(r->ops, cap * sizeof *p);
            if (!p)
                return sq_err(SQ_ERR_MEM, "report: out of memory");
            r->ops = p;
            r->cap = cap;
        }
        o = &r->ops[r->n_ops++];
        memset(o, 0, sizeof *o);
        o->layer = layer;
        snprintf(o->op, sizeof o->op, "%s", op);
    }
    o->unit = unit;
    o->calls++;
    if (s)
        stats_add(&o->s, s);
    return 0;
}

void sq_report_totals(const sq_report_t *r, sq_dev_stats_t *t)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < r->n_ops; i++)
        stats_add(t, &r->ops[i].s);
}

double sq_report_latency_s(const sq_report_t *r)
{
    sq_dev_stats_t t;
    sq_report_totals(r, &t);
    if (!r->tokens || !t.cycles)
        return 0.0;
    return (double)t.cycles / (double)r->tokens / (r->clock_mhz * 1e6);
}

static double utilization(const sq_report_t *r, const sq_dev_stats_t *s)
{
    return s->cycles ? (double)s->macs / ((double)s->cycles * r->array_rows * r->array_cols * SQ_PE_MACS) : 0.0;
}

/* ---------------------------------------------------------------------------
 * Terminal table */

void sq_report_print(const sq_report_t *r, FILE *f)
{
    fprintf(f, "report: %s, recipe %s, level %s, %ux%u array at %.0f MHz, memory %s (%.1f GB/s)\n",
            r->model, r->recipe, r->level, r->array_rows, r->array_cols, r->clock_mhz,
            r->target->name, r->target->mem_gbps);
    fprintf(f, "%-5s %-8s %-9s %7s %12s %6s %12s %12s %10s\n", "layer", "op", "unit", "calls",
            "cycles", "util", "bytes_read", "bytes_write", "stalls");
    for (size_t i = 0; i < r->n_ops; i++) {
        const sq_report_op_t *o = &r->ops[i];
        char layer[16];
        if (o->layer < 0)
            snprintf(layer, sizeof layer, "-");
        else
            snprintf(layer, sizeof layer, "%d", o->layer);
        if (!strcmp(o->unit, "host"))
            fprintf(f, "%-5s %-8s %-9s %7llu %12s %6s %12s %12s %10s\n", layer, o->op, o->unit,
                    (unsigned long long)o->calls, "-", "-", "-", "-", "-");
        else
            fprintf(f, "%-5s %-8s %-9s %7llu %12llu %6.3f %12llu %12llu %10llu\n", layer, o->op,
                    o->unit, (unsigned long long)o->calls, (unsigned long long)o->s.cycles,
                    utilization(r, &o->s), (unsigned long long)o->s.bytes_read,
                    (unsigned long long)o->s.bytes_written, (unsigned long long)o->s.stall_cycles);
    }
    sq_dev_stats_t t;
    sq_report_totals(r, &t);
    fprintf(f, "%-5s %-8s %-9s %7s %12llu %6.3f %12llu %12llu %10llu\n", "total", "", "", "",
            (unsigned long long)t.cycles, utilization(r, &t), (unsigned long long)t.bytes_read,
            (unsigned long long)t.bytes_written, (unsigned long long)t.stall_cycles);
    if (r->tokens && r->launches)
        fprintf(f, "runs %llu (%.2f per token), host bytes per token: %.0f written, %.0f read\n",
                (unsigned long long)r->launches, (double)r->launches / (double)r->tokens,
                (double)r->host_bytes_written / (double)r->tokens,
                (double)r->host_bytes_read / (double)r->tokens);
    double lat = sq_report_latency_s(r);
    if (lat > 0)
        fprintf(f, "tokens %llu, modeled accelerator latency %.1f us/token, %.0f tokens/s at "
                "%.0f MHz (host ops not modeled)\n",
                (unsigned long long)r->tokens, lat * 1e6, 1.0 / lat, r->clock_mhz);
    else
        fprintf(f, "tokens %llu; level %s counts no cycles (use --backend rtl, tlm or "
                "model for latency)\n", (unsigned long long)r->tokens, r->level);
}

/* ---------------------------------------------------------------------------
 * JSON */

static cJSON *stats_json(const sq_report_t *r, const sq_dev_stats_t *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "cycles", (double)s->cycles);
    cJSON_AddNumberToObject(o, "stall_cycles", (double)s->stall_cycles);
    cJSON_AddNumberToObject(o, "macs", (double)s->macs);
    cJSON_AddNumberToObject(o, "mac_utilization", utilization(r, s));
    cJSON_AddNumberToObject(o, "bytes_read", (double)s->bytes_read);
    cJSON_AddNumberToObject(o, "bytes_written", (double)s->bytes_written);
    cJSON_AddNumberToObject(o, "commands", (double)s->commands);
    return o;
}

int sq_report_write_json(const sq_report_t *r, const char *path)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", r->model);
    cJSON_AddStringToObject(root, "recipe", r->recipe);
    cJSON_AddStringToObject(root, "level", r->level);
    cJSON_AddStringToObject(root, "target", r->target->name);
    cJSON_AddNumberToObject(root, "mem_gbps", r->target->mem_gbps);
    cJSON_AddNumberToObject(root, "clock_mhz", r->clock_mhz);
    cJSON_AddNumberToObject(root, "array_rows", r->array_rows);
    cJSON_AddNumberToObject(root, "array_cols", r->array_cols);
    cJSON_AddNumberToObject(root, "tokens", (double)r->tokens);
    double tok = r->tokens ? (double)r->tokens : 1.0;
    cJSON_AddNumberToObject(root, "launches", (double)r->launches);
    cJSON_AddNumberToObject(root, "launches_per_token", (double)r->launches / tok);
    cJSON_AddNumberToObject(root, "host_bytes_written_per_token", (double)r->host_bytes_written / tok);
    cJSON_AddNumberToObject(root, "host_bytes_read_per_token", (double)r->host_bytes_read / tok);
    double lat = sq_report_latency_s(r);
    cJSON_AddNumberToObject(root, "latency_us_per_token", lat * 1e6);
    cJSON_AddNumberToObject(root, "tokens_per_s", lat > 0 ? 1.0 / lat : 0.0);
    cJSON *ops = cJSON_AddArrayToObject(root, "ops");
    for (size_t i = 0; i < r->n_ops; i++) {
        const sq_report_op_t *o = &r->ops[i];
        cJSON *j = stats_json(r, &o->s);
        cJSON_AddNumberToObject(j, "layer", o->layer);
        cJSON_AddStringToObject(j, "op", o->op);
        cJSON_AddStringToObject(j, "unit", o->unit);
        cJSON_AddNumberToObject(j, "calls", (double)o->calls);
        cJSON_AddItemToArray(ops, j);
    }
    sq_dev_stats_t t;
    sq_report_totals(r, &t);
    cJSON_AddItemToObject(root, "total", stats_json(r, &t));
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text)
        return sq_err(SQ_ERR_MEM, "report: out of memory");
    FILE *f = fopen(path, "w");
    int rc = 0;
    if (!f || fputs(text, f) < 0 || fputc('\n', f) == EOF)
        rc = sq_err(SQ_ERR_IO, "cannot write report '%s': %s", path, strerror(errno));
    if (f && fclose(f) != 0 && !rc)
        rc = sq_err(SQ_ERR_IO, "cannot write report '%s': %s", path, strerror(errno));
    free(text);
    return rc;
}

/* ---------------------------------------------------------------------------
 * Roofline (SVG) */

#define W 720.0
#define H 480.0
#define ML 80.0 /* margins */
#define MR 30.0
#define MT 40.0
#define MB 60.0

typedef struct {
    double x0, x1, y0, y1; /* log10 ranges */
} axes_t;

static double px(const axes_t *a, double x)
{
    return ML + (log10(x) - a->x0) / (a->x1 - a->x0) * (W - ML - MR);
}

static double py(const axes_t *a, double y)
{
    return H - MB - (log10(y) - a->y0) / (a->y1 - a->y0) * (H - MT - MB);
}

int sq_report_write_roofline_svg(const sq_report_t *r, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return sq_err(SQ_ERR_IO, "cannot write plot '%s': %s", path, strerror(errno));
    double clock = r->clock_mhz * 1e6;
    double peak = 2.0 * SQ_PE_MACS * r->array_rows * r->array_cols * clock / 1e9; /* GOP/s */
    double bw = r->target->mem_gbps;                                  /* GB/s */
    axes_t a = {-2, 3, floor(log10(peak)) - 4, ceil(log10(peak)) + 0.5};
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" "
            "fill=\"white\"/>\n", W, H);
    fprintf(f, "<text x=\"%.0f\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">Roofline: %s "
            "(%s) on %ux%u @ %.0f MHz, %s %.1f GB/s</text>\n", W / 2, r->model, r->recipe,
            r->array_rows, r->array_cols, r->clock_mhz, r->target->name, bw);
    /* grid and decade labels */
    for (int e = (int)a.x0; e <= (int)a.x1; e++) {
        double x = px(&a, pow(10, e));
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#ddd\"/>"
                "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">1e%d</text>\n", x, MT, x,
                H - MB, x, H - MB + 16, e);
    }
    for (int e = (int)a.y0; e <= (int)a.y1; e++) {
        double y = py(&a, pow(10, e));
        fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">1e%d</text>\n", ML, y, W - MR, y,
                ML - 6, y + 4, e);
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">arithmetic intensity "
            "(ops per device-memory byte)</text>\n", (ML + W - MR) / 2, H - 18);
    fprintf(f, "<text x=\"18\" y=\"%.0f\" text-anchor=\"middle\" transform=\"rotate(-90 18 %.0f)\">"
            "attained GOP/s (2 ops per MAC)</text>\n", (MT + H - MB) / 2, (MT + H - MB) / 2);
    /* roofs: min(peak, bw * intensity) */
    double ridge = peak / bw;
    double xl = pow(10, a.x0), xr = pow(10, a.x1);
    double ylo = bw * xl;
    fprintf(f, "<polyline fill=\"none\" stroke=\"#c00\" stroke-width=\"2\" points=\"%.1f,%.1f "
            "%.1f,%.1f %.1f,%.1f\"/>\n", px(&a, xl), py(&a, ylo), px(&a, ridge), py(&a, peak),
            px(&a, xr), py(&a, peak));
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#c00\">compute roof %.1f GOP/s</text>\n",
            px(&a, ridge) + 6, py(&a, peak) - 6, peak);
    /* one point per accelerator op */
    static const char *const colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
                                         "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"};
    size_t legend = 0;
    for (size_t i = 0; i < r->n_ops; i++) {
        const sq_report_op_t *o = &r->ops[i];
        uint64_t bytes = o->s.bytes_read + o->s.bytes_written;
        if (!o->s.cycles || !bytes || !o->s.macs)
            continue;
        double ai = 2.0 * (double)o->s.macs / (double)bytes;
        double gops = 2.0 * (double)o->s.macs / ((double)o->s.cycles / clock) / 1e9;
        /* color by op name so layers of the same op line up */
        size_t c = 0;
        for (const char *p = o->op; *p; p++)
            c = c * 31 + (unsigned char)*p;
        const char *col = colors[c % (sizeof colors / sizeof colors[0])];
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\" fill-opacity=\"0.7\">"
                "<title>layer %d %s (%s): %.2f ops/B, %.2f GOP/s</title></circle>\n",
                px(&a, ai < xl ? xl : ai), py(&a, gops < pow(10, a.y0) ? pow(10, a.y0) : gops),
                col, o->layer, o->op, o->unit, ai, gops);
        if (o->layer <= 0 && legend < 12) {
            fprintf(f, "<circle cx=\"%.0f\" cy=\"%.0f\" r=\"4\" fill=\"%s\"/><text x=\"%.0f\" "
                    "y=\"%.0f\">%s</text>\n", W - MR - 70, MT + 14 + 16.0 * legend, col,
                    W - MR - 60, MT + 18 + 16.0 * legend, o->op);
            legend++;
        }
    }
    fputs("</svg>\n", f);
    if (fclose(f) != 0)
        return sq_err(SQ_ERR_IO, "cannot write plot '%s': %s", path, strerror(errno));
    return 0;
}
