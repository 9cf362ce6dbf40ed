/* Writes the seed corpus (fuzz/corpus/<target>/seed-*): one small valid
 * input per format and path through it, built with sparq's own writers where
 * it has them (.sqm, compressed models, descriptors) and by hand after the
 * format's spec where it only reads (llama2.c, safetensors, GGUF). Small
 * files on purpose: AFL++ mutates a 2 KB seed far faster than a 1 MB model.
 * The xclbin seed comes from build/xclbingen (fuzz/fuzz.mk); byte buffers and
 * GGUF strings from tests/gguf_writer.h, as the GGUF tests write theirs.
 *
 * Usage: fuzz-seeds CORPUS_DIR TOKENIZER.bin   (`make fuzz-seeds`) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "compress/qmodel.h"
#include "compress/recipe.h"
#include "model/gguf.h"
#include "model/llama.h"
#include "runtime/attn_case.h"
#include "runtime/device.h"
#include "runtime/gemm_case.h"
#include "sqm/sqm_llama.h"
#include "util/bytes.h"
#include "util/err.h"
#include "gguf_writer.h"

static const char *corpus;

static void die(const char *what)
{
    fprintf(stderr, "fuzz-seeds: %s: %s\n", what, sq_err_msg());
    exit(1);
}

static void path_of(const char *target, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", corpus, target);
    mkdir(out, 0755);
    snprintf(out, cap, "%s/%s/seed-%s", corpus, target, name);
}

static void save(const char *target, const char *name, const void *data, size_t n)
{
    char path[4096];
    path_of(target, name, path, sizeof path);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "fuzz-seeds: cannot write %s\n", path);
        exit(1);
    }
}

static float small_weight(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((int)(*s >> 40 & 0xFFFF) - 32768) / 65536.0f;
}

/* ---- llama2.c checkpoints -------------------------------------------------- */

static void tiny_llama(sq_llama_t *m, int dim, int shared)
{
    sq_llama_config_t c = {.dim = dim, .hidden_dim = 2 * dim, .n_layers = 1, .n_heads = 4,
                           .n_kv_heads = 2, .vocab_size = 40, .seq_len = 8,
                           .shared_classifier = shared, .rope_theta = 10000.0f,
                           .norm_eps = 1e-5f};
    if (sq_llama_alloc(m, &c))
        die("tiny model");
    uint64_t s = 7;
    float *w = m->storage;
    size_t total = (size_t)(m->w.rms_final - w) + (size_t)dim;
    if (!shared)
        total = (size_t)(m->w.wcls - w) + (size_t)c.vocab_size * dim;
    for (size_t i = 0; i < total; i++)
        w[i] = small_weight(&s);
}

/* llama2.c's layout: 7 int32 header (vocab negative for an unshared
 * classifier), the weights in their order, the unused RoPE tables. */
static void llama_seed(int shared)
{
    sq_llama_t m;
    tiny_llama(&m, 8, shared);
    const sq_llama_config_t *c = &m.cfg;
    sq_gw_t b = {0};
    int32_t hdr[7] = {c->dim, c->hidden_dim, c->n_layers, c->n_heads, c->n_kv_heads,
                      shared ? c->vocab_size : -c->vocab_size, c->seq_len};
    for (int i = 0; i < 7; i++)
        sq_gw_u(&b, (uint32_t)hdr[i], 4);
    const sq_llama_weights_t *w = &m.w;
    size_t d = (size_t)c->dim, h = (size_t)c->hidden_dim, l = (size_t)c->n_layers;
    size_t kv = d / (size_t)c->n_heads * (size_t)c->n_kv_heads, hs = d / (size_t)c->n_heads;
    struct {
        const float *p;
        size_t n;
    } parts[] = {{w->token_embedding, (size_t)c->vocab_size * d}, {w->rms_att, l * d},
                 {w->wq, l * d * d}, {w->wk, l * kv * d}, {w->wv, l * kv * d},
                 {w->wo, l * d * d}, {w->rms_ffn, l * d}, {w->w1, l * h * d},
                 {w->w2, l * d * h}, {w->w3, l * h * d}, {w->rms_final, d}};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        sq_gw_put(&b, parts[i].p, parts[i].n * sizeof(float));
    for (size_t i = 0; i < (size_t)c->seq_len * hs; i++)
        sq_gw_f32(&b, 0.0f);
    if (!shared)
        sq_gw_put(&b, w->wcls, (size_t)c->vocab_size * d * sizeof(float));
    save("llama", shared ? "shared.bin" : "separate.bin", b.p, b.n);
    free(b.p);
    sq_llama_free(&m);
}

