// w2s/io/sweep_file.hpp — the sweep file: per item, the propensity for every (layer, multiplier), the slope
// s(x, l) for every layer, and the prompt's embeddings from the unsteered pass. Read by the router and the
// evaluation.
//
// Format (little-endian), version 3 (versions 1 and 2 still read; only version 3 files are resumed: version 1 has no
// "orders" and no per-order slopes, versions 1 and 2 no fingerprints and no checksums):
//   magic    8 bytes  "W2SSWEEP"
//   version  u32      3
//   hlen     u64      length of the JSON header
//   header   hlen bytes of JSON: {"format_version", "model", "data", "variant",
//                      "vectors", "n_layers", "hidden", "layers": [swept block indices], "multipliers": [...],
//                      "embedding_layers": [block indices whose embeddings are stored], "orders": 1 or 2,
//                      "order_weights": [w per order],
//                      "scoring": "logits" | "logprob-sum" | "logprob-mean",
//                      "vectors_fingerprint": 16 hex digits of the swept layers' vectors (w2s/core/fingerprint.hpp),
//                      "model_fingerprint": 16 hex digits of the model file (gguf::File::fingerprint; absent in
//                      files written before it was recorded, "" for a backend without one),
//                      "settings": {...}}
//   records, appended one per finished item (so an interrupted sweep resumes after the last whole record):
//     u32 record magic 0x52535732 ("2WSR"), u64 item index,
//     u64 inputs  the fingerprint of what the record was made from (the item's token ids in every order, their
//                 weights, scoring and read position: steer::fingerprint_of), checked on resume,
//     f64 propensity [n_swept_layers x n_multipliers] (row-major), f64 slope [n_swept_layers]  (both the sum
//         over the item's answer orders weighted by "order_weights": the mean when mirrored, order 0 as given),
//     f64 slope_orders [2 x n_swept_layers]  (only when orders == 2: order 0 as given, order 1 mirrored),
//     f32 emb_last [n_emb_layers x hidden]  (residual at the last prompt token, output of each embedding layer),
//     f32 emb_mean [n_emb_layers x hidden]  (mean residual over the prompt tokens)
//     u64 checksum  FNV-1a of the record's bytes before it (a damaged record is refused, naming its offset)
//   (embeddings are those of the prompt as given, order 0: a new prompt arrives in one order)
// A trailing partial record (an interrupted write) is ignored on reading and cut on resume; so is, on resume, a
// tail of zero bytes (what some file systems leave after a power loss) and a header cut short before any record.
// The writer flushes the file to the disk (fsync) after its header and when it is closed; a failed write is cut
// back to the last whole record and later appends are refused. A writer holds an
// exclusive flock(2) on the file while it is open: a second writer (another process, or another SweepWriter in
// this one) is refused instead of interleaving its records. The settings are informational: what decides a
// record is checked through the fingerprints (another split, subset, seed, template or data file changes the
// token ids; another estimator or train split changes the vectors).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <nlohmann/json.hpp>

#include "w2s/core/durable.hpp"
#include "w2s/core/error.hpp"
#include "w2s/core/fingerprint.hpp"
#include "w2s/io/json_fields.hpp"

namespace w2s::io {

inline constexpr char kSweepMagic[8] = {'W', '2', 'S', 'S', 'W', 'E', 'E', 'P'};
inline constexpr std::uint32_t kSweepVersion = 3;
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
    std::string vectors_fingerprint;  ///< the swept layers' vectors (run_sweep sets it; empty in version 1-2 files)
    std::string model_fingerprint;    ///< the model's contents (run_sweep sets it for a GGUF-backed model; empty when unknown)
    nlohmann::json settings = nlohmann::json::object();  ///< anything else worth recording (seed, split, ...)

