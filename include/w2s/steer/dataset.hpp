// w2s/steer/dataset.hpp — behaviour datasets: A/B items, loaders, the seeded split, prompt variants.
//
// Implements sections 1-3 of the evaluation protocol (shared/PROTOCOL.md):
//  - load_items(path): a CAA JSON array ([{question, answer_matching_behavior, answer_not_matching_behavior}])
//    or an MWE JSONL file (one such object per line). The format is recognised from the content (a file whose
//    first non-blank character is '[' is a JSON array), so users' own data in either format loads the same way.
//    parse_items(text, path) does the same on content already in memory (and parse_persona_prompts for persona_prompts.json).
//  - A record whose answers are letters "(X)" (leading/trailing blanks ignored) is an A/B item as it stands;
//    the <META_START>...<META_END> span (advanced-ai-risk) is removed from the question (seven records of the
//    development set have a <META_START> with no end tag: from it to the end of the question is removed). Both letters must
//    appear as "(X)" in the question.
//  - Any other record (persona: " Yes" / " No") becomes A/B as
//        question + "\n\nChoices:\n(A): " + a + "\n(B): " + b
//    with (a, b) = (matching, not matching) answer texts verbatim, swapped when (i / 2) % 2 == 0, where i is
//    the 0-based index of the record in its file (blank lines not counted). The matching response is then
//    "(A)" or "(B)".
//  - A free-text contrast pair (JSONL only) is {"prompt", "positive", "negative"} with an optional "system":
//    the prompt is the user turn, the replies follow the assistant header directly (ItemKind::free_text).
//    A prompt may carry several reply pairs: {"prompt", "pairs": [{"positive", "negative"[, "template"]}, ...]}
//    (not both shapes in one record). The record stays ONE item (Item::pairs; matching/not_matching are pairs[0]),
//    so the split is by prompt and a prompt's pairs never straddle train and test; expand_pairs() turns the items
//    into one item per pair (each keeps its record's Item::index, the prompt's id; Item::pair = k) for the per-pair sweep, whose
//    profiles are averaged over a group (the prompt-level steerability). "template" names the reply template a
//    pair was written from (for the reply diagnostic, steer/reply.hpp); without it the template is the pair's
//    index k. Errors name the pair: "pairs[2].negative: missing field".
//    A file holds one kind of record only.
//  - mirror(item) gives an A/B item's mirror order: the texts of the matching and the non-matching choice
//    exchanged in the question, and the two answer letters exchanged, so that the behaviour's answer sits
//    under the other letter (persona items thereby get the other letter assignment). Choices are found as
//    "(X)" at the start of a line (after blanks), as in every format above.
//  - Bad records (not an object, a missing or non-string field, empty text, equal answers, a letter that is
//    not among the question's choices) throw w2s::data_error naming the file and line; with
//    LoadOptions::skip_bad they are skipped and counted in LoadReport (never silently).
//  - split_items(): shuffles with std::mt19937_64 seeded with kSplitSeed (or a given seed) and a Fisher-Yates
//    shuffle written here (std::shuffle and std::uniform_int_distribution differ between standard
//    libraries), then the first floor(n/2) items are train and the rest test. The project's seed is
//    kSplitSeed = 20240607.
//  - Prompt variants BASE, SYS.POS, SYS.NEG, USER.POS, USER.NEG (protocol section 3) from
//    persona_prompts.json: turns(item, variant, personas) gives the system prompt and the user turn.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "w2s/core/error.hpp"

