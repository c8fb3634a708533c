#define BOOST_TEST_MODULE sweep
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <functional>
#include <iterator>
#include <algorithm>
#include <csignal>
#include <cstring>
#include <sstream>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <random>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <w2s/eval/report.hpp>
#include <w2s/model/model.hpp>
#include <w2s/steer/activations.hpp>
#include <w2s/steer/estimators.hpp>
#include <w2s/steer/measure.hpp>
#include <w2s/sweep/engine.hpp>

#include "kill_resume.hpp"
#include "tiny_model.hpp"
#include "w2s_test_support.hpp"

namespace {

std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

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
    const auto cut = w2s::io::read_sweep(path, &partial);
    BOOST_TEST(cut.items.size() == 2u);
    BOOST_TEST(partial > 0u);
    std::size_t progress_calls = 0, first_done = 99;
    const auto resumed = w2s::sweep::run_sweep(model, std::span(items), vectors, {}, header, path, pool,
                                               [&](const w2s::ProgressEvent& e) {
                                                   if (progress_calls++ == 0) first_done = e.done;
                                               });
    BOOST_TEST(first_done == 2u);  // two items were already there
    BOOST_TEST(resumed.items.size() == items.size());
    const auto reread = w2s::io::read_sweep(path, &partial);
    BOOST_TEST(partial == 0u);
    BOOST_TEST(reread.items.size() == items.size());
    for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t k = 0; k < full.items[i].slope.size(); ++k)
            BOOST_TEST(std::abs(resumed.items[i].slope[k] - full.items[i].slope[k]) < 1e-9);
    // A file from different settings is refused.
    auto other = header;
    other.variant = "SYS.POS";
    BOOST_CHECK_THROW(w2s::io::SweepWriter(path, other), w2s::invalid_argument);
}

BOOST_AUTO_TEST_CASE(a_damaged_sweep_header_is_refused_before_it_sizes_anything) {
    // A negative hidden used to wrap to 2^64 - k and size every record by it (std::length_error or an OOM).
    const std::string path = dir + "/h.w2ssweep";
    w2s::ThreadPool pool(1);
    auto header = w2s::sweep::make_header(model, w2s::sweep::resolve_options(model, vectors, {}), "tiny", "synthetic", "BASE", "random");
    (void)w2s::sweep::run_sweep(model, std::span(items).first(2), vectors, {}, header, path, pool);
    const std::string bytes = w2s::test::read_file(path);
    std::uint64_t hlen = 0;
    std::memcpy(&hlen, bytes.data() + 12, 8);
    const auto j = nlohmann::json::parse(bytes.substr(20, hlen));
    auto rewrite = [&](const std::string& name, const std::function<void(nlohmann::json&)>& edit) {
        nlohmann::json k = j;
        edit(k);
        const std::string hj = k.dump();
        const std::uint64_t n = hj.size();
        std::string out = bytes.substr(0, 12) + std::string(reinterpret_cast<const char*>(&n), 8) + hj + bytes.substr(20 + hlen);
        const std::string p = dir + "/" + name + ".w2ssweep";
        std::ofstream(p, std::ios::binary) << out;
        return p;
    };
    const std::vector<std::pair<std::function<void(nlohmann::json&)>, std::string>> cases{
        {[](nlohmann::json& k) { k["hidden"] = -64; }, "sweep header: hidden -64, expected 1..2^24"},
        {[](nlohmann::json& k) { k["n_layers"] = 0; }, "sweep header: n_layers 0"},
        {[](nlohmann::json& k) { k["layers"] = {1, 99}; }, "sweep header: layers holds 99"},
        {[](nlohmann::json& k) { k["layers"] = nlohmann::json::array(); }, "sweep header: layers: 0 entries"},
        {[](nlohmann::json& k) { k["embedding_layers"] = {-1}; }, "sweep header: embedding_layers holds -1"},
        {[](nlohmann::json& k) { k["multipliers"] = nlohmann::json::array(); }, "sweep header: multipliers: 0 entries"},
        // Found by sweep_file_fuzz: nlohmann's get<int>() cast a float to int unchecked (1e300: undefined behaviour,
        // which UBSan reports; 2.5 became 2) and wrapped a 64-bit integer (2^32 + 4 became 4 layers).
        {[](nlohmann::json& k) { k["n_layers"] = 1e300; }, "sweep header: field 'n_layers' is 1e+300 (number), expected an integer"},
        {[](nlohmann::json& k) { k["hidden"] = 2.5; }, "sweep header: field 'hidden' is 2.5 (number), expected an integer"},
        {[](nlohmann::json& k) { k["n_layers"] = (std::int64_t{1} << 32) + 4; }, "sweep header: field 'n_layers' is 4294967300, expected an integer within"},
        {[](nlohmann::json& k) { k["layers"] = {1, -1e30}; }, "sweep header: field 'layers[1]' is -1e+30 (number), expected an integer"},
        {[](nlohmann::json& k) { k["orders"] = 1e19; }, "sweep header: field 'orders' is 1e+19 (number), expected an integer"},
    };
    int n = 0;
    for (const auto& [edit, want] : cases) {
        const std::string p = rewrite("bad" + std::to_string(n++), edit);
        try {
            (void)w2s::io::read_sweep(p);
            BOOST_ERROR("read a sweep whose header should say: " << want);
        } catch (const w2s::format_error& e) {
            BOOST_TEST(std::string(e.what()).find(p + ": " + want) != std::string::npos, e.what());
        }
    }
    BOOST_TEST(w2s::io::read_sweep(rewrite("same", [](nlohmann::json&) {})).items.size() == 2u);  // the rewrite itself is sound
}

