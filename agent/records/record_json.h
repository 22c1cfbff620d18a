#pragma once

// Included only by .cpp files that build records: json.hpp is slow to compile.
#include <nlohmann/json.hpp>
#include <string>

#include "agent/config/config.h"
#include "agent/records/record.h"
#include "agent/util/time.h"

namespace vigil {

// kind, id, time, host, tags: the fields every record starts with.
nlohmann::ordered_json record_header(RecordKind kind, const std::string& id, SystemTime time,
                                     const std::string& host, const Tags& tags);
// Serialises untrusted text safely (invalid UTF-8 becomes U+FFFD, never a throw).
std::string dump_json(const nlohmann::ordered_json& j);
// A number, or null when it is absent or not finite (JSON has no NaN).
nlohmann::ordered_json json_number(std::optional<double> v);

}  // namespace vigil
