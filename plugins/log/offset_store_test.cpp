#include "plugins/log/offset_store.h"

#include <catch2/catch.hpp>

namespace vigil {
namespace {

TEST_CASE("offsets survive a format and parse round trip", "[log]") {
  OffsetState s;
  s.seen_globs = {"/var/log/*.log", "/srv/app log/x.log"};
  s.files.push_back(FileRecord{2049, 1234567, 1024, 0xdeadbeefcafef00dull, 987654321, true,
                               "/srv/app log/x.log"});
  s.files.push_back(FileRecord{1, 2, 0, fingerprint_hash(""), 0, false, "/var/log/a.log"});
  auto back = parse_offsets(format_offsets(s));
  REQUIRE(back.ok());
  CHECK(back->seen_globs == s.seen_globs);
  REQUIRE(back->files.size() == 2);
  CHECK(back->files[0].dev == 2049);
  CHECK(back->files[0].ino == 1234567);
  CHECK(back->files[0].fp_len == 1024);
  CHECK(back->files[0].fp_hash == 0xdeadbeefcafef00dull);
  CHECK(back->files[0].offset == 987654321);
  CHECK(back->files[0].skipping);
  CHECK(back->files[0].path == "/srv/app log/x.log");
  CHECK_FALSE(back->files[1].skipping);
}

TEST_CASE("offsets reject damaged files", "[log]") {
  CHECK_FALSE(parse_offsets("").ok());
  CHECK_FALSE(parse_offsets("something else\n").ok());
  CHECK_FALSE(parse_offsets("vigil-log-offsets 1\nfile 1 2 3\n").ok());
  CHECK_FALSE(parse_offsets("vigil-log-offsets 1\nfile 1 2 3 zz 5 0 /p\n").ok());
  CHECK_FALSE(parse_offsets("vigil-log-offsets 1\nseen /x").ok());
}

}  // namespace
}  // namespace vigil
