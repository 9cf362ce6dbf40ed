/* sparq eval: perplexity on a text file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_accel.h"
#include "cli/cli_model.h"
#include "model/eval.h"
#include "util/err.h"

static void help(void)
{
    puts("usage: sparq eval --text FILE [flags]\n"
         "  --model FILE        llama2.c checkpoint, .sqm, or GGUF (smollm2: SmolLM2-135M; its\n"
         "                      stories are scored after <|endoftext|>) (default " SQ_DEFAULT_MODEL ")\n"
         "  --tokenizer FILE    tokenizer.bin (default " SQ_DEFAULT_TOKENIZER ")\n"
         "  --recipe R          compression recipe (default fp32; docs/compression.md)\n"
         SQ_CLI_ACCEL_HELP
         "  --calib FILE        calibration text for recipes that need it (default " SQ_DEFAULT_CALIB ")\n"
         "  --text FILE         stories separated by <|endoftext|> (default " SQ_DEFAULT_EVAL ";\n"
         "                      FILE#calib and FILE#eval are the halves of FILE)\n"
         "  --help\n"
         "prints: ppl <perplexity> tokens <scored tokens>; with --attn also\n"
         "  attn density <selected/causal pairs> err_max <|O - O_fp32|> err_mean <..>");
}

static void progress(size_t done, size_t total)
{
    sq_cli_progress("eval: story", done, total);
}

int sq_cmd_eval(int argc, char **argv)
{
    const char *model = SQ_DEFAULT_MODEL, *tok = SQ_DEFAULT_TOKENIZER, *recipe = "fp32";
    const char *text_path = SQ_DEFAULT_EVAL, *calib = NULL;
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'}, {"tokenizer", required_argument, NULL, 'z'},
        {"recipe", required_argument, NULL, 'r'}, {"text", required_argument, NULL, 'x'},
        {"calib", required_argument, NULL, 'c'},
        SQ_CLI_ACCEL_OPTS,
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
    sq_cli_accel_t acc;
    sq_cli_accel_init(&acc);
    int c;
    optind = 1;
    while ((c = sq_cli_getopt("eval", argc, argv, opts)) != -1) {
        int f = sq_cli_accel_flag("eval", &acc, c, optarg);
        if (f < 0)
            return SQ_EXIT_USAGE;
        if (f > 0)
            continue;
        switch (c) {
        case 'm': model = optarg; break;
        case 'z': tok = optarg; break;
        case 'r': recipe = optarg; break;
        case 'x': text_path = optarg; break;
        case 'c': calib = optarg; break;
        case 'h': help(); return 0;
        default: return SQ_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        sq_cli_error("eval", "unexpected argument '%s'", argv[optind]);
        return SQ_EXIT_USAGE;
    }
    if (sq_cli_refuse_dummy("eval", model, "perplexity"))
        return SQ_EXIT_USAGE;
    if (acc.timing_only) {
        sq_cli_error("eval", "--timing-only computes no logits to score (generate and sweep "
                     "take it)");
        return SQ_EXIT_USAGE;
    }
    char *text = sq_cli_read_stories(text_path);
    if (!text) {
        sq_cli_error("eval", "%s", sq_err_msg());
        return SQ_EXIT_USAGE;
    }
    sq_cli_model_t cm;
    acc.calib = calib;
    int rc = sq_cli_model_open("eval", model, tok, recipe, calib, &cm);
    if (!rc && (rc = sq_cli_accel_open("eval", &acc, &cm, model, recipe)))
        sq_cli_model_close(&cm);
    if (rc) {
        sq_cli_accel_close("eval", &acc);
        free(text);
        return rc;
    }
    sq_cli_warn_overlap("eval", cm.calib_text, text);
    sq_story_enc_t enc;
    sq_cli_model_story_enc(&cm, &enc);
    sq_eval_result_t r;
    /* every scored position is one step of its own (teacher forcing) */
    sq_cli_accel_phase_begin(&acc, SQ_PHASE_DECODE);
    rc = sq_eval_stories(&cm.model, &enc, text, &cm.ex, progress, &r);
    sq_cli_accel_phase_end(&acc, rc ? 0 : (uint64_t)r.tokens, rc ? 0 : (uint64_t)r.tokens);
    sq_cli_progress_end();
    if (rc) {
        sq_cli_error("eval", "%s", sq_err_msg());
        rc = sq_cli_exit_code(rc);
    } else {
        printf("ppl %.6f tokens %zu\n", exp(r.nll / (double)r.tokens), r.tokens);
        sq_cli_accel_print_attn(&acc, stdout);
    }
    int arc = sq_cli_accel_close("eval", &acc);
    free(text);
    sq_cli_model_close(&cm);
    return rc ? rc : arc;
}
