// w2s/io/svg.hpp — a tiny dependency-free SVG writer for the reports' figures.
//
// Two figure kinds, each a plain struct filled by the caller and turned into a standalone SVG document
// (std::string, UTF-8, well-formed XML) by render():
//   LinePlot  — several named series y(x), each with an optional shaded band [lo, hi] (mean ± std,
//               quartiles over items, ...), vertical marker lines (e.g. "fixed layer"), a legend.
//   BarChart  — one bar per category (a histogram of best layers, counts per bin), optional markers.
// histogram() bins raw values into a BarChart.
//
// Axes get "nice" ticks (steps 1, 2, 5 x 10^k) with labels; all text is XML-escaped. Non-finite y values
// break a series' line (the point is skipped) instead of producing an invalid path. Shapes are checked:
// a series whose x, y (and band) lengths differ is an invalid_argument with the series name in the message.
// Nothing here prints or touches files; write the string wherever you like.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "w2s/core/error.hpp"

namespace w2s::io::svg {

/// One vertical line at data coordinate x (line plot) or at category index x (bar chart), with a label.
struct Marker {
    double x = 0.0;
    std::string label;
    std::string color = "#444444";
};

/// One named series of a line plot. x, y: [n]. band_lo, band_hi: [n] or both empty (no band).
struct Series {
    std::string name;
    std::vector<double> x;        // [n]
    std::vector<double> y;        // [n]
    std::vector<double> band_lo;  // [n] or empty
    std::vector<double> band_hi;  // [n] or empty
    std::string color;            // empty: taken from the default palette by series index
    bool points = true;           // draw a small circle at each point
};

struct LinePlot {
    std::string title;
    std::string x_label;
    std::string y_label;
    std::vector<Series> series;
    std::vector<Marker> markers;
    int width = 720;
    int height = 420;
    bool zero_line = true;  // a thin horizontal line at y = 0 when 0 lies inside the y range
};

/// Bar chart: one bar per category. categories and values: [k] (same length).
struct BarChart {
    std::string title;
    std::string x_label;
    std::string y_label;
    std::vector<std::string> categories;  // [k] tick labels under the bars
    std::vector<double> values;           // [k] bar heights (may be negative)
    std::vector<Marker> markers;          // x = category index (fractional allowed)
    std::string color = "#4c72b0";
    int width = 720;
    int height = 420;
    int max_category_labels = 31;  // above this, only every m-th category label is drawn
};

/// Renders a standalone SVG document. Throws invalid_argument on inconsistent series/band lengths.
[[nodiscard]] std::string render(const LinePlot& plot);
/// Renders a standalone SVG document. Throws invalid_argument when categories and values differ in length.
[[nodiscard]] std::string render(const BarChart& chart);

/// Counts `values` into `bins` equal bins over [lo, hi] (values outside are clamped into the end bins;
/// non-finite values are ignored). Category labels are the bin centres. bins >= 1 and lo < hi.
[[nodiscard]] BarChart histogram(std::span<const double> values, int bins, double lo, double hi);

/// The default colour of series i.
[[nodiscard]] inline std::string_view palette(std::size_t i) {
    static constexpr std::string_view colors[] = {"#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3",
                                                  "#937860", "#da8bc3", "#8c8c8c", "#ccb974", "#64b5cd"};
    return colors[i % (sizeof(colors) / sizeof(colors[0]))];
}

/// Escapes &, <, >, ", ' for XML text and attribute values.
[[nodiscard]] inline std::string xml_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default: out += c;
        }
    }
    return out;
}

