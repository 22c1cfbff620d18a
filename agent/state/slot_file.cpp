#include "agent/state/slot_file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "agent/spool/crc32c.h"
#include "agent/util/fs.h"

namespace vigil {
namespace {

constexpr char kMagic[8] = {'V', 'I', 'G', 'I', 'L', 'S', 'T', '1'};
constexpr uint64_t kHeaderSize = 32;
constexpr uint64_t kMinCapacity = 64 * 1024;
constexpr uint64_t kBlock = 4096;

void put_u64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) {
    p[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  }
}

void put_u32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    p[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  }
}

uint64_t get_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) {
    v = (v << 8) | static_cast<unsigned char>(p[i]);
  }
  return v;
}

uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) {
    v = (v << 8) | static_cast<unsigned char>(p[i]);
  }
  return v;
}

uint32_t checksum(const char* header, std::string_view document) {
  uint32_t crc = crc32c_extend(0, header + 8, 16);
  return crc32c_extend(crc, document.data(), document.size());
}

bool no_space(int err) { return err == ENOSPC || err == EDQUOT; }

std::string folder_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

// What one slot file holds.
struct SlotRead {
  bool exists = false;
  bool valid = false;
  uint64_t generation = 0;
  std::string document;
};

SlotRead read_slot(const std::string& path) {
  SlotRead r;
  auto text = read_file(path);
  if (!text.ok()) {
    r.exists = access(path.c_str(), F_OK) == 0;
    return r;
  }
  r.exists = true;
  const std::string& t = text.value();
  if (t.size() < kHeaderSize || memcmp(t.data(), kMagic, sizeof kMagic) != 0) {
    return r;
  }
  uint64_t length = get_u64(t.data() + 16);
  if (length > t.size() - kHeaderSize) {
    return r;
  }
  std::string_view document(t.data() + kHeaderSize, length);
  if (checksum(t.data(), document) != get_u32(t.data() + 24)) {
    return r;
  }
  r.valid = true;
  r.generation = get_u64(t.data() + 8);
  r.document.assign(document);
  return r;
}

// A slot that was preallocated but never written reads as zeros: empty, not damaged.
bool blank(const std::string& path) {
  auto text = read_file(path, kHeaderSize * 1024 * 1024);
  if (!text.ok()) {
    return false;
  }
  for (char c : text.value().substr(0, kHeaderSize)) {
    if (c != 0) {
      return false;
    }
  }
  return true;
}

}  // namespace

SlotFile::SlotFile(std::string base, SyncFn sync) : base_(std::move(base)), sync_(std::move(sync)) {
  if (!sync_) {
    sync_ = [](int fd) { return fdatasync(fd); };
  }
}

SlotFile::~SlotFile() {
  for (int fd : fd_) {
    if (fd >= 0) {
      close(fd);
    }
  }
}

std::string SlotFile::slot_path(const std::string& base, int slot) {
  return base + "." + std::to_string(slot);
}

SlotFile::Loaded SlotFile::load() {
  Loaded out;
  SlotRead slots[2] = {read_slot(slot_path(base_, 0)), read_slot(slot_path(base_, 1))};
  int best = -1;
  for (int i = 0; i < 2; ++i) {
    if (slots[i].valid && (best < 0 || slots[i].generation > slots[best].generation)) {
      best = i;
    }
  }
  if (best >= 0) {
    generation_ = slots[best].generation;
    out.document = std::move(slots[best].document);
    return out;
  }
  // No valid document: a slot that holds bytes anyway was damaged. Keep it for a
  // post-mortem and start afresh.
  for (int i = 0; i < 2; ++i) {
    std::string path = slot_path(base_, i);
    if (slots[i].exists && !blank(path)) {
      out.set_aside.push_back(move_aside(path));
    }
  }
  return out;
}

SlotFile::SaveResult SlotFile::open_slot(int slot, uint64_t need) {
  std::string path = slot_path(base_, slot);
  bool created = false;
  if (fd_[slot] < 0) {
    int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
      fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
      created = fd >= 0;
    }
    if (fd < 0) {
      int err = errno;
      return {no_space(err) ? Outcome::kNoSpace : Outcome::kFailed,
              "cannot open " + path + ": " + strerror(err)};
    }
    struct stat st {};
    fstat(fd, &st);
    fd_[slot] = fd;
    capacity_[slot] = static_cast<uint64_t>(st.st_size);
  }
  if (created) {
    // The new name must survive a crash like the bytes written under it.
    int dfd = open(folder_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      int rc = fsync(dfd);
      int err = errno;
      close(dfd);
      if (rc != 0) {
        return {Outcome::kFailed, "cannot fsync the folder of " + path + ": " + strerror(err)};
      }
    }
  }
  // Reserve twice the need while the disk has room, so that the document can grow
  // on a disk that fills later.
  if (need * 2 > capacity_[slot]) {
    uint64_t want = std::max(kMinCapacity, need * 2);
    want = (want + kBlock - 1) / kBlock * kBlock;
    if (fallocate(fd_[slot], 0, 0, static_cast<off_t>(want)) == 0) {
      capacity_[slot] = want;
    } else if (capacity_[slot] < need) {
      int err = errno;
      if (err == EOPNOTSUPP) {
        return {};  // no preallocation on this file system: writes allocate as they go
      }
      return {
          no_space(err) ? Outcome::kNoSpace : Outcome::kFailed,
          "cannot reserve " + std::to_string(want) + " bytes for " + path + ": " + strerror(err)};
    }
  }
  return {};
}

SlotFile::SaveResult SlotFile::save(const std::string& document) {
  uint64_t generation = generation_ + 1;
  int slot = static_cast<int>(generation % 2);
  uint64_t need = kHeaderSize + document.size();
  if (SaveResult r = open_slot(slot, need); r.outcome != Outcome::kOk) {
    return r;
  }
  std::string buf(kHeaderSize, '\0');
  memcpy(buf.data(), kMagic, sizeof kMagic);
  put_u64(buf.data() + 8, generation);
  put_u64(buf.data() + 16, document.size());
  put_u32(buf.data() + 24, checksum(buf.data(), document));
  buf += document;
  std::string path = slot_path(base_, slot);
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = pwrite(fd_[slot], buf.data() + done, buf.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      // The slot is torn now, but the other one still holds the previous document.
      return {no_space(err) ? Outcome::kNoSpace : Outcome::kFailed,
              "cannot write " + path + ": " + strerror(err)};
    }
    done += static_cast<size_t>(n);
  }
  if (sync_(fd_[slot]) != 0) {
    return {Outcome::kFailed, "cannot fdatasync " + path + ": " + strerror(errno)};
  }
  generation_ = generation;
  return {};
}

}  // namespace vigil
