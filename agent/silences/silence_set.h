#pragma once

#include <optional>
#include <string>
#include <vector>

#include "agent/silences/silence.h"
#include "agent/silences/silence_window.h"
#include "agent/util/result.h"
#include "agent/util/time.h"

namespace vigil {

// Every silence the agent knows (docs/SILENCES.md): those added through the API,
// which it keeps in state_dir/silences.json, and the [silence NAME] windows of the
// configuration, which it does not. States come from the wall clock passed in:
// a silence is a promise about times people read on a clock.
//
// Memory is bounded: at most kMaxLive API silences are pending or active (an add
// beyond is refused), and expired ones are kept kKeepExpired, at most kMaxKept in
// all (the oldest expired go first).
class SilenceSet {
 public:
  static constexpr size_t kMaxLive = 1000;
  static constexpr size_t kMaxKept = 5000;
  static constexpr Duration kKeepExpired = std::chrono::hours(5 * 24);

  // At start: the API silences read from silences.json.
  void restore(std::vector<Silence> silences);
  // The configuration's windows, at start and at each reload.
  void set_windows(std::vector<SilenceWindow> windows);

  // kMaxLive silences are pending or active: add() refuses another.
  bool full(SystemTime now) const { return live(now) >= kMaxLive; }
  // Checks a new silence (validate_new_silence), gives it an id and keeps it.
  Result<std::string> add(Silence silence, SystemTime now);

  enum class Expiry { kExpired, kNotFound, kAlreadyExpired, kWindow };
  // Ends an API silence now (a pending one never starts), as Alertmanager's
  // DELETE does; it stays listed as expired.
  Expiry expire(const std::string& id, SystemTime now);

  // The ids of the silences that mute the subject now: windows first, then API
  // silences in the order they were added.
  std::vector<std::string> muting(const SilenceSubject& subject, SystemTime now) const;
  // Incidents that `ids` muted resolved: those of them that expire on resolve end now.
  void note_resolved(const std::vector<std::string>& ids, SystemTime now);

  // Every silence as it stands at `now`, windows first.
  std::vector<Silence> list(SystemTime now) const;
  // When the next silence starts or ends (or an expired one is forgotten); nullopt
  // when nothing will change.
  std::optional<SystemTime> next_change(SystemTime now) const;
  // Forgets API silences expired more than kKeepExpired ago; whether any went.
  bool forget_old(SystemTime now);

  // The API silences, for silences.json.
  const std::vector<Silence>& stored() const { return stored_; }
  // Whether the API silences changed since the last call: they need saving, and
  // the incidents they mute may have changed.
  bool take_changed();

 private:
  size_t live(SystemTime now) const;
  void make_room();  // at most kMaxKept, the first to have ended going first

  std::vector<Silence> stored_;
  std::vector<SilenceWindow> windows_;
  bool changed_ = false;
};

}  // namespace vigil
