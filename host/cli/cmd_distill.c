/* sparq distill: prune and quantize a model one-shot, then distill it from
 * its fp32 self, and report perplexity before and after. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_model.h"
#include "compress/recipe.h"
#include "model/eval.h"
#include "train/constraint.h"
#include "train/distill.h"
#include "train/train.h"
#include "util/err.h"

static void help(void)
{
    puts("usage: sparq distill [flags]\n"
         "  --model FILE        llama2.c checkpoint, the teacher (default " SQ_DEFAULT_MODEL ")\n"
         "  --tokenizer FILE    tokenizer.bin (default " SQ_DEFAULT_TOKENIZER ")\n"
         "  --calib FILE        real stories (<|endoftext|>-separated) trained on besides the\n"
         "                      teacher's samples (default " SQ_DEFAULT_CALIB ")\n"
         "  --text FILE         stories scored, never trained on (default " SQ_DEFAULT_EVAL ")\n"
         "  --prune P           none or 2:4 (default 2:4; the matrix unit's encoder picks the\n"
         "                      kept pair)\n"
         "  --quant Q           none, w8 (int8 weight grid), w8a8 (w8 plus int8 activations in\n"
         "                      training and scoring; default) or w4gG (int4, groups of G)\n"
         "  --score-only        train on the teacher's samples alone (not on --calib)\n"
         "  --dense-cls         leave the classifier (the tied embedding) unpruned\n"
         "  --steps N           optimizer steps (default 300; 0 = one-shot only)\n"
         "  --batch N           sequences per step (default 8)\n"
         "  --len N             tokens per training sequence, BOS included (default 256)\n"
         "  --samples N         stories sampled from the teacher to train on (default 256)\n"
         "  --heldout N         further teacher stories, never trained on, scored (default 32)\n"
         "  --lr X              peak AdamW learning rate (default 2e-3)\n"
         "  --temperature T     KL temperature (default 1)\n"
         "  --ce W              weight of the hard-label cross-entropy (default 0)\n"
         "  --seed S            sampling and batch seed (default 1)\n"
         "  --out FILE          write the distilled student as a llama2.c checkpoint\n"
         SQ_CLI_MAX_MEM_HELP
         "  --help\n"
         "prints one line per model: perplexity on --text and on the held-out teacher\n"
         "samples, with fp32 activations and, with w8/w8a8, through the w8a8 recipe");
}

typedef struct {
    int prune24, bits, act8, dense_cls;
    size_t group;
} spec_t;

static int parse_quant(const char *s, spec_t *sp)
{
    if (!strcmp(s, "none"))
        return 0;
    if (!strcmp(s, "w8") || !strcmp(s, "w8a8")) {
        sp->bits = 8;
        sp->act8 = !strcmp(s, "w8a8");
        return 0;
    }
    char *end;
    if (!strncmp(s, "w4g", 3)) {
        long g = strtol(s + 3, &end, 10);
        if (end != s + 3 && !*end && g >= 1 && g <= 1 << 16) {
            sp->bits = 4;
            sp->group = (size_t)g;
            return 0;
        }
    }
    return -1;
}

static void progress(void *ctx, int step, int steps, double loss)
{
    (void)ctx;
    char label[64];
    snprintf(label, sizeof label, "distill: loss %.4f step", loss);
    sq_cli_progress(label, (size_t)step, (size_t)steps);
}

static void eval_progress(size_t done, size_t total)
{
    sq_cli_progress("distill: scoring story", done, total);
}

/* Perplexity of m on the text (sq_eval_text) and on the held-out sequences,
 * fp32 or through the w8a8 recipe. */
static int score(const sq_llama_t *m, const sq_tokenizer_t *tok, const char *text,
                 const sq_distill_data_t *held, int w8a8, double *ppl_text, double *ppl_held)
{
    sq_recipe_t r;
    sq_qmodel_t q;
    sq_llama_exec_t ex = {0};
    int rc = sq_recipe_parse(w8a8 ? "w8a8" : "fp32", &r);
    if (!rc)
        rc = sq_qmodel_build(&q, m, &r);
    if (rc)
        return rc;
    sq_qmodel_exec(&q, &ex);
    sq_eval_result_t er;
    rc = sq_eval_text(m, tok, text, &ex, eval_progress, &er);
    double nll = 0.0;
    size_t nt = 0;
    if (!rc) {
        *ppl_text = exp(er.nll / (double)er.tokens);
        rc = sq_distill_data_nll(m, held, &ex, &nll, &nt);
    }
    if (!rc)
        *ppl_held = nt ? exp(nll / (double)nt) : NAN;
    sq_cli_progress_end();
    sq_qmodel_free(&q);
    return rc;
}

