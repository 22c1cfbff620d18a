#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil {

// One perfdata item as printed: 'label'=value[UOM][;warn;crit;min;max].
struct PerfItem {
  std::string label;  // without quotes, '' unescaped
  double value = 0;   // as printed
  std::string uom;
};

// Parses the perfdata part of a monitoring plugin's output (the monitoring
// plugins development guidelines): items separated by blanks, labels quoted
// with '…' when they hold blanks or `=` ('' is a quote inside), every field
// after the value optional and possibly empty. An item that does not parse
// (no `=`, a value of `U`, a non-numeric value) is skipped; the others stay.
std::vector<PerfItem> parse_perfdata(std::string_view text);

// A label as a metric name: every character outside [A-Za-z0-9_.] becomes `_`.
std::string perf_metric_name(std::string_view label);

// The value in base units: B KB MB GB TB become bytes (powers of 1024),
// s ms us seconds; %, c and any other unit keep the number as printed.
double perf_value_in_base_units(const PerfItem& item);

// What a check makes of a plugin's whole stdout.
struct PluginOutput {
  std::string message;                                  // the first line up to any `|`, trimmed
  std::vector<std::pair<std::string, double>> metrics;  // perfdata, in order
};

// Nagios output: `TEXT | PERF` on the first line, then long text; the first
// `|` in the long text starts more perfdata, which runs to the end of the
// output. Metric names clash after sanitising: the first wins; a label that
// names `status` is ignored (the exit code owns that metric).
PluginOutput parse_plugin_output(std::string_view output);

}  // namespace vigil