// ================================================================================================
// details
// ================================================================================================
namespace detail {

/// Shortest readable number: up to 4 significant digits, "-0" normalised to "0".
inline std::string num(double v) {
    if (std::abs(v) < 1e-12) v = 0.0;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.4g", v);
    return buf;
}
/// Coordinates with 2 decimals (keeps files small and diff-stable).
inline std::string coord(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", v);
    return buf;
}

struct Ticks {
    double lo, hi, step;
    std::vector<double> values;
};

/// Nice ticks covering [lo, hi] with about `target` intervals; widens a degenerate range.
inline Ticks nice_ticks(double lo, double hi, int target = 5) {
    if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0.0, hi = 1.0;
    if (hi < lo) std::swap(lo, hi);
    if (hi - lo < 1e-12) {
        const double pad = std::abs(lo) > 1e-12 ? std::abs(lo) * 0.1 : 1.0;
        lo -= pad;
        hi += pad;
    }
    const double raw = (hi - lo) / target;
    const double mag = std::pow(10.0, std::floor(std::log10(raw)));
    const double r = raw / mag;
    const double step = (r <= 1.0 ? 1.0 : r <= 2.0 ? 2.0 : r <= 5.0 ? 5.0 : 10.0) * mag;
    Ticks t{std::floor(lo / step) * step, std::ceil(hi / step) * step, step, {}};
    for (double v = t.lo; v <= t.hi + step * 1e-6; v += step) t.values.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
    return t;
}

/// Plot frame: pixel margins and a data->pixel mapping.
struct Frame {
    double left = 70, right = 20, top = 40, bottom = 55;
    double width, height;
    double x0, x1, y0, y1;  // data range
    [[nodiscard]] double px(double x) const { return left + (x - x0) / (x1 - x0) * (width - left - right); }
    [[nodiscard]] double py(double y) const { return height - bottom - (y - y0) / (y1 - y0) * (height - top - bottom); }
};

inline void open_doc(std::string& s, int w, int h) {
    s += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(w) + "\" height=\"" +
         std::to_string(h) + "\" viewBox=\"0 0 " + std::to_string(w) + " " + std::to_string(h) +
         "\" font-family=\"sans-serif\" font-size=\"12\">\n";
    s += "<rect x=\"0\" y=\"0\" width=\"" + std::to_string(w) + "\" height=\"" + std::to_string(h) +
         "\" fill=\"white\"/>\n";
}

inline void text(std::string& s, double x, double y, std::string_view t, std::string_view anchor,
                 std::string_view extra = {}) {
    s += "<text x=\"" + coord(x) + "\" y=\"" + coord(y) + "\" text-anchor=\"" + std::string(anchor) + "\"";
    if (!extra.empty()) s += " " + std::string(extra);
    s += ">" + xml_escape(t) + "</text>\n";
}

inline void line(std::string& s, double x1, double y1, double x2, double y2, std::string_view color,
                 std::string_view extra = {}) {
    s += "<line x1=\"" + coord(x1) + "\" y1=\"" + coord(y1) + "\" x2=\"" + coord(x2) + "\" y2=\"" + coord(y2) +
         "\" stroke=\"" + std::string(color) + "\"";
    if (!extra.empty()) s += " " + std::string(extra);
    s += "/>\n";
}

inline void titles(std::string& s, const Frame& f, const std::string& title, const std::string& xl,
                   const std::string& yl) {
    if (!title.empty()) text(s, f.width / 2, 22, title, "middle", "font-size=\"15\" font-weight=\"bold\"");
    if (!xl.empty()) text(s, (f.left + f.width - f.right) / 2, f.height - 12, xl, "middle");
    if (!yl.empty()) {
        const double cy = (f.top + f.height - f.bottom) / 2;
        text(s, 16, cy, yl, "middle", "transform=\"rotate(-90 16 " + coord(cy) + ")\"");
    }
}

inline void y_axis(std::string& s, const Frame& f, const Ticks& yt) {
    s += "<g class=\"y-axis\">\n";
    for (double v : yt.values) {
        const double y = f.py(v);
        line(s, f.left, y, f.width - f.right, y, "#e5e5e5");
        line(s, f.left - 4, y, f.left, y, "#000000");
        text(s, f.left - 7, y + 4, num(v), "end");
    }
    line(s, f.left, f.top, f.left, f.height - f.bottom, "#000000");
    s += "</g>\n";
}

inline void markers(std::string& s, const Frame& f, const std::vector<Marker>& ms, bool bar) {
    for (const auto& m : ms) {
        if (!std::isfinite(m.x)) continue;
        const double x = bar ? f.px(m.x + 0.5) : f.px(m.x);
        s += "<g class=\"marker\">\n";
        line(s, x, f.top, x, f.height - f.bottom, m.color.empty() ? "#444444" : m.color,
             "stroke-width=\"1.5\" stroke-dasharray=\"5,3\"");
        if (!m.label.empty()) text(s, x + 4, f.top + 12, m.label, "start", "fill=\"" + xml_escape(m.color) + "\"");
        s += "</g>\n";
    }
}

}  // namespace detail

