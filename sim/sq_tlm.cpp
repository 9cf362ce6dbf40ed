// The tlm level's SystemC TLM-2.0 platform; contract in sq_tlm.h, design in
// docs/tlm.md. Three kinds of module:
//   unit    one Verilated kernel (sq_kernel_t from sq_gemm_vl, sq_attn_vl,
//           sq_vec_vl or sq_accel_vl), clocked by a self-triggering method at the kernel
//           clock; its AXI4 masters are one initiator socket, its AXI4-Lite
//           slave a target socket
//   memory  sq_mem's timing rules and contents behind target sockets
//   host    a method that runs ap_ctrl_hs (sq_ctrl_start/finish) over the
//           kernels' control sockets with b_transport
// A kernel's clock runs free only between ap_start and ap_done, and only one
// kernel's at a time, as in the rtl level, where the kernels take turns on one
// memory; register accesses clock it themselves (loosely timed, the cycles
// annotated as delay).
// sq_sim.h and sq_mem.h are C headers without C++ guards
extern "C" {
#include "sq_sim.h"
}
#include "sq_tlm.h"

#include <cstring>
#include <exception>
#include <cstdint>
#include <limits>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

extern "C" {
#include "util/err.h"
}

// libsystemc's own main() refers to sc_main, so every program linking the
// library needs one. sparq's programs have their own main and elaborate the
// platform on the first open instead; this one is never called.
int sc_main(int, char **)
{
    return 1;
}

namespace {

using sc_core::sc_event;
using sc_core::sc_module;
using sc_core::sc_module_name;
using sc_core::sc_time;

// One clock cycle's exchange on a kernel's AXI4 masters: DRIVE asks the
// memory for its side of the five channels of every port (sq_mem_drive)
// before the kernel settles, COMMIT hands it the handshakes the kernel
// completed (sq_mem_commit). The memory's arbitration depends on the kernel's
// ready/valid of every cycle (and, on a shared channel, on every port's), so
// the exchange is per cycle and carries all ports: burst-level transactions
// could not keep the cycles equal to the rtl level's.
struct axi_cycle : tlm::tlm_extension<axi_cycle> {
    enum { DRIVE, COMMIT } phase = DRIVE;
    sq_axi_t *bus = nullptr;
    unsigned nports = 1;
    tlm::tlm_extension_base *clone() const override { return new axi_cycle(*this); }
    void copy_from(const tlm::tlm_extension_base &e) override
    {
        *this = static_cast<const axi_cycle &>(e);
    }
};

struct memory : sc_module {
    tlm_utils::simple_target_socket<memory> gemm_port{"gemm_port"}, attn_port{"attn_port"};
    tlm_utils::simple_target_socket<memory> vec_port{"vec_port"};
    tlm_utils::simple_target_socket<memory> accel_port{"accel_port"};
    tlm_utils::simple_target_socket<memory> host_port{"host_port"};
    sq_mem_t *mem = nullptr;

    explicit memory(sc_module_name n) : sc_module(n)
    {
        gemm_port.register_b_transport(this, &memory::axi);
        attn_port.register_b_transport(this, &memory::axi);
        vec_port.register_b_transport(this, &memory::axi);
        accel_port.register_b_transport(this, &memory::axi);
        host_port.register_transport_dbg(this, &memory::dbg);
    }

    void axi(tlm::tlm_generic_payload &p, sc_time &)
    {
        axi_cycle *x = nullptr;
        p.get_extension(x);
        if (!x || !mem) {
            p.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
            return;
        }
        if (x->phase == axi_cycle::DRIVE)
            sq_mem_drive(mem, x->bus, x->nports);
        else
            sq_mem_commit(mem, x->bus, x->nports);
        p.set_response_status(tlm::TLM_OK_RESPONSE);
    }

