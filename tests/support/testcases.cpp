#include "tests/support/testcases.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <vector>

#include "agent/util/fs.h"
#include "tests/support/plugin_test.h"
#include "tests/support/temp_dir.h"

namespace vigil::test {

std::string describe_reading(const Result<Sample>& reading, const std::string& case_dir) {
  if (!reading.ok()) {
    std::string message = reading.error();
    const std::string prefix = case_dir + "/";
    for (size_t at = message.find(prefix); at != std::string::npos; at = message.find(prefix)) {
      message.erase(at, prefix.size());
    }
    return "error: " + message + "\n";
  }
  std::string out;
  for (const auto& [name, value] : reading.value().metrics) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.10g", value);
    out += name + " " + buf + "\n";
  }
  return out;
}

int check_testcases(const Plugin& plugin) {
  namespace fs = std::filesystem;
  const std::string root = source_dir() + "/plugins/" + std::string(plugin.name) + "/testcases";
  std::vector<std::string> cases;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(root, ec)) {
    if (e.is_directory()) {
      cases.push_back(e.path().string());
    }
  }
  std::sort(cases.begin(), cases.end());
  for (const std::string& dir : cases) {
    INFO("test case " << dir);
    std::unique_ptr<Collector> collector = make_collector(plugin);
    CollectContext ctx;
    ctx.procfs = dir;
    ctx.sysfs = dir;
    ctx.once = true;
    std::string got = describe_reading(collector->read(ctx), dir);
    // VIGIL_UPDATE_TESTCASES=1 writes what the readings give, for a new case or
    // after a deliberate change; the diff is then the thing to review.
    if (getenv("VIGIL_UPDATE_TESTCASES") != nullptr) {
      REQUIRE(write_file_atomic(dir + "/expected.out", got).ok());
    }
    Result<std::string> expected = read_file(dir + "/expected.out");
    CHECK(expected.ok());
    CHECK(got == (expected.ok() ? expected.value() : std::string()));
  }
  return static_cast<int>(cases.size());
}

}  // namespace vigil::test