/* ---- llama2.c tokenizer: u16 vocabulary size - 1, then the file ----------- */

static void tokenizer_seeds(const char *tok512)
{
    uint8_t *img;
    size_t n;
    if (sq_file_read(tok512, &img, &n))
        die("tokenizer");
    sq_gw_t b = {0};
    sq_gw_u(&b, 511, 2);
    sq_gw_put(&b, img, n);
    save("tokenizer", "tok512.bin", b.p, b.n);
    free(img);
    /* a small vocabulary: specials, a space, pieces with merges, byte pieces */
    static const char *const pieces[] = {"<unk>", "<s>", "</s>", " ", "a", "b", "ab", " a",
                                         "ca", "f", "\xc3\xa9", "<0x41>", "<0xC3>", "<0xA9>",
                                         "<0xE2>", "<0x9C>", "<0x93>", "<0x20>"};
    size_t np = sizeof pieces / sizeof pieces[0];
    b.n = 0;
    sq_gw_u(&b, np - 1, 2);
    sq_gw_u(&b, 8, 4); /* max token length */
    for (size_t i = 0; i < np; i++) {
        sq_gw_f32(&b, (float)i * -0.5f);
        sq_gw_u(&b, strlen(pieces[i]), 4);
        sq_gw_put(&b, pieces[i], strlen(pieces[i]));
    }
    save("tokenizer", "small.bin", b.p, b.n);
    free(b.p);
}

/* ---- safetensors ---------------------------------------------------------- */

static void safetensors_seed(void)
{
    const char *json = "{\"__metadata__\":{\"format\":\"pt\"},"
                       "\"a.f32\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                       "\"b.f16\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[24,32]},"
                       "\"c.bf16\":{\"dtype\":\"BF16\",\"shape\":[2,1],\"data_offsets\":[32,36]},"
                       "\"d.i8\":{\"dtype\":\"I8\",\"shape\":[3],\"data_offsets\":[36,39]},"
                       "\"e.scalar\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[39,43]}}";
    sq_gw_t b = {0};
    sq_gw_u(&b, strlen(json), 8);
    sq_gw_put(&b, json, strlen(json));
    for (int i = 0; i < 6; i++)
        sq_gw_f32(&b, (float)i - 2.5f);
    static const uint16_t f16[4] = {0x3C00, 0xC000, 0x3555, 0x0001};
    for (int i = 0; i < 4; i++)
        sq_gw_u(&b, f16[i], 2);
    sq_gw_u(&b, 0x3F80, 2); /* bf16 1.0 */
    sq_gw_u(&b, 0xC040, 2); /* bf16 -3.0 */
    sq_gw_put(&b, "\x01\xff\x80", 3);
    sq_gw_f32(&b, 0.5f);
    save("safetensors", "small.safetensors", b.p, b.n);
    free(b.p);
}

/* ---- GGUF: a tiny Llama with a GPT-2 BPE tokenizer ----------------------- */

static void kv_u32(sq_gw_t *b, const char *key, uint32_t v)
{
    sq_gw_kv_head(b, key, SQ_GGUF_U32);
    sq_gw_u(b, v, 4);
}

static void kv_f32(sq_gw_t *b, const char *key, float v)
{
    sq_gw_kv_head(b, key, SQ_GGUF_F32);
    sq_gw_f32(b, v);
}

static void kv_str(sq_gw_t *b, const char *key, const char *v)
{
    sq_gw_kv_head(b, key, SQ_GGUF_STRING);
    sq_gw_str(b, v);
}

