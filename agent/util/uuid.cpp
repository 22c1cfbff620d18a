#include "agent/util/uuid.h"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <mutex>

namespace vigil {
namespace {

// Random bytes from getrandom(2), taken 256 at a time: a system call per id cost
// more than the rest of making a record (a tenth of the forward path's CPU). Each
// thread has its own buffer; a byte is never handed out twice.
void random_bytes(uint8_t* out, size_t n) {
  thread_local std::array<uint8_t, 256> pool;
  thread_local size_t used = pool.size();
  while (n > 0) {
    if (used == pool.size()) {
      size_t got = 0;
      while (got < pool.size()) {
        ssize_t r = getrandom(pool.data() + got, pool.size() - got, 0);
        if (r > 0) {
          got += static_cast<size_t>(r);
        }
      }
      used = 0;
    }
    size_t take = std::min(n, pool.size() - used);
    memcpy(out, pool.data() + used, take);
    used += take;
    out += take;
    n -= take;
  }
}

// 8-4-4-4-12 lower-case hex digits, written by hand: snprintf with sixteen
// conversions cost as much as the random bytes.
std::string format(const std::array<uint8_t, 16>& b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  size_t at = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      ++at;  // the dash
    }
    out[at++] = kHex[b[i] >> 4];
    out[at++] = kHex[b[i] & 0x0f];
  }
  return out;
}

}  // namespace

std::string uuid_v7(SystemTime now) {
  // 12 bits of rand_a serve as a counter within one millisecond (RFC 9562 method 1),
  // so ids sort in the order they were made.
  static std::mutex mu;
  static int64_t last_ms = 0;
  static uint16_t counter = 0;
  int64_t ms = to_millis(now);
  uint16_t seq = 0;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (ms <= last_ms) {
      ms = last_ms;
      if (++counter > 0x0fff) {
        counter = 0;
        ms = ++last_ms;
      }
    } else {
      last_ms = ms;
      counter = 0;
    }
    seq = counter;
  }
  std::array<uint8_t, 16> b{};
  random_bytes(b.data() + 8, 8);
  for (int i = 0; i < 6; ++i) {
    b[i] = static_cast<uint8_t>(static_cast<uint64_t>(ms) >> (40 - 8 * i));
  }
  b[6] = static_cast<uint8_t>(0x70 | ((seq >> 8) & 0x0f));
  b[7] = static_cast<uint8_t>(seq & 0xff);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  return format(b);
}

std::string uuid_v4() {
  std::array<uint8_t, 16> b{};
  random_bytes(b.data(), b.size());
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  return format(b);
}

}  // namespace vigil
