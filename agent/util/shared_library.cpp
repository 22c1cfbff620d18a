#include "agent/util/shared_library.h"

#include <dlfcn.h>

#include <utility>

namespace vigil {

Result<SharedLibrary> SharedLibrary::open(const std::string& soname) {
  void* handle = dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return make_error("cannot load " + soname + ": " + (why != nullptr ? why : "unknown error"));
  }
  return SharedLibrary(handle, soname);
}

void* SharedLibrary::symbol(const char* name) const { return dlsym(handle_, name); }

}  // namespace vigil
