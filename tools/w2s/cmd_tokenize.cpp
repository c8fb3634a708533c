// w2s tokenize MODEL TEXT — token ids of TEXT as a JSON list, with the model's own tokenizer.
//   --chat        wrap TEXT as the user message (no system message) with the model's chat template and the
//                 generation prompt, then tokenize
//   --decode      TEXT is a JSON list of ids; print the text they stand for
//   --add-special add BOS/EOS as the GGUF metadata says;  --no-parse-special  special-token text stays text
#include <iostream>

#include <nlohmann/json.hpp>

#include <w2s/gguf/reader.hpp>
#include <w2s/text/chat_template.hpp>
#include <w2s/text/tokenizer.hpp>

#include "command.hpp"

namespace cmd_tokenize {  // named, not anonymous: the tool is a unity build

struct TokenizeArgs {
    std::string model, text;
    bool chat = false, decode = false, add_special = false, no_parse_special = false, skip_special = false;
};

const w2s::cli::Registrar reg{"tokenize", "Print the token ids of TEXT as JSON (--chat applies the chat template, --decode reverses)",
                              [](CLI::App& app) {
    auto a = std::make_shared<TokenizeArgs>();
    app.add_option("model", a->model, "GGUF file")->required()->check(CLI::ExistingFile);
    app.add_option("text", a->text, "text to tokenize (with --decode: a JSON list of ids)")->required();
    app.add_flag("--chat", a->chat, "wrap TEXT as the user message with the chat template (generation prompt added)");
    app.add_flag("--decode", a->decode, "TEXT is a JSON list of ids; print their text");
    app.add_flag("--add-special", a->add_special, "add BOS/EOS as the metadata says");
    app.add_flag("--no-parse-special", a->no_parse_special, "treat special-token text as plain text");
    app.add_flag("--skip-special", a->skip_special, "with --decode: drop control tokens");
    return w2s::cli::Runner([a] {
        w2s::gguf::File f(a->model);
        const auto tok = w2s::text::Tokenizer::from_gguf(f);
        if (a->decode) {
            nlohmann::json j;
            try {
                j = nlohmann::json::parse(a->text);
            } catch (const nlohmann::json::exception& e) {
                throw w2s::invalid_argument(std::string("--decode: TEXT is not JSON: ") + e.what());
            }
            if (!j.is_array()) throw w2s::invalid_argument("--decode: TEXT must be a JSON list of ids, got " + j.dump());
            std::vector<w2s::text::token_id> ids;
            for (const auto& x : j) {
                if (!x.is_number_integer()) throw w2s::invalid_argument("--decode: not an integer id: " + x.dump());
                ids.push_back(x.get<w2s::text::token_id>());
            }
            std::cout << tok.decode(ids, a->skip_special) << '\n';
            return 0;
        }
        std::string text = a->text;
        if (a->chat) {
            const auto tmpl = w2s::text::ChatTemplate::from_gguf(f);
            std::vector<w2s::text::Message> msgs{{"user", text}};
            text = tmpl.render(msgs, true);
        }
        const auto ids = tok.encode(text, a->add_special, !a->no_parse_special);
        std::cout << nlohmann::json(ids).dump() << '\n';
        return 0;
    });
}};

}  // namespace cmd_tokenize
