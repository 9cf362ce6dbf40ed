/* Compressed Llama models in .sqm files: every layer in the format its recipe
 * left it in, under the names of host/sqm/sqm_llama.h. */
#include "compress/qmodel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress/quant.h"
#include "sparq/numerics.h"
#include "sqm/sqm_llama.h"
#include "util/err.h"

/* NAME.weight -> NAME<suffix> (suffix ".v.weight", ".act_scale", ...). */
static void name_with(int kind, int layer, const char *suffix, char *buf, size_t cap)
{
    sq_sqm_llama_name(kind, layer, buf, cap);
    size_t len = strlen(buf);
    if (len > 7 && !strcmp(buf + len - 7, ".weight"))
        buf[len - 7] = 0;
    snprintf(buf + strlen(buf), cap - strlen(buf), "%s", suffix);
}

static int add_f32(sq_sqm_t *s, const char *name, const float *data, uint64_t rows, uint64_t k,
                   int ndim)
{
    sq_sqm_tensor_t t = {.name = name, .dtype = SQ_SQM_F32, .ndim = (uint32_t)ndim,
                         .shape = {ndim == 1 ? k : rows, k}, .data = data};
    return sq_sqm_add(s, &t);
}

static int add_leaf(sq_sqm_t *s, const sq_qlinear_t *l, const char *name, const char *scale_name)
{
    sq_sqm_tensor_t t = {.name = name, .ndim = 2, .shape = {l->n, l->k}};
    switch (l->kind) {
    case SQ_QL_F32:
        t.dtype = SQ_SQM_F32;
        t.data = l->wf;
        break;
    case SQ_QL_CODEBOOK:
        t.dtype = SQ_SQM_CODEBOOK;
        t.data = l->idx;
        t.codebook = l->codebook;
        t.codebook_size = l->codebook_size;
        break;
    case SQ_QL_INT:
        t.dtype = (l->flags & SQ_GEMM_W4) ? SQ_SQM_I4 : (l->flags & SQ_GEMM_SP24) ? SQ_SQM_SP24_I8
                                                                                 : SQ_SQM_I8;
        t.data = l->w;
        t.meta = l->meta;
        t.scales = l->scale;
        t.scale_kind = l->group < l->k ? SQ_SQM_SCALE_GROUP : SQ_SQM_SCALE_ROW;
        t.group_size = l->group < l->k ? (uint32_t)l->group : 0;
        break;
    }
    int rc = sq_sqm_add(s, &t);
    if (!rc && l->kind == SQ_QL_INT && l->act_scale > 0)
        rc = add_f32(s, scale_name, &l->act_scale, 1, 1, 1);
    return rc;
}

int sq_qmodel_write_sqm(const sq_qmodel_t *q, const char *path)
{
    const sq_llama_t *m = q->model;
    const sq_llama_config_t *c = &m->cfg;
    sq_sqm_config_t sc;
    sq_sqm_config_from_llama(c, &sc);
    const sq_clinear_t *cls = sq_qmodel_layer(q, 0, SQ_W_CLS);
    /* A compressed classifier is its own tensor: the embedding stays fp32. */
    if (cls && cls->nf > 0)
        sc.flags &= ~(uint32_t)SQ_SQM_SHARED_CLASSIFIER;
    sq_sqm_t *s = sq_sqm_create(&sc);
    if (!s)
        return sq_err(SQ_ERR_MEM, "out of memory creating '%s'", path);
    char name[256], sname[256];
    uint64_t d = (uint64_t)c->dim;
    sq_sqm_llama_name(SQ_SQM_LLAMA_EMBED, 0, name, sizeof name);
    int rc = add_f32(s, name, m->w.token_embedding, (uint64_t)c->vocab_size, d, 2);
    for (int l = 0; l < c->n_layers && !rc; l++) {
        sq_sqm_llama_name(SQ_SQM_LLAMA_ATT_NORM, l, name, sizeof name);
        rc = add_f32(s, name, m->w.rms_att + (size_t)l * d, 1, d, 1);
        sq_sqm_llama_name(SQ_SQM_LLAMA_FFN_NORM, l, name, sizeof name);
        if (!rc)
            rc = add_f32(s, name, m->w.rms_ffn + (size_t)l * d, 1, d, 1);
        for (int kd = 0; kd < SQ_W_COUNT && !rc; kd++) {
            if (kd == SQ_W_CLS && l > 0)
                continue;
            const sq_clinear_t *cl = sq_qmodel_layer(q, l, (sq_wkind_t)kd);
            size_t n, k;
            sq_llama_wshape(c, (sq_wkind_t)kd, &n, &k);
            if (!cl || cl->nf == 0) {
                if (kd == SQ_W_CLS && c->shared_classifier)
                    continue;
                sq_sqm_llama_name(kd, l, name, sizeof name);
                rc = add_f32(s, name, sq_llama_wptr(m, l, (sq_wkind_t)kd), n, k, 2);
            } else if (cl->nf == 1) {
                sq_sqm_llama_name(kd, l, name, sizeof name);
                name_with(kd, l, ".act_scale", sname, sizeof sname);
                rc = add_leaf(s, &cl->f[0], name, sname);
            } else {
                name_with(kd, l, ".v.weight", name, sizeof name);
                name_with(kd, l, ".v.act_scale", sname, sizeof sname);
                rc = add_leaf(s, &cl->f[0], name, sname);
                name_with(kd, l, ".u.weight", name, sizeof name);
                name_with(kd, l, ".u.act_scale", sname, sizeof sname);
                if (!rc)
                    rc = add_leaf(s, &cl->f[1], name, sname);
            }
        }
    }
    sq_sqm_llama_name(SQ_SQM_LLAMA_FINAL_NORM, 0, name, sizeof name);
    if (!rc)
        rc = add_f32(s, name, m->w.rms_final, 1, d, 1);
    if (!rc)
        rc = sq_sqm_write(s, path);
    sq_sqm_free(s);
    return rc;
}