    // Host loads and stores take no device time (the rtl level's host writes
    // the memory model directly, too).
    unsigned dbg(tlm::tlm_generic_payload &p)
    {
        unsigned n = p.get_data_length();
        int rc = !mem ? SQ_ERR_DEV
                 : p.is_write() ? sq_mem_write(mem, p.get_address(), p.get_data_ptr(), n)
                                : sq_mem_read(mem, p.get_address(), p.get_data_ptr(), n);
        p.set_response_status(rc ? tlm::TLM_ADDRESS_ERROR_RESPONSE : tlm::TLM_OK_RESPONSE);
        return rc ? 0 : n;
    }
};

struct unit : sc_module {
    tlm_utils::simple_initiator_socket<unit> axi{"axi"};
    tlm_utils::simple_target_socket<unit> ctrl{"ctrl"};
    sq_kernel_t *k = nullptr;
    sc_time period;
    uint64_t cycles = 0;
    sc_event irq; // the interrupt pin rose in a free-running cycle

    SC_HAS_PROCESS(unit);
    explicit unit(sc_module_name n) : sc_module(n)
    {
        ctrl.register_b_transport(this, &unit::reg_access);
        bus.set_extension(ext);
        SC_METHOD(cycle);
        dont_initialize();
        sensitive << clock;
    }

    // Free-running clock from `at` on (the host started the kernel), or no
    // more cycles after this one.
    void start(const sc_time &at) { clock.notify(at); }
    void stop() { clock.cancel(); }

    // One clock cycle, the steps of sq_sim_tick, in the two halves
    // sq_axil_access takes the AXI4-Lite handshakes between.
    void step(int clk)
    {
        ext->phase = clk ? axi_cycle::COMMIT : axi_cycle::DRIVE;
        ext->bus = k->pins.axi;
        ext->nports = k->nports;
        sc_time t = sc_core::SC_ZERO_TIME;
        axi->b_transport(bus, t);
        k->eval(k->model, &k->pins, clk, 2 * cycles + (uint64_t)clk);
        cycles += (uint64_t)clk;
    }

  private:
    sc_event clock;
    tlm::tlm_generic_payload bus;
    axi_cycle *ext = new axi_cycle; // owned by bus

    void cycle()
    {
        step(0);
        step(1);
        if (k->pins.interrupt)
            irq.notify();
        clock.notify(period);
    }

    static void step_cb(void *u, int clk) { static_cast<unit *>(u)->step(clk); }

    // AXI4-Lite slave, loosely timed: one 32-bit register per transaction,
    // performed on the kernel's pins in the cycles it takes (only while the
    // clock is not free-running), which are annotated as the delay.
    void reg_access(tlm::tlm_generic_payload &p, sc_time &delay)
    {
        if (p.get_data_length() != 4 || p.get_address() > 0xFC || p.get_address() % 4 || !k) {
            p.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            return;
        }
        uint32_t v;
        std::memcpy(&v, p.get_data_ptr(), 4);
        unsigned n = sq_axil_access(&k->pins.axil, p.is_write(), (uint32_t)p.get_address(), &v,
                                    step_cb, this);
        delay += period * (double)(n ? n : SQ_SIM_REG_TIMEOUT);
        if (!n) {
            p.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
            return;
        }
        if (p.is_read())
            std::memcpy(p.get_data_ptr(), &v, 4);
        p.set_response_status(tlm::TLM_OK_RESPONSE);
    }
};

// The host runs as a method, not a thread: SystemC's threads switch stacks
// (QuickThreads), which confuses AddressSanitizer's view of the main stack
// (LeakSanitizer then reports everything only the stack points to). Its
// register accesses are loosely timed, so the only wait, for the interrupt,
// is the method's next trigger.
struct host : sc_module {
    tlm_utils::simple_initiator_socket<host> gemm_ctrl{"gemm_ctrl"}, attn_ctrl{"attn_ctrl"};
    tlm_utils::simple_initiator_socket<host> vec_ctrl{"vec_ctrl"};
    tlm_utils::simple_initiator_socket<host> accel_ctrl{"accel_ctrl"};
    tlm_utils::simple_initiator_socket<host> mem_port{"mem_port"};
    unit *units[4] = {nullptr, nullptr, nullptr, nullptr};
    sq_mem_t *mem = nullptr; // for sq_ctrl_finish's check of out-of-range accesses

