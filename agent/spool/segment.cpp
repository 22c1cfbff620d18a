#include "agent/spool/segment.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "agent/spool/crc32c.h"

namespace vigil {
namespace {

// Reads this much past what a caller asks for, so a batch of small frames costs one
// pread. Large enough for a peek of 500 typical records.
constexpr size_t kWindow = 256u << 10;
constexpr size_t kSegmentDigits = 20;
constexpr std::string_view kSegmentSuffix = ".seg";

void put_u16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v & 0xFFu));
  out->push_back(static_cast<char>(v >> 8));
}

void put_u32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    out->push_back(static_cast<char>((v >> (8 * i)) & 0xFFu));
  }
}

uint32_t get_u32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint32_t>(u[0]) | static_cast<uint32_t>(u[1]) << 8 |
         static_cast<uint32_t>(u[2]) << 16 | static_cast<uint32_t>(u[3]) << 24;
}

uint16_t get_u16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>(u[0] | u[1] << 8);
}

}  // namespace

std::string segment_file_name(uint64_t seq) {
  char buf[32];
  snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(seq));
  return std::string(buf) + std::string(kSegmentSuffix);
}

std::optional<uint64_t> parse_segment_file_name(std::string_view name) {
  if (name.size() != kSegmentDigits + kSegmentSuffix.size() ||
      name.substr(kSegmentDigits) != kSegmentSuffix) {
    return std::nullopt;
  }
  uint64_t seq = 0;
  for (size_t i = 0; i < kSegmentDigits; ++i) {
    char c = name[i];
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (seq > (UINT64_MAX - digit) / 10) {
      return std::nullopt;
    }
    seq = seq * 10 + digit;
  }
  return seq;
}

std::string segment_header() {
  std::string h(kSegmentMagic, sizeof kSegmentMagic);
  put_u32(&h, kSegmentVersion);
  put_u32(&h, crc32c(h));
  return h;
}

bool is_segment_header(std::string_view bytes) {
  return bytes.size() >= kSegmentHeaderSize &&
         bytes.substr(0, kSegmentHeaderSize) == std::string_view(segment_header());
}

size_t payload_kind(std::string_view payload) {
  // The first "kind" field: the agent writes it first (so this is a look at the first
  // bytes); a record written by other means may have it later.
  constexpr std::string_view kField = "\"kind\":\"";
  size_t at = payload.find(kField);
  if (at == std::string_view::npos) {
    return 0;
  }
  std::string_view rest = payload.substr(at + kField.size());
  for (size_t k = 1; k < kRecordKinds; ++k) {
    std::string_view name = kRecordKindNames[k];
    if (rest.size() > name.size() && rest.substr(0, name.size()) == name &&
        rest[name.size()] == '"') {
      return k;
    }
  }
  return 0;
}

void encode_frame(std::string* out, std::string_view id, std::string_view payload,
                  std::string_view id_prefix) {
  const size_t id_size = id_prefix.size() + id.size();
  auto length = static_cast<uint32_t>(2 + id_size + payload.size());
  size_t start = out->size();
  out->append(reinterpret_cast<const char*>(kFrameMagic), sizeof kFrameMagic);
  put_u32(out, length);
  put_u32(out, 0);  // the checksum, filled in below
  put_u16(out, static_cast<uint16_t>(id_size));
  out->append(id_prefix);
  out->append(id);
  out->append(payload);
  char* base = out->data() + start;
  uint32_t crc = crc32c_extend(0, base + 4, 4);
  crc = crc32c_extend(crc, base + kFrameHeaderSize, length);
  for (int i = 0; i < 4; ++i) {
    base[8 + i] = static_cast<char>((crc >> (8 * i)) & 0xFFu);
  }
}

Status SegmentReader::open(const std::string& path) {
  close();
  path_ = path;
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    return make_error("cannot open " + path + ": " + strerror(errno));
  }
  struct stat st {};
  if (fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    close();
    return make_error("not a regular file: " + path);
  }
  return {};
}

void SegmentReader::close() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = -1;
  window_size_ = 0;
}

Result<uint64_t> SegmentReader::file_size() const {
  struct stat st {};
  if (fstat(fd_, &st) != 0) {
    return make_error("cannot stat " + path_ + ": " + strerror(errno));
  }
  return static_cast<uint64_t>(st.st_size);
}

Result<std::string_view> SegmentReader::fetch(uint64_t offset, size_t size, uint64_t limit) {
  if (offset >= window_offset_ && offset + size <= window_offset_ + window_size_) {
    return std::string_view(window_.get() + (offset - window_offset_), size);
  }
  if (offset > limit || limit - offset < size) {
    return make_error(path_ + ": read of " + std::to_string(size) + " bytes at " +
                      std::to_string(offset) + " passes " + std::to_string(limit));
  }
  size_t want = static_cast<size_t>(std::min<uint64_t>(std::max(size, kWindow), limit - offset));
  if (window_capacity_ < want) {
    window_.reset(new char[want]);
    window_capacity_ = want;
  }
  window_offset_ = offset;
  window_size_ = 0;
  while (window_size_ < want) {
    ssize_t n = pread(fd_, window_.get() + window_size_, want - window_size_,
                      static_cast<off_t>(offset + window_size_));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      window_size_ = 0;
      return make_error("cannot read " + path_ + ": " + strerror(errno));
    }
    if (n == 0) {
      break;
    }
    window_size_ += static_cast<size_t>(n);
  }
  if (window_size_ < size) {
    return make_error(path_ + " ends before offset " + std::to_string(offset + size));
  }
  // Shrink a buffer grown for one huge frame, so it does not stay allocated.
  std::string_view frame(window_.get(), size);
  if (window_capacity_ > 4 * kWindow && size <= kWindow) {
    std::unique_ptr<char[]> smaller(new char[kWindow]);
    window_size_ = std::min(window_size_, kWindow);
    memcpy(smaller.get(), window_.get(), window_size_);
    window_ = std::move(smaller);
    window_capacity_ = kWindow;
    frame = std::string_view(window_.get(), size);
  }
  return frame;
}

