#include "agent/spool/lane_spool.h"

#include <errno.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;

// A record of `kind` numbered `n`, padded to about `size` bytes.
SpoolEntry record(const std::string& kind, int n, size_t size = 60) {
  char id[16];
  snprintf(id, sizeof id, "r%06d", n);
  std::string payload = "{\"kind\":\"" + kind + "\",\"n\":" + std::to_string(n) + "}";
  payload.resize(std::max(size, payload.size()), ' ');
  return SpoolEntry{id, payload, {}, 0};
}

std::unique_ptr<LaneSpool> open_lanes(const std::string& dir, bool priority,
                                      SpoolOptions opts = {}) {
  auto s = LaneSpool::open(dir, std::move(opts), priority);
  REQUIRE(s.ok());
  return std::move(s.value());
}

// Everything the spool holds, as a sender would see it: peek, ack, until empty.
std::vector<std::string> drain(LaneSpool& s, size_t batch = 3) {
  std::vector<std::string> out;
  while (true) {
    auto got = s.peek(batch, UINT64_MAX);
    REQUIRE(got.ok());
    if (got.value().empty()) {
      return out;
    }
    for (const SpoolEntry& e : got.value()) {
      out.push_back(e.id);
    }
    REQUIRE(s.ack(got.value()).ok());
  }
}

std::vector<std::string> ids(const std::vector<SpoolEntry>& entries) {
  std::vector<std::string> out;
  for (const SpoolEntry& e : entries) {
    out.push_back(e.id);
  }
  return out;
}

// A mix of kinds in emission order: what an agent emits in a long outage.
std::vector<SpoolEntry> mixed(int first, int n) {
  static const char* kKinds[] = {"event", "heartbeat", "incident", "event", "problem", "event"};
  std::vector<SpoolEntry> out;
  for (int i = first; i < first + n; ++i) {
    out.push_back(record(kKinds[i % 6], i));
  }
  return out;
}

uint64_t dropped_of(const SpoolStats& st, const std::string& kind) {
  for (size_t k = 0; k < kRecordKinds; ++k) {
    if (kind == kRecordKindNames[k]) {
      return st.dropped_by_kind[k];
    }
  }
  return 0;
}

uint64_t seg_bytes_under(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".seg") {
      total += e.file_size();
    }
  }
  return total;
}

}  // namespace

TEST_CASE("sequence numbers ride in the frame id and come off again", "[spool][lanes]") {
  std::string id = LaneSpool::sequenced_id(42, "0190-abc");
  CHECK(id == "000000000000002a:0190-abc");
  CHECK(LaneSpool::strip_sequence(&id) == 42);
  CHECK(id == "0190-abc");
  std::string plain = "01903b4c-8a4e-7c1d-9f00-000000000000";
  CHECK(LaneSpool::strip_sequence(&plain) == 0);
  CHECK(plain == "01903b4c-8a4e-7c1d-9f00-000000000000");
}

TEST_CASE("lanes deliver records in emission order, across restarts", "[spool][lanes]") {
  test::TempDir tmp;
  std::vector<SpoolEntry> all = mixed(0, 40);
  {
    auto s = open_lanes(tmp.path(), true);
    REQUIRE(s->append({all.begin(), all.begin() + 25}).value().taken == 25);
    CHECK(fs::exists(tmp.file("high")));
    CHECK(fs::exists(tmp.file("low")));
    auto [high, low] = s->lane_bytes();
    CHECK(high > 0);
    CHECK(low > high);
  }
  auto s = open_lanes(tmp.path(), true);
  REQUIRE(s->append({all.begin() + 25, all.end()}).value().taken == 15);
  CHECK(drain(*s) == ids(all));
  CHECK(s->stats().records == 0);
}

TEST_CASE("at the cap events and heartbeats go first, incidents stay", "[spool][lanes]") {
  test::TempDir tmp;
  SpoolOptions opts;
  opts.max_bytes = 16 << 10;
  auto s = open_lanes(tmp.path(), true, opts);
  std::vector<std::string> high;
  for (int i = 0; i < 300; i += 6) {
    auto batch = mixed(i, 6);
    REQUIRE(s->append(batch).value().taken == 6);
    CHECK(seg_bytes_under(tmp.path()) <= opts.max_bytes);
    high.push_back(batch[2].id);
    high.push_back(batch[4].id);
  }
  SpoolStats st = s->stats();
  CHECK(st.dropped > 0);
  CHECK(dropped_of(st, "incident") == 0);
  CHECK(dropped_of(st, "problem") == 0);
  CHECK(dropped_of(st, "event") + dropped_of(st, "heartbeat") == st.dropped);
  // Every incident and problem is there, and what is left comes in emission order.
  std::vector<std::string> got = drain(*s, 7);
  for (const std::string& id : high) {
    CHECK(std::find(got.begin(), got.end(), id) != got.end());
  }
  CHECK(std::is_sorted(got.begin(), got.end()));
  CHECK(got.size() + st.dropped == 300);
}

