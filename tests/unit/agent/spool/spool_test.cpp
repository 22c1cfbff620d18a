#include "agent/spool/spool.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "agent/util/fs.h"
#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;

std::string id_of(int i) {
  char buf[16];
  snprintf(buf, sizeof buf, "r%06d", i);
  return buf;
}

// Records `first` .. `first + n - 1`, each with a payload of `size` bytes naming it.
std::vector<SpoolEntry> records(int first, int n, size_t size = 40) {
  std::vector<SpoolEntry> out;
  for (int i = first; i < first + n; ++i) {
    std::string payload = "{\"n\":" + std::to_string(i) + "}";
    payload.resize(std::max(size, payload.size()), ' ');
    out.push_back({id_of(i), payload});
  }
  return out;
}

std::unique_ptr<Spool> open_spool(const std::string& dir, SpoolOptions opts = {}) {
  auto s = Spool::open(dir, std::move(opts));
  REQUIRE(s.ok());
  return std::move(s.value());
}

std::vector<std::string> ids(const std::vector<SpoolEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) {
    out.push_back(e.id);
  }
  return out;
}

std::vector<std::string> ids_from(int first, int n) {
  std::vector<std::string> out;
  for (int i = first; i < first + n; ++i) {
    out.push_back(id_of(i));
  }
  return out;
}

// Everything still unacknowledged, without consuming it.
std::vector<std::string> all_ids(Spool& s) { return ids(s.peek(1u << 30, UINT64_MAX).value()); }

std::vector<std::string> segment_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.size() > 4 && name.substr(name.size() - 4) == ".seg") {
      out.push_back(e.path().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

uint64_t segment_bytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& f : segment_files(dir)) {
    total += fs::file_size(f);
  }
  return total;
}

size_t count_names_containing(const std::string& dir, const std::string& part) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().find(part) != std::string::npos) {
      ++n;
    }
  }
  return n;
}

// A disk of `capacity` bytes for the spool folder: writes that would make its files
// larger fail with ENOSPC, after writing what fits, as a real file system does.
struct SmallDisk {
  std::string dir;
  uint64_t capacity;
  ssize_t operator()(int fd, const void* data, size_t size) const {
    uint64_t used = segment_bytes(dir);
    if (used >= capacity) {
      errno = ENOSPC;
      return -1;
    }
    size_t n = static_cast<size_t>(std::min<uint64_t>(size, capacity - used));
    return ::write(fd, data, n);
  }
};

}  // namespace

TEST_CASE("records come back in order and stay until acknowledged", "[spool]") {
  test::TempDir tmp;
  auto s = open_spool(tmp.file("spool/out"));
  REQUIRE(s->append(records(0, 10)).ok());
  CHECK(s->stats().records == 10);

  auto first = s->peek(4, UINT64_MAX);
  REQUIRE(first.ok());
  CHECK(ids(first.value()) == ids_from(0, 4));
  CHECK(first.value()[2].payload.rfind("{\"n\":2}", 0) == 0);
  CHECK(ids(s->peek(4, UINT64_MAX).value()) == ids_from(0, 4));  // peek does not consume

  REQUIRE(s->ack(4).ok());
  CHECK(s->stats().records == 6);
  CHECK(ids(s->peek(100, UINT64_MAX).value()) == ids_from(4, 6));
  REQUIRE(s->ack(6).ok());
  CHECK(s->stats().records == 0);
  CHECK(s->stats().bytes == 0);
  CHECK(s->peek(100, UINT64_MAX).value().empty());

  REQUIRE(s->append(records(10, 2)).ok());
  CHECK(all_ids(*s) == ids_from(10, 2));
}

TEST_CASE("a peek stops at its byte budget but returns at least one record", "[spool]") {
  test::TempDir tmp;
  auto s = open_spool(tmp.path());
  REQUIRE(s->append(records(0, 5, 100)).ok());
  CHECK(s->peek(10, 250).value().size() == 2);
  CHECK(s->peek(10, 10).value().size() == 1);
  CHECK(s->peek(3, UINT64_MAX).value().size() == 3);
  CHECK(s->peek(0, UINT64_MAX).value().size() == 1);
}