inline std::string render(const LinePlot& plot) {
    using namespace detail;
    double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
    auto upd = [](double v, double& lo, double& hi) {
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    };
    for (const auto& se : plot.series) {
        if (se.x.size() != se.y.size())
            throw invalid_argument("svg::render: series '" + se.name + "': x has " + std::to_string(se.x.size()) +
                                   " values, y has " + std::to_string(se.y.size()) + "; expected equal lengths");
        const bool band = !se.band_lo.empty() || !se.band_hi.empty();
        if (band && (se.band_lo.size() != se.x.size() || se.band_hi.size() != se.x.size()))
            throw invalid_argument("svg::render: series '" + se.name + "': band has " +
                                   std::to_string(se.band_lo.size()) + "/" + std::to_string(se.band_hi.size()) +
                                   " values (lo/hi); expected " + std::to_string(se.x.size()) + " or none");
        for (std::size_t i = 0; i < se.x.size(); ++i) {
            upd(se.x[i], xmin, xmax);
            upd(se.y[i], ymin, ymax);
            if (band) upd(se.band_lo[i], ymin, ymax), upd(se.band_hi[i], ymin, ymax);
        }
    }
    for (const auto& m : plot.markers) upd(m.x, xmin, xmax);
    if (!std::isfinite(xmin)) xmin = 0, xmax = 1;
    if (!std::isfinite(ymin)) ymin = 0, ymax = 1;
    const Ticks xt = nice_ticks(xmin, xmax, 8);
    const Ticks yt = nice_ticks(ymin, ymax, 5);

    Frame f;
    f.width = plot.width;
    f.height = plot.height;
    f.right = 150;  // legend column
    f.x0 = xt.lo, f.x1 = xt.hi, f.y0 = yt.lo, f.y1 = yt.hi;

    std::string s;
    open_doc(s, plot.width, plot.height);
    titles(s, f, plot.title, plot.x_label, plot.y_label);
    y_axis(s, f, yt);
    s += "<g class=\"x-axis\">\n";
    for (double v : xt.values) {
        const double x = f.px(v);
        line(s, x, f.height - f.bottom, x, f.height - f.bottom + 4, "#000000");
        text(s, x, f.height - f.bottom + 17, num(v), "middle");
    }
    line(s, f.left, f.height - f.bottom, f.width - f.right, f.height - f.bottom, "#000000");
    s += "</g>\n";
    if (plot.zero_line && yt.lo < 0 && yt.hi > 0)
        line(s, f.left, f.py(0), f.width - f.right, f.py(0), "#888888", "stroke-width=\"1\"");

    for (std::size_t k = 0; k < plot.series.size(); ++k) {
        const auto& se = plot.series[k];
        const std::string color = se.color.empty() ? std::string(palette(k)) : se.color;
        s += "<g class=\"series\" data-name=\"" + xml_escape(se.name) + "\">\n";
        if (!se.band_lo.empty()) {
            // One polygon per run of finite band values.
            std::size_t i = 0;
            while (i < se.x.size()) {
                auto ok = [&](std::size_t j) {
                    return std::isfinite(se.x[j]) && std::isfinite(se.band_lo[j]) && std::isfinite(se.band_hi[j]);
                };
                while (i < se.x.size() && !ok(i)) ++i;
                std::size_t j = i;
                while (j < se.x.size() && ok(j)) ++j;
                if (j > i) {
                    s += "<polygon fill=\"" + color + "\" fill-opacity=\"0.18\" stroke=\"none\" points=\"";
                    for (std::size_t q = i; q < j; ++q) s += coord(f.px(se.x[q])) + "," + coord(f.py(se.band_hi[q])) + " ";
                    for (std::size_t q = j; q-- > i;) s += coord(f.px(se.x[q])) + "," + coord(f.py(se.band_lo[q])) + " ";
                    s += "\"/>\n";
                }
                i = j;
            }
        }
        std::string d;
        bool pen = false;
        for (std::size_t i = 0; i < se.x.size(); ++i) {
            if (!std::isfinite(se.x[i]) || !std::isfinite(se.y[i])) {
                pen = false;
                continue;
            }
            d += pen ? 'L' : 'M';
            d += coord(f.px(se.x[i]));
            d += ',';
            d += coord(f.py(se.y[i]));
            d += ' ';
            pen = true;
        }
        if (!d.empty())
            s += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"2\"/>\n";
        if (se.points)
            for (std::size_t i = 0; i < se.x.size(); ++i)
                if (std::isfinite(se.x[i]) && std::isfinite(se.y[i]))
                    s += "<circle cx=\"" + coord(f.px(se.x[i])) + "\" cy=\"" + coord(f.py(se.y[i])) + "\" r=\"2.5\" fill=\"" +
                         color + "\"/>\n";
        s += "</g>\n";
    }
    markers(s, f, plot.markers, false);

    // Legend.
    s += "<g class=\"legend\">\n";
    for (std::size_t k = 0; k < plot.series.size(); ++k) {
        const auto& se = plot.series[k];
        const std::string color = se.color.empty() ? std::string(palette(k)) : se.color;
        const double x = f.width - f.right + 12, y = f.top + 10 + 18.0 * static_cast<double>(k);
        line(s, x, y, x + 20, y, color, "stroke-width=\"2\"");
        text(s, x + 25, y + 4, se.name, "start");
    }
    s += "</g>\n</svg>\n";
    return s;
}

