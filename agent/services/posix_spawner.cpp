#include "agent/services/posix_spawner.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/util/log.h"
#include "agent/util/unique_fd.h"

namespace vigil {
namespace {

constexpr Duration kKillGrace{1000};

// execvp's search when the environment has no PATH (glibc's default).
constexpr std::string_view kDefaultPath = "/bin:/usr/bin";

// The attributes and descriptor actions every command gets: its own session,
// default dispositions and an empty mask for every signal, stdin and stderr
// from /dev/null, stdout on the write end of its pipe, and nothing else.
class SpawnSetup {
 public:
  explicit SpawnSetup(int stdout_fd) {
    sigset_t none;
    sigemptyset(&none);
    // Every signal, glibc's own two (32 and 33) included: sigfillset leaves
    // them out, and the child would then exec with them ignored.
    sigset_t all;
    std::memset(&all, 0xff, sizeof all);
    keep(posix_spawnattr_init(&attr_));
    keep(posix_spawnattr_setsigmask(&attr_, &none));
    keep(posix_spawnattr_setsigdefault(&attr_, &all));
    keep(posix_spawnattr_setflags(
        &attr_, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));
    keep(posix_spawn_file_actions_init(&actions_));
    keep(posix_spawn_file_actions_addopen(&actions_, 0, "/dev/null", O_RDONLY, 0));
    keep(posix_spawn_file_actions_adddup2(&actions_, stdout_fd, 1));
    keep(posix_spawn_file_actions_addopen(&actions_, 2, "/dev/null", O_WRONLY, 0));
    // Not every library opens its descriptors close-on-exec (libcurl 7.88's
    // multi handle does not): close them all in the child, where no other
    // thread can open one meanwhile. glibc does it with close_range (Linux
    // 5.9), else through /proc/self/fd; with neither, no command can run.
    keep(posix_spawn_file_actions_addclosefrom_np(&actions_, 3));
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  // 0 and the pid, or the error of the exec (posix_spawn waits for it), or of
  // the setup: a command must never start with less than all of it.
  int spawn(pid_t* pid, const std::string& path, char* const* argv, char* const* envp) const {
    if (error_ != 0) {
      return error_;
    }
    return posix_spawn(pid, path.c_str(), &actions_, &attr_, argv, envp);
  }

 private:
  void keep(int rc) {
    if (error_ == 0) {
      error_ = rc;
    }
  }

  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
  int error_ = 0;
};

std::string_view path_of(const std::vector<std::string>& env) {
  for (const std::string& e : env) {
    if (e.rfind("PATH=", 0) == 0) {
      return std::string_view(e).substr(5);
    }
  }
  return kDefaultPath;
}

// Runs one candidate file as execvp would: a file the kernel cannot execute
// for want of a "#!" line goes to /bin/sh, as a script.
int spawn_file(const SpawnSetup& setup, pid_t* pid, const std::string& path,
               std::vector<char*> argv, char* const* envp) {
  int rc = setup.spawn(pid, path, argv.data(), envp);
  if (rc == ENOEXEC) {
    static char sh[] = "/bin/sh";
    argv[0] = const_cast<char*>(path.c_str());
    argv.insert(argv.begin(), sh);
    rc = setup.spawn(pid, sh, argv.data(), envp);
  }
  return rc;
}

// argv[0] as execvp finds it: as given when it names a path, else in each
// folder of the PATH the command gets, not the agent's. A folder where the
// name does not exist is passed over; one where it may not be run is
// remembered, and reported if no later folder has it.
int spawn_command(const SpawnSetup& setup, pid_t* pid, const std::vector<std::string>& argv,
                  const std::vector<std::string>& env) {
  std::vector<char*> args;
  for (const std::string& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : env) {
    envp.push_back(const_cast<char*>(e.c_str()));
  }
  envp.push_back(nullptr);

  const std::string& name = argv[0];
  if (name.find('/') != std::string::npos) {
    return spawn_file(setup, pid, name, args, envp.data());
  }
  int result = ENOENT;
  std::string_view dirs = path_of(env);
  while (true) {
    size_t colon = dirs.find(':');
    std::string_view dir = dirs.substr(0, colon);
    std::string candidate = dir.empty() ? name : std::string(dir) + "/" + name;
    // A cheap look first: most folders of a PATH lack the name.
    if (access(candidate.c_str(), X_OK) == 0 || errno == EACCES) {
      int rc = spawn_file(setup, pid, candidate, args, envp.data());
      if (rc == 0) {
        return 0;
      }
      if (rc == EACCES) {
        result = EACCES;
      } else if (rc != ENOENT && rc != ENOTDIR && rc != ESTALE && rc != ENODEV && rc != ETIMEDOUT) {
        return rc;
      }
    }
    if (colon == std::string_view::npos) {
      return result;
    }
    dirs.remove_prefix(colon + 1);
  }
}

}  // namespace

// One command in flight: its process, the pipe of its stdout and a timer that
// drives the kill sequence. It ends when the process has exited and its stdout
// reached end of file; background children that keep stdout open after the
// command exited are killed with the group, and a pipe held open from outside
// the group is given up a second later.
class PosixSpawner::Run {
 public:
  Run(PosixSpawner* owner, uint64_t id, const SpawnRequest& request,
      std::function<void(SpawnResult)> done)
      : owner_(owner),
        id_(id),
        cap_(request.output_cap),
        timeout_(request.timeout),
        done_(std::move(done)) {}

