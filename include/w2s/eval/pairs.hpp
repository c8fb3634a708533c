// w2s/eval/pairs.hpp — free-text prompts with several reply pairs: from a per-pair sweep to the prompt level.
//
// A per-pair sweep has one record per (prompt, reply pair) cell (steer::expand_pairs, then tokenize_items: record
// `item` = the cell's index in the expanded list). W2S routes a prompt, so the quantity it learns and is scored on
// is the prompt's steerability: the mean over its pairs (issue "Whose layer is it").
//   prompt_level(d, group)   one record per prompt g (item = g, dense 0..G-1 in order of first appearance):
//                            propensity, slope and slope_orders averaged over the prompt's cells, the embeddings
//                            of its first cell (they are the prompt's own: the sweep reads them on the prompt alone)
//   reply_diagnostic_of(d, group, templates)
//                            steer::reply_diagnostic on the cells' slopes [cells x swept layers], labelled by
//                            prompt and by reply template (steer::reply_template_ids)
// group[i] and templates[i] belong to cell i of the expanded list (the record whose `item` is i).
#pragma once

#include <algorithm>
#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "w2s/core/error.hpp"
#include "w2s/io/sweep_file.hpp"
#include "w2s/route/profiles.hpp"
#include "w2s/steer/reply.hpp"

namespace w2s::eval {

namespace detail {
inline void check_cells(const io::SweepData& d, std::size_t labels, const char* what) {
    for (const auto& r : d.items)
        if (r.item >= labels)
            throw shape_error(std::string(what) + ": sweep record of cell " + std::to_string(r.item) + " but only " +
                              std::to_string(labels) + " cell labels");
}
inline void add_into(std::vector<double>& acc, const std::vector<double>& v, const std::string& field, std::size_t cell) {
    if (acc.size() != v.size())
        throw shape_error("prompt_level: cell " + std::to_string(cell) + " has " + std::to_string(v.size()) + " values of " + field +
                          ", the prompt's first cell " + std::to_string(acc.size()));
    for (std::size_t k = 0; k < v.size(); ++k) acc[k] += v[k];
}
/// Record positions in cell order (records may be stored out of order); no copy of the records.
inline std::vector<std::size_t> by_cell(const io::SweepData& d) {
    std::vector<std::size_t> order(d.items.size());
    for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return d.items[a].item < d.items[b].item; });
    return order;
}
}  // namespace detail

/// The prompt-level sweep of a per-pair sweep (see the file comment). Throws shape_error on a cell without a label.
[[nodiscard]] inline io::SweepData prompt_level(const io::SweepData& d, std::span<const std::size_t> group) {
    detail::check_cells(d, group.size(), "prompt_level");
    io::SweepData s;
    s.header = d.header;
    std::map<std::size_t, std::size_t> dense;  // group -> output index
    std::vector<io::ItemRecord> out;
    std::vector<std::size_t> count;
    for (std::size_t k : detail::by_cell(d)) {
        const auto& r = d.items[k];
        const auto [it, fresh] = dense.try_emplace(group[r.item], out.size());
        if (fresh) {
            io::ItemRecord g = r;
            g.item = it->second;
            out.push_back(std::move(g));
            count.push_back(1);
            continue;
        }
        auto& g = out[it->second];
        detail::add_into(g.propensity, r.propensity, "propensity", r.item);
        detail::add_into(g.slope, r.slope, "slope", r.item);
        detail::add_into(g.slope_orders, r.slope_orders, "slope_orders", r.item);
        ++count[it->second];
    }
    for (std::size_t g = 0; g < out.size(); ++g) {
        const double c = static_cast<double>(count[g]);
        for (auto* v : {&out[g].propensity, &out[g].slope, &out[g].slope_orders})
            for (double& x : *v) x /= c;
    }
    s.items = std::move(out);
    return s;
}

/// The reply diagnostic of a per-pair sweep (see the file comment).
[[nodiscard]] inline steer::ReplyDiagnostic reply_diagnostic_of(const io::SweepData& d, std::span<const std::size_t> group,
                                                               std::span<const int> templates,
                                                               const steer::ReplyDiagnosticOptions& o = {}) {
    detail::check_cells(d, group.size(), "reply_diagnostic_of");
    if (templates.size() != group.size())
        throw shape_error("reply_diagnostic_of: " + std::to_string(templates.size()) + " template labels for " +
                          std::to_string(group.size()) + " cells");
    const auto S_stored = route::profiles(d);  // rows in stored order
    const auto order = detail::by_cell(d);
    Eigen::MatrixXd S(S_stored.rows(), S_stored.cols());
    std::vector<int> p, t;
    for (std::size_t i = 0; i < order.size(); ++i) {
        const auto& r = d.items[order[i]];
        S.row(static_cast<Eigen::Index>(i)) = S_stored.row(static_cast<Eigen::Index>(order[i]));
        p.push_back(static_cast<int>(group[r.item]));
        t.push_back(templates[r.item]);
    }
    return steer::reply_diagnostic(S, p, t, o);
}

}  // namespace w2s::eval
