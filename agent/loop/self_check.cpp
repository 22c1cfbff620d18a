#include "agent/loop/self_check.h"

namespace vigil {
namespace {

struct Counter {
  const char* name;
  uint64_t LossCounters::*field;
};

constexpr Counter kCounters[] = {
    {"dropped", &LossCounters::dropped},
    {"corrupt_frames", &LossCounters::corrupt_frames},
    {"dead_lettered", &LossCounters::dead_lettered},
    {"log_bytes_skipped", &LossCounters::log_bytes_skipped},
};

std::string places_of(const char* counter, const std::vector<LossPlace>& places) {
  std::string where;
  for (const LossPlace& p : places) {
    if (p.counter == counter) {
      where += (where.empty() ? "" : ", ") + p.place;
    }
  }
  return where;
}

}  // namespace

Evaluation SelfCheck::evaluate(MonotonicTime now, const LossCounters& total,
                               const std::vector<LossPlace>& places,
                               const std::vector<StorageProblem>& storage) {
  history_.emplace_back(now, total);
  // The baseline is the newest reading at least 5 minutes old; while the agent
  // is younger than that, the zeros it started from.
  while (history_.size() > 1 && history_[1].first <= now - kWindow) {
    history_.pop_front();
  }
  LossCounters base;
  if (history_.front().first <= now - kWindow) {
    base = history_.front().second;
  }
  uint64_t in_memory = 0;
  for (const StorageProblem& s : storage) {
    in_memory += s.records_in_memory;
  }
  metrics_.clear();
  for (const Counter& c : kCounters) {
    metrics_.emplace_back(c.name, static_cast<double>(total.*c.field));
  }
  metrics_.emplace_back("records_in_memory", static_cast<double>(in_memory));

  Evaluation eval;
  eval.state = CheckState::kOk;
  // The first counter that grew names the warning, as a receiver expects one
  // metric per event; the others are in the status output.
  for (const Counter& c : kCounters) {
    uint64_t grown = total.*c.field - std::min(total.*c.field, base.*c.field);
    if (grown > 0) {
      eval.state = CheckState::kWarning;
      eval.metric = c.name;
      eval.value = static_cast<double>(grown);
      eval.rule = std::string(c.name) + " grew within 5m";
      eval.message = "vigil lost data: " + std::string(c.name) + " grew by " +
                     std::to_string(grown) + " in the last 5 minutes (" +
                     places_of(c.name, places) + ")";
      break;
    }
  }
  for (const StorageProblem& s : storage) {
    std::string text = "vigil cannot write to " + s.place + " (" + s.error + "); " +
                       std::to_string(s.records_in_memory) +
                       " record(s) held in memory until it can";
    if (*eval.state == CheckState::kOk) {
      eval.state = CheckState::kWarning;
      eval.metric = "records_in_memory";
      eval.value = static_cast<double>(in_memory);
      eval.rule = "durable storage unavailable";
      eval.message = text;
    } else {
      eval.message += "; " + text;
    }
  }
  if (*eval.state == CheckState::kOk) {
    eval.message = "vigil: no data lost in the last 5 minutes";
  }
  return eval;
}

}  // namespace vigil
