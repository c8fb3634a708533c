// w2s/io/sweep_file.hpp — the sweep file: per item, the propensity for every (layer, multiplier), the slope
// s(x, l) for every layer, and the prompt's embeddings from the unsteered pass. Read by the router and the
// evaluation.
//
// Format (little-endian), version 2 (version 1 files, which have no "orders" and no per-order slopes, still read):
//   magic    8 bytes  "W2SSWEEP"
//   version  u32      2
//   hlen     u64      length of the JSON header
//   header   hlen bytes of JSON: {"format_version", "model", "model_sha256"(optional), "data", "variant",
//                      "vectors", "n_layers", "hidden", "layers": [swept block indices], "multipliers": [...],
//                      "embedding_layers": [block indices whose embeddings are stored], "orders": 1 or 2,
//                      "order_weights": [w per order],
//                      "scoring": "logits" | "logprob-sum" | "logprob-mean", "settings": {...}}
//   records, appended one per finished item (so an interrupted sweep resumes after the last whole record):
//     u32 record magic 0x52535732 ("2WSR"), u64 item index,
//     f64 propensity [n_swept_layers x n_multipliers] (row-major), f64 slope [n_swept_layers]  (both the sum
//         over the item's answer orders weighted by "order_weights": the mean when mirrored, order 0 as given),
//     f64 slope_orders [2 x n_swept_layers]  (only when orders == 2: order 0 as given, order 1 mirrored),
//     f32 emb_last [n_emb_layers x hidden]  (residual at the last prompt token, output of each embedding layer),
//     f32 emb_mean [n_emb_layers x hidden]  (mean residual over the prompt tokens)
//   (embeddings are those of the prompt as given, order 0: a new prompt arrives in one order)
// A trailing partial record (an interrupted write) is ignored on reading and cut on resume.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "w2s/core/error.hpp"
#include "w2s/io/json_fields.hpp"

namespace w2s::io {

inline constexpr char kSweepMagic[8] = {'W', '2', 'S', 'S', 'W', 'E', 'E', 'P'};
inline constexpr std::uint32_t kSweepVersion = 2;
inline constexpr std::uint32_t kRecordMagic = 0x52535732u;

struct SweepHeader {
    std::string model;                ///< model path (as given)
    std::string data;                 ///< dataset path (as given)
    std::string variant = "BASE";     ///< prompt variant
    std::string vectors;              ///< vector file or description
    int n_layers = 0;                 ///< blocks in the model
    int hidden = 0;                   ///< residual width
    std::vector<int> layers;          ///< swept block indices
    std::vector<double> multipliers;  ///< λ values
    std::vector<int> embedding_layers;///< block indices whose prompt embeddings are stored
    int orders = 1;                   ///< answer orders measured per item (2: A/B items, given and mirrored)
    std::vector<double> order_weights{1.0};  ///< [orders] each order's share in the item's figures
    std::string scoring = "logits";   ///< how responses were scored (steer::scoring_name)
    nlohmann::json settings = nlohmann::json::object();  ///< anything else worth recording (seed, split, ...)

