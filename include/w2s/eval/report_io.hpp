// w2s/eval/report_io.hpp — writers for eval::Report: JSON (read back too), Markdown, SVG figures, and
// write_report() that puts all of them in one folder.
//
// JSON layout (format "w2s-eval-report", version 1; NaN is written as null and read back as NaN):
//   { "format", "version", "title", "meta": {...},
//     "behaviours": [ { "behaviour", "pairs": [ { "name", "train_variant", "test_variant", "n_train", "n_test",
//         "layers", "fixed_layer",
//         "methods": [ { "method", "mean_steerability", "fraction_steerable", "n", "gap_closed", "note" } ],
//         "best_layers": { "fixed_layer", "histogram" [L], "mean_abs_distance", "share_at_fixed" },
//         "spread": { "mean", "stddev", "q25", "median", "q75", "fraction_steerable" }   (each [L]) } ] } ],
//     "averages": [ { "pair", "method", "mean_steerability", "fraction_steerable", "gap_closed", "behaviours" } ] }
// "averages" is derived (averages()) and ignored by report_from_json.
//
// Markdown: a title, the meta as a list, then "Averaged over behaviours" (one table per pair), then one section
// per behaviour with one table per pair (methods as rows: mean steerability, fraction steerable, gap closed,
// note), the best-layer distribution in one sentence, and links to the two figures of the pair.
// Figures: steerability_plot() (mean, and median with the interquartile band, against layer; the fixed layer
// marked) and best_layer_chart() (histogram of per-item best layers; the fixed layer marked).
#pragma once

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "w2s/core/durable.hpp"
#include "w2s/core/error.hpp"
#include "w2s/eval/report.hpp"
#include "w2s/io/svg.hpp"

namespace w2s::eval {

inline constexpr int kReportFormatVersion = 1;

[[nodiscard]] nlohmann::json to_json(const Report& r);
/// Reads what to_json wrote. Throws format_error (with the field path) on a wrong format/version or field.
[[nodiscard]] Report report_from_json(const nlohmann::json& j);

struct MarkdownOptions {
    std::string figure_dir = "figures";  // relative folder of the SVGs in links; empty: no figure links
    int digits = 3;                      // decimals of mean steerability
};
[[nodiscard]] std::string to_markdown(const Report& r, const MarkdownOptions& opt = {});

/// File-name stem for a behaviour's pair: "<behaviour>_<train>-to-<test>", characters outside [A-Za-z0-9._-] -> '_'.
[[nodiscard]] std::string figure_stem(const std::string& behaviour, const PairResult& p);
[[nodiscard]] io::svg::LinePlot steerability_plot(const PairResult& p, const std::string& title);
[[nodiscard]] io::svg::BarChart best_layer_chart(const PairResult& p, const std::string& title);

/// Writes dir/report.json, dir/report.md and dir/<figure_dir>/<stem>_{steerability,best_layers}.svg
/// (creating folders). Returns the paths written. Throws io_error on failure.
std::vector<std::filesystem::path> write_report(const Report& r, const std::filesystem::path& dir,
                                                const MarkdownOptions& opt = {});

// ================================================================================================
// details
// ================================================================================================
namespace detail {

inline nlohmann::json num_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
inline nlohmann::json vec_json(const std::vector<double>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (double x : v) a.push_back(num_or_null(x));
    return a;
}

/// Field access with a path in the error message.
struct JsonIn {
    const nlohmann::json& j;
    std::string path;
    const nlohmann::json& at(const std::string& k) const {
        if (!j.is_object() || !j.contains(k)) throw format_error("report JSON: missing field " + path + "." + k);
        return j.at(k);
    }
    JsonIn sub(const std::string& k) const { return {at(k), path + "." + k}; }
    template <class T>
    T get(const std::string& k) const {
        try {
            return at(k).get<T>();
        } catch (const nlohmann::json::exception& e) {
            throw format_error("report JSON: field " + path + "." + k + ": " + e.what());
        }
    }
    double num(const std::string& k) const {
        const auto& v = at(k);
        if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
        if (!v.is_number()) throw format_error("report JSON: field " + path + "." + k + " is not a number");
        return v.get<double>();
    }
    std::vector<double> nums(const std::string& k) const {
        const auto& v = at(k);
        if (!v.is_array()) throw format_error("report JSON: field " + path + "." + k + " is not an array");
        std::vector<double> out;
        for (const auto& x : v) {
            if (x.is_null()) out.push_back(std::numeric_limits<double>::quiet_NaN());
            else if (x.is_number()) out.push_back(x.get<double>());
            else throw format_error("report JSON: field " + path + "." + k + " holds a non-number");
        }
        return out;
    }
};

inline std::string fmt(double v, int digits) {
    if (!std::isfinite(v)) return "–";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}
inline std::string pct(double v) { return std::isfinite(v) ? fmt(100.0 * v, 1) + "%" : "–"; }
/// Escapes the characters that break a Markdown table cell.
inline std::string cell(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '|') o += "\\|";
        else if (c == '\n') o += ' ';
        else o += c;
    }
    return o;
}

