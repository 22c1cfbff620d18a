#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/util/result.h"

// Which entries the journal hands a journal check: its `match` lines and its
// `priority`, as the FIELD=VALUE strings sd_journal_add_match(3) takes. The
// journal applies them through its field indexes, so entries they leave out are
// never read.
namespace vigil {

// Checks a `match` value, FIELD=VALUE. FIELD is named as journald names fields:
// upper-case letters, digits and underscores, not starting with a digit, at most
// 64 bytes; one leading underscore (trusted fields such as _SYSTEMD_UNIT) is fine,
// two (__CURSOR and the like) are not fields of the entry. VALUE is any bytes,
// empty included. The error starts with "match: ".
Status check_field_match(std::string_view text);

// The field of a FIELD=VALUE text ("" when there is no '=').
std::string_view match_field(std::string_view text);

// A syslog priority as journalctl -p names it: emerg (0), alert, crit, err,
// warning, notice, info, debug (7), or its digit; nullopt otherwise.
std::optional<int> parse_priority(std::string_view text);
std::string_view priority_name(int priority);

// The journal's matches of a check: each `match` as written, then PRIORITY=0 up
// to PRIORITY=`priority`. Matches of one field are alternatives and matches of
// different fields must all hold, which is how sd_journal_add_match combines them.
std::vector<std::string> journal_matches(const std::vector<std::string>& matches,
                                         std::optional<int> priority);

}  // namespace vigil