    [[nodiscard]] nlohmann::json to_json() const {
        return {{"format_version", kSweepVersion}, {"model", model}, {"data", data}, {"variant", variant},
                {"vectors", vectors}, {"n_layers", n_layers}, {"hidden", hidden}, {"layers", layers},
                {"multipliers", multipliers}, {"embedding_layers", embedding_layers}, {"orders", orders}, {"order_weights", order_weights}, {"scoring", scoring},
                {"settings", settings}};
    }
    /// The header from its JSON; the integer fields are checked (io/json_fields.hpp), so a damaged one is a
    /// format_error "<where>: field 'n_layers' is 1e+300 (number), expected an integer", never a cast.
    static SweepHeader from_json(const nlohmann::json& j, const std::string& where = "sweep header") {
        SweepHeader h;
        h.model = j.at("model").get<std::string>();
        h.data = j.at("data").get<std::string>();
        h.variant = j.at("variant").get<std::string>();
        h.vectors = j.value("vectors", std::string());
        h.n_layers = json_int(j, "n_layers", where);
        h.hidden = json_int(j, "hidden", where);
        h.layers = json_ints(j, "layers", where);
        h.multipliers = j.at("multipliers").get<std::vector<double>>();
        h.embedding_layers = json_ints(j, "embedding_layers", where);
        h.orders = json_int_or(j, "orders", 1, where);
        h.scoring = j.value("scoring", std::string("logits"));
        h.order_weights = j.value("order_weights", std::vector<double>(static_cast<std::size_t>(h.orders == 2 ? 2 : 1), h.orders == 2 ? 0.5 : 1.0));
        if (h.orders != 1 && h.orders != 2) throw format_error("sweep header: orders " + std::to_string(h.orders) + ", expected 1 or 2");
        h.settings = j.value("settings", nlohmann::json::object());
        return h;
    }
    /// The sizes and lists a reader allocates and indexes by, checked before any of it is used (a damaged header must
    /// not size a record by a negative hidden wrapped to 2^64). Throws format_error naming `where` and the field.
    void check(const std::string& where) const {
        auto bad = [&](const std::string& what) { throw format_error(where + ": sweep header: " + what); };
        if (n_layers < 1 || n_layers > (1 << 20)) bad("n_layers " + std::to_string(n_layers) + ", expected 1..2^20");
        if (hidden < 1 || hidden > (1 << 24)) bad("hidden " + std::to_string(hidden) + ", expected 1..2^24");
        if (layers.empty() || layers.size() > static_cast<std::size_t>(n_layers)) bad("layers: " + std::to_string(layers.size()) + " entries, expected 1.." + std::to_string(n_layers));
        for (int l : layers)
            if (l < 0 || l >= n_layers) bad("layers holds " + std::to_string(l) + ", expected 0.." + std::to_string(n_layers - 1));
        for (int l : embedding_layers)
            if (l < 0 || l >= n_layers) bad("embedding_layers holds " + std::to_string(l) + ", expected 0.." + std::to_string(n_layers - 1));
        if (embedding_layers.size() > static_cast<std::size_t>(n_layers)) bad("embedding_layers has more entries than the model has blocks");
        if (multipliers.empty() || multipliers.size() > 1024) bad("multipliers: " + std::to_string(multipliers.size()) + " entries, expected 1..1024");
        for (double m : multipliers)
            if (!std::isfinite(m)) bad("a multiplier is not finite");
        if (order_weights.size() != static_cast<std::size_t>(orders == 2 ? 2 : 1))
            bad("order_weights has " + std::to_string(order_weights.size()) + " entries for " + std::to_string(orders) + " order(s)");
    }
    /// Two headers describe the same sweep (for resuming): everything but free-form settings must agree.
    [[nodiscard]] bool compatible(const SweepHeader& o) const {
        return model == o.model && data == o.data && variant == o.variant && n_layers == o.n_layers &&
               hidden == o.hidden && layers == o.layers && multipliers == o.multipliers &&
               embedding_layers == o.embedding_layers && orders == o.orders && scoring == o.scoring &&
               order_weights == o.order_weights;
    }
};

/// One item's results. Shapes as in the file: propensity [n_layers_swept x n_mult], slope [n_layers_swept],
/// emb_last / emb_mean [n_emb_layers x hidden].
struct ItemRecord {
    std::uint64_t item = 0;
    std::vector<double> propensity;
    std::vector<double> slope;
    std::vector<double> slope_orders;  ///< [2 x n_layers_swept] when the sweep has two orders, else empty
    std::vector<float> emb_last;
    std::vector<float> emb_mean;
};

namespace detail {
inline std::size_t record_bytes(const SweepHeader& h) {
    const std::size_t L = h.layers.size(), M = h.multipliers.size(), E = h.embedding_layers.size();
    const std::size_t O = h.orders == 2 ? 2 : 0;
    return 4 + 8 + 8 * (L * M + L + O * L) + 4 * 2 * E * static_cast<std::size_t>(h.hidden);
}
template <class T>
void put(std::ostream& os, const T& v) { os.write(reinterpret_cast<const char*>(&v), sizeof(T)); }
template <class T>
void put_vec(std::ostream& os, const std::vector<T>& v) { os.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T))); }
}  // namespace detail

/// A whole sweep in memory.
struct SweepData {
    SweepHeader header;
    std::vector<ItemRecord> items;  ///< in file order (items may finish out of order when run in parallel)

    /// Items sorted by item index.
    void sort() { std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.item < b.item; }); }
};

