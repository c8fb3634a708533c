// bench_model — speed and memory of the reference backend (w2s::model::LlamaModel), side by side with
// llama.cpp's llama-bench on the same GGUF and thread counts.
//
//   bench_model MODEL.gguf [--llama-bench PATH] [--threads 1,2] [--pp 128] [--tg 64] [--reps 5] [--rounds 2]
//                          [--hook-reps 200] [--steer-layer L] [--batch 1,4,16] [--batch-depth 64]
//                          [--attention-pp 1024,4096] [--attention-reps 2]
//
// What it measures (each as llama-bench does it, so the numbers compare):
//   ppN  prompt processing: N random tokens in one prefill of an empty session (no logits), tokens/s;
//   tgN  generation: N single-token prefills from an empty session, logits of each, tokens/s; "tgN q8" the same
//        with int8 activations (LoadOptions::Activations::q8, `w2s generate --q8-decode`);
//        in a w2s::ThreadPool of t threads, --reps repetitions after one warm-up. For each thread count
//        --rounds rounds of (llama-bench, w2s) run one after the other, so that changes in the machine's
//        load hit both engines; the table gives the mean and the best (max) over all repetitions — on a
//        busy machine the best is the fairer figure.
//   memory: peak resident set (VmHWM) of this process after loading the model and generating tg tokens
//        from a pp-token prompt with w2s::model::generate, against the model file size plus the KV cache
//        those tokens use.
//        Measured first, before the speed runs allocate anything else.
//   batched decode: --batch R sequences advanced together (model::decode_steps: LlamaModel's decode_batch, one
//        forward per step for all rows, what `w2s serve` runs), each after --batch-depth ids of its own, tg steps,
//        at the last --threads count; unsteered and with every row steered at its own block, vector and
//        multiplier; tokens/s of all rows, the ratio to one row, and steered / unsteered. llama.cpp has no
//        column here (llama-bench has no multi-sequence decode).
//   attention: ppN for each --attention-pp N with the tiled attention kernel (the default) and with the reference
//        kernel (LoadOptions::Attention::reference: one row and head at a time), at the last --threads count, best
//        of --attention-reps; tokens/s and the ratio (model/kernels/attention.hpp). Empty list: skipped.
// The w2s figures (pp, tg, hooks, batched) come from the benchmark harness w2s/bench/harness.hpp, the one a user points at
// their own backend.
//   hooks: the forward pass with no hook, with an empty hook (a Hook that does nothing at every block) and
//        with a steering add at one block; the same forward (1 token at position 64, and pp), interleaved
//        in rounds so drift hits all variants alike; median times and their ratios. An A/A pair of "no
//        hook" runs shows the noise floor.
// llama-bench runs as a child process (`llama-bench -m F -p N -n M -t T -r R -o json`); its samples_ts are
// the tokens/s of its repetitions. Without --llama-bench the llama.cpp columns stay empty.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <w2s/bench/harness.hpp>
#include <w2s/core/parallel.hpp>
#include <w2s/model/generate.hpp>
#include <w2s/model/model.hpp>

namespace {

namespace wm = w2s::model;

struct Args {
    std::string model, llama_bench;
    std::vector<int> threads{1, 2};
    std::vector<int> batch{1, 4, 16};
    int pp = 128, tg = 64, reps = 5, rounds = 2, hook_reps = 200, steer_layer = -1, batch_depth = 64;
    std::vector<int> attention_pp{1024, 4096};
    int attention_reps = 2;
};

/// Peak resident set of this process in bytes (VmHWM of /proc/self/status; getrusage as a fallback).
std::size_t peak_rss_bytes() {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<std::size_t>(ru.ru_maxrss) * 1024;
}

std::vector<wm::token_id> random_tokens(int n, int vocab, std::uint64_t seed) {
    std::mt19937_64 g(seed);
    std::vector<wm::token_id> t(static_cast<std::size_t>(n));
    for (auto& x : t) x = static_cast<wm::token_id>(g() % static_cast<std::uint64_t>(vocab));
    return t;
}

/// tokens/s of each repetition.
struct Speed {
    std::vector<double> pp, tg;
};

double mean(const std::vector<double>& v) {
    double t = 0;
    for (double x : v) t += x;
    return v.empty() ? 0.0 : t / static_cast<double>(v.size());
}
double best(const std::vector<double>& v) { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); }

