#include "plugins/journal/journal_reader.h"

#include <time.h>

#include <cstdlib>
#include <cstring>
#include <utility>

#include "plugins/journal/cursor_store.h"
#include "plugins/journal/journal_library.h"

namespace vigil {
namespace {

constexpr std::string_view kMessage = "MESSAGE=";

uint64_t monotonic_usec() {
  struct timespec ts {};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

}  // namespace

JournalReader::JournalReader(const JournalLibrary& lib, std::string directory,
                             std::vector<std::string> matches)
    : lib_(lib), directory_(std::move(directory)), matches_(std::move(matches)) {}

JournalReader::~JournalReader() { close(); }

Error JournalReader::fail(const char* call, int rc) const {
  std::string where = directory_.empty() ? "the local journal" : directory_;
  return make_error(std::string(call) + " on " + where + ": " + strerror(rc < 0 ? -rc : rc));
}

Status JournalReader::open() {
  close();
  int rc = directory_.empty() ? lib_.open(&j_, SD_JOURNAL_LOCAL_ONLY)
                              : lib_.open_directory(&j_, directory_.c_str(), 0);
  if (rc < 0) {
    j_ = nullptr;
    return fail(directory_.empty() ? "cannot open the journal: sd_journal_open"
                                   : "cannot open the journal: sd_journal_open_directory",
                rc);
  }
  if (Status st = add_matches(); !st.ok()) {
    close();
    return st;
  }
  // At once, as sd_journal_get_fd(3) advises: the first call sets up the inotify
  // watches, and files created before it would go unnoticed. When it fails (no
  // inotify instance left), the journal is still read, at each collection.
  lib_.get_fd(j_);
  return {};
}

void JournalReader::close() {
  if (j_ != nullptr) {
    lib_.close(j_);
    j_ = nullptr;
  }
}

Status JournalReader::add_matches() {
  for (const std::string& m : matches_) {
    int rc = lib_.add_match(j_, m.data(), m.size());
    if (rc < 0) {
      return fail(("sd_journal_add_match(" + m + ")").c_str(), rc);
    }
  }
  return {};
}

Status JournalReader::seek_head() {
  int rc = lib_.seek_head(j_);
  return rc < 0 ? fail("sd_journal_seek_head", rc) : Status{};
}

Result<std::string> JournalReader::seek_tail() {
  int rc = lib_.seek_tail(j_);
  if (rc < 0) {
    return fail("sd_journal_seek_tail", rc);
  }
  // After a seek to the tail, the journal stands after the last entry: previous()
  // steps onto it, so that its cursor marks where reading starts, and next()
  // then returns what is appended after it.
  rc = lib_.previous(j_);
  if (rc < 0) {
    return fail("sd_journal_previous", rc);
  }
  if (rc == 0) {
    return std::string();
  }
  return cursor();
}

Result<JournalReader::Resume> JournalReader::seek_after(const std::string& cursor_text) {
  lib_.flush_matches(j_);
  Resume out;
  int rc = lib_.seek_cursor(j_, cursor_text.c_str());
  if (rc >= 0) {
    rc = lib_.next(j_);
  }
  if (rc > 0) {
    out.found = lib_.test_cursor(j_, cursor_text.c_str()) > 0;
  }
  if (!out.found) {
    // Gone: read from the oldest entry. How many entries the gap holds, when the
    // oldest one continues the cursor's sequence (vacuumed, not replaced).
    rc = lib_.seek_head(j_);
    if (rc >= 0 && lib_.next(j_) > 0) {
      if (Result<std::string> oldest = cursor(); oldest.ok()) {
        out.lost = entries_between(cursor_text, oldest.value());
      }
    }
    rc = lib_.seek_head(j_);
    if (rc < 0) {
      return fail("sd_journal_seek_head", rc);
    }
  }
  // The matches apply again from the position reached: the journal keeps its
  // location when matches change.
  if (Status st = add_matches(); !st.ok()) {
    return st.error_info();
  }
  return out;
}

Result<bool> JournalReader::next() {
  int rc = lib_.next(j_);
  if (rc < 0) {
    return fail("sd_journal_next", rc);
  }
  return rc > 0;
}

std::optional<std::string_view> JournalReader::message() {
  const void* data = nullptr;
  size_t size = 0;
  if (lib_.get_data(j_, "MESSAGE", &data, &size) < 0 || size < kMessage.size()) {
    return std::nullopt;
  }
  std::string_view field(static_cast<const char*>(data), size);
  return field.substr(kMessage.size());
}

Result<std::string> JournalReader::cursor() {
  char* text = nullptr;
  int rc = lib_.get_cursor(j_, &text);
  if (rc < 0) {
    return fail("sd_journal_get_cursor", rc);
  }
  std::string out(text);
  free(text);  // NOLINT: allocated by libsystemd with malloc
  return out;
}

int JournalReader::fd() { return lib_.get_fd(j_); }

int JournalReader::events() { return lib_.get_events(j_); }

std::optional<Duration> JournalReader::timeout() {
  uint64_t until = 0;
  if (lib_.get_timeout(j_, &until) < 0 || until == UINT64_MAX) {
    return std::nullopt;
  }
  // An absolute CLOCK_MONOTONIC time in microseconds; rounded up, so that the
  // wake-up is never early.
  uint64_t now = monotonic_usec();
  uint64_t wait = until > now ? until - now : 0;
  return Duration((wait + 999) / 1000);
}

Result<int> JournalReader::process() {
  int rc = lib_.process(j_);
  if (rc < 0) {
    return fail("sd_journal_process", rc);
  }
  return rc;
}

}  // namespace vigil