namespace {

/// Two orders of one synthetic A/B item: a shared head, then the choice texts in either order, then a tail; the
/// responses ( X ) with the letters exchanged in the mirror.
std::vector<w2s::steer::TokenizedItem> two_orders(std::mt19937_64& g, std::size_t index, double w0, double w1, bool same_texts = false) {
    std::uniform_int_distribution<int> tok(3, 200);
    std::vector<int> head, x, y, tail;
    for (int i = 0; i < 5; ++i) head.push_back(tok(g));
    for (int i = 0; i < 3; ++i) x.push_back(tok(g));
    for (int i = 0; i < 3; ++i) y.push_back(same_texts ? x[static_cast<std::size_t>(i)] : tok(g));
    for (int i = 0; i < 2; ++i) tail.push_back(tok(g));
    const int lp = 5, rp = 6, A = 7, B = 8;
    auto prompt = [&](const std::vector<int>& first, const std::vector<int>& second) {
        std::vector<int> p = head;
        p.insert(p.end(), {lp, A, rp});
        p.insert(p.end(), first.begin(), first.end());
        p.insert(p.end(), {lp, B, rp});
        p.insert(p.end(), second.begin(), second.end());
        p.insert(p.end(), tail.begin(), tail.end());
        return p;
    };
    w2s::steer::TokenizedItem g0, g1;
    g0.item = g1.item = index;
    g0.prompt = prompt(x, y);  // the behaviour's text x under (A)
    g0.response = {std::vector<int>{lp, A, rp}, std::vector<int>{lp, B, rp}};
    g1.prompt = prompt(y, x);  // mirrored: x under (B)
    g1.response = {std::vector<int>{lp, B, rp}, std::vector<int>{lp, A, rp}};
    g1.order = 1;
    g0.weight = w0;
    g1.weight = w1;
    return {g0, g1};
}

}  // namespace

BOOST_AUTO_TEST_CASE(mirrored_sweep_equals_direct_measurement_of_both_orders) {
    auto opt = w2s::sweep::resolve_options(model, vectors, {});
    std::mt19937_64 g(11);
    for (std::size_t i = 0; i < 3; ++i) {
        const auto views = two_orders(g, i, 0.5, 0.5);
        const auto rec = w2s::sweep::sweep_item(model, std::span(views), vectors, opt);
        const std::size_t M = opt.multipliers.size(), L = opt.layers.size();
        BOOST_TEST(rec.slope_orders.size() == 2 * L);
        xt::xtensor<double, 2> d[2] = {
            w2s::steer::measure_item(model, views[0], vectors, opt.layers, opt.multipliers, 32, false),
            w2s::steer::measure_item(model, views[1], vectors, opt.layers, opt.multipliers, 32, false)};
        for (std::size_t li = 0; li < L; ++li) {
            std::vector<double> y[2] = {std::vector<double>(M), std::vector<double>(M)};
            for (std::size_t mi = 0; mi < M; ++mi) {
                const double mean = (d[0](li, mi) + d[1](li, mi)) / 2;
                BOOST_TEST(std::abs(rec.propensity[li * M + mi] - mean) < 1e-4,
                           "item " << i << " layer " << opt.layers[li] << ": sweep " << rec.propensity[li * M + mi] << " direct " << mean);
                for (int k = 0; k < 2; ++k) y[k][mi] = d[k](li, mi);
            }
            for (int k = 0; k < 2; ++k)
                BOOST_TEST(std::abs(rec.slope_orders[static_cast<std::size_t>(k) * L + li] - w2s::steer::slope(opt.multipliers, y[k])) < 1e-4);
            BOOST_TEST(std::abs(rec.slope[li] - (rec.slope_orders[li] + rec.slope_orders[L + li]) / 2) < 1e-9);
        }
        // The embeddings are those of the order as given.
        const auto single = w2s::sweep::sweep_item(model, views[0], vectors, opt);
        for (std::size_t c = 0; c < single.emb_mean.size(); ++c) {
            BOOST_TEST(std::abs(single.emb_mean[c] - rec.emb_mean[c]) < 1e-4);
            BOOST_TEST(std::abs(single.emb_last[c] - rec.emb_last[c]) < 1e-4);
        }
    }
}

