#include "agent/spool/segment.h"

#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "tests/support/temp_dir.h"

namespace vigil {
namespace {

std::string segment_with(const std::vector<std::pair<std::string, std::string>>& records) {
  std::string s = segment_header();
  for (const auto& [id, payload] : records) {
    encode_frame(&s, id, payload);
  }
  return s;
}

}  // namespace

TEST_CASE("segment file names are zero-padded sequence numbers", "[spool]") {
  CHECK(segment_file_name(7) == "00000000000000000007.seg");
  CHECK(parse_segment_file_name("00000000000000000007.seg") == 7u);
  CHECK(parse_segment_file_name(segment_file_name(UINT64_MAX)) == UINT64_MAX);
  CHECK_FALSE(parse_segment_file_name("7.seg"));
  CHECK_FALSE(parse_segment_file_name("00000000000000000007.seg.corrupt-1"));
  CHECK_FALSE(parse_segment_file_name("0000000000000000000x.seg"));
  CHECK_FALSE(parse_segment_file_name("99999999999999999999.seg"));  // beyond 64 bits
  CHECK_FALSE(parse_segment_file_name("cursor"));
}

TEST_CASE("a frame decodes to the id and payload it was encoded from", "[spool]") {
  test::TempDir tmp;
  std::string bytes = segment_with({{"id-1", "{\"a\":1}"}, {"", ""}, {"id-3", "x"}});
  std::string path = tmp.write("s.seg", bytes);
  SegmentReader r;
  REQUIRE(r.open(path).ok());
  REQUIRE(is_segment_header(r.fetch(0, kSegmentHeaderSize, bytes.size()).value()));
  Frame f;
  uint64_t off = kSegmentHeaderSize;
  REQUIRE(r.read_frame(off, bytes.size(), &f) == FrameStatus::kOk);
  CHECK(f.id == "id-1");
  CHECK(f.payload == "{\"a\":1}");
  CHECK(f.size == frame_size(4, 7));
  off += f.size;
  REQUIRE(r.read_frame(off, bytes.size(), &f) == FrameStatus::kOk);
  CHECK(f.id.empty());
  CHECK(f.payload.empty());
  off += f.size;
  REQUIRE(r.read_frame(off, bytes.size(), &f) == FrameStatus::kOk);
  CHECK(f.payload == "x");
  CHECK(off + f.size == bytes.size());
}

TEST_CASE("a damaged frame is reported corrupt and a cut one incomplete", "[spool]") {
  test::TempDir tmp;
  std::string good = segment_with({{"id", "payload"}});
  auto status_of = [&](const std::string& bytes, uint64_t end) {
    SegmentReader r;
    REQUIRE(r.open(tmp.write("s.seg", bytes)).ok());
    Frame f;
    return r.read_frame(kSegmentHeaderSize, end, &f);
  };
  // Every byte of the frame is covered: magic, length, checksum, id length, id, payload.
  for (size_t i = kSegmentHeaderSize; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    INFO("flipped byte " << i);
    CHECK(status_of(bad, bad.size()) != FrameStatus::kOk);
  }
  CHECK(status_of(good, good.size() - 1) == FrameStatus::kIncomplete);
  CHECK(status_of(good.substr(0, good.size() - 3), good.size() - 3) == FrameStatus::kIncomplete);
  CHECK(status_of(good, good.size()) == FrameStatus::kOk);
}

TEST_CASE("a scan skips a corrupt frame once and reports a bad tail", "[spool]") {
  test::TempDir tmp;
  std::string bytes = segment_with({{"a", "one"}, {"b", "two"}, {"c", "three"}});
  uint64_t second = kSegmentHeaderSize + frame_size(1, 3);
  bytes[second + 15] ^= 0x20;  // inside the payload of "b"
  bytes += "\x56\x46\x52";     // a torn frame start at the end
  SegmentReader r;
  REQUIRE(r.open(tmp.write("s.seg", bytes)).ok());
  std::map<uint64_t, uint64_t> skips;
  auto scan = scan_segment(r, kSegmentHeaderSize, bytes.size(), skips);
  REQUIRE(scan.ok());
  CHECK(scan.value().records == 2);
  CHECK(scan.value().frame_bytes == frame_size(1, 3) + frame_size(1, 5));
  REQUIRE(scan.value().regions.size() == 1);
  CHECK(scan.value().regions[0].start == second);
  CHECK(scan.value().regions[0].end == second + frame_size(1, 3));
  CHECK(scan.value().regions[0].magics == 0);  // only the damaged frame's own, at its start
  REQUIRE(skips.size() == 1);
  CHECK(skips.begin()->first == second);
  CHECK(skips.begin()->second == second + frame_size(1, 3));
  REQUIRE(scan.value().bad_tail.has_value());
  CHECK(scan.value().bad_tail->start == bytes.size() - 3);
  CHECK(scan.value().bad_tail->end == bytes.size());

  SECTION("a second scan steps over the known region without counting it again") {
    auto again = scan_segment(r, kSegmentHeaderSize, bytes.size() - 3, skips);
    REQUIRE(again.ok());
    CHECK(again.value().records == 2);
    CHECK(again.value().regions.empty());
    CHECK_FALSE(again.value().bad_tail.has_value());
  }
}

TEST_CASE("a corrupt region reports the frame magics left in it", "[spool]") {
  test::TempDir tmp;
  std::vector<std::pair<std::string, std::string>> frames;
  for (int i = 0; i < 6; ++i) {
    frames.emplace_back("id" + std::to_string(i), std::string(30, 'a' + i));
  }
  std::string bytes = segment_with(frames);
  uint64_t size = frame_size(3, 30);
  uint64_t second = kSegmentHeaderSize + size;
  // Frames 1, 2 and 3 each lose a payload byte: one region of three frames, and the
  // magics of the last two are still in it.
  for (uint64_t k = 0; k < 3; ++k) {
    bytes[second + k * size + 20] ^= 0x01;
  }
  SegmentReader r;
  REQUIRE(r.open(tmp.write("s.seg", bytes)).ok());
  std::map<uint64_t, uint64_t> skips;
  auto scan = scan_segment(r, kSegmentHeaderSize, bytes.size(), skips);
  REQUIRE(scan.ok());
  CHECK(scan.value().records == 3);
  REQUIRE(scan.value().regions.size() == 1);
  CHECK(scan.value().regions[0].start == second);
  CHECK(scan.value().regions[0].end == second + 3 * size);
  CHECK(scan.value().regions[0].magics == 2);
  auto all = r.count_magics(0, bytes.size());
  REQUIRE(all.ok());
  CHECK(all.value() == 6);
}

TEST_CASE("magics are counted once across read windows", "[spool]") {
  test::TempDir tmp;
  // A magic right across the 256 KiB window edge, and one inside the first window.
  std::string bytes(10, 'z');
  bytes.append(reinterpret_cast<const char*>(kFrameMagic), sizeof kFrameMagic);
  bytes += std::string((256u << 10) - 2 - bytes.size(), 'z');
  bytes.append(reinterpret_cast<const char*>(kFrameMagic), sizeof kFrameMagic);
  bytes += std::string(100, 'z');
  SegmentReader r;
  REQUIRE(r.open(tmp.write("s.seg", bytes)).ok());
  auto n = r.count_magics(0, bytes.size());
  REQUIRE(n.ok());
  CHECK(n.value() == 2);
}

TEST_CASE("a read never caches bytes past the limit it is given", "[spool]") {
  test::TempDir tmp;
  std::string bytes = segment_with({{"a", "one"}});
  std::string path = tmp.write("s.seg", bytes);
  SegmentReader r;
  REQUIRE(r.open(path).ok());
  CHECK_FALSE(r.fetch(0, kSegmentHeaderSize + 1, kSegmentHeaderSize).ok());
  REQUIRE(r.fetch(0, 4, kSegmentHeaderSize).ok());
  // The bytes after the limit change (an append cut and written again): a later read
  // with a larger limit sees the new ones, not a stale window.
  std::string changed = bytes;
  changed[kSegmentHeaderSize] = 'X';
  tmp.write("s.seg", changed);
  auto later = r.fetch(kSegmentHeaderSize, 1, changed.size());
  REQUIRE(later.ok());
  CHECK(later.value() == "X");
}

TEST_CASE("resync finds a frame whose magic straddles two read windows", "[spool]") {
  test::TempDir tmp;
  // Garbage of 256 KiB minus 2 bytes puts the next frame's magic across the window edge.
  std::string bytes = segment_header();
  bytes += std::string((256u << 10) - 2 - kSegmentHeaderSize, 'z');
  uint64_t frame_at = bytes.size();
  encode_frame(&bytes, "id", "after the garbage");
  SegmentReader r;
  REQUIRE(r.open(tmp.write("s.seg", bytes)).ok());
  auto next = r.find_next_frame(kSegmentHeaderSize, bytes.size());
  REQUIRE(next.has_value());
  CHECK(*next == frame_at);
}

TEST_CASE("a reader refuses what is not a regular file", "[spool]") {
  test::TempDir tmp;
  SegmentReader r;
  CHECK_FALSE(r.open(tmp.path()).ok());
  CHECK_FALSE(r.open(tmp.file("missing.seg")).ok());
}

}  // namespace vigil
