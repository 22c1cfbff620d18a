#pragma once

#include <string_view>

namespace vigil {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Logs go to stderr, one line per message. Under systemd (JOURNAL_STREAM set) each
// line starts with its syslog priority, <7> debug … <3> error, so journald keeps levels.
void log_init(LogLevel level);
void log_set_level(LogLevel level);
bool log_enabled(LogLevel level);
void log_message(LogLevel level, std::string_view message);

inline void log_debug(std::string_view m) { log_message(LogLevel::kDebug, m); }
inline void log_info(std::string_view m) { log_message(LogLevel::kInfo, m); }
inline void log_warning(std::string_view m) { log_message(LogLevel::kWarning, m); }
inline void log_error(std::string_view m) { log_message(LogLevel::kError, m); }

}  // namespace vigil
