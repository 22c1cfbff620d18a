#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "agent/util/result.h"

namespace vigil::test {

// A child process started with posix_spawnp (safe in a process with threads, unlike
// fork), stopped and reaped by stop() or the destructor.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess() { stop(); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // argv[0] is looked up in PATH; the child inherits the environment and stdio.
  Status start(const std::vector<std::string>& argv);
  pid_t pid() const { return pid_; }
  // True until the child has exited (reaps it when it has).
  bool running();
  // Sends `signal` unless it has exited already and reaps it; returns its wait
  // status (-1 when nothing was running).
  int stop(int signal = 15);
  // Waits for the child to exit by itself; returns its wait status.
  int wait();

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

// Waits until `path` exists, watching its folder with inotify, for at most `limit`
// and while keep_waiting() holds. Returns whether it exists.
bool wait_for_file(const std::string& path, std::chrono::milliseconds limit,
                   const std::function<bool()>& keep_waiting = {});

// Runs tests/support/make_certs.sh into `dir` (see there for the files it makes).
Status make_test_certs(const std::string& dir);

struct ReceiverOptions {
  std::string tls_cert;  // with tls_key: HTTPS
  std::string tls_key;
  std::string tls_client_ca;  // require client certificates signed by this CA
  std::string script;         // the initial script (JSON text); "" = always 200
};

// tests/support/receiver.py running in `dir` (its log, port file and script live
// there). The port is known once the constructor returns with ok().
class Receiver {
 public:
  Receiver(const std::string& dir, ReceiverOptions options = {});
  bool ok() const { return port_ > 0; }
  const std::string& error() const { return error_; }
  int port() const { return port_; }
  // http://127.0.0.1:PORT/path, or https://localhost:PORT/path with TLS (the host in
  // the test certificate's names).
  std::string url(const std::string& path) const;
  // Replaces the script; the next request reads it.
  void set_script(const std::string& json);
  // The log: one JSON object per line, one line per request received so far.
  std::vector<std::string> requests() const;
  void stop() { process_.stop(); }

 private:
  std::string dir_;
  bool tls_ = false;
  int port_ = 0;
  std::string error_;
  ChildProcess process_;
};

}  // namespace vigil::test
