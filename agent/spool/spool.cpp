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

// The sequence numbers of the segment files in `dir`, in order.
Result<std::vector<uint64_t>> list_segments(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    return make_error(errno_text("cannot list " + dir));
  }
  std::vector<uint64_t> seqs;
  while (dirent* e = readdir(d)) {
    if (auto seq = parse_segment_file_name(e->d_name)) {
      seqs.push_back(*seq);
    }
  }
  closedir(d);
  std::sort(seqs.begin(), seqs.end());
  return seqs;
}

}  // namespace

Spool::Spool(std::string dir, SpoolOptions opts)
    : dir_(std::move(dir)),
      opts_(std::move(opts)),
      segment_max_(
          std::max<uint64_t>(opts_.segment_bytes > 0 ? opts_.segment_bytes : opts_.max_bytes / 8,
                             kSegmentHeaderSize + kFrameOverhead)),
      reserve_(std::min(opts_.reserve_bytes, segment_max_)) {}

Spool::~Spool() {
  // No other thread uses the spool any more; the locks are taken for the analysis.
  MutexLock serial(append_mu_);
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

Status Spool::fatal(Error e) {
  fatal_ = true;
  log_error("spool " + dir_ + ": " + e.message);
  return e;
}

Status Spool::check_not_fatal() const {
  if (fatal_) {
    return make_error("spool " + dir_ + " stopped at an earlier fatal error");
  }
  return {};
}

// The newest segment is the last one with more than a header: files after it that
// are shorter were being created when the process died, and hold nothing.
size_t Spool::newest_written(const std::vector<uint64_t>& seqs) const {
  size_t newest = 0;
  for (size_t i = 0; i < seqs.size(); ++i) {
    struct stat st {};
    if (stat(segment_path(seqs[i]).c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<uint64_t>(st.st_size) > kSegmentHeaderSize) {
      newest = i;
    }
  }
  return newest;
}

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
    // Nothing is lost: every record still on disk is sent again, which at-least-once
    // delivery allows. So the damage is told, not counted.
    log_warning("spool " + dir_ + ": unreadable cursor moved aside; every record still " +
                "in the spool will be sent again");
  }

  auto listed = list_segments(dir_);
  if (!listed.ok()) {
    return listed.error_info();
  }
  const std::vector<uint64_t>& seqs = *listed;
  size_t newest = newest_written(seqs);
  std::vector<Loss> losses;
  for (size_t i = 0; i < seqs.size(); ++i) {
    if (seqs[i] < cursor.value().segment) {
      // Fully acknowledged: the process died between storing the cursor and unlinking.
      unlink(segment_path(seqs[i]).c_str());
      continue;
    }
    Status st = load_segment(seqs[i], i >= newest, cursor.value(), &losses);
    if (!st.ok()) {
      return st;
    }
  }
  reader_.close();
  // Counted only now: the average size of the frames of the whole spool turns the
  // size of a damaged region into a number of records.
  for (const Loss& loss : losses) {
    corrupt_ += lost_records(loss);
  }

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
    if (tail_fd_ >= 0) {
      tail_written_ = segs_.back().size;
      reserved_end_ = tail_written_;
      reserve_ahead(0);
    }
  }
  publish_stats();
  return {};
}