namespace w2s::steer {

/// What an item's two responses are.
///  ab         an A/B (or multiple-choice) item: the responses are answer letters "(X)" (protocol section 1);
///  free_text  a contrast pair: the responses are whole replies, positive (shows the behaviour) and negative.
enum class ItemKind { ab, free_text };

/// One reply pair of a free-text prompt.
struct ReplyPair {
    std::string positive, negative;
    std::string reply_template;  ///< the template it was written from ("" in the file: its index k as text)
};

/// One item of a behaviour dataset, after conversion (protocol section 1).
struct Item {
    std::string question;      ///< the user-turn text (A/B: choices included, META span removed; free text: the prompt)
    std::string matching;      ///< response that matches the behaviour, e.g. "(A)", or the positive reply
    std::string not_matching;  ///< response that does not, e.g. "(B)", or the negative reply
    ItemKind kind = ItemKind::ab;
    std::string system;        ///< free text: the record's own system prompt ("" = the protocol's default)
    std::string behaviour;     ///< behaviour name (file stem, or the folder name for CAA's fixed file names)
    std::string source;        ///< file the item came from
    std::size_t line = 0;      ///< 1-based line in `source` where the record starts
    std::size_t index = 0;     ///< 0-based index of the record in `source`
    std::vector<ReplyPair> pairs;  ///< free text: every reply pair of the prompt (pairs[0] = matching/not_matching)
    int pair = 0;              ///< which of the prompt's pairs this item is (0 unless expanded)
};

/// One item per reply pair (free text with several pairs; other items pass unchanged): the k-th copy has
/// matching/not_matching = pairs[k], pair = k and the record's index, in record order then pair order.
[[nodiscard]] std::vector<Item> expand_pairs(const std::vector<Item>& items);

/// The reply-template id of each item (expanded or not): equal ids for equal ReplyPair::reply_template across the
/// whole list, numbered 0.. in order of first appearance (for steer::reply_diagnostic).
[[nodiscard]] std::vector<int> reply_template_ids(const std::vector<Item>& items);

/// The project's split seed (protocol section 2).
inline constexpr std::uint64_t kSplitSeed = 20240607;

/// The BASE system prompt (protocol section 3).
inline constexpr std::string_view kDefaultSystemPrompt = "You are a helpful, honest and concise assistant.";

struct LoadOptions {
    bool skip_bad = false;          ///< skip bad records (counted in LoadReport) instead of throwing
    std::string behaviour;          ///< overrides the behaviour name derived from the path when non-empty
    std::size_t max_items = 0;      ///< keep at most this many items (0 = all), in file order
};

struct LoadReport {
    std::size_t records = 0;        ///< records seen
    std::size_t skipped = 0;        ///< bad records skipped (only with skip_bad)
    std::vector<std::string> problems;  ///< one message per skipped record (file:line: what)
};

/// Loads a CAA JSON or MWE JSONL file. Throws io_error (cannot read), data_error (bad record, unless
/// skip_bad; or a file that is neither format).
std::vector<Item> load_items(const std::string& path, const LoadOptions& opts = {}, LoadReport* report = nullptr);
/// load_items() on a file's content already in memory: `path` names the source (the behaviour name, Item::source and
/// every message), nothing is opened. Throws data_error as load_items() does.
std::vector<Item> parse_items(std::string_view text, const std::string& path, const LoadOptions& opts = {}, LoadReport* report = nullptr);

/// The mirror order of an A/B item (see the file comment). Throws data_error naming the item's file and line
/// when the question does not write both choices at the start of a line, and invalid_argument for a free-text item.
Item mirror(const Item& item);

/// Behaviour name of a dataset path: the file stem, or for CAA's fixed names (generate_dataset.json,
/// test_dataset_ab.json, dataset.json) the name of the containing folder.
std::string behaviour_name(const std::string& path);

/// Removes every <META_START>...<META_END> span (advanced-ai-risk questions); an unterminated <META_START>
/// removes the rest of the text.
std::string strip_meta(std::string_view text);

/// The portable generator's uniform integer in [0, n): rejection sampling on mt19937_64, identical on every
/// standard library. n > 0.
std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t n);

/// In-place Fisher-Yates shuffle with uniform_below (portable across standard libraries).
template <class T>
void portable_shuffle(std::vector<T>& v, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (std::size_t i = v.size(); i > 1; --i) {
        const auto j = static_cast<std::size_t>(uniform_below(rng, i));
        std::swap(v[i - 1], v[j]);
    }
}

