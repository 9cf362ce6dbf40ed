/* The fuzz targets (contracts in fuzz/targets.h). */
#define _GNU_SOURCE /* memfd_create */
#include "targets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "compress/qmodel.h"
#include "model/bpe.h"
#include "model/gguf.h"
#include "model/gguf_llama.h"
#include "model/llama.h"
#include "model/safetensors.h"
#include "model/tokenizer.h"
#include "runtime/device.h"
#include "runtime/level_xrt.h"
#include "sqm/sqm.h"
#include "util/bytes.h"
#include "util/err.h"

/* Post-load work is skipped above this many floats, so one input stays far
 * below AFL's time limit. */
#define SMALL (1u << 16)

/* Text the tokenizers encode once a vocabulary loaded: ASCII, a multi-byte
 * character outside small vocabularies, a special token, digits, spaces. */
static const char TEXT[] = "Once upon a time,  Tom saw 12 caf\xc3\xa9s \xe2\x9c\x93<|im_start|>!";

/* A path whose file holds exactly data: one memory file, rewritten per input
 * (the loaders that take a path read it like any file). */
static const char *as_file(const uint8_t *data, size_t n)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("sparq-fuzz", 0);
        if (fd < 0) {
            perror("sparq-fuzz: memfd_create");
            abort();
        }
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0)
        abort();
    for (size_t done = 0; done < n;) {
        ssize_t w = pwrite(fd, data + done, n - done, (off_t)done);
        if (w <= 0)
            abort();
        done += (size_t)w;
    }
    return path;
}

/* A malloc'd copy (the parsers that take a memory image own it). */
static uint8_t *copy(const uint8_t *data, size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    if (!p)
        abort();
    memcpy(p, data, n);
    return p;
}

static size_t llama_floats(const sq_llama_config_t *c)
{
    size_t d = (size_t)c->dim, h = (size_t)c->hidden_dim, l = (size_t)c->n_layers;
    return (size_t)c->vocab_size * d * 2 + l * d * (4 * d + 3 * h);
}

/* Two tokens of a loaded model (with ex, its compressed layers). */
static void forward(const sq_llama_t *m, const sq_llama_exec_t *ex)
{
    const sq_llama_config_t *c = &m->cfg;
    if (llama_floats(c) > 64 * (size_t)SMALL ||
        (size_t)c->n_layers * (size_t)c->seq_len * (size_t)c->dim > SMALL)
        return;
    sq_llama_state_t s;
    if (sq_llama_state_build(&s, c) != 0)
        return;
    for (int pos = 0; pos < 2 && pos < c->seq_len; pos++)
        if (sq_llama_forward(m, &s, (pos + 1) % c->vocab_size, pos, ex) != 0)
            break;
    sq_llama_state_free(&s);
}

/* ---- llama2.c checkpoint -------------------------------------------------- */

static int run_llama(const uint8_t *data, size_t n)
{
    sq_llama_t m;
    if (sq_llama_load(as_file(data, n), &m) != 0)
        return 0;
    forward(&m, NULL);
    sq_llama_free(&m);
    return 1;
}

/* ---- llama2.c tokenizer: 2 bytes of vocabulary size, then the file -------- */

static int run_tokenizer(const uint8_t *data, size_t n)
{
    if (n < 2)
        return 0;
    /* the model's vocabulary size, which the loader checks the file against */
    int vocab = 1 + (int)(sq_le_get(data, 2) % 1024);
    sq_tokenizer_t t;
    if (sq_tokenizer_load(as_file(data + 2, n - 2), vocab, &t) != 0)
        return 0;
    int ids[sizeof TEXT + 3], nt;
    if (sq_tokenizer_encode(&t, TEXT, 1, 1, ids, &nt) == 0)
        for (int i = 1; i < nt; i++) {
            char b[2];
            const char *piece = sq_tokenizer_decode(&t, ids[i - 1], ids[i], b);
            if (strlen(piece) > (size_t)t.max_token_length)
                abort(); /* decode returns a vocabulary piece or one byte */
        }
    for (int i = -1; i <= vocab; i++) {
        char b[2];
        (void)sq_tokenizer_decode(&t, SQ_TOK_BOS, i, b);
    }
    sq_tokenizer_free(&t);
    return 1;
}

/* ---- safetensors ---------------------------------------------------------- */

static int run_safetensors(const uint8_t *data, size_t n)
{
    sq_st_t *st;
    if (sq_st_parse(copy(data, n), n, &st) != 0)
        return 0;
    (void)sq_st_metadata(st, "format");
    float *buf = malloc(SMALL * sizeof *buf);
    for (size_t i = 0; buf && i < sq_st_count(st); i++) {
        const sq_st_tensor_t *t = sq_st_tensor(st, i);
        if (sq_st_find(st, t->name) != t)
            abort(); /* names are unique */
        if (t->numel <= SMALL)
            (void)sq_st_read_f32(st, t->name, t->ndim, t->shape, buf);
    }
    free(buf);
    sq_st_free(st);
    return 1;
}

