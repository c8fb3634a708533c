// The two absolute paths the tests need, compiled here and nowhere else: a path baked into a header would make
// every test file's preprocessed text differ between two clones, so that ccache (which hashes that text) could
// reuse none of them in a fresh clone. This file is the only one recompiled there.
#include "w2s_test_support.hpp"

namespace w2s::test {

std::string source_dir() { return W2S_SOURCE_DIR; }
std::string golden_dir() { return W2S_GOLDEN_DIR; }

}  // namespace w2s::test
