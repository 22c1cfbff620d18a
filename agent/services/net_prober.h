#pragma once

#include <memory>

#include "agent/plugin/prober.h"

struct uv_loop_s;

namespace vigil {

// The Prober of agent/plugin/prober.h on the loop. HTTP probes and TLS
// connections go through the curl-multi client the outputs use (HttpClient),
// made at the first probe that needs it, so that libcurl is loaded only when
// such a probe runs; plain TCP probes use libuv's own TCP handles. Nothing
// here blocks the loop: name lookups run on libuv's thread pool.
class NetProber final : public Prober {
 public:
  explicit NetProber(uv_loop_s* loop);
  // Aborts probes in flight without calling their callbacks; their handles are
  // freed when the loop runs.
  ~NetProber() override;
  NetProber(const NetProber&) = delete;
  NetProber& operator=(const NetProber&) = delete;

  uint64_t probe(ProbeRequest request, std::function<void(ProbeResult)> done) override;
  void cancel(uint64_t id) override;
  // Whether the HTTP client (and so libcurl) was made: tests of laziness.
  bool http_started() const;
  size_t in_flight() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
