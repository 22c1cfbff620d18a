#include "agent/config/check_config.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>

#include "agent/util/fs.h"
#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

// Runs check-config with its output captured in a file of `dir`.
std::pair<int, std::string> check_config(const test::TempDir& dir, const std::string& path) {
  std::string out_path = dir.file("out.txt");
  FILE* out = fopen(out_path.c_str(), "w");
  REQUIRE(out != nullptr);
  LoadOptions options;
  options.validate_plugins = false;
  int rc = run_check_config(path, out, options);
  fclose(out);
  return {rc, read_file(out_path).value()};
}

}  // namespace

TEST_CASE("check-config prints ok for a valid file", "[config]") {
  test::TempDir dir;
  auto [rc, text] = check_config(dir, dir.write("vigil.ini", "[load]\nwarning = load1 > 4\n"));
  CHECK(rc == 0);
  CHECK(text == "ok\n");
}

TEST_CASE("check-config prints one line per error and fails", "[config]") {
  test::TempDir dir;
  std::string p = dir.write("vigil.ini", "[load]\nwarning = load1 >\n[nope]\n");
  auto [rc, text] = check_config(dir, p);
  CHECK(rc == 1);
  CHECK(text == p + ":2: warning: invalid rule 'load1 >': missing value after '>'\n" + p +
                    ":3: unknown section [nope]" + text.substr(text.rfind(" (use")));
  CHECK(std::count(text.begin(), text.end(), '\n') == 2);
}

}  // namespace vigil
