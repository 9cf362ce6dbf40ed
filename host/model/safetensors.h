/* safetensors reader (the Hugging Face format): an 8-byte little-endian
 * header length N, N bytes of JSON mapping tensor names to
 * {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
 * byte buffer after the header) plus an optional "__metadata__" object of
 * strings, then the byte buffer.
 *
 * Every field is checked: header length within the file, JSON well formed
 * and an object, known dtype strings, shapes of non-negative integers whose
 * byte size matches the offsets, offsets inside the buffer, and the tensors
 * tiling the buffer exactly (no overlap, no hole, nothing after the last),
 * as the reference implementation requires. Names are unique.
 *
 * The model owns the file image; tensor data pointers point into it (they may
 * be unaligned: use sq_st_read_f32 to get floats). Calls return 0 or a
 * negative SQ_ERR_* with one line in sq_err_msg(). */
#ifndef SQ_SAFETENSORS_H
#define SQ_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define SQ_ST_MAX_NDIM 8u

typedef enum {
    SQ_ST_BOOL, SQ_ST_U8, SQ_ST_I8, SQ_ST_F8_E4M3, SQ_ST_F8_E5M2, SQ_ST_I16, SQ_ST_U16,
    SQ_ST_F16, SQ_ST_BF16, SQ_ST_I32, SQ_ST_U32, SQ_ST_F32, SQ_ST_F64, SQ_ST_I64, SQ_ST_U64,
    SQ_ST_NDTYPES
} sq_st_dtype_t;

typedef struct {
    const char *name;
    sq_st_dtype_t dtype;
    uint32_t ndim;                   /* 0 for a scalar */
    uint64_t shape[SQ_ST_MAX_NDIM];
    uint64_t numel;
    uint64_t offset;                 /* data_offsets[0], from the end of the header */
    const uint8_t *data;             /* into the file image, maybe unaligned */
    uint64_t nbytes;
} sq_st_tensor_t;

typedef struct sq_st sq_st_t;

int sq_st_read(const char *path, sq_st_t **out);
/* Parses a file image; takes ownership of data (malloc'd) in every case. */
int sq_st_parse(uint8_t *data, size_t n, sq_st_t **out);
void sq_st_free(sq_st_t *st);

size_t sq_st_count(const sq_st_t *st);
const sq_st_tensor_t *sq_st_tensor(const sq_st_t *st, size_t i);
const sq_st_tensor_t *sq_st_find(const sq_st_t *st, const char *name);
/* A "__metadata__" string value, or NULL. */
const char *sq_st_metadata(const sq_st_t *st, const char *key);
const char *sq_st_dtype_name(sq_st_dtype_t dt);
size_t sq_st_dtype_bytes(sq_st_dtype_t dt);

/* Copies tensor `name` as floats (F32, F16 or BF16) into out, checking that
 * its shape is exactly shape[0..ndim). */
int sq_st_read_f32(const sq_st_t *st, const char *name, uint32_t ndim, const uint64_t *shape,
                   float *out);

#endif
