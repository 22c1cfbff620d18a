#include "agent/outputs/line_sink.h"

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/util/fs.h"
#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

// LineSink answers at once; collect the single answer.
std::optional<SendOutcome> send(LineSink& sink, const std::vector<SpoolEntry>& batch) {
  std::optional<SendOutcome> got;
  int calls = 0;
  sink.send(batch, [&](SendOutcome o) {
    ++calls;
    got = std::move(o);
  });
  CHECK(calls == 1);
  return got;
}

}  // namespace

TEST_CASE("line sink appends one bare record per line", "[line_sink]") {
  test::TempDir dir;
  std::string path = dir.file("out.jsonl");
  {
    LineSink sink(path);
    auto o = send(sink, {{"a", R"({"kind":"event","n":1})"}, {"b", R"({"kind":"event","n":2})"}});
    REQUIRE(o);
    CHECK(o->kind == SendOutcome::Kind::kAck);
    o = send(sink, {{"c", R"({"kind":"heartbeat"})"}});
    REQUIRE(o);
    CHECK(o->kind == SendOutcome::Kind::kAck);
  }
  const std::string first =
      "{\"kind\":\"event\",\"n\":1}\n{\"kind\":\"event\",\"n\":2}\n{\"kind\":\"heartbeat\"}\n";
  CHECK(read_file(path).value() == first);
  // A new sink (a restart) appends after what is there.
  LineSink again(path);
  REQUIRE(send(again, {{"d", "{}"}}));
  CHECK(read_file(path).value() == first + "{}\n");
}

TEST_CASE("line sink retries when its file cannot be opened", "[line_sink]") {
  test::TempDir dir;
  std::string path = dir.file("missing/out.jsonl");
  LineSink sink(path);
  auto o = send(sink, {{"a", "{}"}});
  REQUIRE(o);
  CHECK(o->kind == SendOutcome::Kind::kRetry);
  CHECK(o->error.find(path) != std::string::npos);
  // Once the folder exists the next attempt succeeds.
  REQUIRE(make_dirs(dir.file("missing")).ok());
  o = send(sink, {{"a", "{}"}});
  REQUIRE(o);
  CHECK(o->kind == SendOutcome::Kind::kAck);
  CHECK(read_file(path).value() == "{}\n");
}

}  // namespace vigil
