#pragma once

#include <string>
#include <utility>

#include "agent/util/result.h"

namespace vigil {

// A library opened at run time (dlopen), for a dependency only some
// configurations need: an agent without the feature never maps it nor what it
// pulls in (libsystemd brings libgcrypt, lz4, lzma and zstd for journal checks).
// The library is never closed: the functions bound from it stay valid for the
// life of the process.
class SharedLibrary {
 public:
  // dlopen(soname, RTLD_NOW | RTLD_LOCAL); the error is dlerror()'s text:
  // "cannot load libsystemd.so.0: libsystemd.so.0: cannot open shared object file: ..."
  static Result<SharedLibrary> open(const std::string& soname);

  // Binds the function `name` to *out, a pointer of the function's type (take
  // it from the library's header with decltype).
  template <typename F>
  Status bind(const char* name, F* out) const {
    void* found = symbol(name);
    if (found == nullptr) {
      return make_error(soname_ + " lacks " + name);
    }
    *out = reinterpret_cast<F>(found);
    return {};
  }

  const std::string& soname() const { return soname_; }

 private:
  SharedLibrary(void* handle, std::string soname) : handle_(handle), soname_(std::move(soname)) {}
  void* symbol(const char* name) const;

  void* handle_ = nullptr;
  std::string soname_;
};

}  // namespace vigil
