// Must NOT compile: vectors from a type that is not an Estimator; the written message of check_estimator must show.
#include <w2s/model/model.hpp>
#include <w2s/steer/activations.hpp>

struct NotAnEstimator {
    static constexpr const char* name = "nope";
};

int main() {
    const w2s::model::LlamaModel* m = nullptr;
    w2s::ThreadPool pool(1);
    (void)w2s::steer::extract_vectors(*m, {}, NotAnEstimator{}, {}, pool);
}
