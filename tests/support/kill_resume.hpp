// Kill-and-resume support (issue 17d): runs a test case of this same executable as a child process (the test
// case sees the environment variable `role` set and does the child's work), kills it with SIGKILL at random
// moments, and repeats until `finished()` says the work is complete or `attempts` children have been killed.
// The test then finishes the work in its own process and compares the result with an uninterrupted run.
// A killed child cannot clean up after itself: `after_child(pid)` is called once each child is reaped, so that the
// test removes what that child made under its own pid. A child is never left running or unreaped: if `progress()`
// or `finished()` throws, the child is killed and reaped before the exception goes on.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace w2s::test {

/// True when this process was started by kill_at_random_points as the child for `role`.
inline bool is_child(const char* role) {
    const char* v = std::getenv(role);
    return v && *v;
}

struct KillStats {
    int children = 0;  ///< children started
    int killed = 0;    ///< killed by SIGKILL before they exited
    int mid_way = 0;   ///< kills after which `progress()` was strictly between none and all of the work
};

/// Starts this executable with `--run_test=<test_case>` and `role`=1 in its environment and kills it with SIGKILL
/// at a random point: once `progress()` (0..1, polled every millisecond) reaches a target drawn in [0.05, 0.95],
/// after a further random 0..`jitter` (so that kills land inside a record's write as well as between them), or
/// after `max_wait` whatever the progress (a child that exits first is waited for). Repeats until `finished()` or
/// `attempts` children. Points are chosen by progress, not by time, so that a slow start (a sanitizer build, a
/// loaded machine) does not turn every kill into one before any work.
inline KillStats kill_at_random_points(const std::string& test_case, const char* role, std::chrono::milliseconds jitter,
                                       int attempts, std::uint64_t seed, const std::function<bool()>& finished,
                                       const std::function<double()>& progress,
                                       std::chrono::milliseconds max_wait = std::chrono::milliseconds(120000),
                                       const std::function<void(pid_t)>& after_child = {}) {
    char exe[4096];
    const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) throw std::runtime_error("kill_at_random_points: cannot read /proc/self/exe");
    exe[n] = '\0';
    const std::string run_test = "--run_test=" + test_case;
    std::vector<std::string> env_s;
    for (char** e = environ; *e; ++e) env_s.emplace_back(*e);
    env_s.push_back(std::string(role) + "=1");
    std::vector<char*> envp;
    for (auto& s : env_s) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string a0 = exe, a1 = run_test, a2 = "--log_level=nothing", a3 = "--report_level=no";
    char* argv[] = {a0.data(), a1.data(), a2.data(), a3.data(), nullptr};
    std::mt19937_64 g(seed);
    std::uniform_real_distribution<double> target(0.05, 0.95);
    std::uniform_int_distribution<long> delay(0, jitter.count());
    KillStats st;
    while (st.children < attempts && !finished()) {
        pid_t pid = 0;
        if (::posix_spawn(&pid, exe, nullptr, nullptr, argv, envp.data()) != 0)
            throw std::runtime_error("kill_at_random_points: cannot start " + std::string(exe));
        ++st.children;
        int status = 0;
        bool exited = false;
        bool reaped = false;
        try {
            const double at = std::max(target(g), progress() + 0.01);
            const auto t0 = std::chrono::steady_clock::now();
            while (!(exited = ::waitpid(pid, &status, WNOHANG) != 0) && progress() < at &&
                   std::chrono::steady_clock::now() - t0 < max_wait)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            if (!exited) {
                std::this_thread::sleep_for(std::chrono::milliseconds(delay(g)));
                exited = ::waitpid(pid, &status, WNOHANG) != 0;
            }
            if (!exited) {
                ::kill(pid, SIGKILL);
                ::waitpid(pid, &status, 0);
                reaped = true;
                ++st.killed;
                const double p = progress();
                st.mid_way += p > 0.0 && p < 1.0;
            }
            reaped = true;
        } catch (...) {
            if (!reaped && !exited) {
                ::kill(pid, SIGKILL);
                ::waitpid(pid, &status, 0);
            }
            if (after_child) after_child(pid);
            throw;
        }
        if (after_child) after_child(pid);
        if (exited && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
            throw std::runtime_error("kill_at_random_points: the child " + test_case + " failed on its own (status " +
                                     std::to_string(status) + ")");
    }
    return st;
}

}  // namespace w2s::test