  ~Run() {
    // Only when the spawner goes away with this run in flight: nothing of the
    // command may outlive the agent's interest in it.
    if (result_.pid > 0 && !exited_) {
      kill(-result_.pid, SIGKILL);
    }
  }
  Run(const Run&) = delete;
  Run& operator=(const Run&) = delete;

  // False when the command could not start; the result then holds the error.
  bool start(uv_loop_t* loop, const SpawnRequest& request) {
    if (request.argv.empty() || request.argv[0].empty()) {
      result_.error = "empty command";
      return false;
    }
    if (!owner_->child_signal_error_.empty()) {
      // Its exit would never be seen: better a clear error than a timeout.
      result_.error = owner_->child_signal_error_;
      return false;
    }
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      result_.error = "cannot run " + request.argv[0] + ": " + strerror(errno);
      return false;
    }
    UniqueFd read_end(fds[0]);
    UniqueFd write_end(fds[1]);
    pid_t pid = 0;
    int rc = spawn_command(SpawnSetup(write_end.get()), &pid, request.argv, request.env);
    write_end.reset();  // the command holds the only write end: its exit is our EOF
    if (rc != 0) {
      result_.error = "cannot run " + request.argv[0] + ": " + strerror(rc);
      return false;
    }
    result_.pid = pid;

    auto* timer = new uv_timer_t;
    uv_timer_init(loop, timer);  // cannot fail for a valid loop
    timer->data = this;
    timer_.adopt(timer);
    arm(timeout_);
    auto* pipe = new uv_pipe_t;
    uv_pipe_init(loop, pipe, 0);
    pipe->data = this;
    out_.adopt(pipe);
    int fd = read_end.release();
    if (uv_pipe_open(pipe, fd) != 0) {
      close(fd);
      eof_ = true;  // no output to read; the exit alone ends the run
      return true;
    }
    uv_read_start(reinterpret_cast<uv_stream_t*>(pipe), &Run::on_alloc, &Run::on_read);
    return true;
  }

  // Reaps the command if it exited; true then, and this run may be finished
  // (destroyed) already.
  bool check_exit() {
    if (exited_ || result_.pid <= 0) {
      return false;
    }
    int status = 0;
    if (waitpid(result_.pid, &status, WNOHANG) != result_.pid) {
      return false;
    }
    exited_ = true;
    if (WIFSIGNALED(status)) {
      result_.signal = WTERMSIG(status);
    } else {
      result_.exit_code = WEXITSTATUS(status);
    }
    if (!eof_) {
      // Someone still holds stdout: a background child of the command. The
      // leader is gone, its group is not, and nobody will wait for it.
      kill_group(SIGKILL);
      stage_ = Stage::kKilled;
      arm(kKillGrace);
    }
    maybe_finish();
    return true;
  }

  SpawnResult take_result() { return std::move(result_); }
  std::function<void(SpawnResult)> take_done() { return std::move(done_); }

 private:
  enum class Stage { kRunning, kTerminated, kKilled };

  void arm(Duration d) {
    uv_timer_start(timer_.get(), &Run::on_timer, static_cast<uint64_t>(d.count()), 0);
  }

  void kill_group(int sig) {
    if (result_.pid > 0) {
      kill(-result_.pid, sig);
    }
  }

  void maybe_finish() {
    if (exited_ && eof_) {
      owner_->finish(id_);  // destroys this
    }
  }

  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf) noexcept {
    (void)suggested;
    auto* self = static_cast<Run*>(h->data);
    if (self == nullptr) {
      buf->base = nullptr;
      buf->len = 0;
      return;
    }
    buf->base = self->buffer_.data();
    buf->len = self->buffer_.size();
  }

  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept {
    auto* self = static_cast<Run*>(s->data);
    if (self == nullptr) {
      return;
    }
    if (nread > 0) {
      // Past the cap the output is still read, and dropped, so that the
      // command never blocks on a full pipe.
      size_t n = static_cast<size_t>(nread);
      std::string& out = self->result_.output;
      size_t room = out.size() < self->cap_ ? self->cap_ - out.size() : 0;
      out.append(buf->base, std::min(room, n));
      self->result_.output_dropped += n - std::min(room, n);
      return;
    }
    if (nread < 0) {  // UV_EOF, or a read error: either way nothing more comes
      uv_read_stop(s);
      self->eof_ = true;
      self->maybe_finish();
    }
  }

