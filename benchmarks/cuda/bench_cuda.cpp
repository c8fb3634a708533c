// bench_cuda — the CUDA backend's speed: prompt processing and generation tokens/s, and the full per-item layer
// sweep (every layer x 7 multipliers, w2s::sweep::sweep_item) items/s, for SmolLM2-135M-Instruct (its GGUF,
// expanded to fp16) and for random fp16 weights in the shape of Llama-2-7B (32 blocks, hidden 4096, ffn 11008,
// 32 heads, vocab 32000).
//
//   bench_cuda [--model PATH | --smol-shape] [--pp 128] [--tg 64] [--items-small 20] [--items-7b 8] [--prompt 96]
//              [--no-7b] [--json FILE]
// (--smol-shape: no GGUF at hand, random fp16 weights in SmolLM2's shape — the same speed, as the weights are
// fp16 on the device either way.)
//
// Prints a table; --json writes the figures and the sweep set-up (shapes, prompt and response lengths, layers,
// multipliers) so that benchmarks/cuda/torch_peer.py runs the naive PyTorch-hooks sweep on the same shapes and
// prints the ratios. Exits with 77 when there is no CUDA device.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "w2s/cuda/cuda.hpp"
#include "w2s/model/llama/arch.hpp"
#include "w2s/steer/propensity.hpp"
#include "w2s/steer/tokenized.hpp"
#include "w2s/steer/vector_set.hpp"
#include "w2s/sweep/engine.hpp"

