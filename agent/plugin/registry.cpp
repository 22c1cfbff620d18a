#include "agent/plugin/registry.h"

namespace vigil {

const Plugin* find_plugin(std::string_view name) {
  for (const Plugin* p : builtin_plugins()) {
    if (p->name == name) {
      return p;
    }
  }
  return nullptr;
}

}  // namespace vigil