  static void on_timer(uv_timer_t* t) noexcept {
    auto* self = static_cast<Run*>(t->data);
    if (self == nullptr) {
      return;
    }
    // Timers run before the poll that would bring a pending SIGCHLD: a command
    // that exited just before its deadline has not timed out.
    if (self->check_exit()) {
      return;
    }
    switch (self->stage_) {
      case Stage::kRunning:
        self->result_.timed_out = true;
        self->kill_group(SIGTERM);
        self->stage_ = Stage::kTerminated;
        self->arm(kKillGrace);
        break;
      case Stage::kTerminated:
        self->kill_group(SIGKILL);
        self->stage_ = Stage::kKilled;
        self->arm(kKillGrace);
        break;
      case Stage::kKilled:
        // A process stuck in the kernel (D state) or a pipe held open from
        // outside the group: report what we have rather than wait forever.
        if (!self->exited_) {
          self->result_.error = "the command did not exit after SIGKILL";
          self->owner_->abandon(self->result_.pid);
        }
        self->exited_ = true;
        self->eof_ = true;
        self->maybe_finish();
        break;
    }
  }

  PosixSpawner* owner_;
  uint64_t id_;
  size_t cap_;
  Duration timeout_;
  std::function<void(SpawnResult)> done_;
  SpawnResult result_;
  bool exited_ = false;
  bool eof_ = false;
  Stage stage_ = Stage::kRunning;
  std::array<char, 16384> buffer_{};
  // Closed in reverse order of declaration; each frees itself in its close callback.
  UvHandle<uv_pipe_t> out_;
  UvHandle<uv_timer_t> timer_;
};

PosixSpawner::PosixSpawner(uv_loop_t* loop) : loop_(loop) {
  // Watched from the start: a command that exits before its run is listed is
  // still a zombie, reaped at the next signal or the next check.
  auto* s = new uv_signal_t;
  int rc = uv_signal_init(loop, s);
  if (rc != 0) {
    delete s;  // never initialised: nothing to close
    child_signal_error_ = std::string("cannot watch SIGCHLD: ") + uv_strerror(rc);
    log_error("exec: " + child_signal_error_);
    return;
  }
  s->data = this;
  child_signal_.adopt(s);
  rc = uv_signal_start(s, &PosixSpawner::on_child_signal, SIGCHLD);
  if (rc != 0) {
    child_signal_error_ = std::string("cannot watch SIGCHLD: ") + uv_strerror(rc);
    log_error("exec: " + child_signal_error_);
  }
  uv_unref(reinterpret_cast<uv_handle_t*>(s));  // a run's own handles keep the loop alive
}

PosixSpawner::~PosixSpawner() { runs_.clear(); }

void PosixSpawner::run(const SpawnRequest& request, std::function<void(SpawnResult)> done) {
  uint64_t id = next_id_++;
  auto run = std::make_unique<Run>(this, id, request, std::move(done));
  Run* r = run.get();
  runs_.emplace(id, std::move(run));
  if (!r->start(loop_, request)) {
    finish(id);
  }
}

void PosixSpawner::on_child_signal(uv_signal_t* s, int signum) noexcept {
  (void)signum;
  auto* self = static_cast<PosixSpawner*>(s->data);
  if (self != nullptr) {
    self->reap();
  }
}

void PosixSpawner::abandon(int pid) { abandoned_.push_back(pid); }

void PosixSpawner::reap() {
  // A command given up in the kernel may still exit, one day: it must not
  // stay a zombie for the agent's lifetime.
  std::erase_if(abandoned_, [](int pid) { return waitpid(pid, nullptr, WNOHANG) != 0; });
  std::vector<uint64_t> ids;
  ids.reserve(runs_.size());
  for (const auto& [id, run] : runs_) {
    ids.push_back(id);
  }
  for (uint64_t id : ids) {
    auto it = runs_.find(id);
    if (it != runs_.end()) {
      it->second->check_exit();  // may finish the run, and its callback start others
    }
  }
}

void PosixSpawner::finish(uint64_t id) {
  auto it = runs_.find(id);
  if (it == runs_.end()) {
    return;
  }
  std::unique_ptr<Run> run = std::move(it->second);
  runs_.erase(it);
  SpawnResult result = run->take_result();
  auto done = run->take_done();
  run.reset();  // closes the handles before the callback may start another run
  try {
    if (done) {
      done(std::move(result));
    }
  } catch (const std::exception& e) {
    // This runs inside a libuv callback: nothing may unwind into C.
    log_error(std::string("exec result handler failed: ") + e.what());
  } catch (...) {
    log_error("exec result handler failed");
  }
}

}  // namespace vigil
