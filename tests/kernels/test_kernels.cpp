// tests/kernels — the SIMD matmul against its scalar twin for every weight type, get_rows, dequantization
// by hand, and the errors of the kernels API.
#define BOOST_TEST_MODULE kernels
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <w2s/core/parallel.hpp>
#include <w2s/gguf/quants.hpp>
#include <w2s/model/kernels/isa.hpp>
#include <w2s/model/kernels/matmul.hpp>
#include <w2s/model/kernels/matmul_q8.hpp>

#include "random_weights.hpp"

using w2s::gguf::TensorType;
namespace k = w2s::kernels;

namespace {

const std::vector<TensorType> kAllTypes = {
    TensorType::F32,  TensorType::F16,  TensorType::BF16, TensorType::Q4_0, TensorType::Q4_1,
    TensorType::Q5_0, TensorType::Q5_1, TensorType::Q8_0, TensorType::Q2_K, TensorType::Q3_K,
    TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K};

/// Tolerance of matmul against matmul_ref, relative to sum_i |w_i x_i| of each output.
constexpr double kRelTol = 1e-5;

std::uint16_t h(float v) { return w2s::gguf::fp32_to_fp16(v); }

/// Max over outputs of |fast - ref| / (sum |w x|), with the sums from the reference-dequantized weights.
double max_rel_error(const k::WeightMatrix& W, const std::vector<float>& x, std::size_t rows,
                     const std::vector<float>& fast, const std::vector<float>& ref) {
    std::vector<float> w(W.n_in);
    double worst = 0.0;
    for (std::size_t o = 0; o < W.n_out; ++o) {
        w2s::gguf::dequantize_row_ref(W.type, W.row(o), w.data(), W.n_in);
        for (std::size_t r = 0; r < rows; ++r) {
            double mag = 1e-30;
            for (std::size_t i = 0; i < W.n_in; ++i) mag += std::abs(static_cast<double>(w[i]) * x[r * W.n_in + i]);
            const double err = std::abs(static_cast<double>(fast[r * W.n_out + o]) - ref[r * W.n_out + o]);
            worst = std::max(worst, err / mag);
        }
    }
    return worst;
}

template <class F>
std::string message_of(F&& f) {
    try {
        f();
    } catch (const w2s::error& e) {
        return e.kind() + ": " + e.what();
    }
    return "no error";
}

}  // namespace

/// A 2-d tensor [rows x n_in] of `type` over `bytes` (which must outlive it).
w2s::gguf::TensorInfo tensor_info(const char* name, TensorType type, std::uint64_t n_in, std::uint64_t rows,
                                  const std::vector<std::byte>& bytes) {
    w2s::gguf::TensorInfo t;
    t.name = name;
    t.ne = {n_in, rows};
    t.type = type;
    t.n_elements = n_in * rows;
    t.n_bytes = bytes.size();
    t.data = bytes.data();
    return t;
}

BOOST_AUTO_TEST_CASE(dequantize_q8_0_by_hand) {
    w2s::gguf::block_q8_0 b{};
    b.d = h(0.5f);
    for (int i = 0; i < 32; ++i) b.qs[i] = static_cast<std::int8_t>(i - 16);
    float y[32];
    w2s::gguf::dequantize_row_ref(TensorType::Q8_0, reinterpret_cast<const std::byte*>(&b), y, 32);
    for (int i = 0; i < 32; ++i) BOOST_TEST(y[i] == 0.5f * static_cast<float>(i - 16));  // exact: bit pattern matters
}

