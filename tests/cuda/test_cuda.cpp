// The CUDA backend against the CPU reference backend on the same GGUF files (label `cuda`).
//
// Compared: logits at every position, the residual stream at hook points, steered logits (a hook adding a
// vector), forward_tails with parent chains and resumed at a block, forked sessions, and the sweep engine's
// per-item record — on the tiny random models of tests/support/tiny_model.hpp (llama, qwen2 with biases,
// gemma3 with q/k norms, sandwich norms, sliding window and an untied output) and on SmolLM2-135M-Instruct.
//
// Tolerances (the GPU path rounds weights and GEMM inputs to fp16 and accumulates in fp32; the CPU path uses
// the quantized weights exactly in fp32):
//   logits     max |gpu - cpu| <= kLogitTol (5e-2) on the tiny models, kLogitTolSmol on SmolLM2 (30 blocks);
//   residuals  max |gpu - cpu| <= kResidualRel * max |cpu| (relative to the size of the stream at that block);
//   greedy     where the argmax differs, the CPU's top two logits are within the logit tolerance.
//
// Without a CUDA device (or driver) the executable prints why and exits with 77, which CTest reports as
// "not run" (SKIP_RETURN_CODE 77); the CPU suite is unaffected.
#define BOOST_TEST_MODULE test_cuda
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>
#include <unistd.h>

#include "tiny_model.hpp"
#include "w2s/cuda/cuda.hpp"
#include "w2s/gguf/blocks.hpp"
#include "w2s/model/model.hpp"
#include "w2s/steer/tokenized.hpp"
#include "w2s/steer/vector_set.hpp"
#include "w2s/sweep/engine.hpp"
#include "w2s_test_support.hpp"

using namespace w2s;
using model::BlockOutput;
using model::Hook;
using model::LlamaModel;
using model::Tail;
using model::token_id;
using cuda::CudaLlamaModel;

namespace {

constexpr float kLogitTol = 5e-2f;
constexpr float kLogitTolSmol = 1.5e-1f;
constexpr float kResidualRel = 1e-2f;

std::string tmp_dir() {
    static const std::string d = w2s::test::temp_dir("test_cuda");
    return d;
}

struct Pair {
    LlamaModel cpu;
    CudaLlamaModel gpu;
};

const Pair& tiny(const std::string& arch) {
    static std::map<std::string, std::unique_ptr<Pair>> cache;
    auto it = cache.find(arch);
    if (it == cache.end()) {
        test::TinyModelOptions o;
        o.arch = arch;
        o.seed = 11;
        o.tied_output = arch != "gemma3";  // one untied model
        o.n_layers = 4;
        const std::string path = test::make_tiny_model(tmp_dir() + "/" + arch, o);
        it = cache.emplace(arch, std::make_unique<Pair>(Pair{LlamaModel::load(path), CudaLlamaModel::load(path)})).first;
    }
    return *it->second;
}

const Pair& smol() {
    static const std::unique_ptr<Pair> p = [] {
        const std::string path = test::model_path();
        return std::make_unique<Pair>(Pair{LlamaModel::load(path), CudaLlamaModel::load(path)});
    }();
    return *p;
}

// (plain loops: GCC 12 warns inside Eigen's AVX-512 maxCoeff)
float max_abs(const MatrixRM& a) {
    float m = 0.f;
    for (Eigen::Index i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a.data()[i]));
    return m;
}

float max_abs_diff(const MatrixRM& a, const MatrixRM& b) {
    BOOST_REQUIRE_EQUAL(a.rows(), b.rows());
    BOOST_REQUIRE_EQUAL(a.cols(), b.cols());
    float m = 0.f;
    for (Eigen::Index i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a.data()[i] - b.data()[i]));
    return m;
}

using Capture = w2s::model::ResidualCapture;  // residuals per (layer, seq)

void check_captures(const Capture& cpu, const Capture& gpu) {
    BOOST_TEST(cpu.at.size() == gpu.at.size());
    for (const auto& [key, c] : cpu.at) {
        auto it = gpu.at.find(key);
        BOOST_TEST_REQUIRE((it != gpu.at.end()));
        const float scale = std::max(1.0f, max_abs(c));
        BOOST_TEST_CONTEXT("layer " << key.first << " seq " << key.second) {
            BOOST_TEST(max_abs_diff(c, it->second) <= kResidualRel * scale);
        }
    }
}

