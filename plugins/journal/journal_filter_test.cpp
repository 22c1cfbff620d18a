#include "plugins/journal/journal_filter.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace vigil {
namespace {

TEST_CASE("journal matches take FIELD=VALUE with journald's field names", "[journal]") {
  for (const char* ok :
       {"_SYSTEMD_UNIT=nginx.service", "MESSAGE_ID=fc2e22bc6ee647b6b90729ab34a250b1",
        "SYSLOG_IDENTIFIER=sshd", "_PID=1", "X=", "A1_B=va=lue with spaces"}) {
    INFO(ok);
    CHECK(check_field_match(ok).ok());
  }
  struct Bad {
    const char* text;
    const char* says;
  };
  for (const Bad& bad : {
           Bad{"nginx.service", "is not FIELD=VALUE"},
           Bad{"=x", "has no field name"},
           Bad{"_systemd_unit=x", "is not a journal field name"},
           Bad{"1FIELD=x", "is not a journal field name"},
           Bad{"FIE LD=x", "is not a journal field name"},
           Bad{"+", "is not FIELD=VALUE"},
           Bad{"__CURSOR=s=1", "is an address of an entry"},
           Bad{"__REALTIME_TIMESTAMP=1", "is an address of an entry"},
       }) {
    INFO(bad.text);
    Status st = check_field_match(bad.text);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().find("match: ") == 0);
    CHECK(st.error().find(bad.says) != std::string::npos);
  }
  CHECK_FALSE(check_field_match(std::string(65, 'A') + "=x").ok());
  CHECK(check_field_match(std::string(64, 'A') + "=x").ok());
  CHECK(match_field("_PID=1=2") == "_PID");
  CHECK(match_field("nothing") == "");
}

TEST_CASE("priorities are journalctl's names or digits", "[journal]") {
  const char* names[] = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};
  for (int p = 0; p < 8; ++p) {
    INFO(names[p]);
    CHECK(parse_priority(names[p]) == p);
    CHECK(parse_priority(std::string(1, static_cast<char>('0' + p))) == p);
    CHECK(priority_name(p) == names[p]);
  }
  for (const char* bad : {"", "8", "-1", "error", "ERR", "warn", "03", "err "}) {
    INFO(bad);
    CHECK_FALSE(parse_priority(bad).has_value());
  }
  CHECK(priority_name(8) == "");
}

TEST_CASE("a priority adds one journal match per kept level", "[journal]") {
  CHECK(journal_matches({"_SYSTEMD_UNIT=nginx.service"}, 3) ==
        std::vector<std::string>{"_SYSTEMD_UNIT=nginx.service", "PRIORITY=0", "PRIORITY=1",
                                 "PRIORITY=2", "PRIORITY=3"});
  CHECK(journal_matches({"A=1", "A=2"}, std::nullopt) == std::vector<std::string>{"A=1", "A=2"});
  CHECK(journal_matches({}, 0) == std::vector<std::string>{"PRIORITY=0"});
}

}  // namespace
}  // namespace vigil
