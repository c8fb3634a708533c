// Must NOT compile: an Embedding of strings in AdaptiveSteerer's embedding slot, which gives an embedding the
// prompt's ids and residuals (route::PromptInput) or its residuals (route::PromptResiduals); the written message
// of W2S_REQUIRE_PROMPT_EMBEDDING must show.
#include <string>

#include <w2s/adaptive_steerer.hpp>
#include <w2s/model/model.hpp>

struct TextEmbedding {
    using input_type = std::string;
    std::size_t dim() const { return 4; }
    Eigen::VectorXf embed(const std::string&) const { return Eigen::VectorXf::Zero(4); }
};
static_assert(w2s::route::Embedding<TextEmbedding>);  // an Embedding, but not one the steerer can feed

int main() {
    auto m = w2s::model::LlamaModel::load("unused.gguf");
    w2s::AdaptiveSteerer<w2s::model::LlamaModel, w2s::route::KnnCV, TextEmbedding> s(m, {}, {}, TextEmbedding{});
    (void)s;
}