/// Greedy agreement: where the argmaxes differ the CPU's top two logits must be within tol.
void check_greedy(const MatrixRM& cpu, const MatrixRM& gpu, float tol) {
    for (Eigen::Index r = 0; r < cpu.rows(); ++r) {
        const float* cr = cpu.data() + r * cpu.cols();
        const float* gr = gpu.data() + r * gpu.cols();
        const auto a = std::max_element(cr, cr + cpu.cols()) - cr;
        const auto b = std::max_element(gr, gr + gpu.cols()) - gr;
        if (a != b) BOOST_TEST(std::abs(cpu(r, a) - cpu(r, b)) <= 2 * tol);
    }
}

/// A hook adding alpha * v to rows at absolute positions >= from, at `layer`.
Hook steer_hook(int layer, std::vector<float> v, float alpha, std::size_t from) {
    return [=](const BlockOutput& o) {
        if (o.layer != layer) return;
        for (std::size_t r = 0; r < o.residual.rows; ++r)
            if (o.pos0 + r >= from)
                for (std::size_t c = 0; c < o.residual.cols; ++c) o.residual.row(r)[c] += alpha * v[c];
    };
}

std::vector<float> random_vector(std::size_t n, unsigned seed) {
    std::mt19937 g(seed);
    std::normal_distribution<float> d(0.f, 1.f);
    std::vector<float> v(n);
    for (auto& x : v) x = d(g);
    return v;
}

std::vector<token_id> toks(std::initializer_list<int> x) { return {x.begin(), x.end()}; }

const std::vector<std::string> kArchs{"llama", "qwen2", "gemma3"};

}  // namespace

BOOST_AUTO_TEST_CASE(fp16_conversion_and_gemm_match_host_references) {
    // f32_to_f16 rounds as gguf::fp32_to_fp16 (nearest even), bit for bit
    const auto x = random_vector(1000, 1);
    cuda::Stream s;
    cuda::DeviceBuffer dx(x.size() * sizeof(float)), dh(x.size() * sizeof(cuda::half_bits));
    cuda::copy_to_device(dx.data(), x.data(), x.size() * sizeof(float), s);
    cuda::f32_to_f16(dx.as<float>(), dh.as<cuda::half_bits>(), x.size(), s);
    std::vector<cuda::half_bits> h(x.size());
    cuda::copy_to_host(h.data(), dh.data(), h.size() * sizeof(cuda::half_bits), s);
    std::size_t same = 0;
    for (std::size_t i = 0; i < x.size(); ++i) same += h[i] == gguf::fp32_to_fp16(x[i]);
    BOOST_TEST(same == x.size());

    // gemm: Y [rows x n_out] (ldy) = X W^T + beta Y against a double-precision host product of the same fp16 values
    const std::size_t n_out = 37, n_in = 70, rows = 5, ldy = 40;
    const auto wf = random_vector(n_out * n_in, 2), xf = random_vector(rows * n_in, 3), y0 = random_vector(rows * ldy, 4);
    std::vector<cuda::half_bits> w16(wf.size()), x16(xf.size());
    for (std::size_t i = 0; i < wf.size(); ++i) w16[i] = gguf::fp32_to_fp16(wf[i]);
    for (std::size_t i = 0; i < xf.size(); ++i) x16[i] = gguf::fp32_to_fp16(xf[i]);
    cuda::DeviceBuffer dw(w16.size() * 2), dxx(x16.size() * 2), dy(y0.size() * sizeof(float));
    cuda::copy_to_device(dw.data(), w16.data(), w16.size() * 2, s);
    cuda::copy_to_device(dxx.data(), x16.data(), x16.size() * 2, s);
    for (float beta : {0.0f, 1.0f}) {
        cuda::copy_to_device(dy.data(), y0.data(), y0.size() * sizeof(float), s);
        cuda::gemm(dw.as<cuda::half_bits>(), n_out, n_in, dxx.as<cuda::half_bits>(), rows, dy.as<float>(), ldy, beta, s);
        std::vector<float> y(y0.size());
        cuda::copy_to_host(y.data(), dy.data(), y.size() * sizeof(float), s);
        float err = 0.f;
        for (std::size_t r = 0; r < rows; ++r) {
            for (std::size_t o = 0; o < n_out; ++o) {
                double ref = beta * y0[r * ldy + o];
                for (std::size_t k = 0; k < n_in; ++k)
                    ref += static_cast<double>(gguf::fp16_to_fp32(x16[r * n_in + k])) * gguf::fp16_to_fp32(w16[o * n_in + k]);
                err = std::max(err, static_cast<float>(std::abs(ref - y[r * ldy + o])));
            }
            for (std::size_t o = n_out; o < ldy; ++o) err = std::max(err, std::abs(y[r * ldy + o] - y0[r * ldy + o]));  // untouched
        }
        BOOST_TEST(err <= 1e-3f, "beta " << beta << ": max error " << err);  // fp32 accumulation of 70 products ~1
    }
}

