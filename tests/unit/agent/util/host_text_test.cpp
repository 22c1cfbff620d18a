#include "agent/util/host_text.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace vigil {

TEST_CASE("host text small file reads a whole file", "[host]") {
  test::TempDir dir;
  std::string path = dir.write("f", "one\ntwo\n");
  char buf[64];
  Result<std::string_view> text = host_text::read_small_file(path, buf);
  REQUIRE(text.ok());
  CHECK(text.value() == "one\ntwo\n");
}

TEST_CASE("host text small file larger than the buffer is cut after its last whole line",
          "[host]") {
  test::TempDir dir;
  std::string path = dir.write("f", "MemTotal: 1\nMemFree: 22222\n");
  char buf[16];
  Result<std::string_view> text = host_text::read_small_file(path, buf);
  REQUIRE(text.ok());
  CHECK(text.value() == "MemTotal: 1\n");
}

TEST_CASE("host text small file errors name the file", "[host]") {
  test::TempDir dir;
  char buf[16];
  Result<std::string_view> text = host_text::read_small_file(dir.file("missing"), buf);
  REQUIRE_FALSE(text.ok());
  CHECK(text.error() == "cannot open " + dir.file("missing") + ": No such file or directory");
}

TEST_CASE("host text line reader streams long files and cuts over-long lines", "[host]") {
  test::TempDir dir;
  std::string content;
  for (int i = 0; i < 2000; ++i) {
    content += "cpu" + std::to_string(i) + " 1 2 3 4\n";
  }
  content += "intr " + std::string(10000, '7') + "\n";
  content += "ctxt 5\n";
  content += "cut";
  std::string path = dir.write("stat", content);
  host_text::LineReader reader;
  REQUIRE(reader.open(path).ok());
  std::vector<std::string> lines;
  std::string_view line;
  while (reader.next(&line)) {
    lines.emplace_back(line);
  }
  CHECK_FALSE(reader.failed());
  REQUIRE(lines.size() == 2002);
  CHECK(lines[0] == "cpu0 1 2 3 4");
  CHECK(lines[1999] == "cpu1999 1 2 3 4");
  CHECK(lines[2000].size() <= 4096);
  CHECK(lines[2000].substr(0, 8) == "intr 777");
  CHECK(lines[2001] == "ctxt 5");
}

TEST_CASE("host text numbers reject signs, garbage and overflow", "[host]") {
  uint64_t u = 0;
  CHECK(host_text::parse_u64("18446744073709551615", &u));
  CHECK(u == 18446744073709551615ull);
  CHECK_FALSE(host_text::parse_u64("18446744073709551616", &u));
  CHECK_FALSE(host_text::parse_u64("-1", &u));
  CHECK_FALSE(host_text::parse_u64("12a", &u));
  CHECK_FALSE(host_text::parse_u64("", &u));
  double d = 0;
  CHECK(host_text::parse_double("0.52", &d));
  CHECK(d == Approx(0.52));
  CHECK_FALSE(host_text::parse_double("nan", &d));
  CHECK_FALSE(host_text::parse_double("1e5", &d));
  CHECK_FALSE(host_text::parse_double("-0.5", &d));
}

TEST_CASE("host text fields split on blanks and tabs", "[host]") {
  std::string_view rest = "  cpu\t1  2 ";
  CHECK(host_text::next_field(&rest) == "cpu");
  CHECK(host_text::next_field(&rest) == "1");
  CHECK(host_text::next_field(&rest) == "2");
  CHECK(host_text::next_field(&rest).empty());
}

}  // namespace vigil
