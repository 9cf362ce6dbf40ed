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
#include "sqm/sqm.h"

/* One linear layer: a single leaf, or V then U for a low-rank factorization
 * (f[0] (r, k) runs first, f[1] (n, r) second). */
typedef struct {
    int nf;
    sq_qlinear_t f[2];
} sq_clinear_t;

/* Runs r's per-matrix passes (lowrank, prune or 2:4, share, quantization;
 * not heads or distill, which need the model) on w (n, k), consumed as
 * scratch. h and amax are the calibration statistics of the matrix's input
 * (NULL and 0 when r needs none). */
int sq_clinear_build(sq_clinear_t *cl, float *w, size_t n, size_t k, const double *h, float amax,
                     const sq_recipe_t *r);
void sq_clinear_free(sq_clinear_t *cl);
/* y (n) = W.x (k) through the layer's leaves; mid (the rank) receives a
 * low-rank layer's intermediate. */
int sq_clinear_run(const sq_clinear_t *cl, const float *x, float *y, float *mid,
                   const sq_qscratch_t *s);
/* The same over rows inputs x (rows, k) into y (rows, n), with the bits of
 * sq_clinear_run per row (sq_qlinear_run_rows); mid holds rows x rank. */
int sq_clinear_run_rows(const sq_clinear_t *cl, const float *x, size_t rows, float *y,
                        float *mid, const sq_qscratch_t *s);
/* The fp32 matrix (n, k) the layer stands for (U.V for a factorization). */
int sq_clinear_dequant(const sq_clinear_t *cl, float *w, size_t n, size_t k);
size_t sq_clinear_bytes(const sq_clinear_t *cl);

typedef struct {
    const sq_llama_t *model;
    sq_recipe_t recipe;
    sq_clinear_t *layers; /* (n_layers * SQ_W_COUNT); the classifier lives in layer 0 */
    int *heads_removed;   /* (n_layers, n_heads) 1 = pruned */
    float *mid;           /* scratch: a low-rank layer's intermediate */
    sq_qscratch_t scratch;
} sq_qmodel_t;

typedef void (*sq_qmodel_progress_fn)(const char *label, size_t done, size_t total);

/* Compresses m's linear layers per r (m must outlive q), with calibration
 * statistics from calib when sq_recipe_needs_calib(r) (otherwise calib may be
 * NULL). With an identity recipe q holds no layers and runs fp32. This is
 * the one-shot part: r's distill:steps=N is sq_finetune_run's
 * (compress/finetune.h), which needs training text. */
int sq_qmodel_build_calib(sq_qmodel_t *q, const sq_llama_t *m, const sq_recipe_t *r,
                          const sq_calib_t *calib);
/* GPTQ's sequential mode (recipe seq): layer by layer, each calibrated on
 * text (stories encoded by e) through the model with every layer before it
 * already compressed, the classifier last; n_layers + 1 calibration passes.
 * progress (per layer) may be NULL. */
int sq_qmodel_build_seq(sq_qmodel_t *q, const sq_llama_t *m, const sq_recipe_t *r,
                        const sq_story_enc_t *e, const char *text, sq_qmodel_progress_fn progress);
/* The same for recipes that need no calibration. */
int sq_qmodel_build(sq_qmodel_t *q, const sq_llama_t *m, const sq_recipe_t *r);

/* The whole one-shot pipeline (host/compress/pipeline.c): rewrites *m when r
 * transforms it (sq_xform_prepare: fold norms, rotate), calibrates it on text
 * (stories encoded by e) when r needs statistics, applies AWQ or SmoothQuant
 * scales (compress/awq.h) and builds q on *m. cal receives the statistics
 * (*have_cal set; the caller frees them). calib_progress (per calibration
 * story) and progress (per layer of the searches) may be NULL. */
int sq_qmodel_compress(sq_qmodel_t *q, sq_llama_t *m, const sq_recipe_t *r,
                       const sq_story_enc_t *e, const char *text, sq_calib_t *cal, int *have_cal,
                       sq_eval_progress_fn calib_progress, sq_qmodel_progress_fn progress);
void sq_qmodel_free(sq_qmodel_t *q);

/* The compressed layer for (layer, kind), or NULL with an identity recipe. */
const sq_clinear_t *sq_qmodel_layer(const sq_qmodel_t *q, int layer, sq_wkind_t kind);

/* Fills ex so sq_llama_forward runs q's layers (fp32 when q has none); no
 * host_op observer (set one afterwards if wanted). */
void sq_qmodel_exec(sq_qmodel_t *q, sq_llama_exec_t *ex);

/* ---- Dummy models: configs without weights, for performance studies ----
 * "dummy:PRESET" (llama2-7b, llama2-13b, tinyllama-1.1b, smollm2-135m, with
 * the shapes of their published configs) and/or "dummy:dim=..,hidden=..,
 * layers=..,heads=..,kv_heads=..,vocab=..,seq=.." (keys after a preset
 * override it). */
#define SQ_DUMMY_PREFIX "dummy:"
/* The seed of every dummy model's weights. */
#define SQ_DUMMY_SEED 0x5EED5EED5EED5EEDull

/* 1 when spec is not a dummy spec; 0 with its config; SQ_ERR_ARG with one
 * line for a malformed one. */
int sq_dummy_config(const char *spec, sq_llama_config_t *c);
/* Host bytes a dummy of config c in recipe r takes: the compressed linears
 * and the fp32 embedding and norms. SQ_ERR_ARG when r is not a recipe a
 * dummy can be built in (one integer leaf per linear, no calibration). */
int sq_dummy_plan(const sq_llama_config_t *c, const sq_recipe_t *r, uint64_t *linears,
                  uint64_t *other);
/* Builds m (config, fp32 embedding uniform in [-1, 1) and unit norm gains;
 * no fp32 linears: their pointers stay NULL) and q (every linear one integer
 * leaf in r's format, values uniform over the format's range, 2:4 keeping
 * two of each four, scales that keep unit variance) from seed. */
int sq_qmodel_dummy(sq_qmodel_t *q, sq_llama_t *m, const sq_llama_config_t *c,
                    const sq_recipe_t *r, uint64_t seed);

/* .sqm files, under the names of host/sqm/sqm_llama.h, each layer in the
 * dtype its recipe left it in (f32, int8, int4, 2:4-int8 with per-row or
 * per-group scales, codebook). A low-rank layer NAME.weight is stored as
 * NAME.v.weight (r, k) and NAME.u.weight (n, r); a static activation scale
 * as NAME.act_scale (one f32). A compressed classifier is its own
 * output.weight (the config's shared-classifier flag is then clear). */
int sq_qmodel_write_sqm(const sq_qmodel_t *q, const char *path);
/* Loads s into a fresh fp32 model m (every layer dequantized, factorizations
 * multiplied out) and q, its layers as stored, running on m. A file whose
 * layers are all f32 gives q no layers (plain fp32). */
int sq_qmodel_from_sqm(const sq_sqm_t *s, sq_llama_t *m, sq_qmodel_t *q);

/* Bytes of the fp32 model (every weight once) and of the compressed one
 * (compressed layers plus the fp32 embedding and norms). */
size_t sq_llama_bytes(const sq_llama_t *m);
size_t sq_qmodel_bytes(const sq_qmodel_t *q);

#endif
