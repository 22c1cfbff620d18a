#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "agent/plugin/key_table.h"
#include "agent/plugin/section.h"
#include "agent/plugin/services.h"
#include "agent/util/result.h"
#include "agent/util/time.h"

// The plugin API: all a plugin may include, with agent/util/.
namespace vigil {

// A loss a plugin counts, cumulative since the check started, and where it
// happened. The core adds these to the agent's loss counters and names the place
// when its own check `vigil` warns.
struct LossCount {
  std::string counter;  // one of the agent's loss counters, e.g. "log_bytes_skipped"
  std::string place;    // where, for a reader: "file /var/log/app.log"
  uint64_t total = 0;
};

// A check keeps at most this many example lines between two events; an event
// quotes them.
inline constexpr size_t kMaxExampleLines = 5;

// One reading of a check, in typed channels. The core knows the channels, never
// the plugin that filled them.
struct Sample {
  // Gauges: named numbers, in the order the plugin reports them; rules name them.
  std::vector<std::pair<std::string, double>> metrics;
  // A line that says what the plugin saw (a command's first output line, a
  // probe's error); an event quotes it as its message.
  std::optional<std::string> message;
  // A state the plugin decides itself, as a Nagios exit code (0 ok, 1 warning,
  // 2 critical, 3 or more unknown). It counts as the check's first rule, and an
  // event names it as the metric `status`.
  std::optional<int> state_code;
  // Example lines since the last collection (at most kMaxExampleLines are kept);
  // an event quotes them as its `samples`.
  std::vector<std::string> examples;
  // Occurrences this collection counted (matching lines): an incident of a plugin
  // with `counts_occurrences` adds them up.
  double occurrences = 0;
  std::vector<LossCount> losses;  // what the plugin lost, not a reading

  void set(std::string name, double value) { metrics.emplace_back(std::move(name), value); }
  const double* find(std::string_view name) const {
    for (const auto& [k, v] : metrics) {
      if (k == name) {
        return &v;
      }
    }
    return nullptr;
  }
};

// What a collection sees of the host. Paths are roots so that tests and
// containers point them elsewhere (procfs = /host/proc).
struct CollectContext {
  std::string procfs = "/proc";
  std::string sysfs = "/sys";
  MonotonicTime now{};
  SystemTime wall{};
  Duration interval{10000};
  Duration timeout{10000};
  // Where a plugin may keep state across restarts (log offsets): a folder that
  // exists, owned by this check. Empty in `once` and `check-config`: then the
  // plugin must persist nothing.
  std::string state_dir;
  bool once = false;  // `vigil once`: a single collection, no history
  Services* services = nullptr;
};

using CollectDone = std::function<void(Result<Sample>)>;

class Collector {
 public:
  virtual ~Collector() = default;
  // Runs one collection and calls done exactly once, on the loop thread, now or
  // later. The default calls read() and reports at once.
  virtual void collect(const CollectContext& ctx, CollectDone done) { done(read(ctx)); }
  // A synchronous collection. Plugins with may_block run it on the thread pool
  // (one call in flight per check) and must not touch the loop from it.
  virtual Result<Sample> read(const CollectContext& ctx) {
    (void)ctx;
    return make_error("this collector has no synchronous read");
  }
  // The check is going away (reload removed it, or the agent stops).
  virtual void stop() {}
};

// What create() gets: the check's section (every key already type-checked by
// the core against the plugin's table) and the host roots.
struct PluginConfig {
  const Section& section;
  std::string_view check_name;
  std::string procfs;
  std::string sysfs;
  // The plugin's options as the loader filled them from `section` with the
  // plugin's key table. Empty when the caller did not fill them: then
  // create_with() fills them from `section` and reports the first error.
  PluginOptions options = {};
};

struct Plugin {
  std::string_view name;  // the INI section
  // The plugin's keys and the options struct they fill; null for a plugin
  // without keys of its own.
  const KeyTableBase* keys = nullptr;
  // Metrics a rule may name; empty = any (exec).
  std::span<const std::string_view> metrics;
  bool may_block = false;  // run read() on the thread pool with a timeout
  // An incident of this plugin counts the samples' occurrences, not the
  // evaluations that found the check failing.
  bool counts_occurrences = false;
  // The agent's loss counters this plugin reports through Sample::losses (log:
  // "log_bytes_skipped"): their series exist from the start.
  std::span<const std::string_view> losses = {};
  // A check of this plugin without rules gets this rule, at the severity named
  // by `severity_key` (log: `matches > 0`).
  std::string_view default_rule = {};
  std::string_view severity_key = {};
  // Validates and builds; must not open files, spawn or touch the network (it
  // also serves check-config). Errors name the line (make_error_at). Plugins
  // with keys make it with create_with().
  Result<std::unique_ptr<Collector>> (*create)(const PluginConfig& config) = nullptr;
  // Extra checks only check-config does (exec: is the command executable?).
  std::vector<Error> (*check)(const PluginConfig& config) = nullptr;
  // The default `timeout` of this plugin's checks, a duration; empty = the
  // check's interval.
  std::string_view default_timeout = {};
};

// Plugin::create for a plugin whose own create() takes its options as its key
// table filled them: `.create = create_with<kKeys, create>`, where
//   Result<std::unique_ptr<Collector>> create(const Options&, const PluginConfig&);
template <auto& Table, auto Make>
Result<std::unique_ptr<Collector>> create_with(const PluginConfig& config) {
  using Options = typename std::remove_cvref_t<decltype(Table)>::OptionsType;
  Result<PluginOptions> options = Table.options_for(config.options, config.section);
  if (!options.ok()) {
    return options.error_info();
  }
  return Make(*options->template get<Options>(), config);
}

// Plugin::check likewise: `.check = check_with<kKeys, check>`. Options that do
// not fill give no error here: create() reports them.
template <auto& Table, auto Check>
std::vector<Error> check_with(const PluginConfig& config) {
  using Options = typename std::remove_cvref_t<decltype(Table)>::OptionsType;
  Result<PluginOptions> options = Table.options_for(config.options, config.section);
  if (!options.ok()) {
    return {};
  }
  return Check(*options->template get<Options>(), config);
}

}  // namespace vigil
