#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/loop/uv_handle.h"
#include "agent/outputs/sink.h"

namespace vigil {

// `stdout` and `file:PATH`: one bare record per line (docs/RECORDS.md).
//
// A write to a pipe nobody reads, or to a file on a hung or full disk, can block
// for as long as it likes, and the loop thread must never wait for one: the
// status server, the signals and every other output run there. So each sink
// owns one writer thread that does the blocking write (and, for a file, the
// fdatasync), then posts the outcome back to the loop through a uv_async_t. A
// stalled pipe stalls only that thread; the output's spool takes the backlog.
//
// The thread shares its state with the sink through a shared_ptr and is
// detached at once: the sink never joins it, so neither abort() nor the
// destructor waits for a write that does not return. A thread whose sink is gone
// ends as soon as its write returns and frees the shared state with its last
// reference; one that never returns ends with the process (the agent leaves
// with _exit once the spools and the state are persisted).
class LineSink final : public Sink {
 public:
  // path empty = standard output. Outcomes come back on loop's thread.
  LineSink(uv_loop_t* loop, std::string path);
  ~LineSink() override;
  LineSink(const LineSink&) = delete;
  LineSink& operator=(const LineSink&) = delete;

  void send(const std::vector<SpoolEntry>& batch, std::function<void(SendOutcome)> done) override;
  // Forgets the batch in flight without waiting for its write: no callback
  // comes after this. The batch stays spooled and is written again later.
  void abort() override;

 private:
  struct Writer;  // the state the writer thread shares with the sink

  static void run(std::shared_ptr<Writer> writer);
  static void on_async(uv_async_t* handle) noexcept;
  bool start_thread(std::string* error);
  void collect();

  std::shared_ptr<Writer> writer_;
  std::string loop_error_;  // why the loop's wake-up handle could not be made
  bool thread_started_ = false;
  UvHandle<uv_async_t> async_;
  std::function<void(SendOutcome)> done_;  // set while a batch is in flight
  uint64_t in_flight_ = 0;                 // the number of the batch done_ belongs to
  uint64_t next_id_ = 0;                   // numbers the batches handed to the thread
};

}  // namespace vigil
