// w2s/core/parallel.hpp — thread-count control and parallel loops on oneTBB.
//
// All parallel work in w2s runs inside the arena of a w2s::ThreadPool (a tbb::task_arena), so a caller
// sets the thread count once and every nested parallel_for respects it. threads == 0 means "all cores".
#pragma once

#include <cstddef>
#include <thread>
#include <utility>

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

namespace w2s {

class ThreadPool {
public:
    explicit ThreadPool(int threads = 0)
        : threads_(threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
          arena_(threads_) {}
    [[nodiscard]] int threads() const noexcept { return threads_; }
    /// Runs f() inside this pool's arena; parallel loops inside use at most threads() threads.
    template <class F>
    decltype(auto) run(F&& f) {
        return arena_.execute(std::forward<F>(f));
    }

private:
    int threads_;
    tbb::task_arena arena_;
};

/// parallel for over [begin, end) in chunks of at least `grain`; f(i) per index.
template <class F>
void parallel_for(std::size_t begin, std::size_t end, std::size_t grain, F&& f) {
    if (end <= begin) return;
    if (end - begin <= grain) {
        for (std::size_t i = begin; i < end; ++i) f(i);
        return;
    }
    tbb::parallel_for(tbb::blocked_range<std::size_t>(begin, end, grain),
                      [&](const tbb::blocked_range<std::size_t>& r) {
                          for (std::size_t i = r.begin(); i != r.end(); ++i) f(i);
                      });
}

/// parallel for over ranges: f(lo, hi).
template <class F>
void parallel_for_range(std::size_t begin, std::size_t end, std::size_t grain, F&& f) {
    if (end <= begin) return;
    if (end - begin <= grain) {
        f(begin, end);
        return;
    }
    tbb::parallel_for(tbb::blocked_range<std::size_t>(begin, end, grain),
                      [&](const tbb::blocked_range<std::size_t>& r) { f(r.begin(), r.end()); });
}

}  // namespace w2s
