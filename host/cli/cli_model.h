/* Opening a model, its tokenizer and a compression recipe for the CLI. */
#ifndef SQ_CLI_MODEL_H
#define SQ_CLI_MODEL_H

#include "compress/recipe.h"
#include "model/llama.h"
#include "model/tokenizer.h"

#define SQ_DEFAULT_MODEL "stories260K.bin"
#define SQ_DEFAULT_TOKENIZER "tok512.bin"

typedef struct {
    sq_llama_t model;
    sq_tokenizer_t tok;
    sq_qmodel_t q;
    sq_llama_exec_t ex;
} sq_cli_model_t;

/* Loads model + tokenizer (bare names are looked up in models/, then
 * ../shared/models/) and applies the recipe. On failure prints one line and
 * returns the exit code (2 for a missing file or bad recipe, 1 otherwise). */
int sq_cli_model_open(const char *cmd, const char *model, const char *tok, const char *recipe,
                      sq_cli_model_t *out);
void sq_cli_model_close(sq_cli_model_t *m);
/* Exit code for an SQ_ERR_* code. */
int sq_cli_exit_code(int err);

#endif
