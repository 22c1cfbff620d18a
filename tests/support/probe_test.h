#pragma once

#include <catch2/catch.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "agent/plugin/collector.h"
#include "agent/services/net_prober.h"
#include "tests/support/plugin_test.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_loop.h"

// What the probe plugins' tests share: one collection on a real loop and prober,
// create()'s error as check-config prints it, a port nothing listens on.
namespace vigil::test {

struct Probed {
  std::optional<Result<Sample>> result;
  double seconds = 0;         // from collect() to the result
  bool http_started = false;  // the prober loaded libcurl
  const Sample& sample() const {
    REQUIRE(result);
    INFO((result->ok() ? std::string() : result->error()));
    REQUIRE(result->ok());
    return result->value();
  }
};

// One collection of a `plugin` check with these keys.
inline Probed probe_once(const Plugin& plugin, const KeyLines& keys,
                         Duration timeout = Duration(5000)) {
  Probed out;
  TestLoop loop;
  {
    NetProber prober(loop.get());
    Services services;
    services.prober = &prober;
    auto collector = make_collector(plugin, keys);
    CollectContext ctx;
    ctx.services = &services;
    ctx.timeout = timeout;
    auto start = std::chrono::steady_clock::now();
    collector->collect(ctx, [&](Result<Sample> r) { out.result = std::move(r); });
    loop.run_until([&] { return out.result.has_value(); });
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    out.http_started = prober.http_started();
    collector->stop();
  }
  CHECK(loop.close() == 0);
  return out;
}

// The error of create() for a section at probes.ini:LINE, as check-config prints it.
inline std::string create_error(const Plugin& plugin, const KeyLines& keys, int line,
                                const std::string& check) {
  Section s = make_section(std::string(plugin.name), keys, "probes.ini", line, check);
  PluginConfig config{s, check, "/proc", "/sys"};
  auto c = plugin.create(config);
  REQUIRE_FALSE(c.ok());
  const Error& e = c.error_info();
  return e.file + ":" + std::to_string(e.line) + ": " + e.message;
}

// A port that nothing listens on (a receiver's, after it stopped).
inline int free_port() {
  TempDir dir;
  Receiver r(dir.path());
  REQUIRE(r.ok());
  int port = r.port();
  r.stop();
  return port;
}

}  // namespace vigil::test
