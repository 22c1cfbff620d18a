#include "tests/support/process.h"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "agent/util/fs.h"
#include "tests/support/temp_dir.h"

extern char** environ;

namespace vigil::test {

Status ChildProcess::start(const std::vector<std::string>& argv) {
  stop();
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ);
  if (rc != 0) {
    return make_error("posix_spawnp " + argv[0] + ": " + strerror(rc));
  }
  pid_ = pid;
  status_ = -1;
  return {};
}

bool ChildProcess::running() {
  if (pid_ <= 0) {
    return false;
  }
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_ || (r < 0 && errno == ECHILD)) {
    status_ = status;
    pid_ = -1;
    return false;
  }
  return true;
}

int ChildProcess::stop(int signal) {
  if (running()) {
    kill(pid_, signal);
  }
  return wait();
}

int ChildProcess::wait() {
  if (pid_ > 0) {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    status_ = status;
    pid_ = -1;
  }
  return status_;
}

bool wait_for_file(const std::string& path, std::chrono::milliseconds limit,
                   const std::function<bool()>& keep_waiting) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  // The watch goes in before the first look, so a file made in between still wakes us.
  if (fd >= 0) {
    inotify_add_watch(fd, dir.c_str(), IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE);
  }
  struct stat st {};
  bool found = false;
  while (true) {
    if (stat(path.c_str(), &st) == 0) {
      found = true;
      break;
    }
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline || (keep_waiting && !keep_waiting())) {
      break;
    }
    // Wake at least every 100 ms to ask keep_waiting (a child that died, say).
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    struct pollfd p {
      fd, POLLIN, 0
    };
    poll(&p, fd >= 0 ? 1 : 0, static_cast<int>(std::min<int64_t>(left, 100)));
    char buf[4096];
    while (fd >= 0 && read(fd, buf, sizeof(buf)) > 0) {
    }
  }
  if (fd >= 0) {
    close(fd);
  }
  return found;
}

Status make_test_certs(const std::string& dir) {
  ChildProcess p;
  Status s = p.start({"sh", source_dir() + "/tests/support/make_certs.sh", dir});
  if (!s) {
    return s;
  }
  int status = p.wait();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return make_error("make_certs.sh failed with status " + std::to_string(status));
  }
  return {};
}

Receiver::Receiver(const std::string& dir, ReceiverOptions options)
    : dir_(dir), tls_(!options.tls_cert.empty()) {
  std::string port_file = dir_ + "/receiver.port";
  std::vector<std::string> argv = {"python3",     source_dir() + "/tests/support/receiver.py",
                                   "--port",      "0",
                                   "--log",       dir_ + "/receiver.log",
                                   "--port-file", port_file,
                                   "--script",    dir_ + "/receiver.script",
                                   "--parent",    std::to_string(getpid())};
  if (tls_) {
    argv.insert(argv.end(), {"--tls-cert", options.tls_cert, "--tls-key", options.tls_key});
  }
  if (!options.tls_client_ca.empty()) {
    argv.insert(argv.end(), {"--tls-client-ca", options.tls_client_ca});
  }
  if (!options.script.empty()) {
    set_script(options.script);
  }
  Status s = process_.start(argv);
  if (!s) {
    error_ = s.error();
    return;
  }
  if (!wait_for_file(port_file, std::chrono::seconds(30), [this] { return process_.running(); })) {
    error_ = "the receiver did not start";
    return;
  }
  Result<std::string> text = read_file(port_file);
  if (text.ok()) {
    port_ = atoi(text->c_str());
  }
  if (port_ <= 0) {
    error_ = "bad port file";
  }
}

std::string Receiver::url(const std::string& path) const {
  return (tls_ ? "https://localhost:" : "http://127.0.0.1:") + std::to_string(port_) + path;
}

void Receiver::set_script(const std::string& json) {
  Status s = write_file_atomic(dir_ + "/receiver.script", json);
  (void)s;
}

std::vector<std::string> Receiver::requests() const {
  std::vector<std::string> lines;
  std::ifstream in(dir_ + "/receiver.log");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) {
      lines.push_back(line);
    }
  }
  return lines;
}

}  // namespace vigil::test
