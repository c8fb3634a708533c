// libFuzzer target: bundle folders (AdaptiveSteerer load through w2s::with_bundle, any router kind) on arbitrary
// files. The input is up to three parts separated by the line "--w2s-part--": bundle.json, router.bin, vectors.gguf;
// a part not given is the fitted bundle's own file (tests/support/fuzz_bundle.hpp: the tiny random model and a
// bundle fitted on it, made once per process). The parts are written to a scratch folder per input, as the loader
// reads a folder. Seeds: the fitted bundle itself, its bundle.json alone and its bundle.json + router.bin.
// Promises: a bundle that loads has candidate layers the model has, and choose_layer() of a prompt gives one of them.
// A w2s::error is the expected answer to a bad bundle.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_bundle.hpp"

using namespace w2s;

namespace {

constexpr std::string_view kSep = "\n--w2s-part--\n";
std::unique_ptr<fuzz::BundleFixture> g_fix;
std::string g_json, g_router, g_vectors;

std::string read_all(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    g_fix = std::make_unique<fuzz::BundleFixture>();
    g_json = read_all(g_fix->bundle + "/bundle.json");
    g_router = read_all(g_fix->bundle + "/router.bin");
    g_vectors = read_all(g_fix->bundle + "/vectors.gguf");
    const std::string sep(kSep);
    fuzz::write_seed("bundle_json", g_json);
    fuzz::write_seed("bundle_json_router", g_json + sep + g_router);
    fuzz::write_seed("bundle_all", g_json + sep + g_router + sep + g_vectors);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in = fuzz::as_text(data, size);
    std::vector<std::string_view> parts;
    for (std::size_t b = 0;;) {
        const std::size_t e = in.find(kSep, b);
        parts.push_back(in.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
        if (e == std::string_view::npos || parts.size() == 3) break;
        b = e + kSep.size();
    }
    const std::string dir = fuzz::scratch_dir() + "/input";
    std::filesystem::create_directories(dir);
    fuzz::write_file(dir + "/bundle.json", parts[0]);
    fuzz::write_file(dir + "/router.bin", parts.size() > 1 ? parts[1] : std::string_view(g_router));
    fuzz::write_file(dir + "/vectors.gguf", parts.size() > 2 ? parts[2] : std::string_view(g_vectors));
    fuzz::run([&] {
        with_bundle(g_fix->model, dir, [&](const auto& s) {
            const int L = g_fix->model.n_layers();
            fuzz::require(!s.layers().empty(), "a bundle loaded with no candidate layers");
            for (int l : s.layers()) fuzz::require(l >= 1 && l < L, "a bundle loaded with a layer the model does not have");
            const std::vector<model::token_id> prompt{1, 72, 101, 108, 108, 111};
            const int l = s.choose_layer(std::span<const model::token_id>(prompt));
            fuzz::require(std::find(s.layers().begin(), s.layers().end(), l) != s.layers().end(), "choose_layer gave a layer outside layers()");
            return 0;
        });
    });
    return 0;
}
