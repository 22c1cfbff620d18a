#include "agent/services/uv_spawner.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "agent/util/log.h"

namespace vigil {
namespace {

// Owns one libuv handle whose init succeeded: closing it is the only way to
// release it, and its memory may go only in the close callback (libuv
// docs/src/design.rst). data is cleared first so that a late callback finds no
// owner. Neither copyable nor movable: libuv keeps the handle's address.
template <typename T>
class OwnedHandle {
 public:
  OwnedHandle() = default;
  ~OwnedHandle() {
    if (h_ == nullptr) {
      return;
    }
    auto* b = reinterpret_cast<uv_handle_t*>(std::exchange(h_, nullptr));
    b->data = nullptr;
    uv_close(b, &OwnedHandle::on_close);
  }
  OwnedHandle(const OwnedHandle&) = delete;
  OwnedHandle& operator=(const OwnedHandle&) = delete;

  void adopt(T* h) { h_ = h; }
  T* get() const { return h_; }

 private:
  static void on_close(uv_handle_t* h) noexcept { delete reinterpret_cast<T*>(h); }

  T* h_ = nullptr;
};

constexpr Duration kKillGrace{1000};

// The kernel's ABI, for C libraries whose headers predate close_range (5.9) or
// its CLOEXEC flag (5.11).
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
constexpr unsigned kCloseRangeCloexec = 1u << 2;

void set_cloexec(int fd) {
  int flags = fcntl(fd, F_GETFD);
  if (flags >= 0 && (flags & FD_CLOEXEC) == 0) {
    fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
}

// Walks /proc/self/fd with raw getdents64 into a buffer on the stack: opendir
// would allocate, and this runs in a child forked from a threaded process.
bool cloexec_listed_fds() {
  int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    return false;
  }
  alignas(8) char buf[4096];
  while (true) {
    long n = syscall(SYS_getdents64, dir, buf, sizeof buf);
    if (n <= 0) {
      break;
    }
    for (long off = 0; off < n;) {
      auto* d = reinterpret_cast<struct dirent64*>(buf + off);
      off += d->d_reclen;
      int fd = 0;
      bool number = d->d_name[0] != '\0';
      for (const char* c = d->d_name; *c != '\0'; ++c) {
        if (*c < '0' || *c > '9') {
          number = false;
          break;
        }
        fd = fd * 10 + (*c - '0');
      }
      if (number && fd > 2 && fd != dir) {
        set_cloexec(fd);
      }
    }
  }
  close(dir);
  return true;
}

// Runs in every child of fork(), before it execs: every descriptor above
// stderr becomes close-on-exec, so the command gets exactly the stdin, stdout
// and stderr libuv dups onto 0, 1 and 2, and nothing else of the agent. The
// agent opens its own descriptors close-on-exec, but not every library does:
// libcurl 7.88 makes its multi handle's wake-up socketpair without the flag
// (and its connections, unless told otherwise). Marking the agent's
// descriptors from the loop before each spawn would race with the threads that
// open them (libcurl's resolver, libuv's pool); in the child it is free of
// races: the child has one thread and its own copy of the table. Marked, not
// closed: libuv still needs its stdio pipes and the pipe that reports a failed
// exec between fork and exec, and exec closes them all at once.
//
// uv_spawn lets no code run between fork and exec, so this hook is how the
// spawner gets there; it holds as long as libuv forks with fork(), as it does
// on Linux (posix_spawn and vfork skip atfork handlers, and the unit test
// "spawned commands inherit no descriptor above stderr" would then fail). Only
// async-signal-safe calls here.
void mark_inherited_fds_cloexec() noexcept {
  int saved = errno;
  if (syscall(SYS_close_range, 3u, ~0u, kCloseRangeCloexec) != 0 && !cloexec_listed_fds()) {
    // No close_range with CLOEXEC (before Linux 5.11) and no /proc: every
    // possible descriptor number, up to a bound that keeps a huge limit from
    // stalling the child for minutes (the agent never has that many open).
    constexpr uint64_t kMostFds = 1u << 20;
    rlimit lim{};
    uint64_t last = kMostFds;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < kMostFds) {
      last = lim.rlim_cur;
    }
    for (uint64_t fd = 3; fd < last; ++fd) {
      set_cloexec(static_cast<int>(fd));
    }
  }
  errno = saved;
}

void install_fork_hook() {
  static std::once_flag once;
  std::call_once(once, [] { pthread_atfork(nullptr, nullptr, &mark_inherited_fds_cloexec); });
}

}  // namespace

