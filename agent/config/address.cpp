#include "agent/config/address.h"

#include <cctype>

#include "agent/util/strings.h"

namespace vigil {

bool is_host_port(std::string_view s) {
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos) {
    return false;
  }
  std::string_view host = s.substr(0, colon);
  std::string_view port = s.substr(colon + 1);
  if (port.empty() || port.size() > 5) {
    return false;
  }
  long value = 0;
  for (char c : port) {
    if (isdigit(static_cast<unsigned char>(c)) == 0) {
      return false;
    }
    value = value * 10 + (c - '0');
  }
  if (value > 65535) {
    return false;
  }
  if (!host.empty() && host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return false;
    }
    for (char c : host.substr(1, host.size() - 2)) {
      if (isxdigit(static_cast<unsigned char>(c)) == 0 && c != ':' && c != '.') {
        return false;
      }
    }
    return true;
  }
  if (host.empty()) {
    return false;
  }
  for (char c : host) {
    if (isalnum(static_cast<unsigned char>(c)) == 0 && c != '.' && c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

bool is_listen_address(std::string_view s) {
  if (s == "off") {
    return true;
  }
  if (starts_with(s, "unix:")) {
    return s.size() > 5;
  }
  return is_host_port(s);
}

bool is_proxy_url(std::string_view s) {
  if (!starts_with(s, "http://")) {
    return false;
  }
  std::string_view rest = s.substr(7);
  if (!rest.empty() && rest.back() == '/') {
    rest.remove_suffix(1);
  }
  return is_host_port(rest);
}

}  // namespace vigil