/// Written whole or not at all (w2s/core/durable.hpp): a killed run never leaves a truncated report.
inline void write_file(const std::filesystem::path& p, const std::string& text) {
    with_context("write_report", [&] { durable::write_file(p.string(), text); });
}

}  // namespace detail

inline nlohmann::json to_json(const Report& r) {
    using nlohmann::json;
    json j;
    j["format"] = "w2s-eval-report";
    j["version"] = kReportFormatVersion;
    j["title"] = r.title;
    j["meta"] = r.meta;
    j["behaviours"] = json::array();
    for (const auto& b : r.behaviours) {
        json jb;
        jb["behaviour"] = b.behaviour;
        jb["pairs"] = json::array();
        for (const auto& p : b.pairs) {
            json jp;
            jp["name"] = p.name();
            jp["train_variant"] = p.train_variant;
            jp["test_variant"] = p.test_variant;
            jp["n_train"] = p.n_train;
            jp["n_test"] = p.n_test;
            jp["layers"] = p.layers;
            jp["fixed_layer"] = p.fixed_layer;
            jp["layer_ids"] = p.layer_ids;
            jp["methods"] = json::array();
            for (const auto& m : p.methods)
                jp["methods"].push_back({{"method", m.method},
                                         {"mean_steerability", detail::num_or_null(m.score.mean_steerability)},
                                         {"fraction_steerable", detail::num_or_null(m.score.fraction_steerable)},
                                         {"n", m.score.n},
                                         {"gap_closed", detail::num_or_null(m.gap_closed)},
                                         {"note", m.note}});
            jp["best_layers"] = {{"fixed_layer", p.best_layers.fixed_layer},
                                 {"histogram", p.best_layers.histogram},
                                 {"mean_abs_distance", detail::num_or_null(p.best_layers.mean_abs_distance)},
                                 {"share_at_fixed", detail::num_or_null(p.best_layers.share_at_fixed)}};
            jp["spread"] = {{"mean", detail::vec_json(p.spread.mean)},
                            {"stddev", detail::vec_json(p.spread.stddev)},
                            {"q25", detail::vec_json(p.spread.q25)},
                            {"median", detail::vec_json(p.spread.median)},
                            {"q75", detail::vec_json(p.spread.q75)},
                            {"fraction_steerable", detail::vec_json(p.spread.fraction_steerable)}};
            if (p.letter.present())
                jp["letter_diagnostic"] = {{"correlation", detail::vec_json(p.letter.correlation)},
                                           {"letter_part", detail::vec_json(p.letter.letter_part)},
                                           {"behaviour_part", detail::vec_json(p.letter.behaviour_part)},
                                           {"mean_correlation", detail::num_or_null(p.letter.mean_correlation)},
                                           {"mean_letter_part", p.letter.mean_letter_part},
                                           {"mean_behaviour_part", p.letter.mean_behaviour_part},
                                           {"letter_dominates", p.letter.dominated},
                                           {"warning", p.letter.warning}};
            if (p.reply.present()) {
                const auto& d = p.reply;
                auto n = [](double v) { return detail::num_or_null(v); };
                jp["reply_diagnostic"] = {{"cells", d.cells}, {"prompts", d.prompts}, {"templates", d.templates},
                                          {"share_prompt", n(d.share_prompt)}, {"share_replies", n(d.share_replies)},
                                          {"chance_prompt", n(d.chance_prompt)}, {"chance_prompt_q95", n(d.chance_prompt_q95)},
                                          {"chance_replies", n(d.chance_replies)}, {"chance_replies_q95", n(d.chance_replies_q95)},
                                          {"fixed_column", d.fixed_column}, {"fixed", n(d.fixed)}, {"oracle", n(d.oracle)},
                                          {"from_prompt", n(d.from_prompt)}, {"from_replies", n(d.from_replies)},
                                          {"from_prompt_cells", d.from_prompt_cells}, {"from_replies_cells", d.from_replies_cells},
                                          {"reply_driven", d.reply_driven}, {"prompt_driven", d.prompt_driven},
                                          {"warning", d.warning}};
            }
            jb["pairs"].push_back(std::move(jp));
        }
        j["behaviours"].push_back(std::move(jb));
    }
    j["averages"] = json::array();
    for (const auto& a : averages(r))
        j["averages"].push_back({{"pair", a.pair},
                                 {"method", a.method},
                                 {"mean_steerability", detail::num_or_null(a.mean_steerability)},
                                 {"fraction_steerable", detail::num_or_null(a.fraction_steerable)},
                                 {"gap_closed", detail::num_or_null(a.gap_closed)},
                                 {"behaviours", a.behaviours}});
    return j;
}

