#include "agent/spool/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "agent/util/fs.h"
#include "agent/util/log.h"

namespace vigil {
namespace {

// An append writes its frames in pieces of about this size, to bound its memory.
constexpr size_t kFlushBytes = 1u << 20;

std::string errno_text(const std::string& what) { return what + ": " + strerror(errno); }

bool is_no_space(int err) { return err == ENOSPC || err == EDQUOT; }

}  // namespace

Spool::Spool(std::string dir, SpoolOptions opts)
    : dir_(std::move(dir)),
      opts_(std::move(opts)),
      segment_max_(std::max<uint64_t>(opts_.max_bytes / 8, kSegmentHeaderSize + kFrameOverhead)) {}

Spool::~Spool() {
  for (int fd : retired_) {
    close(fd);
  }
  for (int fd : to_close_) {
    close(fd);
  }
  if (tail_fd_ >= 0) {
    close(tail_fd_);
  }
  if (dir_fd_ >= 0) {
    close(dir_fd_);
  }
}

Result<std::unique_ptr<Spool>> Spool::open(const std::string& dir, SpoolOptions opts) {
  std::unique_ptr<Spool> spool(new Spool(dir, std::move(opts)));
  Status st = spool->load();
  if (!st.ok()) {
    return st.error_info();
  }
  return spool;
}

std::string Spool::segment_path(uint64_t seq) const { return dir_ + "/" + segment_file_name(seq); }

Status Spool::load() {
  Status made = make_dirs(dir_);
  if (!made.ok()) {
    return made;
  }
  dir_fd_ = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd_ < 0) {
    return make_error(errno_text("cannot open folder " + dir_));
  }
  bool cursor_corrupt = false;
  auto cursor = cursor_file_.open(dir_ + "/cursor", opts_.sync_fn, &cursor_corrupt);
  if (!cursor.ok()) {
    return cursor.error_info();
  }
  if (cursor_corrupt) {
    ++corrupt_;
    log_warning("spool " + dir_ + ": unreadable cursor moved aside; unacknowledged and " +
                "acknowledged records alike will be sent again");
  }

  DIR* d = opendir(dir_.c_str());
  if (d == nullptr) {
    return make_error(errno_text("cannot list " + dir_));
  }
  std::vector<uint64_t> seqs;
  while (dirent* e = readdir(d)) {
    if (auto seq = parse_segment_file_name(e->d_name)) {
      seqs.push_back(*seq);
    }
  }
  closedir(d);
  std::sort(seqs.begin(), seqs.end());

  for (size_t i = 0; i < seqs.size(); ++i) {
    if (seqs[i] < cursor.value().segment) {
      // Fully acknowledged: the process died between storing the cursor and unlinking.
      unlink(segment_path(seqs[i]).c_str());
      continue;
    }
    Status st = load_segment(seqs[i], i + 1 == seqs.size(), cursor.value());
    if (!st.ok()) {
      return st;
    }
  }
  reader_.close();

