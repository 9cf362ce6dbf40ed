/* sparq compress: apply a recipe to a model, write it as .sqm, report size,
 * time and perplexity against fp32. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_model.h"
#include "model/eval.h"
#include "util/err.h"

static void help(void)
{
    puts("usage: sparq compress --recipe R [flags]\n"
         "  --model FILE        llama2.c checkpoint (default " SQ_DEFAULT_MODEL ")\n"
         "  --tokenizer FILE    tokenizer.bin (default " SQ_DEFAULT_TOKENIZER ")\n"
         "  --recipe R          passes, e.g. w8a8, w4g32:gptq, 2:4,w8a8, lowrank:r=32, share:k=16\n"
         "                      (docs/compression.md lists them all)\n"
         "  --calib FILE        calibration text (default " SQ_DEFAULT_CALIB ")\n"
         "  --out FILE.sqm      write the compressed model\n"
         "  --report            print bytes against fp32, compression time and perplexity\n"
         "  --text FILE         perplexity text for --report (default " SQ_DEFAULT_CALIB ")\n"
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
    int rc = sq_eval_text(&cm->model, &cm->tok, text, ex, progress, &r);
    sq_cli_progress_end();
    if (rc)
        return rc;
    *ppl = exp(r.nll / (double)r.tokens);
    *tokens = r.tokens;
    return 0;
}

static int report(const sq_cli_model_t *cm, const char *text_path)
{
    char *text = sq_cli_read_text(sq_cli_find_data(text_path));
    if (!text) {
        sq_cli_error("compress", "%s", sq_err_msg());
        return SQ_EXIT_USAGE;
    }
    double ppl = 0, ppl32 = 0;
    size_t tokens = 0, tokens32 = 0;
    int rc = perplexity(cm, NULL, text, &ppl32, &tokens32);
    if (!rc)
        rc = perplexity(cm, &cm->ex, text, &ppl, &tokens);
    free(text);
    if (rc) {
        sq_cli_error("compress", "%s", sq_err_msg());
        return sq_cli_exit_code(rc);
    }
    char canon[256];
    sq_recipe_format(&cm->q.recipe, canon, sizeof canon);
    size_t b32 = sq_llama_bytes(&cm->model), b = sq_qmodel_bytes(&cm->q);
    printf("recipe     %s\n", canon);
    printf("bytes      %zu (fp32 %zu, %.2fx smaller)\n", b, b32, (double)b32 / (double)b);
    if (cm->calib_tokens)
        printf("compress   %.3f s (calibration: %zu tokens)\n", cm->compress_s, cm->calib_tokens);
    else
        printf("compress   %.3f s\n", cm->compress_s);
    printf("ppl        %.6f (fp32 %.6f, %+.2f%%) over %zu tokens of %s\n", ppl, ppl32,
           100.0 * (ppl / ppl32 - 1.0), tokens, text_path);
    return 0;
}

int sq_cmd_compress(int argc, char **argv)
{
    const char *model = SQ_DEFAULT_MODEL, *tok = SQ_DEFAULT_TOKENIZER, *recipe = NULL;
    const char *calib = NULL, *out = NULL, *text = SQ_DEFAULT_CALIB;
    int want_report = 0;
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'}, {"tokenizer", required_argument, NULL, 'z'},
        {"recipe", required_argument, NULL, 'r'}, {"calib", required_argument, NULL, 'c'},
        {"out", required_argument, NULL, 'o'},   {"report", no_argument, NULL, 'p'},
        {"text", required_argument, NULL, 'x'},  {"help", no_argument, NULL, 'h'},
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
    sq_cli_model_t cm;
    int rc = sq_cli_model_open("compress", model, tok, recipe, calib, &cm);
    if (rc)
        return rc;
    if (out) {
        sq_cli_error("compress", "--out: .sqm output is not in this build yet");
        rc = SQ_EXIT_USAGE;
    }
    if (!rc && want_report && cm.bpe) {
        /* the report's perplexity scores with llama2.c's tokenizer */
        sq_cli_error("compress", "--report is not available for GGUF models yet");
        rc = SQ_EXIT_USAGE;
    }
    if (!rc && want_report)
        rc = report(&cm, text);
    sq_cli_model_close(&cm);
    return rc;
}