TEST_CASE("acks without a peek acknowledge the head, and successive acks add up", "[spool]") {
  test::TempDir tmp;
  auto s = open_spool(tmp.path());
  REQUIRE(s->append(records(0, 10)).ok());
  REQUIRE(s->ack(3).ok());
  CHECK(all_ids(*s) == ids_from(3, 7));
  REQUIRE(s->peek(5, UINT64_MAX).ok());
  REQUIRE(s->ack(2).ok());
  REQUIRE(s->ack(2).ok());
  CHECK(all_ids(*s) == ids_from(7, 3));
  REQUIRE(s->ack(100).ok());  // more than there are: all of them
  CHECK(s->stats().records == 0);
}

TEST_CASE("a reopened spool resumes at the acknowledged cursor", "[spool]") {
  test::TempDir tmp;
  SpoolOptions opts;
  opts.max_bytes = 64 << 10;  // 8 KiB segments, so the records span several
  {
    auto s = open_spool(tmp.path(), opts);
    for (int b = 0; b < 10; ++b) {
      REQUIRE(s->append(records(b * 30, 30, 100)).ok());
    }
    REQUIRE(segment_files(tmp.path()).size() > 3);
    REQUIRE(s->peek(125, UINT64_MAX).value().size() == 125);
    REQUIRE(s->ack(125).ok());
  }
  auto s = open_spool(tmp.path(), opts);
  CHECK(s->stats().records == 175);
  CHECK(s->stats().corrupt_frames == 0);
  CHECK(all_ids(*s) == ids_from(125, 175));
  REQUIRE(s->append(records(300, 5)).ok());
  CHECK(all_ids(*s) == ids_from(125, 180));
}

TEST_CASE("acknowledged segments are deleted and the rest kept", "[spool]") {
  test::TempDir tmp;
  SpoolOptions opts;
  opts.max_bytes = 64 << 10;
  auto s = open_spool(tmp.path(), opts);
  for (int b = 0; b < 10; ++b) {
    REQUIRE(s->append(records(b * 30, 30, 100)).ok());
  }
  size_t before = segment_files(tmp.path()).size();
  REQUIRE(s->ack(150).ok());
  size_t after = segment_files(tmp.path()).size();
  CHECK(after < before);
  CHECK(after > 1);
  REQUIRE(s->ack(150).ok());
  CHECK(segment_files(tmp.path()).size() == 1);  // the tail stays for appends
  CHECK(s->stats().records == 0);
  CHECK(s->stats().disk_bytes == segment_bytes(tmp.path()));
}

TEST_CASE("a torn tail is cut and counted, and appends continue after it", "[spool]") {
  test::TempDir tmp;
  {
    auto s = open_spool(tmp.path());
    REQUIRE(s->append(records(0, 5)).ok());
  }
  auto segs = segment_files(tmp.path());
  REQUIRE(segs.size() == 1);
  uint64_t full = fs::file_size(segs[0]);
  uint64_t cut = GENERATE(3, 10, 30);  // inside the header, the id, the payload
  fs::resize_file(segs[0], full - cut);

  auto s = open_spool(tmp.path());
  CHECK(s->stats().corrupt_frames == 1);
  CHECK(s->stats().records == 4);
  CHECK(fs::file_size(segs[0]) == full - frame_size(7, 40));
  REQUIRE(s->append(records(5, 2)).ok());
  std::vector<std::string> want = ids_from(0, 4);
  want.push_back(id_of(5));
  want.push_back(id_of(6));
  CHECK(all_ids(*s) == want);

  auto again = open_spool(tmp.path());
  CHECK(again->stats().corrupt_frames == 0);
  CHECK(all_ids(*again) == want);
}

TEST_CASE("a corrupt frame in the middle is skipped and counted", "[spool]") {
  test::TempDir tmp;
  {
    auto s = open_spool(tmp.path());
    REQUIRE(s->append(records(0, 5)).ok());
  }
  auto segs = segment_files(tmp.path());
  std::string bytes = read_file(segs[0]).value();
  uint64_t third = kSegmentHeaderSize + 2 * frame_size(7, 40);
  // The length field, the checksum, or the payload of the third frame.
  uint64_t at = third + GENERATE(5, 9, 30);
  bytes[at] = static_cast<char>(bytes[at] ^ 0x5A);
  tmp.write(fs::path(segs[0]).filename().string(), bytes);

  auto s = open_spool(tmp.path());
  CHECK(s->stats().corrupt_frames == 1);
  CHECK(s->stats().records == 4);
  std::vector<std::string> want = {id_of(0), id_of(1), id_of(3), id_of(4)};
  CHECK(all_ids(*s) == want);
  REQUIRE(s->ack(4).ok());
  CHECK(s->stats().records == 0);
}