BOOST_AUTO_TEST_CASE(free_text_sweep_equals_direct_measurement) {
    auto opt = w2s::sweep::resolve_options(model, vectors, {});
    std::mt19937_64 g(5);
    std::uniform_int_distribution<int> tok(3, 200);
    for (auto scoring : {w2s::steer::Scoring::logprob_sum, w2s::steer::Scoring::logprob_mean}) {
        for (std::size_t i = 0; i < 3; ++i) {
            w2s::steer::TokenizedItem it;
            it.item = i;
            it.scoring = scoring;
            it.read = w2s::steer::ReadAt::last;
            for (int p = 0; p < 7; ++p) it.prompt.push_back(tok(g));
            // Multi-token replies: a shared first token for item 0, replies of one token for item 2.
            const std::size_t r0 = i == 2 ? 1 : 6, r1 = i == 2 ? 1 : 4;
            for (std::size_t j = 0; j < r0; ++j) it.response[0].push_back(tok(g));
            for (std::size_t j = 0; j < r1; ++j) it.response[1].push_back(tok(g));
            if (i == 0) it.response[1][0] = it.response[0][0];
            const auto rec = w2s::sweep::sweep_item(model, it, vectors, opt);
            const auto direct = w2s::steer::measure_item(model, it, vectors, opt.layers, opt.multipliers, 32, false);
            const auto tails = w2s::steer::measure_item(model, it, vectors, opt.layers, opt.multipliers, 32, true);
            const std::size_t M = opt.multipliers.size();
            for (std::size_t li = 0; li < opt.layers.size(); ++li)
                for (std::size_t mi = 0; mi < M; ++mi) {
                    BOOST_TEST(std::abs(rec.propensity[li * M + mi] - direct(li, mi)) < 1e-4,
                               "item " << i << " layer " << opt.layers[li] << ": sweep " << rec.propensity[li * M + mi] << " direct "
                                       << direct(li, mi));
                    BOOST_TEST(std::abs(tails(li, mi) - direct(li, mi)) < 1e-4);
                }
        }
    }
}

BOOST_AUTO_TEST_CASE(a_pure_letter_direction_is_flagged) {
    // Items whose two choices have the same text: only the letter tells the matching answer, which is (A) in the
    // order as given. The single-order mean difference is then a pure letter direction.
    std::mt19937_64 g(21);
    std::vector<w2s::steer::TokenizedItem> given, mirrored;
    for (std::size_t i = 0; i < 12; ++i) {
        for (auto& v : two_orders(g, i, 1.0, 0.0, true)) given.push_back(v);
        for (auto& v : two_orders(g, i, 0.5, 0.5, true)) mirrored.push_back(v);
    }
    w2s::ThreadPool pool(2);
    const std::vector<int> layers = {1, 2};
    w2s::steer::ExtractOptions eo;
    eo.layers = layers;
    const auto v_given = w2s::steer::extract_vectors(model, given, w2s::steer::MeanDifference{}, eo, pool).vectors;
    const auto v_mirror = w2s::steer::extract_vectors(model, mirrored, w2s::steer::MeanDifference{}, eo, pool).vectors;
    w2s::steer::MeasureOptions mo;
    mo.layers = layers;
    const auto r_given = w2s::steer::measure_steerability(model, given, v_given, mo, pool);
    const auto r_mirror = w2s::steer::measure_steerability(model, mirrored, v_mirror, mo, pool);
    BOOST_TEST(r_given.steerability.shape(0) == 12u);
    BOOST_TEST(r_given.order_steerability.shape(1) == 2u);
    double single = 0, both = 0;
    for (std::size_t i = 0; i < 12; ++i)
        for (std::size_t l = 0; l < layers.size(); ++l) {
            single += std::abs(r_given.steerability(i, l)) / 24;
            both += std::abs(r_mirror.steerability(i, l)) / 24;
        }
    BOOST_TEST_MESSAGE("single-order mean |s| " << single << ", mirrored " << both);
    BOOST_TEST(single > 0.05);          // the single-order measurement shows steerability ...
    BOOST_TEST(both < 1e-3 * single);   // ... that the mirrored one, where the letter cancels, does not
    // The diagnostic on the single-order run: every item's slope flips with the letter.
    Eigen::MatrixXd sg(12, 2), sm(12, 2);
    for (Eigen::Index i = 0; i < 12; ++i)
        for (Eigen::Index l = 0; l < 2; ++l) {
            sg(i, l) = r_given.order_steerability(static_cast<std::size_t>(i), 0, static_cast<std::size_t>(l));
            sm(i, l) = r_given.order_steerability(static_cast<std::size_t>(i), 1, static_cast<std::size_t>(l));
        }
    const auto d = w2s::eval::letter_diagnostic(sg, sm);
    BOOST_TEST(d.dominated);
    BOOST_TEST(!d.warning.empty());
    BOOST_TEST(d.mean_behaviour_part < 1e-3 * d.mean_letter_part);
    BOOST_TEST(d.mean_correlation < -0.99);
}

