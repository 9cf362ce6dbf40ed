/* sparq command descriptors: the one packing of the words laid out in
 * include/sparq/spec.h into structs and back.
 *
 * Static inline and <stdint.h>-only so the HLS kernels decode descriptors with
 * the same code as the host (runtime levels, compiler, CLI, tests). Validation
 * against a device's memory lives on the host side (host/runtime/desc.h).
 * Descriptor words and every multi-byte value in device memory are
 * little-endian. */
#ifndef SPARQ_DESC_H
#define SPARQ_DESC_H

#ifndef __OPENCL_C_VERSION__ /* spec.h gives OpenCL C its types */
#include <stdint.h>
#endif

#include "spec.h"

/* Little-endian 32-bit load and store, one definition instantiated per
 * address space: sq_ld32/sq_st32 for host memory and a kernel's private
 * buffers (a fetched descriptor), sq_mem_ld32/sq_mem_st32 for device memory.
 * They are the same functions except in OpenCL C, where device memory is
 * __global (spec.h's SQ_GLOBAL). */
#define SQ_LDST32(ld, st, space)                                                     \
    static inline uint32_t ld(const space uint8_t *p)                              \
    {                                                                               \
        return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |    \
               ((uint32_t)p[3] << 24);                                              \
    }                                                                               \
    static inline void st(space uint8_t *p, uint32_t v)                            \
    {                                                                               \
        p[0] = (uint8_t)v;                                                          \
        p[1] = (uint8_t)(v >> 8);                                                   \
        p[2] = (uint8_t)(v >> 16);                                                  \
        p[3] = (uint8_t)(v >> 24);                                                  \
    }
SQ_LDST32(sq_ld32, sq_st32, )
SQ_LDST32(sq_mem_ld32, sq_mem_st32, SQ_GLOBAL)

/* Word w of the descriptor at desc (SQ_DESC_BYTES bytes). */
static inline uint32_t sq_desc_word(const uint8_t *desc, unsigned w)
{
    return sq_ld32(desc + 4u * w);
}

static inline uint64_t sq_desc_addr(const uint8_t *desc, unsigned lo)
{
    return (uint64_t)sq_desc_word(desc, lo) | ((uint64_t)sq_desc_word(desc, lo + 1u) << 32);
}

static inline void sq_desc_set_addr(uint8_t *desc, unsigned lo, uint64_t addr)
{
    sq_st32(desc + 4u * lo, (uint32_t)addr);
    sq_st32(desc + 4u * (lo + 1u), (uint32_t)(addr >> 32));
}

/* One GEMM command (SQ_OP_GEMM); fields as documented in spec.h. Addresses of
 * operands a flag leaves unused (meta without SQ_GEMM_SP24, bias without
 * SQ_GEMM_BIAS, quant with SQ_GEMM_OUT32) are carried but never read. */
typedef struct {
    uint32_t flags;  /* SQ_GEMM_* */
    uint32_t m, n, k;
    uint64_t a;      /* int8 (m, k) */
    uint64_t w;      /* (n, sq_w_row_bytes(flags, k)) */
    uint64_t meta;   /* (n, sq_meta_row_bytes(k)) */
    uint64_t bias;   /* int32 (n) */
    uint64_t quant;  /* {int32 mult, uint32 shift} (n) */
    uint64_t c;      /* int8 or int32 (m, n) */
    uint32_t group;  /* inputs per group scale, SQ_GEMM_GSCALE only */
    uint64_t gscale; /* uint16 (n, ceil(k / group)), SQ_GEMM_GSCALE only */
    uint32_t cu;     /* the compute unit it runs on (spec.h, SQ_GEMM_W_CU) */
} sq_gemm_desc_t;

/* The stream header of word 0 (spec.h): opcode and dependency distances. */
static inline uint32_t sq_desc_opcode(const uint8_t *desc)
{
    return sq_desc_word(desc, 0) & SQ_DESC_OP_MASK;
}

static inline uint32_t sq_desc_dep(const uint8_t *desc, unsigned i)
{
    return (sq_desc_word(desc, 0) >> (SQ_DESC_DEP_SHIFT + 8u * i)) & 0xFFu;
}

/* Sets the dependency distances (each 0..255; 0 = none), keeping the opcode. */
static inline void sq_desc_set_deps(uint8_t *desc, const uint32_t dep[SQ_DESC_DEPS])
{
    uint32_t w = sq_desc_word(desc, 0) & SQ_DESC_OP_MASK;
    for (unsigned i = 0; i < SQ_DESC_DEPS; i++)
        w |= (dep[i] & 0xFFu) << (SQ_DESC_DEP_SHIFT + 8u * i);
    sq_st32(desc, w);
}

/* Position patch `slot` (0 or 1): add pos[pos_index] * mult to word `word`
 * (wide: the 64-bit value in words word, word + 1) at dispatch. */
