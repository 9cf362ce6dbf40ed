#include "cli/cli_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "compress/calib.h"
#include "compress/finetune.h"
#include "model/gguf_llama.h"
#include "model/pypkg.h"
#include "sqm/sqm.h"
#include "sqm/sqm_llama.h"
#include "util/bytes.h"
#include "util/err.h"

int sq_cli_exit_code(int err)
{
    return err == SQ_ERR_ARG || err == SQ_ERR_IO ? SQ_EXIT_USAGE : SQ_EXIT_FAIL;
}

const char *sq_cli_find_data(const char *name)
{
    static char path[4096];
    if (strchr(name, '/') || access(name, F_OK) == 0)
        return name;
    const char *dirs[] = {"data", "../shared/data"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dirs[i], name);
        if (access(path, F_OK) == 0)
            return path;
    }
    return name;
}

const char *sq_cli_data_part(const char *name, sq_part_t *part)
{
    static char base[4096];
    static const struct {
        const char *suffix;
        sq_part_t part;
    } parts[] = {{"#calib", SQ_PART_CALIB}, {"#eval", SQ_PART_EVAL}};
    *part = SQ_PART_ALL;
    size_t len = strlen(name);
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        size_t sl = strlen(parts[i].suffix);
        if (len > sl && len - sl < sizeof base && !strcmp(name + len - sl, parts[i].suffix) &&
            access(sq_cli_find_data(name), F_OK) != 0) {
            memcpy(base, name, len - sl);
            base[len - sl] = 0;
            *part = parts[i].part;
            return sq_cli_find_data(base);
        }
    }
    return sq_cli_find_data(name);
}

char *sq_cli_read_stories(const char *name)
{
    sq_part_t part;
    char *text = sq_cli_read_text(sq_cli_data_part(name, &part));
    if (!text || part == SQ_PART_ALL)
        return text;
    char *sel = sq_stories_part(text, part);
    free(text);
    if (!sel)
        sq_err(SQ_ERR_MEM, "out of memory splitting '%s'", name);
    return sel;
}

void sq_cli_warn_overlap(const char *cmd, const char *calib_text, const char *eval_text)
{
    long shared = calib_text && eval_text ? sq_stories_shared(calib_text, eval_text) : 0;
    if (shared > 0)
        fprintf(stderr,
                "sparq %s: warning: %ld scored stor%s also calibrated or trained on: the "
                "perplexity is not held out\n",
                cmd, shared, shared == 1 ? "y was" : "ies were");
}

