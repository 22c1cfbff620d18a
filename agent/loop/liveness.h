#pragma once

#include <cstdint>
#include <memory>

namespace vigil {

// Hands out tokens to callbacks that may run after what they call back into has
// changed or gone (pool work, requests in flight): a token is valid while its
// Liveness exists and has not been renewed since the token was made. One check
// replaces an owner pointer, a weak flag and a generation number. Tokens are checked
// on the thread that owns the Liveness.
class Liveness {
 public:
  class Token {
   public:
    bool valid() const {
      std::shared_ptr<const uint64_t> current = generation_.lock();
      return current != nullptr && *current == made_in_;
    }

   private:
    friend class Liveness;
    Token(std::weak_ptr<const uint64_t> generation, uint64_t made_in)
        : generation_(std::move(generation)), made_in_(made_in) {}
    std::weak_ptr<const uint64_t> generation_;
    uint64_t made_in_;
  };

  Token guard() const { return Token(generation_, *generation_); }
  // Every token handed out so far goes stale.
  void renew() { ++*generation_; }

 private:
  std::shared_ptr<uint64_t> generation_ = std::make_shared<uint64_t>(0);
};

}  // namespace vigil