/* One stored tensor as a leaf of n x k (NULL t: absent). */
static int leaf_from(sq_qlinear_t *l, const sq_sqm_t *s, const sq_sqm_tensor_t *t,
                     const char *scale_name, size_t n, size_t k)
{
    if (t->ndim != 2 || sq_sqm_rows(t) != n || sq_sqm_k(t) != k)
        return sq_err(SQ_ERR_FMT, "tensor '%s' is not %zux%zu", t->name, n, k);
    const sq_sqm_tensor_t *as = sq_sqm_find(s, scale_name);
    float act_scale = 0.0f;
    if (as) {
        if (as->dtype != SQ_SQM_F32 || sq_sqm_numel(as) != 1 || !(((const float *)as->data)[0] > 0))
            return sq_err(SQ_ERR_FMT, "tensor '%s' is not one positive f32 scale", scale_name);
        act_scale = ((const float *)as->data)[0];
    }
    if (t->dtype == SQ_SQM_F32)
        return sq_qlinear_f32(l, t->data, n, k);
    if (t->dtype == SQ_SQM_CODEBOOK)
        return sq_qlinear_codebook(l, t->codebook, t->codebook_size, t->data, n, k);
    if (t->zeros)
        return sq_err(SQ_ERR_FMT, "tensor '%s' has zero offsets; the integer GEMM is symmetric",
                      t->name);
    uint32_t flags = t->dtype == SQ_SQM_I4 ? SQ_GEMM_W4 : t->dtype == SQ_SQM_SP24_I8 ? SQ_GEMM_SP24 : 0;
    size_t group = t->scale_kind == SQ_SQM_SCALE_GROUP ? t->group_size : k;
    float *scale = NULL;
    if (t->scale_kind == SQ_SQM_SCALE_TENSOR) {
        if (!(scale = malloc(n * sizeof *scale)))
            return sq_err(SQ_ERR_MEM, "out of memory");
        for (size_t i = 0; i < n; i++)
            scale[i] = t->scales[0];
    }
    int rc = sq_qlinear_int_packed(l, flags, t->data, t->meta, scale ? scale : t->scales, group,
                                   act_scale, n, k);
    free(scale);
    return rc;
}

/* Tensor (kind, layer) as count floats into dst; with dst NULL only the
 * check that it is there with that many. */
static int f32_into(const sq_sqm_t *s, int kind, int layer, float *dst, size_t count)
{
    char name[256];
    sq_sqm_llama_name(kind, layer, name, sizeof name);
    const sq_sqm_tensor_t *t = sq_sqm_find(s, name);
    if (!t)
        return sq_err(SQ_ERR_FMT, "tensor '%s' is missing", name);
    if (sq_sqm_numel(t) != count)
        return sq_err(SQ_ERR_FMT, "tensor '%s' has %llu values, want %zu", name,
                      (unsigned long long)sq_sqm_numel(t), count);
    return dst ? sq_sqm_dequant(t, dst) : 0;
}

/* The embedding and the norms into m's weights (m NULL: check only). */
static int norms_into(const sq_sqm_t *s, const sq_llama_config_t *c, sq_llama_t *m)
{
    size_t d = (size_t)c->dim;
    int rc = f32_into(s, SQ_SQM_LLAMA_EMBED, 0, m ? m->w.token_embedding : NULL,
                      (size_t)c->vocab_size * d);
    if (!rc)
        rc = f32_into(s, SQ_SQM_LLAMA_FINAL_NORM, 0, m ? m->w.rms_final : NULL, d);
    for (int l = 0; l < c->n_layers && !rc; l++) {
        rc = f32_into(s, SQ_SQM_LLAMA_ATT_NORM, l, m ? m->w.rms_att + (size_t)l * d : NULL, d);
        if (!rc)
            rc = f32_into(s, SQ_SQM_LLAMA_FFN_NORM, l, m ? m->w.rms_ffn + (size_t)l * d : NULL, d);
    }
    return rc;
}