char *sq_cli_read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        sq_err(SQ_ERR_IO, "cannot open text '%s'", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (!text || fread(text, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        free(text);
        sq_err(SQ_ERR_IO, "cannot read text '%s'", path);
        return NULL;
    }
    fclose(f);
    text[len] = 0;
    if (strlen(text) != (size_t)len) {
        free(text);
        sq_err(SQ_ERR_ARG, "text '%s' contains a NUL byte", path);
        return NULL;
    }
    return text;
}

static void distill_progress(void *ctx, int step, int steps, double loss)
{
    (void)ctx;
    char label[64];
    snprintf(label, sizeof label, "distill: loss %.4f, step", loss);
    sq_cli_progress(label, (size_t)step, (size_t)steps);
}

static void calib_progress(size_t done, size_t total)
{
    sq_cli_progress("calibrate: story", done, total);
}

/* GGUF models score stories after <|endoftext|> (SmolLM2's document
 * separator in pretraining), or BOS when the vocabulary has none. */
static int encode_bpe(const void *ctx, const char *story, int *tokens, size_t cap, int *n)
{
    int32_t *ids = malloc(cap * sizeof *ids);
    size_t got = 0;
    if (!ids)
        return sq_err(SQ_ERR_MEM, "out of memory");
    int rc = sq_bpe_encode(ctx, story, 0, ids, cap, &got);
    for (size_t i = 0; !rc && i < got; i++)
        tokens[i] = ids[i];
    *n = rc ? 0 : (int)got;
    free(ids);
    return rc;
}

void sq_cli_model_story_enc(const sq_cli_model_t *m, sq_story_enc_t *e)
{
    if (!m->bpe) {
        sq_story_enc_llama2(e, &m->tok);
        return;
    }
    int32_t start = sq_bpe_id(m->bpe, "<|endoftext|>");
    *e = (sq_story_enc_t){.encode = encode_bpe, .ctx = m->bpe,
                          .start = start >= 0 ? start : sq_bpe_bos(m->bpe)};
}

/* Weights (fp32 bytes) and KV cache of a llama config the loader would
 * accept; 0 for one it will refuse (it says why, better than a plan could). */
static void llama_bytes(const sq_llama_config_t *c, uint64_t *weights, uint64_t *kv)
{
    *weights = *kv = 0;
    if (sq_llama_config_check(c) != 0)
        return;
    uint64_t d = (uint64_t)c->dim, h = (uint64_t)c->hidden_dim, l = (uint64_t)c->n_layers;
    uint64_t v = (uint64_t)c->vocab_size, s = (uint64_t)c->seq_len;
    uint64_t kvd = d / (uint64_t)c->n_heads * (uint64_t)c->n_kv_heads;
    uint64_t floats = v * d * (c->shared_classifier ? 1 : 2) + l * (2 * d + 2 * d * d +
                      2 * kvd * d + 3 * h * d) + d + s * (d / (uint64_t)c->n_heads);
    *weights = 4 * floats;
    *kv = 2 * 4 * l * s * kvd;
}

/* The memory a model command needs, planned before anything is loaded
 * (cli.h, --max-mem): the file's image; the fp32 weights W (llama2.c: the
 * file; .sqm: from its config; GGUF: 8x the file, a bound for 4-bit blocks
 * dequantized to fp32, the KV cache included) and the KV cache; a compressed
 * copy (at most W); with calibration, its Hessians (8 bytes per pair of
 * inputs of each linear input); with distillation, gradients, Adam moments
 * and the teacher (4W). Returns 0 or -1 after one line. */
static int plan_model(const char *cmd, const char *path, const sq_recipe_t *r)
{
    struct stat st;
    uint8_t head[128] = {0};
    FILE *f = fopen(path, "rb");
    if (!f || fstat(fileno(f), &st) != 0) { /* the loader reports it */
        if (f)
            fclose(f);
        return 0;
    }
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    uint64_t file = (uint64_t)st.st_size, weights = 0, kv = 0;
    sq_llama_config_t c = {0};
    if (got >= 4 && !memcmp(head, "GGUF", 4)) {
        weights = 8 * file;
    } else if (got >= 104 && !memcmp(head, SQ_SQM_MAGIC, 8)) {
        /* docs/sqm.md: llama2.c's config as u32 at 64..91, flags at 92 */
        int32_t v[8];
        for (int i = 0; i < 8; i++)
            v[i] = (int32_t)sq_le_get(head + 64 + 4 * i, 4);
        c = (sq_llama_config_t){.dim = v[0], .hidden_dim = v[1], .n_layers = v[2],
                                .n_heads = v[3], .n_kv_heads = v[4], .vocab_size = v[5],
                                .seq_len = v[6], .rope_theta = 1, .norm_eps = 1,
                                .shared_classifier = (v[7] & SQ_SQM_SHARED_CLASSIFIER) != 0};
        llama_bytes(&c, &weights, &kv);
    } else if (got >= 28) {
        int32_t hdr[7];
        memcpy(hdr, head, sizeof hdr);
        c = (sq_llama_config_t){.dim = hdr[0], .hidden_dim = hdr[1], .n_layers = hdr[2],
                                .n_heads = hdr[3], .n_kv_heads = hdr[4],
                                .vocab_size = hdr[5] < 0 && hdr[5] != INT32_MIN ? -hdr[5] : hdr[5],
                                .seq_len = hdr[6], .shared_classifier = hdr[5] > 0,
                                .rope_theta = 1, .norm_eps = 1};
        llama_bytes(&c, &weights, &kv);
        weights = file; /* the checkpoint is its weights */
    }
    if (sq_cli_mem_need(cmd, "the model file", file) ||
        sq_cli_mem_need(cmd, "the fp32 weights", weights) ||
        sq_cli_mem_need(cmd, "the KV cache", kv) ||
        sq_cli_mem_need(cmd, "the compressed model", sq_recipe_is_identity(r) ? 0 : weights))
        return -1;
    if (sq_recipe_needs_calib(r) && c.dim > 0) {
        uint64_t d = (uint64_t)c.dim, h = (uint64_t)c.hidden_dim;
        if (sq_cli_mem_need(cmd, "the calibration Hessians",
                            8 * ((uint64_t)c.n_layers * (3 * d * d + h * h) + d * d)))
            return -1;
    }
    if (r->distill_steps && sq_cli_mem_need(cmd, "distillation (gradients, Adam, teacher)",
                                            4 * weights))
        return -1;
    return 0;
}

int sq_cli_bert_plan(const char *cmd, const char *path, const char *recipe)
{
    char file[4300];
    struct stat st;
    snprintf(file, sizeof file, "%s", path);
    if (stat(file, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(file, sizeof file, "%s/model.safetensors", path);
        if (stat(file, &st) != 0)
            return 0; /* the loader reports it */
    }
    sq_recipe_t r;
    if (sq_recipe_parse(recipe, &r) != 0 || stat(file, &st) != 0)
        return 0;
    uint64_t f = (uint64_t)st.st_size;
    if (sq_cli_mem_need(cmd, "the model file", f) ||
        sq_cli_mem_need(cmd, "the fp32 weights", 2 * f) ||
        sq_cli_mem_need(cmd, "the compressed model", sq_recipe_is_identity(&r) ? 0 : 2 * f) ||
        sq_cli_mem_need(cmd, "calibration", sq_recipe_needs_calib(&r) ? 4 * f : 0))
        return -1;
    return 0;
}

/* A dummy model (compress/qmodel.h): planned (--max-mem) and built in its
 * integer format. SQ_EXIT_USAGE after the plan's line, else 0 or an SQ_ERR_*
 * code with the message set. */
static int dummy_open(const char *cmd, const sq_llama_config_t *c, const sq_recipe_t *r,
                      sq_cli_model_t *out)
{
    uint64_t lin, other, w, kv;
    int rc = sq_dummy_plan(c, r, &lin, &other);
    if (rc)
        return rc;
    llama_bytes(c, &w, &kv);
    if (sq_cli_mem_need(cmd, "the dummy model's integer linears", lin) ||
        sq_cli_mem_need(cmd, "its fp32 embedding and norms", other) ||
        sq_cli_mem_need(cmd, "the KV cache", kv))
        return SQ_EXIT_USAGE;
    rc = sq_qmodel_dummy(&out->q, &out->model, c, r, SQ_DUMMY_SEED);
    out->dummy = !rc;
    return rc;
}

/* calib_text when given, else the file calib (NULL: the default text). */
static int model_open(const char *cmd, const char *model, const char *tok, const char *recipe,
                      const char *calib, const char *calib_text, sq_cli_model_t *out)
{
    memset(out, 0, sizeof *out);
    sq_recipe_t r;
    sq_calib_t cal;
    sq_qmodel_t stored;
    int have_cal = 0, have_stored = 0;
    char path[4200];
    int rc = sq_recipe_parse(recipe, &r);
    sq_llama_config_t dc;
    int dummy = rc ? 1 : sq_dummy_config(model, &dc);
    if (dummy <= 0) {
        if (!dummy && (rc = dummy_open(cmd, &dc, &r, out)) == SQ_EXIT_USAGE)
            return rc;
        if (dummy || rc) {
            sq_cli_error(cmd, "%s", sq_err_msg());
            return sq_cli_exit_code(dummy ? dummy : rc);
        }
        sq_qmodel_exec(&out->q, &out->ex);
        return 0;
    }
    if (!rc)
        rc = sq_pypkg_model(model, path, sizeof path);
    if (!rc && plan_model(cmd, sq_cli_find_model(path), &r))
        return SQ_EXIT_USAGE;
    if (!rc && sq_gguf_is_file(sq_cli_find_model(path))) {
        sq_gguf_t *g;
        rc = sq_gguf_read(sq_cli_find_model(path), &g);
        if (!rc)
            rc = sq_gguf_load_llama(g, SQ_GGUF_MAX_SEQ, &out->model);
        if (!rc)
            rc = sq_bpe_from_gguf(g, &out->bpe);
        sq_gguf_free(g);
        if (!rc && r.distill_steps)
            rc = sq_err(SQ_ERR_ARG, "distill:steps=N trains llama2.c models only");
    } else if (!rc && sq_sqm_is_file(sq_cli_find_model(path))) {
        sq_sqm_t *s;
        rc = sq_sqm_read(sq_cli_find_model(path), &s);
        if (!rc)
            rc = sq_qmodel_from_sqm(s, &out->model, &stored);
        have_stored = !rc;
        sq_sqm_free(s);
        if (!rc)
            rc = sq_tokenizer_load(sq_cli_find_model(tok), out->model.cfg.vocab_size, &out->tok);
    } else if (!rc) {
        rc = sq_llama_load(sq_cli_find_model(path), &out->model);
        if (!rc)
            rc = sq_tokenizer_load(sq_cli_find_model(tok), out->model.cfg.vocab_size, &out->tok);
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char *text = NULL;
    if (!rc && sq_recipe_needs_calib(&r)) {
        text = calib_text ? strdup(calib_text) : sq_cli_read_stories(calib ? calib : SQ_DEFAULT_CALIB);
        if (!text)
            rc = calib_text ? sq_err(SQ_ERR_MEM, "out of memory") : SQ_ERR_IO;
    }
    /* A .sqm model runs its stored layers; a recipe recompresses its
     * dequantized weights. */
    if (!rc && have_stored && sq_recipe_is_identity(&r)) {
        out->q = stored;
        have_stored = 0;
    } else if (!rc) {
        sq_story_enc_t e;
        sq_cli_model_story_enc(out, &e);
        rc = sq_qmodel_compress(&out->q, &out->model, &r, &e, text, &cal, &have_cal,
                                calib_progress, sq_cli_progress);
        sq_cli_progress_end();
        out->calib_tokens = have_cal ? cal.tokens : 0;
    }
    if (have_stored)
        sq_qmodel_free(&stored);
    if (!rc && r.distill_steps) {
        sq_finetune_opts_t fo;
        sq_finetune_opts_default(&fo, &r);
        fo.progress = distill_progress;
        rc = sq_finetune_run(&out->model, &out->q, &r, &cal, &out->tok, text, &fo, &out->distill);
        sq_cli_progress_end();
    }
    out->calib_text = text;
    if (have_cal)
        sq_calib_free(&cal);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    out->compress_s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (rc) {
        sq_cli_error(cmd, "%s", sq_err_msg());
        sq_cli_model_close(out);
        return sq_cli_exit_code(rc);
    }
    sq_qmodel_exec(&out->q, &out->ex);
    return 0;
}

int sq_cli_model_open(const char *cmd, const char *model, const char *tok, const char *recipe,
                      const char *calib, sq_cli_model_t *out)
{
    return model_open(cmd, model, tok, recipe, calib, NULL, out);
}

int sq_cli_model_open_text(const char *cmd, const char *model, const char *tok,
                           const char *recipe, const char *calib_text, sq_cli_model_t *out)
{
    return model_open(cmd, model, tok, recipe, NULL, calib_text, out);
}

void sq_cli_model_close(sq_cli_model_t *m)
{
    free(m->calib_text);
    sq_qmodel_free(&m->q);
    sq_bpe_free(m->bpe);
    sq_tokenizer_free(&m->tok);
    sq_llama_free(&m->model);
}

static int dummy_encode(const sq_cli_model_t *m, const char *text, int *tokens, int *n)
{
    *n = 0;
    tokens[(*n)++] = SQ_TOK_BOS;
    for (const char *p = text; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v >= m->model.cfg.vocab_size || (*end && *end != ' '))
            return sq_err(SQ_ERR_ARG, "a dummy model has no tokenizer: its prompt is token ids "
                          "0..%d separated by spaces", m->model.cfg.vocab_size - 1);
        tokens[(*n)++] = (int)v;
        for (p = end; *p == ' '; p++)
            ;
    }
    return 0;
}

int sq_cli_model_encode(const sq_cli_model_t *m, const char *text, int *tokens, int *n)
{
    if (m->dummy) /* no tokenizer: token ids, BOS alone for an empty prompt */
        return dummy_encode(m, text, tokens, n);
    if (!m->bpe)
        return sq_tokenizer_encode(&m->tok, text, 1, 0, tokens, n);
    size_t cap = strlen(text) + 3, got = 0;
    int32_t *ids = malloc(cap * sizeof *ids);
    if (!ids)
        return sq_err(SQ_ERR_MEM, "out of memory");
    int rc = sq_bpe_encode(m->bpe, text, 1, ids, cap, &got);
    if (!rc && got == 0) {
        int32_t bos = sq_bpe_bos(m->bpe);
        if (bos < 0)
            rc = sq_err(SQ_ERR_ARG, "the model has no BOS token: give a --prompt");
        ids[got++] = bos;
    }
    for (size_t i = 0; !rc && i < got; i++)
        tokens[i] = ids[i];
    *n = (int)got;
    free(ids);
    return rc;
}

const char *sq_cli_model_decode(const sq_cli_model_t *m, int prev, int token, char *buf,
                                size_t cap)
{
    if (m->dummy) {
        snprintf(buf, cap, "%s%d", prev < 0 ? "" : " ", token);
        return buf;
    }
    if (!m->bpe)
        return sq_tokenizer_decode(&m->tok, prev, token, buf);
    return sq_bpe_decode(m->bpe, token, buf, cap) < 0 ? "" : buf;
}

int sq_cli_refuse_dummy(const char *cmd, const char *model, const char *what)
{
    if (strncmp(model, SQ_DUMMY_PREFIX, strlen(SQ_DUMMY_PREFIX)))
        return 0;
    sq_cli_error(cmd, "%s on a dummy model means nothing: its weights are random (dummy models "
                 "are for timing: generate, sweep)", what);
    return SQ_EXIT_USAGE;
}

int sq_cli_model_is_stop(const sq_cli_model_t *m, int token)
{
    if (m->dummy)
        return 0; /* random weights: every step runs */
    return m->bpe ? token == sq_bpe_eos(m->bpe) : token == SQ_TOK_BOS;
}
