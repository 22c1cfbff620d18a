#include "agent/config/plugin_registry.h"

namespace vigil {
namespace {

std::vector<const Plugin*>& added() {
  static std::vector<const Plugin*> plugins;  // filled before any thread starts
  return plugins;
}

}  // namespace

void add_plugin(const Plugin* plugin) { added().push_back(plugin); }

std::vector<const Plugin*> all_plugins() {
  std::span<const Plugin* const> builtin = builtin_plugins();
  std::vector<const Plugin*> all(builtin.begin(), builtin.end());
  all.insert(all.end(), added().begin(), added().end());
  return all;
}

const Plugin* find_plugin(std::string_view name) {
  for (const Plugin* p : all_plugins()) {
    if (p->name == name) {
      return p;
    }
  }
  return nullptr;
}

}  // namespace vigil