Status Spool::load_segment(uint64_t seq, bool last, SpoolPosition cursor,
                           std::vector<Loss>* losses) {
  std::string path = segment_path(seq);
  // A file that cannot be read as a segment is moved aside, for an operator to look
  // at, and its records count as lost: as many as its bytes seem to have held, or a
  // full segment's worth when even its size is unknown.
  auto set_aside = [&](const std::string& why,
                       std::optional<Loss> loss) VIGIL_NO_THREAD_SAFETY_ANALYSIS {
    reader_.close();
    std::string to = move_aside(path);
    losses->push_back(loss.value_or(Loss{segment_max_ - kSegmentHeaderSize, 0, false}));
    log_warning("spool: " + why + "; moved aside to " + to);
  };
  reader_.close();
  Status opened = reader_.open(path);
  if (!opened.ok()) {
    std::optional<Loss> loss;
    struct stat st {};
    if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        static_cast<uint64_t>(st.st_size) > kSegmentHeaderSize) {
      loss = Loss{static_cast<uint64_t>(st.st_size) - kSegmentHeaderSize, 0, false};
    }
    set_aside(opened.error(), loss);
    return {};
  }
  auto size = reader_.file_size();
  if (!size.ok()) {
    set_aside(size.error(), std::nullopt);
    return {};
  }
  if (size.value() == 0) {
    // Created, then the process died before the header was written: nothing lost.
    reader_.close();
    unlink(path.c_str());
    return {};
  }
  if (size.value() < kSegmentHeaderSize) {
    if (last) {
      // Torn while it was created: no frame can follow a header that is not whole,
      // so no record was in it.
      reader_.close();
      unlink(path.c_str());
      log_warning("spool: " + path + " has a torn header and no record; removed");
      return {};
    }
    set_aside(path + " is shorter than a segment header", std::nullopt);
    return {};
  }
  auto header = reader_.fetch(0, kSegmentHeaderSize, size.value());
  if (!header.ok()) {
    set_aside(header.error(), Loss{size.value() - kSegmentHeaderSize, 0, false});
    return {};
  }
  bool header_ok = is_segment_header(header.value());

  Segment s;
  s.seq = seq;
  uint64_t from = kSegmentHeaderSize;
  if (seq == cursor.segment) {
    from = std::clamp(cursor.offset, kSegmentHeaderSize, size.value());
  }
  auto scanned = scan_segment(reader_, from, size.value(), s.skips);
  if (!scanned.ok()) {
    set_aside(scanned.error(), Loss{size.value() - from, 0, false});
    return {};
  }
  const SegmentScan& scan = scanned.value();
  if (!header_ok) {
    if (scan.records == 0 && from < size.value()) {
      // Not one valid frame behind a bad header: not a spool segment, or nothing of
      // one is left.
      set_aside(path + " is not a vigil spool segment",
                Loss{size.value() - from, scan.bad_tail ? scan.bad_tail->magics : 0, false});
      return {};
    }
    // Every frame carries its own checksum, so a damaged header costs no record: the
    // frames are read as they are, and the damage is told rather than counted.
    log_warning("spool: " + path + " has a damaged header; its frames check out and are " +
                "delivered");
  }
  uint64_t end = size.value();
  for (const CorruptRegion& r : scan.regions) {
    losses->push_back(Loss{r.end - r.start, r.magics, false});
  }
  if (!scan.regions.empty()) {
    log_warning("spool: " + path + ": skipped " + std::to_string(scan.regions.size()) +
                " corrupt region(s)");
  }
  if (scan.bad_tail) {
    const CorruptRegion& tail = *scan.bad_tail;
    losses->push_back(Loss{tail.end - tail.start, tail.magics, last});
    if (last) {
      // A frame torn by a crash mid-write: cut it, so appends continue after the last
      // good frame.
      int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || ftruncate(fd, static_cast<off_t>(tail.start)) != 0 || sync_fd(fd) != 0) {
        int err = errno;
        if (fd >= 0) {
          close(fd);
        }
        errno = err;
        return make_error(errno_text("cannot cut the torn tail of " + path));
      }
      close(fd);
      reader_.invalidate();
      end = tail.start;
      log_warning("spool: " + path + ": cut a torn tail of " +
                  std::to_string(size.value() - tail.start) + " bytes");
    } else {
      s.skips[tail.start] = end;
      log_warning("spool: " + path + ": skipped " + std::to_string(end - tail.start) +
                  " corrupt bytes at its end");
    }
  }
  s.size = end;
  s.durable = end;
  s.records = scan.records;
  s.kinds = scan.kinds;
  frames_seen_ += scan.records;
  frame_bytes_seen_ += scan.frame_bytes;
  segs_.push_back(std::move(s));
  return {};
}

