#include "agent/outputs/output_set.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "agent/util/fs.h"
#include "tests/support/records.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_loop.h"

namespace vigil {
namespace {

OutputConfig file_output(const std::string& name, const std::string& path) {
  OutputConfig oc;
  oc.name = name;
  oc.url = "file:" + path;
  oc.flush_interval = Duration(1);
  return oc;
}

Record event(const std::string& id) { return test::event_record(id); }
Record heartbeat(const std::string& id) { return test::event_record(id, RecordKind::kHeartbeat); }

std::string lines(const std::string& path) {
  auto text = read_file(path);
  return text.ok() ? text.value() : "";
}

const AgentInfo kInfo{"web1", "0.1.0", "instance"};

TEST_CASE("output set routes each record to the outputs that take it", "[output_set]") {
  test::TempDir dir;
  test::TestLoop loop;
  int durable = 0;
  {
    OutputSet::Callbacks cb;
    cb.all_durable = [&] { ++durable; };
    cb.fatal = [](const std::string& m) { FAIL(m); };
    OutputSet outputs(loop.get(), dir.path(), cb);
    OutputConfig no_beats = file_output("events", dir.file("events.jsonl"));
    no_beats.send_heartbeat = false;
    REQUIRE(outputs.open({no_beats, file_output("all", dir.file("all.jsonl"))}, kInfo).ok());
    outputs.route(event("e1"));
    outputs.route(heartbeat("h1"));
    REQUIRE(loop.run_until([&] { return outputs.drained(); }));
    CHECK(lines(dir.file("events.jsonl")) == "{\"id\":\"e1\"}\n");
    CHECK(lines(dir.file("all.jsonl")) == "{\"id\":\"e1\"}\n{\"id\":\"h1\"}\n");
    CHECK(durable > 0);
    CHECK(outputs.statuses().size() == 2);
    CHECK(outputs.loss().dropped == 0);
    CHECK(outputs.spooled() == 0);
    outputs.stop();
  }
  CHECK(loop.close() == 0);
}

TEST_CASE("output set reload keeps, adds and removes outputs by name", "[output_set]") {
  test::TempDir dir;
  test::TestLoop loop;
  {
    OutputSet::Callbacks cb;
    cb.fatal = [](const std::string& m) { FAIL(m); };
    OutputSet outputs(loop.get(), dir.path(), cb);
    REQUIRE(
        outputs
            .open({file_output("a", dir.file("a.jsonl")), file_output("b", dir.file("b.jsonl"))},
                  kInfo)
            .ok());
    outputs.route(event("1"));
    REQUIRE(loop.run_until([&] { return outputs.drained(); }));
    outputs.apply({file_output("a", dir.file("a.jsonl")), file_output("c", dir.file("c.jsonl"))},
                  kInfo);
    REQUIRE(outputs.size() == 2);
    CHECK(outputs.statuses()[0].name == "a");
    CHECK(outputs.statuses()[1].name == "c");
    outputs.route(event("2"));
    REQUIRE(loop.run_until([&] { return outputs.drained(); }));
    CHECK(lines(dir.file("a.jsonl")) == "{\"id\":\"1\"}\n{\"id\":\"2\"}\n");
    CHECK(lines(dir.file("b.jsonl")) == "{\"id\":\"1\"}\n");  // removed: nothing more
    CHECK(lines(dir.file("c.jsonl")) == "{\"id\":\"2\"}\n");
    CHECK(std::filesystem::exists(dir.file("spool/b")));  // its spool stays on disk
    outputs.stop();
  }
  CHECK(loop.close() == 0);
}

}  // namespace
}  // namespace vigil
