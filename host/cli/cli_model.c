#include "cli/cli_model.h"

#include <string.h>

#include "cli/cli.h"
#include "util/err.h"

int sq_cli_exit_code(int err)
{
    return err == SQ_ERR_ARG || err == SQ_ERR_IO ? SQ_EXIT_USAGE : SQ_EXIT_FAIL;
}

int sq_cli_model_open(const char *cmd, const char *model, const char *tok, const char *recipe,
                      sq_cli_model_t *out)
{
    memset(out, 0, sizeof *out);
    sq_recipe_t r;
    int rc = sq_recipe_parse(recipe, &r);
    if (!rc)
        rc = sq_llama_load(sq_cli_find_model(model), &out->model);
    if (!rc)
        rc = sq_tokenizer_load(sq_cli_find_model(tok), out->model.cfg.vocab_size, &out->tok);
    if (!rc)
        rc = sq_qmodel_build(&out->q, &out->model, &r);
    if (rc) {
        sq_cli_error(cmd, "%s", sq_err_msg());
        sq_cli_model_close(out);
        return sq_cli_exit_code(rc);
    }
    sq_qmodel_exec(&out->q, &out->ex);
    return 0;
}

void sq_cli_model_close(sq_cli_model_t *m)
{
    sq_qmodel_free(&m->q);
    sq_tokenizer_free(&m->tok);
    sq_llama_free(&m->model);
}
