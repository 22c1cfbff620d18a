#include "agent/loop/peer_names.h"

#include <pwd.h>
#include <unistd.h>

#include <memory>

#include "agent/loop/pool.h"

namespace vigil {

std::string user_name(uid_t uid) {
  long size = sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(size > 0 ? static_cast<size_t>(size) : 16384);
  passwd pw{};
  passwd* found = nullptr;
  if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr &&
      found->pw_name != nullptr && found->pw_name[0] != '\0') {
    return found->pw_name;
  }
  return "uid " + std::to_string(uid);
}

void PeerNames::lookup(uid_t uid, std::function<void(const std::string&)> then) {
  if (auto it = names_.find(uid); it != names_.end()) {
    then(it->second);
    return;
  }
  auto& waiting = waiting_[uid];
  waiting.push_back(std::move(then));
  if (waiting.size() > 1) {
    return;  // a lookup of this uid runs already
  }
  auto name = std::make_shared<std::string>();
  Liveness::Token token = liveness_.guard();
  bool queued = run_on_pool(
      loop_, [uid, name] { *name = user_name(uid); },
      [this, token, uid, name] {
        if (!token.valid()) {
          return;
        }
        if (names_.size() >= kMaxNames) {
          names_.clear();
        }
        names_[uid] = *name;
        std::vector<std::function<void(const std::string&)>> callers = std::move(waiting_[uid]);
        waiting_.erase(uid);
        for (auto& f : callers) {
          f(*name);
        }
      });
  if (!queued) {
    // The pool refused: the uid itself names the peer.
    std::vector<std::function<void(const std::string&)>> callers = std::move(waiting_[uid]);
    waiting_.erase(uid);
    for (auto& f : callers) {
      f("uid " + std::to_string(uid));
    }
  }
}

}  // namespace vigil