BOOST_AUTO_TEST_CASE(two_order_sweep_file_round_trip) {
    const std::string path = dir + "/m.w2ssweep";
    w2s::ThreadPool pool(2);
    std::mt19937_64 g(9);
    std::vector<w2s::steer::TokenizedItem> views;
    for (std::size_t i = 0; i < 3; ++i)
        for (auto& v : two_orders(g, i, 0.5, 0.5)) views.push_back(v);
    auto header = w2s::sweep::make_header(model, w2s::sweep::resolve_options(model, vectors, {}), "tiny", "synthetic", "BASE", "random");
    const auto a = w2s::sweep::run_sweep(model, std::span(views), vectors, {}, header, path, pool);
    BOOST_TEST(a.items.size() == 3u);
    BOOST_TEST(a.header.orders == 2);
    const auto b = w2s::io::read_sweep(path);
    BOOST_TEST(b.header.orders == 2);
    BOOST_TEST((b.header.order_weights == std::vector<double>{0.5, 0.5}));
    auto sorted = b;
    sorted.sort();
    for (std::size_t i = 0; i < 3; ++i) BOOST_TEST(sorted.items[i].slope_orders == a.items[i].slope_orders);
    // A mixed list (one item in one order, another in two) is refused.
    std::vector<w2s::steer::TokenizedItem> mixed(views.begin(), views.begin() + 3);
    BOOST_CHECK_THROW((void)w2s::sweep::run_sweep(model, std::span(mixed), vectors, {}, header, "", pool), w2s::invalid_argument);
}

// Issue 17, resource limits: what a sweep holds grows with the items only by their records (the embeddings the
// router is trained on); a sweep that would not fit is refused before its file is opened, with the figures.
BOOST_AUTO_TEST_CASE(a_sweep_that_would_not_fit_in_memory_is_refused_before_its_file_exists) {
    w2s::ThreadPool pool(2);
    const auto opt = w2s::sweep::resolve_options(model, vectors, {});
    std::vector<w2s::steer::TokenizedItem> many;
    for (std::size_t r = 0; r < 40; ++r)
        for (const auto& it : items) {
            many.push_back(it);
            many.back().item = r * items.size() + it.item;
        }
    auto header = w2s::sweep::make_header(model, opt, "tiny", "synthetic", "BASE", "random");
    const auto need = [&](std::size_t n) { return w2s::sweep::sweep_memory_bytes(model, std::span(many).first(n), header, 2); };
    // The part that grows: twice the record (the file's record, [layers x (multipliers + 1)] doubles and
    // 2 x [embedding layers x hidden] floats with its 28 bytes of framing, + 256 bytes in memory) per item; the
    // in-flight work stays the same once there are more items than threads.
    const std::uint64_t record = 8 * (opt.layers.size() * opt.multipliers.size() + opt.layers.size()) +
                                 8 * opt.embedding_layers.size() * static_cast<std::uint64_t>(model.hidden_size()) + 28 + 256;
    BOOST_TEST(need(2 * items.size()) - need(items.size()) == 2 * record * items.size());
    BOOST_TEST(need(many.size()) - need(items.size()) == 2 * record * (many.size() - items.size()));
    BOOST_TEST(w2s::sweep::sweep_memory_bytes(model, std::span(many), header, 1) < need(many.size()));  // fewer threads, less
    const std::string path = dir + "/too_big.w2ssweep";
    const std::string limit = std::to_string((need(items.size()) + need(many.size())) / 2);
    w2s::test::ScopedEnv env("W2S_MEMORY_LIMIT", limit.c_str());
    try {
        (void)w2s::sweep::run_sweep(model, std::span(many), vectors, {}, header, path, pool);
        BOOST_FAIL("the sweep was not refused");
    } catch (const w2s::resource_error& e) {
        const std::string m = e.what();
        BOOST_TEST_INFO(m);
        BOOST_TEST(m.find("the sweep of " + std::to_string(many.size()) + " items") != std::string::npos);
        BOOST_TEST(m.find("--max-items") != std::string::npos);
    }
    BOOST_TEST(!std::filesystem::exists(path));
    // The same limit takes the smaller sweep.
    const auto small = w2s::sweep::run_sweep(model, std::span(items), vectors, {}, header, path, pool);
    BOOST_TEST(small.items.size() == items.size());
}

BOOST_AUTO_TEST_CASE(bad_sweep_files_are_refused) {
    const std::string path = dir + "/bad.w2ssweep";
    { std::ofstream(path) << "NOTASWEEPFILE"; }
    BOOST_CHECK_THROW(w2s::io::read_sweep(path), w2s::format_error);
}