  next_seq_ = std::max(cursor.value().segment, seqs.empty() ? 0 : seqs.back()) + 1;
  if (segs_.empty()) {
    cursor_ = {next_seq_, kSegmentHeaderSize};
  } else if (segs_.front().seq == cursor.value().segment) {
    cursor_ = {cursor.value().segment,
               std::clamp(cursor.value().offset, kSegmentHeaderSize, segs_.front().size)};
  } else {
    cursor_ = {segs_.front().seq, kSegmentHeaderSize};
  }
  // Keep appending to the last segment while it has room, so restarts do not leave
  // a trail of small segments.
  if (!segs_.empty() && segs_.back().size < segment_max_) {
    tail_fd_ = ::open(segment_path(segs_.back().seq).c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  }
  return {};
}

Status Spool::load_segment(uint64_t seq, bool last, SpoolPosition cursor) {
  std::string path = segment_path(seq);
  auto set_aside = [&](const std::string& why) {
    reader_.close();
    std::string to = move_aside(path);
    ++corrupt_;
    log_warning("spool: " + why + "; moved aside to " + to);
  };
  reader_.close();
  Status opened = reader_.open(path);
  if (!opened.ok()) {
    set_aside(opened.error());
    return {};
  }
  auto size = reader_.file_size();
  if (!size.ok()) {
    set_aside(size.error());
    return {};
  }
  if (size.value() == 0) {
    // Created, then the process died before the header was written: nothing lost.
    reader_.close();
    unlink(path.c_str());
    return {};
  }
  if (size.value() < kSegmentHeaderSize && last) {
    reader_.close();
    unlink(path.c_str());
    ++corrupt_;
    log_warning("spool: " + path + " has a torn header; removed");
    return {};
  }
  auto header = reader_.fetch(0, kSegmentHeaderSize);
  if (!header.ok() || !is_segment_header(header.value())) {
    set_aside(path + " is not a vigil spool segment");
    return {};
  }

  Segment s;
  s.seq = seq;
  uint64_t from = kSegmentHeaderSize;
  if (seq == cursor.segment) {
    from = std::clamp(cursor.offset, kSegmentHeaderSize, size.value());
  }
  auto scan = scan_segment(reader_, from, size.value(), s.skips);
  if (!scan.ok()) {
    set_aside(scan.error());
    return {};
  }
  uint64_t end = size.value();
  if (scan.value().corrupt > 0) {
    corrupt_ += scan.value().corrupt;
    log_warning("spool: " + path + ": skipped " + std::to_string(scan.value().corrupt) +
                " corrupt region(s)");
  }
  if (scan.value().bad_tail) {
    ++corrupt_;
    uint64_t cut = *scan.value().bad_tail;
    if (last) {
      // A frame torn by a crash mid-write: cut it, so appends continue after the last
      // good frame.
      int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || ftruncate(fd, static_cast<off_t>(cut)) != 0 || sync_fd(fd) != 0) {
        int err = errno;
        if (fd >= 0) {
          close(fd);
        }
        errno = err;
        return make_error(errno_text("cannot cut the torn tail of " + path));
      }
      close(fd);
      reader_.invalidate();
      end = cut;
      log_warning("spool: " + path + ": cut a torn tail of " + std::to_string(size.value() - cut) +
                  " bytes");
    } else {
      s.skips[cut] = end;
      log_warning("spool: " + path + ": skipped " + std::to_string(end - cut) +
                  " corrupt bytes at its end");
    }
  }
  s.size = end;
  s.durable = end;
  s.records = scan.value().records;
  segs_.push_back(std::move(s));
  return {};
}

uint64_t Spool::disk_bytes() const {
  uint64_t total = 0;
  for (const Segment& s : segs_) {
    total += s.size;
  }
  return total;
}

ssize_t Spool::write_some(int fd, const void* data, size_t size) {
  return opts_.write_fn ? opts_.write_fn(fd, data, size) : ::write(fd, data, size);
}

int Spool::sync_fd(int fd) { return opts_.sync_fn ? opts_.sync_fn(fd) : fdatasync(fd); }

Status Spool::fail(Error e) {
  failed_ = true;
  log_error("spool " + dir_ + ": " + e.message);
  return e;
}

void Spool::drop_front() {
  Segment& s = segs_.front();
  dropped_ += s.records + s.pending;
  head_index_ += s.records;
  if (tail_fd_ >= 0 && segs_.size() == 1) {
    to_close_.push_back(std::exchange(tail_fd_, -1));
    buffer_.clear();
    buffer_ends_.clear();
  }
  if (reader_seq_ == s.seq) {
    reader_.close();
  }
  unlink(segment_path(s.seq).c_str());
  segs_.pop_front();
  // The cursor file is not rewritten: it still names the deleted segment, and at open
  // every segment after the one it names counts as unacknowledged, which is right.
  cursor_ = {segs_.empty() ? next_seq_ : segs_.front().seq, kSegmentHeaderSize};
}

