#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/plugin/collector.h"

namespace vigil {

struct LoadOptions {
  // check-config's extra checks (plugin check(): exec commands executable, …).
  bool deep = false;
  // Call each enabled check's Plugin::create() to let the plugin validate its
  // keys. Unit tests of the loader turn it off to test the grammar alone.
  bool validate_plugins = true;
  // Variable lookup for ${VAR}; getenv when empty.
  std::function<std::optional<std::string>(const std::string&)> getenv;
  // With an http:// or https:// output, check that libcurl loads and is recent
  // enough, and report why not at the first such output's url: the agent would
  // start and then fail every request. Commands that send nothing may skip it.
  bool check_http_library = true;
  // Why HTTP outputs cannot work, "" when they can; the real check (which loads
  // libcurl) when empty. For tests.
  std::function<std::string()> http_unavailable;
  // The plugins sections may name; builtin_plugins() when empty. Tests pass
  // the test-only plugins here.
  std::span<const Plugin* const> plugins;
};

struct LoadResult {
  std::optional<Config> config;     // set when errors is empty
  std::vector<ConfigError> errors;  // every error, in file order
};

// Reads the main file, then its includes in sorted order. An unreadable main
// file gives one error at line 0. An included path must be a regular file (or a
// link to one): a FIFO, a device or a folder matched by the glob is an error at
// the include line, and is never opened in a way that could block. Never
// throws, never exits.
LoadResult load_config(const std::string& path, const LoadOptions& options = {});

// The keys of the core sections, for the docs.
std::span<const KeySpec> agent_keys();
std::span<const KeySpec> incident_keys();
std::span<const KeySpec> output_keys();
std::span<const KeySpec> check_keys();  // keys every check has
std::span<const KeySpec> silence_keys();

}  // namespace vigil
