#pragma once

// Included only by the HTTP client: libcurl, loaded when the first HTTP output
// starts. libcurl pulls in OpenSSL, GnuTLS, Kerberos and about thirty other
// libraries whose relocated data alone is ~0.8 MiB of private memory; an agent
// that only prints records (the default) or writes files never pays for them.
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include <string>

namespace vigil {

struct CurlLibrary {
  decltype(&::curl_global_init) global_init;
  decltype(&::curl_easy_init) easy_init;
  decltype(&::curl_easy_cleanup) easy_cleanup;
  decltype(&::curl_easy_setopt) easy_setopt;
  decltype(&::curl_easy_getinfo) easy_getinfo;
  decltype(&::curl_easy_strerror) easy_strerror;
  decltype(&::curl_easy_send) easy_send;
  decltype(&::curl_easy_recv) easy_recv;
  decltype(&::curl_getdate) getdate;
  decltype(&::curl_multi_init) multi_init;
  decltype(&::curl_multi_cleanup) multi_cleanup;
  decltype(&::curl_multi_add_handle) multi_add_handle;
  decltype(&::curl_multi_remove_handle) multi_remove_handle;
  decltype(&::curl_multi_assign) multi_assign;
  decltype(&::curl_multi_setopt) multi_setopt;
  decltype(&::curl_multi_socket_action) multi_socket_action;
  decltype(&::curl_multi_info_read) multi_info_read;
  decltype(&::curl_multi_strerror) multi_strerror;
  decltype(&::curl_share_init) share_init;
  decltype(&::curl_share_cleanup) share_cleanup;
  decltype(&::curl_share_setopt) share_setopt;
  decltype(&::curl_slist_append) slist_append;
  decltype(&::curl_slist_free_all) slist_free_all;
};

// Loads libcurl once (thread-safe), checks that it is recent enough
// (libcurl_version_problem in http_client.h) and runs curl_global_init; nullptr
// when it cannot be loaded or is too old, with the reason in *error.
const CurlLibrary* curl_library(std::string* error);

}  // namespace vigil