    // What the C API asks for; done is read after sc_start returns.
    struct {
        bool reset; // reset every kernel instead of running a stream
        int unit;
        uint64_t cmd_addr, max_cycles;
        uint32_t n_cmds;
        bool cp;                     // the accelerator kernel's arguments below
        uint32_t pos[SQ_RUN_POS];
        uint64_t prof;
        sq_sim_run_t out;
        int rc;
        bool pending, done;
    } job{};
    sc_event go;

    SC_HAS_PROCESS(host);
    explicit host(sc_module_name n) : sc_module(n)
    {
        SC_METHOD(serve);
        dont_initialize();
        sensitive << go;
    }

  private:
    enum { IDLE, RUNNING, SYNC } state = IDLE;
    sc_time local;         // time the loosely-timed accesses ran ahead
    uint64_t sim_start = 0;

    unit &cur() { return *units[job.unit]; }

    void serve()
    {
        if (state == RUNNING)
            return finish();
        if (state == SYNC) {
            state = IDLE;
            sc_core::sc_pause();
            return;
        }
        if (!job.pending)
            return;
        job.pending = false;
        local = sc_core::SC_ZERO_TIME;
        if (job.reset)
            return complete(reset());
        unit &u = cur();
        sim_start = u.cycles;
        int rc = sq_ctrl_start(&ctrl, 0, job.cmd_addr, job.n_cmds, cp_args());
        if (rc != 0)
            return complete(rc);
        // the kernel runs on its clock until ap_done raises the interrupt,
        // at most max_cycles: a kernel that never finishes cannot keep the
        // simulation (whose clock never stops on its own) running forever
        u.start(local);
        state = RUNNING;
        uint64_t p = u.period.value();
        uint64_t lim = (UINT64_MAX - sc_core::sc_time_stamp().value()) / 2;
        uint64_t wait = job.max_cycles < lim / p ? job.max_cycles * p : lim;
        next_trigger(local + sc_time::from_value(wait), u.irq);
        local = sc_core::SC_ZERO_TIME;
    }

    void finish()
    {
        unit &u = cur();
        u.stop();
        int rc = sq_ctrl_finish(&ctrl, mem, u.k->pins.interrupt, job.n_cmds, cp_args(),
                                job.max_cycles, &job.out);
        job.out.sim_cycles = u.cycles - sim_start;
        complete(rc);
    }

    // Hands the result to the C API once simulated time has caught up with
    // the accesses' annotated delays.
    void complete(int rc)
    {
        job.rc = rc;
        job.done = true;
        state = SYNC;
        next_trigger(local);
    }

    // sq_sim_create's reset: four cycles with rst_n low, one high.
    int reset()
    {
        for (unit *u : units) {
            for (int i = 0; i < 5; i++) {
                u->k->pins.rst_n = i == 4;
                u->step(0);
                u->step(1);
            }
            local += u->period * 5.0;
        }
        return 0;
    }

    const sq_ctrl_t ctrl = {"tlm", this, reg_write, reg_read};
    sq_cp_args_t cp = {};

    const sq_cp_args_t *cp_args()
    {
        cp = {job.pos, job.prof};
        return job.cp ? &cp : nullptr;
    }

    int access(bool write, uint32_t off, uint32_t *value)
    {
        tlm::tlm_generic_payload p;
        p.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
        p.set_address(off);
        p.set_data_ptr(reinterpret_cast<unsigned char *>(value));
        p.set_data_length(4);
        p.set_streaming_width(4);
        p.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
        (job.unit == SQ_TLM_ACCEL  ? accel_ctrl
         : job.unit == SQ_TLM_ATTN ? attn_ctrl
         : job.unit == SQ_TLM_VEC  ? vec_ctrl
                                   : gemm_ctrl)
            ->b_transport(p, local);
        if (!p.is_response_ok())
            return sq_err(SQ_ERR_DEV, "tlm: control register %s at 0x%02x got no response",
                          write ? "write" : "read", off);
        return 0;
    }