static int report(const char *name, const sq_llama_t *m, const sq_tokenizer_t *tok,
                  const char *text, const sq_distill_data_t *held, const spec_t *sp)
{
    double a, b;
    int rc = score(m, tok, text, held, 0, &a, &b);
    if (rc)
        return rc;
    printf("%-10s fp32-act  eval ppl %9.4f  samples ppl %9.4f\n", name, a, b);
    if (sp->bits == 8) {
        if ((rc = score(m, tok, text, held, 1, &a, &b)))
            return rc;
        printf("%-10s w8a8      eval ppl %9.4f  samples ppl %9.4f\n", name, a, b);
    }
    fflush(stdout);
    return 0;
}

/* llama2.c's legacy layout: 7 int32 header, the weights in file order, the
 * RoPE tables (unused by every reader; written as zeros), the classifier when
 * it is not shared. */
static int write_checkpoint(const char *path, const sq_llama_t *m)
{
    const sq_llama_config_t *c = &m->cfg;
    FILE *f = fopen(path, "wb");
    if (!f)
        return sq_err(SQ_ERR_IO, "cannot create '%s'", path);
    int32_t hdr[7] = {c->dim, c->hidden_dim, c->n_layers, c->n_heads, c->n_kv_heads,
                      c->shared_classifier ? c->vocab_size : -c->vocab_size, c->seq_len};
    int ok = fwrite(hdr, sizeof hdr, 1, f) == 1;
    float *p[12];
    size_t n[12];
    int cnt = sq_train_params(m, p, n);
    size_t rope = (size_t)c->seq_len * (size_t)(c->dim / c->n_heads);
    float zero = 0.0f;
    for (int i = 0; i < cnt && ok; i++) {
        if (p[i] == m->w.wcls && !c->shared_classifier)
            for (size_t j = 0; j < rope && ok; j++)
                ok = fwrite(&zero, sizeof zero, 1, f) == 1;
        ok = ok && fwrite(p[i], sizeof(float), n[i], f) == n[i];
    }
    for (size_t j = 0; c->shared_classifier && j < rope && ok; j++)
        ok = fwrite(&zero, sizeof zero, 1, f) == 1;
    if (fclose(f) != 0 || !ok)
        return sq_err(SQ_ERR_IO, "cannot write '%s'", path);
    return 0;
}

/* Teacher samples one story at a time so a person sees progress. */
static int sample(sq_distill_data_t *d, const sq_llama_t *teacher, long n, int len, uint64_t seed,
                  const char *what)
{
    for (long i = 0; i < n; i++) {
        int rc = sq_distill_data_add_samples(d, teacher, 1, len, 1.0f, 1.0f, seed + (uint64_t)i);
        if (rc)
            return rc;
        sq_cli_progress(what, (size_t)i + 1, (size_t)n);
    }
    sq_cli_progress_end();
    return 0;
}

static int build_constraints(sq_constraints_t *cons, const sq_llama_t *m, const spec_t *sp)
{
    int rc = sq_constraints_build(cons, &m->cfg);
    for (int l = 0; l < m->cfg.n_layers && !rc; l++) {
        for (int kd = 0; kd < SQ_W_COUNT && !rc; kd++) {
            if (kd == SQ_W_CLS && l > 0)
                continue;
            size_t n, k;
            sq_llama_wshape(&m->cfg, (sq_wkind_t)kd, &n, &k);
            sq_wconstraint_t *wc = sq_constraints_at(cons, l, (sq_wkind_t)kd);
            if (sp->prune24 && !(kd == SQ_W_CLS && sp->dense_cls))
                rc = sq_wconstraint_mask_sp24(wc, sq_llama_wptr(m, l, (sq_wkind_t)kd), n, k);
            if (!rc)
                rc = sq_wconstraint_grid(wc, sp->bits, sp->group);
        }
    }
    return rc;
}

