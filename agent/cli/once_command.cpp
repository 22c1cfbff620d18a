#include <uv.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "agent/cli/commands.h"
#include "agent/cli/config_errors.h"
#include "agent/loop/check_runner.h"
#include "agent/loop/thread_pool_size.h"
#include "agent/records/record_json.h"
#include "agent/rules/evaluator.h"
#include "agent/services/service_set.h"
#include "agent/util/log.h"

namespace vigil::cli {
namespace {

struct OnceCheck {
  const CheckConfig* config = nullptr;
  std::unique_ptr<CheckRunner> runner;
  bool done = false;
  std::optional<Sample> sample;
  std::string error;
};

std::string once_line(const OnceCheck& c) {
  nlohmann::ordered_json j;
  j["name"] = c.config->name;
  j["plugin"] = c.config->plugin;
  nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
  // Failed collections are `unknown` at once; rules apply, `for` never fires.
  RuleEvaluator eval(c.config->name, c.config->rules, 1, /*once_mode=*/true);
  Evaluation e;
  if (c.sample) {
    for (const auto& [k, v] : c.sample->metrics) {
      metrics[k] = json_number(v);
    }
    e = eval.on_sample(*c.sample, MonotonicTime{});
  } else {
    e = eval.on_failure(c.error, MonotonicTime{});
  }
  j["state"] = e.state ? state_name(*e.state) : "unknown";
  j["metrics"] = std::move(metrics);
  j["error"] = c.sample ? nullptr : nlohmann::ordered_json(c.error);
  return dump_json(j);
}

}  // namespace

// Runs every enabled check once, concurrently, and prints one line per check in
// configuration order. Writes nothing under state_dir and sends nothing.
int once_command(const std::string& config_path) {
  // Nothing here sends: an HTTP output's libcurl need not load.
  LoadOptions load;
  load.check_http_library = false;
  std::optional<Config> config = load_or_report(config_path, load);
  if (!config) {
    return 1;
  }
  log_init(LogLevel::kWarning);
  size_thread_pool(*config);
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::vector<std::unique_ptr<OnceCheck>> checks;
  {
    ServiceSet services(&loop);
    for (const CheckConfig& cc : config->checks) {
      if (!cc.enabled) {
        continue;
      }
      auto c = std::make_unique<OnceCheck>();
      c->config = &cc;
      checks.push_back(std::move(c));
    }
    size_t remaining = checks.size();
    for (auto& c : checks) {
      OnceCheck* raw = c.get();
      PluginConfig pc{c->config->section, c->config->name, config->agent.procfs,
                      config->agent.sysfs, c->config->options};
      auto collector = c->config->plugin_def->create(pc);
      if (!collector.ok()) {
        c->error = collector.error();
        c->done = true;
        --remaining;
        continue;
      }
      CollectContext ctx;
      ctx.procfs = config->agent.procfs;
      ctx.sysfs = config->agent.sysfs;
      ctx.once = true;
      ctx.services = services.services();
      std::shared_ptr<Collector> shared(std::move(collector).value().release());
      c->runner =
          std::make_unique<CheckRunner>(&loop, real_clock(), *c->config, shared, ctx,
                                        [raw, &remaining, &loop](Result<Sample> r, MonotonicTime) {
                                          if (raw->done) {
                                            return;
                                          }
                                          raw->done = true;
                                          if (--remaining == 0) {
                                            uv_stop(&loop);
                                          }
                                          raw->runner->stop();
                                          if (r.ok()) {
                                            raw->sample = std::move(r).value();
                                          } else {
                                            raw->error = r.error();
                                          }
                                        });
      c->runner->start(loop_now(&loop));
    }
    // Until the last result: uv_stop() ends the run even when that result came from
    // the timer phase and a hung collection still holds a pool thread.
    if (remaining > 0) {
      uv_run(&loop, UV_RUN_DEFAULT);
    }
    for (const auto& c : checks) {
      printf("%s\n", once_line(*c).c_str());
    }
    fflush(stdout);
  }
  // A hung collector may still hold a pool thread; libuv would join it at exit.
  _exit(0);
}

}  // namespace vigil::cli
