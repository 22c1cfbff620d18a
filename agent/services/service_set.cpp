#include "agent/services/service_set.h"

#include <uv.h>

namespace vigil {

struct ServiceSet::Impl {};

ServiceSet::ServiceSet(uv_loop_t* loop) : impl_(std::make_unique<Impl>()) { (void)loop; }

ServiceSet::~ServiceSet() = default;

}  // namespace vigil