    [[nodiscard]] nlohmann::json to_json() const {
        return {{"format_version", kSweepVersion}, {"model", model}, {"data", data}, {"variant", variant},
                {"vectors", vectors}, {"n_layers", n_layers}, {"hidden", hidden}, {"layers", layers},
                {"multipliers", multipliers}, {"embedding_layers", embedding_layers}, {"orders", orders}, {"order_weights", order_weights}, {"scoring", scoring},
                {"vectors_fingerprint", vectors_fingerprint}, {"model_fingerprint", model_fingerprint}, {"settings", settings}};
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
        if (h.orders != 1 && h.orders != 2) throw format_error(where + ": field 'orders' is " + std::to_string(h.orders) + ", expected 1 or 2");
        h.vectors_fingerprint = j.value("vectors_fingerprint", std::string());
        h.model_fingerprint = j.value("model_fingerprint", std::string());
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
    /// Why two headers do not describe the same sweep (for resuming), or empty when they do: everything but the
    /// free-form settings must agree, the vectors' fingerprint included. Each record's inputs are checked apart.
    [[nodiscard]] std::string mismatch(const SweepHeader& o) const {
        auto differ = [](const char* what, const auto& a, const auto& b) {
            auto text = [](const auto& v) { return nlohmann::json(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); };
            return std::string(what) + " differs (" + text(a) + " in the file, " + text(b) + " now)";
        };
        if (model != o.model) return differ("model", model, o.model);
        // A file written before the model's fingerprint was recorded (or by a backend without one) has none.
        if (!model_fingerprint.empty() && !o.model_fingerprint.empty() && model_fingerprint != o.model_fingerprint)
            return differ("the model file's contents (fingerprint)", model_fingerprint, o.model_fingerprint);
        if (data != o.data) return differ("data", data, o.data);
        if (variant != o.variant) return differ("variant", variant, o.variant);
        if (n_layers != o.n_layers || hidden != o.hidden) return differ("model shape (blocks, hidden)", std::vector<int>{n_layers, hidden}, std::vector<int>{o.n_layers, o.hidden});
        if (layers != o.layers) return differ("swept layers", layers, o.layers);
        if (multipliers != o.multipliers) return differ("multipliers", multipliers, o.multipliers);
        if (embedding_layers != o.embedding_layers) return differ("embedding layers", embedding_layers, o.embedding_layers);
        if (orders != o.orders || order_weights != o.order_weights) return differ("answer orders (weights)", order_weights, o.order_weights);
        if (scoring != o.scoring) return differ("scoring", scoring, o.scoring);
        if (vectors_fingerprint != o.vectors_fingerprint)
            return differ("the steering vectors (another estimator, train split or vector file)", vectors_fingerprint, o.vectors_fingerprint);
        return {};
    }
    [[nodiscard]] bool compatible(const SweepHeader& o) const { return mismatch(o).empty(); }
};

/// One item's results. Shapes as in the file: propensity [n_layers_swept x n_mult], slope [n_layers_swept],
/// emb_last / emb_mean [n_emb_layers x hidden].
struct ItemRecord {
    std::uint64_t item = 0;
    std::uint64_t inputs = 0;          ///< fingerprint of the inputs it was made from (0 in version 1-2 files)
    std::vector<double> propensity;
    std::vector<double> slope;
    std::vector<double> slope_orders;  ///< [2 x n_layers_swept] when the sweep has two orders, else empty
    std::vector<float> emb_last;
    std::vector<float> emb_mean;
};

namespace detail {
/// Bytes of one record in a file of `version` (3: the inputs fingerprint and the checksum around the values).
inline std::size_t record_bytes(const SweepHeader& h, std::uint32_t version = kSweepVersion) {
    const std::size_t L = h.layers.size(), M = h.multipliers.size(), E = h.embedding_layers.size();
    const std::size_t O = h.orders == 2 ? 2 : 0;
    return 4 + 8 + (version >= 3 ? 16 : 0) + 8 * (L * M + L + O * L) + 4 * 2 * E * static_cast<std::size_t>(h.hidden);
}
template <class T>
void put(std::string& b, const T& v) { b.append(reinterpret_cast<const char*>(&v), sizeof(T)); }
template <class T>
void put_vec(std::string& b, const std::vector<T>& v) {
    if (!v.empty()) b.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}
template <class T>
void take(const char*& p, T& v) { std::memcpy(&v, p, sizeof(T)); p += sizeof(T); }
template <class T>
void take_vec(const char*& p, std::vector<T>& v, std::size_t n) {  // n may be 0 (no embedding layers): no memcpy from null
    v.resize(n);
    if (n) std::memcpy(v.data(), p, n * sizeof(T));
    p += n * sizeof(T);
}
/// The file's first bytes: magic, version, header JSON length and the JSON.
inline std::string encode_header(const SweepHeader& h) {
    // Paths need not be UTF-8 (a Linux file name is any bytes): invalid bytes become U+FFFD rather than a throw.
    const std::string hj = h.to_json().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::string b(kSweepMagic, 8);
    put(b, kSweepVersion);
    put(b, static_cast<std::uint64_t>(hj.size()));
    b += hj;
    return b;
}
/// One record as written (version 3): magic, item, inputs fingerprint, the values, their checksum last.
inline std::string encode_record(const SweepHeader& h, const ItemRecord& r, const std::string& path) {
    const std::size_t L = h.layers.size(), M = h.multipliers.size(), E = h.embedding_layers.size(), H = static_cast<std::size_t>(h.hidden);
    if (r.propensity.size() != L * M || r.slope.size() != L || r.emb_last.size() != E * H || r.emb_mean.size() != E * H ||
        r.slope_orders.size() != (h.orders == 2 ? 2 * L : 0))
        throw shape_error(path + ": item " + std::to_string(r.item) + ": record sizes do not match the header");
    std::string b;
    b.reserve(record_bytes(h));
    put(b, kRecordMagic);
    put(b, r.item);
    put(b, r.inputs);
    put_vec(b, r.propensity);
    put_vec(b, r.slope);
    put_vec(b, r.slope_orders);
    put_vec(b, r.emb_last);
    put_vec(b, r.emb_mean);
    put(b, fingerprint_bytes(b.data(), b.size()));
    return b;
}
/// Whether the file (size bytes, fd open) has no complete header: shorter than the fixed part, zero bytes where
/// the magic goes, or shorter than the header its length field declares. Such a file has no record.
inline bool header_is_torn(int fd, std::uint64_t size) {
    char fixed[20] = {};
    if (size < sizeof fixed) return true;
    if (::pread(fd, fixed, sizeof fixed, 0) != static_cast<ssize_t>(sizeof fixed)) return false;  // the reader will say why
    if (std::all_of(fixed, fixed + 8, [](char c) { return c == 0; })) return true;
    if (std::memcmp(fixed, kSweepMagic, 8) != 0) return false;  // not a sweep file: the reader refuses it
    std::uint64_t hlen = 0;
    std::memcpy(&hlen, fixed + 12, 8);
    return size - 20 < hlen && hlen < (std::uint64_t{64} << 20);  // a plausible header length, not all there
}
/// write(2) all of `b` or throw.
inline void write_all(int fd, const std::string& b, const std::string& path) {
    std::size_t done = 0;
    while (done < b.size()) {
        const ssize_t n = ::write(fd, b.data() + done, b.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw io_error(path + ": write failed: " + std::strerror(errno));
        if (n == 0) throw io_error(path + ": write wrote nothing (a full disk?)");
        done += static_cast<std::size_t>(n);
    }
}
}  // namespace detail

/// A whole sweep in memory.
struct SweepData {
    SweepHeader header;
    std::uint32_t version = kSweepVersion;  ///< the file's format version (read_sweep)
    std::vector<ItemRecord> items;  ///< in file order (items may finish out of order when run in parallel)

