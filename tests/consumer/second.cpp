// A second translation unit: with w2s_precompile_headers both files reuse one precompiled <w2s/w2s.hpp>.
#include <w2s/w2s.hpp>

int consumer_layers_of_an_empty_set() {
    const w2s::steer::VectorSet vs(4, 8);
    return vs.n_layers();
}
