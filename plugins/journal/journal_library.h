#pragma once

// Included only by the journal plugin: libsystemd, loaded when the first journal
// check starts (or check-config looks at one). Linked, it would cost every agent
// about 140 KiB of private memory and 1.2 MiB of mapped files once a journal is
// open, plus libgcrypt, lz4, lzma and zstd; an agent without journal checks never
// maps it. The header gives the types and prototypes only.
#include <systemd/sd-journal.h>

#include "agent/util/result.h"

namespace vigil {

// The functions of sd-journal(3) the plugin calls.
struct JournalLibrary {
  decltype(&::sd_journal_open) open;
  decltype(&::sd_journal_open_directory) open_directory;
  decltype(&::sd_journal_close) close;
  decltype(&::sd_journal_add_match) add_match;
  decltype(&::sd_journal_flush_matches) flush_matches;
  decltype(&::sd_journal_seek_head) seek_head;
  decltype(&::sd_journal_seek_tail) seek_tail;
  decltype(&::sd_journal_seek_cursor) seek_cursor;
  decltype(&::sd_journal_test_cursor) test_cursor;
  decltype(&::sd_journal_next) next;
  decltype(&::sd_journal_previous) previous;
  decltype(&::sd_journal_get_cursor) get_cursor;
  decltype(&::sd_journal_get_data) get_data;
  decltype(&::sd_journal_get_fd) get_fd;
  decltype(&::sd_journal_get_events) get_events;
  decltype(&::sd_journal_get_timeout) get_timeout;
  decltype(&::sd_journal_process) process;
};

inline constexpr const char* kJournalLibraryName = "libsystemd.so.0";

// Loads libsystemd.so.0 once (thread-safe) and binds every function; the error
// says why it cannot ("cannot load libsystemd.so.0: ...", "libsystemd.so.0 lacks
// sd_journal_process"), the same at every call.
Result<const JournalLibrary*> journal_library();

}  // namespace vigil
