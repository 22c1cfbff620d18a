#include "plugins/log/log_collector.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <exception>

#include "agent/util/fs.h"
#include "agent/util/log.h"
#include "agent/util/strings.h"

namespace vigil {
namespace {

constexpr size_t kBufferBytes = 256 * 1024;
constexpr const char* kStateFile = "/offsets";

// pread until n bytes or end of file; returns the count read, -1 on error.
ssize_t pread_full(int fd, char* buf, size_t n, uint64_t offset) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(fd, buf + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r < 0) {
      return -1;
    }
    if (r == 0) {
      break;
    }
    got += static_cast<size_t>(r);
  }
  return static_cast<ssize_t>(got);
}

std::vector<std::string> expand(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      out.emplace_back(g.gl_pathv[i]);
    }
  }
  globfree(&g);
  return out;
}

std::string folder_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) {
    return ".";
  }
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool has_wildcard(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

}  // namespace

struct LogCollector::TrackedFile {
  explicit TrackedFile(size_t max_line) : splitter(max_line) {}
  ~TrackedFile() {
    if (fd >= 0) {
      close(fd);
    }
  }
  TrackedFile(const TrackedFile&) = delete;
  TrackedFile& operator=(const TrackedFile&) = delete;

  // Where reading resumes after a restart: the start of the unfinished line.
  uint64_t resume_offset() const { return pos - splitter.pending_raw(); }

  std::string path;  // where the last scan found it
  int fd = -1;
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint32_t fp_len = 0;
  uint64_t fp_hash = 0;
  uint64_t pos = 0;        // next byte to read
  uint64_t last_size = 0;  // size at the last look
  LineSplitter splitter;
  bool rotated = false;  // at no matching path any more
  bool grew = false;     // grew since the last collection
  bool found = false;    // found by the current scan
  MonotonicTime last_growth{};
};

LogCollector::LogCollector(LogOptions options, LineMatcher matcher)
    : options_(std::move(options)), matcher_(std::move(matcher)), window_(options_.window) {}

LogCollector::~LogCollector() { unwatch_all(); }

void LogCollector::stop() {
  stopped_ = true;
  unwatch_all();
}

void LogCollector::on_line(std::string_view line) {
  ++lines_;
  if (matcher_.matches(line)) {
    on_match(line);
  }
}

// Most lines come here, a block of whole lines per read: the matcher searches the
// block for its literals instead of being called line by line.
void LogCollector::on_lines(std::string_view lines, size_t count) {
  lines_ += count;
  matcher_.match_lines(lines, [this](std::string_view line) { on_match(line); });
}

void LogCollector::on_match(std::string_view line) {
  ++matched_;
  if (samples_.size() < kMaxExampleLines) {
    samples_.push_back(sanitize_utf8(line, kSampleBytes));
  }
}

void LogCollector::on_skipped(uint64_t bytes) { count_skipped(current_file_, bytes); }

// Skipped bytes are kept per file, so that the agent's warning can name the file.
// Rotation makes new names; the smallest counts make way beyond kMaxLossPlaces.
void LogCollector::count_skipped(const std::string& path, uint64_t bytes) {
  if (bytes == 0) {
    return;
  }
  skipped_total_ += bytes;
  skipped_by_file_[path] += bytes;
  if (skipped_by_file_.size() > kMaxLossPlaces) {
    auto smallest =
        std::min_element(skipped_by_file_.begin(), skipped_by_file_.end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; });
    skipped_elsewhere_ += smallest->second;
    skipped_by_file_.erase(smallest);
  }
}

Result<Sample> LogCollector::read(const CollectContext& ctx) {
  if (ctx.once) {
    return read_once(ctx);
  }
  const bool persistent = !ctx.state_dir.empty();
  if (!loaded_) {
    loaded_ = true;
    if (persistent) {
      load_state(ctx.state_dir);
    }
  }
  scan(ctx.now);
  read_pass();

  // Rotated files that are read to their end and quiet for rotate_wait are done.
  for (auto& f : files_) {
    if (f->grew) {
      f->grew = false;
      f->last_growth = ctx.now;
    }
  }
  std::erase_if(files_, [&](std::unique_ptr<TrackedFile>& f) {
    bool done =
        f->rotated && f->pos >= f->last_size && ctx.now - f->last_growth >= options_.rotate_wait;
    if (done) {
      current_file_ = f->path;
      f->splitter.flush(*this);  // its writer is gone: a partial last line counts
    }
    return done;
  });

  if (ctx.services != nullptr && ctx.services->watcher != nullptr) {
    update_watches(ctx.services->watcher);
  }
  continue_backlog();

  uint64_t in_window = window_.add(ctx.now, matched_);
  Sample s = take_sample(in_window);
  if (persistent) {
    save_state(ctx.state_dir, ctx.services != nullptr ? ctx.services->saver : nullptr);
  }
  return s;
}