/// Reads a sweep from `in`, which holds `fsize` bytes from its current position (a file's content, or bytes in memory);
/// `path` names it in messages. A trailing partial record is ignored (reported through `partial_bytes` when non-null).
inline SweepData read_sweep(std::istream& in, std::uint64_t fsize, const std::string& path, std::size_t* partial_bytes = nullptr) {
    char magic[8];
    in.read(magic, 8);
    if (!in || std::memcmp(magic, kSweepMagic, 8) != 0) throw format_error(path + ": not a w2s sweep file (bad magic)");
    std::uint32_t version = 0;
    std::uint64_t hlen = 0;
    in.read(reinterpret_cast<char*>(&version), 4);
    in.read(reinterpret_cast<char*>(&hlen), 8);
    if (!in) throw format_error(path + ": truncated sweep header");
    if (version != 1 && version != kSweepVersion)
        throw format_error(path + ": sweep format version " + std::to_string(version) + ", this build reads versions 1 and " +
                           std::to_string(kSweepVersion));
    if (hlen > fsize) throw format_error(path + ": header length " + std::to_string(hlen) + " exceeds the file size");
    std::string hjson(hlen, '\0');
    in.read(hjson.data(), static_cast<std::streamsize>(hlen));
    if (!in) throw format_error(path + ": truncated sweep header");
    SweepData d;
    try {
        d.header = SweepHeader::from_json(nlohmann::json::parse(hjson), path + ": sweep header");
    } catch (const nlohmann::json::exception& e) {
        throw format_error(path + ": bad sweep header JSON: " + e.what());
    }
    const auto& h = d.header;
    h.check(path);
    const std::size_t L = h.layers.size(), M = h.multipliers.size(), E = h.embedding_layers.size(), H = static_cast<std::size_t>(h.hidden);
    const std::size_t rec = detail::record_bytes(h);
    std::uint64_t pos = 8 + 4 + 8 + hlen;
    while (pos + rec <= fsize) {
        std::uint32_t rm = 0;
        in.read(reinterpret_cast<char*>(&rm), 4);
        if (rm != kRecordMagic) throw format_error(path + ": record at offset " + std::to_string(pos) + " has a bad magic");
        ItemRecord r;
        in.read(reinterpret_cast<char*>(&r.item), 8);
        r.propensity.resize(L * M);
        r.slope.resize(L);
        r.emb_last.resize(E * H);
        r.emb_mean.resize(E * H);
        in.read(reinterpret_cast<char*>(r.propensity.data()), static_cast<std::streamsize>(8 * L * M));
        in.read(reinterpret_cast<char*>(r.slope.data()), static_cast<std::streamsize>(8 * L));
        if (h.orders == 2) {
            r.slope_orders.resize(2 * L);
            in.read(reinterpret_cast<char*>(r.slope_orders.data()), static_cast<std::streamsize>(8 * 2 * L));
        }
        in.read(reinterpret_cast<char*>(r.emb_last.data()), static_cast<std::streamsize>(4 * E * H));
        in.read(reinterpret_cast<char*>(r.emb_mean.data()), static_cast<std::streamsize>(4 * E * H));
        if (!in) throw io_error(path + ": read failed at offset " + std::to_string(pos));
        d.items.push_back(std::move(r));
        pos += rec;
    }
    if (partial_bytes) *partial_bytes = static_cast<std::size_t>(fsize - pos);
    return d;
}

/// Reads a sweep file. A trailing partial record is ignored (reported through `partial_bytes` when non-null).
inline SweepData read_sweep(const std::string& path, std::size_t* partial_bytes = nullptr) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error(path + ": cannot open sweep file");
    return read_sweep(in, std::filesystem::file_size(path), path, partial_bytes);
}

/// Appends records to a sweep file, creating it (with its header) when absent. On an existing file the headers
/// must be compatible; a trailing partial record is cut. Not thread-safe: serialise appends (the engine does).
class SweepWriter {
public:
    SweepWriter(const std::string& path, const SweepHeader& header) : path_(path), header_(header) {
        if (std::filesystem::exists(path)) {
            std::size_t partial = 0;
            SweepData existing = read_sweep(path, &partial);
            if (!existing.header.compatible(header))
                throw invalid_argument(path + ": exists with different settings (model, data, variant, layers or multipliers); "
                                       "remove it or use another output path");
            for (const auto& r : existing.items) done_.emplace(r.item, true);
            if (partial) std::filesystem::resize_file(path, std::filesystem::file_size(path) - partial);
            out_.open(path, std::ios::binary | std::ios::app);
        } else {
            out_.open(path, std::ios::binary | std::ios::trunc);
            if (!out_) throw io_error(path + ": cannot create sweep file");
            const std::string hj = header.to_json().dump();
            out_.write(kSweepMagic, 8);
            detail::put(out_, kSweepVersion);
            detail::put(out_, static_cast<std::uint64_t>(hj.size()));
            out_.write(hj.data(), static_cast<std::streamsize>(hj.size()));
            out_.flush();
        }
        if (!out_) throw io_error(path + ": cannot open sweep file for appending");
    }
    [[nodiscard]] bool done(std::uint64_t item) const { return done_.count(item) != 0; }
    [[nodiscard]] std::size_t n_done() const { return done_.size(); }

    void append(const ItemRecord& r) {
        const std::size_t L = header_.layers.size(), M = header_.multipliers.size(), E = header_.embedding_layers.size(), H = static_cast<std::size_t>(header_.hidden);
        if (r.propensity.size() != L * M || r.slope.size() != L || r.emb_last.size() != E * H || r.emb_mean.size() != E * H ||
            r.slope_orders.size() != (header_.orders == 2 ? 2 * L : 0))
            throw shape_error(path_ + ": item " + std::to_string(r.item) + ": record sizes do not match the header");
        detail::put(out_, kRecordMagic);
        detail::put(out_, r.item);
        detail::put_vec(out_, r.propensity);
        detail::put_vec(out_, r.slope);
        detail::put_vec(out_, r.slope_orders);
        detail::put_vec(out_, r.emb_last);
        detail::put_vec(out_, r.emb_mean);
        out_.flush();
        if (!out_) throw io_error(path_ + ": write failed");
        done_.emplace(r.item, true);
    }

private:
    std::string path_;
    SweepHeader header_;
    std::ofstream out_;
    std::map<std::uint64_t, bool> done_;
};

}  // namespace w2s::io
