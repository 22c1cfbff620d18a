#pragma once

#include <memory>

#include "agent/plugin/services.h"

struct uv_loop_s;

namespace vigil {

// Owns the services handed to plugins (spawner, file watcher, process table, file
// saver, prober, descriptor watcher) and the Services struct that points at them.
class ServiceSet {
 public:
  explicit ServiceSet(uv_loop_s* loop);
  ~ServiceSet();
  ServiceSet(const ServiceSet&) = delete;
  ServiceSet& operator=(const ServiceSet&) = delete;
  Services* services() { return &services_; }
  // At exit: writes the plugins' state files that still wait.
  void flush();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Services services_;
};

}  // namespace vigil
