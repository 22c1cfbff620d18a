#pragma once

#include <mutex>

// Clang's thread-safety analysis (-Wthread-safety) checks at compile time that a
// member marked VIGIL_GUARDED_BY(m) is only touched with m held, and that a function
// marked VIGIL_REQUIRES(m) is only called with it. Other compilers ignore the
// attributes, so the marks are then documentation that cannot go stale unnoticed at
// the next clang build. libstdc++'s std::mutex carries no such attributes, hence the
// thin wrapper below.
#if defined(__clang__)
#define VIGIL_THREAD_ATTRIBUTE(x) __attribute__((x))
#else
#define VIGIL_THREAD_ATTRIBUTE(x)
#endif

#define VIGIL_CAPABILITY(x) VIGIL_THREAD_ATTRIBUTE(capability(x))
#define VIGIL_SCOPED_CAPABILITY VIGIL_THREAD_ATTRIBUTE(scoped_lockable)
#define VIGIL_GUARDED_BY(x) VIGIL_THREAD_ATTRIBUTE(guarded_by(x))
#define VIGIL_ACQUIRED_AFTER(...) VIGIL_THREAD_ATTRIBUTE(acquired_after(__VA_ARGS__))
#define VIGIL_REQUIRES(...) VIGIL_THREAD_ATTRIBUTE(requires_capability(__VA_ARGS__))
#define VIGIL_EXCLUDES(...) VIGIL_THREAD_ATTRIBUTE(locks_excluded(__VA_ARGS__))
#define VIGIL_ACQUIRE(...) VIGIL_THREAD_ATTRIBUTE(acquire_capability(__VA_ARGS__))
#define VIGIL_RELEASE(...) VIGIL_THREAD_ATTRIBUTE(release_capability(__VA_ARGS__))
#define VIGIL_NO_THREAD_SAFETY_ANALYSIS VIGIL_THREAD_ATTRIBUTE(no_thread_safety_analysis)

namespace vigil {

// A std::mutex the analysis knows about.
class VIGIL_CAPABILITY("mutex") Mutex {
 public:
  void lock() VIGIL_ACQUIRE() { mu_.lock(); }
  void unlock() VIGIL_RELEASE() { mu_.unlock(); }

 private:
  std::mutex mu_;
};

// Holds a Mutex for a scope, like std::lock_guard.
class VIGIL_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) VIGIL_ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~MutexLock() VIGIL_RELEASE() { mu_.unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

}  // namespace vigil
