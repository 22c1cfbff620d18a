#include "agent/services/process_table_proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace vigil {
namespace {

// Reads at most cap bytes of a small file into buf with plain syscalls (the
// scan opens thousands of files: no streams, no allocation). Returns the byte
// count, or -1 when the file cannot be opened or read (for /proc: the process
// is gone, or it is not ours to read). Paths are relative to dir_fd (the
// procfs folder: the kernel then resolves `PID/stat`, not the whole path).
ssize_t read_small(int dir_fd, const char* path, char* buf, size_t cap) {
  int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return -1;
  }
  size_t got = 0;
  while (got < cap) {
    ssize_t n = read(fd, buf + got, cap - got);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      close(fd);
      return -1;
    }
    if (n == 0) {
      break;
    }
    got += static_cast<size_t>(n);
  }
  close(fd);
  return static_cast<ssize_t>(got);
}

// Moves p past one space-separated field; false at the end of the text.
bool skip_field(const char*& p, const char* end) {
  while (p < end && *p == ' ') {
    ++p;
  }
  if (p >= end) {
    return false;
  }
  while (p < end && *p != ' ') {
    ++p;
  }
  return true;
}

bool read_number(const char*& p, const char* end, int64_t* out) {
  while (p < end && *p == ' ') {
    ++p;
  }
  if (p >= end) {
    return false;
  }
  char* stop = nullptr;
  long long v = strtoll(p, &stop, 10);
  if (stop == p || stop > end) {
    return false;
  }
  p = stop;
  *out = v;
  return true;
}

// Parses /proc/PID/stat. comm sits between the first `(` and the LAST `)`: it
// may itself hold spaces and parentheses (`(a b) c)`), so fields are counted
// from the last `)`. Any short or odd text means the process is gone.
bool parse_stat(const char* text, size_t size, ProcessInfo* info) {
  const char* end = text + size;
  const char* open = static_cast<const char*>(memchr(text, '(', size));
  const char* close = nullptr;
  for (const char* q = end; q > text; --q) {
    if (q[-1] == ')') {
      close = q - 1;
      break;
    }
  }
  if (open == nullptr || close == nullptr || close < open) {
    return false;
  }
  info->comm.assign(open + 1, close);
  const char* p = close + 1;
  while (p < end && *p == ' ') {
    ++p;
  }
  if (p >= end) {
    return false;
  }
  info->state = *p++;  // field 3
  int64_t ppid = 0;
  if (!read_number(p, end, &ppid)) {  // field 4
    return false;
  }
  info->ppid = static_cast<int>(ppid);
  for (int field = 5; field < 14; ++field) {
    if (!skip_field(p, end)) {
      return false;
    }
  }
  int64_t utime = 0;
  int64_t stime = 0;
  if (!read_number(p, end, &utime) || !read_number(p, end, &stime)) {  // fields 14, 15
    return false;
  }
  info->cpu_ticks = static_cast<uint64_t>(utime + stime);
  for (int field = 16; field < 20; ++field) {
    if (!skip_field(p, end)) {
      return false;
    }
  }
  int64_t threads = 0;
  if (!read_number(p, end, &threads) || !skip_field(p, end)) {  // fields 20, 21
    return false;
  }
  info->threads = threads;
  int64_t start = 0;
  int64_t vsize = 0;
  int64_t rss = 0;
  if (!read_number(p, end, &start) || !read_number(p, end, &vsize) ||
      !read_number(p, end, &rss)) {  // fields 22, 23, 24
    return false;
  }
  info->start_ticks = static_cast<uint64_t>(start);
  info->rss_pages = rss;
  return true;
}

// The real uid: the first number of the `Uid:` line of /proc/PID/status.
bool parse_uid(const char* text, size_t size, int64_t* uid) {
  std::string_view s(text, size);
  size_t at = s.find("\nUid:");
  if (at == std::string_view::npos) {
    return false;
  }
  const char* p = text + at + 5;
  const char* end = text + size;
  while (p < end && (*p == ' ' || *p == '\t')) {
    ++p;
  }
  char* stop = nullptr;
  long long v = strtoll(p, &stop, 10);
  if (stop == p || stop > end || v < 0) {
    return false;
  }
  *uid = v;
  return true;
}

// Arguments are NUL-separated (and end with one): joined by spaces as ps shows them.
void join_cmdline(const char* text, size_t size, std::string* out) {
  while (size > 0 && text[size - 1] == '\0') {
    --size;
  }
  out->assign(text, size);
  std::replace(out->begin(), out->end(), '\0', ' ');
}