// Finding 1: a resumed sweep reused any record of the same model, data path, variant and layers, so a test-split
// run over a train-split file returned the train records as test ones. Each record now carries the fingerprint
// of the token ids it was made from and the header that of the vectors; a mismatch is refused, naming it.
BOOST_AUTO_TEST_CASE(a_sweep_file_is_resumed_only_from_the_same_inputs) {
    const std::string path = dir + "/f.w2ssweep";
    w2s::ThreadPool pool(2);
    auto header = w2s::sweep::make_header(model, w2s::sweep::resolve_options(model, vectors, {}), "tiny", "synthetic", "BASE", "random");
    const auto first = w2s::sweep::run_sweep(model, std::span(items).first(3), vectors, {}, header, path, pool);
    // the same items again: nothing to do, the same records
    std::size_t first_done = 99, calls = 0;
    const auto again = w2s::sweep::run_sweep(model, std::span(items).first(3), vectors, {}, header, path, pool,
                                             [&](const w2s::ProgressEvent& e) {
                                                 if (calls++ == 0) first_done = e.done;
                                             });
    BOOST_TEST(first_done == 3u);  // reused, not recomputed
    BOOST_TEST(calls == 1u);
    BOOST_TEST(again.items.size() == 3u);
    BOOST_TEST(again.items[1].slope == first.items[1].slope);
    // other token ids under the same item indices (another split, subset, seed or template)
    auto other = items;
    other[1].prompt[0] = other[1].prompt[0] == 5 ? 6 : 5;
    try {
        (void)w2s::sweep::run_sweep(model, std::span(other).first(3), vectors, {}, header, path, pool);
        BOOST_ERROR("resumed a sweep from records of other token ids");
    } catch (const w2s::invalid_argument& e) {
        BOOST_TEST(std::string(e.what()).find("item 1") != std::string::npos, e.what());
        BOOST_TEST(std::string(e.what()).find(path) != std::string::npos, e.what());
    }
    // other vectors (another estimator, another train split)
    auto scaled = vectors;
    for (int l : scaled.layers()) {
        std::vector<float> v(scaled.at(l).begin(), scaled.at(l).end());
        for (auto& x : v) x *= 2.0f;
        scaled.set(l, v);
    }
    try {
        (void)w2s::sweep::run_sweep(model, std::span(items).first(3), scaled, {}, header, path, pool);
        BOOST_ERROR("resumed a sweep made with other vectors");
    } catch (const w2s::invalid_argument& e) {
        BOOST_TEST(std::string(e.what()).find("vectors") != std::string::npos, e.what());
    }
    // more items of the same inputs extend the file
    BOOST_TEST(w2s::sweep::run_sweep(model, std::span(items), vectors, {}, header, path, pool).items.size() == items.size());
}

// Finding 7: records had no checksum (a damaged byte read as a number) and two writers could interleave.
BOOST_AUTO_TEST_CASE(a_damaged_record_is_refused_by_its_checksum) {
    const std::string path = dir + "/c.w2ssweep";
    w2s::ThreadPool pool(1);
    auto header = w2s::sweep::make_header(model, w2s::sweep::resolve_options(model, vectors, {}), "tiny", "synthetic", "BASE", "random");
    (void)w2s::sweep::run_sweep(model, std::span(items).first(2), vectors, {}, header, path, pool);
    std::string bytes = w2s::test::read_file(path);
    std::uint64_t hlen = 0;
    std::memcpy(&hlen, bytes.data() + 12, 8);
    const std::size_t first_record = 20 + hlen;
    bytes[first_record + 40] = static_cast<char>(bytes[first_record + 40] ^ 0x10);  // inside the propensity values
    const std::string bad = dir + "/c_bad.w2ssweep";
    std::ofstream(bad, std::ios::binary) << bytes;
    try {
        (void)w2s::io::read_sweep(bad);
        BOOST_ERROR("read a record whose bytes were damaged");
    } catch (const w2s::format_error& e) {
        BOOST_TEST(std::string(e.what()).find("checksum") != std::string::npos, e.what());
        BOOST_TEST(std::string(e.what()).find("offset " + std::to_string(first_record)) != std::string::npos, e.what());
    }
}

BOOST_AUTO_TEST_CASE(a_second_writer_is_refused_while_one_holds_the_file) {
    const std::string path = dir + "/l.w2ssweep";
    auto header = w2s::sweep::make_header(model, w2s::sweep::resolve_options(model, vectors, {}), "tiny", "synthetic", "BASE", "random");
    {
        w2s::io::SweepWriter one(path, header);
        try {
            w2s::io::SweepWriter two(path, header);
            BOOST_ERROR("two writers held one sweep file");
        } catch (const w2s::io_error& e) {
            BOOST_TEST(std::string(e.what()).find("another process") != std::string::npos, e.what());
        }
        // and in another process (flock is per open file: the same answer across fork)
        const pid_t pid = ::fork();
        if (pid == 0) {
            int rc = 3;
            try {
                w2s::io::SweepWriter two(path, header);
                rc = 1;
            } catch (const w2s::io_error&) {
                rc = 0;
            } catch (...) {
                rc = 2;
            }
            ::_exit(rc);
        }
        int status = 0;
        ::waitpid(pid, &status, 0);
        BOOST_TEST(WIFEXITED(status));
        BOOST_TEST(WEXITSTATUS(status) == 0);
    }
    BOOST_CHECK_NO_THROW(w2s::io::SweepWriter(path, header));  // free again once the first is gone
}

namespace {
/// n synthetic items of 6-29 prompt tokens, the same in every process (seeded).
std::vector<w2s::steer::TokenizedItem> many_items(std::size_t n) {
    std::mt19937_64 g(21);
    std::uniform_int_distribution<int> tok(3, 200);
    std::vector<w2s::steer::TokenizedItem> out;
    for (std::size_t i = 0; i < n; ++i) {
        w2s::steer::TokenizedItem it;
        it.item = i;
        for (std::size_t p = 0; p < 6 + i % 24; ++p) it.prompt.push_back(tok(g));
        const int open = tok(g), close = tok(g);
        it.response[0] = {open, tok(g), close};
        it.response[1] = {open, tok(g), close};
        out.push_back(it);
    }
    return out;
}
}  // namespace

