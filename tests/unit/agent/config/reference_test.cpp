#include "agent/config/reference.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>

#include "agent/config/plugin_registry.h"
#include "agent/util/fs.h"
#include "tests/plugins/testblock/testblock.h"
#include "tests/support/temp_dir.h"

namespace vigil {

namespace {

// VIGIL_UPDATE_DOCS=1 (scripts/update_docs.sh) rewrites the committed files
// after a table changed.
bool updating_docs() { return getenv("VIGIL_UPDATE_DOCS") != nullptr; }

}  // namespace

TEST_CASE("docs/CONFIGURATION.md is the rendered key tables", "[config][docs]") {
  std::string path = test::source_dir() + "/docs/CONFIGURATION.md";
  std::string rendered = config_reference_markdown();
  if (updating_docs()) {
    REQUIRE(write_file_atomic(path, rendered).ok());
  }
  Result<std::string> committed = read_file(path);
  REQUIRE(committed.ok());
  INFO("run scripts/update_docs.sh to regenerate " + path);
  CHECK(committed.value() == rendered);
}

TEST_CASE("the reference lists every key of every core table", "[config][docs]") {
  std::string doc = config_reference_markdown();
  for (const char* key : {"`hostname`", "`status_listen`", "`escalate_after`", "`unknown_after`",
                          "`spool_full`", "`min_severity`", "`send`", "`tls_verify`"}) {
    INFO(key);
    CHECK(doc.find(key) != std::string::npos);
  }
  CHECK(doc.find("one of `drop_oldest`, `drop_newest`") != std::string::npos);
  CHECK(doc.find("| `url` | string | (required) |") != std::string::npos);
  CHECK(doc.find("| `spool_max` | size | 256MiB | spool size cap; at least 4KiB |") !=
        std::string::npos);
}

// The release binary's plugins, and the test-only one beside the tests.
std::vector<std::pair<const Plugin*, std::string>> plugin_folders() {
  std::vector<std::pair<const Plugin*, std::string>> out;
  for (const Plugin* plugin : builtin_plugins()) {
    out.emplace_back(plugin, test::source_dir() + "/plugins/" + std::string(plugin->name));
  }
  out.emplace_back(&kTestBlockPlugin, test::source_dir() + "/tests/plugins/testblock");
  return out;
}

TEST_CASE("each plugin README's key table is rendered from the plugin's table", "[config][docs]") {
  for (const auto& [plugin, folder] : plugin_folders()) {
    std::string path = folder + "/README.md";
    INFO("run scripts/update_docs.sh to regenerate " + path);
    Result<std::string> committed = read_file(path);
    REQUIRE(committed.ok());
    Result<std::string> rendered = with_plugin_keys(committed.value(), *plugin);
    REQUIRE(rendered.ok());
    if (updating_docs() && rendered.value() != committed.value()) {
      REQUIRE(write_file_atomic(path, rendered.value()).ok());
      committed = read_file(path);
    }
    CHECK(committed.value() == rendered.value());
  }
}

TEST_CASE("every plugin folder belongs to a plugin", "[config][docs]") {
  for (const auto& entry : std::filesystem::directory_iterator(test::source_dir() + "/plugins")) {
    if (!entry.is_directory()) {
      continue;
    }
    std::string name = entry.path().filename().string();
    INFO(name);
    bool found = false;
    for (const Plugin* plugin : builtin_plugins()) {
      found = found || plugin->name == name;
    }
    CHECK(found);
  }
}

TEST_CASE("a plugin README's keys go between its markers", "[config][docs]") {
  const Plugin* exec = nullptr;
  const Plugin* load = nullptr;
  for (const Plugin* plugin : builtin_plugins()) {
    exec = plugin->name == "exec" ? plugin : exec;
    load = plugin->name == "load" ? plugin : load;
  }
  REQUIRE(exec != nullptr);
  REQUIRE(load != nullptr);
  Result<std::string> doc =
      with_plugin_keys("# exec\n\n<!-- keys:begin -->\nold\n<!-- keys:end -->\n\nAfter.\n", *exec);
  REQUIRE(doc.ok());
  CHECK(doc->find("old") == std::string::npos);
  CHECK(doc->rfind("# exec\n\n<!-- keys:begin -->\n<!-- Generated", 0) == 0);
  CHECK(doc->find("| `command` | string | (required) |") != std::string::npos);
  CHECK(doc->find("defaults to 10s here") != std::string::npos);
  CHECK(doc->find("<!-- keys:end -->\n\nAfter.\n") != std::string::npos);
  CHECK(plugin_keys_markdown(*load).find("None besides") != std::string::npos);
  CHECK_FALSE(with_plugin_keys("# no markers\n", *exec).ok());
}

}  // namespace vigil
