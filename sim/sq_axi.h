/* Pin-level AXI4 (512-bit data) and AXI4-Lite buses as plain C structs, so
 * the device-memory model (sq_mem.h) and the register driver (sq_sim.h) work
 * with any Verilated kernel that has the Vitis RTL kernel interface: its thin
 * C++ wrapper copies these fields to and from the model's ports. */
#ifndef SQ_AXI_H
#define SQ_AXI_H

#include <stdint.h>

#define SQ_AXI_BEAT_BYTES 64u
#define SQ_AXI_BEAT_WORDS 16u

typedef struct {
    /* kernel -> memory */
    uint8_t arvalid, arlen;
    uint64_t araddr;
    uint8_t rready;
    uint8_t awvalid, awlen;
    uint64_t awaddr;
    uint8_t wvalid, wlast;
    uint32_t wdata[SQ_AXI_BEAT_WORDS];
    uint64_t wstrb;
    uint8_t bready;
    /* memory -> kernel */
    uint8_t arready;
    uint8_t rvalid, rlast, rresp;
    uint32_t rdata[SQ_AXI_BEAT_WORDS];
    uint8_t awready, wready;
    uint8_t bvalid, bresp;
} sq_axi_t;

typedef struct {
    /* host -> kernel */
    uint8_t awvalid, wvalid, bready, arvalid, rready;
    uint8_t awaddr, araddr, wstrb;
    uint32_t wdata;
    /* kernel -> host */
    uint8_t awready, wready, bvalid, arready, rvalid;
    uint32_t rdata;
} sq_axil_t;

/* Most AXI4 masters a kernel has: the accelerator top's command processor,
 * attention and vector units and up to 8 GEMM units (SQ_GEMM_CUS_MAX,
 * sq_accel_vl.h checks it; sq_mem.h's ports). */
#define SQ_AXI_MAX_PORTS 11u

/* Every pin of a kernel: its AXI4 masters (a unit kernel has one, port 0),
 * the control slave, reset and the interrupt. */
typedef struct {
    uint8_t rst_n;
    uint8_t interrupt;
    sq_axi_t axi[SQ_AXI_MAX_PORTS];
    sq_axil_t axil;
} sq_kernel_pins_t;

#endif
