// The tiled attention kernel (model/kernels/attention.hpp) against the reference one, on random queries, keys and
// values: several sequences in one batch, caches of several lengths, tails with ancestors, grouped-query heads,
// sliding windows and softcaps; and a sequence attended in a batch gives the bits it gives alone.
#define BOOST_TEST_MODULE attention
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include <w2s/core/parallel.hpp>
#include <w2s/model/kernels/attention.hpp>

namespace k = w2s::kernels;

namespace {

struct Case {
    k::AttentionShape sh;
    std::vector<std::size_t> lens, caches;                          // per sequence: rows in the batch, cached positions
    std::vector<std::vector<std::pair<std::size_t, std::size_t>>> anc;  // per sequence: ancestor row ranges
};

struct Data {
    std::vector<float> q, kk, vv;                  // [n x nh·hk], [n x kd], [n x vd]
    std::vector<std::vector<float>> ck, cv;        // per sequence: the caches
    std::vector<std::size_t> pos;                  // [n]
    std::vector<k::AttendSeq> seqs;
    std::size_t n = 0;
};

Data make(const Case& c, std::uint64_t seed) {
    std::mt19937_64 g(seed);
    std::normal_distribution<float> nd(0.f, 1.f);
    Data d;
    const std::size_t kd = c.sh.n_head_kv * c.sh.head_k, vd = c.sh.n_head_kv * c.sh.head_v;
    for (std::size_t l : c.lens) d.n += l;
    auto fill = [&](std::vector<float>& v, std::size_t m) {
        v.resize(m);
        for (auto& x : v) x = 2.f * nd(g);
    };
    fill(d.q, d.n * c.sh.n_head * c.sh.head_k);
    fill(d.kk, d.n * kd);
    fill(d.vv, d.n * vd);
    d.pos.resize(d.n);
    d.ck.resize(c.lens.size());
    d.cv.resize(c.lens.size());
    std::size_t row = 0;
    for (std::size_t s = 0; s < c.lens.size(); ++s) {
        fill(d.ck[s], c.caches[s] * kd);
        fill(d.cv[s], c.caches[s] * vd);
        std::size_t p0 = c.caches[s];
        for (const auto& [a, b] : c.anc[s]) p0 += b - a;  // ancestors sit right after the cache
        for (std::size_t j = 0; j < c.lens[s]; ++j) d.pos[row + j] = p0 + j;
        d.seqs.push_back({row, c.lens[s], c.caches[s] ? d.ck[s].data() : nullptr, c.caches[s] ? d.cv[s].data() : nullptr, c.caches[s], c.anc[s]});
        row += c.lens[s];
    }
    return d;
}

std::vector<float> run(const Case& c, const Data& d, bool tiled) {
    std::vector<float> out(d.n * c.sh.n_head * c.sh.head_v, 0.f);
    const w2s::ConstMatrixView Q(d.q.data(), d.n, c.sh.n_head * c.sh.head_k), K(d.kk.data(), d.n, c.sh.n_head_kv * c.sh.head_k),
        V(d.vv.data(), d.n, c.sh.n_head_kv * c.sh.head_v);
    const w2s::MatrixView A{out.data(), d.n, c.sh.n_head * c.sh.head_v};
    w2s::ThreadPool pool(2);
    pool.run([&] {
        if (tiled) k::attend_tiled(c.sh, d.seqs, d.pos, Q, K, V, A);
        else k::attend_reference(c.sh, d.seqs, d.pos, Q, K, V, A);
    });
    return out;
}

double max_rel(const std::vector<float>& a, const std::vector<float>& b) {
    double m = 0, scale = 1e-6;
    for (float x : b) scale = std::max(scale, static_cast<double>(std::abs(x)));
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (!std::isfinite(a[i])) return INFINITY;
        m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]) / scale);
    }
    return m;
}

}  // namespace

