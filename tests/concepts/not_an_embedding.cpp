// Must NOT compile: a standardized embedding over a type that is not an Embedding; the written message of
// W2S_REQUIRE_EMBEDDING must show.
#include <w2s/route/embedding.hpp>

struct NotAnEmbedding {
    int dim() const { return 3; }
};

int main() {
    w2s::route::Standardized<NotAnEmbedding> s;
    (void)s;
}
