#include "agent/util/log.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace vigil {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<bool> g_journal{false};

}  // namespace

void log_init(LogLevel level) {
  g_level = static_cast<int>(level);
  g_journal = getenv("JOURNAL_STREAM") != nullptr;
}

void log_set_level(LogLevel level) { g_level = static_cast<int>(level); }

bool log_enabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(); }

void log_message(LogLevel level, std::string_view message) {
  if (!log_enabled(level)) {
    return;
  }
  static constexpr const char* kPriority[] = {"<7>", "<6>", "<4>", "<3>"};
  static constexpr const char* kName[] = {"debug", "info", "warning", "error"};
  int i = static_cast<int>(level);
  std::string line;
  line.reserve(message.size() + 24);
  if (g_journal) {
    line += kPriority[i];
  }
  line += "vigil: ";
  line += kName[i];
  line += ": ";
  // One message is one line: a newline inside it would forge another log line.
  for (char c : message) {
    line += (c == '\n' || c == '\r') ? ' ' : c;
  }
  line += '\n';
  // One write(2) per line keeps lines whole when threads log at once.
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = write(STDERR_FILENO, p, left);
    if (n <= 0) {
      break;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

}  // namespace vigil