BOOST_AUTO_TEST_CASE(satisfies_the_concept_and_loads_the_same_shapes) {
    static_assert(model::Backend<CudaLlamaModel>);
    for (const auto& arch : kArchs) {
        BOOST_TEST_CONTEXT("arch " << arch) {
            const auto& p = tiny(arch);
            BOOST_TEST(p.gpu.n_layers() == p.cpu.n_layers());
            BOOST_TEST(p.gpu.hidden_size() == p.cpu.hidden_size());
            BOOST_TEST(p.gpu.vocab_size() == p.cpu.vocab_size());
            BOOST_TEST(p.gpu.tokenizer().encode("the cat") == p.cpu.tokenizer().encode("the cat"));
            BOOST_TEST(p.gpu.weight_bytes() > 0u);
        }
    }
}

BOOST_AUTO_TEST_CASE(prefill_logits_and_hook_residuals_match_cpu) {
    for (const auto& arch : kArchs) {
        BOOST_TEST_CONTEXT("arch " << arch) {
            const auto& p = tiny(arch);
            const auto all = toks({1, 40, 41, 42, 100, 7, 8, 9, 200, 201, 202, 3});
            auto sc = p.cpu.new_session();
            auto sg = p.gpu.new_session();
            MatrixRM lc, lg;
            Capture cc, cg;
            // in two chunks: the second attends to the cached first (and crosses gemma3's window of 4)
            p.cpu.prefill(sc, std::span(all).first(5), cc.hook(), &lc);
            p.gpu.prefill(sg, std::span(all).first(5), cg.hook(), &lg);
            BOOST_TEST(max_abs_diff(lc, lg) <= kLogitTol);
            check_captures(cc, cg);
            p.cpu.prefill(sc, std::span(all).subspan(5), cc.hook(), &lc);
            p.gpu.prefill(sg, std::span(all).subspan(5), cg.hook(), &lg);
            BOOST_TEST(sg.size() == all.size());
            BOOST_TEST(max_abs_diff(lc, lg) <= kLogitTol);
            check_captures(cc, cg);
            check_greedy(lc, lg, kLogitTol);
        }
    }
}

BOOST_AUTO_TEST_CASE(steered_logits_match_cpu) {
    for (const auto& arch : kArchs) {
        BOOST_TEST_CONTEXT("arch " << arch) {
            const auto& p = tiny(arch);
            const auto all = toks({1, 50, 51, 52, 53, 54, 55, 56});
            const auto v = random_vector(64, 3);
            MatrixRM lc, lg, lg0;
            auto sc = p.cpu.new_session();
            auto sg = p.gpu.new_session();
            p.cpu.prefill(sc, all, steer_hook(1, v, 2.0f, 3), &lc);
            p.gpu.prefill(sg, all, steer_hook(1, v, 2.0f, 3), &lg);
            BOOST_TEST(max_abs_diff(lc, lg) <= kLogitTol);
            auto s0 = p.gpu.new_session();
            p.gpu.prefill(s0, all, {}, &lg0);
            BOOST_TEST(max_abs_diff(lg0.bottomRows(5), lg.bottomRows(5)) > 10 * kLogitTol);  // the steering acted
            BOOST_TEST(max_abs_diff(lg0.topRows(3), lg.topRows(3)) <= 1e-5f);             // only from position 3 on
        }
    }
}