/// w2s's pp and tg at `threads` threads through the benchmark harness (w2s/bench/harness.hpp), tokens/s of each
/// repetition.
Speed measure_speed(const wm::LlamaModel& m, int threads, const Args& a, bool pp = true) {
    w2s::ThreadPool pool(threads);
    return pool.run([&] {
        w2s::bench::Options o;
        o.prompt_tokens = a.pp;
        o.gen_tokens = a.tg;
        o.reps = a.reps;
        Speed s;
        if (pp)
            for (double t : w2s::bench::time_prefill(m, o).seconds) s.pp.push_back(a.pp / t);
        for (double t : w2s::bench::time_decode(m, o).seconds) s.tg.push_back(a.tg / t);
        return s;
    });
}

/// llama-bench at `threads` threads: tokens/s of each repetition of pp and tg; also its build string.
Speed run_llama_bench(const Args& a, int threads, std::string& build) {
    Speed out;
    const std::string cmd = "'" + a.llama_bench + "' -m '" + a.model + "' -p " + std::to_string(a.pp) + " -n " +
                            std::to_string(a.tg) + " -t " + std::to_string(threads) + " -r " + std::to_string(a.reps) +
                            " -o json 2>/dev/null";
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) throw w2s::io_error("cannot run " + cmd);
    std::string text;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) text.append(buf, n);
    const int rc = pclose(p);
    if (rc != 0) throw w2s::io_error("llama-bench failed (exit status " + std::to_string(rc) + "): " + cmd);
    const auto j = nlohmann::json::parse(text);
    for (const auto& e : j) {
        const int np = e.at("n_prompt").get<int>(), ng = e.at("n_gen").get<int>();
        auto& dst = np > 0 && ng == 0 ? out.pp : out.tg;
        for (const auto& x : e.at("samples_ts")) dst.push_back(x.get<double>());
        build = e.value("build_commit", std::string("?")) + ", " + e.value("cpu_info", std::string("?"));
    }
    return out;
}

/// The hooks' cost (harness: one forward of `rows` ids at position `pos`, interleaved variants), 1 thread.
w2s::bench::HookCost measure_hooks(const wm::LlamaModel& m, int rows, int pos, int layer, int reps) {
    w2s::ThreadPool pool(1);
    return pool.run([&] {
        w2s::bench::Options o;
        o.hook_rows = rows;
        o.hook_pos = pos;
        o.hook_reps = reps;
        o.steer_layer = layer;
        return w2s::bench::time_hooks(m, o);
    });
}

