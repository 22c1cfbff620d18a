#include "agent/plugin/probe_collector.h"

#include <algorithm>
#include <utility>

#include "agent/plugin/services.h"

namespace vigil {

ProbeCollector::ProbeCollector(std::string plugin, MakeRequest make, ReadResult read)
    : plugin_(std::move(plugin)), make_(std::move(make)), read_(std::move(read)) {}

void ProbeCollector::collect(const CollectContext& ctx, CollectDone done) {
  Prober* prober = ctx.services != nullptr ? ctx.services->prober : nullptr;
  if (prober == nullptr) {
    done(make_error(plugin_ + " checks need the agent's prober"));
    return;
  }
  prober_ = prober;
  if (*inflight_ != 0) {
    prober_->cancel(std::exchange(*inflight_, 0));  // outlived its check's timeout
  }
  uint64_t id = prober->probe(
      make_(ctx), [read = read_, inflight = inflight_, done = std::move(done)](ProbeResult r) {
        *inflight = 0;
        if (!r.failure.empty()) {
          done(make_error(r.failure));
          return;
        }
        done(read(r));
      });
  *inflight_ = id;
}

void ProbeCollector::stop() {
  if (prober_ != nullptr && *inflight_ != 0) {
    prober_->cancel(std::exchange(*inflight_, 0));
  }
}

Result<std::optional<Regex>> key_regex(const std::optional<Entry>& key, std::string_view name) {
  if (!key) {
    return std::optional<Regex>();
  }
  Result<Regex> re = Regex::compile(key->value);
  if (!re.ok()) {
    return make_error_at(key->file, key->line, std::string(name) + ": " + re.error());
  }
  return std::optional<Regex>(std::move(re.value()));
}

Duration probe_timeout(Duration check_timeout) {
  Duration margin = std::min(check_timeout / 10, Duration(250));
  return std::max(check_timeout - margin, Duration(1));
}

}  // namespace vigil