struct Split {
    std::vector<Item> train;  ///< first floor(n/2) items after the shuffle
    std::vector<Item> test;   ///< the rest
};

/// Seeded 50/50 split (protocol section 2).
Split split_items(std::vector<Item> items, std::uint64_t seed = kSplitSeed);

// ---- prompt variants ----------------------------------------------------------------------------

enum class Variant { base, sys_pos, sys_neg, user_pos, user_neg };

/// "BASE", "SYS.POS", "SYS.NEG", "USER.POS", "USER.NEG".
std::string_view variant_name(Variant v);
/// Parses the names above (case-insensitive; '_' accepted for '.'); throws invalid_argument.
Variant parse_variant(std::string_view name);
inline constexpr Variant kAllVariants[] = {Variant::base, Variant::sys_pos, Variant::sys_neg, Variant::user_pos,
                                           Variant::user_neg};

/// Persona sentences per behaviour (datasets/persona_prompts.json: {behaviour: {positive, negative, kind}}).
struct PersonaPrompts {
    struct Entry {
        std::string positive, negative, kind;
    };
    std::map<std::string, Entry> by_behaviour;
    /// Throws invalid_argument naming the behaviour when it has no entry.
    [[nodiscard]] const Entry& at(const std::string& behaviour) const;
};
PersonaPrompts load_persona_prompts(const std::string& path);
/// load_persona_prompts() on the file's content (`path` names it in messages). Throws data_error.
PersonaPrompts parse_persona_prompts(std::string_view text, const std::string& path);

/// persona_prompts.json for a dataset file: `given` when non-empty, else the first persona_prompts.json found
/// beside `data` or in a folder above it (the layout of shared/datasets and examples/data). Throws
/// invalid_argument when there is none.
PersonaPrompts find_persona_prompts(const std::string& data, const std::string& given = "");

/// The persona sentences a variant needs: none for BASE, else find_persona_prompts(data, given).
std::optional<PersonaPrompts> personas_for(Variant v, const std::string& data, const std::string& given = "");

/// The items of `path` in one part of the protocol's seeded split: "train", "test" or "all" (no split); at most
/// max_items of them when max_items > 0 (the first of the shuffled part: a seeded subset). Throws
/// invalid_argument for another part name.
std::vector<Item> load_part(const std::string& path, std::string_view part, std::size_t max_items = 0, std::uint64_t seed = kSplitSeed);

/// The two texts a chat template turns into a prompt.
struct Turns {
    std::string system;
    std::string user;
};

/// Turns of `item` under `variant`. BASE needs no personas (pass nullptr); the others look the item's
/// behaviour up and throw invalid_argument when it is missing.
Turns make_turns(const Item& item, Variant variant, const PersonaPrompts* personas = nullptr);

