#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "agent/config/check_config.h"
#include "agent/config/plugin_registry.h"
#include "agent/util/fs.h"
#include "tests/plugins/testblock/testblock.h"
#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;

// The sample configurations users copy from: every plugin's and conf/'s.
std::vector<std::string> samples() {
  std::vector<std::string> out;
  std::string source = test::source_dir();
  for (const char* folder : {"/plugins", "/tests/plugins"}) {
    for (const auto& plugin : fs::directory_iterator(source + folder)) {
      if (plugin.is_directory()) {
        for (const auto& f : fs::directory_iterator(plugin.path())) {
          if (f.path().extension() == ".ini") {
            out.push_back(f.path().string());
          }
        }
      }
    }
  }
  for (const auto& f : fs::recursive_directory_iterator(source + "/conf")) {
    if (f.is_regular_file() && f.path().extension() == ".ini") {
      out.push_back(f.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("check-config accepts every sample configuration", "[config][samples]") {
  std::vector<std::string> files = samples();
  CHECK(files.size() >= 12);
  test::TempDir dir;
  for (const std::string& path : files) {
    INFO(path);
    std::string out_path = dir.file("out.txt");
    FILE* out = fopen(out_path.c_str(), "w");
    REQUIRE(out != nullptr);
    LoadOptions options;
    // The test-only plugin's sample too, as vigil-test reads it.
    const Plugin* const with_tests[] = {&kTestBlockPlugin};
    std::vector<const Plugin*> plugins(builtin_plugins().begin(), builtin_plugins().end());
    plugins.insert(plugins.end(), std::begin(with_tests), std::end(with_tests));
    options.plugins = plugins;
    // The samples' defaults, whatever this machine's environment holds.
    options.getenv = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
    int rc = run_check_config(path, out, options);
    fclose(out);
    Result<std::string> text = read_file(out_path);
    REQUIRE(text.ok());
    CHECK(text.value() == "ok\n");
    CHECK(rc == 0);
  }
}

}  // namespace vigil