// `vigil once` keeps no history: with from = end there is nothing new to read, so
// the sample is all zeros; with from = beginning each file is read from its start
// (one slice each) with a private splitter. Nothing is persisted, no offset moves.
Result<Sample> LogCollector::read_once(const CollectContext& ctx) {
  (void)ctx;
  Sample s;
  if (options_.from_beginning) {
    buffer_.resize(kBufferBytes);
    std::set<std::pair<uint64_t, uint64_t>> done;
    for (const std::string& g : options_.globs) {
      for (const std::string& path : expand(g)) {
        int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
          continue;
        }
        struct stat st {};
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
            done.emplace(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino))
                .second) {
          LineSplitter splitter(options_.max_line);
          uint64_t pos = 0;
          uint64_t end =
              std::min<uint64_t>(static_cast<uint64_t>(st.st_size), options_.slice_bytes);
          while (pos < end) {
            ssize_t n =
                pread_full(fd, buffer_.data(),
                           static_cast<size_t>(std::min<uint64_t>(kBufferBytes, end - pos)), pos);
            if (n <= 0) {
              break;
            }
            splitter.feed(buffer_.data(), static_cast<size_t>(n), *this);
            pos += static_cast<uint64_t>(n);
          }
        }
        close(fd);
      }
    }
  }
  s = take_sample(matched_);
  skipped_total_ = 0;
  return s;
}

// The metrics of one collection; the per-collection counters start again.
Sample LogCollector::take_sample(uint64_t matches) {
  Sample s;
  s.set("matches", static_cast<double>(matches));
  s.set("lines", static_cast<double>(lines_));
  for (const auto& [path, bytes] : skipped_by_file_) {
    s.losses.push_back(LossCount{"log_bytes_skipped", "file " + path, bytes});
  }
  if (skipped_elsewhere_ > 0) {
    s.losses.push_back(LossCount{"log_bytes_skipped", "other files", skipped_elsewhere_});
  }
  s.examples = std::move(samples_);
  s.occurrences = static_cast<double>(matched_);
  samples_.clear();
  lines_ = 0;
  matched_ = 0;
  return s;
}

void LogCollector::load_state(const std::string& dir) {
  std::string path = dir + kStateFile;
  if (access(path.c_str(), F_OK) != 0) {
    return;
  }
  auto text = vigil::read_file(path);
  if (!text.ok()) {
    log_warning("log: " + text.error());
    return;
  }
  auto state = parse_offsets(text.value());
  if (!state.ok()) {
    // A broken file must not stop the check: keep it for a post-mortem, start afresh.
    log_warning("log: " + path + ": " + state.error() + "; moved aside as " + move_aside(path));
    return;
  }
  seen_globs_ = std::move(state->seen_globs);
  saved_files_ = std::move(state->files);
  last_saved_ = text.value();
}

void LogCollector::save_state(const std::string& dir, FileSaver* saver) {
  OffsetState state;
  state.seen_globs = seen_globs_;
  for (const auto& f : files_) {
    state.files.push_back(FileRecord{f->dev, f->ino, f->fp_len, f->fp_hash, f->resume_offset(),
                                     f->splitter.skipping(), f->path});
  }
  std::string text = format_offsets(state);
  if (text == last_saved_) {
    return;  // nothing moved: spare the fsync
  }
  if (saver != nullptr) {
    saver->save(dir + kStateFile, text);  // off the loop; it reports its own failures
    last_saved_ = std::move(text);
    return;
  }
  Status st = write_file_atomic(dir + kStateFile, text);
  if (!st.ok()) {
    // Once per failure streak: a read-only state_dir must not flood the log.
    if (!save_failing_) {
      log_warning("log: offsets not saved: " + st.error());
    }
    save_failing_ = true;
    return;
  }
  save_failing_ = false;
  last_saved_ = std::move(text);
}