// =================================================================================================
// Implementation
// =================================================================================================
namespace detail {

inline std::string trim(std::string_view s) {
    std::size_t b = 0, e = s.size();
    while (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\n' || s[b] == '\r')) ++b;
    while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\n' || s[e - 1] == '\r')) --e;
    return std::string(s.substr(b, e - b));
}

/// "(X)" with X in A..Z, after trimming.
inline bool is_letter_answer(const std::string& t) {
    return t.size() == 3 && t[0] == '(' && t[2] == ')' && t[1] >= 'A' && t[1] <= 'Z';
}

/// One raw record: its JSON text and the 1-based line it starts on.
struct RawRecord {
    std::string text;
    std::size_t line = 0;
};

/// Splits a JSON array's top-level elements, tracking strings and escapes, so each element keeps its line.
inline std::vector<RawRecord> split_json_array(const std::string& s, const std::string& path) {
    std::vector<RawRecord> out;
    std::size_t line = 1, i = 0;
    auto fail = [&](const std::string& what) {
        throw data_error(path + ":" + std::to_string(line) + ": " + what);
    };
    while (i < s.size() && s[i] != '[') {
        if (s[i] == '\n') ++line;
        ++i;
    }
    if (i == s.size()) fail("expected a JSON array");
    ++i;
    int depth = 0;
    bool in_str = false, esc = false;
    std::size_t start = 0, start_line = 0;
    bool closed = false;
    for (; i < s.size(); ++i) {
        const char c = s[i];
        if (c == '\n') ++line;
        if (in_str) {
            if (esc) esc = false;
            else if (c == '\\') esc = true;
            else if (c == '"') in_str = false;
            continue;
        }
        if (c == '"') {
            if (depth == 0) {  // a bare string element
                start = i;
                start_line = line;
            }
            in_str = true;
            continue;
        }
        if (c == '{' || c == '[') {
            if (depth == 0) {
                start = i;
                start_line = line;
            }
            ++depth;
        } else if (c == '}' || c == ']') {
            if (depth == 0) {
                if (c == ']') {
                    if (start_line != 0) out.push_back({trim(s.substr(start, i - start)), start_line});
                    closed = true;
                    break;
                }
                fail("unbalanced '}'");
            }
            --depth;
        } else if (c == ',' && depth == 0) {
            if (start_line == 0) fail("empty element in the JSON array");
            out.push_back({trim(s.substr(start, i - start)), start_line});
            start_line = 0;
        } else if (depth == 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n' && start_line == 0) {
            start = i;  // a number or literal element
            start_line = line;
        }
    }
    if (!closed) fail("the JSON array is not closed (truncated file?)");
    return out;
}

inline std::vector<RawRecord> split_jsonl(const std::string& s) {
    std::vector<RawRecord> out;
    std::size_t line = 1, b = 0;
    while (b <= s.size()) {
        std::size_t e = s.find('\n', b);
        if (e == std::string::npos) e = s.size();
        std::string t = trim(std::string_view(s).substr(b, e - b));
        if (!t.empty()) out.push_back({std::move(t), line});
        ++line;
        b = e + 1;
    }
    return out;
}

inline std::string get_text_field(const nlohmann::json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end()) throw data_error(std::string("missing field '") + key + "'");
    if (!it->is_string()) throw data_error(std::string("field '") + key + "' is " + it->type_name() + ", expected a string");
    return it->get<std::string>();
}

/// One reply pair {positive, negative[, template]} (`where` prefixes the error, e.g. "pairs[2].").
inline ReplyPair convert_pair(const nlohmann::json& j, const std::string& where, std::size_t k) {
    ReplyPair p;
    try {
        p.positive = get_text_field(j, "positive");
    } catch (const data_error& e) {
        throw data_error(where + "positive: " + e.what());
    }
    try {
        p.negative = get_text_field(j, "negative");
    } catch (const data_error& e) {
        throw data_error(where + "negative: " + e.what());
    }
    if (auto t = j.find("template"); t != j.end()) {
        if (t->is_string()) p.reply_template = t->get<std::string>();
        else if (t->is_number_integer()) p.reply_template = std::to_string(t->get<long long>());
        else throw data_error(where + "template: is " + std::string(t->type_name()) + ", expected a string or an integer");
    } else {
        p.reply_template = std::to_string(k);
    }
    if (trim(p.positive).empty()) throw data_error(where + "positive: empty reply");
    if (trim(p.negative).empty()) throw data_error(where + "negative: empty reply");
    if (p.positive == p.negative) throw data_error(where + "positive and " + where + "negative are equal");
    return p;
}

/// A free-text record {prompt, positive, negative[, system]} or {prompt, pairs: [...][, system]} as an Item;
/// throws data_error without location.
inline Item convert_free_text(const nlohmann::json& j) {
    Item it;
    it.kind = ItemKind::free_text;
    it.question = get_text_field(j, "prompt");
    if (j.contains("system")) it.system = get_text_field(j, "system");
    if (trim(it.question).empty()) throw data_error("empty prompt");
    if (j.contains("pairs")) {
        if (j.contains("positive") || j.contains("negative"))
            throw data_error("both 'pairs' and 'positive'/'negative': give one shape per record");
        const auto& ps = j.at("pairs");
        if (!ps.is_array()) throw data_error(std::string("field 'pairs' is ") + ps.type_name() + ", expected an array");
        if (ps.empty()) throw data_error("field 'pairs' is empty");
        for (std::size_t k = 0; k < ps.size(); ++k) {
            const std::string where = "pairs[" + std::to_string(k) + "].";
            if (!ps[k].is_object())
                throw data_error("pairs[" + std::to_string(k) + "] is " + ps[k].type_name() + ", expected an object");
            it.pairs.push_back(convert_pair(ps[k], where, k));
        }
    } else {
        it.pairs.push_back(convert_pair(j, "", 0));
    }
    it.matching = it.pairs[0].positive;
    it.not_matching = it.pairs[0].negative;
    return it;
}

inline bool is_free_text_record(const nlohmann::json& j) {
    return j.is_object() && j.contains("prompt") && (j.contains("positive") || j.contains("negative") || j.contains("pairs")) &&
           !j.contains("question");
}

/// Converts one parsed record (0-based index i in its file) to an Item; throws data_error without location.
inline Item convert_record(const nlohmann::json& j, std::size_t i) {
    if (!j.is_object()) throw data_error(std::string("record is ") + j.type_name() + ", expected an object");
    if (is_free_text_record(j)) return convert_free_text(j);
    Item it;
    std::string q = get_text_field(j, "question");
    const std::string m = get_text_field(j, "answer_matching_behavior");
    const std::string n = get_text_field(j, "answer_not_matching_behavior");
    q = strip_meta(q);
    if (trim(q).empty()) throw data_error("empty question");
    const std::string mt = trim(m), nt = trim(n);
    if (mt.empty()) throw data_error("empty answer_matching_behavior");
    if (nt.empty()) throw data_error("empty answer_not_matching_behavior");
    if (mt == nt) throw data_error("both answers are '" + mt + "'");
    const bool lm = is_letter_answer(mt), ln = is_letter_answer(nt);
    if (lm != ln)
        throw data_error("answers '" + mt + "' and '" + nt + "': one is a choice letter \"(X)\", the other is not");
    if (lm) {
        for (const auto* a : {&mt, &nt})
            if (q.find(*a) == std::string::npos)
                throw data_error("answer '" + *a + "' is not among the question's choices");
        it.question = std::move(q);
        it.matching = mt;
        it.not_matching = nt;
        return it;
    }
    // persona-style: build the A/B question, balancing letters.
    const bool swap = (i / 2) % 2 == 0;
    const std::string& a = swap ? n : m;
    const std::string& b = swap ? m : n;
    it.question = q + "\n\nChoices:\n(A): " + a + "\n(B): " + b;
    it.matching = swap ? "(B)" : "(A)";
    it.not_matching = swap ? "(A)" : "(B)";
    return it;
}

}  // namespace detail

