// The real SmolLM2-135M-Instruct Q4_1 file: counts, metadata, tensor shapes and types, every tensor's data
// inside the file and dequantizable, and a byte-identical re-encode with w2s::gguf::Writer.
#define BOOST_TEST_MODULE test_gguf_model
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <w2s/gguf/quants.hpp>
#include <w2s/gguf/reader.hpp>
#include <w2s/gguf/writer.hpp>
#include <w2s_test_support.hpp>

using namespace w2s::gguf;

BOOST_AUTO_TEST_CASE(smollm2_header_metadata_and_shapes) {
    const File f(w2s::test::model_path());
    BOOST_TEST(f.version() == 3u);
    BOOST_TEST(f.keys().size() == 33u);
    BOOST_TEST(f.tensors().size() == 272u);  // 30 blocks x 9 + token_embd + output_norm (output tied)
    BOOST_TEST(f.alignment() == 32u);
    BOOST_TEST(f.get_string("general.architecture") == "llama");
    BOOST_TEST(f.get_int("llama.block_count") == 30);
    BOOST_TEST(f.get_int("llama.embedding_length") == 576);
    BOOST_TEST(f.get_int("llama.feed_forward_length") == 1536);
    BOOST_TEST(f.get_int("llama.attention.head_count") == 9);
    BOOST_TEST(f.get_int("llama.attention.head_count_kv") == 3);
    BOOST_TEST(f.get_int("llama.context_length") == 8192);
    BOOST_TEST(static_cast<float>(f.get_double("llama.rope.freq_base")) == 100000.0f);
    BOOST_TEST(static_cast<float>(f.get_double("llama.attention.layer_norm_rms_epsilon")) == 1e-5f);
    BOOST_TEST((f.get("llama.block_count").type() == ValueType::u32));
    BOOST_TEST(f.get_string("tokenizer.ggml.model") == "gpt2");
    BOOST_TEST(f.get_string("tokenizer.ggml.pre") == "smollm");
    const auto tokens = f.get_strings("tokenizer.ggml.tokens");
    BOOST_TEST(tokens.size() == 49152u);
    BOOST_TEST(tokens.at(1) == "<|im_start|>");
    BOOST_TEST(tokens.at(2) == "<|im_end|>");
    BOOST_TEST(f.get_ints("tokenizer.ggml.token_type").size() == 49152u);
    BOOST_TEST(f.get_strings("tokenizer.ggml.merges").size() == 48900u);
    BOOST_TEST(f.get_int("tokenizer.ggml.bos_token_id") == 1);
    BOOST_TEST(f.get_int("tokenizer.ggml.eos_token_id") == 2);
    BOOST_TEST(!f.get_bool("tokenizer.ggml.add_bos_token"));
    BOOST_TEST(f.get_string("tokenizer.chat_template").find("<|im_start|>") != std::string::npos);

    std::map<std::string, int> by_type;
    for (const auto& t : f.tensors()) ++by_type[tensor_type_name(t.type)];
    BOOST_TEST(by_type["Q4_1"] == 210);
    BOOST_TEST(by_type["F32"] == 61);
    BOOST_TEST(by_type["Q8_0"] == 1);

    auto shape = [&](const std::string& name, TensorType type, std::vector<std::uint64_t> ne) {
        const auto& t = f.tensor(name);
        BOOST_TEST((t.type == type), name);
        BOOST_TEST(t.ne == ne, boost::test_tools::per_element());
    };
    shape("token_embd.weight", TensorType::Q8_0, {576, 49152});
    shape("output_norm.weight", TensorType::F32, {576});
    BOOST_TEST(f.find_tensor("output.weight") == nullptr);
    for (int l : {0, 17, 29}) {
        const std::string p = "blk." + std::to_string(l) + ".";
        shape(p + "attn_norm.weight", TensorType::F32, {576});
        shape(p + "attn_q.weight", TensorType::Q4_1, {576, 576});
        shape(p + "attn_k.weight", TensorType::Q4_1, {576, 192});
        shape(p + "attn_v.weight", TensorType::Q4_1, {576, 192});
        shape(p + "attn_output.weight", TensorType::Q4_1, {576, 576});
        shape(p + "ffn_norm.weight", TensorType::F32, {576});
        shape(p + "ffn_gate.weight", TensorType::Q4_1, {576, 1536});
        shape(p + "ffn_up.weight", TensorType::Q4_1, {576, 1536});
        shape(p + "ffn_down.weight", TensorType::Q4_1, {1536, 576});
    }
    // every tensor lies inside the file, aligned, and its first and last rows dequantize to finite numbers
    for (const auto& t : f.tensors()) {
        BOOST_TEST((f.data_offset() + t.offset) % 32 == 0u, t.name);
        BOOST_TEST(f.data_offset() + t.offset + t.n_bytes <= f.file_size(), t.name);
        const std::size_t row = t.ne[0];
        std::vector<float> out(row);
        for (std::uint64_t r : {std::uint64_t{0}, t.rows() - 1}) {
            dequantize_row_ref(t.type, t.data + r * t.row_bytes(), out.data(), row);
            bool finite = true;
            for (float x : out) finite = finite && std::isfinite(x);
            BOOST_TEST(finite, t.name << " row " << r);
        }
    }
    // the norms of an RMSNorm-trained model are O(1), not garbage
    const auto norm = dequantize(f.tensor("output_norm.weight"));
    double s = 0;
    for (float x : norm) s += std::fabs(x);
    BOOST_TEST(s / 576 > 0.1);
    BOOST_TEST(s / 576 < 100.0);
}

// Re-encoding every key and tensor with the Writer reproduces the file byte for byte (the file was written by
// llama.cpp's gguf-py, which lays files out as our Writer does).
BOOST_AUTO_TEST_CASE(smollm2_reencodes_byte_for_byte) {
    const File f(w2s::test::model_path());
    Writer w(f.alignment());
    for (const auto& k : f.keys()) w.set(k, f.get(k));
    for (const auto& t : f.tensors()) w.add_tensor(t.name, t.type, t.ne, {t.data, static_cast<std::size_t>(t.n_bytes)});
    const auto bytes = w.to_bytes();
    BOOST_TEST(bytes.size() == f.file_size());
    // the mapping's first byte: any tensor's data minus its place in the file
    const auto& t0 = f.tensors().front();
    const std::byte* orig = t0.data - t0.offset - f.data_offset();
    std::size_t first_diff = 0;
    const std::size_t n = std::min(bytes.size(), f.file_size());
    while (first_diff < n && bytes[first_diff] == orig[first_diff]) ++first_diff;
    BOOST_TEST(first_diff == n, "first difference at byte " << first_diff);
}
