#pragma once

#include <string>
#include <utility>
#include <variant>

namespace vigil {

// An expected failure: a message, and where in the configuration it comes from
// when it does (line 0 = nowhere in particular).
struct Error {
  std::string message;
  std::string file;
  int line = 0;
};

inline Error make_error(std::string message) { return Error{std::move(message), {}, 0}; }
inline Error make_error_at(std::string file, int line, std::string message) {
  return Error{std::move(message), std::move(file), line};
}

// Result<T> holds a T or an Error (osquery's Expected, smaller).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error_info() const { return std::get<1>(v_); }
  const std::string& error() const { return std::get<1>(v_).message; }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error_info() const { return error_; }
  const std::string& error() const { return error_.message; }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace vigil