static inline uint32_t sq_desc_patch_word(uint32_t word, uint32_t wide, uint32_t pos_index,
                                          uint32_t mult)
{
    return (word & SQ_PATCH_WORD_MASK) | (wide ? SQ_PATCH_WIDE : 0u) |
           ((pos_index & SQ_PATCH_POS_MASK) << SQ_PATCH_POS_SHIFT) |
           (mult << SQ_PATCH_MULT_SHIFT);
}

static inline void sq_desc_set_patch(uint8_t *desc, unsigned slot, uint32_t patch)
{
    sq_st32(desc + 4u * (SQ_DESC_W_PATCH0 + slot), patch);
}

/* Whether a patch word targets a word of the descriptor body (a wide one
 * two words), or is 0 (no patch): the rule the runtime checks before a run
 * and the command processors check before they patch. */
static inline int sq_desc_patch_ok(uint32_t p)
{
    uint32_t w = p & SQ_PATCH_WORD_MASK;
    return p == 0u ||
           (w != 0u && w + ((p & SQ_PATCH_WIDE) ? 1u : 0u) < SQ_DESC_W_PATCH0 && !(p & 0x80u));
}

/* What a command processor does to a descriptor before dispatch: adds each
 * patch's pos[i] * u (spec.h). desc is a private copy; the patch words stay.
 * The patches must pass sq_desc_patch_ok. */
static inline void sq_desc_apply_patches(uint8_t *desc, const uint32_t pos[SQ_RUN_POS])
{
    for (unsigned s = 0; s < SQ_DESC_PATCHES; s++) {
        uint32_t p = sq_desc_word(desc, SQ_DESC_W_PATCH0 + s);
        uint32_t w = p & SQ_PATCH_WORD_MASK;
        if (w == 0u)
            continue;
        uint64_t add = (uint64_t)pos[(p >> SQ_PATCH_POS_SHIFT) & SQ_PATCH_POS_MASK] *
                       (uint64_t)(p >> SQ_PATCH_MULT_SHIFT);
        if (p & SQ_PATCH_WIDE)
            sq_desc_set_addr(desc, w, sq_desc_addr(desc, w) + add);
        else
            sq_st32(desc + 4u * w, sq_desc_word(desc, w) + (uint32_t)add);
    }
}

static inline void sq_gemm_desc_decode(const uint8_t *desc, sq_gemm_desc_t *d)
{
    d->flags = sq_desc_word(desc, SQ_GEMM_W_FLAGS);
    d->m = sq_desc_word(desc, SQ_GEMM_W_M);
    d->n = sq_desc_word(desc, SQ_GEMM_W_N);
    d->k = sq_desc_word(desc, SQ_GEMM_W_K);
    d->a = sq_desc_addr(desc, SQ_GEMM_W_A_LO);
    d->w = sq_desc_addr(desc, SQ_GEMM_W_W_LO);
    d->meta = sq_desc_addr(desc, SQ_GEMM_W_META_LO);
    d->bias = sq_desc_addr(desc, SQ_GEMM_W_BIAS_LO);
    d->quant = sq_desc_addr(desc, SQ_GEMM_W_QUANT_LO);
    d->c = sq_desc_addr(desc, SQ_GEMM_W_C_LO);
    d->group = sq_desc_word(desc, SQ_GEMM_W_GROUP);
    d->gscale = sq_desc_addr(desc, SQ_GEMM_W_GSCALE_LO);
    d->cu = sq_desc_word(desc, SQ_GEMM_W_CU);
}

/* Writes all SQ_DESC_BYTES bytes: unused words are zero. */
static inline void sq_gemm_desc_encode(const sq_gemm_desc_t *d, uint8_t *desc)
{
    for (unsigned i = 0; i < SQ_DESC_BYTES; i++)
        desc[i] = 0;
    sq_st32(desc + 4u * SQ_GEMM_W_OPCODE, SQ_OP_GEMM);
    sq_st32(desc + 4u * SQ_GEMM_W_FLAGS, d->flags);
    sq_st32(desc + 4u * SQ_GEMM_W_M, d->m);
    sq_st32(desc + 4u * SQ_GEMM_W_N, d->n);
    sq_st32(desc + 4u * SQ_GEMM_W_K, d->k);
    sq_desc_set_addr(desc, SQ_GEMM_W_A_LO, d->a);
    sq_desc_set_addr(desc, SQ_GEMM_W_W_LO, d->w);
    sq_desc_set_addr(desc, SQ_GEMM_W_META_LO, d->meta);
    sq_desc_set_addr(desc, SQ_GEMM_W_BIAS_LO, d->bias);
    sq_desc_set_addr(desc, SQ_GEMM_W_QUANT_LO, d->quant);
    sq_desc_set_addr(desc, SQ_GEMM_W_C_LO, d->c);
    sq_st32(desc + 4u * SQ_GEMM_W_GROUP, d->group);
    sq_desc_set_addr(desc, SQ_GEMM_W_GSCALE_LO, d->gscale);
    sq_st32(desc + 4u * SQ_GEMM_W_CU, d->cu);
}

