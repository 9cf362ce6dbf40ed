#include "cli/cli_accel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "dist/parallel.h"
#include "sparq/spec.h"
#include "util/err.h"

int sq_cli_cus(const char *cmd, const char *arg, uint32_t *out)
{
    long v;
    if (sq_cli_long(cmd, "--cus", arg, 1, SQ_GEMM_CUS_MAX, &v))
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int sq_cli_cus_fit(const char *cmd, uint32_t cus, const sq_target_t *t)
{
    if (cus > (uint32_t)t->channels) {
        sq_cli_error(cmd, "--cus %u needs a memory channel per GEMM unit: target %s has %d",
                     cus, t->name, t->channels);
        return -1;
    }
    return 0;
}

void sq_cli_accel_init(sq_cli_accel_t *a)
{
    memset(a, 0, sizeof *a);
    a->clock_mhz = 300.0;
    a->launch_us = SQ_LAUNCH_US_DEFAULT;
    a->pcie_gbps = SQ_PCIE_GBPS_DEFAULT;
}

int sq_cli_accel_flag(const char *cmd, sq_cli_accel_t *a, int c, const char *arg)
{
    switch (c) {
    case 0x101:
        if (sq_cli_backend(cmd, arg) != 0)
            return -1;
        a->backend = arg;
        return 1;
    case 0x102:
        a->report_path = arg;
        return 1;
    case 0x103:
        return sq_cli_double(cmd, "--clock-mhz", arg, 1, 2000, &a->clock_mhz) ? -1 : 1;
    case 0x104:
        if (!sq_target_find(arg)) {
            sq_cli_error(cmd, "--target must be one of %s, got '%s'", sq_target_names(), arg);
            return -1;
        }
        a->target = arg;
        return 1;
    case 0x105: {
        unsigned r, c;
        char tail;
        if (sscanf(arg, "%ux%u%c", &r, &c, &tail) != 2 || r < 1 || c < 1 || r > 256 || c > 256) {
            sq_cli_error(cmd, "--array must be RxC with sides in 1..256, got '%s'", arg);
            return -1;
        }
        a->array_rows = r;
        a->array_cols = c;
        return 1;
    }
    case 0x106:
        a->attn = arg;
        return 1;
    case 0x107:
        if (strcmp(arg, "linears")) {
            sq_cli_error(cmd, "--offload takes 'linears', got '%s'", arg);
            return -1;
        }
        a->offload_linears = 1;
        return 1;
    case 0x108:
        return sq_cli_double(cmd, "--launch-us", arg, 0, 1e6, &a->launch_us) ? -1 : 1;
    case 0x109:
        return sq_cli_double(cmd, "--pcie-gbps", arg, 1e-3, 1e4, &a->pcie_gbps) ? -1 : 1;
    case 0x10A:
        a->timing_only = 1;
        return 1;
    case 0x10B:
        return sq_cli_cus(cmd, arg, &a->cus) ? -1 : 1;
    default:
        return 0;
    }
}

/* Opens the level named by --backend. */
static int open_level(sq_cli_accel_t *a, const sq_target_t *t)
{
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, a->backend);
    cfg.mem_gbps = t->mem_gbps;
    cfg.clock_mhz = a->clock_mhz;
    cfg.array_rows = a->array_rows;
    cfg.array_cols = a->array_cols;
    cfg.timing_only = a->timing_only;
    cfg.gemm_cus = a->cus;
    if (a->mem_bytes)
        cfg.mem_bytes = a->mem_bytes;
    if (a->array_rows)
        a->rep.array_rows = a->array_rows;
    if (a->array_cols)
        a->rep.array_cols = a->array_cols;
    return sq_dev_open(&cfg, &a->dev);
}

