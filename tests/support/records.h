#pragma once

#include <string>

#include "agent/records/record.h"

namespace vigil::test {

// An event record whose whole JSON is its id: {"id":"ID"}.
inline Record event_record(const std::string& id, RecordKind kind = RecordKind::kEvent) {
  Record r;
  r.kind = kind;
  r.id = id;
  r.json = R"({"id":")" + id + R"("})";
  return r;
}

}  // namespace vigil::test
