#include "report/report.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sparq/spec.h"
#include "util/err.h"

/* ---------------------------------------------------------------------------
 * Targets: channels per the brief and the cards' data sheets. A DDR4-2400
 * channel moves 2400 MT/s x 8 B = 19.2 GB/s; the U280's (and the VU47P's)
 * two HBM2 stacks give 460 GB/s over 32 pseudo-channels, 14.4 GB/s each
 * (AMD DS963, UG1314). */

static const sq_target_t targets[] = {
    {"ddr4", "one DDR4-2400 channel", 1, 19.2},
    {"u250", "Alveo U250, 4 DDR4-2400 channels", 4, 19.2},
    {"u280", "Alveo U280 / U55C, 32 HBM2 pseudo-channels", 32, 14.4},
    {"f2", "AWS F2 (VU47P), 32 HBM2 pseudo-channels", 32, 14.4},
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
    r->launch_us = SQ_LAUNCH_US_DEFAULT;
    r->pcie_gbps = SQ_PCIE_GBPS_DEFAULT;
    r->sequences = 1;
    r->cur = -1;
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

static double clock_s(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

double sq_report_cpu_s(void)
{
    return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

void sq_report_dev_time(sq_report_t *r, double seconds)
{
    if (r)
        r->dev_cpu_s += seconds;
}

void sq_report_phase_begin(sq_report_t *r, sq_dev_t *dev, sq_phase_t ph)
{
    r->cur = (int)ph;
    memset(&r->at, 0, sizeof r->at);
    if (dev)
        sq_dev_stats(dev, &r->at);
    r->dev0 = r->dev_cpu_s;
    r->cpu0 = sq_report_cpu_s();
    r->t0 = clock_s(CLOCK_MONOTONIC);
}

void sq_report_phase_end(sq_report_t *r, sq_dev_t *dev, uint64_t steps, uint64_t tokens)
{
    if (r->cur < 0)
        return;
    double t1 = clock_s(CLOCK_MONOTONIC), c1 = sq_report_cpu_s();
    sq_report_phase_t *p = &r->phase[r->cur];
    if (dev) {
        sq_dev_stats_t s;
        sq_dev_stats(dev, &s);
        p->runs += s.launches - r->at.launches;
        p->cycles += s.cycles - r->at.cycles;
        p->host_written += s.host_bytes_written - r->at.host_bytes_written;
        p->host_read += s.host_bytes_read - r->at.host_bytes_read;
    }
    p->steps += steps;
    p->tokens += tokens;
    p->wall_s += t1 - r->t0;
    p->cpu_s += c1 - r->cpu0;
    p->dev_cpu_s += r->dev_cpu_s - r->dev0;
    r->cur = -1;
}

int sq_report_latency(const sq_report_t *r, sq_phase_t ph, sq_report_latency_t *out)
{
    const sq_report_phase_t *p = &r->phase[ph];
    memset(out, 0, sizeof *out);
    if (!p->steps)
        return 0;
    double n = (double)p->steps;
    /* a host run has no device time to count */
    out->device_counted = p->cycles > 0 || !strcmp(r->level, "host");
    out->runs = (double)p->runs / n;
    out->pcie_bytes = (double)(p->host_written + p->host_read) / n;
    out->device_s = (double)p->cycles / (r->clock_mhz * 1e6) / n;
    out->launch_s = out->runs * r->launch_us * 1e-6;
    out->pcie_s = out->pcie_bytes / (r->pcie_gbps * 1e9);
    double host = p->cpu_s - p->dev_cpu_s;
    out->host_s = (host > 0 ? host : 0) / n;
    out->total_s = out->device_s + out->launch_s + out->pcie_s + out->host_s;
    return 1;
}

double sq_report_latency_s(const sq_report_t *r)
{
    sq_report_latency_t l;
    return sq_report_latency(r, SQ_PHASE_DECODE, &l) ? l.total_s : 0.0;
}

static double utilization(const sq_report_t *r, const sq_dev_stats_t *s)
{
    return s->cycles ? (double)s->macs / ((double)s->cycles * r->array_rows * r->array_cols * SQ_PE_MACS) : 0.0;
}

/* ---------------------------------------------------------------------------
 * Terminal table */

static const char *const phase_names[SQ_PHASES] = {"prefill", "decode"};

/* Tokens per second of a phase in aggregate (every sequence) and per
 * sequence. */
static void rates(const sq_report_t *r, sq_phase_t ph, const sq_report_latency_t *l, double *agg,
                  double *per_seq)
{
    const sq_report_phase_t *p = &r->phase[ph];
    *agg = l->total_s > 0 ? (double)p->tokens / (double)p->steps / l->total_s : 0.0;
    *per_seq = l->total_s > 0 ? 1.0 / l->total_s : 0.0;
}

static void print_latency(const sq_report_t *r, FILE *f)
{
    int any = 0, uncounted = 0;
    for (int ph = 0; ph < SQ_PHASES; ph++) {
        sq_report_latency_t l;
        if (!sq_report_latency(r, (sq_phase_t)ph, &l))
            continue;
        if (!any)
            fprintf(f, "latency per step: device cycles at %.0f MHz + %.1f us per run + host "
                    "bytes over PCIe at %.1f GB/s + the host's own work (its CPU time here)\n"
                    "%-8s %6s %7s %9s %11s %10s %10s %9s %9s %10s %10s\n", r->clock_mhz,
                    r->launch_us, r->pcie_gbps, "phase", "steps", "tokens", "runs/step",
                    "PCIe B/step", "device us", "launch us", "PCIe us", "host us", "total us",
                    "tokens/s");
        any = 1;
        const sq_report_phase_t *p = &r->phase[ph];
        double agg, seq;
        rates(r, (sq_phase_t)ph, &l, &agg, &seq);
        char dev[32];
        if (l.device_counted)
            snprintf(dev, sizeof dev, "%.1f", l.device_s * 1e6);
        else
            snprintf(dev, sizeof dev, "n/a");
        uncounted |= !l.device_counted;
        fprintf(f, "%-8s %6llu %7llu %9.1f %11.0f %10s %10.1f %9.2f %9.1f %s%9.1f %10.1f\n",
                phase_names[ph], (unsigned long long)p->steps, (unsigned long long)p->tokens,
                l.runs, l.pcie_bytes, dev, l.launch_s * 1e6, l.pcie_s * 1e6, l.host_s * 1e6,
                l.device_counted ? " " : ">", l.total_s * 1e6, agg);
        if (r->sequences > 1 && ph == SQ_PHASE_DECODE)
            fprintf(f, "decode: %llu sequences at once, %.1f tokens/s per sequence, %.1f in "
                    "aggregate\n", (unsigned long long)r->sequences, seq, agg);
    }
    if (uncounted)
        fprintf(f, "level %s counts no cycles, so device time is missing from the totals "
                "(marked >): run --backend model or rtl for it\n", r->level);
    if (!any)
        fprintf(f, "tokens %llu\n", (unsigned long long)r->tokens);
}

void sq_report_print(const sq_report_t *r, FILE *f)
{
    /* The levels give every AXI port a channel of its own (sq_dev_config_t's
     * mem_shared = 0); on a one-channel card the ports would share it, so say so. */
    fprintf(f, "report: %s, recipe %s, level %s, %ux%u array at %.0f MHz, memory %s (%.1f GB/s "
            "per port; %d channel%s on the card%s)\n",
            r->model, r->recipe, r->level, r->array_rows, r->array_cols, r->clock_mhz,
            r->target->name, r->target->mem_gbps, r->target->channels,
            r->target->channels > 1 ? "s" : "",
            r->target->channels > 1 ? ", one per port" : ", timed as one per port");
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
    print_latency(r, f);
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
    cJSON_AddNumberToObject(root, "mem_channels", r->target->channels);
    cJSON_AddNumberToObject(root, "clock_mhz", r->clock_mhz);
    cJSON_AddNumberToObject(root, "array_rows", r->array_rows);
    cJSON_AddNumberToObject(root, "array_cols", r->array_cols);
    cJSON_AddNumberToObject(root, "tokens", (double)r->tokens);
    cJSON_AddNumberToObject(root, "launch_us", r->launch_us);
    cJSON_AddNumberToObject(root, "pcie_gbps", r->pcie_gbps);
    cJSON_AddNumberToObject(root, "sequences", (double)r->sequences);
    cJSON *phases = cJSON_AddObjectToObject(root, "phases");
    for (int ph = 0; ph < SQ_PHASES; ph++) {
        sq_report_latency_t l;
        if (!sq_report_latency(r, (sq_phase_t)ph, &l))
            continue;
        const sq_report_phase_t *p = &r->phase[ph];
        double agg, seq;
        rates(r, (sq_phase_t)ph, &l, &agg, &seq);
        cJSON *j = cJSON_AddObjectToObject(phases, phase_names[ph]);
        cJSON_AddNumberToObject(j, "steps", (double)p->steps);
        cJSON_AddNumberToObject(j, "tokens", (double)p->tokens);
        cJSON_AddNumberToObject(j, "runs", (double)p->runs);
        cJSON_AddNumberToObject(j, "cycles", (double)p->cycles);
        cJSON_AddNumberToObject(j, "host_bytes_written", (double)p->host_written);
        cJSON_AddNumberToObject(j, "host_bytes_read", (double)p->host_read);
        cJSON_AddNumberToObject(j, "wall_s", p->wall_s);
        cJSON_AddNumberToObject(j, "cpu_s", p->cpu_s);
        cJSON_AddNumberToObject(j, "device_cpu_s", p->dev_cpu_s);
        cJSON_AddBoolToObject(j, "device_counted", l.device_counted);
        cJSON_AddNumberToObject(j, "runs_per_step", l.runs);
        cJSON_AddNumberToObject(j, "pcie_bytes_per_step", l.pcie_bytes);
        cJSON_AddNumberToObject(j, "device_us", l.device_s * 1e6);
        cJSON_AddNumberToObject(j, "launch_us", l.launch_s * 1e6);
        cJSON_AddNumberToObject(j, "pcie_us", l.pcie_s * 1e6);
        cJSON_AddNumberToObject(j, "host_us", l.host_s * 1e6);
        cJSON_AddNumberToObject(j, "total_us", l.total_s * 1e6);
        cJSON_AddNumberToObject(j, "tokens_per_s", agg);
        cJSON_AddNumberToObject(j, "tokens_per_s_per_sequence", seq);
    }
    /* the decode phase, per step, at the top for scripts */
    sq_report_latency_t d;
    sq_report_latency(r, SQ_PHASE_DECODE, &d);
    double agg = 0, seq = 0;
    if (d.total_s > 0)
        rates(r, SQ_PHASE_DECODE, &d, &agg, &seq);
    cJSON_AddBoolToObject(root, "device_counted", d.device_counted);
    cJSON_AddNumberToObject(root, "latency_us_per_token", d.total_s * 1e6);
    cJSON_AddNumberToObject(root, "tokens_per_s", agg);
    cJSON_AddNumberToObject(root, "tokens_per_s_per_sequence", seq);
    cJSON_AddNumberToObject(root, "runs_per_token", d.runs);
    cJSON_AddNumberToObject(root, "pcie_bytes_per_token", d.pcie_bytes);
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
#define HX 56.0 /* below the plot: the latency lines */
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
            "fill=\"white\"/>\n", W, H + HX);
    /* the end-to-end latency under the plot, one line per phase */
    for (int ph = 0, line = 0; ph < SQ_PHASES; ph++) {
        sq_report_latency_t l;
        if (!sq_report_latency(r, (sq_phase_t)ph, &l))
            continue;
        char dev[32];
        if (l.device_counted)
            snprintf(dev, sizeof dev, "%.1f", l.device_s * 1e6);
        else
            snprintf(dev, sizeof dev, "n/a (level %s)", r->level);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">%s: %.1f runs and %.0f PCIe bytes per step; "
                "%s%.1f us = device %s + launch %.1f + PCIe %.2f + host %.1f us</text>\n", ML,
                H + 14 + 16.0 * line++, phase_names[ph], l.runs, l.pcie_bytes,
                l.device_counted ? "" : "&gt; ", l.total_s * 1e6, dev, l.launch_s * 1e6,
                l.pcie_s * 1e6, l.host_s * 1e6);
    }
    fprintf(f, "<text x=\"%.0f\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">Roofline: %s "
            "(%s) on %ux%u @ %.0f MHz, %s %.1f GB/s per port</text>\n", W / 2, r->model, r->recipe,
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
