#include "agent/loop/committer.h"

#include <errno.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "agent/util/fs.h"
#include "tests/support/records.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_loop.h"
#include "tests/support/tmpfs.h"

namespace vigil {
namespace {

Record record(const std::string& id) { return test::event_record(id); }

// A committer over a real loop and a real state_dir; what it routes and any fatal
// error are recorded.
struct Fixture {
  explicit Fixture(const std::string& dir, SlotFile::SyncFn sync = {})
      : store(std::make_shared<StateStore>(dir, std::move(sync))),
        owned(std::make_unique<Committer>(
            loop.get(), store,
            [this] {
              AgentState s;
              s.incidents = incidents;
              return s;
            },
            [this](const Record& r) { routed.push_back(r.id); },
            [this](const std::string& m) { fatal = m; })),
        committer(*owned) {
    (void)store->load();
  }
  ~Fixture() {
    owned.reset();  // its timers close before the loop does
    CHECK(loop.close() == 0);
  }
  bool routed_all(size_t n) {
    return loop.run_until([&] { return routed.size() >= n || !fatal.empty(); });
  }

  test::TestLoop loop;
  std::shared_ptr<StateStore> store;
  std::string incidents = "{}";
  std::vector<std::string> routed;
  std::string fatal;
  std::unique_ptr<Committer> owned;
  Committer& committer;
};

std::vector<std::string> saved_ids(const std::string& dir) {
  StateStore store(dir);
  StateStore::Loaded l = store.load();
  std::vector<std::string> ids;
  if (l.state) {
    for (const Record& r : l.state->unspooled) {
      ids.push_back(r.id);
    }
  }
  return ids;
}

TEST_CASE("committer saves records with the state before it routes them", "[committer]") {
  test::TempDir dir;
  Fixture f(dir.path());
  f.committer.emit({record("a"), record("b")});
  CHECK(f.routed.empty());  // not before the save has finished
  f.committer.emit({record("c")});
  REQUIRE(f.routed_all(3));
  CHECK(f.routed == std::vector<std::string>{"a", "b", "c"});
  CHECK(saved_ids(dir.path()) == std::vector<std::string>{"a", "b", "c"});
  CHECK(f.committer.unspooled() == 3);
  // Once every output holds them, the next save drops them.
  f.committer.on_all_durable();
  CHECK(f.committer.unspooled() == 0);
  f.committer.emit({record("d")});
  REQUIRE(f.routed_all(4));
  CHECK(saved_ids(dir.path()) == std::vector<std::string>{"d"});
}

TEST_CASE("committer routes the records a saved state held at once", "[committer]") {
  test::TempDir dir;
  Fixture f(dir.path());
  f.committer.restore({record("old")});
  CHECK(f.routed == std::vector<std::string>{"old"});
  f.committer.emit({record("new")});
  REQUIRE(f.routed_all(2));
  CHECK(saved_ids(dir.path()) == std::vector<std::string>{"old", "new"});
}

TEST_CASE("committer gives a failed fdatasync to fatal and routes nothing", "[committer]") {
  test::TempDir dir;
  Fixture f(dir.path(), [](int) {
    errno = EIO;
    return -1;
  });
  f.committer.emit({record("a")});
  REQUIRE(f.loop.run_until([&] { return !f.fatal.empty(); }));
  CHECK(f.fatal.find("fdatasync") != std::string::npos);
  CHECK(f.routed.empty());
  CHECK_FALSE(f.committer.save_at_exit());
}

TEST_CASE("committer goes on routing on a full disk and saves again once space returns",
          "[committer]") {
  test::TempDir dir;
  std::string mnt = dir.file("disk");
  REQUIRE(make_dirs(mnt).ok());
  test::Tmpfs disk(mnt, "256k");
  if (!disk.mounted()) {
    WARN("not root: no tmpfs, the full-disk case is not tested here");
    return;
  }
  disk.fill();  // before anything was reserved: no save can succeed
  Fixture f(mnt);
  f.committer.emit({record("a")});
  REQUIRE(f.routed_all(1));
  CHECK(f.fatal.empty());
  CHECK(f.committer.error().find("No space left on device") != std::string::npos);
  CHECK(saved_ids(mnt).empty());
  disk.free_filler();
  // Retried every second, without anything new emitted.
  REQUIRE(f.loop.run_until([&] { return f.committer.error().empty(); }, std::chrono::seconds(10)));
  CHECK(saved_ids(mnt) == std::vector<std::string>{"a"});
}

}  // namespace
}  // namespace vigil
