#pragma once

#include <functional>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/incidents/incident_manager.h"
#include "agent/loop/uv_handle.h"
#include "agent/records/record.h"
#include "agent/silences/silence_set.h"

namespace vigil {

class FileSaver;

// The agent's silences on the loop (docs/SILENCES.md): the set, its file
// state_dir/silences.json (replaced whole through the file saver, off the loop),
// the configuration's windows, and a timer at the next time a silence starts or
// ends, when the incident manager is asked again which incidents are muted: an
// incident whose silence ended gets its `update` at once.
class SilenceKeeper {
 public:
  using Emit = std::function<void(std::vector<Record>)>;

  SilenceKeeper(uv_loop_t* loop, const Clock& clock, IncidentManager& incidents,
                std::string state_dir, FileSaver& saver, Emit emit);
  ~SilenceKeeper();
  SilenceKeeper(const SilenceKeeper&) = delete;
  SilenceKeeper& operator=(const SilenceKeeper&) = delete;

  // At start, before any incident is evaluated: reads silences.json (blocking, as
  // the rest of the state is read at start). A file that cannot be used is moved
  // aside and logged; the agent starts without it. Returns 1 then (the agent
  // counts it in corrupt_frames), else 0.
  uint64_t load();
  // The [silence NAME] windows, at start and at each reload.
  void set_windows(const std::vector<SilenceConfig>& windows);
  // Asks which incidents are muted now, and arms the timer.
  void start();
  void stop();

  // Whether SilenceSet::kMaxLive silences are pending or active: no more may be added.
  bool full() const { return set_.full(clock_.wall()); }
  Result<std::string> add(Silence silence);
  SilenceSet::Expiry expire(const std::string& id);
  std::vector<Silence> list() const { return set_.list(clock_.wall()); }
  SystemTime now() const { return clock_.wall(); }

  // After the incident manager ran: a resolve may have ended an
  // expire-on-resolve silence, which unmutes other incidents and must be saved.
  void after_incidents();

 private:
  void changed();
  void on_timer();
  void schedule();
  std::string path() const { return state_dir_ + "/silences.json"; }

  uv_loop_t* loop_;
  const Clock& clock_;
  IncidentManager& incidents_;
  std::string state_dir_;
  FileSaver& saver_;
  Emit emit_;
  SilenceSet set_;
  bool running_ = false;
  Timer timer_;
};

}  // namespace vigil