inline std::string strip_meta(std::string_view text) {
    static constexpr std::string_view kStart = "<META_START>", kEnd = "<META_END>";
    std::string out;
    out.reserve(text.size());
    std::size_t p = 0;
    while (true) {
        const std::size_t s = text.find(kStart, p);
        if (s == std::string_view::npos) break;
        const std::size_t e = text.find(kEnd, s + kStart.size());
        out.append(text.substr(p, s - p));
        if (e == std::string_view::npos) return out;  // unterminated: the metadata runs to the end of the text
        p = e + kEnd.size();
    }
    out.append(text.substr(p));
    return out;
}

namespace detail {
/// Start of the choice text of letter answer `ans` ("(X)"): just after the last "(X)" that begins a line (blanks
/// before it allowed); npos when there is none.
inline std::size_t choice_text_start(std::string_view q, std::string_view ans) {
    std::size_t p = q.rfind(ans);
    while (p != std::string_view::npos) {
        std::size_t b = p;
        while (b > 0 && (q[b - 1] == ' ' || q[b - 1] == '\t')) --b;
        if (b == 0 || q[b - 1] == '\n') return p + ans.size();
        if (p == 0) break;
        p = q.rfind(ans, p - 1);
    }
    return std::string_view::npos;
}
/// End of a choice text that starts at `from`: the line break before the next line that begins with "(X)", or the
/// end of the question.
inline std::size_t choice_text_end(std::string_view q, std::size_t from) {
    std::size_t nl = q.find('\n', from);
    while (nl != std::string_view::npos) {
        std::size_t b = nl + 1;
        while (b < q.size() && (q[b] == ' ' || q[b] == '\t')) ++b;
        if (b + 2 < q.size() && q[b] == '(' && q[b + 1] >= 'A' && q[b + 1] <= 'Z' && q[b + 2] == ')') return nl;
        nl = q.find('\n', nl + 1);
    }
    return q.size();
}
}  // namespace detail

