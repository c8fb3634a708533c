// The CLI's progress bar: items done, rate, time left. Library code emits w2s::ProgressEvent; tools draw.
//
//   w2s::cli::ProgressBar bar;                 // draws on stderr, only when stderr is a terminal
//   run(..., bar.callback());                  // or bar.update(stage, done, total)
//   bar.finish();                              // ends the line (also done by the destructor)
//
// Quiet (draws nothing) when stderr or stdout is not a terminal, so logs and pipes stay clean; set
// force = true to draw anyway. Redraws at most every 100 ms (and always for the last item). Not
// thread-safe: the library serialises its progress calls.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

#include <unistd.h>

#include <w2s/core/progress.hpp>

namespace w2s::cli {

class ProgressBar {
public:
    explicit ProgressBar(bool force = false)
        : enabled_(force || (::isatty(STDERR_FILENO) != 0 && ::isatty(STDOUT_FILENO) != 0)) {}
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;
    ~ProgressBar() { finish(); }

    [[nodiscard]] bool enabled() const noexcept { return enabled_; }

    /// A ProgressFn drawing on this bar (which must outlive it).
    [[nodiscard]] ProgressFn callback() {
        return [this](const ProgressEvent& e) { update(e.stage, e.done, e.total); };
    }

    void update(std::string_view stage, std::size_t done, std::size_t total) {
        using clock = std::chrono::steady_clock;
        const auto now = clock::now();
        if (stage != stage_) {  // a new stage: end the old line, restart the clock
            finish();
            stage_ = std::string(stage);
            start_ = now;
            last_draw_ = clock::time_point{};
        }
        if (!enabled_) return;
        if (done < total && now - last_draw_ < std::chrono::milliseconds(100)) return;
        last_draw_ = now;
        const double secs = std::chrono::duration<double>(now - start_).count();
        const double rate = secs > 0 ? static_cast<double>(done) / secs : 0.0;
        constexpr int width = 28;
        const int fill = total ? static_cast<int>(width * static_cast<double>(done) / static_cast<double>(total)) : 0;
        std::string bar(static_cast<std::size_t>(fill), '#');
        bar.resize(width, '.');
        char eta[32] = "--";
        if (rate > 0 && total >= done) format_time(static_cast<double>(total - done) / rate, eta, sizeof eta);
        std::fprintf(stderr, "\r%s [%s] %zu/%zu  %.2f items/s  left %s   ", stage_.c_str(), bar.c_str(), done, total,
                     rate, eta);
        std::fflush(stderr);
        drawn_ = true;
    }

    /// Ends the current line (if anything was drawn).
    void finish() {
        if (drawn_) {
            std::fputc('\n', stderr);
            std::fflush(stderr);
        }
        drawn_ = false;
    }

private:
    static void format_time(double s, char* out, std::size_t n) {
        const long t = static_cast<long>(s + 0.5);
        if (t >= 3600)
            std::snprintf(out, n, "%ldh%02ldm", t / 3600, (t / 60) % 60);
        else
            std::snprintf(out, n, "%ldm%02lds", t / 60, t % 60);
    }

    bool enabled_;
    bool drawn_ = false;
    std::string stage_;
    std::chrono::steady_clock::time_point start_{}, last_draw_{};
};

}  // namespace w2s::cli