// A damaged region held at least the frame that should have started where it starts,
// and one more for each further frame magic in it. Its size divided by the average
// frame size can say more, when the damage took the magics too: the larger of the two
// counts, so that a loss is never under-reported. Not so for the torn tail of the
// newest segment: a crash during an append leaves bytes there that were never synced,
// often zeros, and dividing their size would invent losses.
uint64_t Spool::lost_records(const Loss& loss) const {
  uint64_t n = 1 + loss.magics;
  if (!loss.torn_tail && frames_seen_ > 0) {
    uint64_t average = std::max<uint64_t>(frame_bytes_seen_ / frames_seen_, kFrameOverhead);
    n = std::max(n, loss.bytes / average);
  }
  return n;
}

uint64_t Spool::disk_bytes() const {
  uint64_t total = 0;
  for (const Segment& s : segs_) {
    total += s.size;
  }
  return total;
}

void Spool::publish_stats() {
  SpoolStats st;
  for (const Segment& s : segs_) {
    st.records += s.records;
    st.disk_bytes += s.size;
    uint64_t start = s.seq == cursor_.segment ? cursor_.offset : kSegmentHeaderSize;
    if (s.seq >= cursor_.segment && s.durable > start) {
      st.bytes += s.durable - start;
    }
  }
  st.dropped = dropped_;
  st.dropped_by_kind = dropped_by_kind_;
  st.corrupt_frames = corrupt_;
  MutexLock lock(stats_mu_);
  published_ = st;
}

SpoolStats Spool::stats() const {
  MutexLock lock(stats_mu_);
  return published_;
}

ssize_t Spool::write_some(int fd, const void* data, size_t size) {
  return opts_.write_fn ? opts_.write_fn(fd, data, size) : ::write(fd, data, size);
}

int Spool::sync_fd(int fd) { return opts_.sync_fn ? opts_.sync_fn(fd) : fdatasync(fd); }

void Spool::unlink_segments(const std::vector<uint64_t>& seqs) const {
  for (uint64_t seq : seqs) {
    unlink(segment_path(seq).c_str());
  }
}

// Keeps disk blocks allocated ahead of the tail's end, as databases do with their
// logs: once allocated, they are written without asking the file system for space,
// so a disk filled by another program stops the spool only after the reserve is
// spent. FALLOC_FL_KEEP_SIZE leaves the file size at the last frame, so readers and
// recovery see nothing of it. Topped up when less than half is left (or less than the
// next write), never past a segment's size. A failed fallocate (a full disk, a file
// system without it) is not an error: only the reserve is missing.
void Spool::reserve_ahead(uint64_t upcoming) {
  if (tail_fd_ < 0 || reserve_ == 0) {
    return;
  }
  uint64_t need = tail_written_ + upcoming;
  uint64_t target = std::max(need, std::min(segment_max_, tail_written_ + reserve_));
  uint64_t left = reserved_end_ > tail_written_ ? reserved_end_ - tail_written_ : 0;
  if (reserved_end_ >= target || (reserved_end_ >= need && left >= reserve_ / 2)) {
    return;
  }
  if (fallocate(tail_fd_, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(tail_written_),
                static_cast<off_t>(target - tail_written_)) == 0) {
    reserved_end_ = target;
  }
}

// Drops the oldest segment (spool_full = drop_oldest) and returns its number, for the
// caller to unlink once mu_ is released.
uint64_t Spool::drop_front() {
  Segment& s = segs_.front();
  uint64_t seq = s.seq;
  dropped_ += s.records + s.unsynced;
  for (size_t k = 0; k < kRecordKinds; ++k) {
    dropped_by_kind_[k] += s.kinds[k];
  }
  if (tail_fd_ >= 0 && segs_.size() == 1) {
    to_close_.push_back(std::exchange(tail_fd_, -1));
    buffer_.clear();
    buffer_ends_.clear();
    buffer_records_.clear();
    buffer_kinds_.clear();
    tail_written_ = 0;
    reserved_end_ = 0;
  }
  segs_.pop_front();
  // The cursor file is not rewritten: it still names the deleted segment, and at open
  // every segment after the one it names counts as unacknowledged, which is right. An
  // ack that already moved the cursor further keeps it there.
  SpoolPosition front{segs_.empty() ? next_seq_ : segs_.front().seq, kSegmentHeaderSize};
  if (cursor_ < front) {
    cursor_ = front;
  }
  return seq;
}

