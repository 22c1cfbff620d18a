#include "agent/outputs/curl_library.h"

#include <dlfcn.h>
#include <stdlib.h>

#include <mutex>

#include "agent/outputs/http_client.h"

namespace vigil {
namespace {

template <typename F>
bool bind(void* lib, const char* name, F* out, std::string* missing) {
  *out = reinterpret_cast<F>(dlsym(lib, name));
  if (*out == nullptr) {
    *missing = name;
    return false;
  }
  return true;
}

}  // namespace

void prepare_http_environment() { setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 0); }

const CurlLibrary* curl_library(std::string* error) {
  static CurlLibrary lib;
  static std::string failure;
  static bool loaded = false;
  static std::once_flag once;
  std::call_once(once, [] {
    void* h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) {
      const char* e = dlerror();
      failure = std::string("cannot load libcurl: ") + (e != nullptr ? e : "unknown error");
      return;
    }
    // The version first: the library may be an older one (a distribution's
    // 7.81, say), whose other functions all exist but refuse options the
    // client sets on every request. Refused here, it is one clear message at
    // start instead of "curl setup failed" on every request.
    std::string missing;
    decltype(&::curl_version_info) version_info = nullptr;
    if (!bind(h, "curl_version_info", &version_info, &missing)) {
      failure = "libcurl lacks " + missing;
      return;
    }
    const curl_version_info_data* info = version_info(CURLVERSION_NOW);
    if (info == nullptr) {
      failure = "libcurl does not say its version";
      return;
    }
    failure =
        libcurl_version_problem(info->version_num, info->version != nullptr ? info->version : "");
    if (!failure.empty()) {
      return;
    }
    bool ok = bind(h, "curl_global_init", &lib.global_init, &missing) &&
              bind(h, "curl_easy_init", &lib.easy_init, &missing) &&
              bind(h, "curl_easy_cleanup", &lib.easy_cleanup, &missing) &&
              bind(h, "curl_easy_setopt", &lib.easy_setopt, &missing) &&
              bind(h, "curl_easy_getinfo", &lib.easy_getinfo, &missing) &&
              bind(h, "curl_easy_strerror", &lib.easy_strerror, &missing) &&
              bind(h, "curl_easy_send", &lib.easy_send, &missing) &&
              bind(h, "curl_easy_recv", &lib.easy_recv, &missing) &&
              bind(h, "curl_getdate", &lib.getdate, &missing) &&
              bind(h, "curl_multi_init", &lib.multi_init, &missing) &&
              bind(h, "curl_multi_cleanup", &lib.multi_cleanup, &missing) &&
              bind(h, "curl_multi_add_handle", &lib.multi_add_handle, &missing) &&
              bind(h, "curl_multi_remove_handle", &lib.multi_remove_handle, &missing) &&
              bind(h, "curl_multi_assign", &lib.multi_assign, &missing) &&
              bind(h, "curl_multi_setopt", &lib.multi_setopt, &missing) &&
              bind(h, "curl_multi_socket_action", &lib.multi_socket_action, &missing) &&
              bind(h, "curl_multi_info_read", &lib.multi_info_read, &missing) &&
              bind(h, "curl_multi_strerror", &lib.multi_strerror, &missing) &&
              bind(h, "curl_share_init", &lib.share_init, &missing) &&
              bind(h, "curl_share_cleanup", &lib.share_cleanup, &missing) &&
              bind(h, "curl_share_setopt", &lib.share_setopt, &missing) &&
              bind(h, "curl_slist_append", &lib.slist_append, &missing) &&
              bind(h, "curl_slist_free_all", &lib.slist_free_all, &missing);
    if (!ok) {
      failure = "libcurl lacks " + missing;
      return;
    }
    // Once per process, before any other call; never cleaned up (the agent
    // leaves with _exit).
    lib.global_init(CURL_GLOBAL_DEFAULT);
    loaded = true;
  });
  if (!loaded) {
    if (error != nullptr) {
      *error = failure;
    }
    return nullptr;
  }
  return &lib;
}

}  // namespace vigil
