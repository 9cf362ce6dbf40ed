/* sparq compress: apply a recipe to a model, write it as .sqm, report size,
 * time and perplexity against fp32. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/cli_model.h"
#include "compress/bert_compress.h"
#include "model/bert.h"
#include "train/bert_train.h"
#include "model/pypkg.h"
#include "model/eval.h"
#include "util/err.h"

static void help(void)
{
    puts("usage: sparq compress --recipe R [flags]\n"
         "  --model FILE        llama2.c checkpoint, .sqm, GGUF, or a BERT encoder (minilm or a\n"
         "                      Hugging Face directory) (default " SQ_DEFAULT_MODEL ")\n"
         "  --tokenizer FILE    tokenizer.bin (default " SQ_DEFAULT_TOKENIZER ")\n"
         "  --recipe R          passes, e.g. w8a8, w4g32:gptq, 2:4,w8a8, lowrank:r=32, share:k=16\n"
         "                      (docs/compression.md lists them all)\n"
         "  --calib FILE        calibration text, also trained on by --distill (default " SQ_DEFAULT_CALIB ";\n"
         "                      FILE#calib and FILE#eval are the halves of FILE, docs/compression.md)\n"
         "  --distill steps=N   fine-tune against the fp32 model after the passes (same as\n"
         "                      adding distill:steps=N to the recipe)\n"
         "  --out FILE.sqm      write the compressed model\n"
         "  --report            print bytes against fp32, compression time and perplexity (BERT:\n"
         "                      the cosine similarity of sentence embeddings to fp32)\n"
         "  --text FILE         perplexity text for --report (default " SQ_DEFAULT_EVAL ")\n"
         SQ_CLI_MAX_MEM_HELP
         "  --help");
}

static void progress(size_t done, size_t total)
{
    sq_cli_progress("compress: eval story", done, total);
}

static int perplexity(const sq_cli_model_t *cm, const sq_llama_exec_t *ex, const char *text,
                      double *ppl, size_t *tokens)
{
    sq_eval_result_t r;
    sq_story_enc_t enc;
    sq_cli_model_story_enc(cm, &enc);
    int rc = sq_eval_stories(&cm->model, &enc, text, ex, progress, &r);
    sq_cli_progress_end();
    if (rc)
        return rc;
    *ppl = exp(r.nll / (double)r.tokens);
    *tokens = r.tokens;
    return 0;
}

/* base: the input model as given (fp32 for a checkpoint). */
static int report(const sq_cli_model_t *base, const sq_cli_model_t *cm, const char *text_path,
                  const char *out)
{
    char *text = sq_cli_read_stories(text_path);
    if (!text) {
        sq_cli_error("compress", "%s", sq_err_msg());
        return SQ_EXIT_USAGE;
    }
    sq_cli_warn_overlap("compress", cm->calib_text, text);
    double ppl = 0, ppl32 = 0;
    size_t tokens = 0, tokens32 = 0;
    int rc = perplexity(base, &base->ex, text, &ppl32, &tokens32);
    if (!rc)
        rc = perplexity(cm, &cm->ex, text, &ppl, &tokens);
    free(text);
    if (rc) {
        sq_cli_error("compress", "%s", sq_err_msg());
        return sq_cli_exit_code(rc);
    }
    char canon[256];
    sq_recipe_format(&cm->q.recipe, canon, sizeof canon);
    size_t b32 = sq_qmodel_bytes(&base->q), b = sq_qmodel_bytes(&cm->q);
    printf("recipe     %s\n", canon);
    printf("bytes      %zu (fp32 %zu, %.2fx smaller)\n", b, b32, (double)b32 / (double)b);
    if (out) {
        FILE *f = fopen(out, "rb");
        long len = f && !fseek(f, 0, SEEK_END) ? ftell(f) : -1;
        if (f)
            fclose(f);
        printf("file       %s, %ld bytes\n", out, len);
    }
    if (cm->calib_tokens)
        printf("compress   %.3f s (calibration: %zu tokens)\n", cm->compress_s, cm->calib_tokens);
    else
        printf("compress   %.3f s\n", cm->compress_s);
    if (cm->q.recipe.distill_steps)
        printf("distill    %d steps on %zu tokens: loss %.4f -> %.4f, %.1f s\n",
               cm->q.recipe.distill_steps, cm->distill.train_tokens, cm->distill.first_loss,
               cm->distill.last_loss, cm->distill.seconds);
    printf("ppl        %.6f (fp32 %.6f, %+.2f%%) over %zu tokens of %s\n", ppl, ppl32,
           100.0 * (ppl / ppl32 - 1.0), tokens, text_path);
    return 0;
}

/* ---------------------------------------------------------------------------
 * BERT encoders (all-MiniLM-L6-v2), scored by the cosine similarity of
 * sentence embeddings against the fp32 encoder. */