int sq_cli_accel_open_dev(const char *cmd, sq_cli_accel_t *a, const char *model_name,
                          const char *recipe)
{
    const sq_target_t *t = sq_target_find(a->target);
    size_t len = strlen(model_name);
    /* a .sqm file runs its stored layers unless a recipe recompresses them */
    if (len > 4 && !strcmp(model_name + len - 4, ".sqm") && !strcmp(recipe, "fp32"))
        recipe = "as stored";
    sq_report_init(&a->rep, model_name, recipe, a->backend ? a->backend : "host", t, a->clock_mhz);
    a->rep.launch_us = a->launch_us;
    a->rep.pcie_gbps = a->pcie_gbps;
    /* rtl and tlm say themselves which arrays they have Verilated */
    if (a->backend && ((a->array_rows && a->array_rows != SQ_ARRAY_ROWS) ||
                       (a->array_cols && a->array_cols != SQ_ARRAY_COLS)) &&
        strcmp(a->backend, "model") && strcmp(a->backend, "rtl") && strcmp(a->backend, "tlm")) {
        sq_cli_error(cmd, "--array %ux%u needs --backend model, rtl or tlm (level %s is built "
                     "for %ux%u)",
                     a->array_rows, a->array_cols, a->backend, SQ_ARRAY_ROWS, SQ_ARRAY_COLS);
        return SQ_EXIT_USAGE;
    }
    if (sq_cli_cus_fit(cmd, a->cus, t))
        return SQ_EXIT_USAGE;
    if (a->timing_only && (!a->backend || strcmp(a->backend, "model"))) {
        sq_cli_error(cmd, "--timing-only needs --backend model (the other levels compute "
                     "their outputs)");
        return SQ_EXIT_USAGE;
    }
    if (a->backend) {
        sq_dev_config_t cfg;
        sq_dev_config_default(&cfg, a->backend);
        if (a->mem_bytes)
            cfg.mem_bytes = a->mem_bytes;
        char what[64];
        snprintf(what, sizeof what, "the device memory of level %s", a->backend);
        /* a check, not a plan: sweep opens one level after another */
        if (sq_cli_mem_check(cmd, what, cfg.mem_bytes))
            return SQ_EXIT_USAGE;
    }
    int rc = a->backend ? open_level(a, t) : 0;
    if (rc) {
        sq_cli_error(cmd, "%s", sq_err_msg());
        return sq_cli_exit_code(rc);
    }
    return 0;
}

int sq_cli_accel_open(const char *cmd, sq_cli_accel_t *a, sq_cli_model_t *cm,
                      const char *model_name, const char *recipe)
{
    /* the linears on the device take about their host bytes (the placement
     * adds quant entries), and the integer layer's int8 KV caches one
     * (layers, kv_dim, context) pair per sequence: the level's memory grows to
     * hold them (a batch of a 2048-token model outgrows the default) */
    const sq_llama_config_t *c = &cm->model.cfg;
    uint64_t kv = cm->q.layers ? 2ull * (uint64_t)c->n_layers * (uint64_t)c->seq_len *
                                     (uint64_t)(c->dim / c->n_heads * c->n_kv_heads) *
                                     (uint64_t)(a->seqs > 0 ? a->seqs : 1)
                               : 0;
    uint64_t need = cm->dummy || kv ? sq_qmodel_bytes(&cm->q) + kv : 0;
    if (need + need / 8 + (64u << 20) > (256u << 20))
        a->mem_bytes = need + need / 8 + (64u << 20);
    int ec = sq_cli_accel_open_dev(cmd, a, model_name, recipe);
    if (ec)
        return ec;
    int rc = 0;
    /* the whole token on the device when the recipe is integer (calibration
     * encodes stories as eval does, with the model's own tokenizer; a dummy
     * model calibrates on fixed token ids through its own integer linears) */
    int whole = a->dev && !a->offload_linears && cm->q.layers &&
                sq_intlayer_supported(&cm->q) == 0;
    if (a->attn)
        rc = sq_attn_exec_init(&a->ae, &cm->model.cfg, a->attn, 1);
    if (!rc && whole && a->ae.fp32)
        rc = sq_err(SQ_ERR_ARG, "--attn fp32 needs fp32 attention on the host: add --offload "
                    "linears");
    if (!rc && whole) {
        /* the recipe's calibration text, its #calib part by default */
        char *text = cm->dummy ? NULL
                     : sq_cli_read_stories(a->calib ? a->calib : SQ_DEFAULT_CALIB);
        sq_story_enc_t enc;
        sq_cli_model_story_enc(cm, &enc);
        sq_intlayer_opts_t o = {.calib_text = text, .enc = cm->dummy ? NULL : &enc,
                                .ae = a->attn ? &a->ae : NULL, .rows = a->rows,
                                .seqs = a->seqs, .timing_only = a->timing_only};
        rc = text || cm->dummy ? sq_intlayer_build(&a->ilayer, &cm->q, a->dev, &a->rep, &o)
                               : SQ_ERR_IO;
        free(text);
        if (!rc)
            sq_intlayer_exec(a->ilayer, &cm->ex);
    } else if (!rc && a->dev) {
        uint64_t lo = 0, hi = (uint64_t)cm->model.cfg.n_layers;
        if (a->stages)
            sq_parallel_share(hi, a->stages, a->stage, &lo, &hi);
        if (a->shards)
            lo = hi;
        rc = hi > lo || a->shards
                 ? sq_program_build_layers(&a->prog, &cm->q, a->dev, &a->rep, (int)lo, (int)hi)
                     : sq_err(SQ_ERR_ARG, "--pipeline %d: more stages than the model's %d "
                              "layers", a->stages, cm->model.cfg.n_layers);
        if (!rc)
            sq_program_exec(a->prog, &cm->ex);
    }
    if (!rc && a->attn && !whole) {
        sq_attn_exec_install(&a->ae, &cm->ex);
        /* with a level, the integer attention runs on its attention unit */
        if (a->prog && !a->ae.fp32)
            rc = sq_program_attach_attn(a->prog, &a->ae);
    }
    if (rc) {
        sq_cli_error(cmd, "%s", sq_err_msg());
        return sq_cli_exit_code(rc);
    }
    return 0;
}

