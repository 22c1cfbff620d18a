#include "agent/config/plugin_registry.h"

#include <vector>

namespace vigil {
namespace {

// Filled before any thread starts: at the start of main, or of a test.
std::vector<const Plugin*>& registered() {
  static std::vector<const Plugin*> plugins = [] {
    std::span<const Plugin* const> builtin = builtin_plugins();
    return std::vector<const Plugin*>(builtin.begin(), builtin.end());
  }();
  return plugins;
}

}  // namespace

void add_plugin(const Plugin* plugin) {
  if (find_plugin(plugin->name) == nullptr) {
    registered().push_back(plugin);
  }
}

std::span<const Plugin* const> all_plugins() { return registered(); }

const Plugin* find_plugin(std::string_view name) {
  for (const Plugin* p : registered()) {
    if (p->name == name) {
      return p;
    }
  }
  return nullptr;
}

}  // namespace vigil