BOOST_AUTO_TEST_CASE(dequantize_q4_0_q4_1_q5_0_by_hand) {
    w2s::gguf::block_q4_0 a{};
    a.d = h(2.0f);
    std::memset(a.qs, 0, sizeof a.qs);
    a.qs[0] = 0x1F;  // element 0: low nibble 15 -> (15-8)*2 = 14; element 16: high nibble 1 -> (1-8)*2 = -14
    float y[32];
    w2s::gguf::dequantize_row_ref(TensorType::Q4_0, reinterpret_cast<const std::byte*>(&a), y, 32);
    BOOST_TEST(y[0] == 14.0f);
    BOOST_TEST(y[16] == -14.0f);
    BOOST_TEST(y[1] == -16.0f);

    w2s::gguf::block_q4_1 b{};
    b.d = h(0.25f);
    b.m = h(-1.0f);
    std::memset(b.qs, 0, sizeof b.qs);
    b.qs[3] = 0xA4;  // element 3: 4*0.25-1 = 0; element 19: 10*0.25-1 = 1.5
    w2s::gguf::dequantize_row_ref(TensorType::Q4_1, reinterpret_cast<const std::byte*>(&b), y, 32);
    BOOST_TEST(y[3] == 0.0f);
    BOOST_TEST(y[19] == 1.5f);
    BOOST_TEST(y[0] == -1.0f);

    w2s::gguf::block_q5_0 c{};
    c.d = h(1.0f);
    std::memset(c.qs, 0, sizeof c.qs);
    const std::uint32_t qh = (1u << 2) | (1u << 18);  // high bit of elements 2 and 18
    std::memcpy(c.qh, &qh, 4);
    c.qs[2] = 0x31;  // element 2: (1 | 16) - 16 = 1; element 18: (3 | 16) - 16 = 3
    w2s::gguf::dequantize_row_ref(TensorType::Q5_0, reinterpret_cast<const std::byte*>(&c), y, 32);
    BOOST_TEST(y[2] == 1.0f);
    BOOST_TEST(y[18] == 3.0f);
    BOOST_TEST(y[0] == -16.0f);
}

BOOST_AUTO_TEST_CASE(dequantize_tensor_info) {
    auto bytes = w2s::test::random_weights(TensorType::Q6_K, 256, 3, 7);
    auto t = tensor_info("w", TensorType::Q6_K, 256, 3, bytes);
    const auto all = w2s::gguf::dequantize(t);
    BOOST_REQUIRE(all.size() == 768u);
    std::vector<float> row(256);
    w2s::gguf::dequantize_row_ref(TensorType::Q6_K, bytes.data() + 2 * 210, row.data(), 256);
    BOOST_TEST(std::memcmp(row.data(), all.data() + 512, 256 * sizeof(float)) == 0);
    t.n_bytes -= 1;
    BOOST_TEST(message_of([&] { (void)w2s::gguf::dequantize(t); }).find("format_error") == 0u);
}