TEST_CASE("corruption that appears while running is skipped and counted at read", "[spool]") {
  test::TempDir tmp;
  auto s = open_spool(tmp.path());
  REQUIRE(s->append(records(0, 5)).ok());
  auto segs = segment_files(tmp.path());
  std::string bytes = read_file(segs[0]).value();
  uint64_t second = kSegmentHeaderSize + frame_size(7, 40);
  bytes[second + 20] ^= 0x01;
  tmp.write(fs::path(segs[0]).filename().string(), bytes);

  std::vector<std::string> want = {id_of(0), id_of(2), id_of(3), id_of(4)};
  CHECK(all_ids(*s) == want);
  CHECK(s->stats().corrupt_frames == 1);
  CHECK(s->stats().records == 4);
  CHECK(all_ids(*s) == want);  // counted once
  CHECK(s->stats().corrupt_frames == 1);
}

TEST_CASE("an unreadable segment is moved aside and the spool still opens", "[spool]") {
  test::TempDir tmp;
  SpoolOptions opts;
  opts.max_bytes = 16 << 10;  // 2 KiB segments
  {
    auto s = open_spool(tmp.path(), opts);
    REQUIRE(s->append(records(0, 100)).ok());
  }
  auto segs = segment_files(tmp.path());
  REQUIRE(segs.size() >= 3);
  SECTION("a folder in the place of a segment") {
    fs::remove(segs[1]);
    CHECK(fs::create_directory(segs[1]));
  }
  SECTION("a file that is not a segment") {
    tmp.write(fs::path(segs[1]).filename().string(), std::string(3000, 'j'));
    CHECK(fs::file_size(segs[1]) == 3000);
  }
  auto s = open_spool(tmp.path(), opts);
  CHECK(s->stats().corrupt_frames == 1);
  CHECK(count_names_containing(tmp.path(), ".corrupt-") == 1);
  auto got = all_ids(*s);
  CHECK(got.size() == s->stats().records);
  CHECK(got.size() < 100);
  CHECK(got.front() == id_of(0));
  CHECK(got.back() == id_of(99));
  REQUIRE(s->append(records(100, 1)).ok());
  CHECK(all_ids(*s).back() == id_of(100));
}

TEST_CASE("a segment with a torn header at the end is removed", "[spool]") {
  test::TempDir tmp;
  {
    auto s = open_spool(tmp.path());
    REQUIRE(s->append(records(0, 3)).ok());
  }
  tmp.write(segment_file_name(2), segment_header().substr(0, 5));
  tmp.write(segment_file_name(3), "");
  auto s = open_spool(tmp.path());
  CHECK(s->stats().corrupt_frames == 1);
  CHECK(segment_files(tmp.path()).size() == 1);
  REQUIRE(s->append(records(3, 1)).ok());
  CHECK(all_ids(*s) == ids_from(0, 4));
}

TEST_CASE("an unreadable cursor is counted and everything is delivered again", "[spool]") {
  test::TempDir tmp;
  {
    auto s = open_spool(tmp.path());
    REQUIRE(s->append(records(0, 6)).ok());
    REQUIRE(s->ack(2).ok());
  }
  tmp.write("cursor", "not a cursor");
  auto s = open_spool(tmp.path());
  CHECK(s->stats().corrupt_frames == 1);
  CHECK(all_ids(*s) == ids_from(0, 6));
}

