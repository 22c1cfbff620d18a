#include "agent/outputs/output_set.h"

#include <algorithm>

#include "agent/outputs/http_client.h"
#include "agent/outputs/http_sink.h"
#include "agent/outputs/line_sink.h"
#include "agent/util/log.h"

namespace vigil {

OutputSet::OutputSet(uv_loop_s* loop, std::string state_dir, Callbacks callbacks)
    : loop_(loop), state_dir_(std::move(state_dir)), callbacks_(std::move(callbacks)) {}

OutputSet::~OutputSet() {
  outputs_.clear();  // their sinks go before the client they use
  if (http_ != nullptr) {
    http_->close();
  }
}

std::unique_ptr<Sink> OutputSet::make_sink(const OutputConfig& oc, const AgentInfo& info) {
  if (oc.url == "stdout") {
    return std::make_unique<LineSink>(loop_, "");
  }
  if (oc.url.rfind("file:", 0) == 0) {
    return std::make_unique<LineSink>(loop_, oc.url.substr(5));
  }
  if (http_ == nullptr) {
    http_ = std::make_unique<HttpClient>(loop_);
  }
  return std::make_unique<HttpSink>(*http_, oc, info);
}

Status OutputSet::open_one(const OutputConfig& oc, const AgentInfo& info) {
  auto out = std::make_unique<Output>(loop_, oc, state_dir_, make_sink(oc, info), callbacks_.fatal);
  if (Status s = out->open(); !s.ok()) {
    return s;
  }
  out->set_on_durable([this] { on_durable(); });
  out->set_on_acked([this] {
    if (callbacks_.acked) {
      callbacks_.acked();
    }
  });
  out->set_state_provider(callbacks_.open_incidents);
  outputs_.push_back(std::move(out));
  return {};
}

Status OutputSet::open(const std::vector<OutputConfig>& outputs, const AgentInfo& info) {
  info_ = info;
  for (const OutputConfig& oc : outputs) {
    if (Status s = open_one(oc, info); !s.ok()) {
      return s;
    }
  }
  return {};
}

void OutputSet::apply(const std::vector<OutputConfig>& outputs, const AgentInfo& info) {
  std::vector<std::unique_ptr<Output>> kept;
  for (const OutputConfig& oc : outputs) {
    auto it = std::find_if(outputs_.begin(), outputs_.end(), [&](const auto& o) {
      return o != nullptr && o->config().name == oc.name;
    });
    if (it != outputs_.end()) {
      // A sink carries the host's name into what it sends: a new name is a new sink.
      (*it)->reconfigure(oc, make_sink(oc, info), info.host != info_.host);
      kept.push_back(std::move(*it));
      continue;
    }
    std::swap(outputs_, kept);  // open_one appends to outputs_
    if (Status st = open_one(oc, info); !st.ok()) {
      log_error("reload: " + st.error());
    } else {
      log_info("reload: output " + oc.name + " added");
    }
    std::swap(outputs_, kept);
  }
  for (auto& old : outputs_) {
    if (old != nullptr) {
      log_info("reload: output " + old->config().name + " removed; its spool stays on disk");
      old->stop();
    }
  }
  outputs_ = std::move(kept);
  info_ = info;
}

void OutputSet::route(const Record& r) {
  for (auto& o : outputs_) {
    o->offer(r);
  }
}

void OutputSet::on_durable() {
  for (const auto& o : outputs_) {
    if (o->unspooled() > 0) {
      return;
    }
  }
  if (callbacks_.all_durable) {
    callbacks_.all_durable();
  }
}

bool OutputSet::drained() const {
  return std::all_of(outputs_.begin(), outputs_.end(), [](const auto& o) { return o->drained(); });
}

void OutputSet::stop() {
  for (auto& o : outputs_) {
    o->stop();
  }
}

std::vector<OutputStatus> OutputSet::statuses() const {
  std::vector<OutputStatus> out;
  for (const auto& o : outputs_) {
    out.push_back(o->status());
  }
  return out;
}

LossCounters OutputSet::loss() const {
  LossCounters l;
  for (const auto& o : outputs_) {
    OutputStatus s = o->status();
    l.dropped += s.dropped;
    l.corrupt_frames += s.corrupt_frames;
    l.dead_lettered += s.dead_lettered;
  }
  return l;
}

uint64_t OutputSet::spooled() const {
  uint64_t n = 0;
  for (const auto& o : outputs_) {
    n += o->status().spool_records;
  }
  return n;
}

}  // namespace vigil
