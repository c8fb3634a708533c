// w2s/model/kernels/isa.hpp — which instruction sets the model's kernels were compiled for, against what this CPU
// has: a build that silently runs the portable kernels (a user's target compiled without -march flags, in the
// header-only mode) is several times slower, and this is how a program, the tool and the tests find out.
//
//   const w2s::kernels::KernelIsa k = w2s::model::LlamaModel::kernel_isa();  // where LlamaModel's bodies were compiled
//   if (!k.uses_best()) ...  // k.compiled "sse2", k.cpu_best "avx512bw": link w2s::model or w2s::native
//
// Names are xsimd's ("sse2", "avx2", "fma3+avx2", "avx512bw", ...). The integer products of matmul_q8 are named
// apart: "avx512vnni", "avxvnni", "avx2" or "none" (matmul_q8 then computes exactly).
#pragma once

#include <string>

#include <xsimd/xsimd.hpp>

namespace w2s::kernels {

struct KernelIsa {
    std::string compiled;  ///< the float kernels' instruction set in the translation unit that made this
    std::string cpu_best;  ///< the widest one xsimd finds on this CPU at run time
    std::string int8;      ///< matmul_q8's integer dot products (see the file comment)
    unsigned compiled_version = 0, cpu_best_version = 0;  ///< xsimd's version numbers of the two (larger: wider)
    /// True when the kernels use the widest instruction set the CPU has (as far as xsimd knows them).
    [[nodiscard]] bool uses_best() const noexcept { return compiled_version >= cpu_best_version; }
    /// One line for logs: "avx512bw (this CPU's best: avx512bw); int8 products: avx512vnni".
    [[nodiscard]] std::string describe() const {
        return compiled + " (this CPU's best: " + cpu_best + "); int8 products: " + int8 +
               (uses_best() ? "" : " — slower than this CPU allows: build with -march flags (link w2s::model or w2s::native)");
    }
};

namespace detail {
/// xsimd's name of the architecture whose version() is v, among the x86 and ARM ones it knows.
inline std::string isa_name(unsigned v) {
    std::string name = "none";
    auto match = [&](auto arch) {
        if (decltype(arch)::version() == v) name = decltype(arch)::name();
    };
    xsimd::all_architectures::for_each(match);
    return name;
}
}  // namespace detail

/// The instruction sets of the kernels as compiled in the calling translation unit (header-only mode: the user's
/// flags). LlamaModel::kernel_isa() gives the answer for the translation unit that compiled the model's bodies.
[[nodiscard]] inline KernelIsa compiled_kernel_isa() {
    KernelIsa k;
    k.compiled_version = xsimd::default_arch::version();
    k.compiled = xsimd::default_arch::name();
    k.cpu_best_version = xsimd::available_architectures().best;
    k.cpu_best = detail::isa_name(k.cpu_best_version);
#if defined(__AVX512VNNI__) && defined(__AVX512VL__)
    k.int8 = "avx512vnni";
#elif defined(__AVXVNNI__)
    k.int8 = "avxvnni";
#elif defined(__AVX2__)
    k.int8 = "avx2";
#else
    k.int8 = "none";
#endif
    return k;
}

}  // namespace w2s::kernels