    /// Items sorted by item index.
    void sort() { std::sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.item < b.item; }); }
};

/// Reads a sweep from `in`, which holds `fsize` bytes from its current position (a file's content, or bytes in memory);
/// `path` names it in messages. A trailing partial record is ignored (reported through `partial_bytes` when non-null).
/// With `zero_tail_is_partial` (the writer, on resume), a record that is all zero bytes up to the end of the file
/// counts as that partial tail (a power loss on a file system that extends files before writing their blocks).
inline SweepData read_sweep(std::istream& in, std::uint64_t fsize, const std::string& path, std::size_t* partial_bytes = nullptr,
                            bool zero_tail_is_partial = false) {
    char magic[8];
    in.read(magic, 8);
    if (!in || std::memcmp(magic, kSweepMagic, 8) != 0) throw format_error(path + ": not a w2s sweep file (bad magic)");
    std::uint32_t version = 0;
    std::uint64_t hlen = 0;
    in.read(reinterpret_cast<char*>(&version), 4);
    in.read(reinterpret_cast<char*>(&hlen), 8);
    if (!in) throw format_error(path + ": truncated sweep header");
    if (version < 1 || version > kSweepVersion)
        throw format_error(path + ": sweep format version " + std::to_string(version) + ", this build reads versions 1 to " +
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
    d.version = version;
    const std::size_t rec = detail::record_bytes(h, version);
    std::uint64_t pos = 8 + 4 + 8 + hlen;
    // Sized only once a whole record is there: a damaged header of a few bytes can declare records of terabytes.
    std::string buf;
    if (fsize >= pos && fsize - pos >= rec) buf.resize(rec);
    auto zero_to_end = [&](std::uint64_t at) {  // buf (the record at `at`) and everything after it are zero bytes
        if (!zero_tail_is_partial || std::any_of(buf.begin(), buf.end(), [](char c) { return c != 0; })) return false;
        char chunk[4096];
        for (std::uint64_t left = fsize - at - rec; left > 0;) {
            const auto n = static_cast<std::streamsize>(std::min<std::uint64_t>(left, sizeof chunk));
            in.read(chunk, n);
            if (!in || std::any_of(chunk, chunk + n, [](char c) { return c != 0; })) return false;
            left -= static_cast<std::uint64_t>(n);
        }
        return true;
    };
    while (fsize >= pos && fsize - pos >= rec) {
        in.read(buf.data(), static_cast<std::streamsize>(rec));
        if (!in) throw io_error(path + ": read failed at offset " + std::to_string(pos));
        const char* p = buf.data();
        std::uint32_t rm = 0;
        detail::take(p, rm);
        if (rm != kRecordMagic && zero_to_end(pos)) break;
        if (rm != kRecordMagic) throw format_error(path + ": record at offset " + std::to_string(pos) + " has a bad magic");
        if (version >= 3) {
            std::uint64_t sum = 0;
            std::memcpy(&sum, buf.data() + rec - 8, 8);
            if (sum != fingerprint_bytes(buf.data(), rec - 8) && zero_tail_is_partial && (pos + rec == fsize || zero_to_end(pos))) break;
            if (sum != fingerprint_bytes(buf.data(), rec - 8))
                throw format_error(path + ": record at offset " + std::to_string(pos) + " fails its checksum (the file is damaged)");
        }
        ItemRecord r;
        detail::take(p, r.item);
        if (version >= 3) detail::take(p, r.inputs);
        detail::take_vec(p, r.propensity, L * M);
        detail::take_vec(p, r.slope, L);
        if (h.orders == 2) detail::take_vec(p, r.slope_orders, 2 * L);
        detail::take_vec(p, r.emb_last, E * H);
        detail::take_vec(p, r.emb_mean, E * H);
        d.items.push_back(std::move(r));
        pos += rec;
    }
    if (partial_bytes) *partial_bytes = static_cast<std::size_t>(fsize - pos);
    return d;
}

/// Reads a sweep file. A trailing partial record is ignored (reported through `partial_bytes` when non-null).
inline SweepData read_sweep(const std::string& path, std::size_t* partial_bytes = nullptr, bool zero_tail_is_partial = false) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error(path + ": cannot open sweep file");
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) throw io_error(path + ": cannot read the sweep file's size: " + ec.message());
    return read_sweep(in, size, path, partial_bytes, zero_tail_is_partial);
}

