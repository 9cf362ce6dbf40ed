/* The integer encoder (host/sched/bert_int.c) on all-MiniLM-L6-v2 w8a8: the
 * stream of a sentence is valid (bidirectional attention with queries = keys
 * = tokens, one COPY per layer), the embeddings stay within cosine 0.99 of
 * fp32 on sentences calibration never saw, a sentence length's stream is
 * uploaded once, a run repeats its bits, csim gives ref's bits, and embed
 * chooses it, reports it and keeps --offload linears. Skipped without the model. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compress/bert_compress.h"
#include "runtime/desc.h"
#include "sched/bert_int.h"
#include "testutil.h"
#include "util/err.h"

#define DEV_MEM (64u << 20)

/* calibration: the first sentences of stories260K's own greedy text */
#define CALIB SQ_SHARED_DIR "/data/stories260K_greedy200.txt"
#define N_CALIB 4

static const char *const sentences[] = {
    "A man plays a guitar on the street.",
    "The cat sat quietly by the warm window.",
    "Tom and his sister built a tall tower of blocks.",
};

static double cosine(const float *a, const float *b, size_t n)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return ab / sqrt(aa * bb);
}

START_TEST(test_encoder_w8a8)
{
    char path[4200];
    if (sq_test_model("minilm", "test_bert_int", path, sizeof path))
        return;
    sq_bert_t m;
    ck_assert_msg(sq_bert_load(path, &m) == 0, "%s", sq_err_msg());
    sq_recipe_t r;
    ck_assert_int_eq(sq_recipe_parse("w8a8", &r), 0);
    sq_bert_qmodel_t q;
    ck_assert_msg(sq_bert_qmodel_build(&q, &m, &r, NULL) == 0, "%s", sq_err_msg());
    size_t nc;
    char *text = sq_slurp(CALIB, &nc), **cal;
    text = realloc(text, nc + 1);
    text[nc] = 0;
    ck_assert_int_eq(sq_bert_sentences(text, &cal, &nc), 0);
    ck_assert_uint_ge(nc, N_CALIB);
    sq_dev_t *dev = sq_test_dev_open("ref", DEV_MEM);
    sq_report_t rep;
    sq_report_init(&rep, "minilm", "w8a8", "ref", NULL, 300);
    sq_bert_int_t *p;
    ck_assert_msg(sq_bert_int_build(&p, &q, dev, &rep, cal, N_CALIB) == 0, "%s", sq_err_msg());
    sq_bert_exec_t ex;
    sq_bert_int_exec(p, &ex);
    size_t d = (size_t)m.cfg.dim;
    float *ref = malloc(d * sizeof *ref), *got = malloc(d * sizeof *got);
    float *again = malloc(d * sizeof *again);
    for (size_t i = 0; i < sizeof sentences / sizeof sentences[0]; i++) {
        ck_assert_int_eq(sq_bert_embed(&m, sentences[i], ref, NULL, NULL), 0);
        size_t n;
        ck_assert_msg(sq_bert_embed(&m, sentences[i], got, &n, &ex) == 0, "%s", sq_err_msg());
        double c = cosine(ref, got, d);
        ck_assert_msg(c >= 0.99, "sentence %zu: cosine %f", i, c);
        /* the stream: 5 embedding ops, 16 per layer but the last layer's quant */
        uint32_t ncmd;
        const uint8_t *s = sq_bert_int_stream(p, &ncmd);
        ck_assert_uint_eq(ncmd, 5 + 16 * (uint32_t)m.cfg.n_layers - 1);
        ck_assert_msg(sq_stream_check(s, ncmd) == 0, "%s", sq_err_msg());
        uint32_t copies = 0, attn = 0;
        for (uint32_t k = 0; k < ncmd; k++) {
            const uint8_t *dk = s + (size_t)k * SQ_DESC_BYTES;
            if (sq_desc_opcode(dk) == SQ_OP_ATTN) {
                ck_assert_uint_eq(sq_desc_word(dk, SQ_ATTN_W_FLAGS), 0); /* no causal mask */
                ck_assert_uint_eq(sq_desc_word(dk, SQ_ATTN_W_QUERIES), (uint32_t)n);
                ck_assert_uint_eq(sq_desc_word(dk, SQ_ATTN_W_SEQ), (uint32_t)n);
                attn++;
            }
            copies += sq_desc_opcode(dk) == SQ_OP_VEC &&
                      sq_desc_word(dk, SQ_VEC_W_FUNC) == SQ_VEC_COPY;
        }
        ck_assert_uint_eq(attn, (uint32_t)m.cfg.n_layers);
        ck_assert_uint_eq(copies, (uint32_t)m.cfg.n_layers);
        /* the same sentence again: the same bits, and its stream is not uploaded
         * again (ids in, hidden states out) */
        sq_dev_stats_t b, e;
        sq_dev_stats(dev, &b);
        ck_assert_int_eq(sq_bert_embed(&m, sentences[i], again, NULL, &ex), 0);
        sq_dev_stats(dev, &e);
        ck_assert_int_eq(memcmp(got, again, d * sizeof *got), 0);
        uint64_t patched = 0; /* no position patches in an encoder stream */
        ck_assert_uint_eq(e.host_bytes_written - b.host_bytes_written, 4 * n + patched);
        ck_assert_uint_eq(e.host_bytes_read - b.host_bytes_read, 4 * n * d);
    }
    /* every op of the encoder ran on a unit, none on the host */
    int vec = 0;
    for (size_t i = 0; i < rep.n_ops; i++) {
        ck_assert_str_ne(rep.ops[i].unit, "host");
        vec += !strcmp(rep.ops[i].unit, "vector");
    }
    ck_assert_int_gt(vec, 0);
    /* a sentence longer than the planned rows is one line */
    int32_t *ids = calloc(m.max_tokens + 1, sizeof *ids);
    ck_assert_int_eq(sq_bert_int_forward(p, ids, m.max_tokens + 1, NULL), SQ_ERR_ARG);
    free(ids);
    free(ref);
    free(got);
    free(again);
    sq_bert_int_free(p);
    sq_report_free(&rep);
    sq_dev_close(dev);
    free(cal);
    free(text);
    sq_bert_qmodel_free(&q);
    sq_bert_free(&m);
}
END_TEST

