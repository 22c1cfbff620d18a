#pragma once

#include <string>

namespace vigil {

// The gzip format (RFC 1952) of `data`, for `Content-Encoding: gzip` request bodies.
std::string gzip(const std::string& data);

}  // namespace vigil
