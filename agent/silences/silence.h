#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "agent/silences/matcher.h"
#include "agent/util/result.h"
#include "agent/util/time.h"

namespace vigil {

// Where a silence stands at a given time, by the wall clock: before its start,
// between start and end, or after its end.
enum class SilenceState { kPending, kActive, kExpired };

std::string_view silence_state_name(SilenceState s);

// One silence (docs/SILENCES.md), with Alertmanager's fields. It mutes the
// notification of the incidents whose labels all its matchers match while it is
// active; it never stops detection.
struct Silence {
  std::string id;  // a UUID; `config:NAME` for a [silence NAME] window
  std::vector<Matcher> matchers;
  SystemTime starts_at{};
  SystemTime ends_at{};
  SystemTime updated_at{};
  std::string created_by;
  std::string comment;
  // Ends at the resolve of the first incident it silenced (Sensu's expire_on_resolve).
  bool expire_on_resolve = false;
  // The local user whose connection added it (SO_PEERCRED), whatever created_by says.
  std::string peer;
  // The [silence NAME] section it comes from; empty for one added through the API.
  std::string window;

  SilenceState state(SystemTime now) const;
  // Active at `now` and every matcher matches.
  bool mutes(const SilenceSubject& subject, SystemTime now) const;
};

// Limits of one silence: what a request may make the agent keep.
inline constexpr size_t kMaxMatchers = 32;
inline constexpr size_t kMaxCommentBytes = 4096;
inline constexpr size_t kMaxAuthorBytes = 256;

// The matchers' own rules, shared by API silences and [silence] windows: at
// least one matcher, at most kMaxMatchers, and not a set that every incident
// matches (Alertmanager's rule: at least one matcher must not match an empty
// value, so `check=~.*` or only `!=` matchers are refused).
Status check_matchers(const std::vector<Matcher>& matchers);

// Alertmanager's rules for a new silence: check_matchers, a comment and an
// author, a start in the past becomes `now`, and the end must come after the
// start. Fills updated_at. The first rule broken is the error, one line.
Status validate_new_silence(Silence& silence, SystemTime now);

}  // namespace vigil
