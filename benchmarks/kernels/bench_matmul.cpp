// benchmarks/kernels/bench_matmul.cpp — GFLOP/s of w2s::kernels::matmul (fast) and matmul_ref (scalar twin)
// on the weight shapes of SmolLM2-135M (Q4_1 layers, Q8_0 tied embedding/output) and a few Gemma 3 types,
// at 1 and 128 activation rows and 1 and 2 threads; also matmul_q8 (int8 activations) where it has a path. Random weights (see tests/kernels/random_weights.hpp).
//
//   bench_matmul [--quick]     prints a Markdown table; --quick skips the reference on the largest shape
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <w2s/core/parallel.hpp>
#include <w2s/model/kernels/matmul.hpp>
#include <w2s/model/kernels/matmul_q8.hpp>

#include "random_weights.hpp"

namespace {

using w2s::gguf::TensorType;
using clk = std::chrono::steady_clock;

/// Best seconds per call of f over repetitions lasting about `budget` seconds (at least 2 calls).
template <class F>
double time_best(F&& f, double budget) {
    f();  // warm-up
    double best = 1e30, total = 0.0;
    int reps = 0;
    while (reps < 2 || (total < budget && reps < 1000)) {
        const auto t0 = clk::now();
        f();
        const double s = std::chrono::duration<double>(clk::now() - t0).count();
        best = std::min(best, s);
        total += s;
        ++reps;
    }
    return best;
}

struct Case {
    TensorType type;
    std::size_t n_in, n_out;
    const char* what;
};

}  // namespace

int main(int argc, char** argv) {
    const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    const std::vector<Case> cases = {
        {TensorType::Q4_1, 576, 576, "attn_q/o"},      {TensorType::Q4_1, 576, 192, "attn_k/v"},
        {TensorType::Q4_1, 576, 1536, "ffn_gate/up"},  {TensorType::Q4_1, 1536, 576, "ffn_down"},
        {TensorType::Q8_0, 576, 49152, "output"},      {TensorType::Q8_0, 576, 1536, "(Q8_0)"},
        // Gemma 3 270M (Q4_K_M): rows of 640 are not a multiple of 256, so those tensors use Q5_0 / Q8_0
        {TensorType::Q5_0, 640, 1024, "gemma attn_q"}, {TensorType::Q8_0, 640, 2048, "gemma ffn_up"},
        {TensorType::Q4_K, 2048, 640, "gemma ffn_down"}, {TensorType::Q6_K, 2048, 640, "gemma ffn_down"},
        {TensorType::F16, 576, 576, "(F16)"},
    };
    std::printf("| shape (n_in x n_out) | type | use | rows | threads | fast GFLOP/s | q8 GFLOP/s | ref GFLOP/s | fast/ref |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|\n");
    for (const Case& c : cases) {
        const auto bytes = w2s::test::random_weights(c.type, c.n_in, c.n_out, 1);
        const auto W = w2s::kernels::WeightMatrix::from_raw(c.type, bytes.data(), c.n_in, c.n_out);
        for (std::size_t rows : {std::size_t{1}, std::size_t{128}}) {
            const auto x = w2s::test::random_activations(rows, c.n_in, 2);
            std::vector<float> y(rows * c.n_out);
            const double flop = 2.0 * static_cast<double>(rows * c.n_in * c.n_out);
            const bool big = rows * c.n_in * c.n_out > (std::size_t{1} << 30);
            double ref = 0.0;
            if (!(quick && big))
                ref = flop / time_best([&] { w2s::kernels::matmul_ref(W, {x.data(), rows, c.n_in}, {y.data(), rows, c.n_out}); },
                                       big ? 0.0 : 0.3) * 1e-9;
            for (int threads : {1, 2}) {
                w2s::ThreadPool pool(threads);
                const double fast = flop /
                    time_best([&] { pool.run([&] { w2s::kernels::matmul(W, {x.data(), rows, c.n_in}, {y.data(), rows, c.n_out}); }); }, 0.5) *
                    1e-9;
                double q8 = 0.0;
                if (w2s::kernels::has_q8_path(c.type))
                    q8 = flop /
                        time_best([&] { pool.run([&] { w2s::kernels::matmul_q8(W, {x.data(), rows, c.n_in}, {y.data(), rows, c.n_out}); }); }, 0.5) *
                        1e-9;
                std::printf("| %zux%zu | %s | %s | %zu | %d | %.1f | %s | %s | %s |\n", c.n_in, c.n_out,
                            w2s::gguf::tensor_type_name(c.type).c_str(), c.what, rows, threads, fast,
                            q8 > 0 ? std::to_string(q8).substr(0, 5).c_str() : "-",
                            ref > 0 ? std::to_string(ref).substr(0, 5).c_str() : "-",
                            ref > 0 ? std::to_string(fast / ref).substr(0, 5).c_str() : "-");
                std::fflush(stdout);
            }
        }
    }
    return 0;
}