// Writes the buffered frames to the tail. False when the disk had no room for all of
// them: the frames written whole stay, the partial one is cut off, and the rest are
// taken back out of the segment's accounting; *refused is then the batch index of
// the first record not written.
Result<bool> Spool::flush(size_t* refused) {
  if (buffer_.empty()) {
    return true;
  }
  reserve_ahead(buffer_.size());
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
  if (done > 0) {
    wrote_ = true;
  }
  if (err == 0) {
    tail_written_ += buffer_.size();
    buffer_.clear();
    buffer_ends_.clear();
    buffer_records_.clear();
    buffer_kinds_.clear();
    return true;
  }
  // Keep the frames written whole; cut the partial one, so the file ends on a frame.
  auto whole = static_cast<size_t>(
      std::upper_bound(buffer_ends_.begin(), buffer_ends_.end(), done) - buffer_ends_.begin());
  uint64_t keep = whole > 0 ? buffer_ends_[whole - 1] : 0;
  if (done > keep && ftruncate(tail_fd_, static_cast<off_t>(tail_written_ + keep)) != 0) {
    return fatal(make_error(errno_text("cannot cut a partial write in " + dir_))).error_info();
  }
  tail_written_ += keep;
  // Whatever was reserved is spent (or went with the truncation).
  reserved_end_ = tail_written_;
  if (!is_no_space(err)) {
    errno = err;
    return fatal(make_error(errno_text("cannot write to " + dir_))).error_info();
  }
  *refused = buffer_records_[whole];
  no_space_error_ = "spool " + dir_ + ": " + strerror(err);
  {
    MutexLock lock(mu_);
    segs_.back().size -= buffer_.size() - keep;
    segs_.back().unsynced -= buffer_ends_.size() - whole;
    for (size_t j = whole; j < buffer_kinds_.size(); ++j) {
      --segs_.back().kinds[buffer_kinds_[j]];
    }
  }
  buffer_.clear();
  buffer_ends_.clear();
  buffer_records_.clear();
  buffer_kinds_.clear();
  return false;
}

// Opens a new tail segment: kNoSpace when the disk has no room for it, or for the
// frames still buffered for the old one.
Result<Spool::Room> Spool::start_segment(size_t* refused) {
  auto flushed = flush(refused);
  if (!flushed.ok()) {
    return flushed.error_info();
  }
  if (!flushed.value()) {
    return Room::kNoSpace;
  }
  if (tail_fd_ >= 0) {
    retired_.push_back(std::exchange(tail_fd_, -1));
  }
  uint64_t seq = next_seq_;
  std::string path = segment_path(seq);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    if (is_no_space(errno)) {
      no_space_error_ = "spool " + dir_ + ": " + strerror(errno);
      return Room::kNoSpace;
    }
    return fatal(make_error(errno_text("cannot create " + path))).error_info();
  }
  // Reserve first, so that the header and the first frames go into the reserve.
  tail_fd_ = fd;
  tail_written_ = 0;
  reserved_end_ = 0;
  reserve_ahead(kSegmentHeaderSize);
  std::string header = segment_header();
  ssize_t n = write_some(fd, header.data(), header.size());
  if (n != static_cast<ssize_t>(header.size())) {
    int err = n < 0 ? errno : ENOSPC;
    close(fd);
    unlink(path.c_str());
    tail_fd_ = -1;
    if (is_no_space(err)) {
      no_space_error_ = "spool " + dir_ + ": " + strerror(err);
      return Room::kNoSpace;
    }
    errno = err;
    return fatal(make_error(errno_text("cannot write " + path))).error_info();
  }
  ++next_seq_;
  tail_written_ = kSegmentHeaderSize;
  created_segment_ = true;
  wrote_ = true;
  Segment s;
  s.seq = seq;
  s.size = kSegmentHeaderSize;
  MutexLock lock(mu_);
  segs_.push_back(std::move(s));
  return Room::kFits;
}

