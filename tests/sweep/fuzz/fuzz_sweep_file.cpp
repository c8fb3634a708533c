// libFuzzer target: the sweep file reader (w2s/io/sweep_file.hpp, io::read_sweep on bytes in memory) on arbitrary
// bytes. Seeds: small sweeps written with io::SweepWriter (one and two answer orders, with and without embeddings, a
// trailing partial record) and a version 1 file. Promises: what reads has a header that passes SweepHeader::check and
// records of exactly the sizes the header gives; the partial bytes are fewer than one record. A w2s::error is the
// expected answer to bad bytes.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <w2s/io/sweep_file.hpp>

#include "w2s_fuzz.hpp"

using namespace w2s;

namespace {

std::string read_all(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::string make_sweep(int orders, int n_emb, int items, std::size_t tail) {
    io::SweepHeader h;
    h.model = "tiny.gguf";
    h.data = "data.jsonl";
    h.n_layers = 4;
    h.hidden = 3;
    h.layers = {1, 2};
    h.multipliers = {-1.0, 0.0, 1.0};
    for (int e = 0; e < n_emb; ++e) h.embedding_layers.push_back(e + 1);
    h.orders = orders;
    h.order_weights = orders == 2 ? std::vector<double>{0.5, 0.5} : std::vector<double>{1.0};
    h.settings = {{"seed", 7}};
    const std::string path = fuzz::scratch_dir() + "/seed.sweep";
    std::filesystem::remove(path);
    {
        io::SweepWriter w(path, h);
        for (int i = 0; i < items; ++i) {
            io::ItemRecord r;
            r.item = static_cast<std::uint64_t>(i);
            r.propensity = {0.1 * i, 0.2, 0.3, 0.4, 0.5, 0.6};
            r.slope = {1.0, -1.0};
            if (orders == 2) r.slope_orders = {1.0, -1.0, 0.5, -0.5};
            r.emb_last.assign(static_cast<std::size_t>(n_emb * 3), 0.25f);
            r.emb_mean.assign(static_cast<std::size_t>(n_emb * 3), -0.25f);
            w.append(r);
        }
    }
    std::string bytes = read_all(path);
    bytes.append(tail, '\x07');
    return bytes;
}

/// The same sweep as version 1 (no "orders", no per-order slopes).
std::string make_v1() {
    const std::string hj =
        R"({"format_version":1,"model":"m","data":"d","variant":"BASE","n_layers":3,"hidden":2,"layers":[1],"multipliers":[0.0,1.0],"embedding_layers":[]})";
    std::string b(io::kSweepMagic, 8);
    const std::uint32_t v = 1;
    const std::uint64_t n = hj.size();
    b.append(reinterpret_cast<const char*>(&v), 4).append(reinterpret_cast<const char*>(&n), 8).append(hj);
    const std::uint32_t rm = io::kRecordMagic;
    const std::uint64_t item = 0;
    const double vals[3] = {0.5, 0.25, 0.125};
    b.append(reinterpret_cast<const char*>(&rm), 4).append(reinterpret_cast<const char*>(&item), 8).append(reinterpret_cast<const char*>(vals), 24);
    return b;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    if (fuzz::seed_dir().empty()) return 0;
    fuzz::write_seed("one_order.sweep", make_sweep(1, 0, 2, 0));
    fuzz::write_seed("two_orders_emb.sweep", make_sweep(2, 2, 2, 0));
    fuzz::write_seed("partial.sweep", make_sweep(2, 1, 1, 13));
    fuzz::write_seed("empty.sweep", make_sweep(1, 1, 0, 0));
    fuzz::write_seed("v1.sweep", make_v1());
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::run([&] {
        std::istringstream in(std::string(fuzz::as_text(data, size)), std::ios::binary);
        std::size_t partial = 0;
        const io::SweepData d = io::read_sweep(in, size, "fuzz.sweep", &partial);
        const auto& h = d.header;
        h.check("fuzz.sweep");
        const std::size_t L = h.layers.size(), M = h.multipliers.size(), E = h.embedding_layers.size(), H = static_cast<std::size_t>(h.hidden);
        for (const auto& r : d.items) {
            fuzz::require(r.propensity.size() == L * M && r.slope.size() == L && r.emb_last.size() == E * H && r.emb_mean.size() == E * H &&
                              r.slope_orders.size() == (h.orders == 2 ? 2 * L : 0),
                          "a record whose sizes do not match the header");
        }
        // Every byte is accounted for: the fixed part, the header, whole records of this version, a partial tail.
        const std::size_t rec = io::detail::record_bytes(h, d.version);
        fuzz::require(partial < rec, "the partial tail holds a whole record");
        std::uint64_t hlen = 0;
        std::memcpy(&hlen, data + 12, 8);  // read_sweep succeeded, so the fixed part is there
        fuzz::require(20 + hlen + d.items.size() * rec + partial == size, "the file's bytes are not header + records + tail");
        // Reading it again from the same bytes gives the same records (no state kept between reads).
        std::istringstream again(std::string(fuzz::as_text(data, size)), std::ios::binary);
        fuzz::require(io::read_sweep(again, size, "fuzz.sweep").items.size() == d.items.size(), "a second read differs");
    });
    return 0;
}
