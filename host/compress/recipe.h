/* Compression recipes: which passes to run and with what parameters.
 *
 * A recipe is a comma-separated list of passes, each usable alone or chained
 * (docs/compression.md has the table):
 *   fp32               nothing (the default)
 *   w8 | w4 | w4gG     weights int8 per output channel, int4 per channel, or
 *                      int4 with one scale per G in {32, 64, 128} consecutive
 *                      inputs; optionally followed by the activation mode and
 *                      a solver: w8a8, w4g32a8s, w4g32:gptq, w8a8:rtn
 *   a8 | a8s | a4      activations int8 per token (dynamic), int8 with one
 *                      static scale per tensor from calibration, or int4 per
 *                      token (values in [-7, 7] in the unit's int8
 *                      operands); a weight pass alone implies a8
 *   :rtn | :gptq       round to nearest (default) or GPTQ's second-order
 *                      update from calibration inputs (which also chooses the
 *                      pruning masks, as SparseGPT does)
 *   :gptq+seq          GPTQ layer by layer, each block calibrated on the
 *                      inputs of the blocks before it already compressed
 *   :awq, :awq+gptq    first AWQ's activation-aware per-input-channel scales
 *                      (grid-searched, folded into the previous op), then
 *                      round to nearest or GPTQ
 *   :smooth=A          SmoothQuant's migration with strength A in (0, 1):
 *                      s_j = max|x_j|^A / max|w_j|^(1-A); may be followed by
 *                      +gptq
 *   rot                Hadamard rotations (QuaRot): the residual stream and
 *                      each head's V/O folded into the weights, W2's input
 *                      rotated online (include/sparq/hadamard.h)
 *   prune:s=F          unstructured magnitude pruning to sparsity F in [0, 1)
 *   2:4                keep 2 of every 4 weights along k (the unit's int8 2:4
 *                      layout; implies w8 when no weight pass is given)
 *   ...:wanda          choose the prune or 2:4 mask by |w| * ||x|| (Wanda)
 *                      instead of |w| (prune:s=0.5:wanda, 2:4:wanda)
 *   heads:n=N          remove the N least important attention heads per layer
 *   lowrank:r=R        W ~ U.V with rank R (or lowrank:e=F, the smallest rank
 *                      keeping a fraction F of the squared singular values)
 *   share:k=K          k-means weight sharing, a K-entry codebook per tensor
 *   distill:steps=N    fine-tune against the fp32 teacher after the passes
 *                      (:lr=X its peak learning rate; default 2e-3 for
 *                      Llama models, 1e-4 for BERT encoders) */
#ifndef SQ_RECIPE_H
#define SQ_RECIPE_H

#include <stddef.h>

typedef enum { SQ_ACT_FP32, SQ_ACT_DYNAMIC, SQ_ACT_STATIC } sq_act_mode_t;
typedef enum { SQ_SOLVE_RTN, SQ_SOLVE_GPTQ } sq_solver_t;

typedef struct {
    int wbits;            /* 0 (fp32 weights), 8 or 4 */
    size_t group;         /* int4 inputs per scale; 0 = one scale per output channel */
    sq_act_mode_t act;
    int abits;            /* activation bits with act != FP32: 8 or 4 */
    sq_solver_t solver;
    int seq;              /* GPTQ: calibrate each block after compressing the ones before */
    int awq;              /* AWQ input-channel scales before the solver */
    double smooth;        /* SmoothQuant strength, 0 = off */
    int rot;              /* Hadamard rotations; on one matrix (sq_clinear_build):
                           * rotate its input online */
    double sparsity;      /* unstructured magnitude pruning, 0 = off */
    int sp24;             /* 2:4 structured pruning */
    int wanda;            /* masks by |w| * ||x|| instead of |w| */
    int heads;            /* attention heads removed per layer */
    int rank;             /* low-rank factorization rank, 0 = off */
    double energy;        /* low-rank energy threshold, 0 = off */
    int share;            /* codebook entries, 0 = off */
    int distill_steps;    /* 0 = no distillation */
    double distill_lr;    /* peak learning rate of the distillation, 0 = the default */
} sq_recipe_t;

/* Parses spec into *r. Unknown passes, bad or repeated parameters and
 * impossible combinations are SQ_ERR_ARG errors with one line naming the
 * offending pass. */
int sq_recipe_parse(const char *spec, sq_recipe_t *r);

/* True when the recipe needs calibration statistics (GPTQ, AWQ,
 * SmoothQuant, Wanda, static activation scales, head importance). */
int sq_recipe_needs_calib(const sq_recipe_t *r);

/* True when the recipe changes nothing (fp32). */
int sq_recipe_is_identity(const sq_recipe_t *r);

/* True when the recipe transforms the fp32 model before compressing it
 * (rot, awq, smooth: compress/transform.h). */
int sq_recipe_transforms(const sq_recipe_t *r);

/* Canonical spelling of r (passes in the order they run) into buf. */
void sq_recipe_format(const sq_recipe_t *r, char *buf, size_t cap);

#endif