namespace {

using w2s::cuda::CudaLlamaModel;
using w2s::model::token_id;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

struct Options {
    std::string model;
    int pp = 128, tg = 64, items_small = 20, items_7b = 8, prompt = 96;
    bool big = true;
    bool smol_shape = false;  ///< no GGUF: random weights in SmolLM2-135M's shape
    std::string json;
};

struct Result {
    std::string name;
    nlohmann::json shape;
    double pp_tps = 0, tg_tps = 0, sweep_ips = 0, sweep_ips_mt = 0, load_s = 0;
    int items = 0;
};

std::vector<token_id> random_ids(std::mt19937& g, int n, int vocab) {
    std::uniform_int_distribution<int> d(10, vocab - 1);
    std::vector<token_id> v(static_cast<std::size_t>(n));
    for (auto& x : v) x = d(g);
    return v;
}

/// Synthetic A/B items: a random prompt of `prompt` tokens; responses "x a z" / "x b z" (a common head, a
/// differing letter, a common tail), the shape of the protocol's "(A)" / "(B)" answers.
std::vector<w2s::steer::TokenizedItem> make_items(int n, int prompt, int vocab, unsigned seed) {
    std::mt19937 g(seed);
    std::vector<w2s::steer::TokenizedItem> items(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        auto& it = items[static_cast<std::size_t>(i)];
        it.item = static_cast<std::size_t>(i);
        it.prompt = random_ids(g, prompt, vocab);
        const auto r = random_ids(g, 4, vocab);
        it.response = {std::vector<token_id>{r[0], r[1], r[3]}, std::vector<token_id>{r[0], r[2], r[3]}};
    }
    return items;
}

Result bench(const std::string& name, const CudaLlamaModel& m, const Options& o, int n_items) {
    Result res;
    res.name = name;
    const auto& h = m.hparams();
    res.shape = {{"n_layers", h.n_layers}, {"hidden", h.hidden}, {"ffn", h.ffn}, {"n_head", h.n_head},
                 {"n_head_kv", h.n_head_kv}, {"head_dim", h.head_k}, {"vocab", h.vocab}, {"rope_base", h.rope_base},
                 {"eps", h.eps}};
    std::mt19937 g(42);
    const auto prompt = random_ids(g, o.pp, h.vocab);

    // pp: one prefill of o.pp tokens (no logits), best of 3 after a warm-up
    {
        double best = 1e30;
        for (int rep = 0; rep < 4; ++rep) {
            auto s = m.new_session();
            const auto t0 = Clock::now();
            m.prefill(s, prompt, {}, nullptr);
            if (rep > 0) best = std::min(best, seconds_since(t0));
        }
        res.pp_tps = o.pp / best;
    }
    // tg: o.tg greedy steps after the prompt, one token per call, with logits
    {
        auto s = m.new_session();
        m.prefill(s, prompt, {}, nullptr);
        w2s::MatrixRM lg;
        token_id next = prompt.back();
        m.prefill(s, std::span<const token_id>(&next, 1), {}, &lg);  // warm-up
        const auto t0 = Clock::now();
        for (int i = 0; i < o.tg; ++i) {
            Eigen::Index a = 0;
            lg.row(lg.rows() - 1).maxCoeff(&a);
            next = static_cast<token_id>(a);
            m.prefill(s, std::span<const token_id>(&next, 1), {}, &lg);
        }
        res.tg_tps = o.tg / seconds_since(t0);
    }
    // the sweep: every layer x 7 multipliers, per item
    {
        w2s::steer::VectorSet vs(h.n_layers, h.hidden);
        std::normal_distribution<float> nd(0.f, 0.05f);
        std::vector<float> v(static_cast<std::size_t>(h.hidden));
        for (int l = 0; l < h.n_layers; ++l) {
            for (auto& x : v) x = nd(g);
            vs.set(l, v);
        }
        const auto items = make_items(n_items + 1, o.prompt, h.vocab, 7);
        const auto opt = w2s::sweep::resolve_options(m, vs, {});
        (void)w2s::sweep::sweep_item(m, items[0], vs, opt);  // warm-up
        auto t0 = Clock::now();
        for (int i = 1; i <= n_items; ++i) (void)w2s::sweep::sweep_item(m, items[static_cast<std::size_t>(i)], vs, opt);
        res.sweep_ips = n_items / seconds_since(t0);
        // 4 threads, each its own stream (the model's workspace pool)
        t0 = Clock::now();
        std::vector<std::thread> th;
        for (int t = 0; t < 4; ++t)
            th.emplace_back([&, t] {
                for (int i = 1 + t; i <= n_items; i += 4) (void)w2s::sweep::sweep_item(m, items[static_cast<std::size_t>(i)], vs, opt);
            });
        for (auto& x : th) x.join();
        res.sweep_ips_mt = n_items / seconds_since(t0);
        res.items = n_items;
    }
    return res;
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    if (const char* e = std::getenv("W2S_MODEL")) o.model = e;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "bench_cuda: " << a << " needs a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--model") o.model = next();
        else if (a == "--pp") o.pp = std::stoi(next());
        else if (a == "--tg") o.tg = std::stoi(next());
        else if (a == "--items-small") o.items_small = std::stoi(next());
        else if (a == "--items-7b") o.items_7b = std::stoi(next());
        else if (a == "--prompt") o.prompt = std::stoi(next());
        else if (a == "--no-7b") o.big = false;
        else if (a == "--smol-shape") o.smol_shape = true;
        else if (a == "--json") o.json = next();
        else {
            std::cerr << "usage: bench_cuda [--model PATH] [--pp N] [--tg N] [--items-small N] [--items-7b N] [--prompt N] "
                         "[--no-7b] [--smol-shape] [--json FILE]\n";
            return 2;
        }
    }
    if (w2s::cuda::device_count() == 0) {
        std::cout << "bench_cuda: no CUDA device: not run\n";
        return 77;
    }
    std::cout << "device: " << w2s::cuda::device_description(0) << "\n";
    std::vector<Result> results;
    try {
        if (!o.model.empty()) {
            const auto t0 = Clock::now();
            const auto m = CudaLlamaModel::load(o.model);
            const double load_s = seconds_since(t0);
            results.push_back(bench("SmolLM2-135M (GGUF -> fp16)", m, o, o.items_small));
            results.back().load_s = load_s;
        } else if (o.smol_shape) {
            w2s::model::llama::HParams h;  // SmolLM2-135M-Instruct: the same shapes, random weights
            h.info = &w2s::model::llama::find_arch("llama");
            h.n_layers = 30;
            h.hidden = 576;
            h.n_head = 9;
            h.n_head_kv = 3;
            h.head_k = h.head_v = h.rope_dim = 64;
            h.ffn = 1536;
            h.vocab = 49152;
            h.rope_base = 100000.f;
            h.attn_scale = 1.0f / 8.0f;
            const auto t0 = Clock::now();
            const auto m = CudaLlamaModel::random(h, 2);
            const double load_s = seconds_since(t0);
            results.push_back(bench("SmolLM2-135M shape (random fp16)", m, o, o.items_small));
            results.back().load_s = load_s;
        } else {
            std::cout << "(no --model / W2S_MODEL and no --smol-shape: SmolLM2 skipped)\n";
        }
        if (o.big) {
            w2s::model::llama::HParams h;
            h.info = &w2s::model::llama::find_arch("llama");
            h.n_layers = 32;
            h.hidden = 4096;
            h.n_head = h.n_head_kv = 32;
            h.head_k = h.head_v = h.rope_dim = 128;
            h.ffn = 11008;
            h.vocab = 32000;
            h.eps = 1e-5f;
            h.attn_scale = 1.0f / std::sqrt(128.0f);
            const auto t0 = Clock::now();
            const auto m = CudaLlamaModel::random(h, 1);
            const double load_s = seconds_since(t0);
            results.push_back(bench("Llama-2-7B shape (random fp16)", m, o, o.items_7b));
            results.back().load_s = load_s;
        }
    } catch (const std::exception& e) {
        std::cerr << "bench_cuda: " << e.what() << "\n";
        return 1;
    }

    std::printf("\n%-32s %10s %10s %14s %16s\n", "model", "pp t/s", "tg t/s", "sweep items/s", "sweep 4 thr i/s");
    for (const auto& r : results)
        std::printf("%-32s %10.1f %10.1f %14.2f %16.2f\n", r.name.c_str(), r.pp_tps, r.tg_tps, r.sweep_ips, r.sweep_ips_mt);
    std::printf("(pp%d; tg%d after the pp prompt; sweep: all layers x %zu multipliers, prompt %d tokens, responses 3 tokens)\n",
                o.pp, o.tg, w2s::steer::kMultipliers.size(), o.prompt);

    if (!o.json.empty()) {
        nlohmann::json j;
        j["device"] = w2s::cuda::device_description(0);
        j["pp"] = o.pp;
        j["tg"] = o.tg;
        j["sweep"] = {{"prompt", o.prompt}, {"response", 3}, {"common_head", 1},
                      {"multipliers", std::vector<double>(w2s::steer::kMultipliers.begin(), w2s::steer::kMultipliers.end())}};
        for (const auto& r : results)
            j["configs"].push_back({{"name", r.name}, {"shape", r.shape}, {"pp_tps", r.pp_tps}, {"tg_tps", r.tg_tps},
                                    {"sweep_items_per_s", r.sweep_ips}, {"sweep_items_per_s_4threads", r.sweep_ips_mt},
                                    {"items", r.items}, {"load_s", r.load_s}});
        std::ofstream(o.json) << j.dump(2) << "\n";
    }
    return 0;
}
