#pragma once

#include <string_view>

namespace vigil {

// `HOST:PORT` with a host name, an IPv4 address or a bracketed IPv6 address
// (`[::]:9100`), and a port from 0 to 65535.
bool is_host_port(std::string_view s);

// `status_listen`: `unix:PATH`, `HOST:PORT` or `off`.
bool is_listen_address(std::string_view s);

// `proxy`: `http://HOST:PORT`, optionally with a trailing `/`.
bool is_proxy_url(std::string_view s);

}  // namespace vigil
