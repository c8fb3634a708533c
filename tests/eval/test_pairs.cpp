// eval/pairs.hpp: a per-pair sweep to the prompt level, the reply diagnostic of its cells, and that diagnostic in
// the report's JSON (round trip) and Markdown (a reply-driven result in the first lines).
#include <boost/test/unit_test.hpp>

#include <w2s/eval/eval.hpp>
#include <w2s/eval/pairs.hpp>

namespace ev = w2s::eval;
namespace io = w2s::io;

namespace {
/// A per-pair sweep of `prompts` x `templates` cells over 4 layers; cell (p, t) has its slope peak at
/// layer peak(p, t), records written in a shuffled order (cell index = p * templates + t).
template <class Peak>
io::SweepData cells(int prompts, int templates, Peak peak) {
    io::SweepData d;
    d.header.layers = {1, 2, 3, 4};
    d.header.multipliers = {-1.0, 1.0};
    d.header.embedding_layers = {2};
    d.header.hidden = 2;
    for (int p = prompts - 1; p >= 0; --p)
        for (int t = 0; t < templates; ++t) {
            io::ItemRecord r;
            r.item = static_cast<std::uint64_t>(p * templates + t);
            for (int l = 0; l < 4; ++l) r.slope.push_back(l == peak(p, t) ? 1.0 + 0.01 * t : 0.1 * l);
            r.propensity.assign(8, static_cast<double>(t));
            r.emb_last = {static_cast<float>(p), 0.0f};
            r.emb_mean = {static_cast<float>(p), 1.0f};
            d.items.push_back(r);
        }
    return d;
}
}  // namespace

BOOST_AUTO_TEST_CASE(prompt_level_averages_each_prompts_pairs) {
    const auto d = cells(3, 2, [](int p, int t) { return (p + t) % 4; });
    std::vector<std::size_t> group, templ;
    for (int p = 0; p < 3; ++p)
        for (int t = 0; t < 2; ++t) group.push_back(static_cast<std::size_t>(10 + p));  // any labels; made dense
    const auto s = ev::prompt_level(d, group);
    BOOST_TEST_REQUIRE(s.items.size() == 3u);
    // prompt 0: cells peak at 0 and 1 -> mean slope [ (1 + 0)/2, (0.1 + 1.01)/2, 0.2, 0.3 ]
    BOOST_TEST(s.items[0].item == 0u);
    BOOST_TEST(s.items[0].slope[0] == 0.5, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(s.items[0].slope[1] == 0.555, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(s.items[0].slope[3] == 0.3, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(s.items[0].propensity[0] == 0.5, boost::test_tools::tolerance(1e-12));  // templates 0 and 1
    BOOST_TEST(s.items[2].emb_last[0] == 2.0f);  // the prompt's own embedding
    // a cell without a label is refused
    BOOST_CHECK_THROW((void)ev::prompt_level(d, std::vector<std::size_t>(3, 0)), w2s::error);
}

BOOST_AUTO_TEST_CASE(the_reply_diagnostic_of_a_sweep_flags_reply_driven_cells) {
    const int P = 12, T = 4;
    std::vector<std::size_t> group;
    std::vector<int> templ;
    for (int p = 0; p < P; ++p)
        for (int t = 0; t < T; ++t) {
            group.push_back(static_cast<std::size_t>(p));
            templ.push_back(t);
        }
    // reply-driven: the best layer is the template's
    const auto rd = ev::reply_diagnostic_of(cells(P, T, [](int, int t) { return t; }), group, templ);
    BOOST_TEST(rd.present());
    BOOST_TEST(rd.reply_driven);
    BOOST_TEST(!rd.prompt_driven);
    BOOST_TEST(rd.cells == static_cast<std::size_t>(P * T));
    // prompt-driven: the best layer is the prompt's
    const auto pd = ev::reply_diagnostic_of(cells(P, T, [](int p, int) { return p % 4; }), group, templ);
    BOOST_TEST(pd.prompt_driven);
    BOOST_TEST(!pd.reply_driven);

    // in a report: JSON round trip, and the reply-driven warning before the tables
    Eigen::MatrixXd S(4, 4);
    S.setRandom();
    ev::Report r;
    r.title = "t";
    ev::BehaviourReport b{"confidence", {ev::evaluate_pair(S, S, {}, 1)}};
    b.pairs[0].reply = rd;
    r.behaviours.push_back(b);
    const auto j = ev::to_json(r);
    BOOST_TEST(j["behaviours"][0]["pairs"][0].contains("reply_diagnostic"));
    const auto back = ev::report_from_json(nlohmann::json::parse(j.dump()));
    BOOST_TEST(back.behaviours[0].pairs[0].reply.reply_driven);
    BOOST_TEST(back.behaviours[0].pairs[0].reply.share_replies == rd.share_replies, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(ev::to_json(back).dump() == j.dump());
    const std::string md = ev::to_markdown(r, {});
    const auto warn = md.find("Reply-driven (confidence");
    BOOST_TEST(warn != std::string::npos);
    BOOST_TEST(warn < md.find("## Averaged over behaviours"));
    BOOST_TEST(md.find("Reply diagnostic (48 prompt x reply-pair cells") != std::string::npos);
    // a report without several pairs has no reply section
    r.behaviours[0].pairs[0].reply = {};
    BOOST_TEST(!ev::to_json(r)["behaviours"][0]["pairs"][0].contains("reply_diagnostic"));
}