void LogCollector::scan(MonotonicTime now) {
  for (auto& f : files_) {
    f->found = false;
  }
  for (const std::string& g : options_.globs) {
    const bool first_sight = seen_globs_.count(g) == 0;
    for (const std::string& path : expand(g)) {
      struct stat st {};
      if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        continue;
      }
      auto dev = static_cast<uint64_t>(st.st_dev);
      auto ino = static_cast<uint64_t>(st.st_ino);
      auto it = std::find_if(files_.begin(), files_.end(),
                             [&](const auto& f) { return f->dev == dev && f->ino == ino; });
      if (it != files_.end()) {
        // Known (maybe renamed within the globs): the same reader goes on. An open
        // file's inode cannot be reused, so device and inode are enough here.
        (*it)->found = true;
        (*it)->rotated = false;
        (*it)->path = path;
        continue;
      }
      auto f = open_file(path, first_sight);
      if (f != nullptr) {
        f->found = true;
        f->last_growth = now;
        files_.push_back(std::move(f));
      }
    }
    seen_globs_.insert(g);
  }
  // Records of the state file had their one chance to be matched.
  saved_files_.clear();
  for (auto& f : files_) {
    if (!f->found && !f->rotated) {
      // Renamed away or deleted: read on until it has been quiet for rotate_wait,
      // since its writer may append until it reopens.
      f->rotated = true;
      f->last_growth = now;
    }
  }
  // Finish the old file before the new one.
  std::stable_partition(files_.begin(), files_.end(), [](const auto& f) { return f->rotated; });
}

std::unique_ptr<LogCollector::TrackedFile> LogCollector::open_file(const std::string& path,
                                                                   bool first_sight) {
  // O_NONBLOCK: a FIFO that slipped past the S_ISREG check must not hang the loop.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    if (warned_.insert(path).second) {
      log_warning("log: cannot open " + path + ": " + strerror(errno));
    }
    return nullptr;
  }
  auto f = std::make_unique<TrackedFile>(options_.max_line);
  f->fd = fd;
  f->path = path;
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return nullptr;
  }
  warned_.erase(path);
  f->dev = static_cast<uint64_t>(st.st_dev);
  f->ino = static_cast<uint64_t>(st.st_ino);
  auto size = static_cast<uint64_t>(st.st_size);

  std::string head(std::min<uint64_t>(size, kFingerprintBytes), '\0');
  ssize_t n = pread_full(fd, head.data(), head.size(), 0);
  head.resize(n > 0 ? static_cast<size_t>(n) : 0);

  // A file the state file knows: same device, inode and first bytes.
  bool resumed = false;
  for (const FileRecord& r : saved_files_) {
    if (r.dev == f->dev && r.ino == f->ino && r.fp_len <= head.size() &&
        fingerprint_hash(std::string_view(head).substr(0, r.fp_len)) == r.fp_hash) {
      if (r.offset <= size) {
        f->pos = r.offset;
        f->splitter.set_skipping(r.skipping);
      }
      resumed = true;
      break;
    }
  }
  if (!resumed && first_sight && !options_.from_beginning && size > 0) {
    // from = end: start after the last complete line, so that a line being written
    // now is counted whole when it ends. Inside an over-long line, skip its rest.
    size_t tail = static_cast<size_t>(std::min<uint64_t>(size, options_.max_line));
    std::string buf(tail, '\0');
    ssize_t got = pread_full(fd, buf.data(), tail, size - tail);
    const void* nl = got > 0 ? memrchr(buf.data(), '\n', static_cast<size_t>(got)) : nullptr;
    if (nl != nullptr) {
      f->pos = size - tail + static_cast<uint64_t>(static_cast<const char*>(nl) - buf.data()) + 1;
    } else if (size > tail) {
      f->pos = size;
      f->splitter.set_skipping(true);
    }
  }
  f->fp_len = static_cast<uint32_t>(head.size());
  f->fp_hash = fingerprint_hash(head);
  f->last_size = f->pos;
  return f;
}

void LogCollector::on_notify() {
  if (stopped_) {
    return;
  }
  // Called from a C callback: nothing may escape.
  try {
    ++notify_passes_;
    read_pass();
    continue_backlog();
  } catch (const std::exception& e) {
    log_warning(std::string("log: read after a change notification failed: ") + e.what());
  }
}