// Issue 17(d): a sweep killed with SIGKILL at random moments (a child process, any number of times) and then
// finished resumes to records identical, bit for bit, to an uninterrupted run; and at 2 threads as at 1.
BOOST_AUTO_TEST_CASE(a_sweep_killed_at_random_points_resumes_to_the_identical_records) {
    constexpr const char* role = "W2S_SWEEP_KILL_CHILD";
    const bool child = w2s::test::is_child(role);
    const auto shared = std::filesystem::temp_directory_path() / ("w2s_sweep_kill_" + std::to_string(child ? ::getppid() : ::getpid()));
    const std::string path = (shared / "k.w2ssweep").string();
    const auto many = many_items(160);
    auto header = w2s::sweep::make_header(model, w2s::sweep::resolve_options(model, vectors, {}), "tiny", "synthetic", "BASE", "random");
    if (child) {  // the child's work: the sweep at 2 threads, to the shared file
        w2s::ThreadPool pool(2);
        (void)w2s::sweep::run_sweep(model, std::span(many), vectors, {}, header, path, pool);
        std::filesystem::remove_all(dir);
        ::_exit(0);
    }
    std::filesystem::create_directories(shared);
    w2s::ThreadPool one(1), two(2);
    const auto t0 = std::chrono::steady_clock::now();
    auto ref = w2s::sweep::run_sweep(model, std::span(many), vectors, {}, header, (shared / "ref.w2ssweep").string(), one);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    auto records = [&]() -> std::size_t {
        if (!std::filesystem::exists(path) || std::filesystem::file_size(path) == 0) return 0;
        return w2s::io::read_sweep(path).items.size();  // a damaged file would throw here
    };
    const auto st = w2s::test::kill_at_random_points(
        "sweep/a_sweep_killed_at_random_points_resumes_to_the_identical_records", role,
        std::chrono::milliseconds(3), 24, 5, [&] { return records() == many.size(); },
        [&] { return static_cast<double>(records()) / static_cast<double>(many.size()); }, std::chrono::milliseconds(120000),
        [](pid_t pid) {  // a killed child leaves its fixture's folder behind
            std::filesystem::remove_all(std::filesystem::temp_directory_path() / ("w2s_sweep_test_" + std::to_string(pid)));
        });
    BOOST_TEST_MESSAGE("children " << st.children << ", killed " << st.killed << ", mid-way " << st.mid_way << "; one run " << took.count() << " ms");
    BOOST_TEST(st.mid_way >= 1);  // the test is vacuous unless some kill hit a half-done sweep
    auto resumed = w2s::sweep::run_sweep(model, std::span(many), vectors, {}, header, path, two);
    BOOST_TEST_REQUIRE(resumed.items.size() == ref.items.size());
    for (std::size_t i = 0; i < ref.items.size(); ++i) {
        const auto &a = ref.items[i], &b = resumed.items[i];
        BOOST_TEST(a.item == b.item);
        BOOST_TEST(a.inputs == b.inputs);
        BOOST_TEST((a.propensity == b.propensity));
        BOOST_TEST((a.slope == b.slope));
        BOOST_TEST((a.emb_last == b.emb_last));
        BOOST_TEST((a.emb_mean == b.emb_mean));
    }
    // The files too, byte for byte: a complete sweep's records are put in item order (SweepWriter::seal).
    BOOST_TEST(file_bytes(path) == file_bytes((shared / "ref.w2ssweep").string()));
    std::filesystem::remove_all(shared);
}

// Issue 17: the sweep file names its model by path; a resumed sweep whose model file now holds another model (same
// shapes, same vectors, same token ids) took the old model's records. The header records the model's fingerprint.
BOOST_AUTO_TEST_CASE(a_sweep_is_not_resumed_on_another_model_at_the_same_path) {
    const auto other_dir = std::filesystem::path(dir) / "other";
    std::filesystem::create_directories(other_dir);
    const auto other = w2s::model::LlamaModel::load(w2s::test::make_tiny_llama(other_dir.string(), 8));
    const auto again = w2s::model::LlamaModel::load(model.file().path());
    BOOST_TEST(model.file().fingerprint() == again.file().fingerprint());  // the same file: the same fingerprint
    BOOST_TEST(model.file().fingerprint() != other.file().fingerprint());
    BOOST_TEST(w2s::sweep::model_fingerprint(model) == w2s::Fingerprint::to_hex(model.file().fingerprint()));
    w2s::ThreadPool pool(2);
    const std::string path = dir + "/model_swap.w2ssweep";
    auto header = w2s::sweep::make_header(model, w2s::sweep::resolve_options(model, vectors, {}), "tiny", "synthetic", "BASE", "random");
    (void)w2s::sweep::run_sweep(model, std::span(items).first(2), vectors, {}, header, path, pool);
    BOOST_TEST(w2s::io::read_sweep(path).header.model_fingerprint == w2s::sweep::model_fingerprint(model));
    auto header2 = w2s::sweep::make_header(other, w2s::sweep::resolve_options(other, vectors, {}), "tiny", "synthetic", "BASE", "random");
    try {
        (void)w2s::sweep::run_sweep(other, std::span(items), vectors, {}, header2, path, pool);
        BOOST_ERROR("a sweep of another model resumed the first model's records");
    } catch (const w2s::invalid_argument& e) {
        BOOST_TEST(std::string(e.what()).find("the model file's contents") != std::string::npos, e.what());
    }
    // The same model resumes.
    BOOST_TEST(w2s::sweep::run_sweep(again, std::span(items), vectors, {}, header, path, pool).items.size() == items.size());
}

