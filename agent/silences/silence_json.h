#pragma once

// Silences as JSON: Alertmanager's silence objects (api/v2: matchers
// {name, value, isRegex, isEqual}, startsAt, endsAt, createdBy, comment, and
// for a listed one id, status.state and updatedAt) with vigil's fields
// expireOnResolve, peer and window (docs/SILENCES.md).
//
// state_dir/silences.json holds the API silences:
//
//   {"version": 1, "silences": [{"id", "matchers": [...], "startsAt", "endsAt",
//     "updatedAt", "createdBy", "comment", "expireOnResolve", "peer"}]}
//
// Times are RFC 3339 in UTC with milliseconds.

#include <string>
#include <string_view>
#include <vector>

#include "agent/silences/silence.h"
#include "agent/util/result.h"

namespace vigil {

// GET /silences: a JSON array, each silence with its state at `now`.
std::string silences_json(const std::vector<Silence>& silences, SystemTime now);

// The body of POST /silences as the CLI sends it (id, updatedAt and peer are the agent's).
std::string silence_request_json(const Silence& silence);
// A POST /silences body: matchers (checked and compiled), startsAt, endsAt,
// createdBy (may be absent: the agent names the peer), comment, expireOnResolve
// (optional). Errors say which field is wrong, in one line.
Result<Silence> parse_silence_request(std::string_view body);

// silences.json.
std::string silences_document(const std::vector<Silence>& silences);
Result<std::vector<Silence>> parse_silences_document(std::string_view text);

}  // namespace vigil
