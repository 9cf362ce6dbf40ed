/* The `ref` level: every descriptor executed by the golden reference
 * (include/sparq/numerics.h) directly on the device memory image. It is the
 * oracle the other levels are compared with; it counts work, not cycles. */
#include <stdlib.h>

#include "runtime/desc.h"
#include "runtime/device.h"
#include "sparq/attn.h"
#include "sparq/numerics.h"
#include "sparq/vec.h"
#include "util/err.h"

/* Device memory holds little-endian values and this code views them in place. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "sparq hosts are little-endian");

typedef struct {
    uint8_t *mem;
} ref_state_t;

static int ref_open(const sq_dev_config_t *cfg, uint8_t *mem, void **state)
{
    (void)cfg;
    ref_state_t *s = calloc(1, sizeof *s);
    if (!s)
        return sq_err(SQ_ERR_MEM, "out of memory opening level 'ref'");
    s->mem = mem;
    *state = s;
    return 0;
}

static void ref_close(void *state)
{
    free(state);
}

/* Descriptors arrive validated by the device (runtime/desc.h), so operand
 * pointers are in bounds and bias/quant/int32 C are 4-byte aligned. */
static int ref_gemm(uint8_t *mem, const uint8_t *desc)
{
    sq_gemm_desc_t d;
    sq_gemm_desc_decode(desc, &d);
    sq_gemm_t g = {
        .m = d.m,
        .n = d.n,
        .k = d.k,
        .flags = d.flags,
        .a = (const int8_t *)(mem + d.a),
        .w = mem + d.w,
        .meta = (d.flags & SQ_GEMM_SP24) ? mem + d.meta : NULL,
        .bias = (d.flags & SQ_GEMM_BIAS) ? (const int32_t *)(const void *)(mem + d.bias) : NULL,
        .quant = (d.flags & SQ_GEMM_OUT32) ? NULL : (const sq_quant_t *)(const void *)(mem + d.quant),
        .c = mem + d.c,
        .group = d.group,
        .gscale = (d.flags & SQ_GEMM_GSCALE) ? (const uint16_t *)(const void *)(mem + d.gscale)
                                             : NULL,
    };
    if (sq_gemm_ref(&g) != 0)
        return sq_err(SQ_ERR_FMT, "ref: gemm %ux%ux%u rejected by the golden reference",
                      (unsigned)d.m, (unsigned)d.n, (unsigned)d.k);
    return 0;
}

static int ref_attn(uint8_t *mem, const uint8_t *desc, sq_dev_stats_t *add)
{
    sq_attn_desc_t d;
    sq_attn_desc_decode(desc, &d);
    sq_attn_t a;
    sq_attn_desc_view(&d, mem, &a);
    if (sq_attn_ref(&a, NULL) != 0)
        return sq_err(SQ_ERR_FMT, "ref: attn seq %u queries %u rejected by the golden reference",
                      (unsigned)d.seq, (unsigned)d.queries);
    sq_attn_desc_work(&d, a.mask, add);
    return 0;
}

static int ref_vec(uint8_t *mem, const uint8_t *desc)
{
    sq_vec_desc_t d;
    sq_vec_desc_decode(desc, &d);
    sq_vec_t v;
    sq_vec_desc_view(&d, mem, &v);
    if (sq_vec_ref(&v) != 0)
        return sq_err(SQ_ERR_FMT, "ref: vec function %u %ux%u rejected by the golden reference",
                      (unsigned)d.func, (unsigned)d.m, (unsigned)d.n);
    return 0;
}

static int ref_run(void *state, uint64_t cmd_addr, uint32_t n_cmds, uint64_t max_cycles,
                   sq_dev_stats_t *add)
{
    (void)max_cycles;
    ref_state_t *s = state;
    for (uint32_t i = 0; i < n_cmds; i++) {
        const uint8_t *desc = s->mem + cmd_addr + (uint64_t)i * SQ_DESC_BYTES;
        int rc;
        switch (sq_desc_opcode(desc)) {
        case SQ_OP_GEMM:
            rc = ref_gemm(s->mem, desc);
            break;
        case SQ_OP_ATTN:
            rc = ref_attn(s->mem, desc, add);
            break;
        case SQ_OP_VEC:
            rc = ref_vec(s->mem, desc);
            break;
        default:
            rc = sq_err(SQ_ERR_DEV, "ref: no unit for opcode %u", (unsigned)sq_desc_opcode(desc));
            break;
        }
        if (rc)
            return rc;
        sq_desc_work(desc, add);
    }
    return 0;
}

const sq_level_ops_t sq_level_ref = {
    .name = "ref",
    .open = ref_open,
    .close = ref_close,
    .write = NULL,
    .read = NULL,
    .run = ref_run,
    .caps = SQ_LEVEL_CAP_VEC | SQ_LEVEL_CAP_GSCALE,
};
