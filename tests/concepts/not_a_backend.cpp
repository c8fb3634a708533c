// Must NOT compile: the sweep over a type that is not a Backend; the written message of check_backend must show.
#include <w2s/sweep/engine.hpp>

struct NotABackend {
    int n_layers() const { return 1; }
};

int main() {
    const NotABackend b;
    w2s::ThreadPool pool(1);
    (void)w2s::sweep::run_sweep(b, {}, w2s::steer::VectorSet{}, {}, {}, "", pool);
}