/* One attention command (SQ_OP_ATTN); fields as documented in spec.h. mask is
 * carried but never read without SQ_ATTN_BLOCK. */
typedef struct {
    uint32_t flags; /* SQ_ATTN_* */
    uint32_t seq, queries, heads, kv_heads, head_dim, kv_cap;
    uint32_t window, n_global, topk;
    uint64_t q;     /* int8 (heads, queries, head_dim) */
    uint64_t k;     /* int8 (kv_heads, kv_cap, head_dim) */
    uint64_t v;     /* int8 (kv_heads, kv_cap, head_dim) */
    uint64_t mask;  /* block bitmap (nb, SQ_ATTN_MASK_ROW_BYTES) */
    uint64_t quant; /* {s_mult, s_shift, o_mult, o_shift} (heads) */
    uint64_t o;     /* int8 (heads, queries, head_dim) */
} sq_attn_desc_t;

static inline void sq_attn_desc_decode(const uint8_t *desc, sq_attn_desc_t *d)
{
    d->flags = sq_desc_word(desc, SQ_ATTN_W_FLAGS);
    d->seq = sq_desc_word(desc, SQ_ATTN_W_SEQ);
    d->queries = sq_desc_word(desc, SQ_ATTN_W_QUERIES);
    d->heads = sq_desc_word(desc, SQ_ATTN_W_HEADS);
    d->kv_heads = sq_desc_word(desc, SQ_ATTN_W_KV_HEADS);
    d->head_dim = sq_desc_word(desc, SQ_ATTN_W_HEAD_DIM);
    d->kv_cap = sq_desc_word(desc, SQ_ATTN_W_KV_CAP);
    d->window = sq_desc_word(desc, SQ_ATTN_W_WINDOW);
    d->n_global = sq_desc_word(desc, SQ_ATTN_W_GLOBAL);
    d->topk = sq_desc_word(desc, SQ_ATTN_W_TOPK);
    d->q = sq_desc_addr(desc, SQ_ATTN_W_Q_LO);
    d->k = sq_desc_addr(desc, SQ_ATTN_W_K_LO);
    d->v = sq_desc_addr(desc, SQ_ATTN_W_V_LO);
    d->mask = sq_desc_addr(desc, SQ_ATTN_W_MASK_LO);
    d->quant = sq_desc_addr(desc, SQ_ATTN_W_QUANT_LO);
    d->o = sq_desc_addr(desc, SQ_ATTN_W_O_LO);
}

/* Writes all SQ_DESC_BYTES bytes: unused words are zero. */
static inline void sq_attn_desc_encode(const sq_attn_desc_t *d, uint8_t *desc)
{
    for (unsigned i = 0; i < SQ_DESC_BYTES; i++)
        desc[i] = 0;
    sq_st32(desc + 4u * SQ_ATTN_W_OPCODE, SQ_OP_ATTN);
    sq_st32(desc + 4u * SQ_ATTN_W_FLAGS, d->flags);
    sq_st32(desc + 4u * SQ_ATTN_W_SEQ, d->seq);
    sq_st32(desc + 4u * SQ_ATTN_W_QUERIES, d->queries);
    sq_st32(desc + 4u * SQ_ATTN_W_HEADS, d->heads);
    sq_st32(desc + 4u * SQ_ATTN_W_KV_HEADS, d->kv_heads);
    sq_st32(desc + 4u * SQ_ATTN_W_HEAD_DIM, d->head_dim);
    sq_st32(desc + 4u * SQ_ATTN_W_KV_CAP, d->kv_cap);
    sq_st32(desc + 4u * SQ_ATTN_W_WINDOW, d->window);
    sq_st32(desc + 4u * SQ_ATTN_W_GLOBAL, d->n_global);
    sq_st32(desc + 4u * SQ_ATTN_W_TOPK, d->topk);
    sq_desc_set_addr(desc, SQ_ATTN_W_Q_LO, d->q);
    sq_desc_set_addr(desc, SQ_ATTN_W_K_LO, d->k);
    sq_desc_set_addr(desc, SQ_ATTN_W_V_LO, d->v);
    sq_desc_set_addr(desc, SQ_ATTN_W_MASK_LO, d->mask);
    sq_desc_set_addr(desc, SQ_ATTN_W_QUANT_LO, d->quant);
    sq_desc_set_addr(desc, SQ_ATTN_W_O_LO, d->o);
}

/* One vector-unit command (SQ_OP_VEC); fields as documented in spec.h,
 * arithmetic in vec.h. Addresses a function or flag leaves unused are
 * carried but never read. */