inline Item mirror(const Item& item) {
    if (item.kind != ItemKind::ab) throw invalid_argument("mirror: only A/B items have an answer order (item from " + item.source + ")");
    const std::string where = item.source + ":" + std::to_string(item.line);
    const std::string m = detail::trim(item.matching), n = detail::trim(item.not_matching);
    const std::string_view q = item.question;
    const std::size_t ms = detail::choice_text_start(q, m), ns = detail::choice_text_start(q, n);
    if (ms == std::string_view::npos || ns == std::string_view::npos)
        throw data_error(where + ": cannot mirror: choice " + (ms == std::string_view::npos ? m : n) +
                         " is not written at the start of a line of the question");
    const std::size_t me = detail::choice_text_end(q, ms), ne = detail::choice_text_end(q, ns);
    const bool m_first = ms < ns;
    const std::size_t s1 = m_first ? ms : ns, e1 = m_first ? me : ne, s2 = m_first ? ns : ms, e2 = m_first ? ne : me;
    if (e1 > s2) throw data_error(where + ": cannot mirror: the choices " + m + " and " + n + " overlap");
    Item out = item;
    out.question = std::string(q.substr(0, s1)) + std::string(q.substr(s2, e2 - s2)) + std::string(q.substr(e1, s2 - e1)) +
                   std::string(q.substr(s1, e1 - s1)) + std::string(q.substr(e2));
    out.matching = item.not_matching;
    out.not_matching = item.matching;
    return out;
}

inline std::string behaviour_name(const std::string& path) {
    const std::filesystem::path p(path);
    const std::string stem = p.stem().string();
    if (stem == "generate_dataset" || stem == "test_dataset_ab" || stem == "dataset") {
        const auto parent = p.parent_path().filename().string();
        if (!parent.empty()) return parent;
    }
    return stem;
}

inline std::vector<Item> load_items(const std::string& path, const LoadOptions& opts, LoadReport* report) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw io_error(path + ": cannot open dataset file");
    std::ostringstream ss;
    ss << f.rdbuf();
    if (f.bad()) throw io_error(path + ": read failed");
    return parse_items(ss.str(), path, opts, report);
}

