// The Verilated iCE40 top behind a host-side UART (sq_ice40_vl.h). The host
// UART runs on the model's clock: every simulated cycle it drives rx_i from
// the byte being sent and samples tx_o in the middle of each bit.
#include "sq_ice40_vl.h"

#include <deque>
#include <memory>
#include <new>

#include "Vsq_ice40_top.h"

extern "C" {
#include "util/err.h"
}

#ifndef SQ_ICE40_BIT_CYCLES
#error "SQ_ICE40_BIT_CYCLES comes from bitstreams/ice40/rtl/sq_ice40_pkg.sv (ice40.mk)"
#endif

struct sq_ice40_sim {
    std::unique_ptr<VerilatedContext> ctx;
    std::unique_ptr<Vsq_ice40_top> top;
    uint64_t cycles = 0;
    // receiver: bit counter (0 idle), cycles to the next sample, the byte so far
    unsigned rx_bit = 0;
    unsigned rx_wait = 0;
    unsigned rx_byte = 0;
    bool framing_error = false;
    std::deque<uint8_t> got;
};

// One clock cycle with rx_i at `line`; decodes tx_o.
static void cycle(sq_ice40_sim *s, bool line)
{
    s->top->rx_i = line;
    s->top->clk_i = 0;
    s->top->eval();
    s->top->clk_i = 1;
    s->top->eval();
    s->cycles++;
    const bool tx = s->top->tx_o;
    if (s->rx_bit == 0) {
        if (!tx) {  // start bit: sample it again half a bit on
            s->rx_bit = 1;
            s->rx_wait = SQ_ICE40_BIT_CYCLES / 2;
            s->rx_byte = 0;
        }
        return;
    }
    if (s->rx_wait-- != 0)
        return;
    s->rx_wait = SQ_ICE40_BIT_CYCLES - 1;
    if (s->rx_bit == 1 && tx) {
        s->rx_bit = 0;  // a glitch, not a start bit
    } else if (s->rx_bit == 10) {
        if (!tx)
            s->framing_error = true;
        s->got.push_back((uint8_t)s->rx_byte);
        s->rx_bit = 0;
    } else {
        if (s->rx_bit >= 2)
            s->rx_byte |= (unsigned)tx << (s->rx_bit - 2);
        s->rx_bit++;
    }
}

extern "C" sq_ice40_sim_t *sq_ice40_sim_create(void)
{
    sq_ice40_sim *s = new (std::nothrow) sq_ice40_sim;
    if (!s)
        return nullptr;
    s->ctx.reset(new (std::nothrow) VerilatedContext);
    if (s->ctx)
        s->top.reset(new (std::nothrow) Vsq_ice40_top(s->ctx.get(), "sq_ice40_top"));
    if (!s->top) {
        delete s;
        return nullptr;
    }
    // the power-on reset counter, and an idle line
    for (int i = 0; i < 32; i++)
        cycle(s, true);
    return s;
}

extern "C" void sq_ice40_sim_destroy(sq_ice40_sim_t *s)
{
    if (s)
        s->top->final();
    delete s;
}

extern "C" int sq_ice40_sim_send(void *p, const uint8_t *buf, size_t n)
{
    sq_ice40_sim *s = static_cast<sq_ice40_sim *>(p);
    for (size_t i = 0; i < n; i++) {
        const unsigned frame = 0x200u | ((unsigned)buf[i] << 1);  // start 0, data, stop 1
        for (unsigned b = 0; b < 10; b++)
            for (unsigned c = 0; c < SQ_ICE40_BIT_CYCLES; c++)
                cycle(s, (frame >> b) & 1u);
    }
    return 0;
}

extern "C" int sq_ice40_sim_recv(void *p, uint8_t *buf, size_t n)
{
    sq_ice40_sim *s = static_cast<sq_ice40_sim *>(p);
    for (size_t i = 0; i < n; i++) {
        uint64_t idle = 0;
        while (s->got.empty() && idle < SQ_ICE40_SIM_IDLE_MAX) {
            cycle(s, true);
            idle = s->rx_bit ? 0 : idle + 1;
        }
        if (s->framing_error)
            return sq_err(SQ_ERR_DEV, "ice40 sim: a byte from tx_o had no stop bit");
        if (s->got.empty())
            return sq_err(SQ_ERR_DEV, "ice40 sim: no reply after %llu cycles (byte %zu of %zu)",
                          (unsigned long long)SQ_ICE40_SIM_IDLE_MAX, i + 1, n);
        buf[i] = s->got.front();
        s->got.pop_front();
    }
    return 0;
}

extern "C" uint64_t sq_ice40_sim_cycles(const sq_ice40_sim_t *s)
{
    return s->cycles;
}