#define MIN_SENTENCES 32

static int is_bert(const char *path)
{
    struct stat st;
    size_t len = strlen(path);
    return (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) ||
           (len > 12 && !strcmp(path + len - 12, ".safetensors"));
}

/* The sentences of a data name (text and *s freed by the caller); FILE#calib
 * and FILE#eval keep the even and the odd sentences of FILE. */
static int read_sentences(const char *name, char **text, char ***s, size_t *n)
{
    *s = NULL;
    *n = 0;
    sq_part_t part;
    if (!(*text = sq_cli_read_text(sq_cli_data_part(name, &part))))
        return SQ_ERR_IO;
    int rc = sq_bert_sentences(*text, s, n);
    size_t kept = 0;
    for (size_t i = 0; !rc && i < *n; i++)
        if (sq_part_keeps(part, i))
            (*s)[kept++] = (*s)[i];
    if (!rc)
        *n = kept;
    return rc;
}

/* Calibration sentences that are also scored: one warning line. */
static void warn_sentences(char **cal, size_t ncal, char **ev, size_t nev)
{
    size_t shared = 0;
    for (size_t i = 0; i < nev; i++)
        for (size_t j = 0; j < ncal; j++)
            if (!strcmp(ev[i], cal[j])) {
                shared++;
                break;
            }
    if (shared)
        fprintf(stderr,
                "sparq compress: warning: %zu scored sentence%s also calibrated on: the cosine "
                "is not held out\n",
                shared, shared == 1 ? " was" : "s were");
}

static void distill_progress(void *ctx, int step, int steps, double loss)
{
    (void)ctx;
    char label[64];
    snprintf(label, sizeof label, "distill: loss %.5f, step", loss);
    sq_cli_progress(label, (size_t)step, (size_t)steps);
}

static int compress_bert(const char *path, const char *recipe, const char *calib_path,
                         const char *text_path, int want_report, const char *out)
{
    if (out) {
        sq_cli_error("compress", "--out: .sqm output holds Llama models; BERT is report-only");
        return SQ_EXIT_USAGE;
    }
    sq_recipe_t r;
    sq_bert_t m = {0};
    sq_bert_qmodel_t q = {0};
    sq_calib_t cal;
    int have_cal = 0;
    char *text = NULL, **sent = NULL, *ctext = NULL, **csent = NULL;
    size_t count = 0, ccount = 0, calib_tokens = 0;
    double mean = 0, min = 0;
    struct timespec t0, t1;
    int rc = sq_recipe_parse(recipe, &r);
    if (!rc)
        rc = sq_bert_recipe_check(&r);
    if (!rc)
        rc = sq_bert_load(path, &m);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!rc && sq_recipe_needs_calib(&r)) {
        rc = read_sentences(calib_path ? calib_path : SQ_DEFAULT_CALIB, &ctext, &csent, &ccount);
        if (!rc)
            rc = sq_bert_calib_collect(&cal, &m, csent, ccount);
        have_cal = !rc;
        calib_tokens = have_cal ? cal.tokens : 0;
    }
    if (!rc)
        rc = sq_bert_qmodel_build(&q, &m, &r, have_cal ? &cal : NULL);
    sq_bert_t student = {0};
    sq_finetune_stats_t ds = {0};
    /* the sentences scored, read before training so the one-shot encoder
     * can be scored too (its time is not compression time) */
    double mean1 = 0, min1 = 0;
    if (!rc && want_report)
        rc = read_sentences(text_path, &text, &sent, &count);
    if (!rc && want_report && count < MIN_SENTENCES)
        rc = sq_err(SQ_ERR_ARG, "%s has %zu sentences; the report needs at least %d", text_path,
                    count, MIN_SENTENCES);
    if (!rc && want_report && r.distill_steps) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        sq_bert_exec_t ex;
        sq_bert_qmodel_exec(&q, &ex);
        rc = sq_bert_cosines(&m, &m, &ex, sent, count, &mean1, &min1);
        clock_gettime(CLOCK_MONOTONIC, &b);
        t0.tv_sec += b.tv_sec - a.tv_sec;
        t0.tv_nsec += b.tv_nsec - a.tv_nsec;
    }
    if (!rc && r.distill_steps) {
        sq_finetune_opts_t fo;
        sq_finetune_opts_default(&fo, &r);
        fo.progress = distill_progress;
        int32_t **seq;
        size_t *len;
        rc = sq_bert_encode_sentences(&m, csent, ccount, &seq, &len);
        if (!rc)
            rc = sq_bert_finetune(&m, &q, &r, &cal, seq, len, ccount, &fo, &student, &ds);
        sq_bert_free_sentences(seq, len, ccount);
        sq_cli_progress_end();
    }
    if (have_cal)
        sq_calib_free(&cal);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!rc && want_report)
        warn_sentences(csent, ccount, sent, count);
    if (!rc && want_report) {
        sq_bert_exec_t ex;
        sq_bert_qmodel_exec(&q, &ex);
        rc = sq_bert_cosines(&m, r.distill_steps ? &student : &m, &ex, sent, count, &mean, &min);
    }
    if (!rc && want_report) {
        char canon[256];
        sq_recipe_format(&r, canon, sizeof canon);
        size_t b = sq_bert_qmodel_bytes(&q), b32 = sq_bert_bytes(&m);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        printf("recipe     %s\n", canon);
        printf("bytes      %zu (fp32 %zu, %.2fx smaller)\n", b, b32, (double)b32 / (double)b);
        if (calib_tokens)
            printf("compress   %.3f s (calibration: %zu tokens)\n", secs, calib_tokens);
        else
            printf("compress   %.3f s\n", secs);
        if (r.distill_steps) {
            printf("one-shot   cosine mean %.6f, min %.6f (before distillation)\n", mean1, min1);
            printf("distill    %d steps on %zu tokens of %zu sentences: loss %.6f -> %.6f, %.1f s\n",
                   r.distill_steps, ds.train_tokens, ccount, ds.first_loss, ds.last_loss,
                   ds.seconds);
        }
        printf("cosine     mean %.6f, min %.6f over %zu sentences of %s\n", mean, min, count,
               text_path);
    }
    free(text);
    free(sent);
    free(ctext);
    free(csent);
    sq_bert_qmodel_free(&q);
    if (student.storage)
        sq_bert_train_free_copy(&student);
    sq_bert_free(&m);
    if (rc) {
        sq_cli_error("compress", "%s", sq_err_msg());
        return sq_cli_exit_code(rc);
    }
    return 0;
}

