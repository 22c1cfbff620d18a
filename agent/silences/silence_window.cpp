#include "agent/silences/silence_window.h"

namespace vigil {

std::string window_silence_id(const std::string& name) { return "config:" + name; }

Silence SilenceWindow::at(SystemTime now) const {
  Silence s;
  s.id = window_silence_id(name);
  s.matchers = matchers;
  if (weekly) {
    std::tie(s.starts_at, s.ends_at) = weekly_occurrence(*weekly, now);
  } else {
    s.starts_at = starts;
    s.ends_at = ends;
  }
  s.updated_at = s.starts_at;
  s.created_by = "config";
  s.comment = comment;
  s.window = name;
  return s;
}

Result<SilenceWindow> make_window(const SilenceConfig& config) {
  SilenceWindow w;
  w.name = config.name;
  w.comment = config.comment;
  w.where = config.file + ":" + std::to_string(config.line);
  for (const std::string& text : config.match) {
    Result<Matcher> m = parse_matcher(text);
    if (!m.ok()) {
      return m.error_info();
    }
    w.matchers.push_back(std::move(m).value());
  }
  if (Status st = check_matchers(w.matchers); !st.ok()) {
    return st.error_info();
  }
  if (!config.weekly.empty()) {
    Result<WeeklyWindow> weekly = parse_weekly(config.weekly);
    if (!weekly.ok()) {
      return weekly.error_info();
    }
    w.weekly = weekly.value();
    return w;
  }
  if (!parse_rfc3339(config.starts, &w.starts) || !parse_rfc3339(config.ends, &w.ends)) {
    return make_error("starts and ends must be RFC 3339 times");
  }
  if (w.ends <= w.starts) {
    return make_error("ends must come after starts");
  }
  return w;
}

}  // namespace vigil
