#include "plugins/memory/meminfo.h"

#include <limits>
#include <string>

#include "agent/util/host_text.h"

namespace vigil {
namespace {

using host_text::next_field;

double percent(double part, double whole) {
  if (!(whole > 0)) {
    return 0;
  }
  double p = 100.0 * part / whole;
  return p < 0 ? 0 : (p > 100 ? 100 : p);
}

}  // namespace

Result<MemInfo> parse_meminfo(std::string_view text) {
  MemInfo info;
  bool has_swap_free = false;
  std::string bad;
  host_text::for_each_line(text, [&](std::string_view line) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return true;
    }
    std::string_view key = line.substr(0, colon);
    uint64_t* dst = nullptr;
    bool* seen = nullptr;
    if (key == "MemTotal") {
      dst = &info.total_bytes;
      seen = &info.has_total;
    } else if (key == "MemAvailable") {
      dst = &info.available_bytes;
      seen = &info.has_available;
    } else if (key == "SwapTotal") {
      dst = &info.swap_total_bytes;
    } else if (key == "SwapFree") {
      dst = &info.swap_free_bytes;
      seen = &has_swap_free;
    } else {
      return true;
    }
    std::string_view rest = line.substr(colon + 1);
    std::string_view number = next_field(&rest);
    std::string_view unit = next_field(&rest);
    uint64_t kib = 0;
    constexpr uint64_t kMaxKib = std::numeric_limits<uint64_t>::max() / 1024;
    if (!host_text::parse_u64(number, &kib) || kib > kMaxKib || (unit != "kB" && !unit.empty())) {
      bad = "malformed " + std::string(key) + " line '" + std::string(line.substr(0, 80)) + "'";
      return false;
    }
    *dst = unit.empty() ? kib : kib * 1024;
    if (seen != nullptr) {
      *seen = true;
    }
    return true;
  });
  if (!bad.empty()) {
    return make_error(bad);
  }
  if (!info.has_total || info.total_bytes == 0) {
    return make_error("no MemTotal line");
  }
  if (!has_swap_free) {
    info.swap_total_bytes = 0;  // half a swap figure is no figure
  }
  return info;
}

double swap_used_percent(const MemInfo& info) {
  if (info.swap_total_bytes == 0 || info.swap_free_bytes >= info.swap_total_bytes) {
    return 0;
  }
  return percent(static_cast<double>(info.swap_total_bytes - info.swap_free_bytes),
                 static_cast<double>(info.swap_total_bytes));
}

Result<MemoryFigures> host_memory(const MemInfo& info) {
  if (!info.has_available) {
    return make_error("no MemAvailable line (Linux 3.14 or later is needed)");
  }
  uint64_t available =
      info.available_bytes < info.total_bytes ? info.available_bytes : info.total_bytes;
  MemoryFigures out;
  double total = static_cast<double>(info.total_bytes);
  out.used_percent = percent(total - static_cast<double>(available), total);
  out.available_bytes = static_cast<double>(available);
  out.available_percent = percent(static_cast<double>(available), total);
  out.swap_used_percent = swap_used_percent(info);
  return out;
}

}  // namespace vigil