    static int reg_write(void *ctx, uint32_t off, uint32_t value)
    {
        return static_cast<host *>(ctx)->access(true, off, &value);
    }

    static int reg_read(void *ctx, uint32_t off, uint32_t *value)
    {
        return static_cast<host *>(ctx)->access(false, off, value);
    }
};

struct platform {
    memory mem{"memory"};
    unit gemm{"gemm"}, attn{"attn"}, vec{"vec"}, accel{"accel"};
    host cpu{"host"};
    bool open = false;

    platform()
    {
        gemm.axi.bind(mem.gemm_port);
        attn.axi.bind(mem.attn_port);
        vec.axi.bind(mem.vec_port);
        accel.axi.bind(mem.accel_port);
        cpu.gemm_ctrl.bind(gemm.ctrl);
        cpu.attn_ctrl.bind(attn.ctrl);
        cpu.vec_ctrl.bind(vec.ctrl);
        cpu.accel_ctrl.bind(accel.ctrl);
        cpu.mem_port.bind(mem.host_port);
        cpu.units[SQ_TLM_GEMM] = &gemm;
        cpu.units[SQ_TLM_ATTN] = &attn;
        cpu.units[SQ_TLM_VEC] = &vec;
        cpu.units[SQ_TLM_ACCEL] = &accel;
    }
};

// Built on the first open and never destroyed: SystemC cannot elaborate a
// second time in one process.
platform *the_platform = nullptr;

int build()
{
    if (the_platform)
        return 0;
    try {
        // femtoseconds, so a 300 MHz period (3333.3 ps) is not rounded to 3333 ps
        sc_core::sc_set_time_resolution(1, sc_core::SC_FS);
        the_platform = new platform;
    } catch (const std::exception &e) {
        return sq_err(SQ_ERR_DEV, "tlm: SystemC elaboration failed: %s", e.what());
    }
    return 0;
}

// Hands the host its job and simulates until it is done: the host pauses the
// simulation when it finishes, and its one wait is bounded, so sc_start
// returns.
int simulate(platform &p)
{
    p.cpu.job.pending = true;
    p.cpu.job.done = false;
    try {
        p.cpu.go.notify(sc_core::SC_ZERO_TIME);
        sc_core::sc_start();
    } catch (const std::exception &e) {
        return sq_err(SQ_ERR_DEV, "tlm: SystemC: %s", e.what());
    }
    if (!p.cpu.job.done)
        return sq_err(SQ_ERR_DEV, "tlm: the platform stopped before the host finished");
    return p.cpu.job.rc;
}

} // namespace

struct sq_tlm {
    platform *p;
};

extern "C" int sq_tlm_open(double clock_mhz, sq_mem_t *mem, sq_kernel_t *gemm, sq_kernel_t *attn,
                           sq_kernel_t *vec, sq_kernel_t *accel, sq_tlm_t **out)
{
    int rc = build();
    if (rc == 0 && the_platform->open)
        rc = sq_err(SQ_ERR_DEV, "tlm: a tlm device is open already (SystemC allows one platform "
                                "per process)");
    sq_tlm *t = nullptr;
    if (rc == 0 && !(t = new (std::nothrow) sq_tlm{the_platform}))
        rc = sq_err(SQ_ERR_MEM, "tlm: out of host memory");
    if (rc != 0) {
        gemm->destroy(gemm->model);
        attn->destroy(attn->model);
        vec->destroy(vec->model);
        accel->destroy(accel->model);
        sq_mem_destroy(mem);
        return rc;
    }
    platform &p = *the_platform;
    p.open = true;
    p.mem.mem = p.cpu.mem = mem;
    p.gemm.k = gemm;
    p.attn.k = attn;
    p.vec.k = vec;
    p.accel.k = accel;
    for (unit *u : {&p.gemm, &p.attn, &p.vec, &p.accel}) {
        u->cycles = 0;
        u->period = sc_time(1e3 / clock_mhz, sc_core::SC_NS);
    }
    p.cpu.job.reset = true;
    if ((rc = simulate(p)) != 0) {
        sq_tlm_close(t);
        return rc;
    }
    *out = t;
    return 0;
}

