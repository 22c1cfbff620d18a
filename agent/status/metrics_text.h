#pragma once

#include <string>

#include "agent/status/snapshot.h"

namespace vigil {

// GET /metrics: Prometheus text format 0.0.4 (docs/STATUS.md). Every series of a
// configured check or output exists from the start.
std::string metrics_text(const StatusSnapshot& s);

// Escapes a label value: backslash, double quote and newline.
std::string escape_label_value(const std::string& v);
// A sample value: NaN, +Inf, -Inf, or the shortest exact decimal.
std::string format_sample_value(double v);

}  // namespace vigil