int sq_cmd_distill(int argc, char **argv)
{
    const char *model = SQ_DEFAULT_MODEL, *tok = SQ_DEFAULT_TOKENIZER, *text_path = SQ_DEFAULT_EVAL;
    const char *calib_path = SQ_DEFAULT_CALIB;
    const char *out = NULL;
    spec_t sp = {.prune24 = 1, .bits = 8, .act8 = 1};
    long steps = 300, batch = 8, len = 256, samples = 256, heldout = 32, seed = 1;
    double lr = 2e-3, temp = 1.0, ce = 0.0;
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},   {"tokenizer", required_argument, NULL, 'z'},
        {"text", required_argument, NULL, 'x'},    {"calib", required_argument, NULL, 'k'},
        {"prune", required_argument, NULL, 'p'},
        {"quant", required_argument, NULL, 'q'},   {"dense-cls", no_argument, NULL, 'C'},
        {"score-only", no_argument, NULL, 'O'},
        {"steps", required_argument, NULL, 'n'},   {"batch", required_argument, NULL, 'b'},
        {"len", required_argument, NULL, 'l'},     {"samples", required_argument, NULL, 'S'},
        {"heldout", required_argument, NULL, 'H'}, {"lr", required_argument, NULL, 'r'},
        {"temperature", required_argument, NULL, 't'}, {"ce", required_argument, NULL, 'c'},
        {"seed", required_argument, NULL, 's'},    {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    const char *cmd = "distill";
    int c, score_only = 0;
    optind = 1;
    while ((c = sq_cli_getopt(cmd, argc, argv, opts)) != -1) {
        int bad = 0;
        switch (c) {
        case 'm': model = optarg; break;
        case 'z': tok = optarg; break;
        case 'x': text_path = optarg; break;
        case 'k': calib_path = optarg; break;
        case 'o': out = optarg; break;
        case 'C': sp.dense_cls = 1; break;
        case 'O': score_only = 1; break;
        case 'p':
            if (!strcmp(optarg, "2:4") || !strcmp(optarg, "none")) {
                sp.prune24 = !strcmp(optarg, "2:4");
            } else {
                sq_cli_error(cmd, "--prune must be none or 2:4, not '%s'", optarg);
                bad = 1;
            }
            break;
        case 'q':
            sp.bits = 0;
            sp.act8 = 0;
            if (parse_quant(optarg, &sp)) {
                sq_cli_error(cmd, "--quant must be none, w8, w8a8 or w4gG, not '%s'", optarg);
                bad = 1;
            }
            break;
        case 'n': bad = sq_cli_long(cmd, "--steps", optarg, 0, 1000000, &steps); break;
        case 'b': bad = sq_cli_long(cmd, "--batch", optarg, 1, 4096, &batch); break;
        case 'l': bad = sq_cli_long(cmd, "--len", optarg, 2, 1 << 20, &len); break;
        case 'S': bad = sq_cli_long(cmd, "--samples", optarg, 0, 1000000, &samples); break;
        case 'H': bad = sq_cli_long(cmd, "--heldout", optarg, 0, 1000000, &heldout); break;
        case 'r': bad = sq_cli_double(cmd, "--lr", optarg, 0, 1, &lr); break;
        case 't': bad = sq_cli_double(cmd, "--temperature", optarg, 1e-3, 100, &temp); break;
        case 'c': bad = sq_cli_double(cmd, "--ce", optarg, 0, 100, &ce); break;
        case 's': bad = sq_cli_long(cmd, "--seed", optarg, 1, 0x7fffffffL, &seed); break;
        case 'h': help(); return 0;
        default: return SQ_EXIT_USAGE;
        }
        if (bad)
            return SQ_EXIT_USAGE;
    }
    if (optind < argc) {
        sq_cli_error(cmd, "unexpected argument '%s'", argv[optind]);
        return SQ_EXIT_USAGE;
    }
    if (sq_cli_refuse_dummy(cmd, model, "distillation (teacher and held-out perplexity)"))
        return SQ_EXIT_USAGE;
    char *text = sq_cli_read_stories(text_path), *calib = NULL;
    if (text && !score_only)
        calib = sq_cli_read_stories(calib_path);
    if (!text || (!score_only && !calib)) {
        sq_cli_error(cmd, "%s", sq_err_msg());
        free(text);
        return SQ_EXIT_USAGE;
    }
    sq_cli_warn_overlap(cmd, calib, text);
    sq_cli_model_t cm;
    int rc = sq_cli_model_open(cmd, model, tok, "fp32", NULL, &cm);
    if (rc) {
        free(text);
        free(calib);
        return rc;
    }
    const sq_llama_t *teacher = &cm.model;
    /* the student, its gradients and Adam's two moments: 4 copies of the weights */
    if (sq_cli_mem_need(cmd, "distillation (student, gradients, Adam moments)",
                        4 * (uint64_t)sq_llama_bytes(teacher))) {
        sq_cli_model_close(&cm);
        free(text);
        return SQ_EXIT_USAGE;
    }
    if (len > teacher->cfg.seq_len + 1)
        len = teacher->cfg.seq_len + 1;
    sq_llama_t student = {0};
    sq_constraints_t cons = {0};
    sq_distill_data_t train, held;
    sq_distill_data_init(&train);
    sq_distill_data_init(&held);
    sq_distill_hook_t hook;
    sq_distill_opts_t o;
    sq_distill_stats_t st = {0};
    sq_distill_opts_default(&o);
    o.steps = (int)steps;
    o.batch = (int)batch;
    o.lr = (float)lr;
    o.temperature = (float)temp;
    o.ce_weight = (float)ce;
    o.act8 = sp.act8;
    o.seed = (uint64_t)seed;
    o.progress = progress;
    /* held-out seeds start far from the training ones so no story repeats */
    if ((rc = sample(&train, teacher, samples, (int)len, (uint64_t)seed * 1000003u,
                     "distill: sampling training story")) ||
        (rc = sample(&held, teacher, heldout, (int)len, (uint64_t)seed * 1000003u + 500000u,
                     "distill: sampling held-out story")) ||
        (!score_only && (rc = sq_distill_data_add_text(&train, &cm.tok, calib, (int)len))))
        goto done;
    size_t ntrain = train.n ? train.off[train.n] : 0, nheld = held.n ? held.off[held.n] : 0;
    printf("train: %ld teacher stories + %zu stories of %s, %zu tokens; held-out: %zu teacher "
           "stories (samples), %zu tokens, and %s (eval)\n",
           samples, train.n - (size_t)samples, score_only ? "(none)" : calib_path, ntrain, held.n, nheld, text_path);
    if ((rc = report("teacher", teacher, &cm.tok, text, &held, &(spec_t){0})) ||
        (rc = sq_train_clone(&student, teacher)) ||
        (rc = build_constraints(&cons, teacher, &sp)) ||
        (rc = sq_constraints_apply(&cons, &student)) ||
        (rc = report("one-shot", &student, &cm.tok, text, &held, &sp)))
        goto done;
    if (steps > 0) {
        sq_constraints_hook(&cons, &hook);
        rc = sq_distill_run(teacher, &student, &train, &hook, &o, &st);
        sq_cli_progress_end();
        if (rc)
            goto done;
        printf("distilled %ld steps x %ld sequences: loss %.4f -> %.4f; %.1f s wall, %.3f s/step "
               "wall, %.3f s/step CPU, %.0f tokens/s CPU\n",
               steps, batch, st.first_loss, st.last_loss, st.seconds, st.seconds / (double)steps,
               st.cpu_seconds / (double)steps, (double)st.tokens / st.cpu_seconds);
        if ((rc = report("distilled", &student, &cm.tok, text, &held, &sp)))
            goto done;
    }
    if (out)
        rc = write_checkpoint(out, &student);
done:
    if (rc) {
        sq_cli_progress_end();
        sq_cli_error(cmd, "%s", sq_err_msg());
        rc = sq_cli_exit_code(rc);
    }
    sq_distill_data_free(&train);
    sq_distill_data_free(&held);
    sq_constraints_free(&cons);
    sq_llama_free(&student);
    sq_cli_model_close(&cm);
    free(text);
    free(calib);
    return rc;
}
