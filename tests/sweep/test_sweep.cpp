#define BOOST_TEST_MODULE sweep
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <random>

#include <w2s/model/model.hpp>
#include <w2s/steer/measure.hpp>
#include <w2s/sweep/engine.hpp>

#include "tiny_model.hpp"

namespace {

struct Fixture {
    std::string dir;
    w2s::model::LlamaModel model;
    w2s::steer::VectorSet vectors;
    std::vector<w2s::steer::TokenizedItem> items;

    static std::string make_dir() {
        auto d = std::filesystem::temp_directory_path() / ("w2s_sweep_test_" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        return d.string();
    }
    Fixture() : dir(make_dir()), model(w2s::model::LlamaModel::load(w2s::test::make_tiny_llama(dir, 7))),
                vectors(model.n_layers(), model.hidden_size()) {
        std::mt19937_64 g(3);
        std::normal_distribution<float> nd(0.0f, 1.0f);
        for (int l = 0; l < model.n_layers(); ++l) {
            std::vector<float> v(static_cast<std::size_t>(model.hidden_size()));
            for (auto& x : v) x = nd(g);
            vectors.set(l, v);
        }
        std::uniform_int_distribution<int> tok(3, 200);
        for (std::size_t i = 0; i < 5; ++i) {
            w2s::steer::TokenizedItem it;
            it.item = i;
            for (std::size_t p = 0; p < 6 + 3 * i; ++p) it.prompt.push_back(tok(g));
            const int open = tok(g), close = tok(g);
            it.response[0] = {open, tok(g), close};
            it.response[1] = {open, tok(g), close};
            if (i == 3) it.response[1] = {tok(g), tok(g)};   // no common head
            if (i == 4) it.prompt.resize(1);                  // prompt of one token: empty prefix
            items.push_back(it);
        }
    }
    ~Fixture() { std::filesystem::remove_all(dir); }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(sweep, Fixture)

BOOST_AUTO_TEST_CASE(shared_prefix_sweep_equals_direct_measurement) {
    auto opt = w2s::sweep::resolve_options(model, vectors, {});
    BOOST_TEST(opt.layers.size() == static_cast<std::size_t>(model.n_layers()));
    for (const auto& item : items) {
        const auto rec = w2s::sweep::sweep_item(model, item, vectors, opt);
        // The reference: every (l, λ, k) a fork of the prefix plus a plain prefill with a steering hook.
        const auto direct = w2s::steer::measure_item(model, item, vectors, opt.layers, opt.multipliers, 32, false);
        const std::size_t M = opt.multipliers.size();
        for (std::size_t li = 0; li < opt.layers.size(); ++li) {
            for (std::size_t mi = 0; mi < M; ++mi)
                BOOST_TEST(std::abs(rec.propensity[li * M + mi] - direct(li, mi)) < 1e-4,
                           "item " << item.item << " layer " << opt.layers[li] << " λ " << opt.multipliers[mi] << ": sweep "
                                   << rec.propensity[li * M + mi] << " direct " << direct(li, mi));
            std::vector<double> y(M);
            for (std::size_t mi = 0; mi < M; ++mi) y[mi] = direct(li, mi);
            BOOST_TEST(std::abs(rec.slope[li] - w2s::steer::slope(opt.multipliers, y)) < 1e-4);
        }
    }
}

BOOST_AUTO_TEST_CASE(embeddings_are_the_unsteered_prompt_residuals) {
    auto opt = w2s::sweep::resolve_options(model, vectors, {});
    const auto& item = items[1];
    const auto rec = w2s::sweep::sweep_item(model, item, vectors, opt);
    const std::size_t H = static_cast<std::size_t>(model.hidden_size()), P = item.prompt.size();
    std::vector<std::vector<double>> sum(opt.embedding_layers.size(), std::vector<double>(H, 0.0));
    std::vector<std::vector<float>> last(opt.embedding_layers.size(), std::vector<float>(H));
    auto s = model.new_session();
    model.prefill(s, item.prompt, [&](const w2s::model::BlockOutput& o) {
        for (std::size_t r = 0; r < o.residual.rows; ++r)
            for (std::size_t c = 0; c < H; ++c) {
                sum[static_cast<std::size_t>(o.layer)][c] += o.residual.row(r)[c];
                if (r + 1 == o.residual.rows) last[static_cast<std::size_t>(o.layer)][c] = o.residual.row(r)[c];
            }
    });
    for (std::size_t e = 0; e < opt.embedding_layers.size(); ++e)
        for (std::size_t c = 0; c < H; ++c) {
            BOOST_TEST(std::abs(rec.emb_last[e * H + c] - last[e][c]) < 1e-4);
            BOOST_TEST(std::abs(rec.emb_mean[e * H + c] - sum[e][c] / static_cast<double>(P)) < 1e-4);
        }
}

BOOST_AUTO_TEST_CASE(interrupted_sweep_resumes_without_redoing_items) {
    const std::string path = dir + "/s.w2ssweep";
    w2s::ThreadPool pool(2);
    auto header = w2s::sweep::make_header(model, w2s::sweep::resolve_options(model, vectors, {}), "tiny", "synthetic", "BASE", "random");
    const auto full = w2s::sweep::run_sweep(model, std::span(items).first(3), vectors, {}, header, path, pool);
    BOOST_TEST(full.items.size() == 3u);
    // Simulate an interruption in the middle of the third record.
    const auto size = std::filesystem::file_size(path);
    std::filesystem::resize_file(path, size - 100);
    std::size_t partial = 0;
    const auto cut = w2s::sweep::read_sweep(path, &partial);
    BOOST_TEST(cut.items.size() == 2u);
    BOOST_TEST(partial > 0u);
    std::size_t progress_calls = 0, first_done = 99;
    const auto resumed = w2s::sweep::run_sweep(model, std::span(items), vectors, {}, header, path, pool,
                                               [&](const w2s::ProgressEvent& e) {
                                                   if (progress_calls++ == 0) first_done = e.done;
                                               });
    BOOST_TEST(first_done == 2u);  // two items were already there
    BOOST_TEST(resumed.items.size() == items.size());
    const auto reread = w2s::sweep::read_sweep(path, &partial);
    BOOST_TEST(partial == 0u);
    BOOST_TEST(reread.items.size() == items.size());
    for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t k = 0; k < full.items[i].slope.size(); ++k)
            BOOST_TEST(std::abs(resumed.items[i].slope[k] - full.items[i].slope[k]) < 1e-9);
    // A file from different settings is refused.
    auto other = header;
    other.variant = "SYS.POS";
    BOOST_CHECK_THROW(w2s::sweep::SweepWriter(path, other), w2s::invalid_argument);
}

BOOST_AUTO_TEST_CASE(bad_sweep_files_are_refused) {
    const std::string path = dir + "/bad.w2ssweep";
    { std::ofstream(path) << "NOTASWEEPFILE"; }
    BOOST_CHECK_THROW(w2s::sweep::read_sweep(path), w2s::format_error);
}

BOOST_AUTO_TEST_SUITE_END()
