/* GGUF reader (llama.cpp's model format, versions 2 and 3):
 *   "GGUF", u32 version, u64 n_tensors, u64 n_kv,
 *   n_kv x { string key, u32 type, value }      (strings: u64 length + bytes)
 *   n_tensors x { string name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset }
 *   padding to general.alignment (default 32), then the tensor data; each
 *   offset is relative to the data start and a multiple of the alignment.
 * ne[0] is the innermost (contiguous) dimension, so a ggml (ne0 = in,
 * ne1 = out) matrix is a row-major (out, in) array.
 *
 * Every field is checked: magic, version, counts against the bytes left,
 * string lengths, UTF-8 keys and names, value types (arrays of any type,
 * nested arrays included, bounded depth), booleans 0/1, unique keys and
 * names, alignment a power of two, dims >= 1 with no overflow, block types'
 * ne0 a multiple of the block, offsets aligned and in range, tensors not
 * overlapping.
 *
 * The model owns the file image; pointers into it stay valid until
 * sq_gguf_free. Calls return 0 or a negative SQ_ERR_* with one line in
 * sq_err_msg(). */
#ifndef SQ_GGUF_H
#define SQ_GGUF_H

#include <stddef.h>
#include <stdint.h>

#define SQ_GGUF_MAX_DIMS 4u

/* Metadata value types. */
typedef enum {
    SQ_GGUF_U8 = 0, SQ_GGUF_I8 = 1, SQ_GGUF_U16 = 2, SQ_GGUF_I16 = 3, SQ_GGUF_U32 = 4,
    SQ_GGUF_I32 = 5, SQ_GGUF_F32 = 6, SQ_GGUF_BOOL = 7, SQ_GGUF_STRING = 8, SQ_GGUF_ARRAY = 9,
    SQ_GGUF_U64 = 10, SQ_GGUF_I64 = 11, SQ_GGUF_F64 = 12,
} sq_gguf_vtype_t;

/* Tensor types with a dequantizer (ggml_type numbering). Others are
 * recognised by size for `info` but cannot be dequantized. */
typedef enum {
    SQ_GGML_F32 = 0, SQ_GGML_F16 = 1, SQ_GGML_Q4_0 = 2, SQ_GGML_Q4_1 = 3, SQ_GGML_Q8_0 = 8,
    SQ_GGML_BF16 = 30,
} sq_ggml_type_t;

typedef struct {
    const char *p; /* not NUL-terminated */
    uint64_t len;
} sq_gguf_str_t;

typedef struct {
    const char *key;     /* NUL-terminated copy */
    sq_gguf_vtype_t type;
    union {
        uint64_t u;      /* unsigned integer types and BOOL */
        int64_t i;       /* signed integer types */
        double f;        /* F32, F64 */
        sq_gguf_str_t s; /* STRING */
        struct {
            sq_gguf_vtype_t type;
            uint64_t n;
            const uint8_t *data;     /* raw little-endian elements (numeric types) */
            const sq_gguf_str_t *strs; /* STRING elements; NULL otherwise */
        } arr;
    } v;
} sq_gguf_kv_t;

typedef struct {
    const char *name;    /* NUL-terminated copy */
    uint32_t type;       /* ggml_type */
    uint32_t n_dims;
    uint64_t ne[SQ_GGUF_MAX_DIMS]; /* 1 beyond n_dims */
    uint64_t numel;
    uint64_t offset;     /* from the start of the data section */
    uint64_t nbytes;
    const uint8_t *data;
} sq_gguf_tensor_t;

typedef struct sq_gguf sq_gguf_t;

int sq_gguf_read(const char *path, sq_gguf_t **out);
/* Parses a file image; takes ownership of data (malloc'd) in every case. */
int sq_gguf_parse(uint8_t *data, size_t n, sq_gguf_t **out);
void sq_gguf_free(sq_gguf_t *g);

uint32_t sq_gguf_version(const sq_gguf_t *g);
size_t sq_gguf_n_kv(const sq_gguf_t *g);
const sq_gguf_kv_t *sq_gguf_kv(const sq_gguf_t *g, size_t i);
const sq_gguf_kv_t *sq_gguf_find_kv(const sq_gguf_t *g, const char *key);
size_t sq_gguf_n_tensors(const sq_gguf_t *g);
const sq_gguf_tensor_t *sq_gguf_tensor(const sq_gguf_t *g, size_t i);
const sq_gguf_tensor_t *sq_gguf_find_tensor(const sq_gguf_t *g, const char *name);

/* Typed metadata: an error naming the key when it is missing or of another
 * type. get_u64 accepts any integer type holding a non-negative value,
 * get_f32 F32 or F64. */
int sq_gguf_get_u64(const sq_gguf_t *g, const char *key, uint64_t *out);
int sq_gguf_get_f32(const sq_gguf_t *g, const char *key, float *out);
int sq_gguf_get_str(const sq_gguf_t *g, const char *key, sq_gguf_str_t *out);
int sq_gguf_get_bool(const sq_gguf_t *g, const char *key, int *out);
/* An array of `type` elements. */
int sq_gguf_get_arr(const sq_gguf_t *g, const char *key, sq_gguf_vtype_t type,
                    const sq_gguf_kv_t **out);

const char *sq_ggml_type_name(uint32_t type);
/* Expands a tensor of a supported type to numel floats. */
int sq_gguf_dequant(const sq_gguf_tensor_t *t, float *out);
/* Same for one row of k elements of type `type` (k a multiple of its block). */
int sq_ggml_dequant_row(uint32_t type, const uint8_t *src, size_t k, float *out);

#endif