inline Report report_from_json(const nlohmann::json& j) {
    const detail::JsonIn root{j, "$"};
    if (root.get<std::string>("format") != "w2s-eval-report")
        throw format_error("report JSON: format '" + root.get<std::string>("format") + "'; expected 'w2s-eval-report'");
    if (const int v = root.get<int>("version"); v != kReportFormatVersion)
        throw format_error("report JSON: version " + std::to_string(v) + " found; expected " +
                           std::to_string(kReportFormatVersion));
    Report r;
    r.title = root.get<std::string>("title");
    r.meta = root.at("meta");
    const auto& bs = root.at("behaviours");
    for (std::size_t bi = 0; bi < bs.size(); ++bi) {
        const detail::JsonIn jb{bs[bi], "$.behaviours[" + std::to_string(bi) + "]"};
        BehaviourReport b;
        b.behaviour = jb.get<std::string>("behaviour");
        const auto& ps = jb.at("pairs");
        for (std::size_t pi = 0; pi < ps.size(); ++pi) {
            const detail::JsonIn jp{ps[pi], jb.path + ".pairs[" + std::to_string(pi) + "]"};
            PairResult p;
            p.train_variant = jp.get<std::string>("train_variant");
            p.test_variant = jp.get<std::string>("test_variant");
            p.n_train = jp.get<std::size_t>("n_train");
            p.n_test = jp.get<std::size_t>("n_test");
            p.layers = jp.get<int>("layers");
            p.fixed_layer = jp.get<int>("fixed_layer");
            if (jp.j.contains("layer_ids")) p.layer_ids = jp.j.at("layer_ids").get<std::vector<int>>();
            const auto& ms = jp.at("methods");
            for (std::size_t mi = 0; mi < ms.size(); ++mi) {
                const detail::JsonIn jm{ms[mi], jp.path + ".methods[" + std::to_string(mi) + "]"};
                MethodResult m;
                m.method = jm.get<std::string>("method");
                m.score.mean_steerability = jm.num("mean_steerability");
                m.score.fraction_steerable = jm.num("fraction_steerable");
                m.score.n = jm.get<std::size_t>("n");
                m.gap_closed = jm.num("gap_closed");
                m.note = jm.get<std::string>("note");
                p.methods.push_back(std::move(m));
            }
            const auto bl = jp.sub("best_layers");
            p.best_layers.fixed_layer = bl.get<int>("fixed_layer");
            p.best_layers.histogram = bl.get<std::vector<std::size_t>>("histogram");
            p.best_layers.mean_abs_distance = bl.num("mean_abs_distance");
            p.best_layers.share_at_fixed = bl.num("share_at_fixed");
            const auto sp = jp.sub("spread");
            p.spread.mean = sp.nums("mean");
            p.spread.stddev = sp.nums("stddev");
            p.spread.q25 = sp.nums("q25");
            p.spread.median = sp.nums("median");
            p.spread.q75 = sp.nums("q75");
            p.spread.fraction_steerable = sp.nums("fraction_steerable");
            if (jp.j.contains("letter_diagnostic")) {
                const auto ld = jp.sub("letter_diagnostic");
                p.letter.correlation = ld.nums("correlation");
                p.letter.letter_part = ld.nums("letter_part");
                p.letter.behaviour_part = ld.nums("behaviour_part");
                p.letter.mean_correlation = ld.num("mean_correlation");
                p.letter.mean_letter_part = ld.num("mean_letter_part");
                p.letter.mean_behaviour_part = ld.num("mean_behaviour_part");
                p.letter.dominated = ld.get<bool>("letter_dominates");
                p.letter.warning = ld.get<std::string>("warning");
            }
            if (jp.j.contains("reply_diagnostic")) {
                const auto rd = jp.sub("reply_diagnostic");
                auto& d = p.reply;
                d.cells = rd.get<std::size_t>("cells");
                d.prompts = rd.get<std::size_t>("prompts");
                d.templates = rd.get<std::size_t>("templates");
                d.share_prompt = rd.num("share_prompt");
                d.share_replies = rd.num("share_replies");
                d.chance_prompt = rd.num("chance_prompt");
                d.chance_prompt_q95 = rd.num("chance_prompt_q95");
                d.chance_replies = rd.num("chance_replies");
                d.chance_replies_q95 = rd.num("chance_replies_q95");
                d.fixed_column = rd.get<int>("fixed_column");
                d.fixed = rd.num("fixed");
                d.oracle = rd.num("oracle");
                d.from_prompt = rd.num("from_prompt");
                d.from_replies = rd.num("from_replies");
                d.from_prompt_cells = rd.get<std::size_t>("from_prompt_cells");
                d.from_replies_cells = rd.get<std::size_t>("from_replies_cells");
                d.reply_driven = rd.get<bool>("reply_driven");
                d.prompt_driven = rd.get<bool>("prompt_driven");
                d.warning = rd.get<std::string>("warning");
            }
            b.pairs.push_back(std::move(p));
        }
        r.behaviours.push_back(std::move(b));
    }
    return r;
}

