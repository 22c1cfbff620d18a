#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/util/result.h"
#include "agent/util/time.h"

typedef struct sd_journal sd_journal;  // NOLINT: as <systemd/sd-journal.h> declares it

namespace vigil {

struct JournalLibrary;

// One open journal as a journal check reads it, through sd-journal(3): a
// directory of journal files (`path`), or the local machine's journal (system
// and user journals under /var/log/journal and /run/log/journal). The matches
// are added at every open. Positioning follows the journal's own model: after a
// seek, next() steps onto the first entry not read yet.
//
// Not thread-safe (nor is sd_journal): one thread, the loop's, uses it.
class JournalReader {
 public:
  // `directory` empty: the local machine's journal.
  JournalReader(const JournalLibrary& lib, std::string directory, std::vector<std::string> matches);
  ~JournalReader();
  JournalReader(const JournalReader&) = delete;
  JournalReader& operator=(const JournalReader&) = delete;

  Status open();
  void close();
  bool is_open() const { return j_ != nullptr; }

  // Before the oldest entry.
  Status seek_head();
  // After the newest entry the matches select: its cursor, or "" when there is none.
  Result<std::string> seek_tail();

  // After the entry `cursor`, as the journal's documentation prescribes for
  // resuming: sd_journal_seek_cursor, sd_journal_next, sd_journal_test_cursor;
  // when the entry is the cursor's, it is the last one already read and next()
  // goes on after it. The matches are off meanwhile, so that the entry is found
  // even when a changed `match` no longer selects it.
  //
  // When the entry is gone (vacuumed, its file deleted or replaced), the reader
  // is left before the oldest entry, and `lost` says how many entries were
  // written between the cursor's and the oldest one when both belong to one
  // sequence (nullopt: cannot be told).
  struct Resume {
    bool found = false;
    std::optional<uint64_t> lost;
  };
  Result<Resume> seek_after(const std::string& cursor);

  // Steps onto the next entry: true, or false at the end. An error (-EBADMSG
  // from a file being rotated or damaged) leaves the position undefined.
  Result<bool> next();
  // The MESSAGE of the current entry, its bytes as stored (any bytes: journald
  // keeps binary messages); nullopt when the entry has none. Valid until the
  // next call on the reader.
  std::optional<std::string_view> message();
  Result<std::string> cursor();

  // What sd_journal_get_fd(3) says to wait for: the descriptor (its inotify
  // descriptor, -1 when it has none), the poll events, and how long to wait at
  // most (nullopt: no limit; journals on network file systems need polling).
  int fd();
  int events();
  std::optional<Duration> timeout();
  // sd_journal_process(3): SD_JOURNAL_NOP, SD_JOURNAL_APPEND (entries were
  // added) or SD_JOURNAL_INVALIDATE (files were added or removed).
  Result<int> process();

 private:
  Status add_matches();
  Error fail(const char* call, int rc) const;

  const JournalLibrary& lib_;
  std::string directory_;
  std::vector<std::string> matches_;
  sd_journal* j_ = nullptr;
};

}  // namespace vigil
