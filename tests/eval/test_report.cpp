// Report: evaluate_pair, averages, JSON round trip, Markdown tables, figures and write_report.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include <w2s/eval/eval.hpp>

#include "w2s_test_support.hpp"

namespace ev = w2s::eval;
namespace tt = boost::test_tools;

namespace {
Eigen::MatrixXd train() {
    Eigen::MatrixXd S(3, 3);
    S << 1, 2, 0, 0, 1, 2, 1, 0, 0;
    return S;
}
Eigen::MatrixXd test() {
    Eigen::MatrixXd S(4, 3);
    S << 0.5, -1, 2, 1, 0.5, -0.5, -1, -2, -0.5, 0, 1, 0.5;
    return S;
}
ev::Report two_behaviours() {
    ev::Layers routed(4);
    routed << 2, 0, 0, 1;
    const std::vector<ev::RoutedMethod> m{{"W2S-linear", routed, "l2=0.01"}};
    ev::Report r;
    r.title = "test report";
    r.meta = {{"model", "SmolLM2"}, {"seed", 1}};
    ev::BehaviourReport a{"alpha", {ev::evaluate_pair(train(), test(), m, 1)}};
    // Behaviour beta: the test split shifted by +1 -> every mean +1, gaps identical.
    const Eigen::MatrixXd shifted = (test().array() + 1.0).matrix();
    ev::BehaviourReport b{"beta", {ev::evaluate_pair(train(), shifted, m, 1),
                                   ev::evaluate_pair(train(), test(), m, 1, "BASE", "SYS.POS")}};
    r.behaviours = {a, b};
    return r;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(report)

BOOST_AUTO_TEST_CASE(evaluate_pair_by_hand) {
    const auto r = two_behaviours();
    const auto& p = r.behaviours[0].pairs[0];
    BOOST_TEST(p.name() == "BASE->BASE");
    BOOST_TEST(p.fixed_layer == 1);
    BOOST_TEST(p.methods.size() == 4u);
    BOOST_TEST(p.methods[0].method == "fixed");
    BOOST_TEST(p.methods[1].method == "oracle");
    BOOST_TEST(p.methods[2].method == "random");
    BOOST_TEST(p.find("fixed")->score.mean_steerability == -0.375, tt::tolerance(1e-15));
    BOOST_TEST(p.find("fixed")->gap_closed == 0.0);
    BOOST_TEST(p.find("oracle")->gap_closed == 1.0);
    BOOST_TEST(p.find("W2S-linear")->gap_closed == 0.9, tt::tolerance(1e-14));
    BOOST_TEST(p.find("nope") == nullptr);
    BOOST_TEST(p.best_layers.share_at_fixed == 0.25);
    BOOST_TEST(r.behaviours[1].pairs[1].name() == "BASE->SYS.POS");
}

BOOST_AUTO_TEST_CASE(averages_by_hand) {
    const auto avg = ev::averages(two_behaviours());
    // Pairs: BASE->BASE (alpha, beta) then BASE->SYS.POS (beta only); 4 methods each.
    BOOST_TEST(avg.size() == 8u);
    BOOST_TEST(avg[0].pair == "BASE->BASE");
    BOOST_TEST(avg[0].method == "fixed");
    BOOST_TEST(avg[0].behaviours == 2u);
    BOOST_TEST(avg[0].mean_steerability == (-0.375 + 0.625) / 2, tt::tolerance(1e-15));
    // W2S: (0.75 + 1.75) / 2 = 1.25; fixed avg 0.125, oracle avg 1.375 -> gap 1.125 / 1.25 = 0.9
    BOOST_TEST(avg[3].method == "W2S-linear");
    BOOST_TEST(avg[3].mean_steerability == 1.25, tt::tolerance(1e-15));
    BOOST_TEST(avg[3].gap_closed == 0.9, tt::tolerance(1e-14));
    // beta shifted: 2 of 4 items steerable at layer 1 ([0, 1.5, -1, 2]; 0 is not > 0): (0.5 + 0.5) / 2
    BOOST_TEST(avg[0].fraction_steerable == 0.5);
    BOOST_TEST(avg[4].pair == "BASE->SYS.POS");
    BOOST_TEST(avg[4].behaviours == 1u);
}

BOOST_AUTO_TEST_CASE(json_round_trip_and_version) {
    const auto r = two_behaviours();
    const nlohmann::json j = ev::to_json(r);
    BOOST_TEST(j["format"] == "w2s-eval-report");
    BOOST_TEST(j["behaviours"][0]["pairs"][0]["methods"][0]["mean_steerability"].get<double>() == -0.375);
    BOOST_TEST(j["averages"].size() == 8u);
    const auto back = ev::report_from_json(nlohmann::json::parse(j.dump()));
    BOOST_TEST(ev::to_json(back).dump() == j.dump());
    // NaN gap (oracle == fixed) -> null -> NaN
    Eigen::MatrixXd flat = Eigen::MatrixXd::Ones(2, 3);
    ev::Report n;
    n.behaviours = {{"flat", {ev::evaluate_pair(flat, flat, {}, 0)}}};
    const auto jn = ev::to_json(n);
    BOOST_TEST(jn["behaviours"][0]["pairs"][0]["methods"][0]["gap_closed"].is_null());
    BOOST_TEST(std::isnan(ev::report_from_json(jn).behaviours[0].pairs[0].methods[0].gap_closed));
    nlohmann::json bad = j;
    bad["version"] = 2;
    BOOST_CHECK_THROW((void)ev::report_from_json(bad), w2s::format_error);
    bad = j;
    bad["behaviours"][0]["pairs"][0].erase("methods");
    try {
        (void)ev::report_from_json(bad);
        BOOST_FAIL("no throw");
    } catch (const w2s::format_error& e) {
        BOOST_TEST(std::string(e.what()).find("$.behaviours[0].pairs[0].methods") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(markdown_tables) {
    const std::string md = ev::to_markdown(two_behaviours());
    BOOST_TEST_INFO(md);
    BOOST_TEST(md.find("# test report\n") == 0u);
    BOOST_TEST(md.find("- **model**: SmolLM2\n") != std::string::npos);
    BOOST_TEST(md.find("## Averaged over behaviours\n\n### BASE->BASE\n") != std::string::npos);
    BOOST_TEST(md.find("| W2S-linear | 1.250 | 75.0% | 0.90 | 2 |\n") != std::string::npos);
    BOOST_TEST(md.find("## alpha\n\n### BASE->BASE\n\nn_train = 3, n_test = 4, layers = 3, fixed layer = 1\n") !=
               std::string::npos);
    BOOST_TEST(md.find("| fixed | -0.375 | 50.0% | 0.00 | layer 1 |\n") != std::string::npos);
    BOOST_TEST(md.find("| oracle | 0.875 | 75.0% | 1.00 |  |\n") != std::string::npos);
    BOOST_TEST(md.find("equal to the fixed layer for 25.0% of items; mean |best - fixed| = 0.75 layers.") !=
               std::string::npos);
    BOOST_TEST(md.find("(figures/beta_BASE-to-SYS.POS_best_layers.svg)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(write_report_writes_parsable_files) {
    const auto dir = std::filesystem::temp_directory_path() / "w2s_test_eval_report";
    std::filesystem::remove_all(dir);
    const auto files = ev::write_report(two_behaviours(), dir);
    BOOST_TEST(files.size() == 2u + 2u * 3u);
    for (const auto& f : files) {
        BOOST_TEST(std::filesystem::exists(f));
        if (f.extension() == ".svg") {
            boost::property_tree::ptree t;
            boost::property_tree::read_xml(f.string(), t);  // throws when malformed
        }
    }
    std::ifstream in(dir / "report.json");
    const auto back = ev::report_from_json(nlohmann::json::parse(in));
    BOOST_TEST(back.behaviours.size() == 2u);
    const std::string plot = w2s::test::read_file((dir / "figures/alpha_BASE-to-BASE_steerability.svg").string());
    BOOST_TEST(plot.find("fixed layer 1") != std::string::npos);
    BOOST_TEST(plot.find("data-name=\"median, IQR band\"") != std::string::npos);
    std::filesystem::remove_all(dir);
}


BOOST_AUTO_TEST_CASE(letter_diagnostic_by_hand) {
    // Two items, two layers. Layer 0: the slope flips with the letter (s_m = -s_g); layer 1: both orders agree.
    Eigen::MatrixXd g(2, 2), m(2, 2);
    g << 1.0, 0.5, -2.0, 1.5;
    m << -1.0, 0.5, 2.0, 1.5;
    const auto d = ev::letter_diagnostic(g, m);
    BOOST_TEST(d.letter_part == (std::vector<double>{1.5, 0.0}), tt::per_element());
    BOOST_TEST(d.behaviour_part == (std::vector<double>{0.0, 1.0}), tt::per_element());
    BOOST_TEST(d.correlation[0] == -1.0, tt::tolerance(1e-12));
    BOOST_TEST(d.correlation[1] == 1.0, tt::tolerance(1e-12));
    BOOST_TEST(d.mean_letter_part == 0.75);
    BOOST_TEST(d.mean_behaviour_part == 0.5);
    BOOST_TEST(d.dominated);  // 0.75 > 0.5
    BOOST_TEST(d.warning.find("letter") != std::string::npos);
    // Into a report: JSON round trip and a Markdown section.
    auto r = two_behaviours();
    r.behaviours[0].pairs[0].letter = d;
    const auto j = ev::to_json(r);
    BOOST_TEST(j["behaviours"][0]["pairs"][0]["letter_diagnostic"]["letter_dominates"].get<bool>());
    BOOST_TEST(ev::to_json(ev::report_from_json(nlohmann::json::parse(j.dump()))).dump() == j.dump());
    const std::string md = ev::to_markdown(r, {});
    BOOST_TEST(md.find("## Letter diagnostic") != std::string::npos);
    BOOST_TEST(md.find("**Warning:**") != std::string::npos);
    // Orders that agree are not flagged.
    BOOST_TEST(!ev::letter_diagnostic(g, g).dominated);
    BOOST_CHECK_THROW((void)ev::letter_diagnostic(g, Eigen::MatrixXd(3, 2)), w2s::shape_error);
}

BOOST_AUTO_TEST_SUITE_END()
