#pragma once

#include <string>
#include <string_view>

#include "agent/plugin/collector.h"

namespace vigil {

extern const Plugin kTcpPlugin;

struct HostPort {
  std::string host;
  int port = 0;
};

// "HOST:PORT", "[IPv6]:PORT"; the port from 1 to 65535.
Result<HostPort> parse_address(std::string_view text);

// `send`'s escapes: \n, \r, \t and \\ (a value holds no line feed otherwise).
Result<std::string> unescape_send(std::string_view text);

}  // namespace vigil