/* ---- GGUF: metadata, tensors, the BPE tokenizer and the Llama model ------- */

static void gguf_tokenizer(const sq_gguf_t *g)
{
    sq_bpe_t *bpe;
    if (sq_bpe_from_gguf(g, &bpe) != 0)
        return;
    int32_t ids[sizeof TEXT];
    size_t nid = 0;
    char buf[4096];
    if (sq_bpe_encode(bpe, TEXT, 1, ids, sizeof ids / sizeof ids[0], &nid) == 0)
        for (size_t i = 0; i < nid; i++)
            (void)sq_bpe_decode(bpe, ids[i], buf, sizeof buf);
    size_t nv = sq_bpe_vocab_size(bpe);
    for (size_t i = 0; i < nv && i < 4096; i++)
        (void)sq_bpe_decode(bpe, (int32_t)i, buf, sizeof buf);
    (void)sq_bpe_decode(bpe, -1, buf, sizeof buf);
    sq_bpe_free(bpe);
}

static int run_gguf(const uint8_t *data, size_t n)
{
    sq_gguf_t *g;
    if (sq_gguf_parse(copy(data, n), n, &g) != 0)
        return 0;
    for (size_t i = 0; i < sq_gguf_n_kv(g); i++) {
        const sq_gguf_kv_t *kv = sq_gguf_kv(g, i);
        uint64_t u;
        float f;
        sq_gguf_str_t s;
        int b;
        (void)sq_gguf_get_u64(g, kv->key, &u);
        (void)sq_gguf_get_f32(g, kv->key, &f);
        (void)sq_gguf_get_str(g, kv->key, &s);
        (void)sq_gguf_get_bool(g, kv->key, &b);
    }
    float *buf = malloc(SMALL * sizeof *buf);
    for (size_t i = 0; buf && i < sq_gguf_n_tensors(g); i++) {
        const sq_gguf_tensor_t *t = sq_gguf_tensor(g, i);
        if (t->numel <= SMALL)
            (void)sq_gguf_dequant(t, buf);
    }
    free(buf);
    gguf_tokenizer(g);
    sq_llama_t m;
    if (sq_gguf_load_llama(g, 16, &m) == 0) {
        forward(&m, NULL);
        sq_llama_free(&m);
    }
    sq_gguf_free(g);
    return 1;
}

/* ---- .sqm: the container, its tensors and the compressed model ------------ */

static int sqm(uint8_t *img, size_t n)
{
    sq_sqm_t *s;
    if (sq_sqm_parse(img, n, &s) != 0)
        return 0;
    float *buf = malloc(SMALL * sizeof *buf);
    for (size_t i = 0; buf && i < sq_sqm_count(s); i++) {
        const sq_sqm_tensor_t *t = sq_sqm_tensor(s, i);
        if (sq_sqm_numel(t) <= SMALL)
            (void)sq_sqm_dequant(t, buf);
    }
    free(buf);
    sq_llama_t m;
    sq_qmodel_t q;
    if (sq_qmodel_from_sqm(s, &m, &q) == 0) {
        sq_llama_exec_t ex;
        sq_qmodel_exec(&q, &ex);
        forward(&m, &ex);
        sq_qmodel_free(&q);
        sq_llama_free(&m);
    }
    sq_sqm_free(s);
    return 1;
}

static int run_sqm(const uint8_t *data, size_t n)
{
    return sqm(copy(data, n), n);
}

/* The table walk follows docs/sqm.md: a 128-byte fixed header, entries of
 * u16 name_len, name, dtype, ndim, scale_kind, flags, u32 group_size,
 * u32 codebook_size, u64 shape[ndim], u64 offset, u64 bytes, u32 CRC; the
 * header's CRC in its last 4 bytes. */
void sq_fuzz_sqm_fix_crcs(uint8_t *img, size_t n)
{
    if (n < 128)
        return;
    uint32_t count = (uint32_t)sq_le_get(img + 12, 4);
    uint64_t header = sq_le_get(img + 16, 8);
    size_t p = 128;
    for (uint32_t i = 0; i < count && p + 2 <= n; i++) {
        size_t name_len = (size_t)sq_le_get(img + p, 2);
        size_t at = p + 2 + name_len; /* dtype */
        if (at + 12 > n)
            return;
        size_t ndim = img[at + 1];
        size_t fields = at + 12 + 8 * ndim; /* offset, bytes, CRC */
        if (fields + 20 > n)
            return;
        uint64_t off = sq_le_get(img + fields, 8), bytes = sq_le_get(img + fields + 8, 8);
        if (off <= n && bytes <= n - off)
            sq_le_put(img + fields + 16, crc32_z(0, img + off, (size_t)bytes), 4);
        p = fields + 20;
    }
    if (header >= 4 && header <= n)
        sq_le_put(img + header - 4, crc32_z(0, img, (size_t)header - 4), 4);
}