BOOST_AUTO_TEST_CASE(tails_with_parent_chains_and_resume_match_cpu) {
    for (const auto& arch : kArchs) {
        BOOST_TEST_CONTEXT("arch " << arch) {
            const auto& p = tiny(arch);
            const auto prefix = toks({1, 10, 11, 12, 13, 14});
            auto pc = p.cpu.new_session();
            auto pg = p.gpu.new_session();
            p.cpu.prefill(pc, prefix);
            p.gpu.prefill(pg, prefix);
            const std::vector<std::vector<token_id>> tt{{20, 21, 22}, {30, 31}, {40, 41}, {50}, {60, 61, 62, 63, 64, 65}};
            const std::vector<int> parent{-1, 0, 0, 1, -1};
            std::vector<Tail> tails;
            for (std::size_t i = 0; i < tt.size(); ++i) tails.push_back(Tail{tt[i], {}, parent[i]});
            MatrixRM lc, lg;
            Capture cc, cg;
            p.cpu.forward_tails(pc, tails, 0, cc.hook(), &lc);
            p.gpu.forward_tails(pg, tails, 0, cg.hook(), &lg);
            BOOST_TEST(pg.size() == prefix.size());
            BOOST_TEST(max_abs_diff(lc, lg) <= kLogitTol);
            check_captures(cc, cg);

            // resume at block 2 from the CPU's residual of block 1, steered
            const auto v = random_vector(64, 5);
            std::vector<MatrixRM> in(tt.size());
            for (std::size_t i = 0; i < tt.size(); ++i) {
                in[i] = cc.at[{1, i}];
                for (Eigen::Index r = 0; r < in[i].rows(); ++r)
                    for (Eigen::Index c = 0; c < in[i].cols(); ++c) in[i](r, c) += 1.5f * v[static_cast<std::size_t>(c)];
                tails[i].input = ConstMatrixView(in[i].data(), static_cast<std::size_t>(in[i].rows()), 64);
            }
            Capture rc, rg;
            p.cpu.forward_tails(pc, tails, 2, rc.hook(), &lc);
            p.gpu.forward_tails(pg, tails, 2, rg.hook(), &lg);
            BOOST_TEST(max_abs_diff(lc, lg) <= kLogitTol);
            check_captures(rc, rg);
            BOOST_TEST(rg.at.count({1, 0}) == 0u);  // blocks below first_block do not run
            // first_block == n_layers: only the output head
            for (std::size_t i = 0; i < tt.size(); ++i) {
                in[i] = cc.at[{p.cpu.n_layers() - 1, i}];
                tails[i].input = ConstMatrixView(in[i].data(), static_cast<std::size_t>(in[i].rows()), 64);
            }
            p.cpu.forward_tails(pc, tails, p.cpu.n_layers(), {}, &lc);
            p.gpu.forward_tails(pg, tails, p.gpu.n_layers(), {}, &lg);
            BOOST_TEST(max_abs_diff(lc, lg) <= kLogitTol);
            // bad arguments are refused as on the CPU
            BOOST_CHECK_THROW(p.gpu.forward_tails(pg, tails, p.gpu.n_layers() + 1, {}, &lg), w2s::invalid_argument);
            tails[1].parent = 3;
            BOOST_CHECK_THROW(p.gpu.forward_tails(pg, tails, 0, {}, &lg), w2s::invalid_argument);
        }
    }
}

BOOST_AUTO_TEST_CASE(forked_sessions_are_independent) {
    const auto& p = tiny("llama");
    auto sg = p.gpu.new_session();
    auto sc = p.cpu.new_session();
    p.gpu.prefill(sg, toks({1, 2, 3, 4}));
    p.cpu.prefill(sc, toks({1, 2, 3, 4}));
    auto fg = sg;  // fork: a device copy of the cache
    auto fc = sc;
    MatrixRM a, b, c, d;
    p.gpu.prefill(sg, toks({70, 71}), {}, &a);
    p.gpu.prefill(fg, toks({80}), {}, &b);
    p.cpu.prefill(sc, toks({70, 71}), {}, &c);
    p.cpu.prefill(fc, toks({80}), {}, &d);
    BOOST_TEST(sg.size() == 6u);
    BOOST_TEST(fg.size() == 5u);
    BOOST_TEST(max_abs_diff(a, c) <= kLogitTol);
    BOOST_TEST(max_abs_diff(b, d) <= kLogitTol);
    // a hook that throws leaves the session as it was
    const Hook boom = [](const BlockOutput& o) {
        if (o.layer == 2) throw w2s::data_error("boom");
    };
    BOOST_CHECK_THROW(p.gpu.prefill(fg, toks({90, 91}), boom, nullptr), w2s::data_error);
    BOOST_TEST(fg.size() == 5u);
    p.gpu.prefill(fg, toks({81}), {}, &b);
    p.cpu.prefill(fc, toks({81}), {}, &d);
    BOOST_TEST(max_abs_diff(b, d) <= kLogitTol);
    BOOST_CHECK_THROW(p.gpu.prefill(fg, toks({100000}), {}, nullptr), w2s::invalid_argument);
}