// Makes room for a frame of `frame` bytes at the tail, under the cap: starts a new
// segment when the tail is full, applies spool_full when the spool is. kDrop when the
// record must be dropped, kNoSpace when the disk has no room for it.
Result<Spool::Room> Spool::make_room(uint64_t frame, size_t* refused) {
  while (true) {
    uint64_t tail_end = tail_written_ + buffer_.size();
    bool need_new =
        tail_fd_ < 0 || (tail_end > kSegmentHeaderSize && tail_end + frame > segment_max_);
    uint64_t needed = frame + (need_new ? kSegmentHeaderSize : 0);
    const bool over = over_cap(needed);
    // Another lane gives up its oldest segment before this one gives up anything.
    if (over && opts_.evict_other && opts_.evict_other()) {
      continue;
    }
    std::vector<uint64_t> gone;
    if (over) {
      MutexLock lock(mu_);
      if (opts_.drop_newest || segs_.empty()) {
        return Room::kDrop;
      }
      gone.push_back(drop_front());
    }
    if (!gone.empty()) {
      unlink_segments(gone);
      continue;
    }
    if (!need_new) {
      return Room::kFits;
    }
    return start_segment(refused);
  }
}

// Whether `needed` more bytes would take the spool, with the other lanes sharing its
// cap, past max_bytes.
bool Spool::over_cap(uint64_t needed) {
  uint64_t others = opts_.others_bytes ? opts_.others_bytes() : 0;
  MutexLock lock(mu_);
  return disk_bytes() + others + needed > opts_.max_bytes;
}

void Spool::count_dropped(size_t kind, int64_t n) {
  dropped_ += static_cast<uint64_t>(n);
  dropped_by_kind_[kind] += static_cast<uint64_t>(n);
}

Result<AppendResult> Spool::append(const std::vector<SpoolEntry>& records) {
  std::vector<SpoolRecord> refs;
  refs.reserve(records.size());
  for (const SpoolEntry& e : records) {
    refs.push_back(SpoolRecord{{}, e.id, e.payload});
  }
  return append(refs);
}

Result<AppendResult> Spool::append(const std::vector<SpoolRecord>& records) {
  MutexLock serial(append_mu_);
  if (Status st = check_not_fatal(); !st.ok()) {
    return st.error_info();
  }
  uint64_t dropped_before = 0;
  {
    MutexLock lock(mu_);
    dropped_before = dropped_;
  }
  no_space_error_.clear();
  wrote_ = false;
  auto taken = write_frames(records);
  if (!taken.ok()) {
    return taken.error_info();
  }
  AppendResult result;
  result.taken = *taken;
  if (result.taken < records.size()) {
    result.no_space_error = no_space_error_;
  }
  if (Status st = sync_written(); !st.ok()) {
    return st.error_info();
  }
  uint64_t dropped_now = 0;
  {
    MutexLock lock(mu_);
    for (Segment& s : segs_) {
      frames_seen_ += s.unsynced;
      frame_bytes_seen_ += s.size - std::min(s.durable, s.size);
      s.records += s.unsynced;
      s.unsynced = 0;
      s.durable = s.size;
    }
    dropped_now = dropped_ - dropped_before;
    publish_stats();
  }
  if (dropped_now > 0) {
    log_warning("spool " + dir_ + " is full: dropped " + std::to_string(dropped_now) +
                " record(s) (" + (opts_.drop_newest ? "drop_newest" : "drop_oldest") + ")");
  }
  return result;
}

