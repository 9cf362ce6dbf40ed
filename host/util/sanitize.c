/* Sanitizer settings the sanitized binaries (make test) carry themselves, so
 * they hold wherever those binaries run (the test runner, the CLI it drives,
 * the fuzz replayer).
 * Empty in optimised builds. Both entries exist for the opencl level, whose
 * platform (PoCL) runs LLVM inside the process. */
#ifdef __SANITIZE_ADDRESS__

#include "cli/cli.h"

#define STR_(x) #x
#define STR(x) STR_(x)
/* Every sanitizer report ends the process with this code (the default, 1,
 * is also what a clean error exits with). */
#define EXITCODE "exitcode=" STR(SQ_EXIT_SANITIZER)

/* LeakSanitizer suppressions (compiler-rt reads this hook at start-up; the
 * format of a suppressions file).
 * - libpocl.so: PoCL keeps the LLVM compiler it builds kernels with (context,
 *   target machines, passes) in one process-lifetime object it never frees.
 *   The one direct leak is that object, allocated inside libpocl; the ~2.4 MB
 *   of LLVM state hanging off it are indirect leaks, suppressed with it. A
 *   leak allocated by sparq code keeps sparq frames and is still reported.
 * - libmpi, libopen-pal, libopen-rte, libevent: Open MPI 4.1 keeps its
 *   runtime's state (MCA parameters and components, the PMIx client's
 *   strings, libevent's bases) after MPI_Finalize, ~120 KB per rank. Most of
 *   those stacks start in MCA components that are unloaded by exit, so they
 *   name these libraries only when recorded in full: tests that run sparq
 *   under mpirun set ASAN_OPTIONS=fast_unwind_on_malloc=0 (tests/test_dist.c,
 *   which also checks that a leak in sparq's own code is still reported). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libpocl.so\n"
           "leak:libmpi.so\n"
           "leak:libopen-pal.so\n"
           "leak:libopen-rte.so\n"
           "leak:libevent\n";
}

/* intercept_tls_get_addr=0: up to GCC 13, the runtime's __tls_get_addr hook
 * takes a dynamic TLS block whose address is 16 mod 4096 for a glibc 2.19
 * block with a header and reads a bogus range from it; the leak check at exit
 * then dies ("Tracer caught signal 11"). LLVM's thread_locals, dlopen'd with
 * PoCL, make such blocks; sparq has no dynamic TLS of its own, so the only
 * roots lost are inside those libraries (google/sanitizers#1322). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "intercept_tls_get_addr=0:" EXITCODE;
}

/* UBSan reads its own options (halting: -fno-sanitize-recover=all). */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
    return EXITCODE;
}

#endif
