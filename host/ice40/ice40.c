/* Host side of the iCE40 build: protocol, GEMM layout, serial transport. */
/* cfmakeraw and CRTSCTS are BSD extensions of termios */
#define _DEFAULT_SOURCE
#include "ice40/ice40.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "sparq/desc.h"
#include "util/err.h"

int sq_ice40_ident(const sq_ice40_io_t *io, unsigned *rows, unsigned *cols)
{
    uint8_t cmd = 'I', rep[4];
    int rc = io->send(io->ctx, &cmd, 1);
    if (rc == 0)
        rc = io->recv(io->ctx, rep, sizeof rep);
    if (rc)
        return rc;
    if (rep[0] != 'S' || rep[1] != 'Q')
        return sq_err(SQ_ERR_DEV, "ice40: 'I' answered %02x %02x, not the sparq iCE40 build",
                      rep[0], rep[1]);
    *rows = rep[2];
    *cols = rep[3];
    return 0;
}

static int range_ok(uint32_t addr, size_t n)
{
    return addr <= SQ_ICE40_MEM_BYTES && n <= SQ_ICE40_MEM_BYTES - addr;
}

/* 'W' or 'R' header: command, address, length (little-endian 16 bits; n is at
 * most SQ_ICE40_MEM_BYTES). */
static int header(const sq_ice40_io_t *io, uint8_t cmd, uint32_t addr, size_t n)
{
    uint8_t h[5] = {cmd, (uint8_t)addr, (uint8_t)(addr >> 8), (uint8_t)n, (uint8_t)(n >> 8)};
    return io->send(io->ctx, h, sizeof h);
}

int sq_ice40_write(const sq_ice40_io_t *io, uint32_t addr, const void *buf, size_t n)
{
    if (!range_ok(addr, n))
        return sq_err(SQ_ERR_ARG, "ice40: write of %zu bytes at %u is past the 32 KiB", n, addr);
    uint8_t ack;
    int rc = header(io, 'W', addr, n);
    if (rc == 0)
        rc = io->send(io->ctx, buf, n);
    if (rc == 0)
        rc = io->recv(io->ctx, &ack, 1);
    if (rc)
        return rc;
    if (ack != 'K')
        return sq_err(SQ_ERR_DEV, "ice40: write answered %02x, not 'K'", ack);
    return 0;
}

int sq_ice40_read(const sq_ice40_io_t *io, uint32_t addr, void *buf, size_t n)
{
    if (!range_ok(addr, n))
        return sq_err(SQ_ERR_ARG, "ice40: read of %zu bytes at %u is past the 32 KiB", n, addr);
    int rc = header(io, 'R', addr, n);
    return rc ? rc : io->recv(io->ctx, buf, n);
}

int sq_ice40_run(const sq_ice40_io_t *io, uint32_t desc_addr, uint8_t *status, uint32_t *cycles)
{
    if (!range_ok(desc_addr, SQ_DESC_BYTES))
        return sq_err(SQ_ERR_ARG, "ice40: descriptor at %u is past the 32 KiB", desc_addr);
    uint8_t cmd[3] = {'G', (uint8_t)desc_addr, (uint8_t)(desc_addr >> 8)}, rep[5];
    int rc = io->send(io->ctx, cmd, sizeof cmd);
    if (rc == 0)
        rc = io->recv(io->ctx, rep, sizeof rep);
    if (rc)
        return rc;
    *status = rep[0];
    *cycles = sq_ld32(rep + 1);
    return 0;
}

/* Appends an operand of n bytes at *top (4-byte aligned); 0 when it does not fit. */
static int place(uint64_t *top, uint64_t n, uint64_t *addr)
{
    *addr = *top;
    *top = (*top + n + 3u) & ~(uint64_t)3u;
    return *top <= SQ_ICE40_MEM_BYTES;
}