START_TEST(test_embed_cli)
{
    char path[4200];
    if (sq_test_model("minilm", "test_bert_int", path, sizeof path))
        return;
    static char fp[1 << 14], out[1 << 14], err[1 << 14];
    const char *s = "--text 'The cat sat quietly by the warm window.'";
    char args[1024];
    snprintf(args, sizeof args, "embed %s", s);
    ck_assert_int_eq(sq_run_cli(args, fp, sizeof fp, err, sizeof err), 0);
    snprintf(args, sizeof args, "embed %s --recipe w8a8 --backend ref --calib %s --report "
             "/dev/null", s, CALIB);
    ck_assert_msg(sq_run_cli(args, out, sizeof out, err, sizeof err) == 0, "%s", err);
    float a[384], b[384];
    char *pa = fp, *pb = out;
    for (int i = 0; i < 384; i++) {
        a[i] = strtof(pa, &pa);
        b[i] = strtof(pb, &pb);
    }
    ck_assert_double_ge(cosine(a, b, 384), 0.99);
    ck_assert_ptr_nonnull(strstr(err, "gelu"));
    ck_assert_ptr_nonnull(strstr(err, "prefill"));
    /* csim runs the HLS units (the vector unit's COPY and biased ROPE
     * included): the golden's bits */
    static char csim[1 << 14];
    snprintf(args, sizeof args, "embed %s --recipe w8a8 --backend csim --calib %s", s, CALIB);
    ck_assert_msg(sq_run_cli(args, csim, sizeof csim, err, sizeof err) == 0, "%s", err);
    ck_assert_str_eq(csim, out);
    /* --offload linears: the linears alone on the device, the host path's bits */
    static char host[1 << 14];
    snprintf(args, sizeof args, "embed %s --recipe w8a8", s);
    ck_assert_int_eq(sq_run_cli(args, host, sizeof host, err, sizeof err), 0);
    snprintf(args, sizeof args, "embed %s --recipe w8a8 --backend ref --offload linears", s);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 0);
    ck_assert_str_eq(out, host);
    snprintf(args, sizeof args, "embed %s --recipe w8a8 --backend ref --calib /nonexistent", s);
    ck_assert_int_eq(sq_run_cli(args, out, sizeof out, err, sizeof err), 2);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent"));
}
END_TEST

Suite *bert_int_suite(void)
{
    Suite *s = suite_create("bert_int");
    TCase *tc = sq_tcase(s, "bert_int", 600);
    tcase_add_test(tc, test_encoder_w8a8);
    tcase_add_test(tc, test_embed_cli);
    return s;
}
