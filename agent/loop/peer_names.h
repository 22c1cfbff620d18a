#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "agent/loop/liveness.h"

struct uv_loop_s;

namespace vigil {

// The user names of peer uids, looked up off the loop: getpwuid_r may ask NSS
// (LDAP, sssd), which can block for as long as a network takes. One lookup per
// uid runs at a time on the thread pool; callers that ask meanwhile wait for it,
// and a name once found is kept (at most kMaxNames). A uid without a name is
// `uid N`.
class PeerNames {
 public:
  static constexpr size_t kMaxNames = 256;

  explicit PeerNames(uv_loop_s* loop) : loop_(loop) {}
  PeerNames(const PeerNames&) = delete;
  PeerNames& operator=(const PeerNames&) = delete;

  // Calls `then` on the loop thread with the name (at once when it is known).
  void lookup(uid_t uid, std::function<void(const std::string&)> then);

 private:
  uv_loop_s* loop_;
  std::map<uid_t, std::string> names_;
  std::map<uid_t, std::vector<std::function<void(const std::string&)>>> waiting_;
  Liveness liveness_;  // last member: gone first, so late callbacks find it stale
};

// The name of `uid` from the password database (blocking), or `uid N`.
std::string user_name(uid_t uid);

}  // namespace vigil
