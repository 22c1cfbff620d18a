#pragma once

#include <string>
#include <utility>
#include <vector>

#include "agent/config/config.h"

namespace vigil {

// Every configuration error is collected, never thrown, so that one run of
// check-config reports all of them (Fluent Bit's config_error()).
using ConfigErrors = std::vector<ConfigError>;

inline void add_error(ConfigErrors* errors, const std::string& file, int line,
                      std::string message) {
  errors->push_back(ConfigError{file, line, std::move(message)});
}

}  // namespace vigil
