/* A Llama model with a recipe applied: every linear layer compressed, run
 * through the sq_llama_exec_t hook (the rest of the forward pass stays fp32).
 *
 * Passes run in this order on each layer, whatever order the recipe names
 * them in: heads (zero the rows of Wq and columns of Wo of the pruned heads),
 * lowrank (W ~ U.V, each factor then a layer of its own), prune or 2:4 masks
 * (by magnitude, or chosen by GPTQ/SparseGPT when the weight pass says
 * :gptq), share (k-means codebook) and quantization. */
#ifndef SQ_QMODEL_H
#define SQ_QMODEL_H

#include <stddef.h>

#include "compress/calib.h"
#include "compress/qlinear.h"
#include "compress/recipe.h"
#include "model/llama.h"

/* One linear layer: a single leaf, or V then U for a low-rank factorization
 * (f[0] (r, k) runs first, f[1] (n, r) second). */
typedef struct {
    int nf;
    sq_qlinear_t f[2];
} sq_clinear_t;

typedef struct {
    const sq_llama_t *model;
    sq_recipe_t recipe;
    sq_clinear_t *layers; /* (n_layers * SQ_W_COUNT); the classifier lives in layer 0 */
    int *heads_removed;   /* (n_layers, n_heads) 1 = pruned */
    float *mid;           /* scratch: a low-rank layer's intermediate */
    sq_qscratch_t scratch;
} sq_qmodel_t;

/* Compresses m's linear layers per r (m must outlive q), with calibration
 * statistics from calib when sq_recipe_needs_calib(r) (otherwise calib may be
 * NULL). With an identity recipe q holds no layers and runs fp32. */
int sq_qmodel_build_calib(sq_qmodel_t *q, const sq_llama_t *m, const sq_recipe_t *r,
                          const sq_calib_t *calib);
/* The same for recipes that need no calibration. */
int sq_qmodel_build(sq_qmodel_t *q, const sq_llama_t *m, const sq_recipe_t *r);
void sq_qmodel_free(sq_qmodel_t *q);

/* The compressed layer for (layer, kind), or NULL with an identity recipe. */
const sq_clinear_t *sq_qmodel_layer(const sq_qmodel_t *q, int layer, sq_wkind_t kind);

/* Fills ex so sq_llama_forward runs q's layers (fp32 when q has none); no
 * host_op observer (set one afterwards if wanted). */
void sq_qmodel_exec(sq_qmodel_t *q, sq_llama_exec_t *ex);

/* Bytes of the fp32 model (every weight once) and of the compressed one
 * (compressed layers plus the fp32 embedding and norms). */
size_t sq_llama_bytes(const sq_llama_t *m);
size_t sq_qmodel_bytes(const sq_qmodel_t *q);

#endif