extern "C" void sq_tlm_close(sq_tlm_t *t)
{
    if (!t)
        return;
    platform &p = *t->p;
    for (unit *u : {&p.gemm, &p.attn, &p.vec, &p.accel}) {
        u->k->destroy(u->k->model);
        u->k = nullptr;
    }
    sq_mem_destroy(p.mem.mem);
    p.mem.mem = p.cpu.mem = nullptr;
    p.open = false;
    delete t;
}

static int host_access(sq_tlm_t *t, bool write, uint64_t addr, void *buf, size_t n)
{
    if (n > std::numeric_limits<unsigned>::max())
        return sq_err(SQ_ERR_ARG, "tlm: host transfer of %zu bytes is too large", n);
    tlm::tlm_generic_payload p;
    p.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    p.set_address(addr);
    p.set_data_ptr(static_cast<unsigned char *>(buf));
    p.set_data_length((unsigned)n);
    p.set_streaming_width((unsigned)n);
    if (t->p->cpu.mem_port->transport_dbg(p) != n)
        return sq_err(SQ_ERR_ARG, "tlm: host %s of %zu bytes at 0x%llx outside device memory",
                      write ? "write" : "read", n, (unsigned long long)addr);
    return 0;
}

extern "C" int sq_tlm_write(sq_tlm_t *t, uint64_t addr, const void *src, size_t n)
{
    return host_access(t, true, addr, const_cast<void *>(src), n);
}

extern "C" int sq_tlm_read(sq_tlm_t *t, uint64_t addr, void *dst, size_t n)
{
    return host_access(t, false, addr, dst, n);
}

static int run_job(sq_tlm_t *t, int unit, uint64_t cmd_addr, uint32_t n_cmds,
                   const sq_cp_args_t *cp, uint64_t max_cycles, sq_sim_run_t *out)
{
    platform &p = *t->p;
    p.cpu.job.reset = false;
    p.cpu.job.unit = unit;
    p.cpu.job.cmd_addr = cmd_addr;
    p.cpu.job.n_cmds = n_cmds;
    p.cpu.job.max_cycles = max_cycles;
    p.cpu.job.cp = cp != nullptr;
    if (cp) {
        std::memcpy(p.cpu.job.pos, cp->pos, sizeof p.cpu.job.pos);
        p.cpu.job.prof = cp->prof;
    }
    p.cpu.job.out = sq_sim_run_t{};
    int rc = simulate(p);
    *out = p.cpu.job.out;
    return rc;
}

extern "C" int sq_tlm_run(sq_tlm_t *t, int unit, uint64_t cmd_addr, uint32_t n_cmds,
                          uint64_t max_cycles, sq_sim_run_t *out)
{
    return run_job(t, unit == SQ_TLM_ATTN || unit == SQ_TLM_VEC ? unit : SQ_TLM_GEMM, cmd_addr,
                   n_cmds, nullptr, max_cycles, out);
}

extern "C" int sq_tlm_run_cp(sq_tlm_t *t, uint64_t cmd_addr, uint32_t n_cmds,
                             const sq_cp_args_t *cp, uint64_t max_cycles, sq_sim_run_t *out)
{
    return run_job(t, SQ_TLM_ACCEL, cmd_addr, n_cmds, cp, max_cycles, out);
}
