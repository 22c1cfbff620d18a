#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "agent/plugin/collector.h"
#include "agent/plugin/prober.h"

namespace vigil {

// The collector of a probe plugin (http, tcp): one probe per collection through
// the agent's Prober. The plugin says how a collection's request is made and how
// a result reads as a sample; a service that does not answer is a reading, and
// only a probe that could not run fails the collection.
class ProbeCollector final : public Collector {
 public:
  using MakeRequest = std::function<ProbeRequest(const CollectContext&)>;
  using ReadResult = std::function<Sample(const ProbeResult&)>;

  // `plugin` names the plugin in the error of an agent without a prober.
  ProbeCollector(std::string plugin, MakeRequest make, ReadResult read);

  void collect(const CollectContext& ctx, CollectDone done) override;
  void stop() override;

 private:
  std::string plugin_;
  MakeRequest make_;
  ReadResult read_;
  // The probe in flight (0: none); shared with its callback, which holds no
  // pointer to this collector: a reload may destroy it first.
  std::shared_ptr<uint64_t> inflight_ = std::make_shared<uint64_t>(0);
  Prober* prober_ = nullptr;
};

// A probe ends a little before its check's timeout, so that a slow service is a
// measurement (`up 0`), not a collection the core gave up on.
Duration probe_timeout(Duration check_timeout);

}  // namespace vigil
