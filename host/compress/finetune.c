#include "compress/finetune.h"

#include <stdlib.h>
#include <string.h>

#include "compress/transform.h"
#include "train/constraint.h"
#include "train/distill.h"
#include "util/err.h"

void sq_finetune_opts_default(sq_finetune_opts_t *o, const sq_recipe_t *r)
{
    memset(o, 0, sizeof *o);
    o->steps = r->distill_steps;
    o->batch = 8;
    o->samples = 256;
    o->len = 256;
    o->seed = 1;
}

int sq_finetune_run(sq_llama_t *m, sq_qmodel_t *q, const sq_recipe_t *r, const sq_calib_t *cal,
                    const sq_tokenizer_t *t, const char *text, const sq_finetune_opts_t *o,
                    sq_finetune_stats_t *stats)
{
    memset(stats, 0, sizeof *stats);
    if (r->rank || r->energy > 0 || r->share || r->rot)
        return sq_err(SQ_ERR_ARG, "distill:steps=N keeps pruning and quantization; it does not "
                                  "apply to lowrank, share or rot");
    const sq_clinear_t *cls = sq_qmodel_layer(q, 0, SQ_W_CLS);
    int untied = m->cfg.shared_classifier && cls && cls->nf > 0;
    sq_llama_t teacher = {0}, student = {0};
    sq_constraints_t cons = {0};
    sq_distill_data_t data;
    sq_distill_data_init(&data);
    const sq_llama_t *tm = m;
    int rc = 0;
    if (untied) {
        rc = sq_llama_copy(m, &teacher, 1);
        tm = &teacher;
    }
    if (!rc)
        rc = sq_llama_copy(tm, &student, 0);
    /* The student starts where the one-shot passes left every layer. */
    for (int l = 0; l < m->cfg.n_layers && !rc && q->layers; l++)
        for (int kd = 0; kd < SQ_W_COUNT && !rc; kd++) {
            if (kd == SQ_W_CLS && l > 0)
                continue;
            const sq_clinear_t *cl = sq_qmodel_layer(q, l, (sq_wkind_t)kd);
            if (cl->nf == 1)
                rc = sq_qlinear_dequant(&cl->f[0], (float *)sq_llama_wptr(&student, l, (sq_wkind_t)kd));
        }
    if (!rc)
        rc = sq_constraints_build(&cons, &student.cfg);
    if (!rc)
        rc = sq_constraints_keep(&cons, &student, r->wbits, r->group ? r->group : (size_t)1 << 30);
    /* an int4 recipe keeps the classifier int8 (qmodel.c) */
    if (!rc && r->wbits == 4 && cls && cls->nf > 0)
        rc = sq_wconstraint_grid(sq_constraints_at(&cons, 0, SQ_W_CLS), 8, (size_t)1 << 30);
    if (!rc)
        rc = sq_distill_data_add_samples(&data, tm, o->samples, o->len, 1.0f, 1.0f,
                                         o->seed * 1000003u);
    if (!rc && text)
        rc = sq_distill_data_add_text(&data, t, text, o->len);
    sq_distill_opts_t dopt;
    sq_distill_opts_default(&dopt);
    dopt.steps = o->steps;
    if (r->distill_lr > 0)
        dopt.lr = (float)r->distill_lr;
    dopt.batch = o->batch;
    dopt.act8 = r->act != SQ_ACT_FP32;
    dopt.seed = o->seed;
    dopt.progress = o->progress;
    dopt.progress_ctx = o->progress_ctx;
    sq_distill_hook_t hook;
    sq_distill_stats_t ds = {0};
    if (!rc) {
        sq_constraints_hook(&cons, &hook);
        rc = sq_distill_run(tm, &student, &data, &hook, &dopt, &ds);
    }
    /* Rebuild on the grid the student trained on: its zeros are already in
     * place, so only 2:4 (for the layout) and the weight format remain. */
    sq_recipe_t rr = {.wbits = r->wbits, .group = r->group, .act = r->act, .sp24 = r->sp24};
    sq_qmodel_t q2;
    if (!rc)
        rc = sq_qmodel_build_calib(&q2, &student, &rr, cal);
    if (!rc) {
        sq_qmodel_free(q);
        sq_llama_free(m);
        *m = student;
        memset(&student, 0, sizeof student);
        *q = q2;
        q->model = m;
        q->recipe = *r;
        stats->first_loss = ds.first_loss;
        stats->last_loss = ds.last_loss;
        stats->seconds = ds.seconds;
        stats->train_tokens = ds.tokens;
    }
    sq_distill_data_free(&data);
    sq_constraints_free(&cons);
    sq_llama_free(&student);
    sq_llama_free(&teacher);
    return rc;
}
