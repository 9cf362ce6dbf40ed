// Lists what XRT itself reads from an xclbin: platform, kernels, compute
// units, every argument with its register offset, size and memory banks.
// Debian's xclbinutil is a wrapper without its binary; this needs only
// libxrt_coreutil and no device. One line per item, stable for tests:
//
//   platform NAME
//   mem TAG TYPE SIZE_KB used|unused
//   kernel NAME cus=N
//   arg KERNEL INDEX NAME offset=0xOFF size=N port=PORT type=TYPE mems=TAG,...
//
// A file XRT cannot parse is one error line on stderr and exit 1.
#include <cstdio>
#include <exception>
#include <string>

#include <experimental/xrt_xclbin.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fputs("usage: xclbin-ls FILE.xclbin\n", stderr);
        return 2;
    }
    try {
        xrt::xclbin x{std::string(argv[1])};
        std::printf("platform %s\n", x.get_xsa_name().c_str());
        for (const auto &m : x.get_mems())
            std::printf("mem %s %u %llu %s\n", m.get_tag().c_str(),
                        static_cast<unsigned>(m.get_type()),
                        static_cast<unsigned long long>(m.get_size_kb()),
                        m.get_used() ? "used" : "unused");
        for (const auto &k : x.get_kernels()) {
            std::printf("kernel %s cus=%zu\n", k.get_name().c_str(), k.get_cus().size());
            for (const auto &a : k.get_args()) {
                std::string mems;
                for (const auto &m : a.get_mems())
                    mems += (mems.empty() ? "" : ",") + m.get_tag();
                std::printf("arg %s %zu %s offset=0x%llx size=%llu port=%s type=%s mems=%s\n",
                            k.get_name().c_str(), a.get_index(), a.get_name().c_str(),
                            static_cast<unsigned long long>(a.get_offset()),
                            static_cast<unsigned long long>(a.get_size()),
                            a.get_port().c_str(), a.get_host_type().c_str(),
                            mems.empty() ? "-" : mems.c_str());
            }
        }
    } catch (const std::exception &e) {
        std::fprintf(stderr, "xclbin-ls: %s: %s\n", argv[1], e.what());
        return 1;
    }
    return 0;
}