static void kv_strs(sq_gw_t *b, const char *key, const char *const *v, size_t n)
{
    sq_gw_kv_head(b, key, SQ_GGUF_ARRAY);
    sq_gw_u(b, SQ_GGUF_STRING, 4);
    sq_gw_u(b, n, 8);
    for (size_t i = 0; i < n; i++)
        sq_gw_str(b, v[i]);
}

typedef struct {
    const char *name;
    uint64_t ne0, ne1; /* ne1 0: one dimension */
    uint32_t type;
} gt_t;

/* Bytes of one tensor of ggml type ty (F32, F16, BF16, Q8_0, Q4_0, Q4_1). */
static size_t ggml_bytes(uint32_t ty, uint64_t numel)
{
    switch (ty) {
    case SQ_GGML_F32: return numel * 4;
    case SQ_GGML_F16: case SQ_GGML_BF16: return numel * 2;
    case SQ_GGML_Q8_0: return numel / 32 * 34;
    case SQ_GGML_Q4_0: return numel / 32 * 18;
    default: return numel / 32 * 20; /* Q4_1 */
    }
}

/* Random payload: block scales as small f16 values, the rest random bytes. */
static void ggml_fill(sq_gw_t *b, uint32_t ty, uint64_t numel, uint64_t *s)
{
    size_t block = ty == SQ_GGML_Q8_0 ? 34 : ty == SQ_GGML_Q4_0 ? 18 : ty == SQ_GGML_Q4_1 ? 20 : 0;
    size_t n = ggml_bytes(ty, numel);
    for (size_t i = 0; i < n;) {
        if (ty == SQ_GGML_F32) {
            sq_gw_f32(b, small_weight(s));
            i += 4;
        } else if (ty == SQ_GGML_F16 || ty == SQ_GGML_BF16) {
            sq_gw_u(b, ty == SQ_GGML_F16 ? 0x2E66 : 0x3DCC, 2); /* ~0.1 */
            i += 2;
        } else if (i % block < (ty == SQ_GGML_Q4_1 ? 4u : 2u)) {
            sq_gw_u(b, i % block == 0 ? 0x1E66 : 0x9E66, 2); /* d ~ 0.006, m ~ -0.006 */
            i += 2;
        } else {
            small_weight(s);
            sq_gw_u(b, *s >> 56, 1);
            i += 1;
        }
    }
}