TEST_CASE("a spool of incidents alone: spool_full applies, counted as incidents",
          "[spool][lanes]") {
  test::TempDir tmp;
  SpoolOptions opts;
  opts.max_bytes = 8 << 10;
  opts.drop_newest = GENERATE(false, true);
  auto s = open_lanes(tmp.path(), true, opts);
  for (int i = 0; i < 300; ++i) {
    REQUIRE(s->append({record("incident", i)}).value().taken == 1);
  }
  SpoolStats st = s->stats();
  CHECK(st.dropped > 0);
  CHECK(dropped_of(st, "incident") == st.dropped);
  std::vector<std::string> got = drain(*s, 50);
  REQUIRE(!got.empty());
  CHECK(got.size() + st.dropped == 300);
  if (opts.drop_newest) {
    CHECK(got.front() == "r000000");
  } else {
    CHECK(got.back() == "r000299");
  }
}

TEST_CASE("a full disk evicts the low lane first", "[spool][lanes]") {
  test::TempDir tmp;
  SpoolOptions opts;
  opts.max_bytes = 64 << 10;
  opts.reserve_bytes = 0;
  // A disk of 6 KiB for both lanes; unlinking a segment gives its bytes back.
  uint64_t capacity = 6 << 10;
  std::string dir = tmp.path();
  opts.write_fn = [&](int fd, const void* data, size_t size) -> ssize_t {
    uint64_t used = seg_bytes_under(dir);
    if (used >= capacity) {
      errno = ENOSPC;
      return -1;
    }
    return ::write(fd, data, std::min<uint64_t>(size, capacity - used));
  };
  auto s = open_lanes(tmp.path(), true, opts);
  int n = 0;
  for (; n < 200; ++n) {
    REQUIRE(s->append({record("event", n)}).ok());
  }
  CHECK(seg_bytes_under(dir) <= capacity);
  uint64_t events_before = dropped_of(s->stats(), "event");
  CHECK(events_before > 0);  // on a full disk the low lane is a ring
  // Incidents still find room: events give theirs up, counted.
  for (int i = 0; i < 30; ++i) {
    auto r = s->append({record("incident", n++)});
    REQUIRE(r.ok());
    CHECK(r.value().taken == 1);
    CHECK(r.value().no_space_error.empty());
  }
  SpoolStats st = s->stats();
  CHECK(dropped_of(st, "event") > events_before);
  CHECK(dropped_of(st, "incident") == 0);
  std::vector<std::string> got = drain(*s, 500);
  CHECK(std::is_sorted(got.begin(), got.end()));
  CHECK(got.back() == "r000229");
}

TEST_CASE("spool_priority off keeps one lane in the layout of old", "[spool][lanes]") {
  test::TempDir on_dir, off_dir;
  std::vector<SpoolEntry> all = mixed(0, 30);
  auto off = open_lanes(off_dir.path(), false);
  auto on = open_lanes(on_dir.path(), true);
  REQUIRE(off->append(all).value().taken == 30);
  REQUIRE(on->append(all).value().taken == 30);
  // Off: segments straight in the folder, frame ids as given, no lanes.
  CHECK(!fs::exists(off_dir.file("high")));
  CHECK(!fs::exists(off_dir.file("low")));
  CHECK(off->lane_bytes() == std::pair<uint64_t, uint64_t>{0, 0});
  auto opened = Spool::open(off_dir.path(), {});
  REQUIRE(opened.ok());
  auto plain = opened.value()->peek(100, UINT64_MAX);
  REQUIRE(plain.ok());
  CHECK(ids(plain.value()) == ids(all));
  opened.value().reset();
  // On and off differ only in lanes: the same records, in the same order.
  CHECK(drain(*off) == drain(*on));
}

TEST_CASE("turning priority on or off drains the other setting's spool first", "[spool][lanes]") {
  test::TempDir tmp;
  const bool first = GENERATE(false, true);
  {
    auto s = open_lanes(tmp.path(), first);
    REQUIRE(s->append(mixed(0, 20)).value().taken == 20);
  }
  auto s = open_lanes(tmp.path(), !first);
  REQUIRE(s->append(mixed(20, 20)).value().taken == 20);
  CHECK(s->stats().records == 40);
  CHECK(drain(*s, 6) == ids(mixed(0, 40)));
}

}  // namespace vigil