Status Spool::flush() {
  while (!buffer_.empty()) {
    size_t done = 0;
    int err = 0;
    while (done < buffer_.size()) {
      ssize_t n = write_some(tail_fd_, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        err = n < 0 ? errno : EIO;
        break;
      }
      done += static_cast<size_t>(n);
    }
    if (err == 0) {
      buffer_.clear();
      buffer_ends_.clear();
      return {};
    }
    // Keep the frames written whole; cut the partial one, so the file ends on a frame.
    Segment& tail = segs_.back();
    uint64_t base = tail.size - buffer_.size();
    auto whole = static_cast<size_t>(
        std::upper_bound(buffer_ends_.begin(), buffer_ends_.end(), done) - buffer_ends_.begin());
    uint64_t keep = whole > 0 ? buffer_ends_[whole - 1] : 0;
    if (ftruncate(tail_fd_, static_cast<off_t>(base + keep)) != 0) {
      return fail(make_error(errno_text("cannot cut a partial write in " + dir_)));
    }
    buffer_.erase(0, keep);
    buffer_ends_.erase(buffer_ends_.begin(), buffer_ends_.begin() + static_cast<ptrdiff_t>(whole));
    for (uint64_t& e : buffer_ends_) {
      e -= keep;
    }
    if (!is_no_space(err)) {
      errno = err;
      return fail(make_error(errno_text("cannot write to " + segment_path(tail.seq))));
    }
    if (!opts_.drop_newest && segs_.size() > 1) {
      // The disk is full: make room as a full spool would, then try the rest again.
      log_warning("spool " + dir_ + ": disk full, dropping the oldest segment");
      drop_front();
      continue;
    }
    log_warning("spool " + dir_ + ": disk full, dropping " + std::to_string(buffer_ends_.size()) +
                " new record(s)");
    tail.size -= buffer_.size();
    tail.pending -= buffer_ends_.size();
    dropped_ += buffer_ends_.size();
    buffer_.clear();
    buffer_ends_.clear();
  }
  return {};
}

// Opens a new tail segment. False when the disk has no room for it.
Result<bool> Spool::start_segment() {
  Status flushed = flush();
  if (!flushed.ok()) {
    return flushed.error_info();
  }
  if (tail_fd_ >= 0) {
    retired_.push_back(std::exchange(tail_fd_, -1));
  }
  uint64_t seq = next_seq_;
  std::string path = segment_path(seq);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    if (is_no_space(errno)) {
      return false;
    }
    return fail(make_error(errno_text("cannot create " + path))).error_info();
  }
  std::string header = segment_header();
  ssize_t n = write_some(fd, header.data(), header.size());
  if (n != static_cast<ssize_t>(header.size())) {
    int err = n < 0 ? errno : ENOSPC;
    close(fd);
    unlink(path.c_str());
    if (is_no_space(err)) {
      return false;
    }
    errno = err;
    return fail(make_error(errno_text("cannot write " + path))).error_info();
  }
  ++next_seq_;
  Segment s;
  s.seq = seq;
  s.size = kSegmentHeaderSize;
  segs_.push_back(std::move(s));
  tail_fd_ = fd;
  created_segment_ = true;
  return true;
}

// Makes room for a frame of `frame` bytes at the tail, under the cap: starts a new
// segment when the tail is full, applies spool_full when the spool is. False when the
// record must be dropped.
Result<bool> Spool::make_room(uint64_t frame) {
  while (true) {
    bool need_new = tail_fd_ < 0 || (segs_.back().size > kSegmentHeaderSize &&
                                     segs_.back().size + frame > segment_max_);
    uint64_t needed = frame + (need_new ? kSegmentHeaderSize : 0);
    if (disk_bytes() + needed > opts_.max_bytes) {
      if (opts_.drop_newest || segs_.empty()) {
        return false;
      }
      drop_front();
      continue;
    }
    if (!need_new) {
      return true;
    }
    auto started = start_segment();
    if (!started.ok()) {
      return started.error_info();
    }
    if (started.value()) {
      return true;
    }
    if (opts_.drop_newest || segs_.empty()) {
      return false;
    }
    log_warning("spool " + dir_ + ": disk full, dropping the oldest segment");
    drop_front();
  }
}

