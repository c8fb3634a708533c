// libFuzzer target: parse arbitrary bytes as an in-memory GGUF file. A w2s::error is the expected answer to
// damaged input; anything else (another exception, a crash, an ASan/UBSan report, a leak) is a bug.
// Built and run by the gguf_fuzz CTest test (tests/support/run_fuzz.cmake).
#include <cstddef>
#include <cstdint>
#include <vector>

#include <w2s/core/error.hpp>
#include <w2s/gguf/quants.hpp>
#include <w2s/gguf/reader.hpp>

static volatile std::size_t g_sink = 0;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::vector<std::byte> bytes(size);
    for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>(data[i]);
    try {
        const w2s::gguf::File f(std::move(bytes), "fuzz.gguf");
        // touch what a loader touches: every value, and every tensor's bytes
        std::size_t sink = 0;
        for (const auto& k : f.keys()) {
            const auto& v = f.get(k);
            if (v.is_array()) sink += v.as_array().items.size();
            else if (v.is_string()) sink += v.as_string().size();
        }
        for (const auto& t : f.tensors()) {
            if (t.n_bytes) sink += static_cast<std::size_t>(t.data[0]) + static_cast<std::size_t>(t.data[t.n_bytes - 1]);
            // dequantize the first row of small tensors of supported types
            if (w2s::gguf::is_dequantizable(t.type) && !t.ne.empty() && t.ne[0] <= 4096 && t.n_bytes) {
                std::vector<float> row(static_cast<std::size_t>(t.ne[0]));
                w2s::gguf::dequantize_row_ref(t.type, t.data, row.data(), row.size());
            }
        }
        g_sink = sink;  // keep the reads observable
    } catch (const w2s::error&) {
    }
    return 0;
}
