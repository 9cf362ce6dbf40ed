/* What OpenCL C 1.2 lacks to compile the one kernel source (the hls/ kernels with
 * numerics.h, attn.h, desc.h, spec.h) for the opencl level; included by
 * spec.h only when __OPENCL_C_VERSION__ is defined (docs/opencl.md).
 *
 * OpenCL C has no <stdint.h>: its char/short/int/long are 8/16/32/64 bits on
 * every device, so the exact-width names map onto them. size_t is built in. */
#ifndef SPARQ_OPENCL_C_H
#define SPARQ_OPENCL_C_H

typedef char int8_t;
typedef uchar uint8_t;
typedef short int16_t;
typedef ushort uint16_t;
typedef int int32_t;
typedef uint uint32_t;
typedef long int64_t;
typedef ulong uint64_t;

#define INT32_MIN (-2147483647 - 1)
#define UINT32_MAX 0xffffffffu
#ifndef NULL
#define NULL ((void *)0)
#endif

/* OpenCL C 1.2 has no generic address space (PoCL 3.1 does not offer it),
 * so pointers into device memory say so, and program-scope tables live in
 * __constant. spec.h defines these empty for gcc and Vitis HLS. */
#define SQ_GLOBAL __global
#define SQ_CONSTANT __constant
#define SQ_KERNEL __kernel

#endif
