#define BOOST_TEST_MODULE eval
#include <boost/test/unit_test.hpp>

#include <sstream>
#include <string>
#include <vector>

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>

#include <w2s/io/svg.hpp>

namespace svg = w2s::io::svg;
namespace pt = boost::property_tree;

namespace {
// Parses the document with Boost.PropertyTree's XML parser; throws on malformed XML.
pt::ptree parse(const std::string& doc) {
    std::istringstream in(doc);
    pt::ptree t;
    pt::read_xml(in, t);
    return t;
}
std::size_t count(const std::string& hay, const std::string& needle) {
    std::size_t n = 0;
    for (auto p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
    return n;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(svg_writer)

BOOST_AUTO_TEST_CASE(line_plot_is_wellformed_and_has_series_band_marker) {
    svg::LinePlot p;
    p.title = "steerability <vs> layer & more";
    p.x_label = "layer";
    p.y_label = "s(x, l)";
    svg::Series a;
    a.name = "mean \"A\"";
    a.x = {0, 1, 2, 3};
    a.y = {0.1, -0.2, 0.5, 0.3};
    a.band_lo = {0.0, -0.4, 0.2, 0.1};
    a.band_hi = {0.2, 0.0, 0.7, 0.5};
    svg::Series b;
    b.name = "oracle";
    b.x = {0, 1, 2, 3};
    b.y = {1, 2, std::numeric_limits<double>::quiet_NaN(), 4};
    p.series = {a, b};
    p.markers = {{2.0, "fixed layer", "#c44e52"}};
    const std::string doc = svg::render(p);
    const pt::ptree t = parse(doc);
    BOOST_TEST(t.get<std::string>("svg.<xmlattr>.xmlns") == "http://www.w3.org/2000/svg");
    // Escaped text round-trips through the parser.
    BOOST_TEST(doc.find("steerability &lt;vs&gt; layer &amp; more") != std::string::npos);
    BOOST_TEST(doc.find("data-name=\"mean &quot;A&quot;\"") != std::string::npos);
    BOOST_TEST(doc.find("data-name=\"oracle\"") != std::string::npos);
    BOOST_TEST(count(doc, "<polygon") == 1u);               // one band (series a)
    BOOST_TEST(count(doc, "class=\"marker\"") == 1u);
    BOOST_TEST(doc.find(">fixed layer</text>") != std::string::npos);
    // The NaN breaks series b's line into two pieces: two "M" moves in its path.
    const auto pos = doc.find("data-name=\"oracle\"");
    const auto path = doc.find("<path d=\"", pos);
    const auto end = doc.find('"', path + 9);
    BOOST_TEST(count(doc.substr(path, end - path), "M") == 2u);
    BOOST_TEST(count(doc, "<circle") == 7u);  // 4 + 3 finite points
    BOOST_TEST(doc.find("nan") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(ticks_are_nice) {
    const auto t = svg::detail::nice_ticks(0.0, 29.0, 8);
    BOOST_TEST(t.step == 5.0);
    BOOST_TEST(t.lo == 0.0);
    BOOST_TEST(t.hi == 30.0);
    BOOST_TEST(t.values.size() == 7u);
    const auto u = svg::detail::nice_ticks(-0.13, 0.42, 5);
    BOOST_TEST(u.step == 0.2, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(u.lo == -0.2, boost::test_tools::tolerance(1e-12));
    BOOST_TEST(u.hi == 0.6, boost::test_tools::tolerance(1e-12));
    const auto d = svg::detail::nice_ticks(3.0, 3.0);  // degenerate range widened
    BOOST_TEST(d.lo < 3.0);
    BOOST_TEST(d.hi > 3.0);
}

BOOST_AUTO_TEST_CASE(bar_chart_and_histogram) {
    const std::vector<double> v{0, 0, 1, 3, 3, 3, 7.5, -2, std::numeric_limits<double>::infinity()};
    svg::BarChart c = svg::histogram(v, 4, 0.0, 4.0);
    BOOST_TEST(c.values == (std::vector<double>{3, 1, 0, 4}), boost::test_tools::per_element());  // -2 -> bin 0, 7.5 -> bin 3
    BOOST_TEST(c.categories == (std::vector<std::string>{"0.5", "1.5", "2.5", "3.5"}), boost::test_tools::per_element());
    c.title = "best layers";
    c.markers = {{1.0, "fixed", "#000"}};
    const std::string doc = svg::render(c);
    parse(doc);
    BOOST_TEST(count(doc, "<rect") == 5u);  // background + 4 bars
    BOOST_TEST(doc.find("<title>3.5: 4</title>") != std::string::npos);
    BOOST_CHECK_THROW((void)svg::histogram(v, 0, 0.0, 1.0), w2s::invalid_argument);
}

BOOST_AUTO_TEST_CASE(shape_errors_name_the_series) {
    svg::LinePlot p;
    svg::Series bad;
    bad.name = "bad";
    bad.x = {0, 1};
    bad.y = {1};
    p.series = {bad};
    try {
        (void)svg::render(p);
        BOOST_FAIL("no throw");
    } catch (const w2s::invalid_argument& e) {
        BOOST_TEST(std::string(e.what()).find("'bad'") != std::string::npos);
    }
    svg::BarChart c;
    c.categories = {"a"};
    BOOST_CHECK_THROW((void)svg::render(c), w2s::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