static int run_sqm_crc(const uint8_t *data, size_t n)
{
    uint8_t *img = copy(data, n);
    sq_fuzz_sqm_fix_crcs(img, n);
    return sqm(img, n);
}

/* ---- xclbin: sparq's checks, then XRT's own parser ------------------------ */

static int setup_xclbin(void)
{
    return sq_xrt_env();
}

static int run_xclbin(const uint8_t *data, size_t n)
{
    size_t kernels;
    return sq_xrt_xclbin_check(as_file(data, n), &kernels) == 0;
}

/* ---- a command stream as the runtime receives it ------------------------- */

/* Byte 0 picks the number of descriptors (1..8); the rest is the device
 * memory image, the stream at address 0 and operands anywhere in it. The
 * stream runs through sq_dev_run on the ref level (the golden reference) and
 * the csim level (the HLS kernels): the runtime validates it
 * (runtime/desc.h) and no level may then read or write outside device
 * memory, and when both accept it their memories must end equal. */
#define DESC_MEM (16u << 10)
static sq_dev_t *desc_dev[2];
static uint8_t *desc_img[2];

static int setup_desc(void)
{
    const char *levels[2] = {"ref", "csim"};
    for (int i = 0; i < 2; i++) {
        sq_dev_config_t cfg;
        sq_dev_config_default(&cfg, levels[i]);
        cfg.mem_bytes = DESC_MEM;
        uint64_t at;
        /* the image is the device's whole memory, allocated: the runtime
         * refuses operands outside what the host allocated */
        int rc = sq_dev_open(&cfg, &desc_dev[i]);
        if (!rc)
            rc = sq_dev_alloc(desc_dev[i], DESC_MEM, &at);
        if (rc)
            return rc;
        if (!(desc_img[i] = malloc(DESC_MEM)))
            return sq_err(SQ_ERR_MEM, "out of memory");
    }
    return 0;
}

static int run_desc(const uint8_t *data, size_t n)
{
    if (n < 1)
        return 0;
    uint32_t n_cmds = 1u + data[0] % 8u;
    size_t len = n - 1 < DESC_MEM ? n - 1 : DESC_MEM;
    int rc[2];
    for (int i = 0; i < 2; i++) {
        memset(desc_img[i], 0, DESC_MEM);
        memcpy(desc_img[i], data + 1, len);
        if (sq_dev_write(desc_dev[i], 0, desc_img[i], DESC_MEM) != 0)
            abort();
        rc[i] = sq_dev_run(desc_dev[i], 0, n_cmds, 0);
        if (sq_dev_read(desc_dev[i], 0, desc_img[i], DESC_MEM) != 0)
            abort();
    }
    /* validation happens before any level runs: both accept or both refuse */
    if ((rc[0] == 0) != (rc[1] == 0))
        abort();
    if (rc[0] == 0 && memcmp(desc_img[0], desc_img[1], DESC_MEM) != 0) {
        fprintf(stderr, "sparq-fuzz desc: ref and csim memories differ\n");
        abort();
    }
    return rc[0] == 0;
}

/* ------------------------------------------------------------------------- */

const sq_fuzz_target_t sq_fuzz_targets[] = {
    {"llama", "llama2.c checkpoint (sq_llama_load), then two forward steps", NULL, run_llama},
    {"tokenizer", "llama2.c tokenizer: u16 vocabulary size - 1, then the file", NULL,
     run_tokenizer},
    {"safetensors", "safetensors file (sq_st_parse), every float tensor read", NULL,
     run_safetensors},
    {"gguf", "GGUF file: metadata, tensors, BPE tokenizer, Llama model", NULL, run_gguf},
    {"sqm", ".sqm file as it is (CRCs checked)", NULL, run_sqm},
    {"sqm-crc", ".sqm file with its CRCs repaired first, so mutations reach the parser", NULL,
     run_sqm_crc},
    {"xclbin", "xclbin: sq_xrt_xclbin_check, then XRT's parser", setup_xclbin, run_xclbin},
    {"desc", "byte 0: descriptors - 1; then device memory with the stream at 0 (ref, csim)",
     setup_desc, run_desc},
    {NULL, NULL, NULL, NULL},
};

const sq_fuzz_target_t *sq_fuzz_find(const char *name)
{
    for (const sq_fuzz_target_t *t = sq_fuzz_targets; t->name; t++)
        if (!strcmp(t->name, name))
            return t;
    return NULL;
}
