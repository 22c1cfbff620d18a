#include "agent/spool/cursor_file.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "agent/spool/crc32c.h"
#include "agent/util/fs.h"
#include "agent/util/log.h"

namespace vigil {
namespace {

constexpr size_t kSlotSize = 32;
constexpr size_t kSlots = 128;
constexpr size_t kFileSize = kSlotSize * kSlots;
constexpr char kSlotMagic[4] = {'V', 'C', 'U', '1'};

void put_u64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    p[i] = static_cast<char>((v >> (8 * i)) & 0xFFu);
  }
}

uint64_t get_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) {
    v = v << 8 | static_cast<unsigned char>(p[i]);
  }
  return v;
}

void encode_slot(char* slot, uint64_t generation, SpoolPosition pos) {
  memcpy(slot, kSlotMagic, 4);
  put_u64(slot + 8, generation);
  put_u64(slot + 16, pos.segment);
  put_u64(slot + 24, pos.offset);
  uint32_t crc = crc32c_extend(0, slot + 8, kSlotSize - 8);
  for (int i = 0; i < 4; ++i) {
    slot[4 + i] = static_cast<char>((crc >> (8 * i)) & 0xFFu);
  }
}

bool decode_slot(const char* slot, uint64_t* generation, SpoolPosition* pos) {
  if (memcmp(slot, kSlotMagic, 4) != 0) {
    return false;
  }
  uint32_t crc = 0;
  for (int i = 3; i >= 0; --i) {
    crc = crc << 8 | static_cast<unsigned char>(slot[4 + i]);
  }
  if (crc != crc32c_extend(0, slot + 8, kSlotSize - 8)) {
    return false;
  }
  *generation = get_u64(slot + 8);
  pos->segment = get_u64(slot + 16);
  pos->offset = get_u64(slot + 24);
  return true;
}

}  // namespace

CursorFile::~CursorFile() {
  if (fd_ >= 0) {
    close(fd_);
  }
}

Result<SpoolPosition> CursorFile::open(const std::string& path, SyncFn sync, bool* was_corrupt) {
  path_ = path;
  sync_ = std::move(sync);
  *was_corrupt = false;
  SpoolPosition best;
  bool found = false;
  if (access(path.c_str(), F_OK) == 0) {
    auto bytes = read_file(path, kFileSize + 1);
    if (bytes.ok() && bytes.value().size() == kFileSize) {
      for (size_t i = 0; i < kSlots; ++i) {
        uint64_t gen = 0;
        SpoolPosition pos;
        if (decode_slot(bytes.value().data() + i * kSlotSize, &gen, &pos) &&
            (!found || gen > generation_)) {
          found = true;
          generation_ = gen;
          best = pos;
        }
      }
    }
    if (!found) {
      move_aside(path);
      *was_corrupt = true;
    }
  }
  if (!found) {
    generation_ = 0;
    if (Status st = create(best); !st.ok()) {
      // A full disk must not keep the agent from starting: the cursor lives in
      // memory until the file can be made (at a later store). A crash meanwhile
      // only sends delivered records again.
      log_warning(st.error() + "; the delivery position is kept in memory until it can be saved");
      return best;
    }
  }
  fd_ = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd_ < 0) {
    return make_error("cannot open " + path + ": " + strerror(errno));
  }
  return best;
}

Status CursorFile::create(SpoolPosition pos) {
  std::string fresh(kFileSize, '\0');
  encode_slot(fresh.data(), generation_, pos);
  return write_file_atomic(path_, fresh);
}

Status CursorFile::store(SpoolPosition pos, bool durable) {
  if (fd_ < 0) {
    // Not created yet (the disk was full at open): try again now. Until it
    // works, the position stays in memory, which at-least-once allows.
    if (!create(pos).ok()) {
      return {};
    }
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd_ < 0) {
      return make_error("cannot open " + path_ + ": " + strerror(errno));
    }
    return {};
  }
  ++generation_;
  char slot[kSlotSize];
  encode_slot(slot, generation_, pos);
  auto at = static_cast<off_t>((generation_ % kSlots) * kSlotSize);
  size_t done = 0;
  while (done < kSlotSize) {
    ssize_t n = pwrite(fd_, slot + done, kSlotSize - done, at + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return make_error("cannot write " + path_ + ": " + strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  if (!durable) {
    return {};
  }
  int rc = sync_ ? sync_(fd_) : fdatasync(fd_);
  if (rc != 0) {
    return make_error("cannot fsync " + path_ + ": " + strerror(errno));
  }
  return {};
}

}  // namespace vigil