static void gguf_seed(void)
{
    enum { D = 32, H = 64, V = 12 };
    static const char *const tokens[V] = {"<|endoftext|>", "<|im_start|>", "a", "b", "\xc4\xa0",
                                          "ab", "\xc4\xa0" "a", "1", "2", "c", "!", ","};
    static const char *const merges[] = {"a b", "\xc4\xa0 a", "ab c"};
    const gt_t t[] = {
        {"token_embd.weight", D, V, SQ_GGML_F32},
        {"output_norm.weight", D, 0, SQ_GGML_F32},
        {"blk.0.attn_norm.weight", D, 0, SQ_GGML_F32},
        {"blk.0.attn_q.weight", D, D, SQ_GGML_Q8_0},
        {"blk.0.attn_k.weight", D, D / 2, SQ_GGML_Q4_0},
        {"blk.0.attn_v.weight", D, D / 2, SQ_GGML_Q4_1},
        {"blk.0.attn_output.weight", D, D, SQ_GGML_F16},
        {"blk.0.ffn_norm.weight", D, 0, SQ_GGML_F32},
        {"blk.0.ffn_gate.weight", D, H, SQ_GGML_BF16},
        {"blk.0.ffn_down.weight", H, D, SQ_GGML_Q8_0},
        {"blk.0.ffn_up.weight", D, H, SQ_GGML_Q4_1},
    };
    size_t nt = sizeof t / sizeof t[0];
    sq_gw_t b = {0};
    sq_gw_put(&b, "GGUF", 4);
    sq_gw_u(&b, 3, 4);
    sq_gw_u(&b, nt, 8);
    sq_gw_u(&b, 16, 8); /* key-value pairs */
    kv_str(&b, "general.architecture", "llama");
    kv_u32(&b, "general.alignment", 32);
    kv_u32(&b, "llama.context_length", 16);
    kv_u32(&b, "llama.embedding_length", D);
    kv_u32(&b, "llama.block_count", 1);
    kv_u32(&b, "llama.feed_forward_length", H);
    kv_u32(&b, "llama.attention.head_count", 4);
    kv_u32(&b, "llama.attention.head_count_kv", 2);
    kv_f32(&b, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    kv_f32(&b, "llama.rope.freq_base", 10000.0f);
    kv_str(&b, "tokenizer.ggml.model", "gpt2");
    kv_str(&b, "tokenizer.ggml.pre", "smollm");
    kv_strs(&b, "tokenizer.ggml.tokens", tokens, V);
    sq_gw_str(&b, "tokenizer.ggml.token_type");
    sq_gw_u(&b, SQ_GGUF_ARRAY, 4);
    sq_gw_u(&b, SQ_GGUF_I32, 4);
    sq_gw_u(&b, V, 8);
    for (int i = 0; i < V; i++)
        sq_gw_u(&b, i < 2 ? 3 : 1, 4); /* control, then normal */
    kv_strs(&b, "tokenizer.ggml.merges", merges, sizeof merges / sizeof merges[0]);
    kv_u32(&b, "tokenizer.ggml.eos_token_id", 0);
    uint64_t off = 0;
    for (size_t i = 0; i < nt; i++) {
        sq_gw_str(&b, t[i].name);
        sq_gw_u(&b, t[i].ne1 ? 2 : 1, 4);
        sq_gw_u(&b, t[i].ne0, 8);
        if (t[i].ne1)
            sq_gw_u(&b, t[i].ne1, 8);
        sq_gw_u(&b, t[i].type, 4);
        sq_gw_u(&b, off, 8);
        off += (ggml_bytes(t[i].type, t[i].ne0 * (t[i].ne1 ? t[i].ne1 : 1)) + 31) / 32 * 32;
    }
    while (b.n % 32)
        sq_gw_u(&b, 0, 1);
    uint64_t s = 3;
    for (size_t i = 0; i < nt; i++) {
        ggml_fill(&b, t[i].type, t[i].ne0 * (t[i].ne1 ? t[i].ne1 : 1), &s);
        while (b.n % 32)
            sq_gw_u(&b, 0, 1);
    }
    save("gguf", "tiny-llama.gguf", b.p, b.n);
    free(b.p);
}

/* ---- .sqm: the fp32 model and compressed ones, in both sqm targets ------- */

static void sqm_seeds(void)
{
    sq_llama_t m;
    tiny_llama(&m, 32, 1);
    char path[4096];
    sq_sqm_t *s;
    if (sq_sqm_from_llama(&m, &s))
        die("sqm from llama");
    for (int crc = 0; crc < 2; crc++) {
        path_of(crc ? "sqm-crc" : "sqm", "fp32.sqm", path, sizeof path);
        if (sq_sqm_write(s, path))
            die("sqm write");
    }
    sq_sqm_free(s);
    static const char *const recipes[] = {"w8a8", "w4g32", "2:4", "share:k=4"};
    for (size_t i = 0; i < sizeof recipes / sizeof recipes[0]; i++) {
        sq_recipe_t r;
        sq_qmodel_t q;
        if (sq_recipe_parse(recipes[i], &r) || sq_qmodel_build(&q, &m, &r))
            die(recipes[i]);
        char name[64];
        snprintf(name, sizeof name, "%s.sqm", recipes[i]);
        for (char *p = name; *p; p++)
            if (*p == ':' || *p == '=')
                *p = '-';
        for (int crc = 0; crc < 2; crc++) {
            path_of(crc ? "sqm-crc" : "sqm", name, path, sizeof path);
            if (sq_qmodel_write_sqm(&q, path))
                die("qmodel write");
        }
        sq_qmodel_free(&q);
    }
    sq_llama_free(&m);
}

/* ---- command streams ------------------------------------------------------ */

/* The device memory image of fuzz/targets.c's "desc" target (16 KiB): byte 0
 * the count - 1, then the stream at address 0 and the operands after it. */
#define DESC_MEM (16u << 10)

static void desc_seed(const char *name, const sq_gemm_case_t *gemms, int ng,
                      const sq_attn_case_t *attns, int na)
{
    sq_dev_config_t cfg;
    sq_dev_config_default(&cfg, "ref");
    cfg.mem_bytes = DESC_MEM;
    sq_dev_t *dev;
    uint64_t stream, cmd;
    int n = ng + na;
    if (sq_dev_open(&cfg, &dev) || sq_dev_alloc(dev, (size_t)n * SQ_DESC_BYTES, &stream))
        die("desc device");
    uint8_t desc[SQ_DESC_BYTES];
    for (int i = 0; i < n; i++) {
        /* placing writes operands and a descriptor; the stream gets a copy */
        int rc = i < ng ? sq_gemm_case_place(dev, (sq_gemm_case_t *)&gemms[i], &cmd)
                        : sq_attn_case_place(dev, (sq_attn_case_t *)&attns[i - ng], &cmd);
        if (rc || sq_dev_read(dev, cmd, desc, sizeof desc) ||
            sq_dev_write(dev, stream + (uint64_t)i * SQ_DESC_BYTES, desc, sizeof desc))
            die("desc place");
    }
    uint8_t *img = malloc(DESC_MEM + 1);
    img[0] = (uint8_t)(n - 1);
    if (sq_dev_read(dev, 0, img + 1, DESC_MEM) || sq_dev_run(dev, stream, (uint32_t)n, 0))
        die("desc run");
    /* trailing zeros are the harness's default: leave them out */
    size_t len = DESC_MEM + 1;
    while (len > 1 && !img[len - 1])
        len--;
    save("desc", name, img, len);
    free(img);
    sq_dev_close(dev);
}

static void desc_seeds(void)
{
    sq_gemm_case_t g[4];
    static const uint32_t shapes[4][4] = {
        {3, 5, 7, SQ_GEMM_BIAS | SQ_GEMM_RELU},
        {4, 4, 9, SQ_GEMM_W4},
        {2, 3, 13, SQ_GEMM_SP24 | SQ_GEMM_OUT32},
        {17, 9, 33, SQ_GEMM_OUT32 | SQ_GEMM_BIAS},
    };
    for (int i = 0; i < 4; i++)
        if (sq_gemm_case_build(&g[i], shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3],
                               (uint64_t)i + 1))
            die("gemm case");
    sq_attn_case_t a[2];
    sq_attn_params_t p[2] = {
        {.seq = 9, .queries = 3, .heads = 2, .kv_heads = 1, .head_dim = 8,
         .flags = SQ_ATTN_CAUSAL | SQ_ATTN_WINDOW | SQ_ATTN_TOPK, .window = 4, .topk = 2,
         .int8_range = 128, .seed = 5},
        {.seq = 40, .queries = 1, .heads = 1, .kv_heads = 1, .head_dim = 4,
         .flags = SQ_ATTN_BLOCK | SQ_ATTN_GLOBAL, .n_global = 2, .block_density = 0.5,
         .int8_range = 3, .seed = 6},
    };
    for (int i = 0; i < 2; i++)
        if (sq_attn_case_build(&a[i], &p[i]))
            die("attn case");
    desc_seed("gemm.bin", &g[0], 1, NULL, 0);
    desc_seed("gemm-modes.bin", &g[1], 3, NULL, 0);
    desc_seed("attn.bin", NULL, 0, &a[0], 1);
    desc_seed("mixed.bin", &g[0], 2, a, 2);
    for (int i = 0; i < 4; i++)
        sq_gemm_case_free(&g[i]);
    for (int i = 0; i < 2; i++)
        sq_attn_case_free(&a[i]);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fuzz-seeds CORPUS_DIR TOKENIZER.bin\n");
        return 2;
    }
    corpus = argv[1];
    mkdir(corpus, 0755);
    llama_seed(1);
    llama_seed(0);
    tokenizer_seeds(argv[2]);
    safetensors_seed();
    gguf_seed();
    sqm_seeds();
    desc_seeds();
    return 0;
}