inline std::vector<Item> parse_items(std::string_view text_view, const std::string& path, const LoadOptions& opts, LoadReport* report) {
    const std::string text(text_view);
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) throw data_error(path + ": empty dataset file");
    const std::vector<detail::RawRecord> raw =
        text[first] == '[' ? detail::split_json_array(text, path) : detail::split_jsonl(text);
    const std::string behaviour = opts.behaviour.empty() ? behaviour_name(path) : opts.behaviour;
    LoadReport rep;
    std::vector<Item> items;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (opts.max_items && items.size() >= opts.max_items) break;
        ++rep.records;
        try {
            nlohmann::json j;
            try {
                j = nlohmann::json::parse(raw[i].text);
            } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for a number like 1e99999
                throw data_error(std::string("invalid JSON: ") + e.what());
            }
            Item it = detail::convert_record(j, i);
            if (!items.empty() && it.kind != items.front().kind)
                throw data_error(std::string("a ") + (it.kind == ItemKind::free_text ? "free-text pair" : "A/B record") +
                                 " in a file of " + (items.front().kind == ItemKind::free_text ? "free-text pairs" : "A/B records") +
                                 "; one kind per file");
            it.behaviour = behaviour;
            it.source = path;
            it.line = raw[i].line;
            it.index = i;
            items.push_back(std::move(it));
        } catch (const data_error& e) {
            std::string msg = path + ":" + std::to_string(raw[i].line) + ": record " + std::to_string(i) + ": " + e.what();
            if (!opts.skip_bad) throw data_error(msg);
            ++rep.skipped;
            rep.problems.push_back(std::move(msg));
        }
    }
    if (items.empty()) throw data_error(path + ": no usable items (" + std::to_string(rep.skipped) + " bad records skipped)");
    if (report) *report = std::move(rep);
    return items;
}

inline std::vector<Item> expand_pairs(const std::vector<Item>& items) {
    std::vector<Item> out;
    out.reserve(items.size());
    for (const auto& it : items) {
        if (it.kind != ItemKind::free_text || it.pairs.size() <= 1) {
            out.push_back(it);
            continue;
        }
        for (std::size_t k = 0; k < it.pairs.size(); ++k) {
            Item e = it;
            e.matching = it.pairs[k].positive;
            e.not_matching = it.pairs[k].negative;
            e.pair = static_cast<int>(k);
            out.push_back(std::move(e));
        }
    }
    return out;
}

inline std::vector<int> reply_template_ids(const std::vector<Item>& items) {
    std::map<std::string, int> ids;
    std::vector<int> out;
    out.reserve(items.size());
    for (const auto& it : items) {
        const std::string key = it.pairs.empty() ? std::to_string(it.pair)
                                                 : it.pairs.at(static_cast<std::size_t>(it.pair)).reply_template;
        const auto [pos, fresh] = ids.try_emplace(key, static_cast<int>(ids.size()));
        (void)fresh;
        out.push_back(pos->second);
    }
    return out;
}

inline std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t n) {
    // Largest multiple of n that fits; draws at or above it are rejected, so every value is equally likely.
    const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
    std::uint64_t x;
    do {
        x = rng();
    } while (x >= limit);
    return x % n;
}

inline Split split_items(std::vector<Item> items, std::uint64_t seed) {
    portable_shuffle(items, seed);
    Split s;
    const std::size_t n_train = items.size() / 2;
    s.train.assign(std::make_move_iterator(items.begin()), std::make_move_iterator(items.begin() + static_cast<std::ptrdiff_t>(n_train)));
    s.test.assign(std::make_move_iterator(items.begin() + static_cast<std::ptrdiff_t>(n_train)), std::make_move_iterator(items.end()));
    return s;
}

inline std::string_view variant_name(Variant v) {
    switch (v) {
        case Variant::base: return "BASE";
        case Variant::sys_pos: return "SYS.POS";
        case Variant::sys_neg: return "SYS.NEG";
        case Variant::user_pos: return "USER.POS";
        case Variant::user_neg: return "USER.NEG";
    }
    return "?";
}

inline Variant parse_variant(std::string_view name) {
    std::string n(name);
    for (char& c : n) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (c == '_') c = '.';
    }
    for (Variant v : kAllVariants)
        if (variant_name(v) == n) return v;
    throw invalid_argument("unknown prompt variant '" + std::string(name) +
                           "': expected BASE, SYS.POS, SYS.NEG, USER.POS or USER.NEG");
}