Result<size_t> Spool::write_frames(const std::vector<SpoolRecord>& records) {
  const size_t n = records.size();
  size_t refused = n;                // the first record the disk had no room for
  std::vector<size_t> dropped_here;  // records of this batch dropped by the cap
  for (size_t i = 0; i < n && refused == n; ++i) {
    const SpoolRecord& r = records[i];
    const size_t id_size = r.id_prefix.size() + r.id.size();
    uint64_t frame = frame_size(id_size, r.payload.size());
    Room room = Room::kDrop;
    if (id_size > kMaxIdSize || frame - kFrameHeaderSize > kMaxFrameBody ||
        frame + kSegmentHeaderSize > opts_.max_bytes) {
      log_warning("spool " + dir_ + ": record " + std::string(r.id.substr(0, 64)) + " of " +
                  std::to_string(frame) + " bytes can never fit; dropped");
    } else {
      auto made = make_room(frame, &refused);
      if (!made.ok()) {
        return made.error_info();
      }
      room = made.value();
    }
    if (room == Room::kNoSpace) {
      refused = std::min(refused, i);
      break;
    }
    const size_t kind = payload_kind(r.payload);
    if (room == Room::kDrop) {
      MutexLock lock(mu_);
      count_dropped(kind, 1);
      dropped_here.push_back(i);
      continue;
    }
    encode_frame(&buffer_, r.id, r.payload, r.id_prefix);
    buffer_ends_.push_back(buffer_.size());
    buffer_records_.push_back(i);
    buffer_kinds_.push_back(kind);
    {
      MutexLock lock(mu_);
      segs_.back().size += frame;
      ++segs_.back().unsynced;
      ++segs_.back().kinds[kind];
    }
    if (buffer_.size() >= kFlushBytes) {
      auto flushed = flush(&refused);
      if (!flushed.ok()) {
        return flushed.error_info();
      }
    }
  }
  if (refused == n && tail_fd_ >= 0) {
    auto flushed = flush(&refused);
    if (!flushed.ok()) {
      return flushed.error_info();
    }
  }
  if (refused < n) {
    // Records after the first refused one that the cap dropped come back with the
    // refused ones in a later call, and are counted then, if they are dropped again.
    MutexLock lock(mu_);
    for (size_t i : dropped_here) {
      if (i > refused) {
        count_dropped(payload_kind(records[i].payload), -1);
      }
    }
  }
  return refused;
}

// Group commit, with no lock but append_mu_: peek(), ack() and stats() go on
// meanwhile, and see none of the appended bytes until they are durable.
Status Spool::sync_written() {
  std::vector<int> sync_fds = retired_;
  if (tail_fd_ >= 0 && wrote_) {
    sync_fds.push_back(tail_fd_);
  }
  bool sync_dir = std::exchange(created_segment_, false);
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
  for (int fd : retired_) {
    close(fd);
  }
  retired_.clear();
  for (int fd : to_close_) {
    close(fd);
  }
  to_close_.clear();
  if (!failure.empty()) {
    return fatal(make_error(failure));
  }
  return {};
}

// Re-counts a segment after corruption appeared in it while running (the disk
// changed under us): the new region is skipped, and its records counted lost, like
// one found at open.
Status Spool::rescan(Segment& s) {
  uint64_t from =
      s.seq == cursor_.segment ? std::max(cursor_.offset, kSegmentHeaderSize) : kSegmentHeaderSize;
  auto scanned = scan_segment(reader_, from, s.durable, s.skips);
  if (!scanned.ok()) {
    return scanned.error_info();
  }
  const SegmentScan& scan = scanned.value();
  uint64_t lost = 0;
  for (const CorruptRegion& r : scan.regions) {
    lost += lost_records(Loss{r.end - r.start, r.magics, false});
  }
  if (scan.bad_tail) {
    s.skips[scan.bad_tail->start] = s.durable;
    lost += lost_records(Loss{s.durable - scan.bad_tail->start, scan.bad_tail->magics, false});
  }
  corrupt_ += lost;
  log_warning("spool: " + segment_path(s.seq) + " changed on disk: skipped a corrupt region (" +
              std::to_string(lost) + " record(s) lost)");
  s.records = scan.records;
  s.kinds = scan.kinds;
  return {};
}

