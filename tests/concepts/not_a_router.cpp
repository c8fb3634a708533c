// Must NOT compile: a steerer over a type that is not a Router. The test passes when the compiler prints the
// written message of W2S_REQUIRE_ROUTER (tests/concepts/CMakeLists.txt).
#include <w2s/adaptive_steerer.hpp>
#include <w2s/model/model.hpp>

struct NotARouter {
    int predict_one(int) const { return 0; }
};

int main() {
    const w2s::model::LlamaModel* m = nullptr;
    w2s::AdaptiveSteerer<w2s::model::LlamaModel, NotARouter> s(*m);
    (void)s;
}