TEST_CASE("drop_oldest keeps the newest records within the cap", "[spool]") {
  test::TempDir tmp;
  SpoolOptions opts;
  opts.max_bytes = 4096;  // the smallest spool_max: 512-byte segments
  auto s = open_spool(tmp.path(), opts);
  int appended = 0;
  for (int b = 0; b < 40; ++b) {
    REQUIRE(s->append(records(appended, 5, 60)).ok());
    appended += 5;
    CHECK(segment_bytes(tmp.path()) <= opts.max_bytes + opts.max_bytes / 8);
  }
  SpoolStats st = s->stats();
  CHECK(st.dropped > 0);
  CHECK(st.records + st.dropped == static_cast<uint64_t>(appended));
  CHECK(st.disk_bytes == segment_bytes(tmp.path()));
  auto got = all_ids(*s);
  CHECK(got.size() == st.records);
  // The survivors are the newest, contiguous, up to the last one appended.
  CHECK(got == ids_from(appended - static_cast<int>(got.size()), static_cast<int>(got.size())));

  auto again = open_spool(tmp.path(), opts);
  CHECK(all_ids(*again) == got);
}

TEST_CASE("drop_newest refuses new records at the cap", "[spool]") {
  test::TempDir tmp;
  SpoolOptions opts;
  opts.max_bytes = 4096;
  opts.drop_newest = true;
  auto s = open_spool(tmp.path(), opts);
  for (int b = 0; b < 40; ++b) {
    REQUIRE(s->append(records(b * 5, 5, 60)).ok());
    CHECK(segment_bytes(tmp.path()) <= opts.max_bytes);
  }
  SpoolStats st = s->stats();
  CHECK(st.dropped > 0);
  CHECK(st.records + st.dropped == 200);
  CHECK(all_ids(*s) == ids_from(0, static_cast<int>(st.records)));

  // Acknowledged segments free room for new records again.
  REQUIRE(s->ack(st.records).ok());
  REQUIRE(s->append(records(500, 3, 60)).ok());
  CHECK(all_ids(*s) == ids_from(500, 3));
}

TEST_CASE("a record larger than a segment gets one of its own", "[spool]") {
  test::TempDir tmp;
  SpoolOptions opts;
  opts.max_bytes = 4096;
  auto s = open_spool(tmp.path(), opts);
  REQUIRE(s->append(records(0, 1, 50)).ok());
  REQUIRE(s->append(records(1, 1, 2000)).ok());
  REQUIRE(s->append(records(2, 1, 50)).ok());
  CHECK(segment_files(tmp.path()).size() == 3);
  auto got = s->peek(10, UINT64_MAX).value();
  REQUIRE(ids(got) == ids_from(0, 3));
  CHECK(got[1].payload.size() == 2000);

  SECTION("one that cannot fit even an empty spool is dropped") {
    REQUIRE(s->append(records(3, 1, 5000)).ok());
    CHECK(s->stats().dropped == 1);
    CHECK(all_ids(*s) == ids_from(0, 3));
  }
}

TEST_CASE("an ack after drop_oldest removed peeked records acks only those sent", "[spool]") {
  test::TempDir tmp;
  SpoolOptions opts;
  opts.max_bytes = 4096;
  auto s = open_spool(tmp.path(), opts);
  REQUIRE(s->append(records(0, 5, 60)).ok());
  auto batch = s->peek(3, UINT64_MAX).value();
  REQUIRE(ids(batch) == ids_from(0, 3));
  // Enough new records to push the peeked ones out while the batch is "in flight".
  for (int b = 1; b < 20; ++b) {
    REQUIRE(s->append(records(b * 5, 5, 60)).ok());
  }
  SpoolStats before = s->stats();
  REQUIRE(before.dropped >= 3);
  REQUIRE(s->ack(3).ok());
  CHECK(s->stats().records == before.records);
  auto got = all_ids(*s);
  CHECK(got.size() == before.records);
  CHECK(got == ids_from(100 - static_cast<int>(got.size()), static_cast<int>(got.size())));
}

