#include "agent/outputs/line_sink.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

#include "agent/util/log.h"

namespace vigil {
namespace {

// strerror's buffer is not guaranteed to be per thread; the category's text is
// the same and safe to build on the writer thread.
std::string errno_text(int err) { return std::generic_category().message(err); }

// One lock per target (a path, or "" for standard output), shared by every sink
// writing there. After a reload the old sink's thread may still be finishing a
// write when the new sink starts; the lock keeps their lines from interleaving
// and keeps one thread's cut-back after a failed write from removing lines the
// other has just appended. The map and its mutex are never destroyed, so a
// detached writer that outlives main() cannot meet a destroyed lock.
std::shared_ptr<std::mutex> target_lock(const std::string& target) {
  static auto* mu = new std::mutex;
  static auto* locks = new std::map<std::string, std::weak_ptr<std::mutex>>;
  std::lock_guard<std::mutex> guard(*mu);
  for (auto it = locks->begin(); it != locks->end();) {
    it = it->second.expired() ? locks->erase(it) : std::next(it);
  }
  std::shared_ptr<std::mutex> lock = (*locks)[target].lock();
  if (lock == nullptr) {
    lock = std::make_shared<std::mutex>();
    (*locks)[target] = lock;
  }
  return lock;
}

// Writes all of bytes; 0, or the errno that stopped it. A descriptor another
// process made non-blocking answers EAGAIN: waiting for room, rather than
// giving up halfway, keeps the line whole for the reader.
int write_all(int fd, const std::string& bytes) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd pfd{fd, POLLOUT, 0};
      poll(&pfd, 1, -1);
      continue;
    }
    if (n < 0) {
      return errno;
    }
    if (n == 0) {
      return EIO;  // no progress and no reason: do not spin on it
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return 0;
}

}  // namespace

struct LineSink::Writer {
  struct Job {
    uint64_t id;
    std::string bytes;
  };
  struct Done {
    uint64_t id;
    SendOutcome outcome;
  };

  explicit Writer(std::string p) : path(std::move(p)), target(target_lock(path)) {}
  ~Writer() { close_file(); }

  // Writes one batch and, for a file, makes it durable. Only one thread at a
  // time calls this: the writer thread, or the caller of a sink without a loop.
  // id numbers the batch (0: not a thread's batch, never forgotten).
  SendOutcome write_batch(const std::string& bytes, uint64_t id = 0);
  // Whether the sink forgot batch id (abort, or the sink is gone).
  bool forgotten(uint64_t id) {
    if (id == 0) {
      return false;
    }
    std::lock_guard<std::mutex> lock(mu);
    return quit || id <= forgotten_upto;
  }
  void close_file() {
    if (fd >= 0 && !path.empty()) {
      close(fd);
    }
    fd = -1;
  }

  // The hand-over between the loop and the thread, guarded by mu.
  std::mutex mu;
  std::condition_variable wake;
  std::optional<Job> job;       // the next batch for the thread
  std::optional<Done> done;     // the last outcome, for the loop
  uv_async_t* async = nullptr;  // null once the sink is gone: nothing to wake
  bool quit = false;
  uint64_t forgotten_upto = 0;  // batches up to this one were aborted

  // Touched only by whoever writes.
  const std::string path;  // empty = standard output
  const std::shared_ptr<std::mutex> target;
  int fd = -1;
};

SendOutcome LineSink::Writer::write_batch(const std::string& bytes, uint64_t id) {
  std::lock_guard<std::mutex> guard(*target);
  const bool file = !path.empty();
  const std::string name = file ? path : "stdout";
  SendOutcome out;
  auto retry = [&](const std::string& what, int err) {
    out.kind = SendOutcome::Kind::kRetry;
    out.error = what + " " + name + ": " + errno_text(err);
    return out;
  };
  // This thread may have waited here behind another sink's stuck write (reloads
  // while the pipe is stalled). A batch its sink has given up on is still
  // spooled and goes out through the newer sink: writing it too would only
  // repeat it, once per reload.
  if (forgotten(id)) {
    out.kind = SendOutcome::Kind::kRetry;
    out.error = "batch abandoned";
    return out;
  }
  if (fd < 0) {
    fd = file ? open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640) : STDOUT_FILENO;
    if (fd < 0) {
      return retry("cannot open", errno);
    }
  }
  // The file is opened for appending, so the batch starts at its current end:
  // remembering that end lets a failed batch be cut off whole. A `file:` that
  // is a FIFO or a device (/dev/stderr) can neither be synced nor cut back, and
  // needs neither.
  bool regular = false;
  off_t before = 0;
  if (file) {
    struct stat st;
    if (fstat(fd, &st) != 0) {
      int err = errno;
      close_file();
      return retry("cannot stat", err);
    }
    regular = S_ISREG(st.st_mode);
    before = st.st_size;
  }
  // One batch is one write as far as possible, so a reader of a pipe sees whole
  // lines.
  std::string what = "cannot write";
  int err = write_all(fd, bytes);
  if (err == 0 && regular && fdatasync(fd) != 0) {
    // Data the disk did not take is not delivered, however readable it is now.
    err = errno;
    what = "cannot sync";
  }
  if (err == 0) {
    return out;
  }
  if (regular) {
    // A partial batch (the disk filled up halfway, say) would leave a torn line
    // followed by the whole batch again on the retry: cut the file back to where
    // the batch began, so the retry starts on a line boundary.
    if (ftruncate(fd, before) != 0) {
      log_error("output file " + path + ": cannot cut back to " + std::to_string(before) +
                " bytes after a failed write: " + errno_text(errno) +
                "; a reader may see a partial line");
    }
  }
  // Opened again for the next attempt, in case the file was replaced meanwhile.
  close_file();
  return retry(what, err);
}

