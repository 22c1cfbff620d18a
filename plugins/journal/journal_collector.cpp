#include "plugins/journal/journal_collector.h"

#include <poll.h>
#include <unistd.h>

#include <exception>
#include <utility>

#include "agent/util/fs.h"
#include "agent/util/log.h"
#include "agent/util/strings.h"
#include "plugins/journal/journal_filter.h"
#include "plugins/journal/journal_library.h"
#include "plugins/journal/journal_reader.h"

namespace vigil {
namespace {

constexpr const char* kStateFile = "/cursor";
// What an entry costs besides its MESSAGE, in the slice's byte bound: the
// cursor, the match, the bookkeeping.
constexpr size_t kEntryOverhead = 256;

std::vector<std::string> values(const std::vector<Entry>& entries) {
  std::vector<std::string> out;
  for (const Entry& e : entries) {
    out.push_back(e.value);
  }
  return out;
}

}  // namespace

std::string journal_sample(std::string_view message) { return sanitize_utf8(message, 512); }

JournalCollector::JournalCollector(std::string check, JournalOptions options,
                                   std::optional<LineMatcher> grep)
    : check_(std::move(check)),
      options_(std::move(options)),
      grep_(std::move(grep)),
      matches_(journal_matches(values(options_.match), options_.priority)),
      window_(options_.window) {}

JournalCollector::~JournalCollector() { unwatch(); }

void JournalCollector::stop() {
  stopped_ = true;
  unwatch();
  reader_.reset();
}

std::string JournalCollector::place() const {
  return "journal " + (options_.path.empty() ? std::string("of the local machine") : options_.path);
}

Result<Sample> JournalCollector::read(const CollectContext& ctx) {
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
  if (ctx.services != nullptr && fds_ != ctx.services->fds) {
    unwatch();
    fds_ = ctx.services->fds;
  }
  if (!positioned_) {
    if (Status st = start(); !st.ok()) {
      return st.error_info();
    }
  }
  pass(true);
  if (broken_.has_value()) {
    // Counts so far wait for the next collection that reads.
    return *broken_;
  }

  uint64_t in_window = window_.add(ctx.now, matched_);
  Sample s = take_sample(in_window);
  if (persistent) {
    save_state(ctx.state_dir, ctx.services != nullptr ? ctx.services->saver : nullptr);
  }
  return s;
}

// `vigil once` keeps no history: the journal is opened (so that a missing
// library or folder is reported), and read only with from = beginning, one
// slice from its oldest entry. Nothing is saved.
Result<Sample> JournalCollector::read_once(const CollectContext& ctx) {
  (void)ctx;
  Result<const JournalLibrary*> lib = journal_library();
  if (!lib.ok()) {
    return lib.error_info();
  }
  reader_ = std::make_unique<JournalReader>(*lib.value(), options_.path, matches_);
  Status st = reader_->open();
  if (st.ok() && options_.from_beginning) {
    st = reader_->seek_head();
    if (st.ok() && read_slice() == Slice::kFailed) {
      st = *broken_;
    }
  }
  reader_.reset();
  if (!st.ok()) {
    return st.error_info();
  }
  return take_sample(matched_);
}

// Opens the journal and finds where to read: after the saved cursor; from the
// oldest entry when the check started before without reading any entry, or with
// from = beginning; else after the newest entry (from = end).
Status JournalCollector::start() {
  Result<const JournalLibrary*> lib = journal_library();
  if (!lib.ok()) {
    return lib.error_info();
  }
  auto reader = std::make_unique<JournalReader>(*lib.value(), options_.path, matches_);
  if (Status st = reader->open(); !st.ok()) {
    return st;
  }
  reader_ = std::move(reader);
  if (saved_.has_value() && saved_->cursor.has_value()) {
    position_ = *saved_->cursor;
    if (Status st = seek_position(true); !st.ok()) {
      return st;
    }
  } else if (saved_.has_value() || options_.from_beginning) {
    if (Status st = reader_->seek_head(); !st.ok()) {
      return st;
    }
  } else {
    Result<std::string> tail = reader_->seek_tail();
    if (!tail.ok()) {
      return tail.error_info();
    }
    position_ = tail.value();
  }
  positioned_ = true;
  return {};
}

// One pass: take the journal's news, then read a slice when there may be
// entries (always at a collection, which also catches up on a journal whose
// changes cannot be watched).
void JournalCollector::pass(bool collection) {
  if (broken_.has_value()) {
    broken_.reset();
    if (Status st = reopen(); !st.ok()) {
      broken_ = st.error_info();
      return;
    }
  }
  Result<int> change = reader_->process();
  if (!change.ok()) {
    broken_ = change.error_info();
    return;
  }
  if (change.value() == SD_JOURNAL_INVALIDATE) {
    // Files came or went: a deleted or replaced file may have held the position.
    if (Status st = seek_position(false); !st.ok()) {
      broken_ = st.error_info();
      return;
    }
  }
  if (collection || backlog_ || change.value() != SD_JOURNAL_NOP) {
    Slice s = read_slice();
    backlog_ = s == Slice::kMore;
    if (s == Slice::kFailed) {
      return;
    }
  }
  if (warned_broken_) {
    log_info("journal check " + check_ + ": reading again");
    warned_broken_ = false;
  }
  update_watch();
}

JournalCollector::Slice JournalCollector::read_slice() {
  size_t entries = 0;
  size_t bytes = 0;
  bool reopened = false;
  while (entries < options_.slice_entries && bytes < options_.slice_bytes) {
    Result<bool> more = reader_->next();
    if (!more.ok()) {
      if (!reopened) {
        // -EBADMSG while journald rotates a file, or a file deleted under the
        // reader: a fresh view of the journal, at the same position.
        log_warning("journal check " + check_ + ": " + more.error() +
                    "; re-opening the journal at the last entry read");
        reopened = true;
        if (Status st = reopen(); st.ok()) {
          continue;
        } else {
          more = st.error_info();
        }
      }
      if (!warned_broken_) {
        log_warning("journal check " + check_ + ": " + more.error() +
                    "; trying again at the next collection");
        warned_broken_ = true;
      }
      broken_ = more.error_info();
      return Slice::kFailed;
    }
    if (!more.value()) {
      return Slice::kEnd;
    }
    ++entries;
    std::optional<std::string_view> message = reader_->message();
    bytes += (message.has_value() ? message->size() : 0) + kEntryOverhead;
    on_entry(message);
    if (Result<std::string> c = reader_->cursor(); c.ok()) {
      position_ = std::move(c.value());
    }
  }
  return Slice::kMore;
}

void JournalCollector::on_entry(std::optional<std::string_view> message) {
  ++lines_;
  if (grep_.has_value() && (!message.has_value() || !grep_->matches(*message))) {
    return;
  }
  ++matched_;
  if (samples_.size() < kMaxExampleLines) {
    // Any bytes may be a MESSAGE: the sample is valid UTF-8 whatever they are.
    samples_.push_back(journal_sample(message.value_or(std::string_view())));
  }
}

// Puts the reader after `position_`. `fresh`: the journal was just opened, so an
// entry it cannot find is gone for good.
Status JournalCollector::seek_position(bool fresh) {
  if (position_.empty()) {
    return reader_->seek_head();
  }
  Result<JournalReader::Resume> r = reader_->seek_after(position_);
  if (!r.ok()) {
    return r.error_info();
  }
  if (r->found) {
    return {};
  }
  if (!fresh) {
    return reopen();
  }
  // Gone: the reader stands before the oldest entry. Nothing read from there
  // yet, so a later look starts there too, and the gap counts once.
  count_lost(r->lost);
  position_.clear();
  return {};
}

Status JournalCollector::reopen() {
  // The descriptor goes with the old journal: unwatched first, since a closed
  // descriptor must not stay in the loop's poll set.
  unwatch();
  ++reopens_;
  backlog_ = false;
  if (Status st = reader_->open(); !st.ok()) {
    return st;
  }
  return seek_position(true);
}

void JournalCollector::count_lost(std::optional<uint64_t> entries) {
  // An unknown number (another journal, a new sequence) counts as one: a gap.
  uint64_t n = entries.value_or(1);
  if (n == 0) {
    n = 1;
  }
  lost_ += n;
  log_warning("journal check " + check_ + ": the last entry read is gone from the " + place() +
              " (vacuumed, or its file deleted or replaced); " +
              (entries.has_value() ? std::to_string(*entries) + " entries lost unread"
                                   : std::string("an unknown number of entries lost unread")) +
              "; reading from the oldest entry");
}

Sample JournalCollector::take_sample(uint64_t matches) {
  Sample s;
  s.set("matches", static_cast<double>(matches));
  s.set("lines", static_cast<double>(lines_));
  if (lost_ > 0) {
    s.losses.push_back(LossCount{"log_bytes_skipped", place() + ": entries lost unread", lost_});
  }
  s.examples = std::move(samples_);
  s.occurrences = static_cast<double>(matched_);
  samples_.clear();
  lines_ = 0;
  matched_ = 0;
  return s;
}

void JournalCollector::load_state(const std::string& dir) {
  std::string path = dir + kStateFile;
  if (access(path.c_str(), F_OK) != 0) {
    return;
  }
  Result<std::string> text = read_regular_file(path, 64 * 1024);
  if (!text.ok()) {
    log_warning("journal check " + check_ + ": " + text.error());
    return;
  }
  Result<CursorState> state = parse_cursor_state(text.value());
  if (!state.ok()) {
    // A broken file must not stop the check: keep it for a post-mortem, start afresh.
    log_warning("journal check " + check_ + ": " + path + ": " + state.error() +
                "; moved aside as " + move_aside(path));
    return;
  }
  saved_ = std::move(state.value());
  last_saved_ = text.value();
}

void JournalCollector::save_state(const std::string& dir, FileSaver* saver) {
  CursorState state;
  if (!position_.empty()) {
    state.cursor = position_;
  }
  std::string text = format_cursor_state(state);
  if (text == last_saved_) {
    return;  // nothing moved: no write at all
  }
  if (saver != nullptr) {
    saver->save(dir + kStateFile, text);  // off the loop; it reports its own failures
    last_saved_ = std::move(text);
    return;
  }
  Status st = write_file_atomic(dir + kStateFile, text);
  if (!st.ok()) {
    if (!save_failing_) {
      log_warning("journal check " + check_ + ": cursor not saved: " + st.error());
    }
    save_failing_ = true;
    return;
  }
  save_failing_ = false;
  last_saved_ = std::move(text);
}

void JournalCollector::on_ready() {
  if (stopped_ || reader_ == nullptr || !positioned_) {
    return;
  }
  // Called from a C callback: nothing may escape.
  try {
    pass(false);
  } catch (const std::exception& e) {
    log_warning("journal check " + check_ + ": read failed: " + e.what());
  }
}

// Waits for what the journal asks: its descriptor's events, its timeout (a
// journal on a network file system is polled), or the next turn of the loop
// while a backlog is left.
void JournalCollector::update_watch() {
  if (fds_ == nullptr || stopped_ || reader_ == nullptr || !reader_->is_open()) {
    return;
  }
  int fd = reader_->fd();
  if (fd < 0) {
    unwatch();
    return;
  }
  if (watch_.has_value() && fd != watched_fd_) {
    unwatch();
  }
  int events = reader_->events();
  FdWatcher::Interest interest;
  interest.readable = events < 0 || (events & POLLIN) != 0;
  interest.writable = events > 0 && (events & POLLOUT) != 0;
  interest.timeout = backlog_ ? std::optional<Duration>(Duration(0)) : reader_->timeout();
  if (watch_.has_value()) {
    fds_->update(*watch_, interest);
    return;
  }
  Result<FdWatcher::WatchId> id = fds_->watch(fd, interest, [this] { on_ready(); });
  if (!id.ok()) {
    log_warning("journal check " + check_ + ": " + id.error() + "; reading at each collection");
    return;
  }
  watch_ = id.value();
  watched_fd_ = fd;
}

void JournalCollector::unwatch() {
  if (watch_.has_value() && fds_ != nullptr) {
    fds_->unwatch(*watch_);
  }
  watch_.reset();
  watched_fd_ = -1;
}

}  // namespace vigil