// One command in flight: its process, the pipe of its stdout and a timer that
// drives the kill sequence. It ends when the process has exited and its stdout
// reached end of file; background children that keep stdout open after the
// command exited are killed with the group, and a pipe held open from outside
// the group is given up a second later.
class UvSpawner::Run {
 public:
  Run(UvSpawner* owner, uint64_t id, const SpawnRequest& request,
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
    auto* pipe = new uv_pipe_t;
    uv_pipe_init(loop, pipe, 0);  // cannot fail for a valid loop
    pipe->data = this;
    out_.adopt(pipe);
    auto* timer = new uv_timer_t;
    uv_timer_init(loop, timer);
    timer->data = this;
    timer_.adopt(timer);

    std::vector<char*> args;
    for (const std::string& a : request.argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    std::vector<char*> env;
    for (const std::string& e : request.env) {
      env.push_back(const_cast<char*>(e.c_str()));
    }
    env.push_back(nullptr);

    // libuv opens /dev/null for ignored stdio: stdin reads nothing and the
    // agent's stderr (its log, maybe the journal) never gets the command's.
    uv_stdio_container_t stdio[3];
    stdio[0].flags = UV_IGNORE;
    stdio[1].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | UV_WRITABLE_PIPE);
    stdio[1].data.stream = reinterpret_cast<uv_stream_t*>(pipe);
    stdio[2].flags = UV_IGNORE;

    uv_process_options_t options{};
    options.exit_cb = &Run::on_exit;
    options.file = args[0];  // execvp: a bare name is looked up in env's PATH
    options.args = args.data();
    options.env = env.data();
    options.stdio_count = 3;
    options.stdio = stdio;
    options.flags = UV_PROCESS_DETACHED;  // setsid: its own group, killed as one

    auto* process = new uv_process_t;
    process->data = this;
    int rc = uv_spawn(loop, process, &options);
    // Even a failed uv_spawn leaves a handle that must be closed.
    process_.adopt(process);
    if (rc != 0) {
      result_.error = "cannot run " + request.argv[0] + ": " + uv_strerror(rc);
      return false;
    }
    result_.pid = process->pid;
    uv_read_start(reinterpret_cast<uv_stream_t*>(pipe), &Run::on_alloc, &Run::on_read);
    arm(timeout_);
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

  static void on_exit(uv_process_t* p, int64_t exit_status, int term_signal) noexcept {
    auto* self = static_cast<Run*>(p->data);
    if (self == nullptr) {
      return;
    }
    self->exited_ = true;
    if (term_signal != 0) {
      self->result_.signal = term_signal;
    } else {
      self->result_.exit_code = static_cast<int>(exit_status);
    }
    if (!self->eof_) {
      // Someone still holds stdout: a background child of the command. The
      // leader is gone, its group is not, and nobody will wait for it.
      self->kill_group(SIGKILL);
      self->stage_ = Stage::kKilled;
      self->arm(kKillGrace);
    }
    self->maybe_finish();
  }

  static void on_timer(uv_timer_t* t) noexcept {
    auto* self = static_cast<Run*>(t->data);
    if (self == nullptr) {
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
        }
        self->exited_ = true;
        self->eof_ = true;
        self->maybe_finish();
        break;
    }
  }

  UvSpawner* owner_;
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
  OwnedHandle<uv_pipe_t> out_;
  OwnedHandle<uv_timer_t> timer_;
  OwnedHandle<uv_process_t> process_;
};

UvSpawner::UvSpawner(uv_loop_s* loop) : loop_(loop) { install_fork_hook(); }

UvSpawner::~UvSpawner() { runs_.clear(); }

void UvSpawner::run(const SpawnRequest& request, std::function<void(SpawnResult)> done) {
  uint64_t id = next_id_++;
  auto run = std::make_unique<Run>(this, id, request, std::move(done));
  Run* r = run.get();
  runs_.emplace(id, std::move(run));
  if (!r->start(loop_, request)) {
    finish(id);
  }
}

void UvSpawner::finish(uint64_t id) {
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