inline std::string figure_stem(const std::string& behaviour, const PairResult& p) {
    std::string s = behaviour + "_" + p.train_variant + "-to-" + p.test_variant;
    for (char& c : s) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                        c == '_' || c == '-';
        if (!ok) c = '_';
    }
    return s;
}

inline io::svg::LinePlot steerability_plot(const PairResult& p, const std::string& title) {
    io::svg::LinePlot plot;
    plot.title = title;
    plot.x_label = "layer";
    plot.y_label = "steerability s(x, l)";
    std::vector<double> x(p.spread.mean.size());
    for (std::size_t l = 0; l < x.size(); ++l) x[l] = static_cast<double>(p.block(static_cast<int>(l)));
    io::svg::Series med;
    med.name = "median, IQR band";
    med.x = x;
    med.y = p.spread.median;
    med.band_lo = p.spread.q25;
    med.band_hi = p.spread.q75;
    io::svg::Series mean;
    mean.name = "mean";
    mean.x = x;
    mean.y = p.spread.mean;
    mean.points = false;
    plot.series = {med, mean};
    if (p.fixed_layer >= 0)
        plot.markers.push_back({static_cast<double>(p.block(p.fixed_layer)), "fixed layer " + std::to_string(p.block(p.fixed_layer)),
                                "#c44e52"});
    return plot;
}