int sq_cmd_compress(int argc, char **argv)
{
    const char *model = SQ_DEFAULT_MODEL, *tok = SQ_DEFAULT_TOKENIZER, *recipe = NULL;
    const char *calib = NULL, *out = NULL, *text = SQ_DEFAULT_EVAL, *distill = NULL;
    int want_report = 0;
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'}, {"tokenizer", required_argument, NULL, 'z'},
        {"recipe", required_argument, NULL, 'r'}, {"calib", required_argument, NULL, 'c'},
        {"out", required_argument, NULL, 'o'},   {"report", no_argument, NULL, 'p'},
        {"text", required_argument, NULL, 'x'},  {"distill", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = sq_cli_getopt("compress", argc, argv, opts)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'z': tok = optarg; break;
        case 'r': recipe = optarg; break;
        case 'c': calib = optarg; break;
        case 'o': out = optarg; break;
        case 'p': want_report = 1; break;
        case 'x': text = optarg; break;
        case 'd': distill = optarg; break;
        case 'h': help(); return 0;
        default: return SQ_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        sq_cli_error("compress", "unexpected argument '%s'", argv[optind]);
        return SQ_EXIT_USAGE;
    }
    if (!recipe) {
        sq_cli_error("compress", "--recipe R is required");
        return SQ_EXIT_USAGE;
    }
    if (!out && !want_report) {
        sq_cli_error("compress", "nothing to do: give --out FILE.sqm and/or --report");
        return SQ_EXIT_USAGE;
    }
    char full[512];
    if (distill) {
        if (strncmp(distill, "steps=", 6)) {
            sq_cli_error("compress", "--distill takes steps=N, not '%s'", distill);
            return SQ_EXIT_USAGE;
        }
        snprintf(full, sizeof full, "%s,distill:%s", recipe, distill);
        recipe = full;
    }
    char path[4200];
    if (sq_pypkg_model(model, path, sizeof path)) {
        sq_cli_error("compress", "%s", sq_err_msg());
        return SQ_EXIT_USAGE;
    }
    if (is_bert(path))
        return sq_cli_bert_plan("compress", path, recipe)
                   ? SQ_EXIT_USAGE
                   : compress_bert(path, recipe, calib, text, want_report, out);
    if (want_report && sq_cli_refuse_dummy("compress", model, "--report (perplexity)"))
        return SQ_EXIT_USAGE;
    sq_cli_model_t cm;
    int rc = sq_cli_model_open("compress", model, tok, recipe, calib, &cm);
    if (rc)
        return rc;
    if (out && (rc = sq_qmodel_write_sqm(&cm.q, out))) {
        sq_cli_error("compress", "%s", sq_err_msg());
        rc = sq_cli_exit_code(rc);
    }
    if (!rc && want_report) {
        sq_cli_model_t base;
        rc = sq_cli_model_open("compress", model, tok, "fp32", NULL, &base);
        if (!rc) {
            rc = report(&base, &cm, text, out);
            sq_cli_model_close(&base);
        }
    }
    sq_cli_model_close(&cm);
    return rc;
}