BOOST_AUTO_TEST_CASE(tiled_attention_equals_the_reference) {
    std::vector<Case> cases;
    // prefill of one long sequence (several tiles and key blocks), no cache
    cases.push_back({{4, 2, 16, 16, 0.25f, 0.f, 0}, {150}, {0}, {{}}});
    // a prompt continuing a cache of 100, grouped heads 9/3 (SmolLM2's shape), different head_v
    cases.push_back({{9, 3, 64, 32, 0.125f, 0.f, 0}, {37}, {100}, {{}}});
    // decode: one row each for five sequences of different caches (0, 1, 63, 64, 130)
    cases.push_back({{6, 2, 8, 8, 0.35f, 0.f, 0}, {1, 1, 1, 1, 1}, {0, 1, 63, 64, 130}, {{}, {}, {}, {}, {}}});
    // sliding window of 20 across cache and rows, and a softcap (Gemma 2/3 shapes)
    cases.push_back({{4, 1, 16, 16, 0.25f, 30.f, 20}, {90, 3}, {70, 5}, {{}, {}}});
    cases.push_back({{4, 4, 16, 16, 0.25f, 0.f, 65}, {130}, {200}, {{}}});
    // tails: sequence 1 and 2 continue sequence 0's rows (ancestors), as the sweep's tail tree does
    cases.push_back({{4, 2, 16, 16, 0.25f, 0.f, 0}, {70, 5, 3}, {40, 40, 40}, {{}, {{0, 70}}, {{0, 70}, {70, 75}}}});
    cases.push_back({{4, 2, 16, 16, 0.25f, 0.f, 8}, {20, 6, 2}, {40, 40, 40}, {{}, {{0, 20}}, {{0, 20}, {20, 26}}}});
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const Data d = make(cases[i], 100 + i);
        const auto ref = run(cases[i], d, false), fast = run(cases[i], d, true);
        BOOST_TEST(max_rel(fast, ref) < 2e-5, "case " << i << ": " << max_rel(fast, ref));
    }
}

BOOST_AUTO_TEST_CASE(a_sequence_in_a_batch_gets_the_bits_it_gets_alone) {
    const Case batch{{9, 3, 64, 64, 0.125f, 0.f, 0}, {1, 37, 1, 5}, {10, 70, 129, 0}, {{}, {}, {}, {}}};
    const Data d = make(batch, 7);
    const auto all = run(batch, d, true);
    const std::size_t width = 9 * 64;
    for (std::size_t s = 0; s < batch.lens.size(); ++s) {
        Case one{batch.sh, {batch.lens[s]}, {batch.caches[s]}, {{}}};
        Data e;  // the same sequence alone: its rows, its cache
        e.n = batch.lens[s];
        const std::size_t r0 = d.seqs[s].row0, kd = 3 * 64;
        e.q.assign(d.q.begin() + static_cast<std::ptrdiff_t>(r0 * width), d.q.begin() + static_cast<std::ptrdiff_t>((r0 + e.n) * width));
        e.kk.assign(d.kk.begin() + static_cast<std::ptrdiff_t>(r0 * kd), d.kk.begin() + static_cast<std::ptrdiff_t>((r0 + e.n) * kd));
        e.vv.assign(d.vv.begin() + static_cast<std::ptrdiff_t>(r0 * kd), d.vv.begin() + static_cast<std::ptrdiff_t>((r0 + e.n) * kd));
        e.pos.assign(d.pos.begin() + static_cast<std::ptrdiff_t>(r0), d.pos.begin() + static_cast<std::ptrdiff_t>(r0 + e.n));
        e.seqs.push_back({0, e.n, d.seqs[s].cache_k, d.seqs[s].cache_v, d.seqs[s].cache_len, {}});
        const auto alone = run(one, e, true);
        BOOST_TEST(std::memcmp(alone.data(), all.data() + r0 * width, alone.size() * sizeof(float)) == 0, "sequence " << s);
    }
}
