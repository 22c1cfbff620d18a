#include "plugins/exec/perfdata.h"

#include <cmath>
#include <cstdlib>

#include "agent/util/strings.h"

namespace vigil {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

// A decimal number at the start of s ([-+]digits[.digits][e[-+]digits]);
// returns its length, 0 when there is none. strtod alone would also take
// `inf`, `nan` and hex, which no plugin means.
size_t number_length(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) {
    ++i;
  }
  bool digits = false;
  while (i < s.size() && is_digit(s[i])) {
    ++i;
    digits = true;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && is_digit(s[i])) {
      ++i;
      digits = true;
    }
  }
  if (!digits) {
    return 0;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    size_t j = i + 1;
    if (j < s.size() && (s[j] == '-' || s[j] == '+')) {
      ++j;
    }
    if (j < s.size() && is_digit(s[j])) {
      while (j < s.size() && is_digit(s[j])) {
        ++j;
      }
      i = j;
    }
  }
  return i;
}

// value[UOM] up to the first `;`: false when it is no number (`U`, empty) or
// the unit looks like a malformed number (`1,5`, `1.2.3`).
bool parse_value(std::string_view field, PerfItem* item) {
  size_t n = number_length(field);
  if (n == 0) {
    return false;
  }
  std::string uom(field.substr(n));
  for (char c : uom) {
    if (is_digit(c) || c == '.' || c == ',' || c == '\'' || c == '=') {
      return false;
    }
  }
  std::string num(field.substr(0, n));
  item->value = strtod(num.c_str(), nullptr);
  if (!std::isfinite(item->value)) {
    return false;
  }
  item->uom = std::move(uom);
  return true;
}

}  // namespace

std::vector<PerfItem> parse_perfdata(std::string_view text) {
  std::vector<PerfItem> items;
  size_t i = 0;
  while (i < text.size()) {
    if (is_blank(text[i])) {
      ++i;
      continue;
    }
    PerfItem item;
    bool ok = true;
    if (text[i] == '\'') {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        if (text[i] == '\'') {
          if (i + 1 < text.size() && text[i + 1] == '\'') {
            item.label += '\'';
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        item.label += text[i++];
      }
      if (!closed) {
        break;  // the rest of the text is one unterminated label
      }
    } else {
      while (i < text.size() && text[i] != '=' && !is_blank(text[i])) {
        item.label += text[i++];
      }
    }
    if (i >= text.size() || text[i] != '=' || item.label.empty()) {
      ok = false;
    } else {
      ++i;
    }
    size_t start = i;
    while (i < text.size() && !is_blank(text[i])) {
      ++i;
    }
    if (!ok) {
      continue;  // garbage up to the next blank is skipped
    }
    std::string_view field = text.substr(start, i - start);
    field = field.substr(0, field.find(';'));  // warn;crit;min;max are not metrics
    if (parse_value(field, &item)) {
      items.push_back(std::move(item));
    }
  }
  return items;
}

std::string perf_metric_name(std::string_view label) {
  std::string out(label);
  for (char& c : out) {
    bool keep =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' || c == '.';
    if (!keep) {
      c = '_';
    }
  }
  return out;
}

double perf_value_in_base_units(const PerfItem& item) {
  // Sub-second units divide, so that 250ms is exactly 0.25 and not 250 * 0.001.
  struct Unit {
    std::string_view name;
    double factor;
    double divisor = 1;
  };
  static constexpr Unit kUnits[] = {
      {"B", 1.0},
      {"KB", 1024.0},
      {"MB", 1024.0 * 1024},
      {"GB", 1024.0 * 1024 * 1024},
      {"TB", 1024.0 * 1024 * 1024 * 1024},
      {"s", 1.0},
      {"ms", 1.0, 1e3},
      {"us", 1.0, 1e6},
  };
  for (const Unit& u : kUnits) {
    if (item.uom == u.name) {
      return item.value * u.factor / u.divisor;
    }
  }
  return item.value;
}

PluginOutput parse_plugin_output(std::string_view output) {
  PluginOutput out;
  std::string perf;
  bool first = true;
  bool long_perf = false;  // a `|` in the long text: perfdata to the end
  size_t pos = 0;
  while (pos <= output.size()) {
    size_t nl = output.find('\n', pos);
    if (nl == std::string_view::npos) {
      nl = output.size();
    }
    std::string_view line = output.substr(pos, nl - pos);
    pos = nl + 1;
    size_t bar = line.find('|');
    if (first) {
      out.message = std::string(trim(line.substr(0, bar)));
      if (bar != std::string_view::npos) {
        perf.append(line.substr(bar + 1));
      }
      first = false;
    } else if (long_perf) {
      perf += ' ';
      perf.append(line);
    } else if (bar != std::string_view::npos) {
      perf += ' ';
      perf.append(line.substr(bar + 1));
      long_perf = true;
    }
  }
  for (PerfItem& item : parse_perfdata(perf)) {
    std::string name = perf_metric_name(item.label);
    if (name == "status") {
      continue;
    }
    bool seen = false;
    for (const auto& [k, v] : out.metrics) {
      if (k == name) {
        seen = true;
        break;
      }
    }
    if (!seen) {
      out.metrics.emplace_back(std::move(name), perf_value_in_base_units(item));
    }
  }
  return out;
}

}  // namespace vigil
