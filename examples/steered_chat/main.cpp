// examples/steered_chat — chat with a real GGUF model, with and without a steering vector at one layer.
//
//   steered_chat MODEL.gguf [--prompt TEXT] [--layer L] [--alpha A] [--vector VEC.gguf] [--max-tokens N]
//
// Without --vector, the example makes its own direction the simplest way there is: the residual stream at
// the output of block L for a "positive" and a "negative" statement, captured by a hook at their last
// token, and their difference (normalised to the residual's typical size). Then it answers the prompt
// twice — plainly and with alpha * direction added at block L at every position — streaming both.
// With --vector it reads a llama.cpp control-vector file (direction.L) instead.
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include <w2s/model/generate.hpp>
#include <w2s/model/model.hpp>
#include <w2s/steer/apply.hpp>
#include <w2s/steer/control_vector.hpp>

namespace wm = w2s::model;

namespace {

/// The residual at the output of block `layer` for the last token of `text` (as a user message).
std::vector<float> last_token_residual(const wm::LlamaModel& m, const std::string& text, int layer) {
    const auto ids = m.tokenizer().encode(m.chat_template().render_prompt("", text), false);
    std::vector<float> out;
    wm::Hook capture = [&](const wm::BlockOutput& o) {
        if (o.layer != layer) return;
        const float* row = o.residual.row(o.residual.rows - 1);
        out.assign(row, row + o.residual.cols);
    };
    auto s = m.new_session();
    m.prefill(s, ids, capture, nullptr);
    return out;
}

}  // namespace

int main(int argc, char** argv) try {
    std::string model_path, prompt = "Tell me about your weekend.", vector_path;
    int layer = -1, max_tokens = 48;
    float alpha = 4.0f;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) throw w2s::invalid_argument(a + " needs a value");
            return argv[++i];
        };
        if (a == "--prompt") prompt = next();
        else if (a == "--layer") layer = std::stoi(next());
        else if (a == "--alpha") alpha = std::stof(next());
        else if (a == "--vector") vector_path = next();
        else if (a == "--max-tokens") max_tokens = std::stoi(next());
        else model_path = a;
    }
    if (model_path.empty()) {
        std::cerr << "usage: steered_chat MODEL.gguf [--prompt TEXT] [--layer L] [--alpha A] [--vector VEC.gguf]\n";
        return 2;
    }
    const auto m = wm::LlamaModel::load(model_path);
    if (layer < 0) layer = m.n_layers() / 3;

    // The direction: from a control-vector file, or positive minus negative residual at block `layer`.
    std::vector<float> v;
    if (!vector_path.empty()) {
        const auto set = w2s::steer::load_control_vector(vector_path, m.n_layers());
        const auto d = set.at(layer);
        v.assign(d.begin(), d.end());
    } else {
        const auto pos = last_token_residual(m, "I feel wonderful, joyful and full of gratitude today!", layer);
        const auto neg = last_token_residual(m, "I feel miserable, gloomy and full of resentment today.", layer);
        double norm = 0, scale = 0;
        v.resize(pos.size());
        for (std::size_t j = 0; j < v.size(); ++j) {
            v[j] = pos[j] - neg[j];
            norm += static_cast<double>(v[j]) * v[j];
            scale += static_cast<double>(pos[j]) * pos[j];
        }
        // unit direction times the residual's size, so alpha reads as "fractions of the residual"
        const auto f = static_cast<float>(std::sqrt(scale / norm));
        for (auto& x : v) x *= f / static_cast<float>(std::sqrt(static_cast<double>(v.size())));
    }

    const auto ids = m.tokenizer().encode(m.chat_template().render_prompt("", prompt), false);
    wm::GenerateOptions opt;
    opt.max_tokens = max_tokens;
    auto stream = [](wm::token_id, std::string_view piece) {
        std::cout << piece << std::flush;
        return true;
    };

    std::cout << "user: " << prompt << "\n\n[plain]\n";
    wm::generate(m, ids, opt, {}, stream);

    // Steering = a hook. SteeringHook adds alpha * v at the output of block `layer`, every position.
    const w2s::steer::SteeringHook steer({{layer, alpha, v}}, w2s::steer::Positions::all());
    std::cout << "\n\n[steered: block " << layer << ", alpha " << alpha << "]\n";
    wm::generate(m, ids, opt, steer, stream);
    std::cout << '\n';
    return 0;
} catch (const std::exception& e) {
    std::cerr << "steered_chat: " << e.what() << '\n';
    return 1;
}