/// Appends records to a sweep file, creating it (with its header) when absent or empty. On an existing file the
/// headers must agree (SweepHeader::mismatch) and the file must be of this version; a trailing partial record is
/// cut. Holds an exclusive flock(2) on the file from construction to destruction: a second writer is refused with
/// an io_error. Not thread-safe: serialise appends (the engine does).
class SweepWriter {
public:
    SweepWriter(const std::string& path, const SweepHeader& header) : path_(path), header_(header) {
        fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd_ < 0) throw io_error(path + ": cannot open sweep file for writing: " + std::strerror(errno));
        try {
            if (::flock(fd_, LOCK_EX | LOCK_NB) != 0)
                throw io_error(path + (errno == EWOULDBLOCK ? ": another process (or another writer in this one) is writing this sweep file; "
                                                              "wait for it to finish or write to another path"
                                                            : std::string(": cannot lock the sweep file: ") + std::strerror(errno)));
            struct stat st {};
            if (::fstat(fd_, &st) != 0) throw io_error(path + ": cannot stat the sweep file: " + std::strerror(errno));
            if (st.st_size > 0 && detail::header_is_torn(fd_, static_cast<std::uint64_t>(st.st_size))) {
                // A header cut short (or zeroed) before any record: a crash while the file was being created.
                if (::ftruncate(fd_, 0) != 0) throw io_error(path + ": cannot cut the torn sweep header: " + std::strerror(errno));
                st.st_size = 0;
            }
            if (st.st_size > 0) {
                std::size_t partial = 0;
                SweepData existing = read_sweep(path, &partial, /*zero_tail_is_partial=*/true);
                if (existing.version != kSweepVersion)
                    throw invalid_argument(path + ": a sweep file of format version " + std::to_string(existing.version) +
                                           " (no record fingerprints): it can be read but not resumed; remove it or use another output path");
                if (const std::string why = existing.header.mismatch(header); !why.empty())
                    throw invalid_argument(path + ": exists with different settings: " + why + "; remove it or use another output path");
                for (const auto& r : existing.items) {
                    done_.emplace(r.item, r.inputs);
                    order_.push_back(r.item);
                }
                existing_ = std::move(existing.items);
                if (partial && ::ftruncate(fd_, static_cast<off_t>(static_cast<std::uint64_t>(st.st_size) - partial)) != 0)
                    throw io_error(path + ": cannot cut the partial record at its end: " + std::strerror(errno));
            } else {
                detail::write_all(fd_, detail::encode_header(header), path);
                durable::fsync_fd(fd_, path);
                durable::fsync_dir(std::filesystem::path(path).parent_path().string());  // the new name too
            }
            if (::lseek(fd_, 0, SEEK_END) < 0) throw io_error(path + ": cannot seek to the end: " + std::strerror(errno));
        } catch (...) {
            ::close(fd_);
            throw;
        }
    }
    SweepWriter(const SweepWriter&) = delete;
    SweepWriter& operator=(const SweepWriter&) = delete;
    ~SweepWriter() {  // flushes the records to the disk; closing releases the lock
        if (!broken_) (void)::fsync(fd_);
        ::close(fd_);
    }

    /// The inputs fingerprint of item's record in the file, when it has one.
    [[nodiscard]] std::optional<std::uint64_t> inputs_of(std::uint64_t item) const {
        const auto it = done_.find(item);
        if (it == done_.end()) return std::nullopt;
        return it->second;
    }
    [[nodiscard]] std::size_t n_done() const { return done_.size(); }
    /// The records the file held when it was opened (read once, here), handed over: the caller (the engine) adds
    /// them to the ones it appends instead of reading the file again.
    [[nodiscard]] std::vector<ItemRecord> take_existing() { return std::move(existing_); }

    /// Appends a record in one write(2), its checksum last.
    void append(const ItemRecord& r) {
        if (sealed_) throw invalid_argument(path_ + ": append after seal()");
        if (broken_) throw io_error(path_ + ": an earlier write to this sweep file failed; its records up to then are kept, run again to resume");
        const std::string b = detail::encode_record(header_, r, path_);
        const off_t at = ::lseek(fd_, 0, SEEK_CUR);
        if (at < 0) throw io_error(path_ + ": cannot find the end of the sweep file: " + std::strerror(errno));
        try {
            detail::write_all(fd_, b, path_);
        } catch (...) {
            // A part of the record may be in the file: cut it, so the records after it (other threads' items) cannot
            // be misaligned, and refuse further appends.
            broken_ = true;
            if (::ftruncate(fd_, at) == 0) (void)::lseek(fd_, at, SEEK_SET);
            throw;
        }
        done_.emplace(r.item, r.inputs);
        order_.push_back(r.item);
    }

    /// Makes the file canonical once the sweep is complete: `all` holds every record of the file (in any order);
    /// when the file's records are not in item order (items finish out of order in parallel, or across resumed
    /// runs) it is rewritten sorted (core/durable.hpp: temporary name, fsync, rename), so a sweep gives the same
    /// file, byte for byte, at any thread count and however often it was interrupted. No append afterwards.
    void seal(const SweepData& all) {
        if (all.items.size() != done_.size())
            throw invalid_argument(path_ + ": seal() with " + std::to_string(all.items.size()) + " records, the file has " +
                                   std::to_string(done_.size()));
        sealed_ = true;
        if (std::is_sorted(order_.begin(), order_.end())) return;
        std::vector<const ItemRecord*> sorted;
        sorted.reserve(all.items.size());
        for (const auto& r : all.items) sorted.push_back(&r);
        std::sort(sorted.begin(), sorted.end(), [](const ItemRecord* a, const ItemRecord* b) { return a->item < b->item; });
        std::string b = detail::encode_header(header_);
        for (const ItemRecord* r : sorted) {
            const auto it = done_.find(r->item);
            if (it == done_.end() || it->second != r->inputs)
                throw invalid_argument(path_ + ": seal(): item " + std::to_string(r->item) + " is not the file's record");
            b += detail::encode_record(header_, *r, path_);
        }
        durable::write_file(path_, b);
        std::sort(order_.begin(), order_.end());
    }

private:
    std::string path_;
    SweepHeader header_;
    int fd_ = -1;
    std::map<std::uint64_t, std::uint64_t> done_;  // item -> inputs fingerprint
    std::vector<std::uint64_t> order_;              // items in file order
    std::vector<ItemRecord> existing_;               // the records read on open, until take_existing()
    bool sealed_ = false, broken_ = false;
};

}  // namespace w2s::io
