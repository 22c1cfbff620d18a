#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/silences/silence.h"
#include "agent/silences/weekly_window.h"

namespace vigil {

// A [silence NAME] section made usable: its matchers compiled and its times
// parsed. It is a silence whose id is `config:NAME` and whose author is
// `config`; a weekly one is, at any time, its occurrence that contains that
// time or else the next one.
struct SilenceWindow {
  std::string name;
  std::vector<Matcher> matchers;
  std::string comment;
  std::optional<WeeklyWindow> weekly;
  SystemTime starts{};  // absolute windows only
  SystemTime ends{};
  std::string where;  // FILE:LINE of the section

  Silence at(SystemTime now) const;
};

// The section as the loader checked it; an error only for a configuration the
// loader would have refused.
Result<SilenceWindow> make_window(const SilenceConfig& config);

// The id of the window of [silence NAME].
std::string window_silence_id(const std::string& name);

}  // namespace vigil
