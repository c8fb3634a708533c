// Prints the behaviour-averaged table of an evaluation report on a terminal.
#pragma once

#include <cmath>
#include <cstdio>
#include <ostream>

#include <w2s/eval/report.hpp>

namespace w2s::cli {

inline void print_average_table(std::ostream& os, const eval::Report& r) {
    char line[256];
    std::string pair;
    for (const auto& row : eval::averages(r)) {
        if (row.pair != pair) {
            pair = row.pair;
            os << "\n" << pair << " (averaged over " << row.behaviours << " behaviour" << (row.behaviours == 1 ? "" : "s") << ")\n";
            std::snprintf(line, sizeof line, "  %-28s %10s %10s %10s\n", "method", "mean s", "steerable", "gap closed");
            os << line;
        }
        std::snprintf(line, sizeof line, "  %-28s %10.3f %9.1f%% %10s\n", row.method.c_str(), row.mean_steerability,
                      100.0 * row.fraction_steerable,
                      std::isfinite(row.gap_closed) ? (std::to_string(static_cast<int>(std::lround(100.0 * row.gap_closed))) + "%").c_str() : "-");
        os << line;
    }
    bool header = false;
    for (const auto& b : r.behaviours)
        for (const auto& p : b.pairs) {
            if (!p.letter.present()) continue;
            if (!header) {
                os << "\nletter diagnostic (test items in both answer orders; means over the swept layers)\n";
                std::snprintf(line, sizeof line, "  %-24s %-16s %11s %12s %14s  %s\n", "behaviour", "pair", "orders corr",
                              "letter part", "behaviour part", "letter dominates");
                os << line;
                header = true;
            }
            std::snprintf(line, sizeof line, "  %-24s %-16s %11.2f %12.4f %14.4f  %s\n", b.behaviour.c_str(), p.name().c_str(),
                          p.letter.mean_correlation, p.letter.mean_letter_part, p.letter.mean_behaviour_part,
                          p.letter.dominated ? "yes" : "no");
            os << line;
        }
}

}  // namespace w2s::cli
