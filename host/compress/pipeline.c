/* The one-shot compression pipeline: transforms, calibration, scales, passes. */
#include "compress/qmodel.h"

#include "compress/awq.h"
#include "compress/transform.h"
#include "util/err.h"

int sq_qmodel_compress(sq_qmodel_t *q, sq_llama_t *m, const sq_recipe_t *r,
                       const sq_story_enc_t *e, const char *text, sq_calib_t *cal, int *have_cal,
                       sq_eval_progress_fn calib_progress, sq_qmodel_progress_fn progress)
{
    *have_cal = 0;
    int rc = sq_xform_prepare(m, r);
    if (!rc && sq_recipe_needs_calib(r)) {
        if (!text)
            return sq_err(SQ_ERR_ARG, "this recipe needs calibration text");
        rc = sq_calib_collect_stories(cal, m, e, text, calib_progress);
        *have_cal = !rc;
    }
    /* The scales of one layer leave the fp32 inputs of every other unchanged,
     * so one calibration serves them all (its statistics rescaled). */
    int L = m->cfg.n_layers;
    for (int l = 0; l <= L && !rc && (r->awq || r->smooth > 0); l++) {
        rc = r->awq ? sq_awq_layer(m, cal, r, l) : sq_smooth_layer(m, cal, r, l);
        if (progress)
            progress(r->awq ? "awq: layer" : "smooth: layer", (size_t)l + 1, (size_t)L + 1);
    }
    if (!rc && r->seq)
        rc = sq_qmodel_build_seq(q, m, r, e, text, progress);
    else if (!rc)
        rc = sq_qmodel_build_calib(q, m, r, *have_cal ? cal : NULL);
    return rc;
}
