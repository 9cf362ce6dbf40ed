/* .sqm: sparq's compressed model container (byte layout in docs/sqm.md).
 *
 * One file holds a model config and a table of named tensors. Each tensor is
 * a 2-D view (rows, k): k is the last dimension (the GEMM reduction axis) and
 * rows the product of the others, so a weight (out, in) has one row per output
 * channel. Payload per dtype:
 *   F32       float values
 *   I8        int8 values, dequant q * scale (+ zero)
 *   I4        int4 packed with sq_i4_pack_row, ceil(k/2) bytes per row
 *   SP24_I8   2:4 values and position metadata as sq_sp24_encode_row writes
 *             them (values of all rows, then metadata of all rows)
 *   CODEBOOK  one uint8 index per element into a float codebook
 * Layouts of int4 and 2:4 are the accelerator's (include/sparq/numerics.h),
 * so payloads go to device memory unchanged.
 *
 * Ownership: a model owns every tensor it holds. sq_sqm_add copies the
 * caller's buffers; sq_sqm_read returns a model whose tensors point into the
 * file image it owns. Pointers from sq_sqm_find / sq_sqm_tensor stay valid
 * until sq_sqm_free (adding tensors does not move earlier ones).
 * All functions return 0 or a negative SQ_ERR_* code with one line in
 * sq_err_msg(). */
#ifndef SQ_SQM_H
#define SQ_SQM_H

#include <stddef.h>
#include <stdint.h>

#define SQ_SQM_MAGIC "SPARQSQM"
#define SQ_SQM_VERSION 1u
#define SQ_SQM_ALIGN 64u       /* payload offsets are multiples of this */
#define SQ_SQM_NAME_MAX 255u   /* bytes of UTF-8 in a tensor name */
#define SQ_SQM_ARCH_MAX 32u    /* arch field incl. its NUL padding */
#define SQ_SQM_MAX_NDIM 4u
#define SQ_SQM_CODEBOOK_MAX 256u

typedef enum {
    SQ_SQM_F32 = 1,
    SQ_SQM_I8 = 2,
    SQ_SQM_I4 = 3,
    SQ_SQM_SP24_I8 = 4,
    SQ_SQM_CODEBOOK = 5,
} sq_sqm_dtype_t;

typedef enum {
    SQ_SQM_SCALE_NONE = 0,   /* F32 and CODEBOOK */
    SQ_SQM_SCALE_TENSOR = 1, /* one scale */
    SQ_SQM_SCALE_ROW = 2,    /* one per row (output channel) */
    SQ_SQM_SCALE_GROUP = 3,  /* one per group_size consecutive k of a row */
} sq_sqm_scale_t;

/* Config flag: the classifier reuses the token embedding (llama2.c's
 * positive vocab_size). */
#define SQ_SQM_SHARED_CLASSIFIER (1u << 0)

typedef struct {
    char arch[SQ_SQM_ARCH_MAX]; /* e.g. "llama", "bert"; NUL-terminated */
    /* llama2.c's Config, in its order */
    uint32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
    uint32_t flags; /* SQ_SQM_SHARED_CLASSIFIER */
    float rope_theta;
    float norm_eps;
} sq_sqm_config_t;

typedef struct {
    const char *name;
    sq_sqm_dtype_t dtype;
    uint32_t ndim;                      /* 1..SQ_SQM_MAX_NDIM */
    uint64_t shape[SQ_SQM_MAX_NDIM];    /* each >= 1 */
    sq_sqm_scale_t scale_kind;
    uint32_t group_size;                /* SQ_SQM_SCALE_GROUP only */
    const void *data;                   /* values, layout per dtype above */
    const uint8_t *meta;                /* SP24_I8: (rows, sq_meta_row_bytes(k)) */
    const float *scales;                /* sq_sqm_n_scales() values, or NULL */
    const float *zeros;                 /* optional, same count as scales: x = q*s + z */
    const float *codebook;              /* CODEBOOK: codebook_size values */
    uint32_t codebook_size;             /* CODEBOOK: 1..SQ_SQM_CODEBOOK_MAX */
} sq_sqm_tensor_t;

typedef struct sq_sqm sq_sqm_t;

/* An empty model with the given config; NULL when out of memory. */
sq_sqm_t *sq_sqm_create(const sq_sqm_config_t *config);
/* Validates t (dtype, shape, scales, names unique and valid UTF-8, int4 pad
 * nibbles zero, 2:4 codes well formed, codebook indices in range) and adds a
 * copy of it. */
int sq_sqm_add(sq_sqm_t *m, const sq_sqm_tensor_t *t);
int sq_sqm_write(const sq_sqm_t *m, const char *path);
/* Reads and validates a whole file; *out is NULL on error. */
int sq_sqm_read(const char *path, sq_sqm_t **out);
/* Same, from a file image in memory; takes ownership of data (malloc'd) on
 * success and on failure. */
int sq_sqm_parse(uint8_t *data, size_t n, sq_sqm_t **out);
void sq_sqm_free(sq_sqm_t *m);
/* True when the file starts with SQ_SQM_MAGIC. */
int sq_sqm_is_file(const char *path);

const sq_sqm_config_t *sq_sqm_config(const sq_sqm_t *m);
size_t sq_sqm_count(const sq_sqm_t *m);
const sq_sqm_tensor_t *sq_sqm_tensor(const sq_sqm_t *m, size_t i);
/* NULL when no tensor has that name. */
const sq_sqm_tensor_t *sq_sqm_find(const sq_sqm_t *m, const char *name);

/* Shape helpers: k = last dim, rows = product of the others. */
uint64_t sq_sqm_numel(const sq_sqm_tensor_t *t);
uint64_t sq_sqm_k(const sq_sqm_tensor_t *t);
uint64_t sq_sqm_rows(const sq_sqm_tensor_t *t);
uint64_t sq_sqm_n_scales(const sq_sqm_tensor_t *t);
/* Bytes the tensor's payload takes in the file (all sections, padded). */
uint64_t sq_sqm_payload_bytes(const sq_sqm_tensor_t *t);
const char *sq_sqm_dtype_name(sq_sqm_dtype_t dt);

/* Expands a tensor to numel floats (out must hold that many). */
int sq_sqm_dequant(const sq_sqm_tensor_t *t, float *out);

#endif
