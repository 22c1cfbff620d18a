#include "agent/loop/silence_keeper.h"

#include <sys/stat.h>

#include <cerrno>

#include "agent/plugin/file_saver.h"
#include "agent/silences/silence_json.h"
#include "agent/util/fs.h"
#include "agent/util/log.h"

namespace vigil {
namespace {

// The timer never sleeps longer than this: silences follow the wall clock, and
// a step of the clock must not leave one running for hours past its end.
constexpr Duration kLongestWait = std::chrono::seconds(60);

}  // namespace

SilenceKeeper::SilenceKeeper(uv_loop_t* loop, const Clock& clock, IncidentManager& incidents,
                             std::string state_dir, FileSaver& saver, Emit emit)
    : loop_(loop),
      clock_(clock),
      incidents_(incidents),
      state_dir_(std::move(state_dir)),
      saver_(saver),
      emit_(std::move(emit)),
      timer_(loop, [this] { on_timer(); }) {
  incidents_.set_silences(&set_);
}

SilenceKeeper::~SilenceKeeper() { incidents_.set_silences(nullptr); }

uint64_t SilenceKeeper::load() {
  struct stat st {};
  if (stat(path().c_str(), &st) != 0 && errno == ENOENT) {
    return 0;
  }
  Result<std::string> text = read_regular_file(path(), 64u << 20);
  Result<std::vector<Silence>> silences = text.ok()
                                              ? parse_silences_document(text.value())
                                              : Result<std::vector<Silence>>(text.error_info());
  if (!silences.ok()) {
    std::string aside = move_aside(path());
    log_error("silences in " + path() + " are unusable: " + silences.error() + "; moved to " +
              aside + ", starting without them");
    return 1;
  }
  set_.restore(std::move(silences).value());
  set_.forget_old(clock_.wall());
  (void)set_.take_changed();
  return 0;
}

void SilenceKeeper::set_windows(const std::vector<SilenceConfig>& windows) {
  std::vector<SilenceWindow> made;
  for (const SilenceConfig& c : windows) {
    Result<SilenceWindow> w = make_window(c);
    if (!w.ok()) {
      // The loader checks every value: only a bug gets here.
      log_error("[silence " + c.name + "] at " + c.file + ":" + std::to_string(c.line) + ": " +
                w.error());
      continue;
    }
    made.push_back(std::move(w).value());
  }
  set_.set_windows(std::move(made));
  if (running_) {
    changed();
  }
}

void SilenceKeeper::start() {
  running_ = true;
  changed();
}

void SilenceKeeper::stop() {
  running_ = false;
  timer_.stop();
}

Result<std::string> SilenceKeeper::add(Silence silence) {
  Result<std::string> id = set_.add(std::move(silence), clock_.wall());
  if (id.ok()) {
    changed();
  }
  return id;
}

SilenceSet::Expiry SilenceKeeper::expire(const std::string& id) {
  SilenceSet::Expiry e = set_.expire(id, clock_.wall());
  if (e == SilenceSet::Expiry::kExpired) {
    changed();
  }
  return e;
}

void SilenceKeeper::after_incidents() {
  if (running_ && set_.take_changed()) {
    saver_.save(path(), silences_document(set_.stored()));
    changed();
  }
}

// Saves what changed, tells the incidents, and sleeps until the next change.
void SilenceKeeper::changed() {
  if (set_.take_changed()) {
    saver_.save(path(), silences_document(set_.stored()));
  }
  if (!running_) {
    return;
  }
  std::vector<Record> records = incidents_.refresh_silences();
  if (!records.empty()) {
    emit_(std::move(records));
  }
  schedule();
}

void SilenceKeeper::on_timer() {
  set_.forget_old(clock_.wall());
  changed();
}

void SilenceKeeper::schedule() {
  SystemTime now = clock_.wall();
  std::optional<SystemTime> next = set_.next_change(now);
  if (!next) {
    timer_.stop();  // no silence will start or end: an idle agent sleeps
    return;
  }
  // +1 ms: a timer may fire a little early by the wall clock, and at its end
  // instant a silence is already over (endsAt is exclusive).
  Duration wait = std::min(kLongestWait, std::chrono::ceil<Duration>(*next - now) + Duration(1));
  timer_.start(std::max(wait, Duration(1)));
}

}  // namespace vigil
