/* The Verilated iCE40 top (bitstreams/ice40/rtl/sq_ice40_top.sv, the same RTL
 * and parameters as the bitstream) with a host-side UART on its pins: bytes
 * go in on rx_i and come out of tx_o at the bitstream's baud rate, one bit
 * per SQ_ICE40_BIT_CYCLES clock cycles. The send/recv functions fit
 * sq_ice40_io_t (host/ice40/ice40.h). */
#ifndef SQ_ICE40_VL_H
#define SQ_ICE40_VL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sq_ice40_sim sq_ice40_sim_t;

/* Returns the model after its power-on reset, or NULL (out of memory). */
sq_ice40_sim_t *sq_ice40_sim_create(void);
void sq_ice40_sim_destroy(sq_ice40_sim_t *s);
/* Shifts n bytes into rx_i (8N1); returns 0. */
int sq_ice40_sim_send(void *s, const uint8_t *buf, size_t n);
/* Runs until n bytes came out of tx_o; returns 0, or SQ_ERR_DEV when the
 * line stays idle for SQ_ICE40_SIM_IDLE_MAX cycles or a stop bit is low. */
int sq_ice40_sim_recv(void *s, uint8_t *buf, size_t n);
/* Clock cycles simulated so far. */
uint64_t sq_ice40_sim_cycles(const sq_ice40_sim_t *s);

/* 100 M cycles: 8 s of the board at 12 MHz, longer than any GEMM that fits
 * its 32 KiB takes */
#define SQ_ICE40_SIM_IDLE_MAX 100000000ull

#ifdef __cplusplus
}
#endif

#endif
