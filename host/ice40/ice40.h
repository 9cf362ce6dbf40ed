/* Host side of the iCE40 UP5K build (bitstreams/ice40): its UART protocol
 * (bitstreams/ice40/rtl/sq_ice40_top.sv) over any byte transport, the layout
 * of one GEMM in the board's 32 KiB, and a serial-port transport for a real
 * board. tests/test_ice40.c runs the same driver against the Verilated top. */
#ifndef SQ_ICE40_H
#define SQ_ICE40_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/gemm_case.h"

#define SQ_ICE40_MEM_BYTES 32768u
/* status byte of a run ('G'), as sq_ice40_pkg */
#define SQ_ICE40_ST_OK     0u
#define SQ_ICE40_ST_OPCODE 1u
#define SQ_ICE40_ST_FLAGS  2u
#define SQ_ICE40_ST_RANGE  3u
/* the GEMM flags the board runs (dense int8 weights) */
#define SQ_ICE40_GEMM_FLAGS (SQ_GEMM_RELU | SQ_GEMM_OUT32 | SQ_GEMM_BIAS)

/* A byte transport: both return 0 or a negative SQ_ERR_* with its message. */
typedef struct {
    void *ctx;
    int (*send)(void *ctx, const uint8_t *buf, size_t n);
    int (*recv)(void *ctx, uint8_t *buf, size_t n);
} sq_ice40_io_t;

/* 'I': the array geometry (rows, cols). SQ_ERR_DEV when the reply is not the
 * sparq iCE40 build's. */
int sq_ice40_ident(const sq_ice40_io_t *io, unsigned *rows, unsigned *cols);
/* 'W' and 'R': n bytes at addr (addr + n <= SQ_ICE40_MEM_BYTES, else SQ_ERR_ARG). */
int sq_ice40_write(const sq_ice40_io_t *io, uint32_t addr, const void *buf, size_t n);
int sq_ice40_read(const sq_ice40_io_t *io, uint32_t addr, void *buf, size_t n);
/* 'G': runs the descriptor at desc_addr; *status gets the status byte, *cycles
 * the board's cycle count of the run. */
int sq_ice40_run(const sq_ice40_io_t *io, uint32_t desc_addr, uint8_t *status, uint32_t *cycles);

/* Runs gc on the board: places the descriptor and operands from address 0,
 * runs, reads C into out (gc->b.c bytes). SQ_ERR_ARG when the flags are not in
 * SQ_ICE40_GEMM_FLAGS or the operands do not fit in the 32 KiB; SQ_ERR_DEV
 * when the board reports a non-zero status. */
int sq_ice40_gemm(const sq_ice40_io_t *io, sq_gemm_case_t *gc, void *out, uint32_t *cycles);

/* A serial port at 115200 baud 8N1, raw, for a board on USB: returns the file
 * descriptor or SQ_ERR_IO. io gets send/recv on it (recv times out after 10 s
 * without a byte). Close with sq_ice40_serial_close. */
int sq_ice40_serial_open(const char *path, sq_ice40_io_t *io);
void sq_ice40_serial_close(sq_ice40_io_t *io);

#endif