Status Spool::append(const std::vector<SpoolEntry>& records) {
  std::lock_guard<std::mutex> serial(append_mu_);
  std::unique_lock<std::mutex> lock(mu_);
  if (failed_) {
    return make_error("spool " + dir_ + " failed earlier");
  }
  uint64_t dropped_before = dropped_;
  for (const SpoolEntry& r : records) {
    uint64_t frame = frame_size(r.id.size(), r.payload.size());
    if (r.id.size() > kMaxIdSize || frame - kFrameHeaderSize > kMaxFrameBody ||
        frame + kSegmentHeaderSize > opts_.max_bytes) {
      ++dropped_;
      log_warning("spool " + dir_ + ": record " + r.id.substr(0, 64) + " of " +
                  std::to_string(frame) + " bytes can never fit; dropped");
      continue;
    }
    auto room = make_room(frame);
    if (!room.ok()) {
      return room.error_info();
    }
    if (!room.value()) {
      ++dropped_;
      continue;
    }
    encode_frame(&buffer_, r.id, r.payload);
    buffer_ends_.push_back(buffer_.size());
    segs_.back().size += frame;
    ++segs_.back().pending;
    if (buffer_.size() >= kFlushBytes) {
      Status st = flush();
      if (!st.ok()) {
        return st;
      }
    }
  }
  if (tail_fd_ >= 0) {
    Status st = flush();
    if (!st.ok()) {
      return st;
    }
  }

  // Group commit, outside the lock: peek() and ack() go on meanwhile, and see none of
  // these bytes until they are durable.
  std::vector<int> sync_fds = retired_;
  if (tail_fd_ >= 0) {
    sync_fds.push_back(tail_fd_);
  }
  bool sync_dir = std::exchange(created_segment_, false);
  lock.unlock();
  std::string failure;
  for (int fd : sync_fds) {
    if (sync_fd(fd) != 0) {
      failure = errno_text("cannot fsync a segment of " + dir_);
      break;
    }
  }
  if (failure.empty() && sync_dir && fsync(dir_fd_) != 0) {
    failure = errno_text("cannot fsync folder " + dir_);
  }
  lock.lock();
  for (int fd : retired_) {
    close(fd);
  }
  retired_.clear();
  for (int fd : to_close_) {
    close(fd);
  }
  to_close_.clear();
  if (!failure.empty()) {
    return fail(make_error(failure));
  }
  for (Segment& s : segs_) {
    s.records += s.pending;
    s.pending = 0;
    s.durable = s.size;
  }
  if (dropped_ > dropped_before) {
    log_warning("spool " + dir_ + " is full: dropped " + std::to_string(dropped_ - dropped_before) +
                " record(s) (" + (opts_.drop_newest ? "drop_newest" : "drop_oldest") + ")");
  }
  return {};
}

// Re-counts a segment after corruption appeared in it while running (the disk
// changed under us): the new region is skipped and counted, like one found at open.
Status Spool::rescan(Segment& s) {
  uint64_t from = s.seq == cursor_.segment ? cursor_.offset : kSegmentHeaderSize;
  auto scan = scan_segment(reader_, from, s.durable, s.skips);
  if (!scan.ok()) {
    return scan.error_info();
  }
  corrupt_ += scan.value().corrupt;
  if (scan.value().bad_tail) {
    ++corrupt_;
    s.skips[*scan.value().bad_tail] = s.durable;
  }
  log_warning("spool: " + segment_path(s.seq) + " changed on disk: skipped a corrupt region");
  s.records = scan.value().records;
  return {};
}

Status Spool::walk(SpoolPosition from, size_t max_records, uint64_t max_bytes,
                   std::vector<SpoolEntry>* out, std::vector<SpoolPosition>* ends) {
  size_t idx = 0;
  while (idx < segs_.size() && segs_[idx].seq < from.segment) {
    ++idx;
  }
  SpoolPosition pos = from;
  if (idx < segs_.size() && segs_[idx].seq > from.segment) {
    pos = {segs_[idx].seq, kSegmentHeaderSize};
  }
  size_t count = 0;
  uint64_t bytes = 0;
  while (count < max_records && idx < segs_.size()) {
    Segment& s = segs_[idx];
    if (pos.offset >= s.durable) {
      if (s.durable < s.size || idx + 1 >= segs_.size()) {
        break;
      }
      ++idx;
      pos = {segs_[idx].seq, kSegmentHeaderSize};
      continue;
    }
    auto skip = s.skips.find(pos.offset);
    if (skip != s.skips.end()) {
      pos.offset = skip->second;
      continue;
    }
    if (!reader_.is_open() || reader_seq_ != s.seq) {
      Status opened = reader_.open(segment_path(s.seq));
      if (!opened.ok()) {
        return opened;
      }
      reader_seq_ = s.seq;
    }
    Frame frame;
    FrameStatus st = reader_.read_frame(pos.offset, s.durable, &frame);
    if (st == FrameStatus::kIoError) {
      return make_error(reader_.last_error());
    }
    if (st != FrameStatus::kOk) {
      Status again = rescan(s);
      if (!again.ok()) {
        return again;
      }
      if (s.skips.find(pos.offset) == s.skips.end()) {
        s.skips[pos.offset] = s.durable;  // never loop on the same bytes
      }
      continue;
    }
    if (out != nullptr) {
      if (count > 0 && bytes + frame.payload.size() > max_bytes) {
        break;
      }
      out->push_back({std::string(frame.id), std::string(frame.payload)});
    }
    bytes += frame.payload.size();
    pos.offset += frame.size;
    ends->push_back(pos);
    ++count;
  }
  return {};
}