typedef struct {
    uint32_t func, flags, m, n, seg;
    uint64_t in;
    uint32_t in_stride, in_seg_stride;
    uint64_t in2;
    uint32_t in2_stride;
    uint64_t out;
    uint32_t out_stride, out_seg_stride;
    uint64_t chan, rec_in, rec_out, tab;
    uint32_t tab_stride;
    uint32_t p[4];
} sq_vec_desc_t;

static inline void sq_vec_desc_decode(const uint8_t *desc, sq_vec_desc_t *d)
{
    d->func = sq_desc_word(desc, SQ_VEC_W_FUNC);
    d->flags = sq_desc_word(desc, SQ_VEC_W_FLAGS);
    d->m = sq_desc_word(desc, SQ_VEC_W_M);
    d->n = sq_desc_word(desc, SQ_VEC_W_N);
    d->seg = sq_desc_word(desc, SQ_VEC_W_SEG);
    d->in = sq_desc_addr(desc, SQ_VEC_W_IN_LO);
    d->in_stride = sq_desc_word(desc, SQ_VEC_W_IN_STRIDE);
    d->in_seg_stride = sq_desc_word(desc, SQ_VEC_W_IN_SEG_STRIDE);
    d->in2 = sq_desc_addr(desc, SQ_VEC_W_IN2_LO);
    d->in2_stride = sq_desc_word(desc, SQ_VEC_W_IN2_STRIDE);
    d->out = sq_desc_addr(desc, SQ_VEC_W_OUT_LO);
    d->out_stride = sq_desc_word(desc, SQ_VEC_W_OUT_STRIDE);
    d->out_seg_stride = sq_desc_word(desc, SQ_VEC_W_OUT_SEG_STRIDE);
    d->chan = sq_desc_addr(desc, SQ_VEC_W_CHAN_LO);
    d->rec_in = sq_desc_addr(desc, SQ_VEC_W_REC_IN_LO);
    d->rec_out = sq_desc_addr(desc, SQ_VEC_W_REC_OUT_LO);
    d->tab = sq_desc_addr(desc, SQ_VEC_W_TAB_LO);
    d->tab_stride = sq_desc_word(desc, SQ_VEC_W_TAB_STRIDE);
    for (unsigned i = 0; i < 4u; i++)
        d->p[i] = sq_desc_word(desc, SQ_VEC_W_P0 + i);
}

/* Writes all SQ_DESC_BYTES bytes: unused words are zero. */
static inline void sq_vec_desc_encode(const sq_vec_desc_t *d, uint8_t *desc)
{
    for (unsigned i = 0; i < SQ_DESC_BYTES; i++)
        desc[i] = 0;
    sq_st32(desc + 4u * SQ_VEC_W_OPCODE, SQ_OP_VEC);
    sq_st32(desc + 4u * SQ_VEC_W_FUNC, d->func);
    sq_st32(desc + 4u * SQ_VEC_W_FLAGS, d->flags);
    sq_st32(desc + 4u * SQ_VEC_W_M, d->m);
    sq_st32(desc + 4u * SQ_VEC_W_N, d->n);
    sq_st32(desc + 4u * SQ_VEC_W_SEG, d->seg);
    sq_desc_set_addr(desc, SQ_VEC_W_IN_LO, d->in);
    sq_st32(desc + 4u * SQ_VEC_W_IN_STRIDE, d->in_stride);
    sq_st32(desc + 4u * SQ_VEC_W_IN_SEG_STRIDE, d->in_seg_stride);
    sq_desc_set_addr(desc, SQ_VEC_W_IN2_LO, d->in2);
    sq_st32(desc + 4u * SQ_VEC_W_IN2_STRIDE, d->in2_stride);
    sq_desc_set_addr(desc, SQ_VEC_W_OUT_LO, d->out);
    sq_st32(desc + 4u * SQ_VEC_W_OUT_STRIDE, d->out_stride);
    sq_st32(desc + 4u * SQ_VEC_W_OUT_SEG_STRIDE, d->out_seg_stride);
    sq_desc_set_addr(desc, SQ_VEC_W_CHAN_LO, d->chan);
    sq_desc_set_addr(desc, SQ_VEC_W_REC_IN_LO, d->rec_in);
    sq_desc_set_addr(desc, SQ_VEC_W_REC_OUT_LO, d->rec_out);
    sq_desc_set_addr(desc, SQ_VEC_W_TAB_LO, d->tab);
    sq_st32(desc + 4u * SQ_VEC_W_TAB_STRIDE, d->tab_stride);
    for (unsigned i = 0; i < 4u; i++)
        sq_st32(desc + 4u * (SQ_VEC_W_P0 + i), d->p[i]);
}

#endif /* SPARQ_DESC_H */
