// w2s/eval/eval.hpp — everything of eval/: layer-policy metrics, the report structure, its JSON / Markdown / SVG
// writers, and the SVG writer itself.
#pragma once

#include "w2s/eval/metrics.hpp"
#include "w2s/eval/report.hpp"
#include "w2s/eval/report_io.hpp"
#include "w2s/io/svg.hpp"