// The SIMD decoder inside get_rows must reproduce the reference dequantizer bit for bit.
BOOST_AUTO_TEST_CASE(get_rows_equals_reference_dequantization_bitwise) {
    for (TensorType t : kAllTypes) {
        BOOST_TEST_CONTEXT("type " << w2s::gguf::tensor_type_name(t)) {
            const std::size_t n_in = 512, n_out = 9;
            auto bytes = w2s::test::random_weights(t, n_in, n_out, 11);
            const auto W = k::WeightMatrix::from_raw(t, bytes.data(), n_in, n_out);
            const std::vector<std::int32_t> ids = {8, 0, 3, 3};
            std::vector<float> out(ids.size() * n_in), ref(n_in);
            k::get_rows(W, ids, {out.data(), ids.size(), n_in});
            for (std::size_t i = 0; i < ids.size(); ++i) {
                w2s::gguf::dequantize_row_ref(t, W.row(static_cast<std::size_t>(ids[i])), ref.data(), n_in);
                BOOST_TEST(std::memcmp(ref.data(), out.data() + i * n_in, n_in * sizeof(float)) == 0);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(matmul_matches_reference_every_type) {
    for (TensorType t : kAllTypes) {
        const bool scalar_blocks = t == TensorType::F32 || t == TensorType::F16 || t == TensorType::BF16;
        // float types also get a row length that is not a multiple of the SIMD width
        for (std::size_t n_in : scalar_blocks ? std::vector<std::size_t>{45, 512} : std::vector<std::size_t>{512, 1536}) {
            const std::size_t n_out = 37;
            auto bytes = w2s::test::random_weights(t, n_in, n_out, 3);
            const auto W = k::WeightMatrix::from_raw(t, bytes.data(), n_in, n_out);
            for (std::size_t rows : {1u, 3u, 17u, 128u}) {
                BOOST_TEST_CONTEXT("type " << w2s::gguf::tensor_type_name(t) << " n_in " << n_in << " rows " << rows) {
                    const auto x = w2s::test::random_activations(rows, n_in, 5);
                    std::vector<float> fast(rows * n_out, NAN), ref(rows * n_out, NAN);
                    k::matmul(W, {x.data(), rows, n_in}, {fast.data(), rows, n_out});
                    k::matmul_ref(W, {x.data(), rows, n_in}, {ref.data(), rows, n_out});
                    BOOST_TEST(max_rel_error(W, x, rows, fast, ref) <= kRelTol);
                }
            }
        }
    }
}

// A wrong kernel must fail the comparison: perturb one weight row and expect a large error.
BOOST_AUTO_TEST_CASE(comparison_detects_a_wrong_weight) {
    auto bytes = w2s::test::random_weights(TensorType::Q4_1, 256, 5, 1);
    const auto W = k::WeightMatrix::from_raw(TensorType::Q4_1, bytes.data(), 256, 5);
    const auto x = w2s::test::random_activations(2, 256, 2);
    std::vector<float> fast(10), ref(10);
    k::matmul(W, {x.data(), 2, 256}, {fast.data(), 2, 5});
    k::matmul_ref(W, {x.data(), 2, 256}, {ref.data(), 2, 5});
    fast[7] += 0.01f * std::abs(fast[7]) + 1e-3f;
    BOOST_TEST(max_rel_error(W, x, 2, fast, ref) > kRelTol);
}

BOOST_AUTO_TEST_CASE(matmul_is_independent_of_thread_count) {
    const std::size_t n_in = 576, n_out = 1001, rows = 7;
    auto bytes = w2s::test::random_weights(TensorType::Q8_0, n_in, n_out, 9);
    const auto W = k::WeightMatrix::from_raw(TensorType::Q8_0, bytes.data(), n_in, n_out);
    const auto x = w2s::test::random_activations(rows, n_in, 4);
    std::vector<float> one(rows * n_out), two(rows * n_out);
    w2s::ThreadPool p1(1), p2(2);
    p1.run([&] { k::matmul(W, {x.data(), rows, n_in}, {one.data(), rows, n_out}); });
    p2.run([&] { k::matmul(W, {x.data(), rows, n_in}, {two.data(), rows, n_out}); });
    // Each output is computed by one task in a fixed order, so the result is bit-identical.
    BOOST_TEST(std::memcmp(one.data(), two.data(), one.size() * sizeof(float)) == 0);
}

// Row independence (kernels::Path): on the fused and on the tiled path a row's result does not depend on the other
// rows or their number, bit for bit; the fused path on many rows equals the one-row product, the tiled path equals
// the automatic path on more than 4 rows; and both stay within the reference tolerance.
BOOST_AUTO_TEST_CASE(forced_paths_compute_every_row_on_its_own) {
    for (TensorType t : kAllTypes) {
        const std::size_t n_in = (t == TensorType::F32 || t == TensorType::F16 || t == TensorType::BF16) ? 45 : 512;
        const std::size_t n_out = 37, rows = 13;
        auto bytes = w2s::test::random_weights(t, n_in, n_out, 7);
        const auto W = k::WeightMatrix::from_raw(t, bytes.data(), n_in, n_out);
        const auto x = w2s::test::random_activations(rows, n_in, 8);
        BOOST_TEST_CONTEXT("type " << w2s::gguf::tensor_type_name(t)) {
            std::vector<float> fused(rows * n_out), tiled(rows * n_out), autom(rows * n_out), ref(rows * n_out);
            k::matmul(W, {x.data(), rows, n_in}, {fused.data(), rows, n_out}, k::Path::fused);
            k::matmul(W, {x.data(), rows, n_in}, {tiled.data(), rows, n_out}, k::Path::tiled);
            k::matmul(W, {x.data(), rows, n_in}, {autom.data(), rows, n_out});
            k::matmul_ref(W, {x.data(), rows, n_in}, {ref.data(), rows, n_out});
            BOOST_TEST(max_rel_error(W, x, rows, fused, ref) <= kRelTol);
            BOOST_TEST(std::memcmp(tiled.data(), autom.data(), tiled.size() * sizeof(float)) == 0);
            for (std::size_t r = 0; r < rows; ++r) {
                std::vector<float> one(n_out), one_tiled(n_out);
                k::matmul(W, {x.data() + r * n_in, 1, n_in}, {one.data(), 1, n_out});
                k::matmul(W, {x.data() + r * n_in, 1, n_in}, {one_tiled.data(), 1, n_out}, k::Path::tiled);
                BOOST_TEST(std::memcmp(one.data(), fused.data() + r * n_out, n_out * sizeof(float)) == 0, "row " << r);
                BOOST_TEST(std::memcmp(one_tiled.data(), tiled.data() + r * n_out, n_out * sizeof(float)) == 0, "row " << r);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(weight_matrix_from_tensor_info) {
    auto bytes = w2s::test::random_weights(TensorType::Q4_K, 512, 6, 2);
    const auto t = tensor_info("blk.0.ffn_up.weight", TensorType::Q4_K, 512, 6, bytes);
    const auto W = k::WeightMatrix::from(t);
    BOOST_TEST(W.n_in == 512u);
    BOOST_TEST(W.n_out == 6u);
    BOOST_TEST(W.row_bytes == 2u * 144u);

    auto t3 = t;
    t3.ne = {512, 3, 2};
    const auto m3 = message_of([&] { (void)k::WeightMatrix::from(t3); });
    BOOST_TEST(m3.find("shape_error") == 0u);
    BOOST_TEST(m3.find("blk.0.ffn_up.weight") != std::string::npos);

    auto tb = t;
    tb.n_bytes += 144;
    BOOST_TEST(message_of([&] { (void)k::WeightMatrix::from(tb); }).find("format_error") == 0u);
}

BOOST_AUTO_TEST_CASE(errors_name_the_problem) {
    std::vector<std::byte> buf(4096);
    // unsupported type
    const auto mu = message_of([&] { (void)k::WeightMatrix::from_raw(TensorType::Q8_K, buf.data(), 256, 1); });
    BOOST_TEST(mu.find("unsupported_error") == 0u);
    BOOST_TEST(mu.find("Q8_K") != std::string::npos);
    float y[64];
    BOOST_TEST(message_of([&] { w2s::gguf::dequantize_row_ref(TensorType::Q8_1, buf.data(), y, 32); })
                   .find("unsupported_error") == 0u);
    // row length not a multiple of the block size
    const auto mb = message_of([&] { w2s::gguf::dequantize_row_ref(TensorType::Q4_0, buf.data(), y, 48); });
    BOOST_TEST(mb.find("invalid_argument") == 0u);
    BOOST_TEST(mb.find("Q4_0") != std::string::npos);
    BOOST_TEST(mb.find("48") != std::string::npos);

    // shapes
    const auto W = k::WeightMatrix::from_raw(TensorType::Q8_0, buf.data(), 64, 4);
    std::vector<float> x(2 * 64), out(2 * 4);
    const auto ms = message_of([&] { k::matmul(W, {x.data(), 2, 64}, {out.data(), 2, 3}); });
    BOOST_TEST(ms.find("shape_error") == 0u);
    BOOST_TEST(ms.find("2x3") != std::string::npos);
    BOOST_TEST(message_of([&] { k::matmul_ref(W, {x.data(), 2, 32}, {out.data(), 2, 4}); }).find("shape_error") == 0u);
    BOOST_TEST(message_of([&] { k::matmul(W, {x.data(), 2, 64}, {out.data(), 1, 4}); }).find("shape_error") == 0u);

    // get_rows: bad ids and shapes
    const std::vector<std::int32_t> bad = {1, 4};
    const auto mi = message_of([&] { k::get_rows(W, bad, {x.data(), 2, 64}); });
    BOOST_TEST(mi.find("invalid_argument") == 0u);
    BOOST_TEST(mi.find("id 4 at position 1") != std::string::npos);
    const std::vector<std::int32_t> neg = {-1};
    BOOST_TEST(message_of([&] { k::get_rows(W, neg, {x.data(), 1, 64}); }).find("invalid_argument") == 0u);
    const std::vector<std::int32_t> ok = {0, 1};
    BOOST_TEST(message_of([&] { k::get_rows(W, ok, {x.data(), 1, 64}); }).find("shape_error") == 0u);
}

// matmul_q8: within the documented bound 0.5 * sum_i |w_i| d_b(i) + 1e-5 * sum_i |w_i x_i| of matmul_ref.
BOOST_AUTO_TEST_CASE(matmul_q8_within_documented_bound) {
    for (TensorType t : {TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1, TensorType::Q8_0,
                         TensorType::Q6_K}) {
        const std::size_t n_in = 768, n_out = 37;
        auto bytes = w2s::test::random_weights(t, n_in, n_out, 21);
        const auto W = k::WeightMatrix::from_raw(t, bytes.data(), n_in, n_out);
        for (std::size_t rows : {1u, 3u, 17u}) {
            BOOST_TEST_CONTEXT("type " << w2s::gguf::tensor_type_name(t) << " rows " << rows) {
                const auto x = w2s::test::random_activations(rows, n_in, 8);
                std::vector<float> q8(rows * n_out), ref(rows * n_out), w(n_in);
                k::matmul_q8(W, {x.data(), rows, n_in}, {q8.data(), rows, n_out});
                k::matmul_ref(W, {x.data(), rows, n_in}, {ref.data(), rows, n_out});
                double worst = 0.0, mean_rel = 0.0;
                for (std::size_t o = 0; o < n_out; ++o) {
                    w2s::gguf::dequantize_row_ref(t, W.row(o), w.data(), n_in);
                    for (std::size_t r = 0; r < rows; ++r) {
                        double bound = 1e-30, mag = 0.0;
                        for (std::size_t b = 0; b < n_in / 32; ++b) {
                            double amax = 0.0, wsum = 0.0;
                            for (std::size_t i = 32 * b; i < 32 * b + 32; ++i) {
                                amax = std::max(amax, static_cast<double>(std::abs(x[r * n_in + i])));
                                wsum += std::abs(w[i]);
                                mag += std::abs(static_cast<double>(w[i]) * x[r * n_in + i]);
                            }
                            bound += 0.5 * wsum * amax / 127.0;
                        }
                        bound = 1.001 * bound + 1e-5 * mag;
                        const double err = std::abs(static_cast<double>(q8[r * n_out + o]) - ref[r * n_out + o]);
                        worst = std::max(worst, err / bound);
                        mean_rel += err / (mag + 1e-30);
                    }
                }
                BOOST_TEST(worst <= 1.0);
                BOOST_TEST_MESSAGE("matmul_q8 " << w2s::gguf::tensor_type_name(t) << " rows " << rows << ": worst err/bound "
                                                << worst << ", mean err/sum|wx| " << mean_rel / double(rows * n_out));
                if (!k::has_q8_path(t)) {  // falls back to the exact path
                    std::vector<float> fast(rows * n_out);
                    k::matmul(W, {x.data(), rows, n_in}, {fast.data(), rows, n_out});
                    BOOST_TEST(std::memcmp(fast.data(), q8.data(), fast.size() * sizeof(float)) == 0);
                }
            }
        }
    }
#if defined(__AVX2__)
    BOOST_TEST(k::has_q8_path(TensorType::Q4_1));
    BOOST_TEST(!k::has_q8_path(TensorType::Q6_K));
#endif
}

// kernels/isa.hpp: the report names what this file was compiled for (the project's -march=native under W2S_NATIVE),
// finds the CPU's best at run time, and says whether the two agree.
BOOST_AUTO_TEST_CASE(kernel_isa_reports_the_compiled_and_the_cpus_instruction_sets) {
    const auto k = w2s::kernels::compiled_kernel_isa();
    BOOST_TEST_MESSAGE("kernels: " << k.describe());
    BOOST_TEST(k.compiled == std::string(xsimd::default_arch::name()));
    BOOST_TEST(k.compiled_version == xsimd::default_arch::version());
    BOOST_TEST(k.cpu_best != "none");
    BOOST_TEST(w2s::kernels::detail::isa_name(k.compiled_version) == k.compiled);
    BOOST_TEST(k.cpu_best_version >= k.compiled_version);  // this program runs, so the CPU has what it was compiled for
#if defined(W2S_TEST_NATIVE)
    BOOST_TEST(k.uses_best());
#endif
    BOOST_TEST((k.int8 == "none") == !w2s::kernels::has_q8_path(w2s::gguf::TensorType::Q8_0));
    w2s::kernels::KernelIsa slow = k;
    slow.compiled_version = 0;
    BOOST_TEST(!slow.uses_best());
    BOOST_TEST(slow.describe().find("slower than this CPU allows") != std::string::npos);
}