int sq_qmodel_from_sqm(const sq_sqm_t *s, sq_llama_t *m, sq_qmodel_t *q)
{
    memset(m, 0, sizeof *m);
    memset(q, 0, sizeof *q);
    const sq_sqm_config_t *sc = sq_sqm_config(s);
    if (strcmp(sc->arch, "llama"))
        return sq_err(SQ_ERR_FMT, "architecture '%s' is not llama", sc->arch);
    sq_llama_config_t c = {
        .dim = (int)sc->dim, .hidden_dim = (int)sc->hidden_dim, .n_layers = (int)sc->n_layers,
        .n_heads = (int)sc->n_heads, .n_kv_heads = (int)sc->n_kv_heads,
        .vocab_size = (int)sc->vocab_size, .seq_len = (int)sc->seq_len,
        .shared_classifier = (sc->flags & SQ_SQM_SHARED_CLASSIFIER) != 0,
        .rope_theta = sc->rope_theta, .norm_eps = sc->norm_eps};
    /* Everything the file must hold is checked (the leaves built from it)
     * before the fp32 weights are allocated: the config alone could claim
     * any size. Until then m holds only the config, for sq_qmodel_free. */
    int rc = sq_llama_config_check(&c);
    if (rc)
        return rc;
    m->cfg = c;
    q->model = m;
    q->recipe.wbits = 0;
    q->layers = calloc((size_t)c.n_layers * SQ_W_COUNT, sizeof *q->layers);
    q->heads_removed = calloc((size_t)c.n_layers * c.n_heads, sizeof *q->heads_removed);
    if (!q->layers || !q->heads_removed)
        rc = sq_err(SQ_ERR_MEM, "out of memory loading a .sqm model");
    for (int l = 0; l < c.n_layers && !rc; l++) {
        for (int kd = 0; kd < SQ_W_COUNT && !rc; kd++) {
            if (kd == SQ_W_CLS && l > 0)
                continue;
            size_t n, k;
            sq_llama_wshape(&c, (sq_wkind_t)kd, &n, &k);
            sq_clinear_t *cl = &q->layers[(size_t)l * SQ_W_COUNT + kd];
            char name[256], vname[256], uname[256], sname[256];
            sq_sqm_llama_name(kd, l, name, sizeof name);
            name_with(kd, l, ".v.weight", vname, sizeof vname);
            name_with(kd, l, ".u.weight", uname, sizeof uname);
            const sq_sqm_tensor_t *t = sq_sqm_find(s, name), *tv = sq_sqm_find(s, vname),
                                  *tu = sq_sqm_find(s, uname);
            if (t) {
                name_with(kd, l, ".act_scale", sname, sizeof sname);
                cl->nf = 1;
                rc = leaf_from(&cl->f[0], s, t, sname, n, k);
            } else if (tv && tu) {
                size_t r = (size_t)sq_sqm_rows(tv);
                name_with(kd, l, ".v.act_scale", sname, sizeof sname);
                cl->nf = 1;
                rc = leaf_from(&cl->f[0], s, tv, sname, r, k);
                name_with(kd, l, ".u.act_scale", sname, sizeof sname);
                if (!rc) {
                    cl->nf = 2;
                    rc = leaf_from(&cl->f[1], s, tu, sname, n, r);
                }
            } else if (!(kd == SQ_W_CLS && c.shared_classifier)) {
                rc = sq_err(SQ_ERR_FMT, "tensor '%s' is missing", name);
            } /* else the classifier is the embedding, run in fp32 */
        }
    }
    if (!rc)
        rc = norms_into(s, &c, NULL);
    if (!rc)
        rc = sq_llama_alloc(m, &c);
    size_t maxdim = (size_t)c.vocab_size;
    if ((size_t)c.hidden_dim > maxdim)
        maxdim = (size_t)c.hidden_dim;
    if ((size_t)c.dim > maxdim)
        maxdim = (size_t)c.dim;
    if (!rc) {
        q->mid = malloc(maxdim * sizeof *q->mid);
        q->scratch.act = malloc(maxdim);
        q->scratch.acc = malloc(maxdim * sizeof *q->scratch.acc);
        if (!q->mid || !q->scratch.act || !q->scratch.acc)
            rc = sq_err(SQ_ERR_MEM, "out of memory loading a .sqm model");
    }
    if (!rc)
        rc = norms_into(s, &c, m);
    /* the linears' fp32 weights, for the host path */
    for (int l = 0; l < c.n_layers && !rc; l++)
        for (int kd = 0; kd < SQ_W_COUNT && !rc; kd++) {
            if ((kd == SQ_W_CLS && (l > 0 || c.shared_classifier)))
                continue;
            size_t n, k;
            sq_llama_wshape(&c, (sq_wkind_t)kd, &n, &k);
            rc = sq_clinear_dequant(&q->layers[(size_t)l * SQ_W_COUNT + kd],
                                    (float *)sq_llama_wptr(m, l, (sq_wkind_t)kd), n, k);
        }
    if (rc) {
        sq_qmodel_free(q);
        sq_llama_free(m);
        return rc;
    }
    int compressed = 0;
    for (size_t i = 0; i < (size_t)c.n_layers * SQ_W_COUNT; i++)
        compressed |= q->layers[i].nf > 1 || (q->layers[i].nf == 1 && q->layers[i].f[0].kind != SQ_QL_F32);
    if (!compressed) {
        sq_qmodel_free(q);
        q->model = m;
    }
    return 0;
}
