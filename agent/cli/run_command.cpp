#include <signal.h>
#include <unistd.h>
#include <uv.h>

#include <cstdio>
#include <memory>

#include "agent/cli/commands.h"
#include "agent/cli/config_errors.h"
#include "agent/config/loader.h"
#include "agent/loop/agent.h"
#include "agent/loop/thread_pool_size.h"
#include "agent/loop/uv_handle.h"
#include "agent/outputs/http_client.h"
#include "agent/util/log.h"
#include "agent/util/sd_notify.h"

namespace vigil::cli {
namespace {

LogLevel parse_level(const std::string& s) {
  if (s == "debug") {
    return LogLevel::kDebug;
  }
  if (s == "warning") {
    return LogLevel::kWarning;
  }
  if (s == "error") {
    return LogLevel::kError;
  }
  return LogLevel::kInfo;
}

// Signals arrive on the loop thread through uv_signal_t, never in a raw handler.
class SignalWatch {
 public:
  SignalWatch(uv_loop_t* loop, int signum, std::function<void()> fn) : fn_(std::move(fn)) {
    auto* s = new uv_signal_t;
    uv_signal_init(loop, s);
    s->data = this;
    handle_.adopt(s);
    uv_signal_start(s, &SignalWatch::on_signal, signum);
  }

 private:
  static void on_signal(uv_signal_t* s, int) noexcept {
    auto* self = static_cast<SignalWatch*>(s->data);
    if (self != nullptr) {
      self->fn_();
    }
  }
  std::function<void()> fn_;
  UvHandle<uv_signal_t> handle_;
};

}  // namespace

int run_command(const std::string& config_path) {
  log_init(LogLevel::kInfo);
  prepare_http_environment();
  std::optional<Config> config = load_or_report(config_path);
  if (!config) {
    log_error("the configuration has errors; not starting");
    return 1;
  }
  log_init(parse_level(config->agent.log_level));
  signal(SIGPIPE, SIG_IGN);
  size_thread_pool(*config);
  uv_loop_t loop;
  uv_loop_init(&loop);
  int code = 0;
  {
    auto agent = std::make_unique<Agent>(&loop, std::move(*config));
    if (Status s = agent->start(); !s.ok()) {
      log_error(s.error());
      fflush(stdout);
      _exit(1);
    }
    Agent* a = agent.get();
    SignalWatch term(&loop, SIGTERM, [a] { a->request_stop(); });
    SignalWatch intr(&loop, SIGINT, [a] { a->request_stop(); });
    SignalWatch hup(&loop, SIGHUP, [a, &config_path] {
      sd_notify_send("RELOADING=1");
      log_info("reloading " + config_path);
      LoadResult r = load_config(config_path);
      if (!r.errors.empty()) {
        for (const ConfigError& e : r.errors) {
          log_error("reload: " + e.to_string());
        }
        log_error("reload: the configuration has errors; keeping the running one");
      } else {
        log_set_level(parse_level(r.config->agent.log_level));
        a->apply_config(std::move(*r.config));
      }
      sd_notify_send("READY=1\nSTATUS=" + a->summary());
    });
    long watchdog_ms = sd_watchdog_interval_ms();
    Timer watchdog(&loop, [a] { sd_notify_send("WATCHDOG=1\nSTATUS=" + a->summary()); });
    if (watchdog_ms > 0) {
      watchdog.start(Duration(watchdog_ms), Duration(watchdog_ms));
    }
    sd_notify_send("READY=1\nSTATUS=" + a->summary());
    while (!agent->finished()) {
      uv_run(&loop, UV_RUN_DEFAULT);
    }
    code = agent->exit_code();
    sd_notify_send("STOPPING=1");
    log_info(code == 0 ? "stopped" : "stopped after a fatal error");
  }
  fflush(stdout);
  // Leave without joining libuv's pool: a hung statvfs would block exit forever.
  _exit(code);
}

}  // namespace vigil::cli