inline std::string render(const BarChart& chart) {
    using namespace detail;
    if (chart.categories.size() != chart.values.size())
        throw invalid_argument("svg::render: bar chart '" + chart.title + "': " +
                               std::to_string(chart.categories.size()) + " categories but " +
                               std::to_string(chart.values.size()) + " values; expected equal lengths");
    double ymin = 0.0, ymax = 0.0;
    for (double v : chart.values)
        if (std::isfinite(v)) ymin = std::min(ymin, v), ymax = std::max(ymax, v);
    const Ticks yt = nice_ticks(ymin, ymax, 5);
    const std::size_t k = chart.values.size();

    Frame f;
    f.width = chart.width;
    f.height = chart.height;
    f.x0 = 0.0, f.x1 = std::max<double>(1.0, static_cast<double>(k));
    f.y0 = yt.lo, f.y1 = yt.hi;

    std::string s;
    open_doc(s, chart.width, chart.height);
    titles(s, f, chart.title, chart.x_label, chart.y_label);
    y_axis(s, f, yt);
    const double slot = f.px(1.0) - f.px(0.0);
    const std::size_t every =
        chart.max_category_labels > 0 && k > static_cast<std::size_t>(chart.max_category_labels)
            ? (k + static_cast<std::size_t>(chart.max_category_labels) - 1) / static_cast<std::size_t>(chart.max_category_labels)
            : 1;
    s += "<g class=\"bars\">\n";
    for (std::size_t i = 0; i < k; ++i) {
        const double v = std::isfinite(chart.values[i]) ? chart.values[i] : 0.0;
        const double x = f.px(static_cast<double>(i)) + slot * 0.1;
        const double ya = f.py(std::max(v, 0.0)), yb = f.py(std::min(v, 0.0));
        s += "<rect x=\"" + coord(x) + "\" y=\"" + coord(ya) + "\" width=\"" + coord(slot * 0.8) + "\" height=\"" +
             coord(yb - ya) + "\" fill=\"" + xml_escape(chart.color) + "\"><title>" +
             xml_escape(chart.categories[i]) + ": " + num(chart.values[i]) + "</title></rect>\n";
        if (i % every == 0)
            text(s, x + slot * 0.4, f.height - f.bottom + 17, chart.categories[i], "middle");
    }
    s += "</g>\n";
    line(s, f.left, f.py(0), f.width - f.right, f.py(0), "#000000");
    markers(s, f, chart.markers, true);
    s += "</svg>\n";
    return s;
}

inline BarChart histogram(std::span<const double> values, int bins, double lo, double hi) {
    if (bins < 1 || !(lo < hi))
        throw invalid_argument("svg::histogram: bins = " + std::to_string(bins) + ", range [" + detail::num(lo) +
                               ", " + detail::num(hi) + "]; expected bins >= 1 and lo < hi");
    BarChart c;
    c.values.assign(static_cast<std::size_t>(bins), 0.0);
    const double w = (hi - lo) / bins;
    for (int b = 0; b < bins; ++b) c.categories.push_back(detail::num(lo + (b + 0.5) * w));
    for (double v : values) {
        if (!std::isfinite(v)) continue;
        int b = static_cast<int>(std::floor((v - lo) / w));
        b = std::clamp(b, 0, bins - 1);
        c.values[static_cast<std::size_t>(b)] += 1.0;
    }
    return c;
}

}  // namespace w2s::io::svg