Result<std::vector<SpoolEntry>> Spool::peek(size_t max_records, uint64_t max_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (failed_) {
    return make_error("spool " + dir_ + " failed earlier");
  }
  std::vector<SpoolEntry> out;
  std::vector<SpoolPosition> ends;
  Status st = walk(cursor_, std::max<size_t>(max_records, 1), max_bytes, &out, &ends);
  if (!st.ok()) {
    return st.error_info();
  }
  peek_start_ = head_index_;
  peek_ends_ = std::move(ends);
  return out;
}

Status Spool::ack(size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  if (failed_) {
    return make_error("spool " + dir_ + " failed earlier");
  }
  uint64_t target = peek_start_ + n;
  if (target <= head_index_) {
    return {};  // all of them were dropped meanwhile
  }
  uint64_t consumed = head_index_ - peek_start_;
  if (consumed > peek_ends_.size()) {
    // More were dropped than were peeked: the remembered ends are all gone.
    peek_ends_.clear();
    peek_start_ = head_index_;
    consumed = 0;
  }
  uint64_t k = target - head_index_;
  if (consumed + k > peek_ends_.size()) {
    SpoolPosition from = peek_ends_.size() > consumed ? peek_ends_.back() : cursor_;
    Status st = walk(from, static_cast<size_t>(consumed + k - peek_ends_.size()), UINT64_MAX,
                     nullptr, &peek_ends_);
    if (!st.ok()) {
      return st;
    }
    k = std::min<uint64_t>(k, peek_ends_.size() - consumed);
    if (k == 0) {
      return {};
    }
  }
  auto first = static_cast<ptrdiff_t>(consumed);
  auto last = static_cast<ptrdiff_t>(consumed + k);
  size_t idx = 0;
  for (auto it = peek_ends_.begin() + first; it != peek_ends_.begin() + last; ++it) {
    while (idx < segs_.size() && segs_[idx].seq < it->segment) {
      ++idx;
    }
    if (idx < segs_.size() && segs_[idx].records > 0) {
      --segs_[idx].records;
    }
  }
  cursor_ = peek_ends_[static_cast<size_t>(last - 1)];
  head_index_ += k;
  peek_ends_.erase(peek_ends_.begin(), peek_ends_.begin() + last);
  peek_start_ = head_index_;

  // Step past segments with nothing left to deliver, so they can go.
  size_t head = 0;
  while (head < segs_.size() && segs_[head].seq < cursor_.segment) {
    ++head;
  }
  while (head + 1 < segs_.size() && segs_[head].seq == cursor_.segment &&
         segs_[head].records == 0 && segs_[head].pending == 0 &&
         segs_[head].durable == segs_[head].size) {
    ++head;
    cursor_ = {segs_[head].seq, kSegmentHeaderSize};
  }
  // The cursor is synced only when segments are about to go: a cursor lost in a
  // crash costs duplicates, a deleted segment the cursor does not cover would
  // cost records. Skipping the sync on the other acks halves the time per batch.
  Status stored = cursor_file_.store(cursor_, /*durable=*/head > 0);
  if (!stored.ok()) {
    return fail(stored.error_info());
  }
  // Only now that the cursor covering them is durable may the segments go.
  for (size_t i = 0; i < head; ++i) {
    if (reader_seq_ == segs_.front().seq) {
      reader_.close();
    }
    unlink(segment_path(segs_.front().seq).c_str());
    segs_.pop_front();
  }
  return {};
}

SpoolStats Spool::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  SpoolStats st;
  for (const Segment& s : segs_) {
    st.records += s.records;
    st.disk_bytes += s.size;
    uint64_t start = s.seq == cursor_.segment ? cursor_.offset : kSegmentHeaderSize;
    if (s.durable > start) {
      st.bytes += s.durable - start;
    }
  }
  st.dropped = dropped_;
  st.corrupt_frames = corrupt_;
  return st;
}

}  // namespace vigil
