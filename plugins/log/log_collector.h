#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "agent/plugin/collector.h"
#include "agent/plugin/file_saver.h"
#include "agent/plugin/file_watcher.h"
#include "agent/plugin/match_window.h"
#include "agent/util/line_matcher.h"
#include "plugins/log/line_splitter.h"
#include "plugins/log/offset_store.h"

namespace vigil {

// The keys of a log check, as the key table in log.cpp fills them. The table
// holds the defaults; these initializers repeat them for code that builds
// options without it (the collector's tests), and a test keeps the two equal.
struct LogOptions {
  std::vector<std::string> globs;  // `path` values, re-expanded at each collection
  std::vector<Entry> match;        // compiled by create() into the LineMatcher
  std::vector<Entry> exclude;
  Duration window{60000};
  bool from_beginning = false;
  size_t max_line = 16 * 1024;
  Duration rotate_wait{5000};
  // At most this much of one file is read per pass, so that a large backlog never
  // stalls the loop: the rest is read by the next passes.
  size_t slice_bytes = 4u << 20;

  bool operator==(const LogOptions&) const = default;
};

// Tails every file matching the globs and counts matching lines.
//
// A file is known by device and inode while it is open, plus a fingerprint (hash of
// its first 1 KiB) to tell a reused inode apart after a restart and to notice a
// file that was truncated and refilled past the read offset between two looks.
// Each pass (a collection, or a change notification from the FileWatcher):
//   1. (collections only) expands the globs: a new file is opened and read from
//      its beginning, except at the first sight of a glob with from = end; a file
//      renamed to another matching path keeps its reader; a file no longer at any
//      matching path (renamed away, deleted) is rotated: read to its end and
//      closed once it has not grown for rotate_wait.
//   2. reads each file, rotated ones first (finish the old file before the new
//      one), at most slice_bytes each. A size below the offset, or a changed
//      fingerprint, means truncation (copytruncate): what was seen beyond the
//      offset and never read counts as skipped bytes, and reading restarts at 0.
// Offsets persist in `<state_dir>/offsets` at each collection, as of what that
// collection reported, so that a restart neither loses nor re-counts a line.
//
// All of it runs on the loop thread (may_block = false): every pass is bounded by
// slice_bytes per file, and the files are local and regular. A pass that leaves
// unread bytes asks the FileWatcher for another at the loop's next turn, so a
// backlog drains at reading speed between collections, a slice at a time.
class LogCollector final : public Collector, private LineHandler {
 public:
  LogCollector(LogOptions options, LineMatcher matcher);
  ~LogCollector() override;
  LogCollector(const LogCollector&) = delete;
  LogCollector& operator=(const LogCollector&) = delete;

  Result<Sample> read(const CollectContext& ctx) override;
  void stop() override;

  // What a change notification does: one bounded read pass over the open files.
  // Counts reach the next Sample.
  void on_notify();

  size_t open_files() const { return files_.size(); }
  uint64_t notify_passes() const { return notify_passes_; }
  size_t watched_paths() const { return watches_.size(); }

  static constexpr size_t kFingerprintBytes = 1024;
  static constexpr size_t kSampleBytes = 512;
  static constexpr size_t kMaxLossPlaces = 16;

 private:
  struct TrackedFile;

  void on_line(std::string_view line) override;
  void on_lines(std::string_view lines, size_t count) override;
  void on_match(std::string_view line);
  void on_skipped(uint64_t bytes) override;
  void count_skipped(const std::string& path, uint64_t bytes);

  Sample take_sample(uint64_t matches);
  Result<Sample> read_once(const CollectContext& ctx);
  void load_state(const std::string& dir);
  void save_state(const std::string& dir, FileSaver* saver);
  void scan(MonotonicTime now);
  std::unique_ptr<TrackedFile> open_file(const std::string& path, bool first_sight);
  void read_pass();
  bool read_file(TrackedFile& f);  // true: more is there than this pass read
  void continue_backlog();
  bool check_fingerprint(TrackedFile& f, uint64_t size);
  void update_watches(FileWatcher* watcher);
  void unwatch_all();

  LogOptions options_;
  LineMatcher matcher_;
  std::vector<std::unique_ptr<TrackedFile>> files_;
  std::vector<char> buffer_;

  bool loaded_ = false;
  std::set<std::string> seen_globs_;
  std::vector<FileRecord> saved_files_;  // from the state file, until the first scan
  std::string last_saved_;
  bool save_failing_ = false;
  std::set<std::string> warned_;

  // Counts since the previous collection.
  uint64_t lines_ = 0;
  uint64_t matched_ = 0;
  std::vector<std::string> samples_;
  uint64_t skipped_total_ = 0;
  // Skipped bytes since the check started, by file (the largest kMaxLossPlaces).
  std::map<std::string, uint64_t> skipped_by_file_;
  uint64_t skipped_elsewhere_ = 0;
  std::string current_file_;  // the file being fed to a splitter
  MatchWindow window_;

  FileWatcher* watcher_ = nullptr;
  std::map<std::string, FileWatcher::WatchId> watches_;  // folder -> watch
  bool stopped_ = false;
  bool backlog_ = false;  // the latest pass left unread bytes
  uint64_t notify_passes_ = 0;
};

}  // namespace vigil
