#pragma once

#include <string>

#include "agent/outputs/sink.h"

namespace vigil {

// `stdout` and `file:PATH`: one bare record per line (SPEC §3 [output]).
class LineSink final : public Sink {
 public:
  // path empty = standard output.
  explicit LineSink(std::string path);
  ~LineSink() override;
  void send(const std::vector<SpoolEntry>& batch, std::function<void(SendOutcome)> done) override;

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace vigil