FrameStatus SegmentReader::read_frame(uint64_t offset, uint64_t end, Frame* frame) {
  if (offset >= end || end - offset < kFrameOverhead) {
    return FrameStatus::kIncomplete;
  }
  auto head = fetch(offset, kFrameHeaderSize, end);
  if (!head.ok()) {
    last_error_ = head.error();
    return FrameStatus::kIoError;
  }
  const char* h = head.value().data();
  if (memcmp(h, kFrameMagic, sizeof kFrameMagic) != 0) {
    return FrameStatus::kCorrupt;
  }
  uint32_t length = get_u32(h + 4);
  uint32_t want_crc = get_u32(h + 8);
  if (length < 2 || length > kMaxFrameBody) {
    return FrameStatus::kCorrupt;
  }
  if (end - offset - kFrameHeaderSize < length) {
    return FrameStatus::kIncomplete;
  }
  auto whole = fetch(offset, kFrameHeaderSize + length, end);
  if (!whole.ok()) {
    last_error_ = whole.error();
    return FrameStatus::kIoError;
  }
  const char* p = whole.value().data();
  uint32_t crc = crc32c_extend(0, p + 4, 4);
  crc = crc32c_extend(crc, p + kFrameHeaderSize, length);
  if (crc != want_crc) {
    return FrameStatus::kCorrupt;
  }
  uint16_t id_size = get_u16(p + kFrameHeaderSize);
  if (static_cast<uint32_t>(id_size) + 2 > length) {
    return FrameStatus::kCorrupt;
  }
  frame->size = kFrameHeaderSize + length;
  frame->id = std::string_view(p + kFrameOverhead, id_size);
  frame->payload = std::string_view(p + kFrameOverhead + id_size, length - 2 - id_size);
  return FrameStatus::kOk;
}

std::optional<uint64_t> SegmentReader::find_next_frame(uint64_t from, uint64_t end) {
  const std::string_view magic(reinterpret_cast<const char*>(kFrameMagic), sizeof kFrameMagic);
  last_error_.clear();
  uint64_t p = from;
  while (p < end && end - p >= kFrameOverhead) {
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(kWindow, end - p));
    auto bytes = fetch(p, chunk, end);
    if (!bytes.ok()) {
      last_error_ = bytes.error();
      return std::nullopt;
    }
    size_t at = bytes.value().find(magic);
    if (at == std::string_view::npos) {
      // Keep the last three bytes: a magic may straddle two chunks.
      if (chunk <= magic.size()) {
        return std::nullopt;
      }
      p += chunk - (magic.size() - 1);
      continue;
    }
    uint64_t candidate = p + at;
    Frame frame;
    if (read_frame(candidate, end, &frame) == FrameStatus::kOk) {
      return candidate;
    }
    p = candidate + 1;
  }
  return std::nullopt;
}

Result<uint64_t> SegmentReader::count_magics(uint64_t from, uint64_t end) {
  const std::string_view magic(reinterpret_cast<const char*>(kFrameMagic), sizeof kFrameMagic);
  uint64_t count = 0;
  uint64_t p = from;
  while (p < end && end - p >= magic.size()) {
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(kWindow, end - p));
    auto bytes = fetch(p, chunk, end);
    if (!bytes.ok()) {
      return bytes.error_info();
    }
    std::string_view b = bytes.value();
    for (size_t at = b.find(magic); at != std::string_view::npos; at = b.find(magic, at + 1)) {
      ++count;
    }
    if (p + chunk >= end) {
      break;
    }
    // Step back three bytes, so a magic that straddles two chunks is seen whole once.
    p += chunk - (magic.size() - 1);
  }
  return count;
}

Result<SegmentScan> scan_segment(SegmentReader& reader, uint64_t from, uint64_t end,
                                 std::map<uint64_t, uint64_t>& skips) {
  SegmentScan scan;
  uint64_t off = from;
  while (off < end) {
    auto known = skips.find(off);
    if (known != skips.end()) {
      off = known->second;
      continue;
    }
    Frame frame;
    FrameStatus st = reader.read_frame(off, end, &frame);
    if (st == FrameStatus::kOk) {
      ++scan.records;
      ++scan.kinds[payload_kind(frame.payload)];
      scan.frame_bytes += frame.size;
      scan.payload_bytes += frame.payload.size();
      off += frame.size;
      continue;
    }
    if (st == FrameStatus::kIoError) {
      return make_error(reader.last_error());
    }
    std::optional<uint64_t> next = reader.find_next_frame(off + 1, end);
    if (!reader.last_error().empty()) {
      return make_error(reader.last_error());
    }
    // A known region may start inside the bytes the resync stepped over.
    auto later = skips.upper_bound(off);
    if (later != skips.end() && (!next || later->first < *next)) {
      next = later->first;
    }
    CorruptRegion region{off, next.value_or(end), 0};
    auto magics = reader.count_magics(off + 1, region.end);
    if (!magics.ok()) {
      return magics.error_info();
    }
    region.magics = magics.value();
    if (!next) {
      scan.bad_tail = region;
      break;
    }
    skips[off] = *next;
    scan.regions.push_back(region);
    off = *next;
  }
  return scan;
}

}  // namespace vigil
