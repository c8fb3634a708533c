// w2s/core/progress.hpp — progress events. The library emits, the CLI draws.
//
// Long operations take a `const ProgressFn&` (may be empty). They call it with the number of work items
// done and the total; the tool at the edge turns that into a bar with rate and time left.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace w2s {

struct ProgressEvent {
    std::string_view stage;  ///< what is running, e.g. "sweep"
    std::size_t done = 0;    ///< items finished
    std::size_t total = 0;   ///< items in all
};
using ProgressFn = std::function<void(const ProgressEvent&)>;

inline void report(const ProgressFn& fn, std::string_view stage, std::size_t done, std::size_t total) {
    if (fn) fn(ProgressEvent{stage, done, total});
}

}  // namespace w2s