inline io::svg::BarChart best_layer_chart(const PairResult& p, const std::string& title) {
    io::svg::BarChart c;
    c.title = title;
    c.x_label = "best layer (per item)";
    c.y_label = "items";
    for (std::size_t l = 0; l < p.best_layers.histogram.size(); ++l) {
        c.categories.push_back(std::to_string(p.block(static_cast<int>(l))));
        c.values.push_back(static_cast<double>(p.best_layers.histogram[l]));
    }
    if (p.fixed_layer >= 0)
        c.markers.push_back({static_cast<double>(p.fixed_layer), "fixed layer " + std::to_string(p.block(p.fixed_layer)),
                             "#c44e52"});
    return c;
}

inline std::string to_markdown(const Report& r, const MarkdownOptions& opt) {
    using detail::cell;
    using detail::fmt;
    using detail::pct;
    std::string s = "# " + r.title + "\n\n";
    if (r.meta.is_object() && !r.meta.empty()) {
        for (const auto& [k, v] : r.meta.items())
            s += "- **" + k + "**: " + (v.is_string() ? v.get<std::string>() : v.dump()) + "\n";
        s += "\n";
    }
    for (const auto& b : r.behaviours)
        for (const auto& p : b.pairs)
            if (p.reply.present() && p.reply.reply_driven)
                s += "> **Reply-driven (" + cell(b.behaviour) + ", " + p.name() + "):** " + cell(p.reply.warning) + "\n\n";
    s += "Mean steerability is the mean over test items of s(x, l) at the layer each method picks; fraction "
         "steerable is the share of items with s > 0; gap closed = (method - fixed) / (oracle - fixed).\n\n";
    s += "## Averaged over behaviours\n\n";
    const auto avg = averages(r);
    for (const std::string& pn : pair_names(r)) {
        s += "### " + pn + "\n\n";
        s += "| method | mean steerability | fraction steerable | gap closed | behaviours |\n";
        s += "| --- | ---: | ---: | ---: | ---: |\n";
        for (const auto& a : avg)
            if (a.pair == pn)
                s += "| " + cell(a.method) + " | " + fmt(a.mean_steerability, opt.digits) + " | " +
                     pct(a.fraction_steerable) + " | " + fmt(a.gap_closed, 2) + " | " + std::to_string(a.behaviours) +
                     " |\n";
        s += "\n";
    }
    bool any_letter = false;
    for (const auto& b : r.behaviours)
        for (const auto& p : b.pairs) any_letter = any_letter || p.letter.present();
    if (any_letter) {
        s += "## Letter diagnostic\n\nPer behaviour and pair, over the test items measured in both answer orders: the "
             "correlation between the two orders' slopes, the part of the single-order slope that flips with the answer "
             "letter, mean |s_given - s_mirror| / 2, and the part both orders share, mean |s_given + s_mirror| / 2 (means over "
             "the swept layers).\n\n";
        s += "| behaviour | pair | correlation | letter part | behaviour part | letter dominates |\n";
        s += "| --- | --- | ---: | ---: | ---: | --- |\n";
        for (const auto& b : r.behaviours)
            for (const auto& p : b.pairs)
                if (p.letter.present())
                    s += "| " + cell(b.behaviour) + " | " + p.name() + " | " + fmt(p.letter.mean_correlation, 2) + " | " +
                         fmt(p.letter.mean_letter_part, 3) + " | " + fmt(p.letter.mean_behaviour_part, 3) + " | " +
                         (p.letter.dominated ? "**yes**" : "no") + " |\n";
        s += "\n";
    }
    for (const auto& b : r.behaviours) {
        s += "## " + b.behaviour + "\n\n";
        for (const auto& p : b.pairs) {
            s += "### " + p.name() + "\n\n";
            s += "n_train = " + std::to_string(p.n_train) + ", n_test = " + std::to_string(p.n_test) + ", layers = " +
                 std::to_string(p.layers) + ", fixed layer = " + std::to_string(p.block(p.fixed_layer)) + "\n\n";
            s += "| method | mean steerability | fraction steerable | gap closed | note |\n";
            s += "| --- | ---: | ---: | ---: | --- |\n";
            for (const auto& m : p.methods)
                s += "| " + cell(m.method) + " | " + fmt(m.score.mean_steerability, opt.digits) + " | " +
                     pct(m.score.fraction_steerable) + " | " + fmt(m.gap_closed, 2) + " | " + cell(m.note) + " |\n";
            s += "\nBest layer per test item: equal to the fixed layer for " + pct(p.best_layers.share_at_fixed) +
                 " of items; mean |best - fixed| = " + fmt(p.best_layers.mean_abs_distance, 2) + " layers.\n\n";
            if (p.letter.present()) {
                s += "Letter diagnostic (both answer orders): correlation between the orders' slopes " +
                     fmt(p.letter.mean_correlation, 2) + " (mean over layers); letter part " + fmt(p.letter.mean_letter_part, 3) +
                     ", behaviour part " + fmt(p.letter.mean_behaviour_part, 3) + ".";
                if (p.letter.dominated) s += " **Warning:** " + p.letter.warning;
                s += "\n\n";
            }
            if (p.reply.present()) {
                const auto& d = p.reply;
                s += "Reply diagnostic (" + std::to_string(d.cells) + " prompt x reply-pair cells, " + std::to_string(d.prompts) +
                     " prompts, " + std::to_string(d.templates) + " reply templates): share of best-layer variance explained by "
                     "the prompt " + fmt(d.share_prompt, 2) + " (chance " + fmt(d.chance_prompt, 2) + ", q95 " +
                     fmt(d.chance_prompt_q95, 2) + "), by the reply template " + fmt(d.share_replies, 2) + " (chance " +
                     fmt(d.chance_replies, 2) + ", q95 " + fmt(d.chance_replies_q95, 2) + "). Per cell: fixed " + fmt(d.fixed, opt.digits) +
                     ", oracle " + fmt(d.oracle, opt.digits) + ", the layer of the prompt's other pairs " + fmt(d.from_prompt, opt.digits) +
                     ", of the same replies under other prompts " + fmt(d.from_replies, opt.digits) + ". " +
                     (d.reply_driven ? "**Reply-driven.**" : d.prompt_driven ? "Prompt-driven." : "Neither prompt- nor reply-driven.") +
                     "\n\n";
            }
            if (!opt.figure_dir.empty()) {
                const std::string stem = opt.figure_dir + "/" + figure_stem(b.behaviour, p);
                s += "![steerability against layer](" + stem + "_steerability.svg) ![best layers](" + stem +
                     "_best_layers.svg)\n\n";
            }
        }
    }
    return s;
}

