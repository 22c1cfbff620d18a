#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "agent/plugin/collector.h"
#include "agent/plugin/prober.h"
#include "agent/util/regex.h"

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

// A probe plugin's collector from its options: `request(config, ctx)` and
// `to_sample(config, result)` are the plugin's own functions of its Config.
template <typename Config>
std::unique_ptr<Collector> make_probe_collector(std::string plugin,
                                                std::shared_ptr<const Config> config) {
  return std::make_unique<ProbeCollector>(
      std::move(plugin), [config](const CollectContext& ctx) { return request(*config, ctx); },
      [config](const ProbeResult& r) { return to_sample(*config, r); });
}

// The regex of an optional key (`match`, `expect`), or the error at its line.
Result<std::optional<Regex>> key_regex(const std::optional<Entry>& key, std::string_view name);

// A probe ends a little before its check's timeout, so that a slow service is a
// measurement (`up 0`), not a collection the core gave up on.
Duration probe_timeout(Duration check_timeout);

}  // namespace vigil