bool parse_pid(const char* name, int* pid) {
  if (*name == '\0') {
    return false;
  }
  long v = 0;
  for (const char* c = name; *c != '\0'; ++c) {
    if (*c < '0' || *c > '9' || v > 100000000) {
      return false;
    }
    v = v * 10 + (*c - '0');
  }
  *pid = static_cast<int>(v);
  return v > 0;
}

constexpr size_t kStatMax = 4096;
constexpr size_t kStatusMax = 4096;
// Longer command lines are cut: a regex that needs more than 32 KiB of
// arguments to tell processes apart is not a realistic check.
constexpr size_t kCmdlineMax = 32768;

}  // namespace

Result<ProcessSnapshotPtr> scan_processes(const std::string& procfs, MonotonicTime now,
                                          ProcessScanNeeds needs) {
  auto snap = std::make_shared<ProcessSnapshot>();
  snap->taken = now;
  snap->read = needs;
  long tck = sysconf(_SC_CLK_TCK);
  snap->ticks_per_second = tck > 0 ? tck : 100;
  long page = sysconf(_SC_PAGESIZE);
  snap->page_size = page > 0 ? page : 4096;

  char small[kStatMax + 1];
  std::string uptime_path = procfs + "/uptime";
  ssize_t n = read_small(AT_FDCWD, uptime_path.c_str(), small, 64);
  char* stop = nullptr;
  if (n > 0) {
    small[n] = '\0';
    snap->uptime_seconds = strtod(small, &stop);
  }
  if (n <= 0 || stop == small) {
    return make_error("cannot read " + uptime_path +
                      (n < 0 ? std::string(": ") + strerror(errno) : std::string()));
  }

  DIR* dir = opendir(procfs.c_str());
  if (dir == nullptr) {
    return make_error("cannot read " + procfs + ": " + strerror(errno));
  }
  const int proc_fd = dirfd(dir);
  std::string path;
  std::string big(kCmdlineMax, '\0');
  while (dirent* e = readdir(dir)) {
    ProcessInfo info;
    if (!parse_pid(e->d_name, &info.pid)) {
      continue;
    }
    path.assign(e->d_name);
    const size_t dir_len = path.size();
    // A process that exits between readdir and these reads leaves ENOENT,
    // ESRCH, a short or an empty file: it is simply no longer there.
    path += "/stat";
    n = read_small(proc_fd, path.c_str(), small, kStatMax);
    if (n > 0) {
      small[n] = '\0';  // the parsers' strtoll must stop inside the buffer
    }
    if (n <= 0 || !parse_stat(small, static_cast<size_t>(n), &info)) {
      continue;
    }
    if (needs.uid) {
      path.resize(dir_len);
      path += "/status";
      n = read_small(proc_fd, path.c_str(), small, kStatusMax);
      if (n > 0) {
        small[n] = '\0';
      }
      if (n <= 0 || !parse_uid(small, static_cast<size_t>(n), &info.uid)) {
        continue;
      }
    }
    if (needs.cmdline) {
      path.resize(dir_len);
      path += "/cmdline";
      // Kernel threads and zombies have an empty command line: that is no sign
      // of a vanished process, only a failed open is.
      n = read_small(proc_fd, path.c_str(), big.data(), big.size());
      if (n < 0) {
        continue;
      }
      join_cmdline(big.data(), static_cast<size_t>(n), &info.cmdline);
    }
    snap->processes.push_back(std::move(info));
  }
  closedir(dir);
  std::sort(snap->processes.begin(), snap->processes.end(),
            [](const ProcessInfo& a, const ProcessInfo& b) { return a.pid < b.pid; });
  return ProcessSnapshotPtr(std::move(snap));
}

std::optional<int64_t> count_process_fds(const std::string& procfs, int pid) {
  std::string path = procfs + "/" + std::to_string(pid) + "/fd";
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) {
    return std::nullopt;
  }
  int64_t count = 0;
  while (dirent* e = readdir(dir)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
      ++count;
    }
  }
  closedir(dir);
  return count;
}

Result<ProcessSnapshotPtr> ProcProcessTable::snapshot(const std::string& procfs, MonotonicTime now,
                                                      Duration max_age, ProcessScanNeeds needs) {
  wanted_.add(needs);
  if (last_ != nullptr && procfs == procfs_ && last_->read.covers(needs) &&
      now - last_->taken <= max_age) {
    return last_;
  }
  auto scanned = scan_processes(procfs, now, wanted_);
  ++scans_;
  if (!scanned.ok()) {
    return scanned;
  }
  procfs_ = procfs;
  last_ = scanned.value();
  return last_;
}

}  // namespace vigil
