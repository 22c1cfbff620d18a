#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "agent/util/result.h"

namespace vigil {

// One PCRE2 pattern, compiled once (with JIT when available), searched in
// byte mode; a match limit bounds the work one subject can cost (a subject
// that hits it does not match).
class Regex {
 public:
  // The error is PCRE2's message with the offset: "missing closing
  // parenthesis at offset 3".
  static Result<Regex> compile(std::string_view pattern);
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;
  ~Regex();
  // Whether the pattern matches anywhere in `subject`.
  bool search(std::string_view subject) const;

 private:
  struct Impl;
  explicit Regex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
