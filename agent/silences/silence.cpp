#include "agent/silences/silence.h"

#include <algorithm>

namespace vigil {

std::string_view silence_state_name(SilenceState s) {
  switch (s) {
    case SilenceState::kPending:
      return "pending";
    case SilenceState::kActive:
      return "active";
    case SilenceState::kExpired:
      return "expired";
  }
  return "expired";
}

SilenceState Silence::state(SystemTime now) const {
  if (now >= ends_at) {
    return SilenceState::kExpired;
  }
  return now < starts_at ? SilenceState::kPending : SilenceState::kActive;
}

bool Silence::mutes(const SilenceSubject& subject, SystemTime now) const {
  if (state(now) != SilenceState::kActive) {
    return false;
  }
  return std::all_of(matchers.begin(), matchers.end(),
                     [&](const Matcher& m) { return m.matches(subject); });
}

Status check_matchers(const std::vector<Matcher>& matchers) {
  if (matchers.empty()) {
    return make_error("a silence needs at least one matcher (check=NAME, plugin=NAME, ...)");
  }
  if (matchers.size() > kMaxMatchers) {
    return make_error("a silence takes at most " + std::to_string(kMaxMatchers) + " matchers");
  }
  bool names_something = std::any_of(matchers.begin(), matchers.end(),
                                     [](const Matcher& m) { return !m.matches_value(""); });
  if (!names_something) {
    return make_error(
        "these matchers match every incident (each also matches an empty value, as check=~.* "
        "or != does): add one that names what to silence, such as check=NAME");
  }
  return {};
}

Status validate_new_silence(Silence& s, SystemTime now) {
  if (Status st = check_matchers(s.matchers); !st.ok()) {
    return st;
  }
  if (s.comment.empty()) {
    return make_error("a silence needs a comment saying why");
  }
  if (s.comment.size() > kMaxCommentBytes) {
    return make_error("the comment is longer than " + std::to_string(kMaxCommentBytes) + " bytes");
  }
  if (s.created_by.empty()) {
    return make_error("a silence needs an author");
  }
  if (s.created_by.size() > kMaxAuthorBytes) {
    return make_error("the author is longer than " + std::to_string(kMaxAuthorBytes) + " bytes");
  }
  if (s.starts_at < now) {
    s.starts_at = now;  // Alertmanager's rule: a start in the past is now
  }
  if (s.ends_at <= s.starts_at) {
    return make_error("a silence must end after it starts (it would start " +
                      format_rfc3339(s.starts_at) + " and end " + format_rfc3339(s.ends_at) + ")");
  }
  s.updated_at = now;
  return {};
}

}  // namespace vigil
