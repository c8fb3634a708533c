// w2s info MODEL.gguf — architecture, layer count, sizes, tensor types and tokenizer kind of a GGUF; and the
// instruction sets this build's kernels use on this CPU (kernels/isa.hpp).
#include <iostream>
#include <map>

#include <w2s/gguf/reader.hpp>
#include <w2s/model/model.hpp>

#include "command.hpp"

namespace cmd_info {  // named, not anonymous: the tool is a unity build

std::string value_to_string(const w2s::gguf::Value& v) {
    using w2s::gguf::ValueType;
    if (v.is_array()) {
        const auto& a = v.as_array();
        return "[" + std::to_string(a.items.size()) + " x " + std::string(w2s::gguf::value_type_name(a.elem_type)) + "]";
    }
    if (v.is_string()) {
        auto s = v.as_string();
        if (s.size() > 60) s = s.substr(0, 57) + "...";
        for (char& c : s) if (c == '\n') c = ' ';
        return "\"" + s + "\"";
    }
    if (v.type() == ValueType::boolean) return v.as_bool() ? "true" : "false";
    if (v.is_float()) return std::to_string(v.as_double());
    return std::to_string(v.as_int());
}

const w2s::cli::Registrar reg{"info", "Print a GGUF file's architecture, sizes, tensor types and tokenizer", [](CLI::App& app) {
    auto path = std::make_shared<std::string>();
    auto all = std::make_shared<bool>(false);
    app.add_option("model", *path, "GGUF file")->required()->check(CLI::ExistingFile);
    app.add_flag("--all", *all, "print every metadata key");
    return w2s::cli::Runner([path, all] {
        w2s::gguf::File f(*path);
        const std::string arch = f.get_string("general.architecture", "?");
        auto key = [&](const std::string& k) { return arch + "." + k; };
        auto num = [&](const std::string& k) -> std::string {
            auto* v = f.find(key(k));
            return v ? value_to_string(*v) : std::string("-");
        };
        std::cout << "file:            " << *path << " (GGUF v" << f.version() << ", " << f.file_size() << " bytes)\n"
                  << "name:            " << f.get_string("general.name", "-") << '\n'
                  << "architecture:    " << arch << '\n'
                  << "layers:          " << num("block_count") << '\n'
                  << "hidden size:     " << num("embedding_length") << '\n'
                  << "feed-forward:    " << num("feed_forward_length") << '\n'
                  << "heads (q / kv):  " << num("attention.head_count") << " / " << num("attention.head_count_kv") << '\n'
                  << "context length:  " << num("context_length") << '\n'
                  << "rope base:       " << num("rope.freq_base") << '\n'
                  << "rms eps:         " << num("attention.layer_norm_rms_epsilon") << '\n';
        std::string tok_model = f.get_string("tokenizer.ggml.model", "-");
        std::size_t vocab = f.has("tokenizer.ggml.tokens") ? f.get("tokenizer.ggml.tokens").as_array().items.size() : 0;
        std::cout << "tokenizer:       " << tok_model
                  << (tok_model == "gpt2" ? " (byte-level BPE)" : tok_model == "llama" ? " (SentencePiece BPE)" : "")
                  << ", pre " << f.get_string("tokenizer.ggml.pre", "-") << ", " << vocab << " tokens\n"
                  << "chat template:   " << (f.has("tokenizer.chat_template") ? "yes" : "no") << '\n'
                  << "kernels:         " << w2s::model::LlamaModel::kernel_isa().describe() << '\n';
        std::map<std::string, std::pair<std::size_t, std::uint64_t>> by_type;
        std::uint64_t params = 0;
        for (const auto& t : f.tensors()) {
            auto& e = by_type[w2s::gguf::tensor_type_name(t.type)];
            e.first++;
            e.second += t.n_bytes;
            params += t.n_elements;
        }
        std::cout << "tensors:         " << f.tensors().size() << " (" << params << " parameters)\n";
        for (const auto& [name, e] : by_type)
            std::cout << "  " << name << ": " << e.first << " tensors, " << e.second << " bytes\n";
        if (*all) {
            std::cout << "metadata:\n";
            for (const auto& k : f.keys()) std::cout << "  " << k << " = " << value_to_string(f.get(k)) << '\n';
        }
        return 0;
    });
}};

}  // namespace cmd_info