// walk() reads the records from `from` on, in order, and hands each to `visit` with
// the position where its frame ends, until `visit` declines one or no durable record
// is left. Step by step:
//
//   1. Find the first segment numbered from.segment or above. When from's own
//      segment is gone (drop_oldest deleted it), start at the next one's header.
//   2. In a segment, stop at its durable end: an append may be writing past it, and a
//      record must never be read before it is synced. At the end of a segment that is
//      wholly durable and followed by another, go on at that one's header.
//   3. Where a known corrupt region starts, jump to its end.
//   4. Read the frame at the position. One that does not check out means the disk
//      changed since the scan that counted this segment: rescan it, which records the
//      new region (counting its records lost), and go on from the same position,
//      which step 3 now jumps over.
//   5. Offer the frame to `visit`; if it takes it, go on after the frame.
//
// peek() visits with a budget of records and bytes; ack() visits to count what it
// acknowledges. Both hold read_mu_ (the reader is theirs) and mu_ (the segment list
// must not change under the walk: only the appender waits for that, never the loop).
Status Spool::walk(SpoolPosition from, const Visit& visit) {
  size_t idx = 0;
  while (idx < segs_.size() && segs_[idx].seq < from.segment) {
    ++idx;
  }
  SpoolPosition pos = from;
  if (idx < segs_.size() && segs_[idx].seq > from.segment) {
    pos = {segs_[idx].seq, kSegmentHeaderSize};
  }
  while (idx < segs_.size()) {
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
        // The rescan found these bytes whole again: never loop on them.
        corrupt_ += lost_records(Loss{s.durable - pos.offset, 0, false});
        s.skips[pos.offset] = s.durable;
      }
      continue;
    }
    SpoolPosition end{s.seq, pos.offset + frame.size};
    if (!visit(frame, end)) {
      break;
    }
    pos = end;
  }
  return {};
}

void Spool::close_stale_reader() {
  if (reader_.is_open() && (segs_.empty() || reader_seq_ < segs_.front().seq)) {
    reader_.close();
  }
}

Result<std::vector<SpoolEntry>> Spool::peek(size_t max_records, uint64_t max_bytes, bool* more,
                                            SpoolPosition after) {
  MutexLock reading(read_mu_);
  if (Status st = check_not_fatal(); !st.ok()) {
    return st.error_info();
  }
  MutexLock lock(mu_);
  std::vector<SpoolEntry> out;
  const size_t limit = std::max<size_t>(max_records, 1);
  uint64_t bytes = 0;
  if (more != nullptr) {
    *more = false;
  }
  out.reserve(std::min<size_t>(limit, 4096));
  Status st = walk(std::max(cursor_, after), [&](const Frame& frame, SpoolPosition end) {
    if (out.size() >= limit || (!out.empty() && bytes + frame.payload.size() > max_bytes)) {
      if (more != nullptr) {
        *more = true;
      }
      return false;
    }
    out.push_back({std::string(frame.id), std::string(frame.payload), end});
    bytes += frame.payload.size();
    return true;
  });
  close_stale_reader();
  publish_stats();
  if (!st.ok()) {
    return st.error_info();
  }
  return out;
}