inline const PersonaPrompts::Entry& PersonaPrompts::at(const std::string& behaviour) const {
    auto it = by_behaviour.find(behaviour);
    if (it == by_behaviour.end())
        throw invalid_argument("no persona sentences for behaviour '" + behaviour + "' (" +
                               std::to_string(by_behaviour.size()) + " behaviours known); the SYS/USER variants need one");
    return it->second;
}

inline PersonaPrompts load_persona_prompts(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw io_error(path + ": cannot open persona prompts");
    std::ostringstream ss;
    ss << f.rdbuf();
    if (f.bad()) throw io_error(path + ": read failed");
    return parse_persona_prompts(ss.str(), path);
}

inline PersonaPrompts parse_persona_prompts(std::string_view text, const std::string& path) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for a number like 1e99999
        throw data_error(path + ": invalid JSON: " + e.what());
    }
    if (!j.is_object()) throw data_error(path + ": expected an object {behaviour: {positive, negative}}");
    PersonaPrompts p;
    for (const auto& [name, e] : j.items()) {
        try {
            if (!e.is_object()) throw data_error("entry is not an object");
            PersonaPrompts::Entry entry{detail::get_text_field(e, "positive"), detail::get_text_field(e, "negative"),
                                        e.contains("kind") && e["kind"].is_string() ? e["kind"].get<std::string>() : ""};
            if (entry.positive.empty() || entry.negative.empty()) throw data_error("empty persona sentence");
            p.by_behaviour.emplace(name, std::move(entry));
        } catch (const data_error& err) {
            throw data_error(path + ": behaviour '" + name + "': " + err.what());
        }
    }
    return p;
}

inline PersonaPrompts find_persona_prompts(const std::string& data, const std::string& given) {
    if (!given.empty()) return load_persona_prompts(given);
    namespace fs = std::filesystem;
    for (fs::path dir = fs::path(data).parent_path(); !dir.empty(); dir = dir.parent_path()) {
        if (fs::exists(dir / "persona_prompts.json")) return load_persona_prompts((dir / "persona_prompts.json").string());
        if (dir == dir.parent_path()) break;
    }
    throw invalid_argument("the SYS/USER prompt variants need persona sentences: no persona_prompts.json found beside " + data +
                           " or above it; give the file explicitly (--personas FILE)");
}

inline Turns make_turns(const Item& item, Variant variant, const PersonaPrompts* personas) {
    const std::string base_system = item.system.empty() ? std::string(kDefaultSystemPrompt) : item.system;
    if (variant == Variant::base) return {base_system, item.question};
    if (!personas)
        throw invalid_argument(std::string("prompt variant ") + std::string(variant_name(variant)) +
                               " needs the persona sentences (persona_prompts.json)");
    const auto& e = personas->at(item.behaviour);
    switch (variant) {
        case Variant::sys_pos: return {e.positive, item.question};
        case Variant::sys_neg: return {e.negative, item.question};
        case Variant::user_pos: return {base_system, e.positive + "\n\n" + item.question};
        case Variant::user_neg: return {base_system, e.negative + "\n\n" + item.question};
        case Variant::base: break;
    }
    return {base_system, item.question};
}

inline std::optional<PersonaPrompts> personas_for(Variant v, const std::string& data, const std::string& given) {
    if (v == Variant::base) return std::nullopt;
    return find_persona_prompts(data, given);
}

inline std::vector<Item> load_part(const std::string& path, std::string_view part, std::size_t max_items, std::uint64_t seed) {
    if (part != "train" && part != "test" && part != "all")
        throw invalid_argument("split part '" + std::string(part) + "': expected train, test or all");
    auto items = load_items(path);
    std::vector<Item> out;
    if (part == "all") {
        out = std::move(items);
    } else {
        auto split = split_items(std::move(items), seed);
        out = part == "train" ? std::move(split.train) : std::move(split.test);
    }
    if (max_items && out.size() > max_items) out.resize(max_items);
    return out;
}

}  // namespace w2s::steer