TEST_CASE("a full disk is handled like a full spool", "[spool]") {
  test::TempDir tmp;
  SpoolOptions opts;
  opts.max_bytes = 64 << 10;  // the cap is not what stops us here: the disk is
  opts.write_fn = SmallDisk{tmp.path(), 3000};
  SECTION("drop_oldest makes room by deleting old segments") {
    opts.max_bytes = 8 << 10;  // 1 KiB segments, so there are old ones to delete
    auto s = open_spool(tmp.path(), opts);
    for (int b = 0; b < 30; ++b) {
      REQUIRE(s->append(records(b * 4, 4, 60)).ok());
      CHECK(segment_bytes(tmp.path()) <= 3000);
    }
    SpoolStats st = s->stats();
    CHECK(st.dropped > 0);
    CHECK(st.records + st.dropped == 120);
    auto got = all_ids(*s);
    CHECK(got.size() == st.records);
    CHECK(got.back() == id_of(119));
  }
  SECTION("drop_newest refuses what does not fit") {
    opts.drop_newest = true;
    auto s = open_spool(tmp.path(), opts);
    for (int b = 0; b < 30; ++b) {
      REQUIRE(s->append(records(b * 4, 4, 60)).ok());
    }
    SpoolStats st = s->stats();
    CHECK(st.dropped > 0);
    CHECK(st.records + st.dropped == 120);
    CHECK(all_ids(*s) == ids_from(0, static_cast<int>(st.records)));
  }
  // No partial frame was left behind: a reopen finds nothing corrupt.
  auto again = open_spool(tmp.path());
  CHECK(again->stats().corrupt_frames == 0);
  CHECK(again->stats().records > 0);
}

TEST_CASE("a failed fsync is fatal for the spool", "[spool]") {
  test::TempDir tmp;
  std::atomic<bool> broken{false};
  std::atomic<int> syncs{0};
  SpoolOptions opts;
  opts.max_bytes = 64 << 10;  // 8 KiB segments: 300 records of 100 bytes span several
  opts.sync_fn = [&broken, &syncs](int fd) {
    ++syncs;
    if (broken) {
      errno = EIO;
      return -1;
    }
    return fdatasync(fd);
  };
  auto s = open_spool(tmp.path(), opts);
  REQUIRE(s->append(records(0, 300, 100)).ok());
  REQUIRE(segment_files(tmp.path()).size() > 2);
  // An ack that frees no segment writes the cursor without a sync: losing it
  // in a crash only sends records again.
  int before = syncs;
  REQUIRE(s->ack(1).ok());
  CHECK(syncs == before);
  broken = true;
  const bool in_append = GENERATE(true, false);
  if (in_append) {
    Status st = s->append(records(300, 2));
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().find("fsync") != std::string::npos);
  } else {
    // Freeing a segment needs the cursor durable first: that sync fails.
    REQUIRE_FALSE(s->ack(150).ok());
    CHECK(segment_files(tmp.path()).size() > 2);
  }
  broken = false;
  CHECK_FALSE(s->append(records(400, 1)).ok());
  CHECK_FALSE(s->peek(1, UINT64_MAX).ok());
  CHECK_FALSE(s->ack(1).ok());
}

TEST_CASE("appends on one thread and reads on another deliver each record once in order",
          "[spool]") {
  test::TempDir tmp;
  SpoolOptions opts;
  opts.max_bytes = 1 << 20;  // 128 KiB segments: several rolls and deletions
  auto s = open_spool(tmp.path(), opts);
  constexpr int kBatches = 40;
  constexpr int kPerBatch = 100;
  // Catch2 assertions are not thread-safe: the writer only records its outcome.
  std::atomic<int> failed_appends{0};
  std::thread writer([&] {
    for (int b = 0; b < kBatches; ++b) {
      if (!s->append(records(b * kPerBatch, kPerBatch, 200)).ok()) {
        ++failed_appends;
      }
    }
  });
  std::vector<std::string> seen;
  bool reads_ok = true;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (seen.size() < static_cast<size_t>(kBatches * kPerBatch) && reads_ok &&
         std::chrono::steady_clock::now() < deadline) {
    auto batch = s->peek(64, UINT64_MAX);
    reads_ok = batch.ok() && s->ack(batch.value().size()).ok();
    if (!reads_ok) {
      break;
    }
    for (const auto& e : batch.value()) {
      seen.push_back(e.id);
    }
    if (batch.value().empty()) {
      std::this_thread::yield();
    }
  }
  writer.join();
  CHECK(failed_appends == 0);
  CHECK(reads_ok);
  CHECK(seen == ids_from(0, kBatches * kPerBatch));
  CHECK(s->stats().records == 0);
  CHECK(s->stats().dropped == 0);
  CHECK(segment_files(tmp.path()).size() == 1);
}

}  // namespace vigil
