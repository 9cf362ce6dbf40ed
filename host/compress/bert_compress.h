/* Recipes on a BERT encoder (all-MiniLM-L6-v2), weights only.
 *
 * sq_bert_forward runs its linear layers itself in fp32 (it has no hook like
 * sq_llama_exec_t), so a compressed encoder here is the fp32 encoder with
 * every linear weight replaced by what its compressed layer decodes to:
 * exactly the weights an integer GEMM would multiply by, but with fp32
 * activations. Recipes that need activations (a8s, :gptq, heads, distill) are
 * refused; a8 is not applied. */
#ifndef SQ_BERT_COMPRESS_H
#define SQ_BERT_COMPRESS_H

#include <stddef.h>

#include "compress/recipe.h"
#include "model/bert.h"

/* SQ_ERR_ARG when r needs activations (checked before any loading). */
int sq_bert_recipe_check(const sq_recipe_t *r);

/* Compresses m's linear weights in place per r. *bytes receives the stored
 * size (compressed linears plus every other parameter in fp32) and *bytes32
 * the fp32 size. */
int sq_bert_compress(sq_bert_t *m, const sq_recipe_t *r, size_t *bytes, size_t *bytes32);

#endif
