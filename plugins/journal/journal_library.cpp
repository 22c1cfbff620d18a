#include "plugins/journal/journal_library.h"

#include <mutex>

#include "agent/util/shared_library.h"

namespace vigil {
namespace {

Result<const JournalLibrary*> load() {
  static JournalLibrary lib;
  auto so = SharedLibrary::open(kJournalLibraryName);
  if (!so.ok()) {
    return so.error_info();
  }
  const SharedLibrary& s = so.value();
  const Status bound[] = {
      s.bind("sd_journal_open", &lib.open),
      s.bind("sd_journal_open_directory", &lib.open_directory),
      s.bind("sd_journal_close", &lib.close),
      s.bind("sd_journal_add_match", &lib.add_match),
      s.bind("sd_journal_flush_matches", &lib.flush_matches),
      s.bind("sd_journal_seek_head", &lib.seek_head),
      s.bind("sd_journal_seek_tail", &lib.seek_tail),
      s.bind("sd_journal_seek_cursor", &lib.seek_cursor),
      s.bind("sd_journal_test_cursor", &lib.test_cursor),
      s.bind("sd_journal_next", &lib.next),
      s.bind("sd_journal_previous", &lib.previous),
      s.bind("sd_journal_get_cursor", &lib.get_cursor),
      s.bind("sd_journal_get_data", &lib.get_data),
      s.bind("sd_journal_get_fd", &lib.get_fd),
      s.bind("sd_journal_get_events", &lib.get_events),
      s.bind("sd_journal_get_timeout", &lib.get_timeout),
      s.bind("sd_journal_process", &lib.process),
  };
  for (const Status& st : bound) {
    if (!st.ok()) {
      return st.error_info();
    }
  }
  return &lib;
}

}  // namespace

Result<const JournalLibrary*> journal_library() {
  // Once per process: check-config and every journal check share the outcome.
  static std::once_flag once;
  static const Result<const JournalLibrary*>* loaded = nullptr;
  std::call_once(once, [] { loaded = new Result<const JournalLibrary*>(load()); });
  return *loaded;
}

}  // namespace vigil