Args parse(int argc, char** argv) {
    Args a;
    auto need = [&](int& i) -> std::string {
        if (i + 1 >= argc) throw w2s::invalid_argument(std::string(argv[i]) + " needs a value");
        return argv[++i];
    };
    for (int i = 1; i < argc; ++i) {
        const std::string s = argv[i];
        if (s == "--llama-bench") a.llama_bench = need(i);
        else if (s == "--threads") {
            a.threads.clear();
            std::stringstream ss(need(i));
            for (std::string x; std::getline(ss, x, ',');) a.threads.push_back(std::stoi(x));
        } else if (s == "--pp") a.pp = std::stoi(need(i));
        else if (s == "--tg") a.tg = std::stoi(need(i));
        else if (s == "--reps") a.reps = std::stoi(need(i));
        else if (s == "--rounds") a.rounds = std::stoi(need(i));
        else if (s == "--hook-reps") a.hook_reps = std::stoi(need(i));
        else if (s == "--steer-layer") a.steer_layer = std::stoi(need(i));
        else if (s == "--batch") {
            a.batch.clear();
            std::stringstream ss(need(i));
            for (std::string x; std::getline(ss, x, ',');) a.batch.push_back(std::stoi(x));
        } else if (s == "--batch-depth") a.batch_depth = std::stoi(need(i));
        else if (s == "--attention-pp") {
            a.attention_pp.clear();
            std::stringstream ss(need(i));
            for (std::string x; std::getline(ss, x, ',');)
                if (!x.empty()) a.attention_pp.push_back(std::stoi(x));
        } else if (s == "--attention-reps") a.attention_reps = std::stoi(need(i));
        else if (!s.empty() && s[0] == '-') throw w2s::invalid_argument("unknown option " + s);
        else a.model = s;
    }
    if (a.model.empty()) throw w2s::invalid_argument("usage: bench_model MODEL.gguf [--llama-bench PATH] [--threads 1,2] ...");
    if (a.pp < 1 || a.tg < 1 || a.reps < 1 || a.rounds < 1 || a.hook_reps < 10 || a.batch_depth < 0)
        throw w2s::invalid_argument("--pp, --tg, --reps, --rounds >= 1; --hook-reps >= 10; --batch-depth >= 0");
    for (int r : a.batch)
        if (r < 1) throw w2s::invalid_argument("--batch takes row counts >= 1, got " + std::to_string(r));
    for (int n : a.attention_pp)
        if (n < 1) throw w2s::invalid_argument("--attention-pp takes prompt lengths >= 1, got " + std::to_string(n));
    if (a.attention_reps < 1) throw w2s::invalid_argument("--attention-reps >= 1");
    return a;
}

}  // namespace

