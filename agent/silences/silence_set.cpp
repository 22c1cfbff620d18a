#include "agent/silences/silence_set.h"

#include <algorithm>

#include "agent/util/uuid.h"

namespace vigil {
namespace {

// Silence times are kept to the millisecond, as silences.json and the API write
// them, so that a silence reads the same before and after a restart.
SystemTime to_ms(SystemTime t) { return from_millis(to_millis(t)); }

}  // namespace

void SilenceSet::restore(std::vector<Silence> silences) {
  stored_ = std::move(silences);
  make_room();
}

void SilenceSet::set_windows(std::vector<SilenceWindow> windows) { windows_ = std::move(windows); }

size_t SilenceSet::live(SystemTime now) const {
  return static_cast<size_t>(std::count_if(stored_.begin(), stored_.end(), [&](const Silence& s) {
    return s.state(now) != SilenceState::kExpired;
  }));
}

// Beyond kMaxKept, the silence that ended first goes: an expired one, since
// add() refuses more than kMaxLive live ones.
void SilenceSet::make_room() {
  while (stored_.size() > kMaxKept) {
    stored_.erase(
        std::min_element(stored_.begin(), stored_.end(),
                         [](const Silence& a, const Silence& b) { return a.ends_at < b.ends_at; }));
    changed_ = true;
  }
}

Result<std::string> SilenceSet::add(Silence s, SystemTime now) {
  now = to_ms(now);
  s.starts_at = to_ms(s.starts_at);
  s.ends_at = to_ms(s.ends_at);
  if (Status st = validate_new_silence(s, now); !st.ok()) {
    return st.error_info();
  }
  if (full(now)) {
    return make_error("too many silences: " + std::to_string(kMaxLive) +
                      " are pending or active already; expire some first");
  }
  s.id = uuid_v4();
  s.window.clear();
  std::string id = s.id;
  stored_.push_back(std::move(s));
  make_room();
  changed_ = true;
  return id;
}

SilenceSet::Expiry SilenceSet::expire(const std::string& id, SystemTime now) {
  now = to_ms(now);
  for (const SilenceWindow& w : windows_) {
    if (window_silence_id(w.name) == id) {
      return Expiry::kWindow;
    }
  }
  for (Silence& s : stored_) {
    if (s.id != id) {
      continue;
    }
    if (s.state(now) == SilenceState::kExpired) {
      return Expiry::kAlreadyExpired;
    }
    if (s.starts_at > now) {
      s.starts_at = now;
    }
    s.ends_at = now;
    s.updated_at = now;
    changed_ = true;
    return Expiry::kExpired;
  }
  return Expiry::kNotFound;
}

std::vector<std::string> SilenceSet::muting(const SilenceSubject& subject, SystemTime now) const {
  std::vector<std::string> ids;
  for (const SilenceWindow& w : windows_) {
    Silence s = w.at(now);
    if (s.mutes(subject, now)) {
      ids.push_back(std::move(s.id));
    }
  }
  for (const Silence& s : stored_) {
    if (s.mutes(subject, now)) {
      ids.push_back(s.id);
    }
  }
  return ids;
}

void SilenceSet::note_resolved(const std::vector<std::string>& ids, SystemTime now) {
  now = to_ms(now);
  for (Silence& s : stored_) {
    if (s.expire_on_resolve && s.state(now) == SilenceState::kActive &&
        std::find(ids.begin(), ids.end(), s.id) != ids.end()) {
      s.ends_at = now;
      s.updated_at = now;
      changed_ = true;
    }
  }
}

std::vector<Silence> SilenceSet::list(SystemTime now) const {
  std::vector<Silence> out;
  for (const SilenceWindow& w : windows_) {
    out.push_back(w.at(now));
  }
  out.insert(out.end(), stored_.begin(), stored_.end());
  return out;
}

std::optional<SystemTime> SilenceSet::next_change(SystemTime now) const {
  std::optional<SystemTime> best;
  auto keep = [&](SystemTime t) {
    if (t > now && (!best || t < *best)) {
      best = t;
    }
  };
  auto consider = [&](const Silence& s, bool forgotten_later) {
    switch (s.state(now)) {
      case SilenceState::kPending:
        keep(s.starts_at);
        break;
      case SilenceState::kActive:
        keep(s.ends_at);
        break;
      case SilenceState::kExpired:
        if (forgotten_later) {
          keep(s.ends_at + kKeepExpired);
        }
        break;
    }
  };
  for (const SilenceWindow& w : windows_) {
    consider(w.at(now), false);
  }
  for (const Silence& s : stored_) {
    consider(s, true);
  }
  return best;
}

bool SilenceSet::forget_old(SystemTime now) {
  size_t before = stored_.size();
  std::erase_if(stored_, [&](const Silence& s) {
    return s.state(now) == SilenceState::kExpired && now - s.ends_at >= kKeepExpired;
  });
  if (stored_.size() != before) {
    changed_ = true;
    return true;
  }
  return false;
}

bool SilenceSet::take_changed() { return std::exchange(changed_, false); }

}  // namespace vigil
