// w2s/steer/load.hpp — a data file to the token ids the measurements take, in one call.
//
//   w2s::steer::DataSpec d;  d.path = "examples/data/freetext/sentiment.jsonl";  d.part = "test";
//   auto data = w2s::steer::load_tokenized(model, d);   // data.items (as loaded), data.tokenized (the views)
//
// The steps every data subcommand and most users take: the items of one part of the protocol's seeded split
// (load_part), the persona sentences a non-BASE variant needs (personas_for), the prompt format
// (text::select_template: "auto", "plain" or a family) and tokenization with answer orders, scoring and
// activation position (tokenize_items). M: tokenizer() and what select_template needs.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "w2s/steer/dataset.hpp"
#include "w2s/steer/tokenized.hpp"
#include "w2s/text/chat_template.hpp"

namespace w2s::steer {

struct DataSpec {
    std::string path;                ///< A/B items (CAA JSON, MWE JSONL) or free-text pairs (JSONL)
    std::string part = "train";      ///< train, test or all (load_part)
    std::size_t max_items = 0;       ///< at most this many (a seeded subset; 0 = all)
    Variant variant = Variant::base; ///< prompt variant
    std::string personas;            ///< persona_prompts.json for SYS/USER variants ("" = found beside the data)
    std::string tmpl = "auto";       ///< prompt format (text::select_template)
    TokenizeOptions tokenize;        ///< answer orders; free-text scoring and activation position
};

struct LoadedData {
    std::vector<Item> items;              ///< the items, as loaded (load_part)
    std::vector<TokenizedItem> tokenized; ///< their token views (two per A/B item when both orders are measured)
};

template <class M>
LoadedData load_tokenized(const M& model, const DataSpec& d) {
    LoadedData out;
    out.items = load_part(d.path, d.part, d.max_items);
    if (out.items.empty()) throw data_error(d.path + ": no items in the " + d.part + " part");
    const auto personas = personas_for(d.variant, d.path, d.personas);
    const auto t = text::select_template(model, d.tmpl);
    out.tokenized = tokenize_items(model.tokenizer(), t, out.items, d.variant, personas ? &*personas : nullptr, d.tokenize);
    return out;
}

}  // namespace w2s::steer