// Review of issue 17's sweep file: a header of a few hundred bytes that declares terabyte records was given a
// record buffer of that size before any record was known to be there (std::bad_alloc, not a w2s::error).
BOOST_AUTO_TEST_CASE(a_header_declaring_huge_records_reads_as_an_empty_sweep) {
    w2s::io::SweepHeader h;
    h.n_layers = 8192;
    h.hidden = 1 << 24;
    h.layers = {1};
    h.multipliers = {-1, 0, 1};
    for (int l = 0; l < 8192; ++l) h.embedding_layers.push_back(l);  // a record of 8192 x 2^24 x 8 bytes = 1 TiB
    const std::string bytes = w2s::io::detail::encode_header(h);
    std::istringstream in(bytes);
    std::size_t partial = 99;
    const auto d = w2s::io::read_sweep(in, bytes.size(), "huge.w2ssweep", &partial);
    BOOST_TEST(d.items.empty());
    BOOST_TEST(partial == 0u);
}

// Review of issue 17: crash states that a resume must get past, and a failed write that must not misalign the file.
BOOST_AUTO_TEST_CASE(a_writer_resumes_past_a_torn_header_and_a_zeroed_tail) {
    auto header = w2s::sweep::make_header(model, w2s::sweep::resolve_options(model, vectors, {}), "tiny", "synthetic", "BASE", "random");
    w2s::ThreadPool pool(2);
    const std::string path = dir + "/torn.w2ssweep";
    const auto full = w2s::sweep::run_sweep(model, std::span(items), vectors, {}, header, path, pool);
    const std::string whole = file_bytes(path);
    const std::size_t rec = w2s::io::detail::record_bytes(full.header);
    const std::size_t head = whole.size() - items.size() * rec;
    auto write = [&](const std::string& b) { std::ofstream(path, std::ios::binary | std::ios::trunc) << b; };
    // 1. The header cut short (a crash while the file was created): a fresh start, not "truncated header" forever.
    write(whole.substr(0, head / 2));
    BOOST_CHECK_THROW((void)w2s::io::read_sweep(path), w2s::format_error);  // a reader still says so
    BOOST_TEST(w2s::sweep::run_sweep(model, std::span(items), vectors, {}, header, path, pool).items.size() == items.size());
    BOOST_TEST(file_bytes(path) == whole);
    // 2. Two records, then two records' worth of zero bytes (a power loss after the file grew): those are redone.
    write(whole.substr(0, head + 2 * rec) + std::string(2 * rec, '\0'));
    BOOST_CHECK_THROW((void)w2s::io::read_sweep(path), w2s::format_error);  // a reader refuses the zero record
    std::size_t first_done = 99, calls = 0;
    (void)w2s::sweep::run_sweep(model, std::span(items), vectors, {}, header, path, pool, [&](const w2s::ProgressEvent& e) {
        if (calls++ == 0) first_done = e.done;
    });
    BOOST_TEST(first_done == 2u);  // the two whole records were kept
    BOOST_TEST(file_bytes(path) == whole);
    // 3. The last record damaged (its checksum fails): redone on resume; damage in the middle is still an error.
    std::string bad = whole;
    bad[bad.size() - 20] ^= 0x55;
    write(bad);
    BOOST_CHECK_THROW((void)w2s::io::read_sweep(path), w2s::format_error);
    (void)w2s::sweep::run_sweep(model, std::span(items), vectors, {}, header, path, pool);
    BOOST_TEST(file_bytes(path) == whole);
    bad = whole;
    bad[head + rec + 30] ^= 0x55;
    write(bad);
    BOOST_CHECK_THROW((void)w2s::sweep::run_sweep(model, std::span(items), vectors, {}, header, path, pool), w2s::format_error);
}

BOOST_AUTO_TEST_CASE(a_failed_append_is_cut_back_and_refuses_more) {
    const std::string path = dir + "/full_disk.w2ssweep";
    std::filesystem::remove(path);
    auto header = w2s::sweep::make_header(model, w2s::sweep::resolve_options(model, vectors, {}), "tiny", "synthetic", "BASE", "random");
    const auto opt = w2s::sweep::resolve_options(model, vectors, {});
    auto r0 = w2s::sweep::sweep_item(model, items[0], vectors, opt);
    auto r1 = w2s::sweep::sweep_item(model, items[1], vectors, opt);
    r1.item = 1;
    std::size_t good = 0;
    {
        w2s::io::SweepWriter w(path, header);
        w.append(r0);
        good = std::filesystem::file_size(path);
        // A file-size limit one byte short of the second record: write(2) writes part of it, then fails (EFBIG).
        struct rlimit old {};
        ::getrlimit(RLIMIT_FSIZE, &old);
        struct rlimit lim = old;
        lim.rlim_cur = good + w2s::io::detail::record_bytes(header) - 1;
        auto prev = std::signal(SIGXFSZ, SIG_IGN);
        ::setrlimit(RLIMIT_FSIZE, &lim);
        BOOST_CHECK_THROW(w.append(r1), w2s::io_error);
        ::setrlimit(RLIMIT_FSIZE, &old);
        std::signal(SIGXFSZ, prev);
        BOOST_TEST(std::filesystem::file_size(path) == good);  // the torn part is cut
        BOOST_CHECK_THROW(w.append(r1), w2s::io_error);       // and the writer refuses more
    }
    const auto d = w2s::io::read_sweep(path);
    BOOST_TEST_REQUIRE(d.items.size() == 1u);
    BOOST_TEST(d.items[0].item == r0.item);
}