int sq_ice40_gemm(const sq_ice40_io_t *io, sq_gemm_case_t *gc, void *out, uint32_t *cycles)
{
    sq_gemm_desc_t *d = &gc->d;
    if (d->flags & ~(uint32_t)SQ_ICE40_GEMM_FLAGS)
        return sq_err(SQ_ERR_ARG, "ice40: GEMM flags 0x%x: the iCE40 build runs dense int8 "
                      "weights (RELU, OUT32, BIAS)", d->flags);
    uint64_t top = SQ_DESC_BYTES;
    int fits = place(&top, gc->b.a, &d->a) && place(&top, gc->b.w, &d->w) &&
               place(&top, gc->b.bias, &d->bias) && place(&top, gc->b.quant, &d->quant) &&
               place(&top, gc->b.c, &d->c);
    if (!fits)
        return sq_err(SQ_ERR_ARG, "ice40: a %ux%ux%u GEMM needs %llu bytes, the board has %u",
                      d->m, d->n, d->k, (unsigned long long)top, SQ_ICE40_MEM_BYTES);
    d->meta = 0;
    uint8_t desc[SQ_DESC_BYTES];
    sq_gemm_desc_encode(d, desc);
    uint8_t status;
    int rc = sq_ice40_write(io, 0, desc, sizeof desc);
    if (rc == 0)
        rc = sq_ice40_write(io, (uint32_t)d->a, gc->a, gc->b.a);
    if (rc == 0)
        rc = sq_ice40_write(io, (uint32_t)d->w, gc->w, gc->b.w);
    if (rc == 0 && gc->b.bias)
        rc = sq_ice40_write(io, (uint32_t)d->bias, gc->bias, gc->b.bias);
    if (rc == 0 && gc->b.quant)
        rc = sq_ice40_write(io, (uint32_t)d->quant, gc->quant, gc->b.quant);
    if (rc == 0)
        rc = sq_ice40_run(io, 0, &status, cycles);
    if (rc)
        return rc;
    if (status != SQ_ICE40_ST_OK)
        return sq_err(SQ_ERR_DEV, "ice40: the board refused the descriptor (status %u)", status);
    return sq_ice40_read(io, (uint32_t)d->c, out, gc->b.c);
}

/* ---- serial port ---------------------------------------------------------------- */

static int ser_send(void *ctx, const uint8_t *buf, size_t n)
{
    int fd = (int)(intptr_t)ctx;
    while (n) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return sq_err(SQ_ERR_IO, "ice40: serial write: %s", strerror(errno));
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

static int ser_recv(void *ctx, uint8_t *buf, size_t n)
{
    int fd = (int)(intptr_t)ctx;
    while (n) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, 10000);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0)
            return sq_err(SQ_ERR_DEV, "ice40: no reply from the board in 10 s");
        ssize_t got = r > 0 ? read(fd, buf, n) : -1;
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return sq_err(SQ_ERR_IO, "ice40: serial read: %s", got ? strerror(errno) : "closed");
        buf += got;
        n -= (size_t)got;
    }
    return 0;
}

int sq_ice40_serial_open(const char *path, sq_ice40_io_t *io)
{
    int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return sq_err(SQ_ERR_IO, "ice40: %s: %s", path, strerror(errno));
    struct termios t;
    if (tcgetattr(fd, &t) != 0) {
        int e = errno;
        close(fd);
        return sq_err(SQ_ERR_IO, "ice40: %s is not a serial port (%s)", path, strerror(e));
    }
    cfmakeraw(&t);
    cfsetispeed(&t, B115200);
    cfsetospeed(&t, B115200);
    t.c_cflag |= CLOCAL | CREAD;
    t.c_cflag &= ~(tcflag_t)(CSTOPB | PARENB | CRTSCTS);
    if (tcsetattr(fd, TCSANOW, &t) != 0 || tcflush(fd, TCIOFLUSH) != 0) {
        int e = errno;
        close(fd);
        return sq_err(SQ_ERR_IO, "ice40: %s: %s", path, strerror(e));
    }
    io->ctx = (void *)(intptr_t)fd;
    io->send = ser_send;
    io->recv = ser_recv;
    return fd;
}

void sq_ice40_serial_close(sq_ice40_io_t *io)
{
    close((int)(intptr_t)io->ctx);
}
