#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/plugin/collector.h"
#include "agent/plugin/fd_watcher.h"
#include "agent/plugin/file_saver.h"
#include "agent/plugin/match_window.h"
#include "agent/util/line_matcher.h"
#include "plugins/journal/cursor_store.h"

namespace vigil {

class JournalReader;

// What an event quotes of an entry's MESSAGE: at most 512 bytes of valid UTF-8,
// whatever bytes the journal holds (binary messages too); invalid bytes become
// U+FFFD, and a character is never cut in two.
std::string journal_sample(std::string_view message);

// The keys of a journal check, as the key table in journal.cpp fills them. The
// table holds the defaults; these initializers repeat them for code that builds
// options without it (the tests), and a test keeps the two equal.
struct JournalOptions {
  std::vector<Entry> match;     // FIELD=VALUE, each checked by the key table
  std::vector<Entry> grep;      // compiled by create() into a LineMatcher
  std::optional<int> priority;  // 0 (emerg) to 7 (debug): the highest kept
  std::string path;             // a journal folder; "" = the local machine's journal
  bool from_beginning = false;
  Duration window{60000};
  // One read pass takes at most this many entries, or this many bytes of MESSAGE,
  // so that a backlog never stalls the loop: the rest is read by the next passes,
  // at the next turn of the loop.
  size_t slice_entries = 2000;
  size_t slice_bytes = 1u << 20;

  bool operator==(const JournalOptions&) const = default;
};

// Reads a journal's new entries and counts those that match.
//
// Entries come from the journal already selected by `match` and `priority`
// (sd_journal_add_match); `lines` counts them, `matches` those whose MESSAGE a
// `grep` pattern matches (all of them without `grep`).
//
// Reading runs on the loop thread (may_block = false), in passes of at most
// slice_entries entries: at each collection, and when the journal's descriptor
// (sd_journal_get_fd, its events and timeout) is ready, through the FdWatcher
// service. Each pass first calls sd_journal_process: SD_JOURNAL_APPEND reads on;
// SD_JOURNAL_INVALIDATE (files added or removed) first checks that the last entry
// read is still there. A pass cut short by its bound asks for the next turn of
// the loop, so that a backlog is read quickly but never in one go.
//
// Where it stands is the cursor of the last entry read (`position`):
//   - at start, a saved cursor is resumed: seek to it, step onto it, test that it
//     is the cursor's entry, and skip it (it was read and reported already);
//   - a cursor whose entry is gone (vacuumed, its file deleted or replaced) first
//     makes the reader re-open the journal and look again (a rotated file comes
//     back under its archived name); still gone, reading restarts at the oldest
//     entry and the gap counts as a loss (the agent's `vigil` check names it);
//   - sd_journal_next failing (-EBADMSG while a file is rotated) re-opens the
//     journal and seeks to the position again, never to the head nor the tail. A
//     second failure in the same pass ends it; the collection reports the error
//     and the next one tries again, so a damaged file cannot spin the loop.
// The cursor is saved in `<state_dir>/cursor` at each collection, as of what that
// collection reported, and only when it changed: an idle check writes nothing.
class JournalCollector final : public Collector {
 public:
  JournalCollector(std::string check, JournalOptions options, std::optional<LineMatcher> grep);
  ~JournalCollector() override;
  JournalCollector(const JournalCollector&) = delete;
  JournalCollector& operator=(const JournalCollector&) = delete;

  Result<Sample> read(const CollectContext& ctx) override;
  void stop() override;

  // What a readiness or timeout callback does: one pass. Counts reach the next Sample.
  void on_ready();

  // For tests and the docs' claims.
  uint64_t lost_entries() const { return lost_; }
  uint64_t reopens() const { return reopens_; }
  bool watching() const { return watch_.has_value(); }
  const std::string& position() const { return position_; }

 private:
  enum class Slice { kEnd, kMore, kFailed };

  Result<Sample> read_once(const CollectContext& ctx);
  Status start();
  void pass(bool collection);
  Slice read_slice();
  void on_entry(std::optional<std::string_view> message);
  Status seek_position(bool fresh);
  Status reopen();
  void count_lost(std::optional<uint64_t> entries);
  Sample take_sample(uint64_t matches);
  void load_state(const std::string& dir);
  void save_state(const std::string& dir, FileSaver* saver);
  void update_watch();
  void unwatch();
  std::string place() const;

  std::string check_;
  JournalOptions options_;
  std::optional<LineMatcher> grep_;
  std::vector<std::string> matches_;  // as sd_journal_add_match takes them
  std::unique_ptr<JournalReader> reader_;

  bool loaded_ = false;               // the state file was looked at
  std::optional<CursorState> saved_;  // what it held; nullopt: there was none
  bool positioned_ = false;
  std::string position_;  // cursor of the last entry read; "" = read from the oldest
  std::string last_saved_;
  bool save_failing_ = false;
  bool backlog_ = false;         // the last pass stopped at its bound
  std::optional<Error> broken_;  // why reading stopped; the next pass re-opens first
  bool warned_broken_ = false;

  // Counts since the previous collection.
  uint64_t lines_ = 0;
  uint64_t matched_ = 0;
  std::vector<std::string> samples_;
  MatchWindow window_;
  uint64_t lost_ = 0;  // entries lost, since start
  uint64_t reopens_ = 0;

  FdWatcher* fds_ = nullptr;
  std::optional<FdWatcher::WatchId> watch_;
  int watched_fd_ = -1;
  bool stopped_ = false;
};

}  // namespace vigil