inline std::vector<std::filesystem::path> write_report(const Report& r, const std::filesystem::path& dir,
                                                       const MarkdownOptions& opt) {
    std::vector<std::filesystem::path> out;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw io_error("write_report: cannot create " + dir.string() + ": " + ec.message());
    out.push_back(dir / "report.json");
    detail::write_file(out.back(), to_json(r).dump(2) + "\n");
    out.push_back(dir / "report.md");
    detail::write_file(out.back(), to_markdown(r, opt));
    if (opt.figure_dir.empty()) return out;
    const auto fig = dir / opt.figure_dir;
    std::filesystem::create_directories(fig, ec);
    if (ec) throw io_error("write_report: cannot create " + fig.string() + ": " + ec.message());
    for (const auto& b : r.behaviours)
        for (const auto& p : b.pairs) {
            const std::string stem = figure_stem(b.behaviour, p);
            out.push_back(fig / (stem + "_steerability.svg"));
            detail::write_file(out.back(), io::svg::render(steerability_plot(p, b.behaviour + ": " + p.name())));
            out.push_back(fig / (stem + "_best_layers.svg"));
            detail::write_file(out.back(),
                               io::svg::render(best_layer_chart(p, b.behaviour + ": best layer per item, " + p.name())));
        }
    return out;
}

}  // namespace w2s::eval