int main(int argc, char** argv) try {
    const Args a = parse(argc, argv);
    const std::size_t peak_before_load = peak_rss_bytes();
    const auto model = wm::LlamaModel::load(a.model);
    const std::size_t peak_after_load = peak_rss_bytes();
    const auto& hp = model.hparams();
    const double mib = 1024.0 * 1024.0;
    const auto file_bytes = std::filesystem::file_size(a.model);

    // ---- memory: load + prompt + generation, before anything else runs ----
    std::size_t kv_bytes = 0, peak = 0;
    {
        w2s::ThreadPool pool(a.threads.back());
        pool.run([&] {
            // exactly what generation does: w2s::model::generate (last-position logits only), greedy
            auto s = model.new_session();
            wm::GenerateOptions opt;
            opt.max_tokens = a.tg;
            opt.stop_at_eog = false;
            wm::generate(model, s, random_tokens(a.pp, model.vocab_size(), 5), opt);
            kv_bytes = (s.size() + 1) * static_cast<std::size_t>(hp.n_layers) *
                       static_cast<std::size_t>(hp.kv_k() + hp.kv_v()) * sizeof(float);
            peak = peak_rss_bytes();
        });
    }

    // ---- speed: per thread count, `rounds` rounds of (llama-bench, w2s) so that load drift hits both ----
    std::string build = "-";
    std::map<int, std::pair<Speed, Speed>> speed;  // threads -> (w2s, llama.cpp), samples of all rounds
    std::map<int, std::vector<double>> tg_q8;      // threads -> w2s's tg with int8 activations (LoadOptions::Activations::q8)
    wm::LoadOptions q8_options;
    q8_options.activations = wm::LoadOptions::Activations::q8;
    const auto model_q8 = wm::LlamaModel::load(a.model, q8_options);
    for (int t : a.threads)
        for (int round = 0; round < a.rounds; ++round) {
            auto& [ours, theirs] = speed[t];
            if (!a.llama_bench.empty()) {
                const Speed l = run_llama_bench(a, t, build);
                theirs.pp.insert(theirs.pp.end(), l.pp.begin(), l.pp.end());
                theirs.tg.insert(theirs.tg.end(), l.tg.begin(), l.tg.end());
            }
            const Speed w = measure_speed(model, t, a);
            ours.pp.insert(ours.pp.end(), w.pp.begin(), w.pp.end());
            ours.tg.insert(ours.tg.end(), w.tg.begin(), w.tg.end());
            const Speed q = measure_speed(model_q8, t, a, false);
            tg_q8[t].insert(tg_q8[t].end(), q.tg.begin(), q.tg.end());
        }
    std::cout << "model: " << a.model << " (" << hp.n_layers << " layers, hidden " << hp.hidden << ", "
              << std::fixed << std::setprecision(1) << static_cast<double>(file_bytes) / mib << " MiB)\n"
              << "llama.cpp: " << (a.llama_bench.empty() ? std::string("(not run: no --llama-bench)") : a.llama_bench + " (" + build + ")")
              << "\n" << a.rounds << " rounds x " << a.reps << " repetitions per engine and thread count, interleaved; "
              << "mean and best (max) tokens/s\n\n";
    std::cout << "| test | threads | w2s mean | llama.cpp mean | ratio (mean) | w2s best | llama.cpp best | ratio (best) |\n"
              << "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
    for (int t : a.threads) {
        const auto& [ours, theirs] = speed[t];
        for (const bool pp : {true, false}) {
            const auto& o = pp ? ours.pp : ours.tg;
            const auto& l = pp ? theirs.pp : theirs.tg;
            std::cout << "| " << (pp ? "pp" : "tg") << (pp ? a.pp : a.tg) << " | " << t << " | " << std::setprecision(1)
                      << mean(o) << " | ";
            if (l.empty()) std::cout << "- | - | ";
            else std::cout << mean(l) << " | " << std::setprecision(2) << mean(o) / mean(l) << " | ";
            std::cout << std::setprecision(1) << best(o) << " | ";
            if (l.empty()) std::cout << "- | - |\n";
            else std::cout << best(l) << " | " << std::setprecision(2) << best(o) / best(l) << " |\n";
        }
        // generation with int8 activations (w2s generate --q8-decode), against the same llama.cpp tg samples
        const auto& q = tg_q8[t];
        const auto& l = theirs.tg;
        std::cout << "| tg" << a.tg << " q8 | " << t << " | " << std::setprecision(1) << mean(q) << " | ";
        if (l.empty()) std::cout << "- | - | ";
        else std::cout << mean(l) << " | " << std::setprecision(2) << mean(q) / mean(l) << " | ";
        std::cout << std::setprecision(1) << best(q) << " | ";
        if (l.empty()) std::cout << "- | - |\n";
        else std::cout << best(l) << " | " << std::setprecision(2) << best(q) / best(l) << " |\n";
    }

    std::cout << "\nmemory: peak RSS " << std::setprecision(1) << static_cast<double>(peak) / mib << " MiB after load + pp"
              << a.pp << " + tg" << a.tg << " (threads " << a.threads.back() << "); model file "
              << static_cast<double>(file_bytes) / mib << " MiB + KV cache " << static_cast<double>(kv_bytes) / mib
              << " MiB = " << static_cast<double>(file_bytes + kv_bytes) / mib << " MiB; ratio " << std::setprecision(2)
              << static_cast<double>(peak) / static_cast<double>(file_bytes + kv_bytes) << "\n        (peak before load "
              << std::setprecision(1) << static_cast<double>(peak_before_load) / mib << " MiB, after load "
              << static_cast<double>(peak_after_load) / mib << " MiB)\n";

    // ---- hooks ----
    const int layer = a.steer_layer >= 0 ? a.steer_layer : hp.n_layers / 2;
    std::cout << "\nhook overhead (1 thread, median of " << (a.hook_reps / 10) * 10 << " forwards each, steering at block "
              << layer << "):\n| forward | no hook (ms) | no hook again | empty hook | steering add |\n"
              << "| --- | ---: | ---: | ---: | ---: |\n";
    for (auto [rows, pos, reps] : {std::tuple{1, 64, a.hook_reps}, std::tuple{a.pp, 0, std::max(10, a.hook_reps / 10)}}) {
        const auto h = measure_hooks(model, rows, pos, layer, reps);
        const double none = h.none.median();
        std::cout << "| " << rows << " token" << (rows > 1 ? "s" : "") << " at pos " << pos << " | " << std::setprecision(3)
                  << none * 1e3 << " | " << h.none_again.median() / none << "x | " << h.empty.median() / none << "x | "
                  << h.steer.median() / none << "x |\n";
    }

    // ---- batched decode ----
    if (!a.batch.empty()) {
        const int t = a.threads.back();
        std::vector<w2s::bench::BatchedAt> rows;
        {
            w2s::ThreadPool pool(t);
            pool.run([&] {
                w2s::bench::Options o;
                o.gen_tokens = a.tg;
                o.decode_depth = a.batch_depth;
                o.reps = std::min(a.reps, 3);
                for (int r : a.batch) rows.push_back(w2s::bench::time_batched_decode(model, o, r));
            });
        }
        auto tps = [&](const w2s::bench::BatchedAt& x, const w2s::bench::Timing& tm) { return x.rows * a.tg / tm.median(); };
        const double one = rows.front().rows == 1 ? tps(rows.front(), rows.front().unsteered) : 0.0;
        std::cout << "\nbatched decode (threads " << t << ", tg" << a.tg << " per row after " << a.batch_depth
                  << " ids each, median of " << std::min(a.reps, 3) << "; tokens/s of all rows):\n"
                  << "| rows | unsteered | x one row | every row steered differently | steered / unsteered |\n"
                  << "| ---: | ---: | ---: | ---: | ---: |\n";
        for (const auto& x : rows) {
            const double u = tps(x, x.unsteered), st = tps(x, x.steered);
            std::cout << "| " << x.rows << " | " << std::setprecision(1) << u << " | ";
            if (one > 0) std::cout << std::setprecision(2) << u / one << " | ";
            else std::cout << "- | ";
            std::cout << std::setprecision(1) << st << " | " << std::setprecision(2) << st / u << " |\n";
        }
    }

    // ---- attention kernels: long prompts ----
    if (!a.attention_pp.empty()) {
        const int t = a.threads.back();
        const int ctx = static_cast<int>(model.context_length());
        wm::LoadOptions lo;
        lo.attention = wm::LoadOptions::Attention::reference;
        const auto ref = wm::LlamaModel::load(a.model, lo);
        std::cout << "\nattention kernels (threads " << t << ", ppN from an empty session, best of " << a.attention_reps
                  << "; tokens/s):\n| test | tiled | reference | tiled / reference |\n| --- | ---: | ---: | ---: |\n";
        w2s::ThreadPool pool(t);
        for (int n : a.attention_pp) {
            if (ctx > 0 && n > ctx) {
                std::cout << "| pp" << n << " | (beyond the model's context of " << ctx << ") | | |\n";
                continue;
            }
            const auto best_of = [&](const wm::LlamaModel& m) {
                return pool.run([&] {
                    w2s::bench::Options o;
                    o.prompt_tokens = n;
                    o.reps = a.attention_reps;
                    o.warmup = 0;  // best of the repetitions: the first one pays the page faults
                    double b = 0;
                    for (double sec : w2s::bench::time_prefill(m, o).seconds) b = std::max(b, n / sec);
                    return b;
                });
            };
            const double tiled = best_of(model), reference = best_of(ref);
            std::cout << "| pp" << n << " | " << std::setprecision(1) << tiled << " | " << reference << " | " << std::setprecision(2)
                      << tiled / reference << " |\n";
        }
    }
    return 0;
} catch (const std::exception& e) {
    std::cerr << "bench_model: " << e.what() << '\n';
    return 1;
}