void sq_cli_accel_print_attn(const sq_cli_accel_t *a, FILE *f)
{
    const sq_attn_exec_t *ae = &a->ae;
    if (!a->attn)
        return;
    if (ae->fp32) {
        fprintf(f, "attn fp32 (no integer error measured)\n");
        return;
    }
    if (a->ilayer) {
        fprintf(f, "attn integer layer (no per-op error against fp32 measured)\n");
        return;
    }
    fprintf(f, "attn density %.4f err_max %.6f err_mean %.6f ref_mean_abs %.6f\n",
            ae->dense ? (double)ae->selected / (double)ae->dense : 0.0, ae->err_max,
            ae->err_n ? ae->err_sum / (double)ae->err_n : 0.0,
            ae->err_n ? ae->ref_abs_sum / (double)ae->err_n : 0.0);
}

void sq_cli_accel_phase_begin(sq_cli_accel_t *a, sq_phase_t ph)
{
    if (a->report_path)
        sq_report_phase_begin(&a->rep, a->dev, ph);
}

void sq_cli_accel_phase_end(sq_cli_accel_t *a, uint64_t steps, uint64_t tokens)
{
    if (a->report_path)
        sq_report_phase_end(&a->rep, a->dev, steps, tokens);
}

int sq_cli_accel_close(const char *cmd, sq_cli_accel_t *a)
{
    int rc = 0;
    if (a->report_path && a->rep.target) { /* the report was started */
        fflush(stdout); /* the generated text first, then the table */
        sq_report_print(&a->rep, stderr);
        char svg[4096];
        snprintf(svg, sizeof svg, "%s", a->report_path);
        char *dot = strrchr(svg, '.');
        if (dot && !strchr(dot, '/'))
            *dot = 0;
        strncat(svg, ".svg", sizeof svg - strlen(svg) - 1);
        rc = sq_report_write_json(&a->rep, a->report_path);
        if (!rc)
            rc = sq_report_write_roofline_svg(&a->rep, svg);
        if (rc)
            sq_cli_error(cmd, "%s", sq_err_msg());
        else
            fprintf(stderr, "report: %s, %s\n", a->report_path, svg);
    }
    sq_program_free(a->prog);
    sq_intlayer_free(a->ilayer);
    sq_attn_exec_free(&a->ae);
    sq_dev_close(a->dev);
    sq_report_free(&a->rep);
    memset(a, 0, sizeof *a);
    return rc ? sq_cli_exit_code(rc) : 0;
}
