// Which instruction sets LlamaModel's kernels use in this program (LlamaModel::kernel_isa), checked against the
// CPU. `fast_path best`: the kernels must use the CPU's widest instruction set (the program links w2s::model or
// w2s::native). `fast_path portable`: compiled with no -march flags, the kernels are the portable ones, and the
// report must say so whenever the CPU has more (what a user's slow build sees instead of silence).
#include <cstdio>
#include <string>

#include <w2s/model/model.hpp>

int main(int argc, char** argv) {
    const std::string want = argc > 1 ? argv[1] : "best";
    const w2s::kernels::KernelIsa k = w2s::model::LlamaModel::kernel_isa();
    std::printf("fast_path (%s): %s\n", want.c_str(), k.describe().c_str());
    if (k.compiled.empty() || k.cpu_best == "none" || k.int8.empty()) return 2;  // the report itself is broken
    if (want == "best") return k.uses_best() ? 0 : 1;
    if (want == "portable") {
#if defined(__x86_64__) && !defined(__AVX2__)
        if (k.int8 != "none") return 1;
        // the CPU has more than the compiled code: the report must not claim the best
        if (k.cpu_best_version > k.compiled_version) return k.uses_best() ? 1 : 0;
        return k.uses_best() ? 0 : 1;
#else
        return 0;  // not an x86-64 build without AVX2: nothing portable to check here
#endif
    }
    std::fprintf(stderr, "usage: fast_path best|portable\n");
    return 2;
}
