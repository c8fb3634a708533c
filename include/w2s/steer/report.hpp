// w2s/steer/report.hpp — the fixed-layer sweep's report: JSON, CSV and an SVG plot of steerability vs layer.
//
// report_json(r, meta): {
//   "format": "w2s.steerability", "version": 1, <meta fields>,
//   "n_items", "layers": [L], "multipliers": [M],
//   "per_layer": [{"layer", "mean_steerability", "fraction_steerable"}],           // [L]
//   "best_layer", "best_mean_steerability", "best_fraction_steerable",
//   "items": [{"source", "line", "steerability": [L], "propensity": [[M] x L]}]     // [items]
// }
// report_csv(r): one row per layer: layer,mean_steerability,fraction_steerable
// items_csv(r, items): one row per (item, layer): item,line,layer,steerability,m(λ_1),...,m(λ_M)
// plot_svg(r, title): mean steerability (with the fraction steerable on a second series) against layer,
// a marker at the best layer.
#pragma once

#include <cstddef>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "w2s/io/svg.hpp"
#include "w2s/steer/dataset.hpp"
#include "w2s/steer/measure.hpp"

namespace w2s::steer {

/// Free-form identification written at the top of the JSON report (model, vectors, data, variant, split).
using ReportMeta = nlohmann::ordered_json;

/// `items` (may be empty) names each measured item: items[i] is the source of row i of r.
inline nlohmann::ordered_json report_json(const SteerabilityResult& r, const ReportMeta& meta, std::span<const Item> items = {}) {
    nlohmann::ordered_json j;
    j["format"] = "w2s.steerability";
    j["version"] = 1;
    for (const auto& [k, v] : meta.items()) j[k] = v;
    const std::size_t n = r.steerability.shape(0), L = r.layers.size(), M = r.multipliers.size();
    j["n_items"] = n;
    j["layers"] = r.layers;
    j["multipliers"] = r.multipliers;
    auto& pl = j["per_layer"] = nlohmann::ordered_json::array();
    std::size_t best_i = 0;
    for (std::size_t l = 0; l < L; ++l) {
        pl.push_back({{"layer", r.layers[l]}, {"mean_steerability", r.per_layer[l].mean},
                      {"fraction_steerable", r.per_layer[l].fraction_steerable}});
        if (r.layers[l] == r.best_layer) best_i = l;
    }
    j["best_layer"] = r.best_layer;
    j["best_mean_steerability"] = L ? r.per_layer[best_i].mean : 0.0;
    j["best_fraction_steerable"] = L ? r.per_layer[best_i].fraction_steerable : 0.0;
    if (r.letter.present())
        j["letter_diagnostic"] = {{"correlation", r.letter.correlation}, {"letter_part", r.letter.letter_part},
                                  {"behaviour_part", r.letter.behaviour_part}, {"letter_dominates", r.letter.dominated},
                                  {"warning", r.letter.warning}};
    auto& it = j["items"] = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < n; ++i) {
        nlohmann::ordered_json e;
        if (i < items.size()) {
            e["source"] = items[i].source;
            e["line"] = items[i].line;
        }
        std::vector<double> s(L);
        std::vector<std::vector<double>> m(L, std::vector<double>(M));
        for (std::size_t l = 0; l < L; ++l) {
            s[l] = r.steerability(i, l);
            for (std::size_t k = 0; k < M; ++k) m[l][k] = r.propensity(i, l, k);
        }
        e["steerability"] = s;
        e["propensity"] = m;
        it.push_back(std::move(e));
    }
    return j;
}

namespace detail {
inline std::string fmt_g(double v) {
    char b[40];
    std::snprintf(b, sizeof b, "%.9g", v);
    return b;
}
}  // namespace detail

inline std::string report_csv(const SteerabilityResult& r) {
    std::string s = "layer,mean_steerability,fraction_steerable\n";
    for (std::size_t l = 0; l < r.layers.size(); ++l)
        s += std::to_string(r.layers[l]) + "," + detail::fmt_g(r.per_layer[l].mean) + "," +
             detail::fmt_g(r.per_layer[l].fraction_steerable) + "\n";
    return s;
}

inline std::string items_csv(const SteerabilityResult& r, std::span<const Item> items = {}) {
    std::string s = "item,line,layer,steerability";
    for (double m : r.multipliers) s += ",m(" + detail::fmt_g(m) + ")";
    s += "\n";
    for (std::size_t i = 0; i < r.steerability.shape(0); ++i)
        for (std::size_t l = 0; l < r.layers.size(); ++l) {
            s += std::to_string(i) + "," + (i < items.size() ? std::to_string(items[i].line) : std::string()) + "," +
                 std::to_string(r.layers[l]) + "," + detail::fmt_g(r.steerability(i, l));
            for (std::size_t k = 0; k < r.multipliers.size(); ++k) s += "," + detail::fmt_g(r.propensity(i, l, k));
            s += "\n";
        }
    return s;
}

inline std::string plot_svg(const SteerabilityResult& r, const std::string& title) {
    io::svg::LinePlot p;
    p.title = title;
    p.x_label = "layer (output of block l)";
    p.y_label = "steerability";
    io::svg::Series mean{"mean steerability", {}, {}, {}, {}, "", true};
    io::svg::Series frac{"fraction steerable", {}, {}, {}, {}, "", true};
    for (std::size_t l = 0; l < r.layers.size(); ++l) {
        mean.x.push_back(r.layers[l]);
        mean.y.push_back(r.per_layer[l].mean);
        frac.x.push_back(r.layers[l]);
        frac.y.push_back(r.per_layer[l].fraction_steerable);
    }
    p.series = {std::move(mean), std::move(frac)};
    if (r.best_layer >= 0) p.markers.push_back({static_cast<double>(r.best_layer), "best layer " + std::to_string(r.best_layer), "#444444"});
    return io::svg::render(p);
}

}  // namespace w2s::steer