LineSink::LineSink(uv_loop_t* loop, std::string path)
    : writer_(std::make_shared<Writer>(std::move(path))) {
  auto* a = new uv_async_t;
  int rc = uv_async_init(loop, a, &LineSink::on_async);
  if (rc != 0) {
    delete a;
    loop_error_ = std::string("cannot make a loop handle: ") + uv_strerror(rc);
    return;
  }
  a->data = this;
  // Idle, the sink must not keep the loop running; it holds the loop only while
  // a batch is in flight.
  uv_unref(reinterpret_cast<uv_handle_t*>(a));
  async_.adopt(a);
  writer_->async = a;  // no thread yet: nothing else reads it
}

LineSink::~LineSink() {
  // The thread may be blocked in a write that never returns: tell it to stop
  // and never wake the loop again, and leave it. It frees the shared state when
  // its write returns; async_ is closed by its owner after this.
  {
    std::lock_guard<std::mutex> lock(writer_->mu);
    writer_->quit = true;
    writer_->async = nullptr;
    writer_->job.reset();
  }
  writer_->wake.notify_one();
}

void LineSink::send(const std::vector<SpoolEntry>& batch, std::function<void(SendOutcome)> done) {
  std::string bytes;
  for (const SpoolEntry& e : batch) {
    bytes += e.payload;
    bytes += '\n';
  }
  SendOutcome refused;
  refused.kind = SendOutcome::Kind::kRetry;
  if (!async_) {
    refused.error = loop_error_;
    done(std::move(refused));
    return;
  }
  if (done_) {
    // The output sends one batch at a time; a second one would overtake the first.
    refused.error = "a batch is already in flight";
    done(std::move(refused));
    return;
  }
  if (!thread_started_ && !start_thread(&refused.error)) {
    done(std::move(refused));
    return;
  }
  in_flight_ = ++next_id_;
  {
    std::lock_guard<std::mutex> lock(writer_->mu);
    writer_->job = Writer::Job{in_flight_, std::move(bytes)};
  }
  writer_->wake.notify_one();
  done_ = std::move(done);
  uv_ref(reinterpret_cast<uv_handle_t*>(async_.get()));
}

void LineSink::abort() {
  done_ = nullptr;
  in_flight_ = 0;
  if (async_) {
    uv_unref(reinterpret_cast<uv_handle_t*>(async_.get()));
  }
  // A batch the thread has not taken yet is dropped; one it is writing finishes
  // (a write cannot be called back) and its outcome is ignored. Either way the
  // batch is still in the spool.
  std::lock_guard<std::mutex> lock(writer_->mu);
  writer_->job.reset();
  writer_->done.reset();
  writer_->forgotten_upto = next_id_;
}

bool LineSink::start_thread(std::string* error) {
  // Signals are the loop's business: with them blocked here, none is handled on
  // this thread in the middle of a write.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  try {
    std::thread(&LineSink::run, writer_).detach();
    thread_started_ = true;
  } catch (const std::system_error& e) {
    *error = std::string("cannot start a writer thread: ") + e.what();
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return thread_started_;
}

void LineSink::run(std::shared_ptr<Writer> w) {
  std::unique_lock<std::mutex> lock(w->mu);
  for (;;) {
    w->wake.wait(lock, [&] { return w->quit || w->job.has_value(); });
    if (w->quit) {
      break;
    }
    Writer::Job job = std::move(*w->job);
    w->job.reset();
    lock.unlock();
    SendOutcome outcome = w->write_batch(job.bytes, job.id);
    lock.lock();
    w->done = Writer::Done{job.id, std::move(outcome)};
    // Under mu, so the sink cannot close the handle between the check and the send.
    if (w->async != nullptr) {
      uv_async_send(w->async);
    }
  }
  lock.unlock();
  w->close_file();
}

void LineSink::on_async(uv_async_t* handle) noexcept {
  auto* self = static_cast<LineSink*>(handle->data);
  if (self != nullptr) {
    self->collect();
  }
}

void LineSink::collect() {
  std::optional<Writer::Done> got;
  {
    std::lock_guard<std::mutex> lock(writer_->mu);
    got = std::move(writer_->done);
    writer_->done.reset();
  }
  // An outcome for a batch that abort() forgot is dropped.
  if (!got || !done_ || got->id != in_flight_) {
    return;
  }
  std::function<void(SendOutcome)> done = std::move(done_);
  done_ = nullptr;
  in_flight_ = 0;
  uv_unref(reinterpret_cast<uv_handle_t*>(async_.get()));
  done(std::move(got->outcome));
}

}  // namespace vigil