void LogCollector::read_pass() {
  if (buffer_.size() < kBufferBytes) {
    buffer_.resize(kBufferBytes);
  }
  backlog_ = false;
  for (auto& f : files_) {
    backlog_ = read_file(*f) || backlog_;
  }
}

// A pass that stopped at slice_bytes with more to read asks for another pass at
// the loop's next turn: a backlog drains at reading speed, a slice at a time,
// instead of a slice per collection. Its matches count in the next collection.
void LogCollector::continue_backlog() {
  if (backlog_ && watcher_ != nullptr && !watches_.empty()) {
    watcher_->again(watches_.begin()->second);
  }
}

// Compares the first bytes with the fingerprint, and extends the fingerprint while
// the file is shorter than kFingerprintBytes. False when the head changed: the
// file was truncated and written again past the offset between two looks.
bool LogCollector::check_fingerprint(TrackedFile& f, uint64_t size) {
  char head[kFingerprintBytes];
  size_t want = static_cast<size_t>(std::min<uint64_t>(size, kFingerprintBytes));
  ssize_t n = pread_full(f.fd, head, want, 0);
  if (n < 0) {
    return true;  // cannot tell: keep going
  }
  auto got = static_cast<size_t>(n);
  if (got < f.fp_len || fingerprint_hash(std::string_view(head, f.fp_len)) != f.fp_hash) {
    return false;
  }
  if (got > f.fp_len) {
    f.fp_len = static_cast<uint32_t>(got);
    f.fp_hash = fingerprint_hash(std::string_view(head, got));
  }
  return true;
}

bool LogCollector::read_file(TrackedFile& f) {
  struct stat st {};
  if (fstat(f.fd, &st) != 0) {
    return false;
  }
  auto size = static_cast<uint64_t>(st.st_size);
  if (size < f.pos || !check_fingerprint(f, size)) {
    // Truncated (copytruncate, `> file`): what was seen beyond the offset and never
    // read, and the unfinished line, are lost; count them, then start over at 0.
    uint64_t lost = f.last_size > f.pos ? f.last_size - f.pos : 0;
    lost += f.splitter.reset();
    count_skipped(f.path, lost);
    f.pos = 0;
    f.last_size = 0;
    f.fp_len = 0;
    f.fp_hash = fingerprint_hash({});
    check_fingerprint(f, size);
  }
  if (size > f.last_size) {
    f.grew = true;
  }
  f.last_size = std::max(f.last_size, size);
  uint64_t end = std::min<uint64_t>(size, f.pos + options_.slice_bytes);
  while (f.pos < end) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buffer_.size(), end - f.pos));
    ssize_t n = pread_full(f.fd, buffer_.data(), want, f.pos);
    if (n <= 0) {
      break;
    }
    current_file_ = f.path;
    f.splitter.feed(buffer_.data(), static_cast<size_t>(n), *this);
    f.pos += static_cast<uint64_t>(n);
  }
  return f.pos < size;
}

void LogCollector::update_watches(FileWatcher* watcher) {
  if (watcher_ != nullptr && watcher_ != watcher) {
    unwatch_all();
  }
  watcher_ = watcher;
  // Folders, not files: a folder's watch also reports the files created and
  // renamed in it, and survives the rotation of the files it holds.
  std::set<std::string> wanted;
  for (const std::string& g : options_.globs) {
    std::string folder = folder_of(g);
    if (!has_wildcard(folder)) {
      wanted.insert(folder);
    }
  }
  for (const auto& f : files_) {
    wanted.insert(folder_of(f->path));
  }
  for (auto it = watches_.begin(); it != watches_.end();) {
    if (wanted.count(it->first) == 0) {
      watcher_->unwatch(it->second);
      it = watches_.erase(it);
    } else {
      ++it;
    }
  }
  for (const std::string& folder : wanted) {
    if (watches_.count(folder) != 0) {
      continue;
    }
    auto id = watcher_->watch(folder, [this] { on_notify(); });
    if (id.ok()) {  // a folder that does not exist yet is tried again next time
      watches_.emplace(folder, id.value());
    }
  }
}

void LogCollector::unwatch_all() {
  if (watcher_ != nullptr) {
    for (const auto& [folder, id] : watches_) {
      watcher_->unwatch(id);
    }
  }
  watches_.clear();
}

}  // namespace vigil
