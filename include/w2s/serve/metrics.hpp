// w2s/serve/metrics.hpp — what a server counts, in Prometheus' text format.
//
//   Metrics m;
//   m.count("w2s_requests_total", {{"endpoint", "chat"}, {"status", "200"}});
//   m.observe("w2s_step_seconds", 0.031);
//   std::string text = m.prometheus();     // GET /metrics
//
// Counters (monotonic), gauges (set) and histograms (fixed buckets) by name and labels; every member is thread-safe.
// The names and their help texts are declared once (describe); a metric that is never touched is still listed with
// zero so that a scraper sees every name from the start.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace w2s::serve {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
public:
    enum class Kind { counter, gauge, histogram };

    /// Declares a metric: its kind, help text and (histograms) bucket upper bounds, ascending.
    void describe(const std::string& name, Kind kind, std::string help, std::vector<double> buckets = {}) {
        const std::lock_guard lock(m_);
        auto& f = families_[name];
        f.kind = kind;
        f.help = std::move(help);
        f.buckets = std::move(buckets);
    }
    /// counter += by
    void count(const std::string& name, const Labels& labels = {}, double by = 1.0) {
        const std::lock_guard lock(m_);
        families_[name].series[key(labels)].value += by;
    }
    /// gauge = v
    void set(const std::string& name, double v, const Labels& labels = {}) {
        const std::lock_guard lock(m_);
        families_[name].series[key(labels)].value = v;
    }
    /// histogram observation
    void observe(const std::string& name, double v, const Labels& labels = {}) {
        const std::lock_guard lock(m_);
        auto& f = families_[name];
        auto& s = f.series[key(labels)];
        if (s.counts.size() != f.buckets.size()) s.counts.assign(f.buckets.size(), 0);
        for (std::size_t i = 0; i < f.buckets.size(); ++i)
            if (v <= f.buckets[i]) ++s.counts[i];
        s.sum += v;
        ++s.n;
    }
    /// The value of a counter or gauge (0 when never set), for tests and summaries.
    [[nodiscard]] double value(const std::string& name, const Labels& labels = {}) const {
        const std::lock_guard lock(m_);
        const auto f = families_.find(name);
        if (f == families_.end()) return 0.0;
        const auto s = f->second.series.find(key(labels));
        return s == f->second.series.end() ? 0.0 : (f->second.kind == Kind::histogram ? static_cast<double>(s->second.n) : s->second.value);
    }

    /// Prometheus text exposition format, version 0.0.4.
    [[nodiscard]] std::string prometheus() const {
        const std::lock_guard lock(m_);
        std::ostringstream os;
        os.precision(10);
        for (const auto& [name, f] : families_) {
            os << "# HELP " << name << ' ' << f.help << '\n';
            os << "# TYPE " << name << ' ' << (f.kind == Kind::counter ? "counter" : f.kind == Kind::gauge ? "gauge" : "histogram") << '\n';
            if (f.series.empty()) {
                if (f.kind == Kind::histogram) {
                    for (double b : f.buckets) os << name << "_bucket{le=\"" << b << "\"} 0\n";
                    os << name << "_bucket{le=\"+Inf\"} 0\n" << name << "_sum 0\n" << name << "_count 0\n";
                } else {
                    os << name << " 0\n";
                }
                continue;
            }
            for (const auto& [lab, s] : f.series) {
                if (f.kind != Kind::histogram) {
                    os << name << braces(lab) << ' ' << s.value << '\n';
                    continue;
                }
                for (std::size_t i = 0; i < f.buckets.size(); ++i)
                    os << name << "_bucket" << braces(join(lab, "le=\"" + num(f.buckets[i]) + "\"")) << ' '
                       << (i < s.counts.size() ? s.counts[i] : 0) << '\n';
                os << name << "_bucket" << braces(join(lab, "le=\"+Inf\"")) << ' ' << s.n << '\n';
                os << name << "_sum" << braces(lab) << ' ' << s.sum << '\n';
                os << name << "_count" << braces(lab) << ' ' << s.n << '\n';
            }
        }
        return os.str();
    }

private:
    struct Series {
        double value = 0.0;
        std::vector<std::uint64_t> counts;  // cumulative per bucket
        double sum = 0.0;
        std::uint64_t n = 0;
    };
    struct Family {
        Kind kind = Kind::counter;
        std::string help;
        std::vector<double> buckets;
        std::map<std::string, Series> series;  // by rendered labels
    };
    static std::string escape(const std::string& v) {
        std::string o;
        for (char c : v) {
            if (c == '\\' || c == '"') o += '\\';
            if (c == '\n') {
                o += "\\n";
                continue;
            }
            o += c;
        }
        return o;
    }
    static std::string key(const Labels& labels) {
        std::string k;
        for (const auto& [n, v] : labels) k += (k.empty() ? "" : ",") + n + "=\"" + escape(v) + "\"";
        return k;
    }
    static std::string num(double b) {
        std::ostringstream os;
        os << b;
        return os.str();
    }
    static std::string join(const std::string& a, const std::string& b) { return a.empty() ? b : a + "," + b; }
    static std::string braces(const std::string& k) { return k.empty() ? std::string() : "{" + k + "}"; }

    mutable std::mutex m_;
    std::map<std::string, Family> families_;
};

}  // namespace w2s::serve