// ack() moves the cursor to `through` and makes that durable:
//
//   1. Nothing to do when `through` is not past the cursor: a batch acknowledged
//      twice, or records that drop_oldest deleted while they were being sent (it
//      moved the cursor past them).
//   2. Walk from the cursor to `through`, counting the records passed in each
//      segment, for stats. The walk, not `through` alone, sets the new cursor: it
//      lands on a frame boundary even if `through` does not.
//   3. Step the cursor over what holds no record: a corrupt region that starts at
//      it, and the end of a segment that another follows. The segments below the
//      cursor are now spent.
//   4. Store the cursor in its file, with mu_ released (the appender goes on). It is
//      synced only when segments are about to go: a cursor lost in a crash costs
//      duplicates, a deleted segment the cursor does not cover would cost records.
//   5. Only then delete the spent segments (those drop_oldest has not taken since).
//
// No count of records and no earlier peek() is involved: a stale or repeated call
// acknowledges exactly what it names, or nothing.
Status Spool::ack(SpoolPosition through) {
  MutexLock reading(read_mu_);
  if (Status st = check_not_fatal(); !st.ok()) {
    return st;
  }
  SpoolPosition target;
  bool frees = false;
  {
    MutexLock lock(mu_);
    if (through <= cursor_) {
      return {};
    }
    SpoolPosition pos = cursor_;
    size_t idx = 0;
    Status st = walk(cursor_, [&](const Frame& frame, SpoolPosition end) VIGIL_REQUIRES(mu_) {
      if (end > through) {
        return false;
      }
      while (idx < segs_.size() && segs_[idx].seq < end.segment) {
        ++idx;
      }
      if (idx < segs_.size() && segs_[idx].records > 0) {
        --segs_[idx].records;
        uint64_t& kind = segs_[idx].kinds[payload_kind(frame.payload)];
        kind -= std::min<uint64_t>(kind, 1);
      }
      pos = end;
      return true;
    });
    if (!st.ok()) {
      return st;
    }
    cursor_ = pos;
    for (size_t i = 0; i < segs_.size();) {
      Segment& s = segs_[i];
      if (s.seq < cursor_.segment) {
        ++i;
        continue;
      }
      if (s.seq > cursor_.segment) {
        break;
      }
      auto skip = s.skips.find(cursor_.offset);
      if (skip != s.skips.end()) {
        cursor_.offset = skip->second;
        continue;
      }
      if (cursor_.offset >= s.size && s.durable == s.size && i + 1 < segs_.size()) {
        cursor_ = {segs_[i + 1].seq, kSegmentHeaderSize};
        ++i;
        continue;
      }
      break;
    }
    target = cursor_;
    frees = !segs_.empty() && segs_.front().seq < target.segment;
    publish_stats();
  }
  Status stored = cursor_file_.store(target, /*durable=*/frees);
  if (!stored.ok()) {
    return fatal(stored.error_info());
  }
  std::vector<uint64_t> gone;
  {
    MutexLock lock(mu_);
    while (!segs_.empty() && segs_.front().seq < target.segment) {
      gone.push_back(segs_.front().seq);
      segs_.pop_front();
    }
    close_stale_reader();
    publish_stats();
  }
  unlink_segments(gone);
  return {};
}

}  // namespace vigil

namespace vigil {

// Unlike drop_front() during an append, this runs between appends, for another lane:
// it also closes the reader if it is on the segment (so that a full disk gets the
// blocks back at once) and the former tail's descriptor.
bool Spool::evict_oldest() {
  MutexLock serial(append_mu_);
  if (!check_not_fatal().ok()) {
    return false;
  }
  uint64_t seq = 0;
  uint64_t lost = 0;
  {
    MutexLock reading(read_mu_);
    MutexLock lock(mu_);
    if (segs_.empty()) {
      return false;
    }
    uint64_t before = dropped_;
    seq = drop_front();
    lost = dropped_ - before;
    if (reader_.is_open() && reader_seq_ == seq) {
      reader_.close();
    }
    publish_stats();
  }
  unlink_segments({seq});
  for (int fd : to_close_) {
    close(fd);
  }
  to_close_.clear();
  if (lost > 0) {
    log_warning("spool " + dir_ + ": evicted a segment, dropped " + std::to_string(lost) +
                " record(s) to make room for records of a higher lane");
  }
  return true;
}

// The newest segment that holds a frame, read from its header on.
Result<std::string> Spool::last_id() {
  MutexLock reading(read_mu_);
  MutexLock lock(mu_);
  std::string last;
  for (size_t i = segs_.size(); i-- > 0;) {
    if (segs_[i].durable <= kSegmentHeaderSize) {
      continue;
    }
    Status st = walk({segs_[i].seq, kSegmentHeaderSize}, [&](const Frame& frame, SpoolPosition) {
      last = std::string(frame.id);
      return true;
    });
    if (!st.ok()) {
      return st.error_info();
    }
    if (!last.empty()) {
      break;
    }
  }
  close_stale_reader();
  publish_stats();
  return last;
}

}  // namespace vigil