BOOST_AUTO_TEST_CASE(sweep_item_matches_cpu) {
    for (const auto& arch : kArchs) {
        BOOST_TEST_CONTEXT("arch " << arch) {
            const auto& p = tiny(arch);
            steer::VectorSet vs(p.cpu.n_layers(), p.cpu.hidden_size());
            for (int l = 0; l < p.cpu.n_layers(); ++l) vs.set(l, random_vector(64, 20u + static_cast<unsigned>(l)));
            steer::TokenizedItem item;
            item.prompt = toks({1, 30, 31, 32, 33, 34, 35, 36, 37});
            item.response = {toks({60, 61, 62, 63}), toks({60, 71, 72})};
            const auto opt = sweep::resolve_options(p.cpu, vs, {});
            const auto rc = sweep::sweep_item(p.cpu, item, vs, opt);
            const auto rg = sweep::sweep_item(p.gpu, item, vs, opt);
            BOOST_TEST_REQUIRE(rc.propensity.size() == rg.propensity.size());
            for (std::size_t i = 0; i < rc.propensity.size(); ++i)
                BOOST_TEST(std::abs(rc.propensity[i] - rg.propensity[i]) <= 4 * kLogitTol);  // sums of up to 4 logits
            float scale = 1.f, diff = 0.f;
            for (std::size_t i = 0; i < rc.emb_last.size(); ++i) {
                scale = std::max(scale, std::abs(rc.emb_last[i]));
                diff = std::max(diff, std::abs(rc.emb_last[i] - rg.emb_last[i]));
            }
            BOOST_TEST(diff <= kResidualRel * scale);
        }
    }
}

BOOST_AUTO_TEST_CASE(smollm2_logits_residuals_and_steering_match_cpu) {
    const auto& p = smol();
    const std::vector<std::string> prompts{
        "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n",
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nWould you rather (A) help or "
        "(B) refuse?<|im_end|>\n<|im_start|>assistant\n(",
        "The quick brown fox jumps over the lazy dog, and then"};
    const int H = p.cpu.hidden_size();
    const auto v = random_vector(static_cast<std::size_t>(H), 9);
    for (std::size_t i = 0; i < prompts.size(); ++i) {
        BOOST_TEST_CONTEXT("prompt " << i) {
            const auto ids = p.cpu.tokenizer().encode(prompts[i]);
            BOOST_TEST((p.gpu.tokenizer().encode(prompts[i]) == ids));
            MatrixRM lc, lg;
            Capture cc, cg;
            auto only = [](Capture& c, std::initializer_list<int> layers) {
                std::vector<int> keep(layers);
                Hook inner = c.hook();
                return Hook([inner, keep](const BlockOutput& o) {
                    if (std::find(keep.begin(), keep.end(), o.layer) != keep.end()) inner(o);
                });
            };
            auto sc = p.cpu.new_session();
            auto sg = p.gpu.new_session();
            p.cpu.prefill(sc, ids, only(cc, {0, 14, 29}), &lc);
            p.gpu.prefill(sg, ids, only(cg, {0, 14, 29}), &lg);
            BOOST_TEST(max_abs_diff(lc, lg) <= kLogitTolSmol);
            check_captures(cc, cg);
            check_greedy(lc, lg, kLogitTolSmol);

            // steered at layer 10 from the last prompt token on, with a vector of norm ~ 4 * sqrt(H)
            auto sc2 = p.cpu.new_session();
            auto sg2 = p.gpu.new_session();
            p.cpu.prefill(sc2, ids, steer_hook(10, v, 4.0f, ids.size() - 1), &lc);
            p.gpu.prefill(sg2, ids, steer_hook(10, v, 4.0f, ids.size() - 1), &lg);
            BOOST_TEST(max_abs_diff(lc, lg) <= kLogitTolSmol);
        }
    }
}

int main(int argc, char* argv[]) {
    if (w2s::cuda::device_count() == 0) {
        std::cout << "test_cuda: no CUDA device (or driver) on this machine: not run (exit 77, CTest skip)\n";
        return 77;
    }
    std::cout << "test_cuda on " << w2s::cuda::device_description(0) << "\n";
    return boost::unit_test::unit_test_main(&init_unit_test, argc, argv);
}
