#include "agent/config/address.h"

#include <catch2/catch.hpp>

namespace vigil {

TEST_CASE("host and port forms", "[config]") {
  for (const char* ok :
       {"127.0.0.1:80", "0.0.0.0:9100", "[::]:9100", "[::1]:1", "web-1.lan:65535", "h:0"}) {
    INFO(ok);
    CHECK(is_host_port(ok));
  }
  for (const char* bad :
       {"", ":80", "h:", "h:65536", "h:8x", "[]:80", "[::1:80", "a b:1", "::1:80"}) {
    INFO(bad);
    CHECK_FALSE(is_host_port(bad));
  }
}

TEST_CASE("listen addresses and proxies", "[config]") {
  CHECK(is_listen_address("off"));
  CHECK(is_listen_address("unix:/run/v.sock"));
  CHECK_FALSE(is_listen_address("unix:"));
  CHECK_FALSE(is_listen_address("on"));
  CHECK(is_proxy_url("http://proxy:3128"));
  CHECK(is_proxy_url("http://proxy:3128/"));
  CHECK(is_proxy_url("http://[fe80::1]:3128"));
  CHECK_FALSE(is_proxy_url("https://proxy:3128"));
  CHECK_FALSE(is_proxy_url("http://proxy"));
  CHECK_FALSE(is_proxy_url("proxy:3128"));
}

}  // namespace vigil
