#include "agent/config/reference.h"

#include <catch2/catch.hpp>
#include <cstdlib>

#include "agent/util/fs.h"
#include "tests/support/temp_dir.h"

namespace vigil {

TEST_CASE("docs/CONFIGURATION.md is the rendered key tables", "[config]") {
  std::string path = test::source_dir() + "/docs/CONFIGURATION.md";
  std::string rendered = config_reference_markdown();
  // VIGIL_UPDATE_DOCS=1 rewrites the committed file after a table changed.
  if (getenv("VIGIL_UPDATE_DOCS") != nullptr) {
    REQUIRE(write_file_atomic(path, rendered).ok());
  }
  Result<std::string> committed = read_file(path);
  REQUIRE(committed.ok());
  INFO("run VIGIL_UPDATE_DOCS=1 unit_tests \"[config]\" to regenerate " + path);
  CHECK(committed.value() == rendered);
}

TEST_CASE("the reference lists every key of every core table", "[config]") {
  std::string doc = config_reference_markdown();
  for (const char* key : {"`hostname`", "`status_listen`", "`escalate_after`", "`unknown_after`",
                          "`spool_full`", "`min_severity`", "`send`", "`tls_verify`"}) {
    INFO(key);
    CHECK(doc.find(key) != std::string::npos);
  }
  CHECK(doc.find("one of `drop_oldest`, `drop_newest`") != std::string::npos);
  CHECK(doc.find("| `url` | string | (required) |") != std::string::npos);
}

}  // namespace vigil