// Review of issue 17: a run over fewer items than its file holds returned the file's other records too, unchecked.
BOOST_AUTO_TEST_CASE(a_run_over_fewer_items_returns_only_its_own_records) {
    const std::string path = dir + "/subset.w2ssweep";
    w2s::ThreadPool pool(2);
    auto header = w2s::sweep::make_header(model, w2s::sweep::resolve_options(model, vectors, {}), "tiny", "synthetic", "BASE", "random");
    (void)w2s::sweep::run_sweep(model, std::span(items), vectors, {}, header, path, pool);
    const auto some = w2s::sweep::run_sweep(model, std::span(items).subspan(1, 2), vectors, {}, header, path, pool);
    BOOST_TEST_REQUIRE(some.items.size() == 2u);
    BOOST_TEST(some.items[0].item == items[1].item);
    BOOST_TEST(some.items[1].item == items[2].item);
    BOOST_TEST(w2s::io::read_sweep(path).items.size() == items.size());  // the file keeps them all
}

// Issue 17, determinism: a sweep at 1 and at 2 threads writes the same file, byte for byte, though its items
// finish in another order; and a file sealed once stays as it is when the complete sweep is run again.
BOOST_AUTO_TEST_CASE(a_sweep_file_is_the_same_bytes_at_one_and_two_threads) {
    std::vector<w2s::steer::TokenizedItem> many;
    for (std::size_t r = 0; r < 8; ++r)
        for (const auto& it : items) {
            many.push_back(it);
            many.back().item = r * items.size() + it.item;
        }
    std::reverse(many.begin(), many.end());  // given out of item order, too
    auto header = w2s::sweep::make_header(model, w2s::sweep::resolve_options(model, vectors, {}), "tiny", "synthetic", "BASE", "random");
    const std::string p1 = dir + "/t1.w2ssweep", p2 = dir + "/t2.w2ssweep";
    w2s::ThreadPool one(1), two(2);
    const auto a = w2s::sweep::run_sweep(model, std::span(many), vectors, {}, header, p1, one);
    const auto b = w2s::sweep::run_sweep(model, std::span(many), vectors, {}, header, p2, two);
    BOOST_TEST(a.items.size() == many.size());
    const std::string bytes = file_bytes(p1);
    BOOST_TEST(bytes.size() > 1000u);
    BOOST_TEST(bytes == file_bytes(p2));
    const auto reread = w2s::io::read_sweep(p1);
    for (std::size_t i = 1; i < reread.items.size(); ++i) BOOST_TEST(reread.items[i - 1].item < reread.items[i].item);
    (void)w2s::sweep::run_sweep(model, std::span(many), vectors, {}, header, p2, two);  // complete: nothing to do
    BOOST_TEST(bytes == file_bytes(p2));
    // A sweep of the first half, then of all: the resumed file is the same as the one written in one go.
    const std::string p3 = dir + "/t3.w2ssweep";
    (void)w2s::sweep::run_sweep(model, std::span(many).first(many.size() / 2), vectors, {}, header, p3, two);
    (void)w2s::sweep::run_sweep(model, std::span(many), vectors, {}, header, p3, two);
    BOOST_TEST(bytes == file_bytes(p3));
}

// Found by sweep_file_fuzz: a sweep without embedding layers read its empty embeddings with memcpy from a null
// pointer (undefined behaviour, reported by UBSan). Written and read back here with no embedding layers.
BOOST_AUTO_TEST_CASE(a_sweep_without_embedding_layers_round_trips) {
    const std::string path = dir + "/noemb.w2ssweep";
    auto header = w2s::sweep::make_header(model, w2s::sweep::resolve_options(model, vectors, {}), "tiny", "synthetic", "BASE", "random");
    header.embedding_layers.clear();
    {
        w2s::io::SweepWriter w(path, header);
        w2s::io::ItemRecord r;
        r.item = 4;
        r.propensity.assign(header.layers.size() * header.multipliers.size(), 0.25);
        r.slope.assign(header.layers.size(), 0.5);
        w.append(r);
    }
    const auto b = w2s::io::read_sweep(path);
    BOOST_TEST_REQUIRE(b.items.size() == 1u);
    BOOST_TEST(b.header.embedding_layers.empty());
    BOOST_TEST(b.items[0].emb_last.empty());
    BOOST_TEST(b.items[0].slope[0] == 0.5);
}

BOOST_AUTO_TEST_SUITE_END()
